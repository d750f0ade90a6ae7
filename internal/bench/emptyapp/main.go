// Command emptyapp is the baseline for scripts/bench-synth.sh: a CDK app
// with one empty stack, so the benchmark can separate the fixed cost of
// starting jsii and loading aws-cdk-lib from the cost of our constructs.
// The stack holds one AWS::CloudFormation::WaitConditionHandle, the
// smallest valid template: CloudFormation (and the schema validation the
// app runs with) rejects a template without resources. It registers the
// template validation the way main.go does (compliance.ValidateTemplates).
package main

import (
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/compliance"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if os.Getenv("CDK_VALIDATION") != "false" { // as main.go does, so the baseline differs only in content
		compliance.ValidateTemplates(app)
	}
	stack := awscdk.NewStack(app, jsii.String("Empty"), nil)
	awscdk.NewCfnWaitConditionHandle(stack, jsii.String("Placeholder"), nil)
	app.Synth(nil)
}
