package notifications

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/constructs/gofunction"
	"github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/pipelinetrigger"
	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/nag"
)

// NotificationsProps configures Notifications.
type NotificationsProps struct {
	// SlackWebhookSecret holds a Slack incoming-webhook URL (the bare URL or
	// {"webhookUrl": "..."}). The notifier reads it once per container and
	// never logs it. A secret encrypted with a customer-managed key also
	// needs that key to allow the notifier kms:Decrypt.
	//
	// Default: no Slack notifier; the topic only reaches EmailAddresses.
	SlackWebhookSecret awssecretsmanager.ISecret

	// EmailAddresses are subscribed to the topic; each must confirm.
	//
	// Default: none.
	EmailAddresses *[]*string

	// EncryptionKey encrypts the topic (and the notifier's environment, logs
	// and dead-letter queue). The construct adds the key-policy statements
	// EventBridge rules and CloudWatch alarms of this account need to publish
	// to the topic, and the notifier's GoFunction adds its own (see
	// gofunction.GoFunctionProps); an imported key must already allow them.
	//
	// Default: a new customer-managed key with yearly rotation, retained on
	// stack deletion.
	EncryptionKey awskms.IKey

	// DeadLetterQueue receives what could not be delivered after every
	// retry: events the rules could not publish to the topic, messages SNS
	// could not deliver to the email addresses, and, with Slack, messages
	// the notifier failed to post. A queue you pass needs its own alarm.
	//
	// Default: a new SQS queue encrypted with EncryptionKey, SSL-only,
	// keeping messages 14 days, with an alarm on its depth that notifies the
	// topic.
	DeadLetterQueue awssqs.IQueue

	// LogRetention is how long the notifier's logs are kept. Unused without
	// SlackWebhookSecret.
	//
	// Default: awslogs.RetentionDays_THREE_MONTHS (the GoFunction default).
	LogRetention awslogs.RetentionDays
}

// Notifications is one KMS-encrypted SNS topic that tells people what
// happened, and, with a Slack webhook, the notifier function that posts
// every message to Slack with what a person needs: for pipelines the state,
// console link, account, region and commit; for images the version, the
// AMI per region or the failure reason; the trigger's decisions; alarms.
//
// Connect sources with NotifyPipeline, NotifyImages and NotifyDecisions, or
// use Topic as any alarm's action. When Slack is unreachable the notifier
// retries a few times, then fails and the message goes to its dead-letter
// queue; it never blocks what it reports on.
type Notifications struct {
	constructs.Construct

	// Topic receives every notification.
	Topic awssns.Topic
	// EncryptionKey encrypts Topic.
	EncryptionKey awskms.IKey
	// Notifier posts to Slack; nil without SlackWebhookSecret.
	Notifier *gofunction.GoFunction
	// PublishRole is the role EventBridge rules publish to Topic with,
	// created by the first NotifyPipeline or NotifyImages call; nil before.
	// Only rules of this stack's account and region may assume it.
	PublishRole awsiam.Role
	// DeadLetterQueue receives what could not be delivered (see
	// NotificationsProps.DeadLetterQueue).
	DeadLetterQueue awssqs.IQueue
	// DeadLetterAlarm fires when DeadLetterQueue holds a message; nil for a
	// queue passed in.
	DeadLetterAlarm awscloudwatch.Alarm

	target awsevents.IRuleTarget
	// pipelines maps the ARN of each pipeline NotifyPipeline notifies to
	// its construct path.
	pipelines map[string]string
	// imageSids are the Sids NotifyImages gave the notifier's statements.
	imageSids map[string]bool
	// notifiedImages are the paths of the pipelines NotifyImages was
	// called with.
	notifiedImages map[string]bool
}

var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$`)

// NewNotifications defines the topic and, with a Slack webhook, the notifier.
// It panics with an error naming the field and the value when props are invalid.
func NewNotifications(scope constructs.Construct, id *string, props *NotificationsProps) *Notifications {
	if props == nil {
		props = &NotificationsProps{}
	}
	var errs []error
	if props.EmailAddresses != nil {
		seen := map[string]int{}
		for i, e := range *props.EmailAddresses {
			if e == nil {
				errs = append(errs, fmt.Errorf("notifications: EmailAddresses[%d] is nil", i))
				continue
			}
			// A token (a CfnParameter, say) is known only at deploy time.
			if strings.Contains(*e, "${Token[") {
				continue
			}
			if !emailPattern.MatchString(*e) {
				errs = append(errs, fmt.Errorf("notifications: EmailAddresses[%d] %q is not an email address", i, *e))
				continue
			}
			// Mailboxes are matched without case, as mail servers do: the
			// same one twice would get every message twice.
			if j, dup := seen[strings.ToLower(*e)]; dup {
				errs = append(errs, fmt.Errorf("notifications: EmailAddresses[%d] %q duplicates EmailAddresses[%d] %q", i, *e, j, *(*props.EmailAddresses)[j]))
				continue
			}
			seen[strings.ToLower(*e)] = i
		}
	}
	if err := errors.Join(errs...); err != nil {
		panic(err)
	}

	this := &Notifications{EncryptionKey: props.EncryptionKey}
	constructs.NewConstruct_Override(this, scope, id)
	stack := awscdk.Stack_Of(this)
	if this.EncryptionKey == nil {
		this.EncryptionKey = awskms.NewKey(this, str("Key"), &awskms.KeyProps{
			Description:       str("Encrypts notifications"),
			EnableKeyRotation: boolean(true),
			RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		})
	}
	// CloudWatch alarms publish here as the service (this account's alarms
	// only: the key and topic policies both check the source account).
	// EventBridge rules publish with PublishRole instead (see eventsTarget),
	// so the key and the topic trust no service principal an account
	// outside this one could point a rule at.
	this.EncryptionKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		// The same statement as a GoFunction's alarms need on its key
		// (same Sid and content), so a key both use holds it once.
		Sid:        str("AllowCloudWatchAlarms"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(str("cloudwatch.amazonaws.com"), nil)},
		Actions:    strs("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  strs("*"),
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": *stack.Account()}},
	}), boolean(true))
	this.Topic = awssns.NewTopic(this, str("Topic"), &awssns.TopicProps{
		DisplayName: str("Golden AMI notifications"),
		MasterKey:   this.EncryptionKey,
		EnforceSSL:  boolean(true),
	})
	gofunction.AllowAlarmsToPublish(this.Topic)
	this.DeadLetterQueue = props.DeadLetterQueue
	if this.DeadLetterQueue == nil {
		gofunction.AllowDeadLetters(this.EncryptionKey)
		this.DeadLetterQueue = gofunction.NewDeadLetterQueue(this, str("DeadLetterQueue"), this.EncryptionKey,
			"the notification rules, the email subscriptions and the notifier")
		this.DeadLetterAlarm = gofunction.NewDeadLetterAlarm(this, str("DeadLetterAlarm"), this.DeadLetterQueue,
			"A golden AMI notification could not be delivered; it waits in the notifications dead-letter queue", this.Topic)
	}
	if props.EmailAddresses != nil {
		for _, e := range *props.EmailAddresses {
			this.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(e, &awssnssubscriptions.EmailSubscriptionProps{
				DeadLetterQueue: this.DeadLetterQueue,
			}))
		}
	}
	if props.SlackWebhookSecret != nil {
		this.Notifier = gofunction.NewGoFunction(this, str("Notifier"), &gofunction.GoFunctionProps{
			ImportPath:  str(contract.FunctionNotifier),
			Description: str("Posts golden AMI notifications to Slack"),
			// The one endpoint outside AWS: the webhook URL the secret holds,
			// which the notifier accepts only as https.
			ExternalEgress: str("the Slack incoming-webhook URL held in its secret, over HTTPS"),
			Environment:    &map[string]*string{contract.EnvSlackWebhookSecretARN: props.SlackWebhookSecret.SecretArn()},
			// Slack allows about one message per second per webhook.
			ReservedConcurrentExecutions: num(1),
			EncryptionKey:                this.EncryptionKey,
			DeadLetterQueue:              this.DeadLetterQueue,
			AlarmTopic:                   this.Topic,
			LogRetention:                 props.LogRetention,
		})
		secretARN := props.SlackWebhookSecret.SecretFullArn()
		if secretARN == nil {
			secretARN = str(*props.SlackWebhookSecret.SecretArn() + "-??????")
		}
		this.Notifier.AddToRolePolicy(statement("ReadWebhookSecret", []string{"secretsmanager:GetSecretValue"}, secretARN))
		this.Notifier.Subscribe(this.Topic)
	}
	return this
}

// NotifyPipeline sends pipeline's execution state changes (succeeded,
// failed, stopped, superseded) and its approvals waiting for a person to
// the topic. The notifier may read the pipeline's executions for the commit.
//
// Call it once per pipeline; it may be called for any number of pipelines.
// The rules are named after the pipeline's construct id: "<id>Executions"
// and "<id>Approvals", and the notifier's statement "Read<id>Executions"
// (for CDK Pipelines' pipeline, whose id is "Pipeline", "PipelineExecutions"
// and so on). When an earlier pipeline with the same id took those names,
// the pipeline's path-based unique id (awscdk.Names_NodeUniqueId) replaces
// its id. Like CDK's Topic.AddSubscription for the same subscriber, it
// panics when called again for the same pipeline (or another construct with
// the same ARN), which would send each of its events twice.
func (n *Notifications) NotifyPipeline(pipeline awscodepipeline.IPipeline) []awsevents.Rule {
	arn := *pipeline.PipelineArn()
	if earlier, ok := n.pipelines[arn]; ok {
		panic(fmt.Errorf("notifications: NotifyPipeline already notifies pipeline %s (a second call would send each of its events twice)", earlier))
	}
	name := sanitize(*pipeline.Node().Id())
	if name == "" || n.Node().TryFindChild(str(name+"Executions")) != nil || n.Node().TryFindChild(str(name+"Approvals")) != nil {
		name = sanitize(*awscdk.Names_NodeUniqueId(pipeline.Node()))
	}
	if n.pipelines == nil {
		n.pipelines = map[string]string{}
	}
	n.pipelines[arn] = *pipeline.Node().Path()
	target := n.eventsTarget()
	executions := awsevents.NewRule(n, str(name+"Executions"), &awsevents.RuleProps{
		Description: str("Pipeline executions that finished or failed"),
		EventPattern: &awsevents.EventPattern{
			Source:     strs(contract.SourceCodePipeline),
			DetailType: strs(contract.DetailTypePipelineExecution),
			Resources:  &[]*string{pipeline.PipelineArn()},
			Detail:     &map[string]interface{}{"state": []string{"SUCCEEDED", "FAILED", "STOPPED", "SUPERSEDED"}},
		},
		Targets: &[]awsevents.IRuleTarget{target},
	})
	approvals := awsevents.NewRule(n, str(name+"Approvals"), &awsevents.RuleProps{
		Description: str("Manual approvals waiting for a person"),
		EventPattern: &awsevents.EventPattern{
			Source:     strs(contract.SourceCodePipeline),
			DetailType: strs(contract.DetailTypeActionExecution),
			Resources:  &[]*string{pipeline.PipelineArn()},
			Detail: &map[string]interface{}{
				"type":  map[string]interface{}{"category": []string{contract.ActionCategoryApproval}},
				"state": []string{"STARTED"},
			},
		},
		Targets: &[]awsevents.IRuleTarget{target},
	})
	if n.Notifier != nil {
		n.Notifier.AddToRolePolicy(statement("Read"+name+"Executions", []string{"codepipeline:GetPipelineExecution"}, pipeline.PipelineArn()))
	}
	return []awsevents.Rule{executions, approvals}
}

// NotifyImages sends pipeline's finished images (available, failed,
// cancelled) to the topic. The notifier may read those images for their
// AMIs and failure reasons.
func (n *Notifications) NotifyImages(pipeline *goldenimage.GoldenImagePipeline) []awsevents.Rule {
	if n.notifiedImages[*pipeline.Node().Path()] {
		panic(fmt.Errorf("notifications: NotifyImages(%s) was already called on %s", *pipeline.Node().Path(), *n.Node().Path()))
	}
	if n.notifiedImages == nil {
		n.notifiedImages = map[string]bool{}
	}
	n.notifiedImages[*pipeline.Node().Path()] = true
	target := n.eventsTarget()
	id := *pipeline.Node().Id()
	// The rules are the pipeline's children. A second Notifications for the
	// same pipeline (a team's topic next to the platform's) names its own
	// rules after itself; the first keeps the names it always had.
	prefix := "Notify" + id
	if pipeline.Node().TryFindChild(str(prefix+"Available")) != nil {
		prefix = "Notify" + sanitize(*awscdk.Names_NodeUniqueId(n.Node())) + id
	}
	rules := []awsevents.Rule{
		pipeline.OnImageAvailable(str(prefix+"Available"), &awsevents.OnEventOptions{Target: target}),
		pipeline.OnImageFailed(str(prefix+"Failed"), &awsevents.OnEventOptions{Target: target}),
	}
	if n.Notifier != nil {
		// Named after the pipeline's id, or its unique id when another
		// pipeline of the same id (under another parent) took that name:
		// IAM rejects a policy with two statements of one Sid.
		sid := "ReadImagesOf" + sanitize(id)
		if n.imageSids[sid] {
			sid = "ReadImagesOf" + sanitize(*awscdk.Names_NodeUniqueId(pipeline.Node()))
		}
		if n.imageSids == nil {
			n.imageSids = map[string]bool{}
		}
		n.imageSids[sid] = true
		n.Notifier.AddToRolePolicy(statement(sid, []string{"imagebuilder:GetImage"}, pipeline.ImageARNs()))
		nag.Suppress(n.Notifier.Policy, nag.Rule{ID: "AwsSolutions-IAM5", Reason: nag.ImageVersionsReason, AppliesTo: []string{nag.ImageVersions(n, *pipeline.RecipeName)}})
	}
	return rules
}

// NotifyDecisions sends every decision of trigger (build started, already
// started, ignored, and failures after the last retry) to the topic.
func (n *Notifications) NotifyDecisions(trigger *pipelinetrigger.PipelineTrigger) {
	trigger.Function.SendResultsTo(n.Topic, n.EncryptionKey)
}

// eventsTarget is the target of every rule that notifies: Topic, published
// to with PublishRole, which only rules of this account and region may
// assume. CDK's default SNS target instead adds
// events.amazonaws.com to the topic policy and the key policy without a
// condition, which would let a rule in any account publish here. The role
// gets exactly sns:Publish on Topic and the two KMS actions SNS needs on its
// key, in a customer-managed policy; it is passed to CDK without policy
// updates so no inline grant is added next to it.
func (n *Notifications) eventsTarget() awsevents.IRuleTarget {
	if n.target != nil {
		return n.target
	}
	// EventBridge assumes the role for a rule, with aws:SourceArn set to
	// the rule's ARN and aws:SourceAccount to its account (the EventBridge
	// user guide, "Cross-service confused deputy prevention"): only rules of
	// this account and region may use it. The rules' own ARNs cannot be
	// listed: each rule's target names this role, so the role cannot
	// depend on the rules.
	stack := awscdk.Stack_Of(n)
	n.PublishRole = awsiam.NewRole(n, str("PublishRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(str("events.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()},
				"ArnLike": map[string]interface{}{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
					Service: str("events"), Resource: str("rule"), ResourceName: str("*"),
				})},
			},
		}),
		Description: str("EventBridge rules publish golden AMI notifications with this role"),
	})
	awsiam.NewManagedPolicy(n, str("PublishPolicy"), &awsiam.ManagedPolicyProps{
		Description: str("Publish golden AMI notifications"),
		Roles:       &[]awsiam.IRole{n.PublishRole},
		Statements: &[]awsiam.PolicyStatement{
			statement("PublishNotifications", []string{"sns:Publish"}, n.Topic.TopicArn()),
			statement("EncryptNotifications", []string{"kms:Decrypt", "kms:GenerateDataKey"}, n.EncryptionKey.KeyArn()),
		},
	})
	n.target = awseventstargets.NewSnsTopic(n.Topic, &awseventstargets.SnsTopicProps{
		Role: n.PublishRole.WithoutPolicyUpdates(nil),
		// EventBridge's own defaults, made explicit, then the queue: an
		// event that could not be published is kept, not dropped.
		RetryAttempts:   num(185),
		MaxEventAge:     awscdk.Duration_Hours(num(24)),
		DeadLetterQueue: n.DeadLetterQueue,
	})
	return n.target
}

func statement(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: str(sid), Actions: strs(actions...), Resources: &resources})
}

var nonAlphanumeric = regexp.MustCompile(`[^A-Za-z0-9]`)

func sanitize(s string) string { return nonAlphanumeric.ReplaceAllString(s, "") }

func str(s string) *string   { return &s }
func num(v float64) *float64 { return &v }
func boolean(v bool) *bool   { return &v }
func strs(values ...string) *[]*string {
	out := make([]*string, len(values))
	for i := range values {
		out[i] = &values[i]
	}
	return &out
}
