package notifications_test

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/notifications"
	"github.com/platform-eng/golden-ami/constructs/pipelinetrigger"
)

// The platform team hears in Slack and by email about every finished
// image and every decision of the trigger.
func ExampleNewNotifications() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Images"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	slack := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Slack"),
		jsii.String("arn:aws:secretsmanager:us-east-1:111111111111:secret:golden-ami/slack-AbCdEf"))
	n := notifications.NewNotifications(stack, jsii.String("Notifications"), &notifications.NotificationsProps{
		SlackWebhookSecret: slack,
		EmailAddresses:     jsii.Strings("platform@example.com"),
	})
	pipeline := goldenimage.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &goldenimage.GoldenImagePipelineProps{
		ImageName: jsii.String("al2023"),
	})
	trigger := pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{
		Pipeline:   pipeline,
		AlarmTopic: n.Topic,
	})
	n.NotifyImages(pipeline)
	n.NotifyDecisions(trigger)

	tmpl := assertions.Template_FromStack(stack, nil)
	var protocols []string
	for _, r := range *tmpl.FindResources(jsii.String("AWS::SNS::Subscription"), nil) {
		protocols = append(protocols, (*r)["Properties"].(map[string]interface{})["Protocol"].(string))
	}
	sort.Strings(protocols)
	fmt.Println("subscriptions:", protocols)
	notifier := tmpl.FindResources(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"Properties": map[string]interface{}{"Description": "Posts golden AMI notifications to Slack"},
	})
	for _, r := range *notifier {
		env := (*r)["Properties"].(map[string]interface{})["Environment"].(map[string]interface{})["Variables"].(map[string]interface{})
		fmt.Println("SLACK_WEBHOOK_SECRET_ARN =", env["SLACK_WEBHOOK_SECRET_ARN"])
	}
	fmt.Println("image rules:", len(*tmpl.FindResources(jsii.String("AWS::Events::Rule"), map[string]interface{}{
		"Properties": map[string]interface{}{"EventPattern": map[string]interface{}{"source": []interface{}{"aws.imagebuilder"}}},
	})))
	// The trigger's results, success and failure, are published to the topic.
	topic := stack.Resolve(n.Topic.TopicArn())
	for _, r := range *tmpl.FindResources(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]interface{}{
		"Properties": map[string]interface{}{"DestinationConfig": map[string]interface{}{
			"OnSuccess": map[string]interface{}{"Destination": topic},
			"OnFailure": map[string]interface{}{"Destination": topic},
		}},
	}) {
		fmt.Println("trigger results go to the topic:",
			reflect.DeepEqual((*r)["Properties"].(map[string]interface{})["FunctionName"], stack.Resolve(trigger.Function.Function.FunctionName())))
	}
	// Output:
	// subscriptions: [email lambda]
	// SLACK_WEBHOOK_SECRET_ARN = arn:aws:secretsmanager:us-east-1:111111111111:secret:golden-ami/slack-AbCdEf
	// image rules: 2
	// trigger results go to the topic: true
}
