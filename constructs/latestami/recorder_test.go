package latestami_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/latestami"
	"github.com/platform-eng/golden-ami/internal/cdktest"
	"github.com/platform-eng/golden-ami/internal/compliance"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func newPipeline(t *testing.T) (awscdk.Stack, *gi.GoldenImagePipeline) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	return stack, gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{
		ImageName: jsii.String("al2023"), DistributionRegions: jsii.Strings("us-west-2", "eu-west-1"),
	})
}

var pipelineARN = map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023Pipeline")), "Arn"}}

func TestRecorderSubscribesToThePipelineTopic(t *testing.T) {
	stack, pipeline := newPipeline(t)
	r := latestami.NewLatestAMIRecorder(stack, jsii.String("Latest"), &latestami.LatestAMIRecorderProps{Pipeline: pipeline})
	reader := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	r.GrantRead(reader)
	tmpl := assertions.Template_FromStack(stack, nil)
	cdktest.Check(t, "the pipeline's key, no key of its own", func() { tmpl.ResourceCountIs(jsii.String("AWS::KMS::Key"), jsii.Number(1)) })
	if r.Function.EncryptionKey != pipeline.EncryptionKey {
		t.Error("the recorder function does not use the pipeline's key by default")
	}

	// CDK sorts a statement's resources.
	params := []interface{}{
		"arn:aws:ssm:eu-west-1:111111111111:parameter/golden-ami/al2023/latest",
		"arn:aws:ssm:us-east-1:111111111111:parameter/golden-ami/al2023/latest",
		"arn:aws:ssm:us-west-2:111111111111:parameter/golden-ami/al2023/latest",
	}
	cdktest.Check(t, "subscription with a dead-letter queue", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]interface{}{
			"Protocol":      "lambda",
			"TopicArn":      map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^AL2023Topic"))},
			"Endpoint":      map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^LatestFunction")), "Arn"}},
			"RedrivePolicy": map[string]interface{}{"deadLetterTargetArn": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^LatestFunctionDeadLetterQueue")), "Arn"}}},
		})
	})
	cdktest.Check(t, "no rule with the notification trigger", func() { tmpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(0)) })
	cdktest.Check(t, "function environment", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Runtime": "provided.al2023", "Architectures": []interface{}{"arm64"},
			"Timeout": 180, // room to wait for Parameter Store's validation in every region
			"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectEquals(&map[string]interface{}{
				"SSM_PARAMETER_NAME": "/golden-ami/al2023/latest", "IMAGE_PIPELINE_ARN": pipelineARN, "GOMAXPROCS": "1",
			})},
		})
	})
	cdktest.Check(t, "role writes the parameter in every distribution region and reads this pipeline's images, nothing more", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
			map[string]interface{}{"Sid": "WriteOwnLogs"}, map[string]interface{}{"Sid": "SendDeadLetters"},
			map[string]interface{}{"Sid": "UseOwnKey"},
			map[string]interface{}{"Sid": "WriteLatestAMIParameterInEveryRegion", "Resource": params,
				"Action": []interface{}{"ssm:AddTagsToResource", "ssm:GetParameterHistory", "ssm:ListTagsForResource", "ssm:PutParameter"}},
			map[string]interface{}{"Sid": "ValidateAMIParameters", "Action": "ec2:DescribeImages", "Resource": "*"},
			// The message only names the image; the function records what
			// GetImage reports.
			map[string]interface{}{"Sid": "ReadPipelineImages", "Action": "imagebuilder:GetImage",
				"Resource": "arn:aws:imagebuilder:us-east-1:111111111111:image/test-al2023/*"},
		}}})
	})
	cdktest.Check(t, "GrantRead", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]interface{}{
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
				"Action": []interface{}{"ssm:GetParameter", "ssm:GetParameters"}, "Resource": params,
			}}},
		})
	})
	if got := *r.ParameterARN(jsii.String("eu-west-1")); got != params[0] {
		t.Errorf("ParameterARN(eu-west-1) = %s", got)
	}
	t.Run("cdk-nag finds nothing in the recorder", func(t *testing.T) {
		compliance.Apply(r, false)
		for _, f := range cdktest.NagFindings(t, stack) {
			t.Error(f)
		}
	})
}

func TestRecorderOnEventBridge(t *testing.T) {
	stack, pipeline := newPipeline(t)
	latestami.NewLatestAMIRecorder(stack, jsii.String("Latest"), &latestami.LatestAMIRecorderProps{
		Pipeline: pipeline, Trigger: latestami.TriggerEventBridge, ParameterName: jsii.String("/team/golden/latest"),
		ParameterTier: awsssm.ParameterTier_ADVANCED,
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	cdktest.Check(t, "no subscription", func() { tmpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0)) })
	cdktest.Check(t, "the function writes the advanced tier, in Parameter Store's spelling", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectEquals(&map[string]interface{}{
				"SSM_PARAMETER_NAME": "/team/golden/latest", "IMAGE_PIPELINE_ARN": assertions.Match_AnyValue(),
				"SSM_PARAMETER_TIER": "Advanced", "GOMAXPROCS": "1",
			})},
		})
	})
	cdktest.Check(t, "rule matches only this pipeline's AVAILABLE images", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"EventPattern": assertions.Match_ObjectEquals(&map[string]interface{}{
				"source":      []interface{}{"aws.imagebuilder"},
				"detail-type": []interface{}{"EC2 Image Builder Image State Change"},
				"resources":   []interface{}{map[string]interface{}{"prefix": "arn:aws:imagebuilder:us-east-1:111111111111:image/test-al2023/"}},
				"detail":      map[string]interface{}{"state": map[string]interface{}{"status": []interface{}{"AVAILABLE"}}},
			}),
		})
	})
	cdktest.Check(t, "GetImage on this pipeline's images", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "WriteLatestAMIParameterInEveryRegion", "Resource": assertions.Match_ArrayWith(&[]interface{}{
				"arn:aws:ssm:us-east-1:111111111111:parameter/team/golden/latest"})}),
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "ReadPipelineImages", "Action": "imagebuilder:GetImage",
				"Resource": "arn:aws:imagebuilder:us-east-1:111111111111:image/test-al2023/*"}),
		})}})
	})
	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		cdktest.NagClean(t, stack)
	})
}

func TestInvalidProps(t *testing.T) {
	stack, pipeline := newPipeline(t)
	imported := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("Imported"), &gi.GoldenImagePipelineAttributes{
		PipelineARN: jsii.String("arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/web-base"), RecipeName: jsii.String("web-base"),
	})
	for _, tc := range []struct {
		test  string
		props latestami.LatestAMIRecorderProps
		want  string
	}{
		{"TestFailsWithoutAPipeline", latestami.LatestAMIRecorderProps{}, "latestami: Pipeline is required"},
		{"TestFailsWhenParameterNameIsInvalid", latestami.LatestAMIRecorderProps{Pipeline: pipeline, ParameterName: jsii.String("latest")},
			`latestami: ParameterName "latest" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{"TestFailsWhenParameterNameIsUnderAWS", latestami.LatestAMIRecorderProps{Pipeline: pipeline, ParameterName: jsii.String("/aws/service/golden/latest")},
			`latestami: ParameterName "/aws/service/golden/latest" is under AWS's reserved /aws tree (readable, but no account can create or write a parameter there)`},
		{"TestFailsWhenParameterTierIsUnknown", latestami.LatestAMIRecorderProps{Pipeline: pipeline, ParameterTier: "Advanced"},
			`latestami: ParameterTier "Advanced" is not a parameter tier (want awsssm.ParameterTier_STANDARD, _ADVANCED or _INTELLIGENT_TIERING)`},
		{"TestFailsWhenTriggerIsUnknown", latestami.LatestAMIRecorderProps{Pipeline: pipeline, Trigger: "webhook"},
			`latestami: Trigger "webhook" is not a trigger (want TriggerNotification "notification" or TriggerEventBridge "eventbridge")`},
		{"TestFailsWhenAnImportedPipelineHasNoTopic", latestami.LatestAMIRecorderProps{Pipeline: imported},
			`latestami: Trigger "notification" needs the pipeline's Topic, and pipeline web-base has none (imported without one): use TriggerEventBridge, or give goldenimage.GoldenImagePipelineAttributes its Topic`},
	} {
		t.Run(tc.test, func(t *testing.T) {
			props := tc.props
			if got := cdktest.ExpectPanic(t, func() { latestami.NewLatestAMIRecorder(stack, jsii.String("R"), &props) }); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// Two EventBridge recorders on one pipeline (say, a second parameter for
// another team): each has its own rule. The first keeps the rule id
// "RecordLatestAMI", so a deployed recorder's rule is not replaced.
func TestTwoEventBridgeRecordersOnOnePipeline(t *testing.T) {
	stack, pipeline := newPipeline(t)
	first := latestami.NewLatestAMIRecorder(stack, jsii.String("Latest"), &latestami.LatestAMIRecorderProps{
		Pipeline: pipeline, Trigger: latestami.TriggerEventBridge,
	})
	second := latestami.NewLatestAMIRecorder(stack, jsii.String("Mirror"), &latestami.LatestAMIRecorderProps{
		Pipeline: pipeline, Trigger: latestami.TriggerEventBridge, ParameterName: jsii.String("/team/golden/latest"),
	})
	if got := *first.Rule.Node().Path(); got != "Test/AL2023/RecordLatestAMI" {
		t.Errorf("first rule at %s, want Test/AL2023/RecordLatestAMI", got)
	}
	if first.Rule.Node().Path() == second.Rule.Node().Path() {
		t.Fatalf("both rules at %s", *first.Rule.Node().Path())
	}
	rules := cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::Events::Rule")
	targets := map[string]string{} // function logical id -> rule logical id
	for id, r := range rules {
		ts, _ := r["Properties"].(map[string]interface{})["Targets"].([]interface{})
		for _, tg := range ts {
			arn, _ := tg.(map[string]interface{})["Arn"].(map[string]interface{})
			getAtt, _ := arn["Fn::GetAtt"].([]interface{})
			if len(getAtt) > 0 {
				targets[fmt.Sprint(getAtt[0])] = id
			}
		}
	}
	if len(rules) != 2 || len(targets) != 2 {
		t.Errorf("rules %v targeting %v; want two rules, one per recorder function", len(rules), targets)
	}
	for fn := range targets {
		if !strings.HasPrefix(fn, "LatestFunction") && !strings.HasPrefix(fn, "MirrorFunction") {
			t.Errorf("a rule targets %s, want a recorder function", fn)
		}
	}
}

// A pipeline defined elsewhere: the recorder works from its attributes
// alone (EventBridge, since it was imported without a topic), and defines
// a key of its own.
func TestRecorderOnAnImportedPipeline(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	arn := "arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/web-base"
	pipeline := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("WebBase"), &gi.GoldenImagePipelineAttributes{
		PipelineARN: jsii.String(arn), RecipeName: jsii.String("web-base-recipe"), DistributionRegions: jsii.Strings("us-east-1", "eu-west-1"),
	})
	r := latestami.NewLatestAMIRecorder(stack, jsii.String("Latest"), &latestami.LatestAMIRecorderProps{Pipeline: pipeline, Trigger: latestami.TriggerEventBridge})
	if *r.ParameterName != "/golden-ami/web-base/latest" {
		t.Errorf("ParameterName = %q, want /golden-ami/<the pipeline's name>/latest", *r.ParameterName)
	}
	tmpl := assertions.Template_FromStack(stack, nil)
	cdktest.Check(t, "the function records this pipeline", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{
				"SSM_PARAMETER_NAME": "/golden-ami/web-base/latest", "IMAGE_PIPELINE_ARN": arn,
			})},
		})
	})
	cdktest.Check(t, "rule matches the imported recipe's AVAILABLE images", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"EventPattern": assertions.Match_ObjectLike(&map[string]interface{}{
				"resources": []interface{}{map[string]interface{}{"prefix": "arn:aws:imagebuilder:us-east-1:111111111111:image/web-base-recipe/"}},
			}),
		})
	})
	cdktest.Check(t, "writes both regions, reads the recipe's images", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "WriteLatestAMIParameterInEveryRegion", "Resource": []interface{}{
				"arn:aws:ssm:eu-west-1:111111111111:parameter/golden-ami/web-base/latest", // CDK sorts them
				"arn:aws:ssm:us-east-1:111111111111:parameter/golden-ami/web-base/latest",
			}}),
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "ReadPipelineImages", "Resource": "arn:aws:imagebuilder:us-east-1:111111111111:image/web-base-recipe/*"}),
		})}})
	})
	cdktest.Check(t, "a key of its own", func() { tmpl.ResourceCountIs(jsii.String("AWS::KMS::Key"), jsii.Number(1)) })
	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		cdktest.NagClean(t, stack)
	})
}

// A parameter name may be 1011 characters long; the function's description,
// which names it, is cut to Lambda's 256.
func TestLongParameterNameCutsTheDescription(t *testing.T) {
	stack, pipeline := newPipeline(t)
	name := "/team/" + strings.Repeat("n", 600) + "/latest"
	latestami.NewLatestAMIRecorder(stack, jsii.String("Latest"), &latestami.LatestAMIRecorderProps{
		Pipeline: pipeline, Trigger: latestami.TriggerEventBridge, ParameterName: jsii.String(name),
	})
	fns := *assertions.Template_FromStack(stack, nil).FindResources(jsii.String("AWS::Lambda::Function"), nil)
	if len(fns) != 1 {
		t.Fatalf("%d functions, want 1", len(fns))
	}
	for _, fn := range fns {
		d, _ := (*fn)["Properties"].(map[string]interface{})["Description"].(string)
		if want := "Records the latest AMI of golden image al2023 in /team/nnn"; len([]rune(d)) != 256 || !strings.HasPrefix(d, want) {
			t.Errorf("Description = %q (%d characters), want 256 starting %q", d, len([]rune(d)), want)
		}
	}
}
