// Command emptyapp is the baseline for scripts/bench-synth.sh: a CDK app
// with one empty stack, so the benchmark can separate the fixed cost of
// starting jsii and loading aws-cdk-lib from the cost of our constructs.
// The stack holds one AWS::CloudFormation::WaitConditionHandle, the
// smallest valid template: CloudFormation (and the schema validation the
// app runs with) rejects a template without resources.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Empty"), nil)
	awscdk.NewCfnWaitConditionHandle(stack, jsii.String("Placeholder"), nil)
	app.Synth(nil)
}
