package notifications_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/notifications"
	"github.com/platform-eng/golden-ami/constructs/pipelinetrigger"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

const secretARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:golden-ami/slack-AbCdEf"

func arn(prefix string) map[string]interface{} {
	return map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^" + prefix)), "Arn"}}
}

func TestNotificationsWithSlack(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	n := notifications.NewNotifications(stack, jsii.String("Notifications"), &notifications.NotificationsProps{
		SlackWebhookSecret: awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Slack"), jsii.String(secretARN)),
		EmailAddresses:     jsii.Strings("platform@example.com"),
	})
	pipeline := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	trigger := pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{Pipeline: pipeline, AlarmTopic: n.Topic})
	// "Pipeline", as CDK Pipelines names its pipeline: the statement is
	// named after it (see TestNotifyPipelineForSeveralPipelines).
	delivery := awscodepipeline.Pipeline_FromPipelineArn(stack, jsii.String("Pipeline"), jsii.String("arn:aws:codepipeline:us-east-1:111111111111:golden-ami"))
	n.NotifyImages(pipeline)
	n.NotifyDecisions(trigger)
	n.NotifyPipeline(delivery)
	tmpl := assertions.Template_FromStack(stack, nil)

	cdktest.Check(t, "topic encrypted with the key, SSL only", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]interface{}{"DisplayName": "Golden AMI notifications", "KmsMasterKeyId": arn("NotificationsKey")})
	})
	cdktest.Check(t, "email subscription with the dead-letter queue", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]interface{}{
			"Protocol": "email", "Endpoint": "platform@example.com",
			"RedrivePolicy": map[string]interface{}{"deadLetterTargetArn": arn("NotificationsDeadLetterQueue")},
		})
	})
	cdktest.Check(t, "notifier subscribed with the same dead-letter queue", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]interface{}{
			"Protocol": "lambda", "Endpoint": arn("NotificationsNotifierFunction"),
			"RedrivePolicy": map[string]interface{}{"deadLetterTargetArn": arn("NotificationsDeadLetterQueue")},
		})
	})
	cdktest.Check(t, "a dead-letter queue, encrypted with the key, with an alarm that notifies the topic", func() {

		tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]interface{}{"KmsMasterKeyId": arn("NotificationsKey"), "MessageRetentionPeriod": 1209600})
		tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]interface{}{
			"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 1,
			"Dimensions":   []interface{}{map[string]interface{}{"Name": "QueueName", "Value": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^NotificationsDeadLetterQueue")), "QueueName"}}}},
			"AlarmActions": []interface{}{map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^NotificationsTopic"))}},
		})
	})
	t.Run("every rule target keeps what it could not deliver", func(t *testing.T) {
		rules := cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::Events::Rule")
		if len(rules) == 0 {
			t.Fatal("no rules")
		}
		for id, r := range rules {
			targets, _ := r["Properties"].(map[string]interface{})["Targets"].([]interface{})
			for _, target := range targets {
				tg := target.(map[string]interface{})
				dlq, _ := tg["DeadLetterConfig"].(map[string]interface{})
				if dlq["Arn"] == nil || tg["RetryPolicy"] == nil {
					t.Errorf("rule %s: target %v has no dead-letter queue or retry policy", id, tg["Arn"])
				}
			}
		}
	})
	t.Run("every alarm can publish to its topic", func(t *testing.T) {
		for _, p := range cdktest.AlarmTopicProblems(cdktest.TemplateJSON(t, stack)) {
			t.Error(p)
		}
	})
	cdktest.Check(t, "notifier: one at a time, reads the secret ARN from its environment", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Description": "Posts golden AMI notifications to Slack", "ReservedConcurrentExecutions": 1,
			"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectEquals(&map[string]interface{}{"SLACK_WEBHOOK_SECRET_ARN": secretARN, "GOMAXPROCS": "1"})},
		})
	})
	cdktest.Check(t, "notifier permissions: the secret, the images, the pipeline's executions", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "ReadWebhookSecret", "Action": "secretsmanager:GetSecretValue", "Resource": secretARN}),
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "ReadImagesOfAL2023", "Action": "imagebuilder:GetImage", "Resource": "arn:aws:imagebuilder:us-east-1:111111111111:image/test-al2023/*"}),
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "ReadPipelineExecutions", "Action": "codepipeline:GetPipelineExecution", "Resource": "arn:aws:codepipeline:us-east-1:111111111111:golden-ami"}),
		})}})
	})
	cdktest.Check(t, "the notifier's outside-a-VPC reason names its Slack egress", func() {
		tmpl.HasResource(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Properties": map[string]interface{}{"Description": "Posts golden AMI notifications to Slack"},
			"Metadata": map[string]interface{}{"cdk_nag": map[string]interface{}{"rules_to_suppress": assertions.Match_ArrayWith(&[]interface{}{
				map[string]interface{}{"id": "NIST.800.53.R5-LambdaInsideVPC", "reason": assertions.Match_StringLikeRegexp(jsii.String("outside AWS, the Slack incoming-webhook URL held in its secret, over HTTPS"))},
			})}},
		})
	})
	cdktest.Check(t, "finished images go to the topic", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"EventPattern": map[string]interface{}{"detail": map[string]interface{}{"state": map[string]interface{}{"status": []interface{}{"FAILED", "CANCELLED"}}}},
			"Targets":      []interface{}{map[string]interface{}{"Arn": map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^NotificationsTopic"))}}},
		})
	})
	cdktest.Check(t, "pipeline executions and approvals go to the topic", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"EventPattern": assertions.Match_ObjectEquals(&map[string]interface{}{
				"source": []interface{}{"aws.codepipeline"}, "detail-type": []interface{}{"CodePipeline Pipeline Execution State Change"},
				"resources": []interface{}{"arn:aws:codepipeline:us-east-1:111111111111:golden-ami"},
				"detail":    map[string]interface{}{"state": []interface{}{"SUCCEEDED", "FAILED", "STOPPED", "SUPERSEDED"}},
			}),
		})
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"EventPattern": map[string]interface{}{"detail-type": []interface{}{"CodePipeline Action Execution State Change"},
				"detail": map[string]interface{}{"type": map[string]interface{}{"category": []interface{}{"Approval"}}, "state": []interface{}{"STARTED"}}},
		})
	})
	cdktest.Check(t, "trigger decisions go to the topic", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]interface{}{
			"FunctionName": map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^TriggerFunction"))},
			"DestinationConfig": map[string]interface{}{
				"OnSuccess": map[string]interface{}{"Destination": map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^NotificationsTopic"))}},
				"OnFailure": map[string]interface{}{"Destination": map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^NotificationsTopic"))}},
			},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "PublishResults", "Action": "sns:Publish"}),
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "EncryptResults", "Action": []interface{}{"kms:Decrypt", "kms:GenerateDataKey"},
				"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{"kms:ViaService": assertions.Match_ArrayWith(&[]interface{}{"sns.us-east-1.amazonaws.com"})}}}),
		})}})
	})
	cdktest.Check(t, "rules publish with the publish role, which may publish to the topic and use its key only", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"EventPattern": map[string]interface{}{"detail": map[string]interface{}{"state": map[string]interface{}{"status": []interface{}{"AVAILABLE"}}}},
			"Targets": []interface{}{map[string]interface{}{
				"Arn": map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^NotificationsTopic"))}, "RoleArn": arn("NotificationsPublishRole"),
			}},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{
			"Roles": []interface{}{map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^NotificationsPublishRole"))}},
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
				map[string]interface{}{"Sid": "PublishNotifications", "Effect": "Allow", "Action": "sns:Publish", "Resource": map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^NotificationsTopic"))}},
				map[string]interface{}{"Sid": "EncryptNotifications", "Effect": "Allow", "Action": []interface{}{"kms:Decrypt", "kms:GenerateDataKey"}, "Resource": arn("NotificationsKey")},
			}},
		})
	})
	t.Run("no topic or key policy trusts EventBridge as a service without a condition", func(t *testing.T) {
		for id, res := range *tmpl.ToJSON() {
			if id != "Resources" {
				continue
			}
			for logicalID, r := range res.(map[string]interface{}) {
				r := r.(map[string]interface{})
				props, _ := r["Properties"].(map[string]interface{})
				var doc interface{}
				switch r["Type"] {
				case "AWS::SNS::TopicPolicy":
					doc = props["PolicyDocument"]
				case "AWS::KMS::Key":
					doc = props["KeyPolicy"]
				default:
					continue
				}
				for _, st := range doc.(map[string]interface{})["Statement"].([]interface{}) {
					st := st.(map[string]interface{})
					principal, _ := json.Marshal(st["Principal"])
					if _, conditioned := st["Condition"]; strings.Contains(string(principal), "events.amazonaws.com") && !conditioned {
						b, _ := json.Marshal(st)
						t.Errorf("%s (%s) lets EventBridge in any account in: %s", logicalID, r["Type"], b)
					}
				}
			}
		}
	})
	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		cdktest.NagClean(t, stack)
	})
}

func TestNotificationsWithoutSlackHaveNoFunction(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), nil)
	n := notifications.NewNotifications(stack, jsii.String("N"), nil)
	if n.Notifier != nil {
		t.Error("a notifier without a Slack secret")
	}
	cdktest.Check(t, "no function", func() {
		assertions.Template_FromStack(stack, nil).ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(0))
	})
}

func TestFailsWhenAnEmailIsNil(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), nil)
	got := cdktest.ExpectPanic(t, func() {
		notifications.NewNotifications(stack, jsii.String("N"), &notifications.NotificationsProps{EmailAddresses: &[]*string{jsii.String("ops@example.com"), nil}})
	})
	if want := `notifications: EmailAddresses[1] is nil`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if n := len(*stack.Node().Children()); n != 0 {
		t.Errorf("the stack has %d children after validation failed, want 0", n)
	}
}

func TestFailsWhenAnEmailIsInvalid(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), nil)
	got := cdktest.ExpectPanic(t, func() {
		notifications.NewNotifications(stack, jsii.String("N"), &notifications.NotificationsProps{EmailAddresses: jsii.Strings("ops@example.com", "ops")})
	})
	if want := `notifications: EmailAddresses[1] "ops" is not an email address`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// An address known only at deploy time (a CfnParameter) is accepted and
// subscribed as given.
func TestEmailAddressMayBeAToken(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), nil)
	email := awscdk.NewCfnParameter(stack, jsii.String("OpsEmail"), &awscdk.CfnParameterProps{Type: jsii.String("String")})
	notifications.NewNotifications(stack, jsii.String("N"), &notifications.NotificationsProps{EmailAddresses: &[]*string{email.ValueAsString()}})
	cdktest.Check(t, "subscribed with the parameter's value", func() {
		assertions.Template_FromStack(stack, nil).HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]interface{}{
			"Protocol": "email", "Endpoint": map[string]interface{}{"Ref": "OpsEmail"},
		})
	})
}

func slackNotifications(t *testing.T) (awscdk.Stack, *notifications.Notifications) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	return stack, notifications.NewNotifications(stack, jsii.String("Notifications"), &notifications.NotificationsProps{
		SlackWebhookSecret: awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Slack"), jsii.String(secretARN)),
	})
}

// NotifyPipeline names its rules and its statement after the pipeline's
// construct id. CDK Pipelines names its pipeline "Pipeline", so the delivery
// stack keeps the logical ids and the Sid it had when the names were fixed.
func TestNotifyPipelineForSeveralPipelines(t *testing.T) {
	stack, n := slackNotifications(t)
	arns := []string{
		"arn:aws:codepipeline:us-east-1:111111111111:golden-ami",
		"arn:aws:codepipeline:us-east-1:111111111111:hotfix",
		"arn:aws:codepipeline:us-east-1:111111111111:team",
	}
	delivery := awscodepipeline.Pipeline_FromPipelineArn(stack, jsii.String("Pipeline"), jsii.String(arns[0]))
	hotfix := awscodepipeline.Pipeline_FromPipelineArn(stack, jsii.String("Hotfix"), jsii.String(arns[1]))
	// The same construct id as the first, in another scope.
	team := awscodepipeline.Pipeline_FromPipelineArn(constructs.NewConstruct(stack, jsii.String("Team")), jsii.String("Pipeline"), jsii.String(arns[2]))
	for _, p := range []awscodepipeline.IPipeline{delivery, hotfix, team} {
		if rules := n.NotifyPipeline(p); len(rules) != 2 {
			t.Fatalf("NotifyPipeline(%s) returned %d rules, want 2", *p.Node().Path(), len(rules))
		}
	}
	template := cdktest.TemplateJSON(t, stack)

	rulesOf := map[string][]string{} // pipeline ARN -> logical ids of the rules matching it
	for id, r := range cdktest.ResourcesOfType(template, "AWS::Events::Rule") {
		pattern, _ := r["Properties"].(map[string]interface{})["EventPattern"].(map[string]interface{})
		resources, _ := pattern["resources"].([]interface{})
		for _, res := range resources {
			if s, ok := res.(string); ok {
				rulesOf[s] = append(rulesOf[s], id)
			}
		}
	}
	for _, arn := range arns {
		if len(rulesOf[arn]) != 2 {
			t.Errorf("%s: rules %v, want an executions and an approvals rule", arn, rulesOf[arn])
		}
	}
	for _, id := range []string{"NotificationsPipelineExecutions3FCB59FC", "NotificationsPipelineApprovalsCA329F91"} {
		if _, ok := template["Resources"].(map[string]interface{})[id]; !ok {
			t.Errorf("no rule %s: the first pipeline's rules must keep their logical ids", id)
		}
	}

	sidOf := map[string]string{} // pipeline ARN -> Sid of the statement that reads its executions
	for _, p := range cdktest.ResourcesOfType(template, "AWS::IAM::ManagedPolicy") {
		doc, _ := p["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})
		statements, _ := doc["Statement"].([]interface{})
		for _, s := range statements {
			st := s.(map[string]interface{})
			if st["Action"] == "codepipeline:GetPipelineExecution" {
				sidOf[fmt.Sprint(st["Resource"])] = fmt.Sprint(st["Sid"])
			}
		}
	}
	if got := sidOf[arns[0]]; got != "ReadPipelineExecutions" {
		t.Errorf("Sid for %s = %q, want ReadPipelineExecutions (unchanged)", arns[0], got)
	}
	if got := sidOf[arns[1]]; got != "ReadHotfixExecutions" {
		t.Errorf("Sid for %s = %q, want ReadHotfixExecutions", arns[1], got)
	}
	if got := sidOf[arns[2]]; got == "" || got == sidOf[arns[0]] || got == sidOf[arns[1]] {
		t.Errorf("Sid for %s = %q, want one of its own (Sids so far: %v)", arns[2], got, sidOf)
	}
}

// Notifying the same pipeline twice would send every event twice.
func TestFailsWhenNotifyPipelineIsCalledTwiceForOnePipeline(t *testing.T) {
	stack, n := slackNotifications(t)
	delivery := awscodepipeline.Pipeline_FromPipelineArn(stack, jsii.String("Delivery"), jsii.String("arn:aws:codepipeline:us-east-1:111111111111:golden-ami"))
	n.NotifyPipeline(delivery)
	before := len(*n.Node().Children())
	got := cdktest.ExpectPanic(t, func() { n.NotifyPipeline(delivery) })
	if want := "notifications: NotifyPipeline already notifies pipeline Test/Delivery (a second call would send each of its events twice)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if after := len(*n.Node().Children()); after != before {
		t.Errorf("Notifications gained %d children before the call failed", after-before)
	}
	// Another construct for the same pipeline is the same pipeline.
	again := awscodepipeline.Pipeline_FromPipelineArn(stack, jsii.String("Again"), jsii.String("arn:aws:codepipeline:us-east-1:111111111111:golden-ami"))
	got = cdktest.ExpectPanic(t, func() { n.NotifyPipeline(again) })
	if want := "notifications: NotifyPipeline already notifies pipeline Test/Delivery (a second call would send each of its events twice)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// EventBridge assumes the publish role for a rule; the trust policy admits
// only rules of this account and region (EventBridge sets aws:SourceArn to
// the rule's ARN and aws:SourceAccount to its account).
func TestPublishRoleTrustsOnlyThisAccountsRules(t *testing.T) {
	stack, n := slackNotifications(t)
	n.NotifyPipeline(awscodepipeline.Pipeline_FromPipelineArn(stack, jsii.String("Pipeline"), jsii.String("arn:aws:codepipeline:us-east-1:111111111111:golden-ami")))
	cdktest.Check(t, "publish role trust policy", func() {
		assertions.Template_FromStack(stack, nil).HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]interface{}{
			"Description": "EventBridge rules publish golden AMI notifications with this role",
			"AssumeRolePolicyDocument": assertions.Match_ObjectEquals(&map[string]interface{}{
				"Version": "2012-10-17",
				"Statement": []interface{}{map[string]interface{}{
					"Effect": "Allow", "Action": "sts:AssumeRole",
					"Principal": map[string]interface{}{"Service": "events.amazonaws.com"},
					"Condition": map[string]interface{}{
						"StringEquals": map[string]interface{}{"aws:SourceAccount": "111111111111"},
						"ArnLike":      map[string]interface{}{"aws:SourceArn": "arn:aws:events:us-east-1:111111111111:rule/*"},
					},
				}},
			}),
		})
	})
}

// A pipeline defined elsewhere: its finished images are notified, and the
// notifier may read exactly its recipe's images.
func TestNotifyImagesOfAnImportedPipeline(t *testing.T) {
	stack, n := slackNotifications(t)
	pipeline := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("WebBase"), &gi.GoldenImagePipelineAttributes{
		PipelineARN: jsii.String("arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/web-base"),
		RecipeName:  jsii.String("web-base-recipe"),
	})
	rules := n.NotifyImages(pipeline)
	if len(rules) != 2 {
		t.Fatalf("NotifyImages returned %d rules, want 2 (available, failed)", len(rules))
	}
	tmpl := assertions.Template_FromStack(stack, nil)
	prefix := map[string]interface{}{"prefix": "arn:aws:imagebuilder:us-east-1:111111111111:image/web-base-recipe/"}
	for _, status := range [][]interface{}{{"AVAILABLE"}, {"FAILED", "CANCELLED"}} {
		cdktest.Check(t, fmt.Sprint("rule for ", status), func() {
			tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{"EventPattern": assertions.Match_ObjectLike(&map[string]interface{}{
				"resources": []interface{}{prefix},
				"detail":    map[string]interface{}{"state": map[string]interface{}{"status": status}},
			})})
		})
	}
	cdktest.Check(t, "the notifier reads the recipe's images", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "ReadImagesOfWebBase", "Action": "imagebuilder:GetImage",
				"Resource": "arn:aws:imagebuilder:us-east-1:111111111111:image/web-base-recipe/*"}),
		})}})
	})
	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		cdktest.NagClean(t, stack)
	})
}

// Two pipelines of the same id under different parents: the notifier's
// statements that read their images get different Sids (IAM rejects a
// policy with one Sid twice).
func TestNotifyImagesOfPipelinesWithTheSameID(t *testing.T) {
	stack, n := slackNotifications(t)
	for _, team := range []string{"Web", "Batch"} {
		parent := constructs.NewConstruct(stack, jsii.String(team))
		n.NotifyImages(gi.NewGoldenImagePipeline(parent, jsii.String("Pipeline"), &gi.GoldenImagePipelineProps{ImageName: jsii.String(strings.ToLower(team))}))
	}
	sids := map[string]int{}
	for _, r := range cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::IAM::ManagedPolicy") {
		doc := r["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})
		for _, s := range doc["Statement"].([]interface{}) {
			if sid, _ := s.(map[string]interface{})["Sid"].(string); strings.HasPrefix(sid, "ReadImagesOf") {
				sids[sid]++
			}
		}
	}
	if len(sids) != 2 || sids["ReadImagesOfPipeline"] != 1 {
		t.Errorf("ReadImagesOf statements = %v, want ReadImagesOfPipeline and one named after the second pipeline's unique id, once each", sids)
	}
}

// The same mailbox twice would get every message twice (and CDK would fail
// on the second subscription's id, naming neither field nor value).
func TestFailsWhenAnEmailIsRepeated(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), nil)
	got := cdktest.ExpectPanic(t, func() {
		notifications.NewNotifications(stack, jsii.String("N"), &notifications.NotificationsProps{
			EmailAddresses: jsii.Strings("ops@example.com", "dev@example.com", "Ops@Example.com")})
	})
	if want := `notifications: EmailAddresses[2] "Ops@Example.com" duplicates EmailAddresses[0] "ops@example.com"`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if n := len(*stack.Node().Children()); n != 0 {
		t.Errorf("the stack has %d children after validation failed, want 0", n)
	}
}

// A platform topic and a team topic may both notify one pipeline's images:
// the first keeps the rule names it always had, the second names its rules
// after itself. Each Notifications notifies a pipeline once.
func TestTwoNotificationsNotifyOnePipeline(t *testing.T) {
	stack, platform := slackNotifications(t)
	team := notifications.NewNotifications(stack, jsii.String("Team"), nil)
	pipeline := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	platform.NotifyImages(pipeline)
	team.NotifyImages(pipeline)
	targets := map[string]int{}
	for name, r := range cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::Events::Rule") {
		b, _ := json.Marshal(r["Properties"].(map[string]interface{})["Targets"])
		switch {
		case strings.HasPrefix(name, "AL2023NotifyAL2023"):
			targets[fmt.Sprint("platform:", strings.Contains(string(b), "NotificationsTopic"))]++
		case strings.HasPrefix(name, "AL2023NotifyTestTeam"):
			targets[fmt.Sprint("team:", strings.Contains(string(b), "TeamTopic"))]++
		}
	}
	if want := map[string]int{"platform:true": 2, "team:true": 2}; fmt.Sprint(targets) != fmt.Sprint(want) {
		t.Errorf("image rules by owner and target = %v, want %v", targets, want)
	}
	got := cdktest.ExpectPanic(t, func() { team.NotifyImages(pipeline) })
	if want := "notifications: NotifyImages(Test/AL2023) was already called on Test/Team"; got != want {
		t.Errorf("second call: got  %s\nwant %s", got, want)
	}
}

// Lambda sends a function's results to one destination per outcome: a
// second topic would silently replace the first and duplicate a Sid, so it
// fails, naming both; the same topic again changes nothing.
func TestNotifyDecisionsOfOneTriggerToTwoTopics(t *testing.T) {
	stack, platform := slackNotifications(t)
	pipeline := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	trigger := pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{Pipeline: pipeline})
	platform.NotifyDecisions(trigger)
	platform.NotifyDecisions(trigger)
	team := notifications.NewNotifications(stack, jsii.String("Team"), nil)
	got := cdktest.ExpectPanic(t, func() { team.NotifyDecisions(trigger) })
	if want := "gofunction: SendResultsTo Test/Team/Topic: the results of Test/Trigger/Function already go to Test/Notifications/Topic, and Lambda takes one destination per outcome (subscribe to that topic instead)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	publish := 0
	for _, r := range cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::IAM::ManagedPolicy") {
		b, _ := json.Marshal(r)
		publish += strings.Count(string(b), `"Sid":"PublishResults"`)
	}
	if publish != 1 {
		t.Errorf("%d PublishResults statements, want 1", publish)
	}
}
