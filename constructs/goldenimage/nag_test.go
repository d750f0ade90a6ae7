package goldenimage_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

// Other teams' apps may have no feature flags and environment-agnostic
// stacks, where the partition, region and account of the pipeline's ARNs
// are tokens: its suppressions must still match cdk-nag's findings.
func TestNagCleanInEveryAppSetup(t *testing.T) {
	cdktest.NagCleanInEveryAppSetup(t, "Test", func(t *testing.T, stack awscdk.Stack) {
		gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
		gi.NewGoldenImagePipeline(stack, jsii.String("Windows"), &gi.GoldenImagePipelineProps{
			ImageName: jsii.String("windows"), Platform: gi.PlatformWindows,
			DistributionRegions: jsii.Strings("us-west-2"), DistributionAccounts: jsii.Strings("222222222222"),
		})
		gi.NewGoldenImagePipeline(stack, jsii.String("SharedLogs"), &gi.GoldenImagePipelineProps{
			ImageName: jsii.String("shared-logs"), LogBucket: awss3.Bucket_FromBucketName(stack, jsii.String("Logs"), jsii.String("platform-build-logs")),
		})
	})
}
