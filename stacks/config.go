// Package stacks composes the golden-image platform: the typed
// per-environment configuration, one stack per environment (plus a key
// stack per extra distribution region), and the delivery pipeline. It is the
// application's composition layer, not a reusable API; other teams import
// the constructs packages instead.
package stacks

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/assemblycheck"
	"github.com/platform-eng/golden-ami/internal/validate"
)

// Environment is one deployment of the platform: a home account and region
// where the pipelines run, the regions and accounts that receive the images,
// the images, and when they are built.
type Environment struct {
	// Name identifies the environment in stack names and on the command line
	// (-c env=<name>): 2-20 lowercase letters, digits or hyphens.
	Name string
	// Account and Region are where the pipelines run.
	Account string
	Region  string
	// DistributionRegions receive every image besides Region. Each gets a
	// key stack with the distribution key.
	DistributionRegions []string
	// DistributionAccounts get launch permission on every image.
	DistributionAccounts []string
	// Schedule is the build schedule in Image Builder's cron dialect, e.g.
	// "cron(0 4 ? * MON *)"; empty builds only when the upstream changes.
	Schedule string
	// ScheduleTimezone is the IANA time zone of Schedule; empty means UTC.
	// Set it only with Schedule.
	ScheduleTimezone string
	// StartCondition says whether a schedule tick always builds
	// (StartOnSchedule) or only when a dependency changed; empty means
	// StartOnSchedule, the only mode that picks up monthly OS patches. Set
	// it only with Schedule: builds started without one always run.
	StartCondition gi.StartCondition
	// UpstreamCheckInterval is how often each image's upstream monitor looks
	// for a new base AMI (whole minutes, at least 1); zero means 1 hour.
	UpstreamCheckInterval time.Duration
	// TerminationProtection protects every stack of the environment from deletion.
	TerminationProtection bool
	// RequireApproval puts a manual approval in front of the environment's
	// wave in the delivery pipeline.
	RequireApproval bool
	// NotificationEmails receive the environment's notifications (image
	// builds, trigger decisions, alarms) by email; each must confirm the
	// subscription.
	NotificationEmails []string
	// SlackWebhookSecretARN names a Secrets Manager secret in the
	// environment's account and Region holding a Slack incoming-webhook URL;
	// empty means no Slack.
	SlackWebhookSecretARN string
	// PermissionsBoundary is the name of the IAM managed policy, in the
	// environment's account, that every role of the environment's stacks
	// gets as its permissions boundary; empty means none. The execution
	// policies in bootstrap/ let CloudFormation create roles and give them
	// policies only with PermissionsBoundaryName,
	// bootstrap/environment-permissions-boundary.json, created in the
	// account before the first deployment.
	PermissionsBoundary string
	// BuildSubnetID and BuildSecurityGroupIDs place the build and test
	// instances: a subnet of the environment's account and Region, private
	// with a route to a NAT gateway (the builds download packages, AWS's
	// components and the SSM agent), and security groups of its VPC (as many
	// as the account's per-interface quota allows, 5 by default)
	// with no inbound rule and outbound HTTPS. Set both or neither: neither
	// means the default VPC's default subnet and security group, where
	// instances get a public address and the group admits whatever else
	// uses it.
	BuildSubnetID         string
	BuildSecurityGroupIDs []string
	// Images are the golden images to build: at least one.
	Images []Image
}

// Image is one golden image of an environment.
type Image struct {
	// Name identifies the image: 2-40 lowercase letters, digits or hyphens,
	// unique within the environment.
	Name string
	// Platform and Architecture of the image; Windows is x86_64 only.
	Platform     gi.Platform
	Architecture gi.Architecture
	// StigLevel is the DISA STIG level to apply; empty means StigMedium.
	StigLevel gi.StigLevel
	// InstanceTypes build and test the image, in order of preference, each
	// once; empty means the construct's default for the platform and
	// architecture.
	InstanceTypes []string
	// Upstream is where the parent image comes from.
	Upstream Upstream
	// RootDeviceName is the parent image's root device; empty means the
	// construct's default, /dev/xvda on Linux (Amazon Linux, Debian) and
	// /dev/sda1 on Windows. Set "/dev/sda1" for Ubuntu, RHEL or SUSE
	// upstreams: validation refuses a Linux upstream whose name says one of
	// them without it.
	RootDeviceName string
}

// Upstream names the one source the upstream monitor follows. Set exactly one of
// SourceParameterName, PlatformBranch, PlatformARN, or ImageOwner together
// with ImageNamePattern.
type Upstream struct {
	// SourceParameterName is an SSM parameter holding the AMI, usually one of
	// AWS's public /aws/service/... parameters.
	SourceParameterName string
	// PlatformBranch is an Elastic Beanstalk platform branch; the newest
	// Ready version's AMI is used.
	PlatformBranch string
	// PlatformARN is one Elastic Beanstalk platform version.
	PlatformARN string
	// ImageOwner and ImageNamePattern select the newest EC2 image by creation
	// date, e.g. "amazon" and "Windows_Server-2022-English-Full-Base-*".
	ImageOwner       string
	ImageNamePattern string
}

var (
	emailPattern       = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$`)
	nonAlphanumeric    = regexp.MustCompile(`[^A-Za-z0-9]`)
	secretARNPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):([0-9]{12}):secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)
	platformARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:elasticbeanstalk:[a-z0-9-]+::platform/[^/]+/[0-9]+(\.[0-9]+)*$`)
)

// Kind names the source that is set, for descriptions and tags.
func (u Upstream) Kind() string {
	switch {
	case u.SourceParameterName != "":
		return "ssm-parameter"
	case u.PlatformBranch != "":
		return "elastic-beanstalk-branch"
	case u.PlatformARN != "":
		return "elastic-beanstalk-platform"
	case u.ImageOwner != "" || u.ImageNamePattern != "":
		return "ec2-image-name"
	}
	return ""
}

// validate returns the offending sub-field (e.g. ".ImageOwner") and the problem.
func (u Upstream) validate() (string, error) {
	var set []string
	if u.SourceParameterName != "" {
		set = append(set, "SourceParameterName")
	}
	if u.PlatformBranch != "" {
		set = append(set, "PlatformBranch")
	}
	if u.PlatformARN != "" {
		set = append(set, "PlatformARN")
	}
	if u.ImageOwner != "" || u.ImageNamePattern != "" {
		set = append(set, "ImageOwner/ImageNamePattern")
	}
	if len(set) != 1 {
		return "", fmt.Errorf("sets %d sources %v (want exactly one of SourceParameterName, PlatformBranch, PlatformARN, or ImageOwner with ImageNamePattern)", len(set), set)
	}
	switch {
	case u.SourceParameterName != "":
		if err := validate.SSMParameterName(u.SourceParameterName); err != nil {
			return ".SourceParameterName", err
		}
	case u.PlatformARN != "":
		if !platformARNPattern.MatchString(u.PlatformARN) {
			return ".PlatformARN", fmt.Errorf("%q is not an Elastic Beanstalk platform version ARN (want e.g. \"arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.3.0\")", u.PlatformARN)
		}
	case u.PlatformBranch != "":
		if strings.TrimSpace(u.PlatformBranch) != u.PlatformBranch {
			return ".PlatformBranch", fmt.Errorf("%q has leading or trailing spaces", u.PlatformBranch)
		}
	default:
		if err := validate.ImageOwner(u.ImageOwner); err != nil {
			return ".ImageOwner", err
		}
		if u.ImageNamePattern == "" {
			return ".ImageNamePattern", fmt.Errorf("is empty (want a name filter such as \"Windows_Server-2022-English-Full-Base-*\")")
		}
	}
	return "", nil
}

// source is the field and value of the upstream's one source.
func (u Upstream) source() (string, string) {
	switch {
	case u.PlatformBranch != "":
		return ".PlatformBranch", u.PlatformBranch
	case u.PlatformARN != "":
		return ".PlatformARN", u.PlatformARN
	case u.ImageNamePattern != "":
		return ".ImageNamePattern", u.ImageNamePattern
	}
	return ".SourceParameterName", u.SourceParameterName
}

// fits checks that the upstream source does not name another platform or
// architecture than the image's, as AWS's public parameters, Elastic
// Beanstalk branches and image names do (".../al2023-ami-kernel-default-arm64",
// "... on 64bit Windows Server 2022", "Windows_Server-2022-*"): otherwise
// the build fails an hour in, launching the parent on the wrong instances.
func (u Upstream) fits(platform gi.Platform, arch gi.Architecture) (string, error) {
	if platform.Validate() != nil || arch.Validate() != nil || gi.ValidatePlatformArchitecture(platform, arch) != nil {
		return "", nil // reported as Platform/Architecture
	}
	field, value := u.source()
	lower := strings.ToLower(value)
	if field == ".SourceParameterName" {
		// The name's last segment says what it holds: AWS publishes Linux
		// AMIs under /aws/service/ami-windows-latest/ too (Amazon Linux 2
		// with mono or SQL Server).
		lower = lower[strings.LastIndex(lower, "/")+1:]
	}
	var names []string
	switch {
	case strings.Contains(lower, "arm64") || strings.Contains(lower, "aarch64"):
		if arch != gi.ArchitectureArm64 {
			names = append(names, "arm64")
		}
	case strings.Contains(lower, "x86_64") || strings.Contains(lower, "x86-64") || strings.Contains(lower, "amd64"):
		if arch != gi.ArchitectureX86_64 {
			names = append(names, "x86_64")
		}
	}
	windows := strings.Contains(lower, "windows")
	linux := strings.Contains(lower, "linux") || strings.Contains(lower, "al2023") || strings.Contains(lower, "amzn")
	switch {
	case windows && linux: // says both: no opinion
	case windows:
		if platform != gi.PlatformWindows {
			names = append(names, "Windows")
		}
	case linux:
		if platform != gi.PlatformLinux {
			names = append(names, "Linux")
		}
	}
	if len(names) > 0 {
		return field, fmt.Errorf("%q names %s images, but the image is %s/%s", value, strings.Join(names, " "), platform, arch)
	}
	return "", nil
}

// Validate checks one environment and returns every problem, each naming the
// environment, the field and the bad value.
func (e Environment) Validate() error {
	var errs []error
	fail := func(field string, err error) {
		errs = append(errs, fmt.Errorf("environment %q: %s %w", e.Name, field, err))
	}
	if err := validate.Name(e.Name, 20); err != nil {
		fail("Name", err)
	}
	if err := validate.Account(e.Account); err != nil {
		fail("Account", err)
	}
	if err := validate.KnownRegion(e.Region); err != nil {
		fail("Region", err)
	}
	home := validate.Partition(e.Region)
	for i, r := range e.DistributionRegions {
		field := fmt.Sprintf("DistributionRegions[%d]", i)
		switch err := validate.KnownRegion(r); {
		case err != nil:
			fail(field, err)
		case r == e.Region:
			fail(field, fmt.Errorf("%q is the home Region, which always receives the images", r))
		case home != "" && validate.Partition(r) != home:
			// Image Builder distributes within one partition; the key
			// stacks' cross-region references stop there too.
			fail(field, fmt.Errorf("%q is in partition %s, but the home Region %s is in %s (images are distributed within one partition)", r, validate.Partition(r), e.Region, home))
		}
	}
	if err := validate.Unique(e.DistributionRegions); err != nil {
		fail("DistributionRegions", err)
	}
	for i, a := range e.DistributionAccounts {
		if err := validate.Account(a); err != nil {
			fail(fmt.Sprintf("DistributionAccounts[%d]", i), err)
		} else if a == e.Account {
			fail(fmt.Sprintf("DistributionAccounts[%d]", i), fmt.Errorf("%q is the environment's own account, which owns the images already", a))
		}
	}
	if err := validate.Unique(e.DistributionAccounts); err != nil {
		fail("DistributionAccounts", err)
	}
	if e.Schedule != "" {
		if err := validate.Cron(e.Schedule); err != nil {
			fail("Schedule", err)
		}
	}
	// The goldenimage construct sets the time zone and start condition only
	// inside the pipeline's schedule: without one they are dropped, and a
	// build started by the upstream trigger or by hand always runs.
	if e.ScheduleTimezone != "" {
		if err := validate.Timezone(e.ScheduleTimezone); err != nil {
			fail("ScheduleTimezone", err)
		} else if e.Schedule == "" {
			fail("ScheduleTimezone", fmt.Errorf("%q is set but Schedule is empty (want a Schedule, or no ScheduleTimezone: it applies only to the schedule)", e.ScheduleTimezone))
		}
	}
	if i := e.UpstreamCheckInterval; i != 0 && (i < time.Minute || i%time.Minute != 0) {
		fail("UpstreamCheckInterval", fmt.Errorf("%v is not a whole number of minutes of at least 1 (EventBridge's minimum rate)", i))
	}
	if e.StartCondition != "" {
		if err := e.StartCondition.Validate(); err != nil {
			fail("StartCondition", err)
		} else if e.Schedule == "" {
			fail("StartCondition", fmt.Errorf("%q is set but Schedule is empty (want a Schedule, or no StartCondition: it applies only to schedule ticks; a build started by the upstream trigger or by hand always runs)", e.StartCondition))
		}
	}
	if err := validatePolicyName(e.PermissionsBoundary); err != nil {
		fail("PermissionsBoundary", err)
	}
	validateBuildNetwork(e.BuildSubnetID, e.BuildSecurityGroupIDs, fail)
	validateEmails(e.NotificationEmails, fail)
	if a := e.SlackWebhookSecretARN; a != "" {
		for _, err := range validateSecretARN(a, e.Account, e.Region, "environment's") {
			fail("SlackWebhookSecretARN", err)
		}
	}
	if len(e.Images) == 0 {
		fail("Images", errors.New("is empty (want at least one image)"))
	}
	names := make([]string, len(e.Images))
	for i, img := range e.Images {
		field := fmt.Sprintf("Images[%d]", i)
		names[i] = img.Name
		if err := validate.Name(img.Name, 40); err != nil {
			fail(field+".Name", err)
		}
		if err := gi.ValidatePlatformArchitecture(img.Platform, img.Architecture); err != nil {
			fail(fmt.Sprintf("%s.Platform/Architecture %q/%q", field, img.Platform, img.Architecture), fmt.Errorf("is not a supported pair: %w", err))
		}
		if img.StigLevel != "" {
			if err := img.StigLevel.Validate(); err != nil {
				fail(field+".StigLevel", err)
			}
		}
		for j, t := range img.InstanceTypes {
			if err := validate.InstanceTypeForArchitecture(t, string(img.Architecture)); err != nil {
				fail(fmt.Sprintf("%s.InstanceTypes[%d]", field, j), err)
			}
		}
		if err := validate.Unique(img.InstanceTypes); err != nil {
			fail(field+".InstanceTypes", err)
		}
		if sub, err := img.Upstream.validate(); err != nil {
			fail(field+".Upstream"+sub, err)
		} else if sub, err := img.Upstream.fits(img.Platform, img.Architecture); err != nil {
			fail(field+".Upstream"+sub, err)
		}
		if img.RootDeviceName != "" {
			if err := validate.DeviceName(img.RootDeviceName); err != nil {
				fail(field+".RootDeviceName", err)
			}
		} else if _, value := img.Upstream.source(); img.Platform == gi.PlatformLinux && gi.ParentNeedsRootDeviceName(value) {
			fail(field+".RootDeviceName", fmt.Errorf("is empty, so the recipe encrypts /dev/xvda (Amazon Linux's root device), but the upstream %q looks like a parent whose root device is /dev/sda1 (want \"/dev/sda1\", or the parent's root device)", value))
		}
	}
	if err := validate.Unique(names); err != nil {
		fail("Images names", err)
	}
	// Each image's name also makes construct ids (name, name-monitor,
	// name-trigger, name-latest) and output ids and policy statement ids
	// from its letters and digits alone; two different names must not make
	// the same one.
	made := map[string]int{}
	for i, img := range e.Images {
		alnum := strings.ToLower(nonAlphanumeric.ReplaceAllString(img.Name, ""))
		for _, id := range []string{img.Name, img.Name + "-monitor", img.Name + "-trigger", img.Name + "-latest", "letters and digits " + alnum} {
			j, seen := made[id]
			if !seen {
				made[id] = i
				continue
			}
			if e.Images[j].Name != img.Name { // identical names are reported above
				fail(fmt.Sprintf("Images[%d].Name", i), fmt.Errorf("%q clashes with Images[%d].Name %q: both make the id %q (want names that differ in more than hyphens, case or a -monitor, -trigger or -latest suffix)", img.Name, j, e.Images[j].Name, strings.TrimPrefix(id, "letters and digits ")))
			}
			break
		}
	}
	return errors.Join(errs...)
}

// upstreamCheckInterval is UpstreamCheckInterval with its default.
func (e Environment) upstreamCheckInterval() time.Duration {
	if e.UpstreamCheckInterval == 0 {
		return time.Hour
	}
	return e.UpstreamCheckInterval
}

// validateEmails checks notification addresses and that each subscribes
// once: SNS treats addresses differing only in case as two subscriptions,
// and CDK fails on exact duplicates without naming the field.
func validateEmails(emails []string, fail func(field string, err error)) {
	lower := make([]string, len(emails))
	for i, m := range emails {
		if !emailPattern.MatchString(m) {
			fail(fmt.Sprintf("NotificationEmails[%d]", i), fmt.Errorf("%q is not an email address", m))
		}
		lower[i] = strings.ToLower(m)
	}
	if err := validate.Unique(lower); err != nil {
		fail("NotificationEmails", fmt.Errorf("%w (compared case-insensitively; each address subscribes once)", err))
	}
}

// validateSecretARN checks a Secrets Manager secret ARN in account and
// region, the account and region of its reader (whose, e.g. "environment's"):
// the notifier reads the secret with a client of its own region.
func validateSecretARN(arn, account, region, whose string) []error {
	m := secretARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return []error{fmt.Errorf("%q is not a complete Secrets Manager secret ARN (want arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)", arn)}
	}
	var errs []error
	if err := arnPartition(arn, region); err != nil {
		errs = append(errs, err)
	}
	if m[2] != account {
		errs = append(errs, fmt.Errorf("%q is in account %s, not %s", arn, m[2], account))
	}
	if m[1] != region {
		errs = append(errs, fmt.Errorf("%q is in region %s, not the %s region %s", arn, m[1], whose, region))
	}
	return errs
}

// arnPartition checks that arn is in the partition of region (when the
// region is one validate knows): "arn:aws:..." does not resolve in
// cn-north-1, whose partition is aws-cn.
func arnPartition(arn, region string) error {
	want := validate.Partition(region)
	parts := strings.SplitN(arn, ":", 3)
	if want == "" || len(parts) < 3 || parts[1] == want {
		return nil
	}
	return fmt.Errorf("%q is in partition %s, but region %s is in %s", arn, parts[1], region, want)
}

// ValidateAll checks every environment and that their names are unique.
func ValidateAll(envs []Environment) error {
	var errs []error
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
		if err := e.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := validate.Unique(names); err != nil {
		errs = append(errs, fmt.Errorf("environments: Name %w", err))
	}
	// Image Builder names are "<stack name>-<image name>", lowercased: the
	// environment "a-b" with image "c" and the environment "a" with image
	// "b-c" both make "goldenami-a-b-c", which clash in one account and
	// region.
	type place struct{ account, region, name string }
	owner := map[place]string{}
	for _, e := range envs {
		for _, img := range e.Images {
			key := place{e.Account, e.Region, strings.ToLower("GoldenAmi-" + e.Name + "-" + img.Name)}
			what := fmt.Sprintf("environment %q image %q", e.Name, img.Name)
			if other, ok := owner[key]; ok && other != what {
				errs = append(errs, fmt.Errorf("environments: %s and %s both name their Image Builder resources %q in account %s, %s (want environment and image names that do not run together)",
					other, what, key.name, key.account, key.region))
			}
			owner[key] = what
		}
	}
	return errors.Join(errs...)
}

// ContextOptions are what the app takes from the CDK context.
type ContextOptions struct {
	// Env names the one environment to synthesize; empty means all.
	Env string
	// Pipeline synthesizes the delivery pipeline instead of the
	// environments' stacks.
	Pipeline bool
}

// ParseContext reads the "env" and "pipeline" context values as the CDK
// gives them: strings from `-c key=value`, or JSON values from cdk.json or
// CDK_CONTEXT_JSON. A value of another type, a pipeline value that is not
// a boolean, or both set, is an error naming the key and the value: a
// mistyped -c pipeline must not quietly deploy the environments directly,
// around the pipeline's approval.
func ParseContext(env, pipeline interface{}) (ContextOptions, error) {
	var o ContextOptions
	var errs []error
	switch v := env.(type) {
	case nil:
	case string:
		o.Env = v
	default:
		errs = append(errs, fmt.Errorf("context: env %v (%T) is not an environment name (want e.g. -c env=dev)", v, v))
	}
	switch v := pipeline.(type) {
	case nil:
	case bool:
		o.Pipeline = v
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("context: pipeline %q is not a boolean (want true or false)", v))
		}
		o.Pipeline = b
	default:
		errs = append(errs, fmt.Errorf("context: pipeline %v (%T) is not a boolean (want true or false)", v, v))
	}
	if len(errs) == 0 && o.Pipeline && o.Env != "" {
		errs = append(errs, fmt.Errorf("context: env %q and pipeline true are both set (the pipeline deploys every environment; want one of them)", o.Env))
	}
	if len(errs) > 0 {
		return ContextOptions{}, errors.Join(errs...)
	}
	return o, nil
}

// Select validates every environment, then returns the one named name, or
// all of them when name is empty.
func Select(envs []Environment, name string) ([]Environment, error) {
	if err := ValidateAll(envs); err != nil {
		return nil, err
	}
	if name == "" {
		return envs, nil
	}
	var known []string
	for _, e := range envs {
		if e.Name == name {
			return []Environment{e}, nil
		}
		known = append(known, e.Name)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("environments: env %q is not defined (want one of %s)", name, strings.Join(known, ", "))
}

// AssemblyCheckEnvironments describes envs for assemblycheck.Check.
func AssemblyCheckEnvironments(envs []Environment) []assemblycheck.Environment {
	out := make([]assemblycheck.Environment, len(envs))
	for i, e := range envs {
		out[i] = assemblycheck.Environment{Name: e.Name, Images: len(e.Images), DistributionRegions: e.DistributionRegions}
	}
	return out
}

var (
	subnetIDPattern        = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	securityGroupIDPattern = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// validateBuildNetwork checks BuildSubnetID and BuildSecurityGroupIDs:
// both or neither (Image Builder takes security groups only with a subnet,
// and a subnet alone gets its VPC's default group), ids of the right shape,
// at most 16 distinct groups (EC2's most per network interface; the
// account's quota, 5 by default, is checked at launch).
func validateBuildNetwork(subnet string, groups []string, fail func(string, error)) {
	switch {
	case subnet == "" && len(groups) > 0:
		fail("BuildSecurityGroupIDs", fmt.Errorf("%q is set but BuildSubnetID is empty (want both, or neither for the default VPC)", groups))
		return
	case subnet != "" && len(groups) == 0:
		fail("BuildSubnetID", fmt.Errorf("%q is set but BuildSecurityGroupIDs is empty (want both: without groups the instances get the VPC's default security group)", subnet))
		return
	case subnet == "":
		return
	}
	if !subnetIDPattern.MatchString(subnet) {
		fail("BuildSubnetID", fmt.Errorf("%q is not a subnet id (want e.g. \"subnet-0123456789abcdef0\")", subnet))
	}
	if len(groups) > 16 {
		fail("BuildSecurityGroupIDs", fmt.Errorf("has %d groups (want 1 to 16, EC2's most per network interface; 5 unless the account's quota was raised)", len(groups)))
	}
	for i, g := range groups {
		if !securityGroupIDPattern.MatchString(g) {
			fail(fmt.Sprintf("BuildSecurityGroupIDs[%d]", i), fmt.Errorf("%q is not a security group id (want e.g. \"sg-0123456789abcdef0\")", g))
		}
	}
	if err := validate.Unique(groups); err != nil {
		fail("BuildSecurityGroupIDs", err)
	}
}
