package pipelinetrigger_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/pipelinetrigger"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

// Other teams' apps may have no feature flags and environment-agnostic
// stacks, where the partition, region and account of the trigger's ARNs
// are tokens: its suppressions must still match cdk-nag's findings.
func TestNagCleanInEveryAppSetup(t *testing.T) {
	cdktest.NagCleanInEveryAppSetup(t, "Test", func(t *testing.T, stack awscdk.Stack) {
		pipeline := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
		pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{Pipeline: pipeline})
	})
}
