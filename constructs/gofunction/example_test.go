package gofunction_test

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/gofunction"
)

// A Go function built by import path, given one permission of its own and
// run every hour by an EventBridge rule.
func ExampleNewGoFunction() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Monitoring"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	source := "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	fn := gofunction.NewGoFunction(stack, jsii.String("Monitor"), &gofunction.GoFunctionProps{
		ImportPath: jsii.String("github.com/platform-eng/golden-ami/lambdas/amimonitor"),
		Environment: &map[string]*string{
			"SSM_PARAMETER_NAME":    jsii.String("/golden-ami/al2023/upstream"),
			"SOURCE_PARAMETER_NAME": jsii.String(source),
		},
		Timeout: awscdk.Duration_Seconds(jsii.Number(30)),
	})
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadSource"),
		Actions:   jsii.Strings("ssm:GetParameter"),
		Resources: jsii.Strings("arn:aws:ssm:us-east-1::parameter" + source),
	}))
	awsevents.NewRule(stack, jsii.String("Hourly"), &awsevents.RuleProps{
		Schedule: awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(1))),
		Targets:  &[]awsevents.IRuleTarget{fn.RuleTarget(nil)},
	})

	fmt.Println(*fn.Function.Runtime().Name(), *fn.Function.Architecture().Name())
	tmpl := assertions.Template_FromStack(stack, nil)
	function := properties(tmpl, "AWS::Lambda::Function")[0]
	fmt.Println("SOURCE_PARAMETER_NAME =", function["Environment"].(map[string]interface{})["Variables"].(map[string]interface{})["SOURCE_PARAMETER_NAME"])
	fmt.Println("timeout:", function["Timeout"], "reserved concurrency:", function["ReservedConcurrentExecutions"])
	// Every permission, the construct's and ours, is in Policy; X-Ray's,
	// on *, in a policy of their own.
	for _, p := range properties(tmpl, "AWS::IAM::ManagedPolicy") {
		if strings.HasPrefix(p["Description"].(string), "Permissions of") {
			for _, s := range p["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
				fmt.Println("policy:", s.(map[string]interface{})["Sid"])
			}
		}
	}
	fmt.Println("dead-letter queues:", len(properties(tmpl, "AWS::SQS::Queue")), "alarms:", len(properties(tmpl, "AWS::CloudWatch::Alarm")))
	// Output:
	// provided.al2023 arm64
	// SOURCE_PARAMETER_NAME = /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
	// timeout: 30 reserved concurrency: 1
	// policy: WriteOwnLogs
	// policy: SendDeadLetters
	// policy: UseOwnKey
	// policy: ReadSource
	// dead-letter queues: 1 alarms: 2
}

// properties returns the Properties of every resource of type typ in tmpl.
func properties(tmpl assertions.Template, typ string) []map[string]interface{} {
	var out []map[string]interface{}
	for _, r := range *tmpl.FindResources(jsii.String(typ), nil) {
		out = append(out, (*r)["Properties"].(map[string]interface{}))
	}
	return out
}
