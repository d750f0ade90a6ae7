package goldenfleet_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/goldenfleet"
	"github.com/platform-eng/golden-ami/constructs/latestami"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

// Other teams' apps may have no feature flags and environment-agnostic
// stacks, where the partition, region and account of the rollout's ARNs
// are tokens: its suppressions must still match cdk-nag's findings.
func TestNagCleanInEveryAppSetup(t *testing.T) {
	cdktest.NagCleanInEveryAppSetup(t, "Consumer", func(t *testing.T, stack awscdk.Stack) {
		v := vpc(stack)
		goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
			LatestAMI: latestami.LatestAMIFromParameterName(parameter), Vpc: v, InstanceType: awsec2.NewInstanceType(jsii.String("t3.small")),
		})
		goldenfleet.NewGoldenFleet(stack, jsii.String("Shared"), &goldenfleet.GoldenFleetProps{
			LatestAMI: latestami.LatestAMIFromParameterARN("arn:aws:ssm:us-east-1:222222222222:parameter" + parameter),
			Vpc:       v, InstanceType: awsec2.NewInstanceType(jsii.String("m7g.large")),
		})
		goldenfleet.NewGoldenFleet(stack, jsii.String("Existing"), &goldenfleet.GoldenFleetProps{
			LatestAMI:        latestami.LatestAMIFromParameterName(parameter),
			AutoScalingGroup: awsautoscaling.AutoScalingGroup_FromAutoScalingGroupName(stack, jsii.String("Group"), jsii.String("web")),
			LaunchTemplate: awsec2.LaunchTemplate_FromLaunchTemplateAttributes(stack, jsii.String("Template"), &awsec2.LaunchTemplateAttributes{
				LaunchTemplateId: jsii.String("lt-0123456789abcdef0"),
			}),
			Role: awsiam.Role_FromRoleName(stack, jsii.String("Role"), jsii.String("web-instances"), nil),
		})
	})
}
