package amimonitor_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/amimonitor"
	"github.com/platform-eng/golden-ami/internal/cdktest"
	"github.com/platform-eng/golden-ami/internal/contract"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

const al2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

func newStack(t *testing.T) awscdk.Stack {
	return awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
}

func hasProps(t *testing.T, tmpl assertions.Template, typ string, props map[string]interface{}) {
	t.Helper()
	cdktest.Check(t, typ, func() { tmpl.HasResourceProperties(jsii.String(typ), props) })
}

func statementLike(sid string, fields map[string]interface{}) assertions.Matcher {
	fields["Sid"] = sid
	return assertions.Match_ObjectLike(&fields)
}

func TestDefaultsWithAnSSMSource(t *testing.T) {
	stack := newStack(t)
	m := amimonitor.NewUpstreamMonitor(stack, jsii.String("Monitor"), &amimonitor.UpstreamMonitorProps{SourceParameterName: jsii.String(al2023)})
	tmpl := assertions.Template_FromStack(stack, nil)

	hasProps(t, tmpl, "AWS::SSM::Parameter", map[string]interface{}{
		"Name": "/golden-ami/upstream/test-monitor-98d5b9ba", "DataType": "aws:ec2:image", "Value": "{{resolve:ssm:" + al2023 + "}}",
		"Description": "Upstream AMI seed; the upstream monitor replaces it",
	})
	hasProps(t, tmpl, "AWS::Events::Rule", map[string]interface{}{
		"ScheduleExpression": "rate(1 hour)",
		"Targets": []interface{}{map[string]interface{}{
			"RetryPolicy": map[string]interface{}{"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600},
		}},
	})
	hasProps(t, tmpl, "AWS::Lambda::Function", map[string]interface{}{
		"Runtime": "provided.al2023", "Architectures": []interface{}{"arm64"}, "ReservedConcurrentExecutions": 1,
		"Environment": map[string]interface{}{"Variables": map[string]interface{}{
			"SSM_PARAMETER_NAME":    map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^MonitorParameter"))},
			"SOURCE_PARAMETER_NAME": al2023,
		}},
	})
	hasProps(t, tmpl, "AWS::IAM::ManagedPolicy", map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
		statementLike("MaintainUpstreamParameter", map[string]interface{}{
			"Action": []interface{}{"ssm:AddTagsToResource", "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:ListTagsForResource", "ssm:PutParameter"},
			"Resource": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{
				"arn:aws:ssm:us-east-1:111111111111:parameter", map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^MonitorParameter"))},
			}}},
		}),
		statementLike("DescribeImages", map[string]interface{}{"Action": "ec2:DescribeImages", "Resource": "*"}),
		statementLike("ReadSourceParameter", map[string]interface{}{"Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-east-1::parameter" + al2023}),
	})}})
	if m.Function == nil || m.Parameter == nil || m.Schedule == nil {
		t.Error("an exported field is nil")
	}
	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		cdktest.NagClean(t, stack)
	})
}

// The trigger builds only versions whose description starts with the
// monitor's marker. CloudFormation writes the seed with the resource's
// description on every update of the resource, so that description must
// not start with it, and must be set: Parameter Store keeps the previous
// description when a write sends none, so a seed written without one after
// a monitor write would look like the monitor's.
func TestSeedDescriptionIsNotTheMonitors(t *testing.T) {
	stack := newStack(t)
	amimonitor.NewUpstreamMonitor(stack, jsii.String("Monitor"), &amimonitor.UpstreamMonitorProps{
		PlatformBranch: jsii.String("Docker running on 64bit Amazon Linux 2023"), ParameterSeed: jsii.String("ami-0123456789abcdef0"),
	})
	params := cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::SSM::Parameter")
	if len(params) != 1 {
		t.Fatalf("%d parameters, want 1", len(params))
	}
	for id, p := range params {
		props, _ := p["Properties"].(map[string]interface{})
		d, _ := props["Description"].(string)
		if d == "" || strings.HasPrefix(d, contract.UpstreamDescriptionPrefix) {
			t.Errorf("%s: Description %q; want one that does not start with %q", id, d, contract.UpstreamDescriptionPrefix)
		}
		if props["Value"] != "ami-0123456789abcdef0" {
			t.Errorf("%s: Value %v, want the seed", id, props["Value"])
		}
	}
}

func TestEverySourceGetsItsOwnEnvironmentAndPermission(t *testing.T) {
	stack := newStack(t)
	param := awsssm.NewStringParameter(stack, jsii.String("Upstream"), &awsssm.StringParameterProps{
		ParameterName: jsii.String("/golden-ami/upstream"), StringValue: jsii.String("ami-0123456789abcdef0"), DataType: awsssm.ParameterDataType_AWS_EC2_IMAGE,
	})
	branch := "Docker running on 64bit Amazon Linux 2023"
	platform := "arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.3.0"
	amimonitor.NewUpstreamMonitor(stack, jsii.String("Branch"), &amimonitor.UpstreamMonitorProps{Parameter: param, PlatformBranch: jsii.String(branch), CheckInterval: awscdk.Duration_Minutes(jsii.Number(15))})
	amimonitor.NewUpstreamMonitor(stack, jsii.String("Platform"), &amimonitor.UpstreamMonitorProps{Parameter: param, PlatformARN: jsii.String(platform)})
	images := amimonitor.NewUpstreamMonitor(stack, jsii.String("Images"), &amimonitor.UpstreamMonitorProps{
		Parameter: param, ImageOwner: jsii.String("amazon"), ImageNamePattern: jsii.String("Windows_Server-2022-English-Full-Base-*"),
		AdditionalTriggers: &[]*awsevents.EventPattern{{Source: jsii.Strings("custom.base-images")}},
	})
	own := amimonitor.NewUpstreamMonitor(stack, jsii.String("Own"), &amimonitor.UpstreamMonitorProps{Parameter: param, SourceParameterName: jsii.String("/team/base-ami")})
	tmpl := assertions.Template_FromStack(stack, nil)

	cdktest.Check(t, "one created parameter", func() { tmpl.ResourceCountIs(jsii.String("AWS::SSM::Parameter"), jsii.Number(1)) })
	hasProps(t, tmpl, "AWS::Lambda::Function", map[string]interface{}{"Environment": map[string]interface{}{"Variables": map[string]interface{}{
		"SSM_PARAMETER_NAME": map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Upstream"))}, "PLATFORM_BRANCH": branch,
	}}})
	hasProps(t, tmpl, "AWS::Lambda::Function", map[string]interface{}{"Environment": map[string]interface{}{"Variables": map[string]interface{}{"PLATFORM_ARN": platform}}})
	hasProps(t, tmpl, "AWS::Lambda::Function", map[string]interface{}{"Environment": map[string]interface{}{"Variables": map[string]interface{}{
		"IMAGE_OWNER": "amazon", "IMAGE_NAME_PATTERN": "Windows_Server-2022-English-Full-Base-*",
	}}})
	hasProps(t, tmpl, "AWS::Events::Rule", map[string]interface{}{"ScheduleExpression": "rate(15 minutes)"})
	hasProps(t, tmpl, "AWS::Events::Rule", map[string]interface{}{"EventPattern": map[string]interface{}{"source": []interface{}{"custom.base-images"}}})
	if len(images.Triggers) != 1 {
		t.Errorf("%d additional triggers, want 1", len(images.Triggers))
	}
	policy := func(sid string, fields map[string]interface{}) {
		t.Helper()
		hasProps(t, tmpl, "AWS::IAM::ManagedPolicy", map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{statementLike(sid, fields)})}})
	}
	policy("ReadPlatformBranch", map[string]interface{}{
		"Action":   []interface{}{"elasticbeanstalk:DescribePlatformVersion", "elasticbeanstalk:ListPlatformVersions"},
		"Resource": "arn:aws:elasticbeanstalk:us-east-1::platform/" + branch + "/*",
	})
	policy("ReadPlatform", map[string]interface{}{"Action": "elasticbeanstalk:DescribePlatformVersion", "Resource": platform})
	policy("ReadSourceParameter", map[string]interface{}{"Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-east-1:111111111111:parameter/team/base-ami"})
	tj := cdktest.TemplateJSON(t, stack)
	for id, p := range cdktest.ResourcesOfType(tj, "AWS::IAM::ManagedPolicy") {
		doc, _ := json.Marshal(p)
		if strings.HasPrefix(id, "Images") && strings.Contains(string(doc), "elasticbeanstalk") {
			t.Errorf("the EC2-image monitor may call Elastic Beanstalk: %s", id)
		}
	}
	if own.Parameter != param {
		t.Error("a given Parameter must be used as is")
	}
	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		cdktest.NagClean(t, stack)
	})
}

func TestInvalidPropsFailBeforeAnythingIsDefined(t *testing.T) {
	stack := newStack(t)
	src := jsii.String(al2023)
	upstream := jsii.String("/golden-ami/upstream")
	// Imported into a stack of its own, so this stack stays empty.
	other := newStack(t)
	imported := awsssm.StringParameter_FromStringParameterName(other, jsii.String("Upstream"), upstream)
	badlyNamed := awsssm.StringParameter_FromStringParameterName(other, jsii.String("BadlyNamed"), jsii.String("/golden ami"))
	branch := "Docker running on 64bit Amazon Linux 2023"
	for _, tc := range []struct {
		test  string
		props amimonitor.UpstreamMonitorProps
		want  string
	}{
		{"TestFailsWithoutASource", amimonitor.UpstreamMonitorProps{},
			"amimonitor: source has 0 sources set (want exactly one of SourceParameterName, PlatformBranch, PlatformARN, or ImageOwner with ImageNamePattern)"},
		{"TestFailsWithTwoSources", amimonitor.UpstreamMonitorProps{SourceParameterName: src, PlatformBranch: jsii.String("b")},
			"amimonitor: source has 2 sources set (want exactly one of SourceParameterName, PlatformBranch, PlatformARN, or ImageOwner with ImageNamePattern)"},
		{"TestFailsWhenImageOwnerComesAlone", amimonitor.UpstreamMonitorProps{ImageOwner: jsii.String("amazon"), ParameterSeed: jsii.String("ami-12345678")},
			"amimonitor: ImageOwner/ImageNamePattern must be set together"},
		{"TestFailsWhenImageOwnerIsInvalid", amimonitor.UpstreamMonitorProps{ImageOwner: jsii.String("me"), ImageNamePattern: jsii.String("x*"), ParameterSeed: jsii.String("ami-12345678")},
			`amimonitor: ImageOwner "me" is not an image owner (want "amazon", "self", "aws-marketplace", "aws-backup-vault" or a 12-digit account id)`},
		{"TestFailsWhenPlatformARNIsInvalid", amimonitor.UpstreamMonitorProps{PlatformARN: jsii.String("arn:aws:ec2:::x"), ParameterSeed: jsii.String("ami-12345678")},
			`amimonitor: PlatformARN "arn:aws:ec2:::x" is not an Elastic Beanstalk platform version ARN`},
		{"TestFailsWhenParameterNameIsUnderAWS", amimonitor.UpstreamMonitorProps{SourceParameterName: src, ParameterName: jsii.String("/aws/service/web/upstream")},
			`amimonitor: ParameterName "/aws/service/web/upstream" is under AWS's reserved /aws tree (readable, but no account can create or write a parameter there)`},
		{"TestFailsWhenSourceParameterIsInvalid", amimonitor.UpstreamMonitorProps{SourceParameterName: jsii.String("al2023")},
			`amimonitor: SourceParameterName "al2023" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{"TestFailsWhenANonSSMSourceHasNoSeed", amimonitor.UpstreamMonitorProps{PlatformBranch: jsii.String("b")},
			"amimonitor: ParameterSeed is required to create the parameter when the source is not an SSM parameter"},
		{"TestFailsWhenSeedIsNotAnAMI", amimonitor.UpstreamMonitorProps{SourceParameterName: src, ParameterSeed: jsii.String("latest")},
			`amimonitor: ParameterSeed "latest" is neither an AMI id nor a "{{resolve:ssm:...}}" dynamic reference`},
		// The monitor function reads an empty variable as unset, so it would
		// refuse these at every cold start.
		{"TestFailsWhenImageNamePatternIsEmpty", amimonitor.UpstreamMonitorProps{ImageOwner: jsii.String("amazon"), ImageNamePattern: jsii.String(""), ParameterSeed: jsii.String("ami-12345678")},
			`amimonitor: ImageOwner "amazon" and ImageNamePattern "" must both be non-empty (the monitor function reads an empty value as unset)`},
		{"TestFailsWhenImageOwnerIsEmpty", amimonitor.UpstreamMonitorProps{ImageOwner: jsii.String(""), ImageNamePattern: jsii.String("al2023-ami-*"), ParameterSeed: jsii.String("ami-12345678")},
			`amimonitor: ImageOwner "" and ImageNamePattern "al2023-ami-*" must both be non-empty (the monitor function reads an empty value as unset)`},
		{"TestFailsWhenSourceIsParameterName", amimonitor.UpstreamMonitorProps{SourceParameterName: upstream, ParameterName: upstream},
			`amimonitor: SourceParameterName "/golden-ami/upstream" is also ParameterName (the monitor would copy the parameter onto itself)`},
		{"TestFailsWhenSourceIsTheGivenParameter", amimonitor.UpstreamMonitorProps{SourceParameterName: upstream, Parameter: imported},
			`amimonitor: SourceParameterName "/golden-ami/upstream" is also the name of Parameter (the monitor would copy the parameter onto itself)`},
		{"TestFailsWhenTheGivenParameterHasABadName", amimonitor.UpstreamMonitorProps{SourceParameterName: src, Parameter: badlyNamed},
			`amimonitor: Parameter name "/golden ami" is not an SSM parameter name (want 1 to 2048 letters, digits, ".", "_", "-" or "/")`},
		{"TestFailsWhenPlatformBranchHasSurroundingSpace", amimonitor.UpstreamMonitorProps{PlatformBranch: jsii.String(branch + " "), ParameterSeed: jsii.String("ami-12345678")},
			`amimonitor: PlatformBranch "Docker running on 64bit Amazon Linux 2023 " has leading or trailing whitespace (an Elastic Beanstalk branch name has none, so no platform version would match)`},
		{"TestFailsWhenIntervalIsNotWholeMinutes", amimonitor.UpstreamMonitorProps{SourceParameterName: src, CheckInterval: awscdk.Duration_Seconds(jsii.Number(90))},
			"amimonitor: CheckInterval 1 minute 30 seconds is not a whole number of minutes (want e.g. 2 minutes: EventBridge schedules run at whole-minute rates)"},
		{"TestFailsWhenIntervalIsNotWholeSeconds", amimonitor.UpstreamMonitorProps{SourceParameterName: src, CheckInterval: awscdk.Duration_Millis(jsii.Number(1500))},
			"amimonitor: CheckInterval 1 second 500 millis is shorter than EventBridge's 1 minute minimum"},
		{"TestFailsWhenIntervalIsTooShort", amimonitor.UpstreamMonitorProps{SourceParameterName: src, CheckInterval: awscdk.Duration_Seconds(jsii.Number(30))},
			"amimonitor: CheckInterval 30 seconds is shorter than EventBridge's 1 minute minimum"},
	} {
		t.Run(tc.test, func(t *testing.T) {
			props := tc.props
			if got := cdktest.ExpectPanic(t, func() { amimonitor.NewUpstreamMonitor(stack, jsii.String("M"), &props) }); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if n := len(*stack.Node().Children()); n != 0 {
				t.Errorf("the stack has %d children after a failed validation", n)
			}
		})
	}
}
