package latestami_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/latestami"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

// Other teams' apps may have no feature flags and environment-agnostic
// stacks, where the partition, region and account of the recorder's ARNs
// are tokens: its suppressions must still match cdk-nag's findings.
func TestNagCleanInEveryAppSetup(t *testing.T) {
	cdktest.NagCleanInEveryAppSetup(t, "Test", func(t *testing.T, stack awscdk.Stack) {
		notified := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{
			ImageName: jsii.String("al2023"), DistributionRegions: jsii.Strings("us-west-2", "eu-west-1"),
		})
		latestami.NewLatestAMIRecorder(stack, jsii.String("Latest"), &latestami.LatestAMIRecorderProps{Pipeline: notified})
		onEvents := gi.NewGoldenImagePipeline(stack, jsii.String("Windows"), &gi.GoldenImagePipelineProps{
			ImageName: jsii.String("windows"), Platform: gi.PlatformWindows,
		})
		latestami.NewLatestAMIRecorder(stack, jsii.String("WindowsLatest"), &latestami.LatestAMIRecorderProps{
			Pipeline: onEvents, Trigger: latestami.TriggerEventBridge,
		})
		imported := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("WebBase"), &gi.GoldenImagePipelineAttributes{
			PipelineARN: jsii.String("arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/web-base"), RecipeName: jsii.String("web-base"),
		})
		latestami.NewLatestAMIRecorder(stack, jsii.String("WebBaseLatest"), &latestami.LatestAMIRecorderProps{
			Pipeline: imported, Trigger: latestami.TriggerEventBridge, ParameterName: jsii.String("/team/web-base/latest"),
		})
	})
}
