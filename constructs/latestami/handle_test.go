package latestami_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/latestami"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

func TestLatestAMIHandle(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Consumer"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("333333333333"), Region: jsii.String("eu-west-1")},
	})
	own := latestami.LatestAMIFromParameterName("/golden-ami/prod/al2023/latest")
	shared := latestami.LatestAMIFromParameterARN("arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/prod/al2023/latest")

	// Deploy-time resolution: a CloudFormation parameter of the SSM AMI type.
	deployTime := own.MachineImage().GetImage(stack)
	launchTime := shared.MachineImageAtLaunch().GetImage(stack)
	if got := *launchTime.ImageId; got != "resolve:ssm:arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/prod/al2023/latest" {
		t.Errorf("launch-time image id = %s", got)
	}
	if stack.Resolve(shared.ResolveAtLaunch()) != "resolve:ssm:arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/prod/al2023/latest" {
		t.Errorf("ResolveAtLaunch = %v", stack.Resolve(shared.ResolveAtLaunch()))
	}
	awscdk.NewCfnOutput(stack, jsii.String("Ami"), &awscdk.CfnOutputProps{Value: own.CfnParameter(stack, jsii.String("GoldenAmi")).ValueAsString()})
	role := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil)})
	own.GrantRead(role)
	shared.GrantRead(role)
	awsec2.NewCfnInstance(stack, jsii.String("Instance"), &awsec2.CfnInstanceProps{ImageId: deployTime.ImageId, InstanceType: jsii.String("t4g.micro")})

	tmpl := assertions.Template_FromStack(stack, nil)
	ssmTyped := map[string]interface{}{"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": "/golden-ami/prod/al2023/latest"}
	cdktest.Check(t, "CfnParameter defines the named deploy-time parameter", func() {
		tmpl.HasParameter(jsii.String("GoldenAmi"), ssmTyped)
	})
	// GoldenAmi above matches any search by type and default, so the
	// instance itself must name the parameter MachineImage made.
	cdktest.Check(t, "MachineImage resolves through a deploy-time parameter of its own", func() {
		imageParam := assertions.NewCapture(nil)
		tmpl.HasResourceProperties(jsii.String("AWS::EC2::Instance"), map[string]interface{}{"ImageId": map[string]interface{}{"Ref": imageParam}})
		if id := *imageParam.AsString(); id == "GoldenAmi" {
			panic("the instance's ImageId refers to CfnParameter's GoldenAmi, not to a parameter of MachineImage")
		}
		tmpl.HasParameter(imageParam.AsString(), ssmTyped)
		if n := len(*tmpl.FindParameters(jsii.String("*"), ssmTyped)); n != 2 {
			panic(fmt.Sprintf("%d SSM-typed parameters for the name, want 2 (GoldenAmi and MachineImage's)", n))
		}
	})
	cdktest.Check(t, "GrantRead", func() {
		// CDK merges the two grants into one statement.
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
			map[string]interface{}{"Action": []interface{}{"ssm:GetParameter", "ssm:GetParameters"}, "Resource": []interface{}{
				"arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/prod/al2023/latest",
				map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, ":ssm:", map[string]interface{}{"Ref": "AWS::Region"}, ":", map[string]interface{}{"Ref": "AWS::AccountId"}, ":parameter/golden-ami/prod/al2023/latest"}}},
			}},
		}}})
	})
	if latestami.ParameterType != "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>" {
		t.Errorf("ParameterType = %s", latestami.ParameterType)
	}
}

func TestLatestAMIFromRecorderReadsEveryRegion(t *testing.T) {
	stack, pipeline := newPipeline(t)
	r := latestami.NewLatestAMIRecorder(stack, jsii.String("Latest"), &latestami.LatestAMIRecorderProps{Pipeline: pipeline})
	handle := latestami.LatestAMIFromRecorder(r)
	role := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil)})
	handle.GrantRead(role)
	if *handle.ParameterName != "/golden-ami/al2023/latest" {
		t.Errorf("ParameterName = %s", *handle.ParameterName)
	}
	cdktest.Check(t, "GrantRead covers every distribution region", func() {
		assertions.Template_FromStack(stack, nil).HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]interface{}{
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
				"Resource": assertions.Match_ArrayWith(&[]interface{}{"arn:aws:ssm:us-west-2:111111111111:parameter/golden-ami/al2023/latest"}),
			}}},
		})
	})
}

// A Windows pipeline's handle gives Windows machine images (OS type and
// PowerShell user data) from every method; a handle by name gives Linux
// unless told otherwise.
func TestLatestAMIOperatingSystem(t *testing.T) {
	stack, _ := newPipeline(t)
	windows := gi.NewGoldenImagePipeline(stack, jsii.String("Win"), &gi.GoldenImagePipelineProps{
		ImageName: jsii.String("windows2022"), Platform: gi.PlatformWindows,
	})
	r := latestami.NewLatestAMIRecorder(stack, jsii.String("WinLatest"), &latestami.LatestAMIRecorderProps{Pipeline: windows})
	shared := latestami.LatestAMIFromParameterARN("arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/windows2022/latest")
	shared.OperatingSystem = awsec2.OperatingSystemType_WINDOWS
	for _, tc := range []struct {
		name   string
		handle *latestami.LatestAMI
		want   awsec2.OperatingSystemType
		script string
	}{
		{"from a Windows recorder", latestami.LatestAMIFromRecorder(r), awsec2.OperatingSystemType_WINDOWS, "<powershell>"},
		{"shared by ARN, set to Windows", shared, awsec2.OperatingSystemType_WINDOWS, "<powershell>"},
		{"by name, default", latestami.LatestAMIFromParameterName("/golden-ami/al2023/latest"), awsec2.OperatingSystemType_LINUX, "#!/bin/bash"},
	} {
		images := map[string]awsec2.IMachineImage{"MachineImageAtDeploy": tc.handle.MachineImageAtDeploy()}
		if tc.handle.ParameterARN == nil {
			images["MachineImage"], images["MachineImageAtLaunch"] = tc.handle.MachineImage(), tc.handle.MachineImageAtLaunch()
		}
		for method, image := range images {
			cfg := image.GetImage(stack)
			if cfg.OsType != tc.want || !strings.HasPrefix(*cfg.UserData.Render(), tc.script) {
				t.Errorf("%s: %s gives OS %s and user data %q, want %s and %s...", tc.name, method, cfg.OsType, *cfg.UserData.Render(), tc.want, tc.script)
			}
		}
	}
}

func TestLatestAMIRejectsBadReferences(t *testing.T) {
	for _, tc := range []struct {
		test string
		fn   func()
		want string
	}{
		{"TestFailsWhenNameIsRelative", func() { latestami.LatestAMIFromParameterName("golden/latest") },
			`latestami: parameter name "golden/latest" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{"TestFailsToResolveASharedARNAtDeploy", func() {
			latestami.LatestAMIFromParameterARN("arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/latest").ResolveAtDeploy()
		}, "latestami: arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/latest is shared by ARN, which a {{resolve:ssm:...}} dynamic reference cannot name; use MachineImageAtDeploy or CfnParameter"},
		{"TestFailsWhenARNIsNotAParameter", func() { latestami.LatestAMIFromParameterARN("arn:aws:s3:::bucket/latest") },
			`latestami: "arn:aws:s3:::bucket/latest" is not an SSM parameter ARN (want arn:aws:ssm:<region>:<account>:parameter/<name>)`},
	} {
		t.Run(tc.test, func(t *testing.T) {
			if got := cdktest.ExpectPanic(t, tc.fn); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
