package goldenimage_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/goldenimage"
)

// A patched, STIG-hardened Amazon Linux 2023 image, copied to a second
// region and shared with a workload account.
func ExampleNewGoldenImagePipeline() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Images"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	pipeline := goldenimage.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &goldenimage.GoldenImagePipelineProps{
		ImageName:            jsii.String("al2023"),
		StigLevel:            goldenimage.StigHigh,
		DistributionRegions:  jsii.Strings("eu-west-1"),
		DistributionAccounts: jsii.Strings("222222222222"),
	})
	fmt.Println(*pipeline.RecipeName)
	for _, region := range *pipeline.DistributionRegions {
		fmt.Println(*region)
	}
	// Output:
	// images-al2023
	// us-east-1
	// eu-west-1
}

// A pipeline built outside this app, so that a LatestAMIRecorder or a
// PipelineTrigger can work for it, and a function may start it.
func ExampleGoldenImagePipelineFromAttributes() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Images"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	pipeline := goldenimage.GoldenImagePipelineFromAttributes(stack, jsii.String("WebBase"), &goldenimage.GoldenImagePipelineAttributes{
		PipelineARN: jsii.String("arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/web-base"),
		RecipeName:  jsii.String("web-base"),
	})
	fmt.Println(*pipeline.ImageName)                             // the pipeline's name, when not given
	fmt.Println(*(*pipeline.DistributionRegions)[0])             // the stack's region, when not given
	fmt.Println(pipeline.Pipeline == nil, pipeline.Topic == nil) // nothing is defined
	// Output:
	// web-base
	// us-east-1
	// true true
}
