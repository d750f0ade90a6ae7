// Command schemaviolation is an app that must not synthesize: it is set up
// the way main.go sets up the platform (the template validation registered
// right after NewApp, the repository's cdk.json context) and defines one
// resource that CDK accepts but the CloudFormation schema does not (an SQS
// queue whose VisibilityTimeout is above the 43200-second maximum).
//
// .ci/run synthesizes it with the pinned CDK CLI and expects the synth to
// fail on that violation: the CLI asks apps to leave validation failures
// to it (@aws-cdk/core:failSynthOnValidationErrors=false), so this shows
// that `cdk synth` itself, not only an in-process synth, fails on a
// schema violation.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/compliance"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	compliance.ValidateTemplates(app)
	stack := awscdk.NewStack(app, jsii.String("SchemaViolation"), nil)
	awscdk.NewCfnResource(stack, jsii.String("Queue"), &awscdk.CfnResourceProps{
		Type:       jsii.String("AWS::SQS::Queue"),
		Properties: &map[string]interface{}{"VisibilityTimeout": 99999},
	})
	app.Synth(nil)
}
