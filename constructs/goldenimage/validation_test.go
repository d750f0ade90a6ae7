package goldenimage_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

func TestInvalidPropsFailBeforeAnythingIsDefined(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: testEnv})
	sg := awsec2.SecurityGroup_FromSecurityGroupId(stack, jsii.String("Sg"), jsii.String("sg-0123456789abcdef0"), nil)
	subnet := awsec2.Subnet_FromSubnetId(stack, jsii.String("Subnet"), jsii.String("subnet-0123456789abcdef0"))
	name := jsii.String("al2023")
	tokenName := awscdk.NewCfnParameter(stack, jsii.String("ImageNameParameter"), nil).ValueAsString()
	tooManyTags := map[string]*string{}
	for i := range 41 {
		tooManyTags[fmt.Sprintf("tag%02d", i)] = jsii.String("x")
	}

	for _, tc := range []struct {
		test  string
		props gi.GoldenImagePipelineProps
		want  string
	}{
		{"TestFailsWhenImageNameIsMissing", gi.GoldenImagePipelineProps{},
			`goldenimage: ImageName is required`},
		{"TestFailsWhenImageNameIsInvalid", gi.GoldenImagePipelineProps{ImageName: jsii.String("AL 2023")},
			`goldenimage: ImageName "AL 2023" is not a valid name (want 2-40 lowercase letters, digits or hyphens, starting with a letter)`},
		{"TestFailsWhenImageNameIsAToken", gi.GoldenImagePipelineProps{ImageName: tokenName},
			`goldenimage: ImageName "` + *tokenName + `" is a token, resolved only at deployment (want a literal name: it names the Image Builder resources, the AMIs and the parameters)`},
		{"TestFailsWhenAnUbuntuParentHasNoRootDevice", gi.GoldenImagePipelineProps{ImageName: name, ParentImage: gi.ParentImageFromParameterName("/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id")},
			`goldenimage: RootDeviceName is unset, so the recipe encrypts /dev/xvda (Amazon Linux's root device), but ParentImage "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id" looks like a parent whose root device is /dev/sda1 (want RootDeviceName "/dev/sda1", or the parent's root device, "/dev/xvda" included)`},
		{"TestFailsWhenAnRHELSeedHasNoRootDevice", gi.GoldenImagePipelineProps{ImageName: name, UpstreamParameterSeed: jsii.String("{{resolve:ssm:/team/images/RHEL-9-latest}}")},
			`goldenimage: RootDeviceName is unset, so the recipe encrypts /dev/xvda (Amazon Linux's root device), but UpstreamParameterSeed "{{resolve:ssm:/team/images/RHEL-9-latest}}" looks like a parent whose root device is /dev/sda1 (want RootDeviceName "/dev/sda1", or the parent's root device, "/dev/xvda" included)`},
		{"TestFailsWhenPlatformIsUnknown", gi.GoldenImagePipelineProps{ImageName: name, Platform: "macOS"},
			`goldenimage: Platform "macOS" is not a platform (want "Linux" or "Windows")`},
		{"TestFailsWhenArchitectureIsUnknown", gi.GoldenImagePipelineProps{ImageName: name, Architecture: "i386"},
			`goldenimage: Architecture "i386" is not an architecture (want "x86_64" or "arm64")`},
		{"TestFailsWhenWindowsIsArm64", gi.GoldenImagePipelineProps{ImageName: name, Platform: gi.PlatformWindows, Architecture: gi.ArchitectureArm64},
			`goldenimage: Architecture "arm64" is not supported for platform "Windows" (want "x86_64")`},
		{"TestFailsWhenStigLevelIsUnknown", gi.GoldenImagePipelineProps{ImageName: name, StigLevel: "extreme"},
			`goldenimage: StigLevel "extreme" is not a STIG level (want "low", "medium" or "high")`},
		{"TestFailsWhenParentAMIIsInvalid", gi.GoldenImagePipelineProps{ImageName: name, ParentImage: gi.ParentImageFromAMIID("ami-12345")},
			`goldenimage: ParentImage "ami-12345" is not an AMI id (want "ami-" followed by 8 or 17 hex digits)`},
		{"TestFailsWhenParentARNIsInvalid", gi.GoldenImagePipelineProps{ImageName: name, ParentImage: gi.ParentImageFromImageARN("arn:aws:ec2:us-east-1::image/ami-12345678")},
			`goldenimage: ParentImage "arn:aws:ec2:us-east-1::image/ami-12345678" is not an Image Builder image ARN (want e.g. "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x")`},
		{"TestFailsWhenParentParameterNameIsInvalid", gi.GoldenImagePipelineProps{ImageName: name, ParentImage: gi.ParentImageFromParameterName("golden")},
			`goldenimage: ParentImage "golden" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{"TestFailsWhenParentParameterARNIsInvalid", gi.GoldenImagePipelineProps{ImageName: name, ParentImage: gi.ParentImageFromParameterName("arn:aws:ssm:eu-west-1:2222:parameter/golden")},
			`goldenimage: ParentImage "arn:aws:ssm:eu-west-1:2222:parameter/golden" is not an SSM parameter ARN (want arn:aws:ssm:<region>:<account>:parameter/<name>)`},
		{"TestFailsWhenUpstreamParameterIsGivenWithAParent", gi.GoldenImagePipelineProps{ImageName: name, ParentImage: gi.ParentImageFromAMIID("ami-12345678"), UpstreamParameterName: jsii.String("/x/y")},
			`goldenimage: UpstreamParameterName "/x/y" is only used when ParentImage is not set`},
		{"TestFailsWhenDescriptionIsTooLong", gi.GoldenImagePipelineProps{ImageName: name, Description: jsii.String(strings.Repeat("x", 1025))},
			`goldenimage: Description is 1025 characters long (want 1 to 1024, Image Builder's limit for recipes and pipelines)`},
		{"TestFailsWhenDescriptionIsEmpty", gi.GoldenImagePipelineProps{ImageName: name, Description: jsii.String("")},
			`goldenimage: Description is 0 characters long (want 1 to 1024, Image Builder's limit for recipes and pipelines)`},
		{"TestFailsWhenUpstreamParameterIsReserved", gi.GoldenImagePipelineProps{ImageName: name, UpstreamParameterName: jsii.String("/aws/service/mine")},
			`goldenimage: UpstreamParameterName "/aws/service/mine" is under AWS's reserved /aws tree (readable, but no account can create or write a parameter there)`},
		{"TestFailsWhenSeedIsNotAnAMI", gi.GoldenImagePipelineProps{ImageName: name, UpstreamParameterSeed: jsii.String("latest")},
			`goldenimage: UpstreamParameterSeed "latest" is neither an AMI id nor a "{{resolve:ssm:...}}" dynamic reference`},
		{"TestFailsWhenInstanceTypesAreEmpty", gi.GoldenImagePipelineProps{ImageName: name, InstanceTypes: &[]*string{}},
			`goldenimage: InstanceTypes is empty (want at least one instance type, or leave it unset for the default)`},
		{"TestFailsWhenInstanceTypeDoesNotMatchArchitecture", gi.GoldenImagePipelineProps{ImageName: name, Architecture: gi.ArchitectureArm64, InstanceTypes: jsii.Strings("m7g.large", "m7i.large")},
			`goldenimage: InstanceTypes[1] "m7i.large" is not an arm64 (Graviton) instance type (want e.g. "m7g.large")`},
		{"TestFailsWhenRootVolumeIsTooLarge", gi.GoldenImagePipelineProps{ImageName: name, RootVolumeSizeGiB: jsii.Number(20000)},
			`goldenimage: RootVolumeSizeGiB 20000 is out of range (want a whole number from 1 to 16384)`},
		{"TestFailsWhenRootDeviceIsInvalid", gi.GoldenImagePipelineProps{ImageName: name, RootDeviceName: jsii.String("xvda")},
			`goldenimage: RootDeviceName "xvda" is not a device name (want e.g. "/dev/xvda" or "/dev/sda1")`},
		{"TestFailsWhenAmiTagUsesAWSPrefix", gi.GoldenImagePipelineProps{ImageName: name, AMITags: &map[string]*string{"aws:owner": jsii.String("x")}},
			`goldenimage: AMITags key "aws:owner" uses the reserved aws: prefix`},
		{"TestFailsWhenAmiTagValueIsNil", gi.GoldenImagePipelineProps{ImageName: name, AMITags: &map[string]*string{"team": nil}},
			`goldenimage: AMITags["team"] is nil`},
		{"TestFailsWhenAmiTagKeyIsEmpty", gi.GoldenImagePipelineProps{ImageName: name, AMITags: &map[string]*string{"": jsii.String("x")}},
			`goldenimage: AMITags key "" is not a tag key (want 1 to 128 characters)`},
		{"TestFailsWhenAmiTagValueIsTooLong", gi.GoldenImagePipelineProps{ImageName: name, AMITags: &map[string]*string{"team": jsii.String(strings.Repeat("x", 257))}},
			`goldenimage: AMITags["team"] is 257 characters long (want at most 256)`},
		{"TestFailsWhenAmiTagOverridesProvenance", gi.GoldenImagePipelineProps{ImageName: name, AMITags: &map[string]*string{"golden-ami:image": jsii.String("x")}},
			`goldenimage: AMITags key "golden-ami:image" is a provenance tag the pipeline sets itself`},
		{"TestFailsWhenInstanceTypesRepeat", gi.GoldenImagePipelineProps{ImageName: name, InstanceTypes: jsii.Strings("m7i.large", "m7i.large")},
			`goldenimage: InstanceTypes [1] "m7i.large" duplicates [0]`},
		{"TestFailsWhenDistributionAccountsListTheStacksOwn", gi.GoldenImagePipelineProps{ImageName: name, DistributionAccounts: jsii.Strings("222222222222", "111111111111")},
			`goldenimage: DistributionAccounts[1] "111111111111" is this stack's own account (the AMI is already there; list only the accounts to share it with)`},
		{"TestFailsWhenSecurityGroupsComeWithoutSubnet", gi.GoldenImagePipelineProps{ImageName: name, SecurityGroups: &[]awsec2.ISecurityGroup{sg}},
			`goldenimage: SecurityGroups is set without Subnet (want both or neither)`},
		{"TestFailsWhenLogRetentionIsNotACloudWatchPeriod", gi.GoldenImagePipelineProps{ImageName: name, LogRetention: awscdk.Duration_Days(jsii.Number(100))},
			`goldenimage: LogRetention 100 days is not a CloudWatch Logs retention period (want one of [1 3 5 7 14 30 60 90 120 150 180 365 400 545 731 1096 1827 2192 2557 2922 3288 3653] days)`},
		{"TestFailsWhenDistributionRegionIsInvalid", gi.GoldenImagePipelineProps{ImageName: name, DistributionRegions: jsii.Strings("us-west-2", "us-east")},
			`goldenimage: DistributionRegions[1] "us-east" is not an AWS region (want e.g. "us-east-1")`},
		{"TestFailsWhenDistributionRegionsRepeat", gi.GoldenImagePipelineProps{ImageName: name, DistributionRegions: jsii.Strings("us-west-2", "us-west-2")},
			`goldenimage: DistributionRegions [1] "us-west-2" duplicates [0]`},
		{"TestFailsWhenADistributionRegionIsNil", gi.GoldenImagePipelineProps{ImageName: name, DistributionRegions: &[]*string{jsii.String("us-west-2"), nil}},
			`goldenimage: DistributionRegions[1] is nil`},
		{"TestFailsWhenADistributionAccountIsNil", gi.GoldenImagePipelineProps{ImageName: name, DistributionAccounts: &[]*string{nil, jsii.String("222222222222")}},
			`goldenimage: DistributionAccounts[0] is nil`},
		{"TestFailsWhenASecurityGroupIsNil", gi.GoldenImagePipelineProps{ImageName: name, Subnet: subnet, SecurityGroups: &[]awsec2.ISecurityGroup{sg, nil}},
			`goldenimage: SecurityGroups[1] is nil`},
		{"TestFailsWhenAnInstanceTypeIsNil", gi.GoldenImagePipelineProps{ImageName: name, InstanceTypes: &[]*string{nil}},
			`goldenimage: InstanceTypes[0] is nil`},
		{"TestFailsWhenADistributionLaunchTemplateHasNoID", gi.GoldenImagePipelineProps{ImageName: name, DistributionLaunchTemplates: &[]awsec2.ILaunchTemplate{
			awsec2.LaunchTemplate_FromLaunchTemplateAttributes(stack, jsii.String("ByName"), &awsec2.LaunchTemplateAttributes{LaunchTemplateName: jsii.String("web")})}},
			`goldenimage: DistributionLaunchTemplates[0] "web" has no launch template id (want a template imported with LaunchTemplateId, e.g. awsec2.LaunchTemplate_FromLaunchTemplateAttributes with LaunchTemplateId "lt-0123456789abcdef0": Image Builder's distribution names the template by id)`},
		{"TestFailsWhenADistributionLaunchTemplateIsNil", gi.GoldenImagePipelineProps{ImageName: name, DistributionLaunchTemplates: &[]awsec2.ILaunchTemplate{nil}},
			`goldenimage: DistributionLaunchTemplates[0] is nil`},
		{"TestFailsWhenDistributionAccountIsInvalid", gi.GoldenImagePipelineProps{ImageName: name, DistributionAccounts: jsii.Strings("12345")},
			`goldenimage: DistributionAccounts[0] "12345" is not an AWS account id (want 12 digits)`},
		{"TestFailsWhenDistributionKeyAliasIsAWSManaged", gi.GoldenImagePipelineProps{ImageName: name, DistributionKeyAlias: jsii.String("alias/aws/ebs")},
			`goldenimage: DistributionKeyAlias "alias/aws/ebs" is not a customer-managed key alias (want e.g. "alias/golden-ami/distribution")`},
		{"TestFailsWhenScheduleIsInvalid", gi.GoldenImagePipelineProps{ImageName: name, Schedule: jsii.String("cron(0 4 * * MON *)")},
			`goldenimage: Schedule "cron(0 4 * * MON *)" is not a valid cron expression: exactly one of day-of-month and day-of-week must be "?" (want e.g. "cron(0 4 ? * MON *)")`},
		{"TestFailsWhenTimezoneIsUnknown", gi.GoldenImagePipelineProps{ImageName: name, ScheduleTimezone: jsii.String("Mars/Olympus")},
			`goldenimage: ScheduleTimezone "Mars/Olympus" is not an IANA time zone (want e.g. "Europe/Berlin")`},
		{"TestFailsWhenStartConditionIsUnknown", gi.GoldenImagePipelineProps{ImageName: name, StartCondition: "SOMETIMES"},
			`goldenimage: StartCondition "SOMETIMES" is not a start condition (want StartOnSchedule "EXPRESSION_MATCH_ONLY" or StartWhenDependenciesUpdated "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE")`},
		{"TestFailsWhenAutoDisableIsOutOfRange", gi.GoldenImagePipelineProps{ImageName: name, AutoDisableAfterFailures: jsii.Number(0)},
			`goldenimage: AutoDisableAfterFailures 0 is out of range (want a whole number from 1 to 10)`},
		{"TestFailsWhenTestTimeoutIsTooShort", gi.GoldenImagePipelineProps{ImageName: name, ImageTestsTimeout: awscdk.Duration_Minutes(jsii.Number(30))},
			`goldenimage: ImageTestsTimeout 30 minutes is out of range (want whole minutes from 60 to 1440)`},
		{"TestFailsWhenDeleteIsNotAfterDeprecate", gi.GoldenImagePipelineProps{ImageName: name, LifecycleDeprecateAfter: awscdk.Duration_Days(jsii.Number(60)), LifecycleDeleteAfter: awscdk.Duration_Days(jsii.Number(30))},
			`goldenimage: LifecycleDeleteAfter 30 days is not after LifecycleDeprecateAfter (60 days)`},
		{"TestFailsWhenBothDeletionRulesAreSet", gi.GoldenImagePipelineProps{ImageName: name, LifecycleDeleteAfter: awscdk.Duration_Days(jsii.Number(90)), LifecycleRetainCount: jsii.Number(5)},
			`goldenimage: LifecycleRetainCount and LifecycleDeleteAfter are both set (want one deletion rule: by count or by age)`},
		{"TestFailsWhenScheduleOptionsHaveNoSchedule", gi.GoldenImagePipelineProps{ImageName: name, Schedule: jsii.String(""), ScheduleTimezone: jsii.String("Europe/Berlin"), StartCondition: gi.StartWhenDependenciesUpdated, AutoDisableAfterFailures: jsii.Number(5)},
			"goldenimage: ScheduleTimezone is set, but Schedule is \"\" (no schedule), and it only applies to scheduled builds (want it unset, or a Schedule)\n" +
				"goldenimage: StartCondition is set, but Schedule is \"\" (no schedule), and it only applies to scheduled builds (want it unset, or a Schedule)\n" +
				"goldenimage: AutoDisableAfterFailures is set, but Schedule is \"\" (no schedule), and it only applies to scheduled builds (want it unset, or a Schedule)"},
		{"TestFailsWhenRetainAtLeastIsSetWithRetainCount", gi.GoldenImagePipelineProps{ImageName: name, LifecycleRetainCount: jsii.Number(5), LifecycleRetainAtLeast: jsii.Number(2)},
			`goldenimage: LifecycleRetainAtLeast 2 only applies to age-based deletion, and LifecycleRetainCount (5) makes deletion count-based (want one of them)`},
		{"TestFailsWhenDeleteAfterExceedsImageBuildersDays", gi.GoldenImagePipelineProps{ImageName: name, LifecycleDeleteAfter: awscdk.Duration_Days(jsii.Number(1096))},
			`goldenimage: LifecycleDeleteAfter 1096 days is more than Image Builder's 1000 days and not a whole number of weeks (want at most 1000 days, or whole weeks, e.g. 1092 days = 156 weeks)`},
		{"TestFailsWhenDeprecateAfterExceedsImageBuildersWeeks", gi.GoldenImagePipelineProps{ImageName: name, LifecycleDeprecateAfter: awscdk.Duration_Days(jsii.Number(7007)), LifecycleDeleteAfter: awscdk.Duration_Days(jsii.Number(7014))},
			"goldenimage: LifecycleDeprecateAfter 7007 days is more than Image Builder's limit of 1000 weeks\ngoldenimage: LifecycleDeleteAfter 7014 days is more than Image Builder's limit of 1000 weeks"},
		{"TestFailsWhenDeprecateIsNotWholeDays", gi.GoldenImagePipelineProps{ImageName: name, LifecycleDeprecateAfter: awscdk.Duration_Hours(jsii.Number(36))},
			`goldenimage: LifecycleDeprecateAfter 1 day 12 hours is not a whole number of days (want at least 1 day)`},
		{"TestFailsWhenAdditionalComponentARNIsInvalid", gi.GoldenImagePipelineProps{ImageName: name, AdditionalComponents: &[]*gi.Component{gi.ComponentFromARN("arn:aws:s3:::bucket/doc.yaml")}},
			`goldenimage: AdditionalComponents[0] "arn:aws:s3:::bucket/doc.yaml" is not an Image Builder component ARN (want e.g. "arn:aws:imagebuilder:us-east-1:aws:component/amazon-cloudwatch-agent-linux/x.x.x")`},
		{"TestFailsWhenAdditionalComponentsRepeatAName", gi.GoldenImagePipelineProps{ImageName: name, AdditionalComponents: &[]*gi.Component{gi.ComponentFromDocument("tools", "x"), gi.ComponentFromDocument("tools", "y")}},
			`goldenimage: AdditionalComponents[1] name "tools" is used twice`},
		{"TestFailsWhenDistributionAccountsRepeat", gi.GoldenImagePipelineProps{ImageName: name, DistributionAccounts: jsii.Strings("222222222222", "333333333333", "222222222222")},
			`goldenimage: DistributionAccounts [2] "222222222222" duplicates [0]`},
		{"TestFailsWhenSubnetComesWithoutSecurityGroups", gi.GoldenImagePipelineProps{ImageName: name, Subnet: subnet},
			`goldenimage: Subnet is set without SecurityGroups (want both or neither)`},
		{"TestFailsWhenSubnetComesWithNoSecurityGroups", gi.GoldenImagePipelineProps{ImageName: name, Subnet: subnet, SecurityGroups: &[]awsec2.ISecurityGroup{}},
			`goldenimage: Subnet is set without SecurityGroups (want both or neither)`},
		{"TestFailsWhenAmiTagsAreMoreThan40", gi.GoldenImagePipelineProps{ImageName: name, AMITags: &tooManyTags},
			`goldenimage: AMITags has 41 tags (want at most 40, leaving room for the provenance tags)`},
		{"TestFailsWhenRetainCountExceeds1000", gi.GoldenImagePipelineProps{ImageName: name, LifecycleRetainCount: jsii.Number(1001)},
			`goldenimage: LifecycleRetainCount 1001 is out of range (want a whole number from 1 to 1000)`},
		{"TestFailsWhenDistributionKeyAliasLacksThePrefix", gi.GoldenImagePipelineProps{ImageName: name, DistributionKeyAlias: jsii.String("golden-ami/distribution")},
			`goldenimage: DistributionKeyAlias "golden-ami/distribution" is not a customer-managed key alias (want e.g. "alias/golden-ami/distribution")`},
		{"TestFailsWhenDistributionKeyAliasHasASpace", gi.GoldenImagePipelineProps{ImageName: name, DistributionKeyAlias: jsii.String("alias/golden ami")},
			`goldenimage: DistributionKeyAlias "alias/golden ami" is not a customer-managed key alias (want e.g. "alias/golden-ami/distribution")`},
		{"TestFailsWhenDeleteIsNotWholeDays", gi.GoldenImagePipelineProps{ImageName: name, LifecycleDeleteAfter: awscdk.Duration_Hours(jsii.Number(200*24 + 12))},
			`goldenimage: LifecycleDeleteAfter 200 days 12 hours is not a whole number of days (want at least 1 day)`},
		{"TestReportsEveryProblemAtOnce", gi.GoldenImagePipelineProps{ImageName: name, StigLevel: "x", DistributionAccounts: jsii.Strings("1")},
			"goldenimage: StigLevel \"x\" is not a STIG level (want \"low\", \"medium\" or \"high\")\ngoldenimage: DistributionAccounts[0] \"1\" is not an AWS account id (want 12 digits)"},
	} {
		t.Run(tc.test, func(t *testing.T) {
			props := tc.props
			failsBeforeDefining(t, stack, tc.want, func() { gi.NewGoldenImagePipeline(stack, jsii.String("Pipeline"), &props) })
		})
	}
}

// failsBeforeDefining runs define, which must panic with the message want
// and leave stack without a new child.
func failsBeforeDefining(t *testing.T, stack awscdk.Stack, want string, define func()) {
	t.Helper()
	before := len(*stack.Node().Children())
	if got := cdktest.ExpectPanic(t, define); got != want {
		t.Errorf("panic message\n got %s\nwant %s", got, want)
	}
	if after := len(*stack.Node().Children()); after != before {
		t.Errorf("the stack gained %d children before validation failed", after-before)
	}
}

func TestWithDefaultsDoesNotModifyTheCallersProps(t *testing.T) {
	stack := newStack(t)
	props := &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")}
	gi.NewGoldenImagePipeline(stack, jsii.String("P"), props)
	if props.Platform != "" || props.StigLevel != "" || props.Schedule != nil || props.InstanceTypes != nil || props.LogRetention != nil {
		t.Errorf("props were modified: %+v", *props)
	}
}

func TestFailsWhenImageNameRepeatsInAStack(t *testing.T) {
	stack := newStack(t)
	gi.NewGoldenImagePipeline(stack, jsii.String("One"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	got := cdktest.ExpectPanic(t, func() {
		gi.NewGoldenImagePipeline(stack, jsii.String("Two"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	})
	if want := `goldenimage: ImageName "al2023" is already used by another pipeline in stack Test (want one pipeline per ImageName per stack)`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// A construct id that is already taken must not leave the ImageName marker
// behind: the same ImageName under a free id still works afterwards.
func TestDuplicateIDLeavesImageNameFree(t *testing.T) {
	stack := newStack(t)
	gi.NewGoldenImagePipeline(stack, jsii.String("One"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	before := len(*stack.Node().Children())
	cdktest.ExpectPanic(t, func() {
		gi.NewGoldenImagePipeline(stack, jsii.String("One"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("rhel9")})
	})
	if after := len(*stack.Node().Children()); after != before {
		t.Errorf("the failed pipeline left %d children in the stack", after-before)
	}
	gi.NewGoldenImagePipeline(stack, jsii.String("Two"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("rhel9")})
}

// Image Builder names must not depend on where the stack sits: an
// environment moved from direct deploys into a pipeline stage keeps its
// recipe name, so image ARNs, lifecycle tags and event rules still match.
func TestNamesAreTheSameInAnAppAndInAStage(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	direct := awscdk.NewStack(app, jsii.String("GoldenAmi-prod"), &awscdk.StackProps{Env: testEnv})
	stage := awscdk.NewStage(app, jsii.String("Pipeline"), &awscdk.StageProps{Env: testEnv})
	staged := awscdk.NewStack(stage, jsii.String("GoldenAmi"), &awscdk.StackProps{StackName: jsii.String("GoldenAmi-prod")})
	a := gi.NewGoldenImagePipeline(direct, jsii.String("al2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	b := gi.NewGoldenImagePipeline(staged, jsii.String("al2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	if *a.RecipeName != "goldenami-prod-al2023" || *b.RecipeName != *a.RecipeName {
		t.Errorf("recipe names %q (app) and %q (stage), want both goldenami-prod-al2023", *a.RecipeName, *b.RecipeName)
	}
}
