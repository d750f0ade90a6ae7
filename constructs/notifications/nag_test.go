package notifications_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/notifications"
	"github.com/platform-eng/golden-ami/constructs/pipelinetrigger"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

// Other teams' apps may have no feature flags and environment-agnostic
// stacks, where the partition, region and account of the notifier's ARNs
// are tokens: its suppressions must still match cdk-nag's findings.
func TestNagCleanInEveryAppSetup(t *testing.T) {
	cdktest.NagCleanInEveryAppSetup(t, "Test", func(t *testing.T, stack awscdk.Stack) {
		n := notifications.NewNotifications(stack, jsii.String("Notifications"), &notifications.NotificationsProps{
			SlackWebhookSecret: awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Slack"), jsii.String(secretARN)),
			EmailAddresses:     jsii.Strings("platform@example.com"),
		})
		pipeline := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
		imported := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("WebBase"), &gi.GoldenImagePipelineAttributes{
			PipelineARN: jsii.String("arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/web-base"), RecipeName: jsii.String("web-base-recipe"),
		})
		trigger := pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{Pipeline: pipeline, AlarmTopic: n.Topic})
		n.NotifyImages(pipeline)
		n.NotifyImages(imported)
		n.NotifyDecisions(trigger)
		n.NotifyPipeline(awscodepipeline.Pipeline_FromPipelineArn(stack, jsii.String("Pipeline"), jsii.String("arn:aws:codepipeline:us-east-1:111111111111:golden-ami")))
	})
}
