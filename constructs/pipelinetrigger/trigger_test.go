package pipelinetrigger_test

import (
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/pipelinetrigger"
	"github.com/platform-eng/golden-ami/internal/cdktest"
	"github.com/platform-eng/golden-ami/internal/compliance"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func TestTrigger(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	pipeline := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	trigger := pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{Pipeline: pipeline})
	operator := awsiam.NewRole(stack, jsii.String("Operator"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	trigger.GrantInvoke(operator)
	tmpl := assertions.Template_FromStack(stack, nil)

	cdktest.Check(t, "the pipeline's key, no key of its own", func() { tmpl.ResourceCountIs(jsii.String("AWS::KMS::Key"), jsii.Number(1)) })
	if trigger.Function.EncryptionKey != pipeline.EncryptionKey {
		t.Error("the trigger function does not use the pipeline's key by default")
	}
	param := map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^AL2023UpstreamParameter"))}
	pipelineARN := map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023Pipeline")), "Arn"}}
	cdktest.Check(t, "rule matches only the parameter's Create and Update", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"EventPattern": assertions.Match_ObjectEquals(&map[string]interface{}{
				"source":      []interface{}{"aws.ssm"},
				"detail-type": []interface{}{"Parameter Store Change"},
				"detail":      map[string]interface{}{"name": []interface{}{param}, "operation": []interface{}{"Create", "Update"}},
			}),
			"Targets": []interface{}{map[string]interface{}{
				"Arn":              map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^TriggerFunction")), "Arn"}},
				"DeadLetterConfig": map[string]interface{}{"Arn": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^TriggerFunctionDeadLetterQueue")), "Arn"}}},
				"RetryPolicy":      map[string]interface{}{"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600},
			}},
		})
	})
	cdktest.Check(t, "function: reserved concurrency 1, arm64, environment", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"ReservedConcurrentExecutions": 1, "Runtime": "provided.al2023", "Architectures": []interface{}{"arm64"},
			"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectEquals(&map[string]interface{}{
				"IMAGE_PIPELINE_ARN": pipelineARN, "SSM_PARAMETER_NAME": param, "GOMAXPROCS": "1",
			})},
		})
	})
	cdktest.Check(t, "role: read the parameter, start the pipeline, nothing else", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
				map[string]interface{}{"Sid": "WriteOwnLogs"}, map[string]interface{}{"Sid": "SendDeadLetters"},
				map[string]interface{}{"Sid": "UseOwnKey"},
				map[string]interface{}{"Sid": "ReadUpstreamParameter", "Action": "ssm:GetParameterHistory", "Resource": map[string]interface{}{
					"Fn::Join": []interface{}{"", []interface{}{"arn:aws:ssm:us-east-1:111111111111:parameter", param}},
				}},
				map[string]interface{}{"Sid": "StartPipeline", "Action": "imagebuilder:StartImagePipelineExecution", "Resource": pipelineARN},
			}},
		})
	})
	cdktest.Check(t, "GrantInvoke", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]interface{}{
			"Roles": []interface{}{map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Operator"))}},
			"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
				"Action": "lambda:InvokeFunction",
			})})},
		})
	})
	t.Run("cdk-nag finds nothing in the trigger", func(t *testing.T) {
		compliance.Apply(trigger, false)
		for _, f := range cdktest.NagFindings(t, stack) {
			t.Error(f)
		}
	})
}

func TestFailsWithoutAPipeline(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), nil)
	got := cdktest.ExpectPanic(t, func() {
		pipelinetrigger.NewPipelineTrigger(stack, jsii.String("T"), &pipelinetrigger.PipelineTriggerProps{})
	})
	if want := "pipelinetrigger: Pipeline is required"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestFailsWhenThePipelineHasNoParameter(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), nil)
	pipeline := gi.NewGoldenImagePipeline(stack, jsii.String("P"), &gi.GoldenImagePipelineProps{
		ImageName: jsii.String("fixed"), ParentImage: gi.ParentImageFromAMIID("ami-0123456789abcdef0"),
	})
	got := cdktest.ExpectPanic(t, func() {
		pipelinetrigger.NewPipelineTrigger(stack, jsii.String("T"), &pipelinetrigger.PipelineTriggerProps{Pipeline: pipeline})
	})
	if want := "pipelinetrigger: Parameter is required: pipeline fixed does not build on an SSM parameter it knows"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A pipeline key imported from elsewhere cannot take the function's
// key-policy statements (CloudWatch Logs, SNS, EventBridge): the function
// gets a key of its own instead.
func TestTriggerOnAnImportedPipelineKeyHasItsOwnKey(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	imported := awskms.Key_FromKeyArn(stack, jsii.String("Imported"), jsii.String("arn:aws:kms:us-east-1:111111111111:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"))
	pipeline := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023"), EncryptionKey: imported})
	trigger := pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{Pipeline: pipeline})
	tmpl := assertions.Template_FromStack(stack, nil)
	cdktest.Check(t, "one key: the trigger's own", func() { tmpl.ResourceCountIs(jsii.String("AWS::KMS::Key"), jsii.Number(1)) })
	if trigger.Function.EncryptionKey == imported {
		t.Error("the trigger function uses the imported key, whose policy it cannot extend")
	}
}

// A pipeline defined elsewhere, imported with its upstream parameter: the
// trigger starts it by ARN and listens to that parameter.
func TestTriggerOnAnImportedPipeline(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	arn := "arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/web-base"
	parameter := awsssm.StringParameter_FromStringParameterName(stack, jsii.String("Upstream"), jsii.String("/web/upstream"))
	pipeline := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("WebBase"), &gi.GoldenImagePipelineAttributes{
		PipelineARN: jsii.String(arn), RecipeName: jsii.String("web-base"), UpstreamParameter: parameter,
	})
	pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{Pipeline: pipeline})
	tmpl := assertions.Template_FromStack(stack, nil)
	cdktest.Check(t, "starts the imported pipeline", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "StartPipeline", "Action": "imagebuilder:StartImagePipelineExecution", "Resource": arn}),
		})}})
	})
	cdktest.Check(t, "on changes of its parameter", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"EventPattern": assertions.Match_ObjectLike(&map[string]interface{}{
				"detail": assertions.Match_ObjectLike(&map[string]interface{}{"name": []interface{}{"/web/upstream"}}),
			}),
		})
	})
	t.Run("an imported pipeline without its parameter needs Parameter", func(t *testing.T) {
		bare := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("Bare"), &gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String(arn), RecipeName: jsii.String("web-base")})
		got := cdktest.ExpectPanic(t, func() {
			pipelinetrigger.NewPipelineTrigger(stack, jsii.String("T2"), &pipelinetrigger.PipelineTriggerProps{Pipeline: bare})
		})
		if want := "pipelinetrigger: Parameter is required: pipeline web-base does not build on an SSM parameter it knows"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}
