package stacks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/constructs/notifications"
	"github.com/platform-eng/golden-ami/internal/cdkkey"
)

// PipelineStackProps configures the delivery pipeline stack.
type PipelineStackProps struct {
	// StackProps of the pipeline stack. A nil PermissionsBoundary takes
	// Pipeline.PermissionsBoundary.
	awscdk.StackProps
	// Pipeline is the validated pipeline configuration.
	Pipeline PipelineConfig
	// Environments are deployed in this order, one wave each.
	Environments []Environment
	// PrepareStage, when set, is called with every stage before it joins the
	// pipeline. Adding a stage synthesizes it, and aspects applied to the app
	// do not cross into stages, so this is where the cdk-nag packs go.
	PrepareStage func(awscdk.Stage)
}

// PipelineStack is the self-mutating CDK pipeline: source, synth (gofmt,
// vet, tests with a JUnit report, examples/consumer's vet and tests, synth),
// self-update, assets, then one wave per
// environment, each region a parallel stage behind a permissions-broadening
// check, with a manual approval in front of environments that require it
// and a post-deploy check of every images stage.
type PipelineStack struct {
	awscdk.Stack
	// Pipeline is the CDK pipeline, built.
	Pipeline pipelines.CodePipeline
	// Key encrypts the artifacts, caches, reports and topic.
	Key awskms.Key
	// Notifications receive pipeline executions, approvals waiting and
	// permission-broadening checks, and post them to Slack when configured.
	Notifications *notifications.Notifications
	// TestReports is the CodeBuild report group of the unit tests.
	TestReports awscodebuild.ReportGroup
	// Waves by environment name: each environment's images wave (its keys
	// deploy in the wave "<env>-keys" before it).
	Waves map[string]pipelines.Wave
	// Stages by environment name.
	Stages map[string]*EnvironmentStages

	envOrder []string
	regions  map[string][]string
}

// PipelineName is the delivery pipeline's CodePipeline name.
const PipelineName = "golden-ami"

// PipelineBuildLogGroup is the log group of every CodeBuild project of the
// delivery pipeline (synth, self-mutation, asset publishing, checks).
const PipelineBuildLogGroup = "/golden-ami/pipeline/codebuild"

// NewPipelineStack defines the delivery pipeline. Unlike the environment
// stacks, it has no useful zero configuration, so it panics, before
// defining anything, when props is nil.
func NewPipelineStack(scope constructs.Construct, id *string, props *PipelineStackProps) *PipelineStack {
	if props == nil {
		panic(errors.New("stacks: NewPipelineStack props is nil (want the validated PipelineConfig in Pipeline and the Environments to deploy)"))
	}
	cfg := props.Pipeline
	stackProps := props.StackProps
	if stackProps.PermissionsBoundary == nil {
		stackProps.PermissionsBoundary = permissionsBoundary(cfg.PermissionsBoundary)
	}
	stack := &PipelineStack{
		Stack:   awscdk.NewStack(scope, id, &stackProps),
		Waves:   map[string]pipelines.Wave{},
		Stages:  map[string]*EnvironmentStages{},
		regions: map[string][]string{},
	}
	s := stack.Stack

	stack.Key = awskms.NewKey(s, str("Key"), &awskms.KeyProps{
		Description:       str("Encrypts the golden AMI delivery pipeline's artifacts, caches, reports and notifications"),
		EnableKeyRotation: boolean(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	accessLogs := awss3.NewBucket(s, str("AccessLogs"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, EnforceSSL: boolean(true), Versioned: boolean(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(), RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(num(365))}},
	})
	bucket := func(id, prefix string, expire float64) awss3.Bucket {
		return awss3.NewBucket(s, str(id), &awss3.BucketProps{
			Encryption: awss3.BucketEncryption_KMS, EncryptionKey: stack.Key, BucketKeyEnabled: boolean(true),
			EnforceSSL: boolean(true), Versioned: boolean(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
			ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
			ServerAccessLogsBucket: accessLogs, ServerAccessLogsPrefix: str(prefix),
			LifecycleRules: &[]*awss3.LifecycleRule{{
				Expiration: awscdk.Duration_Days(num(expire)), NoncurrentVersionExpiration: awscdk.Duration_Days(num(7)),
			}},
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
	}
	artifacts := bucket("Artifacts", "artifacts/", 90)
	cache := bucket("BuildCache", "cache/", 30)
	suppressPipelineBuckets(accessLogs, artifacts, cache)
	stack.Notifications = notifications.NewNotifications(s, str("Notifications"), &notifications.NotificationsProps{
		SlackWebhookSecret: slackSecret(s, cfg.SlackWebhookSecretARN),
		EmailAddresses:     strsOrNil(cfg.NotificationEmails),
		EncryptionKey:      stack.Key,
	})
	topic := stack.Notifications.Topic
	stack.TestReports = awscodebuild.NewReportGroup(s, str("TestReports"), &awscodebuild.ReportGroupProps{
		ExportBucket: artifacts, ZipExport: boolean(true), RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	// Every CodeBuild project of the pipeline logs here: encrypted with the
	// pipeline key and kept for a year, instead of CodeBuild's default
	// /aws/codebuild/<project> groups, which never expire and are not
	// encrypted with a customer-managed key.
	buildLogs := awslogs.NewLogGroup(s, str("BuildLogs"), &awslogs.LogGroupProps{
		LogGroupName:  str(PipelineBuildLogGroup),
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		EncryptionKey: stack.Key,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
	})
	stack.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        str("AllowPipelineBuildLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(str(cdkkey.RegionalService(s, "logs")), nil)},
		Actions:    strs("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"),
		Resources:  strs("*"),
		Conditions: &map[string]interface{}{"ArnLike": map[string]interface{}{
			"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", *s.Partition(), *s.Region(), *s.Account(), PipelineBuildLogGroup),
		}},
	}), boolean(true))

	var source pipelines.CodePipelineSource
	if cfg.ConnectionARN != "" {
		source = pipelines.CodePipelineSource_Connection(str(cfg.Repository), str(cfg.Branch), &pipelines.ConnectionSourceOptions{
			ConnectionArn: str(cfg.ConnectionARN), TriggerOnPush: boolean(true),
		})
	} else {
		repo := awscodecommit.Repository_FromRepositoryName(s, str("Repository"), str(cfg.CodeCommitRepository))
		source = pipelines.CodePipelineSource_CodeCommit(repo, str(cfg.Branch), nil)
	}

	goEnv := map[string]*string{
		"GOTOOLCHAIN": str(cfg.GoToolchain),
		"GOFLAGS":     str("-mod=readonly"),
		"GOMODCACHE":  str(goModCache),
		"GOCACHE":     str(goBuildCache),
		// The bundler's binary cache lives under the user cache, cached too.
		"GOLDEN_AMI_BUILD_CACHE":                       str(bundleCache),
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": str("1"),
	}
	synth := pipelines.NewCodeBuildStep(str("Synth"), &pipelines.CodeBuildStepProps{
		Input: source,
		Env:   &goEnv,
		InstallCommands: strs(
			removeCachedToolchain,
			"go version", // switches to GOTOOLCHAIN, verified against sum.golang.org
			"node --version",
		),
		// What .ci/run checks, in its order: gofmt, the module cache against
		// go.sum, vet, the README's test
		// command (this module, then examples/consumer, its own module),
		// synth, and the check of what synth wrote (every environment's
		// pipelines and hardening, every cdk-nag report row). .ci/run also
		// fuzzes the event decoders for five minutes and synthesizes
		// examples/consumer; a deployment does not wait for those.
		Commands: strs(
			gofmtCheck,
			"go mod verify && (cd examples/consumer && go mod verify) && (cd "+gotestsumModule+" && go mod verify)",
			"go vet ./...",
			"mkdir -p reports",
			"go -C "+gotestsumModule+" build -o /tmp/gotestsum gotest.tools/gotestsum",
			"/tmp/gotestsum --junitfile reports/unit-tests.xml -- ./...",
			"(cd examples/consumer && go vet ./... && go test ./...)",
			fmt.Sprintf("npx --yes aws-cdk@%s synth --quiet -c pipeline=true", CDKCLIVersion),
			"go run ./internal/tools/checkassembly cdk.out",
			// Not worth uploading to the cache: the next build removes it.
			removeCachedToolchain,
		),
		PrimaryOutputDirectory: str("cdk.out"),
		Cache:                  awscodebuild.Cache_Bucket(cache, &awscodebuild.BucketCacheOptions{Prefix: str("synth")}),
		PartialBuildSpec: awscodebuild.BuildSpec_FromObject(&map[string]interface{}{
			"reports": map[string]interface{}{
				*stack.TestReports.ReportGroupArn(): map[string]interface{}{
					"files": []string{"unit-tests.xml"}, "base-directory": "reports", "file-format": "JUNITXML",
				},
			},
			"cache": map[string]interface{}{"paths": cachePaths},
		}),
		BuildEnvironment: &awscodebuild.BuildEnvironment{
			BuildImage:  awscodebuild.LinuxBuildImage_AMAZON_LINUX_2023_5(),
			ComputeType: awscodebuild.ComputeType_MEDIUM,
		},
		Timeout: awscdk.Duration_Minutes(num(60)),
	})

	stack.Pipeline = pipelines.NewCodePipeline(s, str("Pipeline"), &pipelines.CodePipelineProps{
		PipelineName:        str(PipelineName),
		Synth:               synth,
		SelfMutation:        boolean(true),
		CrossAccountKeys:    boolean(true),
		EnableKeyRotation:   boolean(true),
		ArtifactBucket:      artifacts,
		CliVersion:          str(CDKCLIVersion),
		CdkAssetsCliVersion: str(CDKAssetsCLIVersion),
		CodeBuildDefaults: &pipelines.CodeBuildOptions{
			BuildEnvironment: &awscodebuild.BuildEnvironment{BuildImage: awscodebuild.LinuxBuildImage_AMAZON_LINUX_2023_5()},
			Logging:          &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: buildLogs}},
		},
	})

	for _, env := range props.Environments {
		var pre []pipelines.Step
		if env.RequireApproval {
			pre = append(pre, pipelines.NewManualApprovalStep(str("Approve-"+env.Name), &pipelines.ManualApprovalStepProps{
				Comment: str("Deploy the golden AMI platform to " + env.Name + "?"),
			}))
		}
		stages := NewEnvironmentStages(s, env, props.Pipeline.Account)
		stack.Stages[env.Name] = stages
		stack.envOrder = append(stack.envOrder, env.Name)
		stack.regions[env.Name] = env.DistributionRegions
		// AddStage synthesizes the stage at once, so prepare it first.
		if props.PrepareStage != nil {
			props.PrepareStage(stages.Images.Stage)
			for _, region := range env.DistributionRegions {
				props.PrepareStage(stages.Keys[region])
			}
		}

		// The distribution keys of every region first, in parallel, in a
		// wave of their own ("<env>-keys"), behind the approval: the images
		// stack distributes with them, and a key stage that fails then
		// stops the pipeline before the images stage deploys a
		// distribution whose builds would fail for want of the key.
		if len(env.DistributionRegions) > 0 {
			keys := stack.Pipeline.AddWave(str(env.Name+"-keys"), &pipelines.WaveOptions{Pre: &pre})
			pre = nil
			for _, region := range env.DistributionRegions {
				ks := stages.Keys[region]
				keys.AddStage(ks, &pipelines.AddStageOpts{Pre: &[]pipelines.Step{broadening(ks, topic)}})
			}
		}
		wave := stack.Pipeline.AddWave(str(env.Name), &pipelines.WaveOptions{Pre: &pre})
		stack.Waves[env.Name] = wave
		wave.AddStage(stages.Images.Stage, &pipelines.AddStageOpts{
			Pre:  &[]pipelines.Step{broadening(stages.Images.Stage, topic)},
			Post: &[]pipelines.Step{verifyStep(env, stages.Images.Stack)},
		})
	}
	// Pipeline children exist only once the pipeline is built; cdk-nag and
	// the suppressions below need them.
	stack.Pipeline.BuildPipeline()
	grantConnectionUse(stack, cfg.ConnectionARN)
	stack.Notifications.NotifyPipeline(stack.Pipeline.Pipeline())
	patchSecurityCheck(stack, buildLogs)
	hardenPipeline(stack)
	return stack
}

// patchSecurityCheck fixes CDK Pipelines' permissions-broadening check, the
// one CodeBuild project CodeBuildDefaults and CliVersion do not reach: it
// logs to buildLogs too, and installs the pinned CLI instead of npm's latest
// (aws-cdk 3.x cannot read this library's cloud assembly, so the check would
// fail on every stage and be reported as a broadening needing approval).
func patchSecurityCheck(stack *PipelineStack, buildLogs awslogs.LogGroup) {
	for _, c := range *stack.Pipeline.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		project, ok := c.(awscodebuild.Project)
		if !ok || !strings.Contains(*project.Node().Path(), "/PipelinesSecurityCheck/") {
			continue
		}
		cfn := project.Node().DefaultChild().(awscodebuild.CfnProject)
		cfn.SetLogsConfig(&awscodebuild.CfnProject_LogsConfigProperty{
			CloudWatchLogs: &awscodebuild.CfnProject_CloudWatchLogsConfigProperty{Status: str("ENABLED"), GroupName: buildLogs.LogGroupName()},
		})
		buildLogs.GrantWrite(project)
		pinSecurityCheckCLI(stack.Stack, cfn)
	}
}

// unpinnedCDKInstall is the command, as a JSON string in the rendered
// buildspec, with which CDK Pipelines' check installs the CLI.
const unpinnedCDKInstall = `"npm install -g aws-cdk"`

// pinSecurityCheckCLI overrides the check's Source.BuildSpec with the same
// buildspec, its install command pinned to CDKCLIVersion. The buildspec is
// JSON rendered lazily, joined with the auto-approve function's name; it is
// resolved here and each literal part rewritten. It panics when the command
// is not there, so a CDK upgrade that changes it cannot slip an unpinned
// CLI back in unnoticed.
func pinSecurityCheckCLI(stack awscdk.Stack, cfn awscodebuild.CfnProject) {
	source, ok := stack.Resolve(cfn.Source()).(map[string]interface{})
	if !ok || source["buildSpec"] == nil {
		panic(fmt.Errorf("stacks: %s has no buildspec to pin aws-cdk@%s in", *cfn.Node().Path(), CDKCLIVersion))
	}
	pinned := 0
	var pin func(v interface{}) interface{}
	pin = func(v interface{}) interface{} {
		switch x := v.(type) {
		case string:
			pinned += strings.Count(x, unpinnedCDKInstall)
			return strings.ReplaceAll(x, unpinnedCDKInstall, `"npm install -g aws-cdk@`+CDKCLIVersion+`"`)
		case []interface{}:
			out := make([]interface{}, len(x))
			for i := range x {
				out[i] = pin(x[i])
			}
			return out
		case map[string]interface{}:
			out := make(map[string]interface{}, len(x))
			for k := range x {
				out[k] = pin(x[k])
			}
			return out
		}
		return v
	}
	spec := pin(source["buildSpec"])
	if pinned == 0 {
		panic(fmt.Errorf("stacks: %s's buildspec no longer runs %s (want it pinned to aws-cdk@%s; check how CDK Pipelines installs the CLI now)", *cfn.Node().Path(), unpinnedCDKInstall, CDKCLIVersion))
	}
	cfn.AddPropertyOverride(str("Source.BuildSpec"), spec)
}

func broadening(stage awscdk.Stage, topic awssns.ITopic) pipelines.Step {
	return pipelines.NewConfirmPermissionsBroadening(str("Check-"+*stage.StageName()), &pipelines.PermissionsBroadeningCheckProps{
		Stage: stage, NotificationTopic: topic,
	})
}

// verifyStep checks, after the deployment, that every pipeline and upstream
// parameter of the environment exists, reading them through the images
// stack's VerifyRole (GoldenAmi-<env>-PipelineVerify), which may read just
// those.
func verifyStep(env Environment, images *GoldenImageStack) pipelines.Step {
	outputs := map[string]awscdk.CfnOutput{}
	var checks []string
	for i, img := range env.Images {
		pipe, param := fmt.Sprintf("PIPELINE_ARN_%d", i), fmt.Sprintf("UPSTREAM_PARAMETER_%d", i)
		outputs[pipe] = images.Outputs[camel(img.Name)+"PipelineArn"]
		outputs[param] = images.Outputs[camel(img.Name)+"UpstreamParameterName"]
		checks = append(checks,
			fmt.Sprintf(`aws imagebuilder get-image-pipeline --region %s --image-pipeline-arn "$%s" --query imagePipeline.status --output text`, env.Region, pipe),
			fmt.Sprintf(`aws ssm get-parameter --region %s --name "$%s" --query Parameter.Version --output text`, env.Region, param),
		)
	}
	// The stage's own verify role (NewGoldenImageStack's VerifyRole): it
	// reads exactly what the checks below read.
	role := fmt.Sprintf("arn:aws:iam::%s:role/%s", env.Account, VerifyRoleName(env))
	commands := append([]string{
		"set -eu",
		fmt.Sprintf(`creds=$(aws sts assume-role --role-arn %s --role-session-name verify-%s --query Credentials --output text)`, role, env.Name),
		`export AWS_ACCESS_KEY_ID=$(echo "$creds" | cut -f1) AWS_SECRET_ACCESS_KEY=$(echo "$creds" | cut -f3) AWS_SESSION_TOKEN=$(echo "$creds" | cut -f4)`,
	}, checks...)
	return pipelines.NewCodeBuildStep(str("Verify-"+env.Name), &pipelines.CodeBuildStepProps{
		EnvFromCfnOutputs: &outputs,
		Commands:          strs(commands...),
		RolePolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: strs("sts:AssumeRole"), Resources: strs(role),
		})},
	})
}

// gofmtCheck fails the build when gofmt would change a file, as .ci/run
// does. It runs the gofmt of the GOTOOLCHAIN toolchain, not the image's
// older one, and ends with false, not exit 1: the command's own status fails
// the build, whatever shell CodeBuild wraps its commands in.
const gofmtCheck = `unformatted="$("$(go env GOROOT)/bin/gofmt" -l .)"; if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; false; fi`

// Paths CodeBuild caches between builds: only Go's module cache, which the
// build checks before anything is built: go mod verify compares each cached
// module of the three modules' build lists with the hash recorded when it
// was downloaded, which go checked against go.sum. The Go toolchain, which
// go verifies only when it downloads it, is removed from the cache first
// (removeCachedToolchain). Nothing else is cached: Go's build cache, the
// bundled Lambda binaries, jsii's extracted packages and npm's cache (npx
// runs an unpacked aws-cdk from it without checking it again) are trusted
// as found, so whoever could write the cache bucket would choose the code
// the pipeline runs and deploys.
const (
	goModCache   = "/root/go/pkg/mod"
	goBuildCache = "/root/.cache/go-build"
	bundleCache  = "/root/.cache/golden-ami/lambda-builds"
)

var cachePaths = []string{goModCache + "/**/*"}

// gotestsumModule is the module that pins the test reporter, gotestsum, and
// its dependencies' hashes (its go.mod says why).
const gotestsumModule = "internal/tools/gotestsum"

// removeCachedToolchain deletes the Go toolchain a previous build downloaded
// into the module cache (GOTOOLCHAIN), so "go version" downloads it again and
// checks it against sum.golang.org. The module cache is read-only, hence the
// chmod.
const removeCachedToolchain = `chmod -R u+w ` + goModCache + `/golang.org ` + goModCache + `/cache/download/golang.org 2>/dev/null; rm -rf ` + goModCache + `/golang.org/toolchain@* ` + goModCache + `/cache/download/golang.org/toolchain`

func strs(values ...string) *[]*string {
	out := make([]*string, len(values))
	for i := range values {
		out[i] = &values[i]
	}
	return &out
}

// AllStages returns every stage the pipeline deploys, in deployment order.
func (p *PipelineStack) AllStages() []awscdk.Stage {
	var out []awscdk.Stage
	for _, env := range p.envOrder {
		st := p.Stages[env]
		out = append(out, st.Images.Stage)
		for _, region := range p.regions[env] {
			out = append(out, st.Keys[region])
		}
	}
	return out
}

// grantConnectionUse lets the source action use a connection whose ARN has
// the renamed service prefix (arn:...:codeconnections:...). CDK Pipelines
// grants codestar-connections:UseConnection, and IAM matches a statement's
// service prefix to the resource's: "When specifying a resource in the IAM
// policy, the service prefix needs to match that of the resource" (AWS's
// connections rename notes), so that grant alone does not cover a
// codeconnections connection, which the console has created since July 2024.
func grantConnectionUse(stack *PipelineStack, connectionARN string) {
	parts := strings.SplitN(connectionARN, ":", 4)
	if len(parts) < 3 || parts[2] != "codeconnections" {
		return
	}
	// The source action's role is created when the action is bound to the
	// pipeline, under the pipeline's Source stage; the action's own props
	// do not hold it.
	granted := false
	for _, c := range *stack.Pipeline.Pipeline().Node().FindAll(constructs.ConstructOrder_PREORDER) {
		role, ok := c.(awsiam.Role)
		if !ok || !strings.Contains(*role.Node().Path(), "/Source/") {
			continue
		}
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   strs("codeconnections:UseConnection"),
			Resources: strs(connectionARN),
		}))
		granted = true
	}
	if !granted {
		panic(fmt.Errorf("stacks: the pipeline has no source action with a role to grant codeconnections:UseConnection on %s", connectionARN))
	}
}
