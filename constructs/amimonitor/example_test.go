package amimonitor_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/amimonitor"
	"github.com/platform-eng/golden-ami/constructs/goldenimage"
)

// A golden image that follows an Elastic Beanstalk platform branch: the
// monitor checks the branch every 30 minutes and writes its newest AMI into
// the pipeline's own upstream-AMI parameter.
func ExampleNewUpstreamMonitor() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Images"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	pipeline := goldenimage.NewGoldenImagePipeline(stack, jsii.String("Docker"), &goldenimage.GoldenImagePipelineProps{
		ImageName: jsii.String("docker-al2023"),
	})
	amimonitor.NewUpstreamMonitor(stack, jsii.String("Upstream"), &amimonitor.UpstreamMonitorProps{
		Parameter:      pipeline.UpstreamParameter,
		PlatformBranch: jsii.String("Docker running on 64bit Amazon Linux 2023"),
		CheckInterval:  awscdk.Duration_Minutes(jsii.Number(30)),
	})

	tmpl := assertions.Template_FromStack(stack, nil)
	// The monitor writes the pipeline's parameter; it defines none of its own.
	fmt.Println("SSM parameters:", len(*tmpl.FindResources(jsii.String("AWS::SSM::Parameter"), nil)))
	for _, r := range *tmpl.FindResources(jsii.String("AWS::Lambda::Function"), nil) {
		env := (*r)["Properties"].(map[string]interface{})["Environment"].(map[string]interface{})["Variables"].(map[string]interface{})
		fmt.Println("PLATFORM_BRANCH =", env["PLATFORM_BRANCH"])
	}
	for _, r := range *tmpl.FindResources(jsii.String("AWS::Events::Rule"), nil) {
		fmt.Println("schedule:", (*r)["Properties"].(map[string]interface{})["ScheduleExpression"])
	}
	// On Elastic Beanstalk, the function may only read this one branch's versions.
	for _, r := range *tmpl.FindResources(jsii.String("AWS::IAM::ManagedPolicy"), nil) {
		for _, s := range (*r)["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			if s := s.(map[string]interface{}); s["Sid"] == "ReadPlatformBranch" {
				fmt.Println("may:", s["Action"])
			}
		}
	}
	// Output:
	// SSM parameters: 1
	// PLATFORM_BRANCH = Docker running on 64bit Amazon Linux 2023
	// schedule: rate(30 minutes)
	// may: [elasticbeanstalk:ListPlatformVersions elasticbeanstalk:DescribePlatformVersion]
}
