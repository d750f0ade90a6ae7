package latestami_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/latestami"
)

// The platform team records every finished golden AMI in a latest-AMI
// parameter, in each region the pipeline distributes to, and lets a
// deployment role read it.
func ExampleNewLatestAMIRecorder() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Images"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	pipeline := goldenimage.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &goldenimage.GoldenImagePipelineProps{
		ImageName:           jsii.String("al2023"),
		DistributionRegions: jsii.Strings("eu-west-1"),
	})
	recorder := latestami.NewLatestAMIRecorder(stack, jsii.String("Latest"), &latestami.LatestAMIRecorderProps{
		Pipeline: pipeline,
	})
	deployer := awsiam.NewRole(stack, jsii.String("Deployer"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	recorder.GrantRead(deployer)

	fmt.Println(*recorder.ParameterName)
	for _, region := range *recorder.Regions {
		fmt.Println("written in", *region)
	}
	// With the default TriggerNotification, the function subscribes to the pipeline's topic.
	tmpl := assertions.Template_FromStack(stack, nil)
	for _, r := range *tmpl.FindResources(jsii.String("AWS::SNS::Subscription"), nil) {
		fmt.Println("subscription:", (*r)["Properties"].(map[string]interface{})["Protocol"])
	}
	deployerPolicy := tmpl.FindResources(jsii.String("AWS::IAM::Policy"), map[string]interface{}{
		"Properties": map[string]interface{}{"Roles": []interface{}{stack.Resolve(deployer.RoleName())}},
	})
	for _, r := range *deployerPolicy {
		for _, s := range (*r)["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			s := s.(map[string]interface{})
			fmt.Println("deployer may:", s["Action"], "on", len(s["Resource"].([]interface{})), "parameters")
		}
	}
	// Output:
	// /golden-ami/al2023/latest
	// written in us-east-1
	// written in eu-west-1
	// subscription: lambda
	// deployer may: [ssm:GetParameter ssm:GetParameters] on 2 parameters
}

// Another team launches the latest golden AMI: its launch template holds
// the AMI id CloudFormation resolves at each deployment, and its instance
// role may read the parameter.
func ExampleLatestAMIFromParameterName() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Service"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	golden := latestami.LatestAMIFromParameterName("/golden-ami/al2023/latest")
	role := awsiam.NewRole(stack, jsii.String("InstanceRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
	})
	awsec2.NewLaunchTemplate(stack, jsii.String("Template"), &awsec2.LaunchTemplateProps{
		MachineImage:  golden.MachineImageAtDeploy(),
		InstanceType:  awsec2.NewInstanceType(jsii.String("t3.small")),
		Role:          role,
		RequireImdsv2: jsii.Bool(true),
	})
	golden.GrantRead(role)

	tmpl := assertions.Template_FromStack(stack, nil)
	for _, r := range *tmpl.FindResources(jsii.String("AWS::EC2::LaunchTemplate"), nil) {
		data := (*r)["Properties"].(map[string]interface{})["LaunchTemplateData"].(map[string]interface{})
		fmt.Println("ImageId:", data["ImageId"])
	}
	for _, r := range *tmpl.FindResources(jsii.String("AWS::IAM::Policy"), nil) {
		for _, s := range (*r)["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			fmt.Println("role may:", s.(map[string]interface{})["Action"])
		}
	}
	// Output:
	// ImageId: {{resolve:ssm:/golden-ami/al2023/latest}}
	// role may: [ssm:GetParameter ssm:GetParameters]
}
