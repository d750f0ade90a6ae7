package stacks

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/regioninfo"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/validate"
)

func validEnv() Environment {
	return Environment{
		Name:     "test",
		Account:  "123456789012",
		Region:   "us-east-1",
		Schedule: "cron(0 4 ? * MON *)",
		Images: []Image{{
			Name: "al2023", Platform: gi.PlatformLinux, Architecture: gi.ArchitectureX86_64, StigLevel: gi.StigMedium,
			Upstream: Upstream{SourceParameterName: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"},
		}},
	}
}

func TestShippedEnvironmentsAreValid(t *testing.T) {
	envs := Environments()
	if err := ValidateAll(envs); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range envs {
		names[e.Name] = true
	}
	if !names["dev"] || !names["prod"] {
		t.Errorf("want dev and prod examples, got %v", names)
	}
}

func TestInvalidEnvironmentsFailWithTheFieldAndValue(t *testing.T) {
	for _, tc := range []struct {
		test   string
		mutate func(*Environment)
		want   string
	}{
		{"TestFailsWhenAccountIsNot12Digits", func(e *Environment) { e.Account = "12345678901" },
			`environment "test": Account "12345678901" is not an AWS account id (want 12 digits)`},
		{"TestFailsWhenRegionIsMalformed", func(e *Environment) { e.Region = "us-east" },
			`environment "test": Region "us-east" is not an AWS region (want e.g. "us-east-1")`},
		{"TestFailsWhenRegionIsMisspelt", func(e *Environment) { e.Region = "us-esat-1" },
			`environment "test": Region "us-esat-1" is not a region aws-cdk-lib knows (did you mean "us-east-1"?)`},
		{"TestFailsWhenRegionIsUnknown", func(e *Environment) { e.Region = "xx-nowhere-9" },
			`environment "test": Region "xx-nowhere-9" is not a region this module's aws-cdk-lib knows (a newer region needs a newer aws-cdk-lib, and internal/validate's copy of its table)`},
		{"TestFailsWhenDistributionRegionIsInAnotherPartition", func(e *Environment) { e.DistributionRegions = []string{"eu-west-1", "cn-north-1"} },
			`environment "test": DistributionRegions[1] "cn-north-1" is in partition aws-cn, but the home Region us-east-1 is in aws (images are distributed within one partition)`},
		{"TestFailsWhenDistributionRegionIsMalformed", func(e *Environment) { e.DistributionRegions = []string{"eu-west-1", "EU-WEST-2"} },
			`environment "test": DistributionRegions[1] "EU-WEST-2" is not an AWS region (want e.g. "us-east-1")`},
		{"TestFailsWhenDistributionRegionIsHome", func(e *Environment) { e.DistributionRegions = []string{"us-east-1"} },
			`environment "test": DistributionRegions[0] "us-east-1" is the home Region, which always receives the images`},
		{"TestFailsWhenDistributionAccountIsInvalid", func(e *Environment) { e.DistributionAccounts = []string{"abc"} },
			`environment "test": DistributionAccounts[0] "abc" is not an AWS account id (want 12 digits)`},
		{"TestFailsWhenCronIsInvalid", func(e *Environment) { e.Schedule = "cron(0 4 * * *)" },
			`environment "test": Schedule "cron(0 4 * * *)" is not a valid cron expression: it has 5 fields, want 6 (minutes hours day-of-month month day-of-week year) (want e.g. "cron(0 4 ? * MON *)")`},
		{"TestFailsWhenBuildGroupsComeWithoutASubnet", func(e *Environment) { e.BuildSecurityGroupIDs = []string{"sg-0123456789abcdef0"} },
			`environment "test": BuildSecurityGroupIDs ["sg-0123456789abcdef0"] is set but BuildSubnetID is empty (want both, or neither for the default VPC)`},
		{"TestFailsWhenBuildSubnetComesWithoutGroups", func(e *Environment) { e.BuildSubnetID = "subnet-0123456789abcdef0" },
			`environment "test": BuildSubnetID "subnet-0123456789abcdef0" is set but BuildSecurityGroupIDs is empty (want both: without groups the instances get the VPC's default security group)`},
		{"TestFailsWhenBuildSubnetIsMalformed", func(e *Environment) {
			e.BuildSubnetID, e.BuildSecurityGroupIDs = "subnet-xyz", []string{"sg-0123456789abcdef0"}
		}, `environment "test": BuildSubnetID "subnet-xyz" is not a subnet id (want e.g. "subnet-0123456789abcdef0")`},
		{"TestFailsWhenABuildGroupIsMalformedOrRepeated", func(e *Environment) {
			e.BuildSubnetID, e.BuildSecurityGroupIDs = "subnet-01234567", []string{"sg-0123456789abcdef0", "vpc-01234567", "sg-0123456789abcdef0"}
		}, `environment "test": BuildSecurityGroupIDs[1] "vpc-01234567" is not a security group id (want e.g. "sg-0123456789abcdef0")` + "\n" +
			`environment "test": BuildSecurityGroupIDs [2] "sg-0123456789abcdef0" duplicates [0]`},
		{"TestFailsWithSeventeenBuildGroups", func(e *Environment) {
			e.BuildSubnetID = "subnet-01234567"
			for i := range 17 {
				e.BuildSecurityGroupIDs = append(e.BuildSecurityGroupIDs, fmt.Sprintf("sg-012345%02d", i))
			}
		}, `environment "test": BuildSecurityGroupIDs has 17 groups (want 1 to 16, EC2's most per network interface; 5 unless the account's quota was raised)`},
		{"TestFailsWhenImageListIsEmpty", func(e *Environment) { e.Images = nil },
			`environment "test": Images is empty (want at least one image)`},
		{"TestFailsWhenImageNamesRepeat", func(e *Environment) { e.Images = append(e.Images, e.Images[0]) },
			`environment "test": Images names [1] "al2023" duplicates [0]`},
		{"TestFailsWhenPlatformArchitecturePairIsUnknown", func(e *Environment) {
			e.Images[0].Platform, e.Images[0].Architecture = gi.PlatformWindows, gi.ArchitectureArm64
		}, `environment "test": Images[0].Platform/Architecture "Windows"/"arm64" is not a supported pair: "arm64" is not supported for platform "Windows" (want "x86_64")`},
		{"TestFailsWhenPlatformIsUnknown", func(e *Environment) { e.Images[0].Platform = "Solaris" },
			`environment "test": Images[0].Platform/Architecture "Solaris"/"x86_64" is not a supported pair: "Solaris" is not a platform (want "Linux" or "Windows")`},
		{"TestFailsWhenStigLevelDoesNotExist", func(e *Environment) { e.Images[0].StigLevel = "critical" },
			`environment "test": Images[0].StigLevel "critical" is not a STIG level (want "low", "medium" or "high")`},
		{"TestFailsWhenUpstreamParameterIsOfAnotherArchitecture", func(e *Environment) {
			e.Images[0].Architecture, e.Images[0].InstanceTypes = gi.ArchitectureArm64, []string{"m7g.large"}
		}, `environment "test": Images[0].Upstream.SourceParameterName "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" names x86_64 images, but the image is Linux/arm64`},
		{"TestFailsWhenUpstreamBranchIsOfAnotherPlatform", func(e *Environment) {
			e.Images[0].Platform, e.Images[0].Upstream = gi.PlatformWindows, Upstream{PlatformBranch: "Docker running on 64bit Amazon Linux 2023"}
		}, `environment "test": Images[0].Upstream.PlatformBranch "Docker running on 64bit Amazon Linux 2023" names Linux images, but the image is Windows/x86_64`},
		{"TestFailsWhenUpstreamImageNameIsOfAnotherPlatform", func(e *Environment) {
			e.Images[0].Upstream = Upstream{ImageOwner: "amazon", ImageNamePattern: "Windows_Server-2022-English-Full-Base-*"}
		}, `environment "test": Images[0].Upstream.ImageNamePattern "Windows_Server-2022-English-Full-Base-*" names Windows images, but the image is Linux/x86_64`},
		{"TestFailsWhenAnUbuntuUpstreamHasNoRootDevice", func(e *Environment) {
			e.Images[0].Upstream = Upstream{SourceParameterName: "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id"}
		}, `environment "test": Images[0].RootDeviceName is empty, so the recipe encrypts /dev/xvda (Amazon Linux's root device), but the upstream "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id" looks like a parent whose root device is /dev/sda1 (want "/dev/sda1", or the parent's root device)`},
		{"TestFailsWhenRootDeviceIsMalformed", func(e *Environment) { e.Images[0].RootDeviceName = "sda1" },
			`environment "test": Images[0].RootDeviceName "sda1" is not a device name (want e.g. "/dev/xvda" or "/dev/sda1")`},
		{"TestFailsWhenInstanceTypeDoesNotFitArchitecture", func(e *Environment) { e.Images[0].InstanceTypes = []string{"m7g.large"} },
			`environment "test": Images[0].InstanceTypes[0] "m7g.large" is an arm64 (Graviton) instance type, not x86_64 (want e.g. "m7i.large")`},
		{"TestFailsWhenImageNameIsInvalid", func(e *Environment) { e.Images[0].Name = "AL2023" },
			`environment "test": Images[0].Name "AL2023" is not a valid name (want 2-40 lowercase letters, digits or hyphens, starting with a letter)`},
		{"TestFailsWhenUpstreamHasTwoSources", func(e *Environment) {
			e.Images[0].Upstream.PlatformBranch = "Docker running on 64bit Amazon Linux 2023"
		},
			`environment "test": Images[0].Upstream sets 2 sources [SourceParameterName PlatformBranch] (want exactly one of SourceParameterName, PlatformBranch, PlatformARN, or ImageOwner with ImageNamePattern)`},
		{"TestFailsWhenUpstreamHasNoSource", func(e *Environment) { e.Images[0].Upstream = Upstream{} },
			`environment "test": Images[0].Upstream sets 0 sources [] (want exactly one of SourceParameterName, PlatformBranch, PlatformARN, or ImageOwner with ImageNamePattern)`},
		{"TestFailsWhenImageOwnerHasNoPattern", func(e *Environment) { e.Images[0].Upstream = Upstream{ImageOwner: "amazon"} },
			`environment "test": Images[0].Upstream.ImageNamePattern is empty (want a name filter such as "Windows_Server-2022-English-Full-Base-*")`},
		{"TestFailsWhenImageOwnerIsInvalid", func(e *Environment) { e.Images[0].Upstream = Upstream{ImageOwner: "someone", ImageNamePattern: "x-*"} },
			`environment "test": Images[0].Upstream.ImageOwner "someone" is not an image owner (want "amazon", "self", "aws-marketplace", "aws-backup-vault" or a 12-digit account id)`},
		{"TestFailsWhenPlatformARNIsInvalid", func(e *Environment) {
			e.Images[0].Upstream = Upstream{PlatformARN: "arn:aws:elasticbeanstalk:us-east-1::platform/Docker"}
		},
			`environment "test": Images[0].Upstream.PlatformARN "arn:aws:elasticbeanstalk:us-east-1::platform/Docker" is not an Elastic Beanstalk platform version ARN (want e.g. "arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.3.0")`},
		{"TestFailsWhenSourceParameterIsInvalid", func(e *Environment) { e.Images[0].Upstream = Upstream{SourceParameterName: "al2023"} },
			`environment "test": Images[0].Upstream.SourceParameterName "al2023" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{"TestFailsWhenUpstreamCheckIntervalIsTooShort", func(e *Environment) { e.UpstreamCheckInterval = 30 * time.Second },
			`environment "test": UpstreamCheckInterval 30s is not a whole number of minutes of at least 1 (EventBridge's minimum rate)`},
		{"TestFailsWhenStartConditionIsUnknown", func(e *Environment) { e.StartCondition = "ALWAYS" },
			`environment "test": StartCondition "ALWAYS" is not a start condition (want StartOnSchedule "EXPRESSION_MATCH_ONLY" or StartWhenDependenciesUpdated "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE")`},
		{"TestFailsWhenTimezoneIsNotIANA", func(e *Environment) { e.ScheduleTimezone = "Mars/Olympus" },
			`environment "test": ScheduleTimezone "Mars/Olympus" is not an IANA time zone (want e.g. "Europe/Berlin")`},
		{"TestFailsWhenDistributionAccountIsOwnAccount", func(e *Environment) { e.DistributionAccounts = []string{"123456789012"} },
			`environment "test": DistributionAccounts[0] "123456789012" is the environment's own account, which owns the images already`},
		{"TestFailsWhenNotificationEmailsRepeat", func(e *Environment) { e.NotificationEmails = []string{"ops@example.com", "Ops@Example.com"} },
			`environment "test": NotificationEmails [1] "ops@example.com" duplicates [0] (compared case-insensitively; each address subscribes once)`},
		{"TestFailsWhenImageNamesDifferOnlyInHyphens", func(e *Environment) {
			second := e.Images[0]
			e.Images[0].Name, second.Name = "foo-1", "foo1"
			e.Images = append(e.Images, second)
		}, `environment "test": Images[1].Name "foo1" clashes with Images[0].Name "foo-1": both make the id "foo1" (want names that differ in more than hyphens, case or a -monitor, -trigger or -latest suffix)`},
		{"TestFailsWhenImageNameIsAnotherWithASuffix", func(e *Environment) {
			second := e.Images[0]
			second.Name = "al2023-monitor"
			e.Images = append(e.Images, second)
		}, `environment "test": Images[1].Name "al2023-monitor" clashes with Images[0].Name "al2023": both make the id "al2023-monitor" (want names that differ in more than hyphens, case or a -monitor, -trigger or -latest suffix)`},
		{"TestFailsWhenSlackSecretIsInAnotherRegion", func(e *Environment) {
			e.SlackWebhookSecretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-AbCdEf"
		}, `environment "test": SlackWebhookSecretARN "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-AbCdEf" is in region eu-west-1, not the environment's region us-east-1`},
		{"TestFailsWhenSlackSecretIsInAnotherAccountAndRegion", func(e *Environment) {
			e.SlackWebhookSecretARN = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:slack-AbCdEf"
		}, `environment "test": SlackWebhookSecretARN "arn:aws:secretsmanager:eu-west-1:111111111111:secret:slack-AbCdEf" is in account 111111111111, not 123456789012` + "\n" +
			`environment "test": SlackWebhookSecretARN "arn:aws:secretsmanager:eu-west-1:111111111111:secret:slack-AbCdEf" is in region eu-west-1, not the environment's region us-east-1`},
		{"TestFailsWhenInstanceTypesRepeat", func(e *Environment) { e.Images[0].InstanceTypes = []string{"m7i.large", "m6i.large", "m7i.large"} },
			`environment "test": Images[0].InstanceTypes [2] "m7i.large" duplicates [0]`},
		{"TestFailsWhenTimezoneIsSetWithoutSchedule", func(e *Environment) { e.Schedule, e.ScheduleTimezone = "", "Europe/Berlin" },
			`environment "test": ScheduleTimezone "Europe/Berlin" is set but Schedule is empty (want a Schedule, or no ScheduleTimezone: it applies only to the schedule)`},
		{"TestFailsWhenStartConditionIsSetWithoutSchedule", func(e *Environment) { e.Schedule, e.StartCondition = "", gi.StartWhenDependenciesUpdated },
			`environment "test": StartCondition "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE" is set but Schedule is empty (want a Schedule, or no StartCondition: it applies only to schedule ticks; a build started by the upstream trigger or by hand always runs)`},
		{"TestFailsWhenNameIsInvalid", func(e *Environment) { e.Name = "Prod" },
			`environment "Prod": Name "Prod" is not a valid name (want 2-20 lowercase letters, digits or hyphens, starting with a letter)`},
		{"TestFailsWhenSlackSecretARNIsOfAnotherPartition", func(e *Environment) {
			e.SlackWebhookSecretARN = "arn:aws-cn:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf"
		}, `environment "test": SlackWebhookSecretARN "arn:aws-cn:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf" is in partition aws-cn, but region us-east-1 is in aws`},
		{"TestFailsWhenSlackSecretARNIsMalformed", func(e *Environment) {
			e.SlackWebhookSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack"
		}, `environment "test": SlackWebhookSecretARN "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack" is not a complete Secrets Manager secret ARN (want arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)`},
		{"TestFailsWhenPermissionsBoundaryIsAnARN", func(e *Environment) {
			e.PermissionsBoundary = "arn:aws:iam::123456789012:policy/GoldenAmiPermissionsBoundary"
		}, `environment "test": PermissionsBoundary "arn:aws:iam::123456789012:policy/GoldenAmiPermissionsBoundary" is an ARN; want the policy's name (the boundary is the policy of that name in the stack's own account)`},
		{"TestFailsWhenPermissionsBoundaryIsNotAPolicyName", func(e *Environment) { e.PermissionsBoundary = "golden ami boundary" },
			`environment "test": PermissionsBoundary "golden ami boundary" is not an IAM policy name (1-128 letters, digits and +=,.@_-)`},
		{"TestFailsWhenDistributionAccountsRepeat", func(e *Environment) {
			e.DistributionAccounts = []string{"111111111111", "222222222222", "111111111111"}
		}, `environment "test": DistributionAccounts [2] "111111111111" duplicates [0]`},
		{"TestFailsWhenDistributionRegionsRepeat", func(e *Environment) { e.DistributionRegions = []string{"eu-west-1", "eu-west-1"} },
			`environment "test": DistributionRegions [1] "eu-west-1" duplicates [0]`},
		{"TestFailsWhenUpstreamCheckIntervalIsNotWholeMinutes", func(e *Environment) { e.UpstreamCheckInterval = 90 * time.Second },
			`environment "test": UpstreamCheckInterval 1m30s is not a whole number of minutes of at least 1 (EventBridge's minimum rate)`},
		{"TestFailsWhenNotificationEmailIsMalformed", func(e *Environment) { e.NotificationEmails = []string{"ops@example.com", "ops@example"} },
			`environment "test": NotificationEmails[1] "ops@example" is not an email address`},
		{"TestFailsWhenPlatformBranchHasSurroundingSpaces", func(e *Environment) {
			e.Images[0].Upstream = Upstream{PlatformBranch: " Docker running on 64bit Amazon Linux 2023 "}
		}, `environment "test": Images[0].Upstream.PlatformBranch " Docker running on 64bit Amazon Linux 2023 " has leading or trailing spaces`},
	} {
		t.Run(tc.test, func(t *testing.T) {
			e := validEnv()
			tc.mutate(&e)
			err := e.Validate()
			if err == nil || err.Error() != tc.want {
				t.Errorf("Validate()\n got %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestFailsWhenEnvironmentAndImageNamesRunTogether(t *testing.T) {
	ab, a := validEnv(), validEnv()
	ab.Name, ab.Images[0].Name = "ab-cd", "ef"
	a.Name, a.Images[0].Name = "ab", "cd-ef"
	err := ValidateAll([]Environment{ab, a})
	want := `environments: environment "ab-cd" image "ef" and environment "ab" image "cd-ef" both name their Image Builder resources "goldenami-ab-cd-ef" in account 123456789012, us-east-1 (want environment and image names that do not run together)`
	if err == nil || err.Error() != want {
		t.Errorf("ValidateAll = %v\nwant %s", err, want)
	}
	a.Region = "eu-west-1" // another region: no clash
	if err := ValidateAll([]Environment{ab, a}); err != nil {
		t.Errorf("in different regions: %v", err)
	}
}

func TestFailsWhenEnvironmentNamesRepeat(t *testing.T) {
	err := ValidateAll([]Environment{validEnv(), validEnv()})
	if want := `environments: Name [1] "test" duplicates [0]`; err == nil || err.Error() != want {
		t.Errorf("ValidateAll = %v, want %s", err, want)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	e := validEnv()
	e.Account, e.Region = "1", "x"
	err := e.Validate()
	want := "environment \"test\": Account \"1\" is not an AWS account id (want 12 digits)\n" +
		"environment \"test\": Region \"x\" is not an AWS region (want e.g. \"us-east-1\")"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestSelect(t *testing.T) {
	dev, prod := validEnv(), validEnv()
	dev.Name, prod.Name = "dev", "prod"
	envs := []Environment{dev, prod}

	all, err := Select(envs, "")
	if err != nil || len(all) != 2 {
		t.Errorf("Select(all) = %d envs, %v", len(all), err)
	}
	one, err := Select(envs, "prod")
	if err != nil || len(one) != 1 || one[0].Name != "prod" {
		t.Errorf("Select(prod) = %v, %v", one, err)
	}
	if _, err := Select(envs, "staging"); err == nil || err.Error() != `environments: env "staging" is not defined (want one of dev, prod)` {
		t.Errorf("Select(staging) error = %v", err)
	}
	prod.Account = "bad"
	if _, err := Select([]Environment{dev, prod}, "dev"); err == nil || !strings.Contains(err.Error(), `environment "prod": Account "bad"`) {
		t.Errorf("Select must validate every environment, even unselected ones; got %v", err)
	}
}

func TestUpstreamKind(t *testing.T) {
	for u, want := range map[Upstream]string{
		{SourceParameterName: "/x"}:                   "ssm-parameter",
		{PlatformBranch: "b"}:                         "elastic-beanstalk-branch",
		{PlatformARN: "a"}:                            "elastic-beanstalk-platform",
		{ImageOwner: "amazon", ImageNamePattern: "x"}: "ec2-image-name",
	} {
		if got := u.Kind(); got != want {
			t.Errorf("%+v.Kind() = %q, want %q", u, got, want)
		}
	}
}

// The app's context: strings from -c, JSON values from cdk.json or
// CDK_CONTEXT_JSON. Anything else fails, naming the key and the value, so a
// mistyped -c pipeline never deploys the environments around the
// pipeline's approval.
func TestParseContext(t *testing.T) {
	for _, tc := range []struct {
		name          string
		env, pipeline interface{}
		want          ContextOptions
		wantErr       string
	}{
		{name: "nothing: every environment"},
		{name: "one environment", env: "dev", want: ContextOptions{Env: "dev"}},
		{name: "pipeline from -c", pipeline: "true", want: ContextOptions{Pipeline: true}},
		{name: "pipeline as JSON true", pipeline: true, want: ContextOptions{Pipeline: true}},
		{name: "pipeline spelled True", pipeline: "True", want: ContextOptions{Pipeline: true}},
		{name: "pipeline false", env: "prod", pipeline: "false", want: ContextOptions{Env: "prod"}},
		{name: "pipeline not a boolean", pipeline: "yes", wantErr: `context: pipeline "yes" is not a boolean (want true or false)`},
		{name: "pipeline a number", pipeline: float64(1), wantErr: `context: pipeline 1 (float64) is not a boolean (want true or false)`},
		{name: "env a number", env: float64(1), wantErr: `context: env 1 (float64) is not an environment name (want e.g. -c env=dev)`},
		{name: "both", env: "dev", pipeline: "true", wantErr: `context: env "dev" and pipeline true are both set (the pipeline deploys every environment; want one of them)`},
		{name: "every problem at once", env: true, pipeline: "on",
			wantErr: "context: env true (bool) is not an environment name (want e.g. -c env=dev)\ncontext: pipeline \"on\" is not a boolean (want true or false)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseContext(tc.env, tc.pipeline)
			switch {
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Errorf("error = %v\nwant  %s", err, tc.wantErr)
			case tc.wantErr == "" && (err != nil || got != tc.want):
				t.Errorf("ParseContext = %+v, %v; want %+v", got, err, tc.want)
			case tc.wantErr != "" && got != (ContextOptions{}):
				t.Errorf("options %+v returned with an error", got)
			}
		})
	}
}

// prod's monthly build runs on Patch Tuesday (the second Tuesday) or after
// it, never before, in every month of 2025 to 2034.
func TestProdPatchBuildIsNotBeforePatchTuesday(t *testing.T) {
	var prod Environment
	for _, e := range Environments() {
		if e.Name == "prod" {
			prod = e
		}
	}
	m := regexp.MustCompile(`^cron\((\d+) (\d+) \? \* (MON|TUE|WED|THU|FRI|SAT|SUN)#([1-5]) \*\)$`).FindStringSubmatch(prod.Schedule)
	if m == nil || prod.ScheduleTimezone != "" {
		t.Fatalf("prod Schedule %q (time zone %q) is not of the form cron(M H ? * DAY#N *) in UTC, which this test reads", prod.Schedule, prod.ScheduleTimezone)
	}
	days := map[string]time.Weekday{"SUN": time.Sunday, "MON": time.Monday, "TUE": time.Tuesday, "WED": time.Wednesday, "THU": time.Thursday, "FRI": time.Friday, "SAT": time.Saturday}
	nth := func(year int, month time.Month, day time.Weekday, n int) time.Time {
		first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
		return first.AddDate(0, 0, (int(day)-int(first.Weekday())+7)%7+7*(n-1))
	}
	n, _ := strconv.Atoi(m[4])
	for year := 2025; year < 2035; year++ {
		for month := time.January; month <= time.December; month++ {
			build, patchTuesday := nth(year, month, days[m[3]], n), nth(year, month, time.Tuesday, 2)
			if build.Before(patchTuesday) {
				t.Errorf("%s: the build on %s comes before Patch Tuesday %s", prod.Schedule, build.Format("2006-01-02"), patchTuesday.Format("2006-01-02"))
			}
		}
	}
}

// Upstreams the fit and root-device checks must not refuse: a Linux AMI AWS
// publishes under ami-windows-latest, Debian (whose root is /dev/xvda), and
// Ubuntu with its root device named.
func TestValidUpstreamsPass(t *testing.T) {
	for name, img := range map[string]Image{
		"Amazon Linux 2 with mono, under ami-windows-latest": {Upstream: Upstream{SourceParameterName: "/aws/service/ami-windows-latest/amzn2-ami-hvm-2.0.20191217.0-x86_64-gp2-mono"}},
		"Debian":                            {Upstream: Upstream{SourceParameterName: "/aws/service/debian/release/bookworm/latest/amd64"}},
		"Ubuntu with its root device named": {Upstream: Upstream{SourceParameterName: "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id"}, RootDeviceName: "/dev/sda1"},
	} {
		e := validEnv()
		img.Name, img.Platform, img.Architecture, img.StigLevel = "base", gi.PlatformLinux, gi.ArchitectureX86_64, gi.StigMedium
		e.Images = []Image{img}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The regions validation accepts are exactly those of the aws-cdk-lib in
// go.mod, with the same partitions: an upgrade that adds a region fails
// here until internal/validate lists it.
func TestKnownRegionsAreAwsCdkLibs(t *testing.T) {
	want := map[string]string{}
	for _, r := range *regioninfo.RegionInfo_Regions() {
		want[*r.Name()] = *r.Partition()
	}
	got := validate.Regions()
	if len(want) < 30 {
		t.Fatalf("aws-cdk-lib lists %d regions, want its whole table", len(want))
	}
	for name, partition := range want {
		if got[name] != partition {
			t.Errorf("aws-cdk-lib has region %s in partition %s; internal/validate has %q", name, partition, got[name])
		}
		if err := validate.KnownRegion(name); err != nil {
			t.Errorf("aws-cdk-lib's region %s fails validation: %v", name, err)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("internal/validate lists region %s, which aws-cdk-lib does not", name)
		}
	}
}
