package pipelinetrigger_test

import (
	"fmt"
	"reflect"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/pipelinetrigger"
)

// A golden image rebuilt whenever its upstream-AMI parameter changes, with
// an operator role allowed to replay a change by invoking the trigger.
func ExampleNewPipelineTrigger() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Images"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	pipeline := goldenimage.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &goldenimage.GoldenImagePipelineProps{
		ImageName: jsii.String("al2023"),
	})
	trigger := pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{
		Pipeline: pipeline,
	})
	operator := awsiam.NewRole(stack, jsii.String("Operator"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	trigger.GrantInvoke(operator)

	tmpl := assertions.Template_FromStack(stack, nil)
	for _, r := range *tmpl.FindResources(jsii.String("AWS::Events::Rule"), nil) {
		pattern := (*r)["Properties"].(map[string]interface{})["EventPattern"].(map[string]interface{})
		detail := pattern["detail"].(map[string]interface{})
		fmt.Println(pattern["source"], pattern["detail-type"], detail["operation"])
		// The rule matches the pipeline's own upstream-AMI parameter.
		fmt.Println("watches", *pipeline.UpstreamParameter.Node().Path()+":",
			reflect.DeepEqual(detail["name"], []interface{}{stack.Resolve(pipeline.UpstreamParameter.ParameterName())}))
	}
	for _, r := range *tmpl.FindResources(jsii.String("AWS::Lambda::Function"), nil) {
		fmt.Println("reserved concurrency:", (*r)["Properties"].(map[string]interface{})["ReservedConcurrentExecutions"])
	}
	operatorPolicy := tmpl.FindResources(jsii.String("AWS::IAM::Policy"), map[string]interface{}{
		"Properties": map[string]interface{}{"Roles": []interface{}{stack.Resolve(operator.RoleName())}},
	})
	for _, r := range *operatorPolicy {
		for _, s := range (*r)["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			fmt.Println("operator may:", s.(map[string]interface{})["Action"])
		}
	}
	// Output:
	// [aws.ssm] [Parameter Store Change] [Create Update]
	// watches Images/AL2023/UpstreamParameter: true
	// reserved concurrency: 1
	// operator may: lambda:InvokeFunction
}
