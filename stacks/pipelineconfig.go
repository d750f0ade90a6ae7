package stacks

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/platform-eng/golden-ami/internal/validate"
)

// PipelineConfig is the delivery pipeline: where it runs, where its source
// comes from, and who hears about it.
type PipelineConfig struct {
	// Account and Region are where the pipeline runs (a tools account, or dev).
	// Every environment account must be bootstrapped to trust this account.
	Account string
	Region  string
	// Repository is the source repository as "owner/name", on the provider
	// behind ConnectionARN (GitHub, GitLab, Bitbucket).
	Repository string
	// Branch is the branch every merge to which runs the pipeline.
	Branch string
	// ConnectionARN is the CodeConnections (CodeStar) connection to the
	// repository provider. Leave it empty to use CodeCommitRepository.
	ConnectionARN string
	// CodeCommitRepository is a CodeCommit repository name in Account, used
	// when ConnectionARN is empty.
	CodeCommitRepository string
	// GoToolchain is the exact Go toolchain the build uses (GOTOOLCHAIN).
	GoToolchain string
	// NotificationEmails receive pipeline notifications by email.
	NotificationEmails []string
	// SlackWebhookSecretARN names the secret with the Slack webhook URL for
	// pipeline notifications, in Account and Region; empty means no Slack.
	SlackWebhookSecretARN string
	// PermissionsBoundary is the name of the IAM managed policy, in Account,
	// that every role of the pipeline stack gets as its permissions
	// boundary; empty means none. The stages' roles take each environment's
	// own PermissionsBoundary. bootstrap/pipeline-execution-policy.json lets
	// CloudFormation create roles and give them policies only with
	// PipelinePermissionsBoundaryName, bootstrap/pipeline-permissions-boundary.json.
	PermissionsBoundary string
}

// Pinned tool versions: the CLI must read this library's cloud assembly.
const (
	CDKCLIVersion       = "2.1148.1"
	CDKAssetsCLIVersion = "4.7.3"
)

var (
	repositoryPattern    = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$`)
	branchPattern        = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	connectionARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:(?:codestar-connections|codeconnections):([a-z0-9-]+):([0-9]{12}):connection/[0-9a-f-]{36}$`)
	codeCommitPattern    = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
	goToolchainPattern   = regexp.MustCompile(`^go1\.[0-9]+\.[0-9]+$`)
	// policyNamePattern is IAM's pattern for a managed policy name.
	policyNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// The permissions boundaries the example configuration gives every role,
// and the ones the execution policies in bootstrap/ require:
// bootstrap/environment-permissions-boundary.json, created under
// PermissionsBoundaryName in every environment account, and
// bootstrap/pipeline-permissions-boundary.json, created under
// PipelinePermissionsBoundaryName in the pipeline's account.
const (
	PermissionsBoundaryName         = "GoldenAmiPermissionsBoundary"
	PipelinePermissionsBoundaryName = "GoldenAmiPipelinePermissionsBoundary"
)

// validatePolicyName accepts an empty name (no boundary) or an IAM managed
// policy name. A name, not an ARN: the boundary is the policy of that name
// in the stack's own account and partition.
func validatePolicyName(name string) error {
	if name == "" || policyNamePattern.MatchString(name) {
		return nil
	}
	if strings.HasPrefix(name, "arn:") {
		return fmt.Errorf("%q is an ARN; want the policy's name (the boundary is the policy of that name in the stack's own account)", name)
	}
	return fmt.Errorf("%q is not an IAM policy name (1-128 letters, digits and +=,.@_-)", name)
}

// Validate checks the pipeline configuration, naming the field and the value.
func (c PipelineConfig) Validate() error {
	var errs []error
	fail := func(field string, err error) { errs = append(errs, fmt.Errorf("pipeline: %s %w", field, err)) }
	if err := validate.Account(c.Account); err != nil {
		fail("Account", err)
	}
	if err := validate.KnownRegion(c.Region); err != nil {
		fail("Region", err)
	}
	if !branchPattern.MatchString(c.Branch) {
		fail("Branch", fmt.Errorf("%q is not a branch name", c.Branch))
	}
	switch {
	case c.ConnectionARN != "" && c.CodeCommitRepository != "":
		fail("ConnectionARN", errors.New("and CodeCommitRepository are both set (want one source)"))
	case c.ConnectionARN != "":
		if m := connectionARNPattern.FindStringSubmatch(c.ConnectionARN); m == nil {
			fail("ConnectionARN", fmt.Errorf("%q is not a CodeConnections connection ARN", c.ConnectionARN))
		} else {
			if err := arnPartition(c.ConnectionARN, c.Region); err != nil {
				fail("ConnectionARN", err)
			}
			// The pipeline's source action uses the connection from the
			// tools account; another account's fails at deployment.
			// (Connections are global: one made in another region works.)
			if m[2] != c.Account && validate.Account(c.Account) == nil {
				fail("ConnectionARN", fmt.Errorf("%q is in account %s, not the pipeline's account %s", c.ConnectionARN, m[2], c.Account))
			}
		}
		if !repositoryPattern.MatchString(c.Repository) {
			fail("Repository", fmt.Errorf("%q is not an \"owner/name\" repository", c.Repository))
		}
	case c.CodeCommitRepository != "":
		if !codeCommitPattern.MatchString(c.CodeCommitRepository) {
			fail("CodeCommitRepository", fmt.Errorf("%q is not a CodeCommit repository name", c.CodeCommitRepository))
		}
	default:
		fail("ConnectionARN", errors.New("is empty and so is CodeCommitRepository (want one source)"))
	}
	if !goToolchainPattern.MatchString(c.GoToolchain) {
		fail("GoToolchain", fmt.Errorf("%q is not an exact Go toolchain (want e.g. \"go1.26.8\")", c.GoToolchain))
	}
	if err := validatePolicyName(c.PermissionsBoundary); err != nil {
		fail("PermissionsBoundary", err)
	}
	validateEmails(c.NotificationEmails, fail)
	if c.SlackWebhookSecretARN != "" {
		for _, err := range validateSecretARN(c.SlackWebhookSecretARN, c.Account, c.Region, "pipeline's") {
			fail("SlackWebhookSecretARN", err)
		}
	}
	return errors.Join(errs...)
}

// ValidateFor checks the pipeline configuration as Validate does, and that
// it can deploy envs: every environment in the pipeline's partition, since
// CodePipeline's cross-account deployments do not cross partitions.
func (c PipelineConfig) ValidateFor(envs []Environment) error {
	errs := []error{c.Validate()}
	if home := validate.Partition(c.Region); home != "" {
		for _, e := range envs {
			if p := validate.Partition(e.Region); p != "" && p != home {
				errs = append(errs, fmt.Errorf("pipeline: Region %q is in partition %s, but environment %q's Region %q is in %s (a pipeline deploys within its partition)", c.Region, home, e.Name, e.Region, p))
			}
		}
	}
	return errors.Join(errs...)
}
