package goldenimage

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"

	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/validate"
)

// GoldenImagePipelineProps configures a GoldenImagePipeline. Only ImageName is
// required; the defaults build a patched, STIG-hardened, encrypted Amazon
// Linux 2023 image every week.
type GoldenImagePipelineProps struct {
	// ImageName names the image. It appears in AMI names, tags and default
	// parameter names: 2-40 lowercase letters, digits or hyphens.
	//
	// Required.
	ImageName *string

	// Description describes the image on the recipe and the pipeline (at
	// most 1024 characters), and on the AMIs (its first 255 characters,
	// EC2's limit for an AMI's description).
	//
	// Default: "Golden image <ImageName>".
	Description *string

	// Platform is the operating system family of the image.
	//
	// Default: PlatformLinux.
	Platform Platform

	// Architecture is the CPU architecture of the image. Windows images are x86_64 only.
	//
	// Default: ArchitectureX86_64.
	Architecture Architecture

	// ParentImage is the image the golden image is built on.
	//
	// Default: the construct creates an SSM parameter of data type
	// aws:ec2:image named UpstreamParameterName, seeded with
	// UpstreamParameterSeed, and the recipe's parent is "ssm:<that name>". An
	// upstream monitor then keeps the parameter current and every build reads
	// it when it starts.
	ParentImage *ParentImage

	// UpstreamParameterName names the upstream-AMI parameter the construct
	// creates when ParentImage is not set.
	//
	// Default: "/golden-ami/<ImageName>/upstream".
	UpstreamParameterName *string

	// UpstreamParameterSeed is the value the upstream-AMI parameter starts
	// with: an AMI id, or a CloudFormation dynamic reference such as
	// "{{resolve:ssm:/aws/service/...}}". CloudFormation resolves a dynamic
	// reference on every deployment that changes it, so use one only when it
	// points at the same source the upstream monitor follows.
	//
	// Default: a dynamic reference to AWS's public parameter for the latest
	// Amazon Linux 2023 AMI of the architecture (Linux) or the latest Windows
	// Server 2022 English Full Base AMI (Windows).
	UpstreamParameterSeed *string

	// StigLevel selects the DISA STIG hardening component applied during the build.
	//
	// Default: StigMedium, which applies CAT II and CAT III settings.
	StigLevel StigLevel

	// AdditionalComponents run after the OS update and before STIG hardening,
	// so hardening has the last word.
	//
	// Default: none.
	AdditionalComponents *[]*Component

	// InstanceTypes are the build and test instance types, in order of preference.
	//
	// Default: m7i.large and m6i.large (Linux x86_64), m7g.large and m6g.large
	// (arm64), m7i.xlarge and m6i.xlarge (Windows).
	InstanceTypes *[]*string

	// RootDeviceName is the parent image's root device, whose volume the recipe encrypts.
	//
	// Default: "/dev/xvda" (Linux, as on Amazon Linux) or "/dev/sda1" (Windows).
	// Set "/dev/sda1" for Ubuntu or RHEL parents: left unset with a Linux
	// parent whose name says Ubuntu, RHEL or SUSE, it fails validation
	// (ParentNeedsRootDeviceName).
	RootDeviceName *string

	// RootVolumeSizeGiB is the size of the root volume.
	//
	// Default: the size of the parent image's root snapshot.
	RootVolumeSizeGiB *float64

	// EncryptionKey encrypts the root volume, the build logs, the log groups
	// and the notification topic, and the home-region AMI when AMIKey is
	// EncryptionKey. The construct adds the statements Image Builder and
	// CloudWatch Logs need to the key policy; an imported key must already
	// allow them.
	//
	// Default: a new customer-managed key with yearly rotation, retained on stack deletion.
	EncryptionKey awskms.IKey

	// AMIKey encrypts the AMI in the home region (the stack's own), the copy
	// DistributionAccounts launch there. The construct adds the statements
	// Image Builder, EC2 Auto Scaling and DistributionAccounts need to its
	// key policy; an imported key must already allow them. A key of its
	// own keeps the accounts the AMI is shared with off the key that
	// protects the pipeline's logs and notifications.
	//
	// Default: EncryptionKey when DistributionAccounts is empty; otherwise a
	// new customer-managed key with yearly rotation, retained on stack
	// deletion.
	AMIKey awskms.IKey

	// AMITags are added to the AMIs, next to the provenance tags the
	// construct sets (golden-ami:image, golden-ami:pipeline,
	// golden-ami:platform, golden-ami:architecture, golden-ami:stig-level),
	// which they may not override. Keys have 1 to 128 characters, values at
	// most 256, and no key starts with "aws:".
	//
	// Default: provenance tags only.
	AMITags *map[string]*string

	// Subnet is where build and test instances run.
	//
	// Default: a default subnet of the default VPC. Requires SecurityGroups when set.
	Subnet awsec2.ISubnet

	// SecurityGroups are attached to build and test instances. They need
	// outbound HTTPS to AWS endpoints and the package repositories.
	//
	// Default: the default VPC's default security group. Requires Subnet when set.
	SecurityGroups *[]awsec2.ISecurityGroup

	// LogBucket receives the build logs under the prefix "<ImageName>/".
	//
	// Default: a new bucket encrypted with EncryptionKey, SSL-only, versioned,
	// with public access blocked, server access logging to a second bucket,
	// and objects expiring after LogRetention. Both are retained on stack deletion.
	LogBucket awss3.IBucket

	// LogRetention is how long build logs are kept, in S3 and in the
	// /aws/imagebuilder log groups. It must be a CloudWatch Logs retention
	// period (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
	// 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days).
	//
	// Default: 90 days.
	LogRetention awscdk.Duration

	// DistributionRegions are the regions the AMI is copied to, besides the
	// stack's own region, which always receives it.
	//
	// Default: only the stack's region.
	DistributionRegions *[]*string

	// DistributionAccounts get launch permission on the AMI in every
	// distribution region, and use of the keys that encrypt it.
	//
	// Default: none; the AMI stays private to this account.
	DistributionAccounts *[]*string

	// DistributionKeyAlias names the customer-managed key that encrypts the AMI
	// copy in each region other than the stack's own, e.g. created there by
	// NewDistributionKey. The home-region copy uses AMIKey.
	//
	// Default: "alias/golden-ami/distribution".
	DistributionKeyAlias *string

	// DistributionLaunchTemplates get a new default version pointing at each
	// new AMI, in the stack's region.
	//
	// Default: none.
	DistributionLaunchTemplates *[]awsec2.ILaunchTemplate

	// Schedule is the cron expression, in Image Builder's dialect, on which the
	// pipeline evaluates StartCondition. Set it to "" to build only when started
	// (by the upstream trigger or by hand); ScheduleTimezone, StartCondition and
	// AutoDisableAfterFailures then must stay unset.
	//
	// Default: "cron(0 4 ? * MON *)", every Monday at 04:00 in ScheduleTimezone.
	Schedule *string

	// ScheduleTimezone is the IANA time zone of Schedule.
	//
	// Default: "Etc/UTC".
	ScheduleTimezone *string

	// StartCondition says whether a schedule tick always builds, or only when a
	// dependency changed. StartWhenDependenciesUpdated skips the monthly patch
	// builds, because new OS patches do not change any component version.
	//
	// Default: StartOnSchedule, which builds on every tick.
	StartCondition StartCondition

	// AutoDisableAfterFailures disables the pipeline after this many
	// consecutive failed scheduled builds (1-10).
	//
	// Default: 3.
	AutoDisableAfterFailures *float64

	// ImageTestsTimeout bounds the test phase (60 minutes to 24 hours, whole minutes).
	//
	// Default: 90 minutes.
	ImageTestsTimeout awscdk.Duration

	// LifecycleDeprecateAfter deprecates AMIs older than this. A deprecated AMI
	// still launches but drops out of default image listings. Whole days; over
	// 1000 days (Image Builder's limit in days), whole weeks.
	//
	// Default: 30 days.
	LifecycleDeprecateAfter awscdk.Duration

	// LifecycleDeleteAfter deregisters AMIs older than this and deletes their
	// snapshots, always keeping LifecycleRetainAtLeast. It must be later than
	// LifecycleDeprecateAfter, and it cannot be set together with
	// LifecycleRetainCount: the construct rejects that combination. Whole
	// days; over 1000 days (Image Builder's limit in days), whole weeks.
	//
	// Default: 180 days, when LifecycleRetainCount is not set.
	LifecycleDeleteAfter awscdk.Duration

	// LifecycleRetainAtLeast is how many of the newest images age-based
	// deletion always keeps (1-10). It cannot be set together with
	// LifecycleRetainCount, which keeps a count of its own.
	//
	// Default: 3, when LifecycleRetainCount is not set.
	LifecycleRetainAtLeast *float64

	// LifecycleRetainCount switches deletion from age to count: only this many
	// of the newest images are kept (1-1000).
	//
	// Default: deletion is age-based (LifecycleDeleteAfter).
	LifecycleRetainCount *float64
}

// Defaults, in one place. A test asserts each one's synthesized value.
const (
	defaultSchedule                 = "cron(0 4 ? * MON *)"
	defaultScheduleTimezone         = "Etc/UTC"
	defaultAutoDisableAfterFailures = 3
	defaultImageTestsMinutes        = 90
	defaultDeprecateDays            = 30
	defaultDeleteDays               = 180
	defaultRetainAtLeast            = 3
	defaultLogRetentionDays         = 90
	defaultDistributionKeyAlias     = "alias/golden-ami/distribution"
)

var defaultInstanceTypes = map[Platform]map[Architecture][]string{
	PlatformLinux:   {ArchitectureX86_64: {"m7i.large", "m6i.large"}, ArchitectureArm64: {"m7g.large", "m6g.large"}},
	PlatformWindows: {ArchitectureX86_64: {"m7i.xlarge", "m6i.xlarge"}},
}

// publicParentParameters are AWS's public parameters for the default seed.
var publicParentParameters = map[Platform]map[Architecture]string{
	PlatformLinux: {
		ArchitectureX86_64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
		ArchitectureArm64:  "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
	},
	PlatformWindows: {ArchitectureX86_64: "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base"},
}

var defaultRootDevice = map[Platform]string{PlatformLinux: "/dev/xvda", PlatformWindows: "/dev/sda1"}

// sda1Parent matches the names of Linux parents whose root device is
// /dev/sda1 rather than Amazon Linux's /dev/xvda: Ubuntu (Canonical's
// public parameters), RHEL and SUSE. (Debian's official AMIs use
// /dev/xvda.)
var sda1Parent = regexp.MustCompile(`ubuntu|canonical|rhel|redhat|red-hat|suse|sles`)

// ParentNeedsRootDeviceName reports whether a Linux parent image named
// name (an SSM parameter name, an image ARN or name pattern, an Elastic
// Beanstalk branch) looks like one whose root device is not Amazon Linux's
// /dev/xvda, the default RootDeviceName: Ubuntu, RHEL and SUSE use
// /dev/sda1. A pipeline built on one must set RootDeviceName; the
// construct refuses one without it.
func ParentNeedsRootDeviceName(name string) bool {
	return sda1Parent.MatchString(strings.ToLower(name))
}

// parentHint is the field and the literal value that names the parent
// image, when one does: the ParentImage's parameter name or image ARN, or
// the seed of the parameter the construct creates.
func (p *GoldenImagePipelineProps) parentHint() (string, string) {
	if pi := p.ParentImage; pi != nil {
		switch {
		case pi.kind == parentParameter && pi.parameter != nil:
			if name := pi.parameter.ParameterName(); name != nil && !isToken(*name) {
				return "ParentImage", *name
			}
		case pi.kind != parentParameter && !isToken(pi.value):
			return "ParentImage", pi.value
		}
		return "", ""
	}
	if s := p.UpstreamParameterSeed; s != nil && !isToken(*s) {
		return "UpstreamParameterSeed", *s
	}
	return "", ""
}

// withDefaults returns a copy of p with every unset field filled in. It
// never modifies p. Call it only after validate, which checks the fields
// the defaults depend on.
func (p *GoldenImagePipelineProps) withDefaults() GoldenImagePipelineProps {
	out := *p
	name := *p.ImageName
	if out.Description == nil {
		out.Description = jsiiString("Golden image " + name)
	}
	if out.Platform == "" {
		out.Platform = PlatformLinux
	}
	if out.Architecture == "" {
		out.Architecture = ArchitectureX86_64
	}
	if out.ParentImage == nil {
		if out.UpstreamParameterName == nil {
			out.UpstreamParameterName = jsiiString("/golden-ami/" + name + "/upstream")
		}
		if out.UpstreamParameterSeed == nil {
			out.UpstreamParameterSeed = jsiiString("{{resolve:ssm:" + publicParentParameters[out.Platform][out.Architecture] + "}}")
		}
	}
	if out.StigLevel == "" {
		out.StigLevel = StigMedium
	}
	if out.InstanceTypes == nil {
		var types []*string
		for _, t := range defaultInstanceTypes[out.Platform][out.Architecture] {
			types = append(types, jsiiString(t))
		}
		out.InstanceTypes = &types
	}
	if out.RootDeviceName == nil {
		out.RootDeviceName = jsiiString(defaultRootDevice[out.Platform])
	}
	if out.LogRetention == nil {
		out.LogRetention = awscdk.Duration_Days(jsiiNumber(defaultLogRetentionDays))
	}
	if out.DistributionKeyAlias == nil {
		out.DistributionKeyAlias = jsiiString(defaultDistributionKeyAlias)
	}
	if out.Schedule == nil {
		out.Schedule = jsiiString(defaultSchedule)
	}
	if out.ScheduleTimezone == nil {
		out.ScheduleTimezone = jsiiString(defaultScheduleTimezone)
	}
	if out.StartCondition == "" {
		out.StartCondition = StartOnSchedule
	}
	if out.AutoDisableAfterFailures == nil {
		out.AutoDisableAfterFailures = jsiiNumber(defaultAutoDisableAfterFailures)
	}
	if out.ImageTestsTimeout == nil {
		out.ImageTestsTimeout = awscdk.Duration_Minutes(jsiiNumber(defaultImageTestsMinutes))
	}
	if out.LifecycleDeprecateAfter == nil {
		out.LifecycleDeprecateAfter = awscdk.Duration_Days(jsiiNumber(defaultDeprecateDays))
	}
	if out.LifecycleDeleteAfter == nil {
		out.LifecycleDeleteAfter = awscdk.Duration_Days(jsiiNumber(defaultDeleteDays))
	}
	if out.LifecycleRetainAtLeast == nil {
		out.LifecycleRetainAtLeast = jsiiNumber(defaultRetainAtLeast)
	}
	return out
}

var (
	kmsAliasPattern = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]+$`)
	logRetentions   = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

// The provenance tags every golden AMI carries, for selecting AMIs (e.g.
// an ec2:DescribeImages filter "tag:golden-ami:pipeline") or in IAM
// conditions (ec2:ResourceTag/golden-ami:pipeline).
const (
	// TagImage is the pipeline's ImageName.
	TagImage = "golden-ami:image"
	// TagPipeline is the pipeline's recipe name (GoldenImagePipeline.RecipeName).
	TagPipeline = contract.TagPipeline
	// TagPlatform is "Linux" or "Windows".
	TagPlatform = "golden-ami:platform"
	// TagArchitecture is "x86_64" or "arm64".
	TagArchitecture = "golden-ami:architecture"
	// TagStigLevel is the STIG level the image was hardened to.
	TagStigLevel = "golden-ami:stig-level"
)

// provenanceTags are the AMI tags the pipeline sets itself (amiTags).
var provenanceTags = []string{TagImage, TagPipeline, TagPlatform, TagArchitecture, TagStigLevel}

// validate checks p before anything is defined and returns every problem,
// each naming the field and the bad value. Unresolved tokens are skipped.
// stackAccount is the account of the stack the pipeline goes in, or a
// token when the stack is environment-agnostic.
func (p *GoldenImagePipelineProps) validate(stack awscdk.Stack) error {
	stackAccount := *stack.Account()
	var errs []error
	fail := func(field string, err error) {
		errs = append(errs, fmt.Errorf("goldenimage: %s %w", field, err))
	}
	known := func(s *string) bool { return s != nil && !isToken(*s) }

	if p.ImageName == nil {
		fail("ImageName", errors.New("is required"))
	} else if isToken(*p.ImageName) {
		fail("ImageName", fmt.Errorf("%q is a token, resolved only at deployment (want a literal name: it names the Image Builder resources, the AMIs and the parameters)", *p.ImageName))
	} else {
		if err := validate.Name(*p.ImageName, 40); err != nil {
			fail("ImageName", err)
		}
	}
	if known(p.Description) {
		if n := utf8.RuneCountInString(*p.Description); n == 0 || n > 1024 {
			fail("Description", fmt.Errorf("is %d characters long (want 1 to 1024, Image Builder's limit for recipes and pipelines)", n))
		}
	}
	platform, arch := p.Platform, p.Architecture
	if platform == "" {
		platform = PlatformLinux
	}
	if arch == "" {
		arch = ArchitectureX86_64
	}
	if err := platform.Validate(); err != nil {
		fail("Platform", err)
	} else if err := arch.Validate(); err != nil {
		fail("Architecture", err)
	} else if err := ValidatePlatformArchitecture(platform, arch); err != nil {
		fail("Architecture", err)
	}
	if p.StigLevel != "" {
		if err := p.StigLevel.Validate(); err != nil {
			fail("StigLevel", err)
		}
	}
	if p.ParentImage != nil {
		if err := p.ParentImage.validate(stack); err != nil {
			fail("ParentImage", err)
		}
		if p.UpstreamParameterName != nil {
			fail("UpstreamParameterName", fmt.Errorf("%q is only used when ParentImage is not set", *p.UpstreamParameterName))
		}
		if p.UpstreamParameterSeed != nil {
			fail("UpstreamParameterSeed", fmt.Errorf("%q is only used when ParentImage is not set", *p.UpstreamParameterSeed))
		}
	}
	if known(p.UpstreamParameterName) {
		if err := validate.WritableSSMParameterName(*p.UpstreamParameterName); err != nil {
			fail("UpstreamParameterName", err)
		}
	}
	if s := p.UpstreamParameterSeed; s != nil && !strings.HasPrefix(*s, "{{resolve:ssm:") && known(s) {
		if err := contract.ValidateAMIID(*s); err != nil {
			fail("UpstreamParameterSeed", fmt.Errorf("%q is neither an AMI id nor a \"{{resolve:ssm:...}}\" dynamic reference", *s))
		}
	}
	if p.AdditionalComponents != nil {
		names := map[string]bool{}
		for i, c := range *p.AdditionalComponents {
			field := fmt.Sprintf("AdditionalComponents[%d]", i)
			if c == nil {
				fail(field, errors.New("is nil"))
				continue
			}
			if err := c.validate(stack); err != nil {
				fail(field, err)
			}
			if c.name != "" && names[c.name] {
				fail(field, fmt.Errorf("name %q is used twice", c.name))
			}
			names[c.name] = true
		}
	}
	if p.InstanceTypes != nil {
		var types []string
		if len(*p.InstanceTypes) == 0 {
			fail("InstanceTypes", errors.New("is empty (want at least one instance type, or leave it unset for the default)"))
		}
		for i, t := range *p.InstanceTypes {
			if t == nil {
				fail(fmt.Sprintf("InstanceTypes[%d]", i), errors.New("is nil"))
				continue
			}
			if known(t) && arch.Validate() == nil {
				if err := validate.InstanceTypeForArchitecture(*t, string(arch)); err != nil {
					fail(fmt.Sprintf("InstanceTypes[%d]", i), err)
				}
			}
			if known(t) {
				types = append(types, *t)
			}
		}
		if err := validate.Unique(types); err != nil {
			fail("InstanceTypes", err)
		}
	}
	if known(p.RootDeviceName) {
		if err := validate.DeviceName(*p.RootDeviceName); err != nil {
			fail("RootDeviceName", err)
		}
	}
	if p.RootDeviceName == nil && platform == PlatformLinux {
		// The default /dev/xvda is Amazon Linux's root device; on a parent
		// whose root is /dev/sda1 the recipe's mapping would describe a new,
		// empty volume instead, and the build fail at launch.
		if field, value := p.parentHint(); ParentNeedsRootDeviceName(value) {
			fail("RootDeviceName", fmt.Errorf("is unset, so the recipe encrypts /dev/xvda (Amazon Linux's root device), but %s %q looks like a parent whose root device is /dev/sda1 (want RootDeviceName \"/dev/sda1\", or the parent's root device, \"/dev/xvda\" included)", field, value))
		}
	}
	if v := p.RootVolumeSizeGiB; v != nil && (*v < 1 || *v > 16384 || *v != math.Trunc(*v)) {
		fail("RootVolumeSizeGiB", fmt.Errorf("%v is out of range (want a whole number from 1 to 16384)", *v))
	}
	if p.AMITags != nil {
		keys := make([]string, 0, len(*p.AMITags))
		for k := range *p.AMITags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := (*p.AMITags)[k]
			switch {
			case strings.HasPrefix(strings.ToLower(k), "aws:"):
				fail("AMITags", fmt.Errorf("key %q uses the reserved aws: prefix", k))
			case slices.Contains(provenanceTags, k):
				fail("AMITags", fmt.Errorf("key %q is a provenance tag the pipeline sets itself", k))
			case k == "" || utf8.RuneCountInString(k) > 128:
				fail("AMITags", fmt.Errorf("key %q is not a tag key (want 1 to 128 characters)", k))
			case v == nil:
				fail(fmt.Sprintf("AMITags[%q]", k), errors.New("is nil"))
			case utf8.RuneCountInString(*v) > 256:
				fail(fmt.Sprintf("AMITags[%q]", k), fmt.Errorf("is %d characters long (want at most 256)", utf8.RuneCountInString(*v)))
			}
		}
		if len(*p.AMITags) > 40 {
			fail("AMITags", fmt.Errorf("has %d tags (want at most 40, leaving room for the provenance tags)", len(*p.AMITags)))
		}
	}
	if p.SecurityGroups != nil {
		for i, sg := range *p.SecurityGroups {
			if sg == nil {
				fail(fmt.Sprintf("SecurityGroups[%d]", i), errors.New("is nil"))
			}
		}
	}
	if (p.Subnet == nil) != (p.SecurityGroups == nil || len(*p.SecurityGroups) == 0) {
		if p.Subnet == nil {
			fail("SecurityGroups", errors.New("is set without Subnet (want both or neither)"))
		} else {
			fail("Subnet", errors.New("is set without SecurityGroups (want both or neither)"))
		}
	}
	if p.LogRetention != nil {
		days, ok := wholeDays(p.LogRetention)
		if !ok || !contains(logRetentions, days) {
			fail("LogRetention", fmt.Errorf("%s is not a CloudWatch Logs retention period (want one of %v days)", *p.LogRetention.ToHumanString(), logRetentions))
		}
	}
	checkDistributionRegions(p.DistributionRegions, fail)
	if p.DistributionAccounts != nil {
		var accounts []string
		for i, a := range *p.DistributionAccounts {
			if a == nil {
				fail(fmt.Sprintf("DistributionAccounts[%d]", i), errors.New("is nil"))
				continue
			}
			if !known(a) {
				continue
			}
			if err := validate.Account(*a); err != nil {
				fail(fmt.Sprintf("DistributionAccounts[%d]", i), err)
			} else if *a == stackAccount {
				fail(fmt.Sprintf("DistributionAccounts[%d]", i), fmt.Errorf("%q is this stack's own account (the AMI is already there; list only the accounts to share it with)", *a))
			}
			accounts = append(accounts, *a)
		}
		if err := validate.Unique(accounts); err != nil {
			fail("DistributionAccounts", err)
		}
	}
	if p.DistributionLaunchTemplates != nil {
		for i, lt := range *p.DistributionLaunchTemplates {
			if lt == nil {
				fail(fmt.Sprintf("DistributionLaunchTemplates[%d]", i), errors.New("is nil"))
			} else if lt.LaunchTemplateId() == nil {
				name := "(no name)"
				if n := lt.LaunchTemplateName(); n != nil {
					name = fmt.Sprintf("%q", *n)
				}
				fail(fmt.Sprintf("DistributionLaunchTemplates[%d]", i), fmt.Errorf("%s has no launch template id (want a template imported with LaunchTemplateId, "+
					"e.g. awsec2.LaunchTemplate_FromLaunchTemplateAttributes with LaunchTemplateId \"lt-0123456789abcdef0\": Image Builder's distribution names the template by id)", name))
			}
		}
	}
	if a := p.DistributionKeyAlias; known(a) && (!kmsAliasPattern.MatchString(*a) || strings.HasPrefix(*a, "alias/aws/")) {
		fail("DistributionKeyAlias", fmt.Errorf("%q is not a customer-managed key alias (want e.g. %q)", *a, defaultDistributionKeyAlias))
	}
	if s := p.Schedule; known(s) && *s != "" {
		if err := validate.Cron(*s); err != nil {
			fail("Schedule", err)
		}
	}
	if s := p.Schedule; s != nil && *s == "" {
		// Without a schedule these would be dropped without a word.
		for _, f := range []struct {
			field string
			set   bool
		}{
			{"ScheduleTimezone", p.ScheduleTimezone != nil}, {"StartCondition", p.StartCondition != ""}, {"AutoDisableAfterFailures", p.AutoDisableAfterFailures != nil},
		} {
			if f.set {
				fail(f.field, errors.New("is set, but Schedule is \"\" (no schedule), and it only applies to scheduled builds (want it unset, or a Schedule)"))
			}
		}
	}
	if tz := p.ScheduleTimezone; known(tz) {
		if err := validate.Timezone(*tz); err != nil {
			fail("ScheduleTimezone", err)
		}
	}
	if p.StartCondition != "" {
		if err := p.StartCondition.Validate(); err != nil {
			fail("StartCondition", err)
		}
	}
	if v := p.AutoDisableAfterFailures; v != nil && (*v < 1 || *v > 10 || *v != math.Trunc(*v)) {
		fail("AutoDisableAfterFailures", fmt.Errorf("%v is out of range (want a whole number from 1 to 10)", *v))
	}
	if d := p.ImageTestsTimeout; d != nil {
		minutes := *d.ToMinutes(&awscdk.TimeConversionOptions{Integral: jsiiBool(false)})
		if minutes < 60 || minutes > 1440 || minutes != math.Trunc(minutes) {
			fail("ImageTestsTimeout", fmt.Errorf("%s is out of range (want whole minutes from 60 to 1440)", *d.ToHumanString()))
		}
	}
	deprecate, deprecateOK := daysOr(p.LifecycleDeprecateAfter, defaultDeprecateDays)
	remove, removeOK := daysOr(p.LifecycleDeleteAfter, defaultDeleteDays)
	if !deprecateOK || deprecate < 1 {
		fail("LifecycleDeprecateAfter", fmt.Errorf("%s is not a whole number of days (want at least 1 day)", *p.LifecycleDeprecateAfter.ToHumanString()))
	}
	if !removeOK || remove < 1 {
		fail("LifecycleDeleteAfter", fmt.Errorf("%s is not a whole number of days (want at least 1 day)", *p.LifecycleDeleteAfter.ToHumanString()))
	}
	if _, _, err := lifecycleAge(deprecate); deprecateOK && err != nil {
		fail("LifecycleDeprecateAfter", err)
	}
	if _, _, err := lifecycleAge(remove); removeOK && err != nil {
		fail("LifecycleDeleteAfter", err)
	}
	if deprecateOK && removeOK && p.LifecycleRetainCount == nil && remove <= deprecate {
		fail("LifecycleDeleteAfter", fmt.Errorf("%d days is not after LifecycleDeprecateAfter (%d days)", remove, deprecate))
	}
	if p.LifecycleRetainCount != nil && p.LifecycleDeleteAfter != nil {
		fail("LifecycleRetainCount", errors.New("and LifecycleDeleteAfter are both set (want one deletion rule: by count or by age)"))
	}
	if p.LifecycleRetainCount != nil && p.LifecycleRetainAtLeast != nil {
		fail("LifecycleRetainAtLeast", fmt.Errorf("%v only applies to age-based deletion, and LifecycleRetainCount (%v) makes deletion count-based (want one of them)", *p.LifecycleRetainAtLeast, *p.LifecycleRetainCount))
	}
	if v := p.LifecycleRetainAtLeast; v != nil && (*v < 1 || *v > 10 || *v != math.Trunc(*v)) {
		fail("LifecycleRetainAtLeast", fmt.Errorf("%v is out of range (want a whole number from 1 to 10)", *v))
	}
	if v := p.LifecycleRetainCount; v != nil && (*v < 1 || *v > 1000 || *v != math.Trunc(*v)) {
		fail("LifecycleRetainCount", fmt.Errorf("%v is out of range (want a whole number from 1 to 1000)", *v))
	}
	return errors.Join(errs...)
}

// lifecycleAge expresses an age in days as a lifecycle filter's value and
// unit. Image Builder takes values from 1 to 1000, so ages over 1000 days
// are given in weeks, which must then be whole (a month or a year is not a
// fixed number of days).
func lifecycleAge(days int) (float64, string, error) {
	switch {
	case days <= 1000:
		return float64(days), "DAYS", nil
	case days%7 == 0 && days/7 <= 1000:
		return float64(days / 7), "WEEKS", nil
	case days/7 > 1000:
		return 0, "", fmt.Errorf("%d days is more than Image Builder's limit of 1000 weeks", days)
	}
	return 0, "", fmt.Errorf("%d days is more than Image Builder's 1000 days and not a whole number of weeks (want at most 1000 days, or whole weeks, e.g. %d days = %d weeks)", days, days/7*7, days/7)
}

// wholeDays converts d to days, reporting false when it is not a whole number of days.
func wholeDays(d awscdk.Duration) (int, bool) {
	days := *d.ToHours(&awscdk.TimeConversionOptions{Integral: jsiiBool(false)}) / 24
	return int(days), days == math.Trunc(days)
}

func daysOr(d awscdk.Duration, def int) (int, bool) {
	if d == nil {
		return def, true
	}
	return wholeDays(d)
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func jsiiNumber(v float64) *float64 { return &v }
func jsiiBool(v bool) *bool         { return &v }

// checkDistributionRegions reports, through fail, every nil, malformed or
// repeated region of regions (nil: none given).
func checkDistributionRegions(regions *[]*string, fail func(field string, err error)) {
	if regions == nil {
		return
	}
	var seen []string
	for i, r := range *regions {
		if r == nil {
			fail(fmt.Sprintf("DistributionRegions[%d]", i), errors.New("is nil"))
			continue
		}
		if isToken(*r) {
			continue
		}
		if err := validate.Region(*r); err != nil {
			fail(fmt.Sprintf("DistributionRegions[%d]", i), err)
		}
		seen = append(seen, *r)
	}
	if err := validate.Unique(seen); err != nil {
		fail("DistributionRegions", err)
	}
}
