package gofunction

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/internal/cdkduration"
	"github.com/platform-eng/golden-ami/internal/cdkkey"
	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/gobuild"
	"github.com/platform-eng/golden-ami/internal/nag"
	"github.com/platform-eng/golden-ami/internal/runes"
)

// OneVCPUMemoryMiB is the largest memory size at which Lambda gives a
// function at most one vCPU; up to it, GoFunction sets GOMAXPROCS=1.
const OneVCPUMemoryMiB = contract.OneVCPUMemoryMiB

// GoFunctionProps configures a GoFunction.
type GoFunctionProps struct {
	// ImportPath is the Go import path of the function's main package, e.g.
	// "github.com/platform-eng/golden-ami/lambdas/amimonitor". It is built
	// with `go build` in the CDK app's module, so it must be in that
	// module's build graph (the app imports, or requires, its module).
	//
	// Required.
	ImportPath *string

	// Description describes the function, in at most 256 characters.
	//
	// Default: "Go function <ImportPath>", cut to 256 characters.
	Description *string

	// Environment is the function's environment.
	//
	// Default: GOMAXPROCS=1 when MemorySizeMiB is at most 1,769 (the memory
	// at which Lambda gives a function one vCPU's worth of CPU time; a
	// second Go scheduler slot would only spend that share on threads), and
	// nothing else besides what Lambda sets. A GOMAXPROCS given here wins.
	Environment *map[string]*string

	// MemorySizeMiB is the function's memory (128-10240).
	//
	// Default: 128.
	MemorySizeMiB *float64

	// Timeout bounds one invocation (whole seconds, at most 15 minutes).
	//
	// Default: 1 minute.
	Timeout awscdk.Duration

	// ReservedConcurrentExecutions caps concurrent invocations. It also
	// reserves that much of the account's concurrency for the function.
	//
	// Default: 1.
	ReservedConcurrentExecutions *float64

	// RetryAttempts is how often Lambda retries a failed asynchronous
	// invocation, and EventBridge a failed delivery (0-2), before the event
	// goes to the dead-letter queue.
	//
	// Default: 2.
	RetryAttempts *float64

	// MaxEventAge is how long an asynchronous event may wait for a
	// successful invocation (whole seconds, 1 minute to 6 hours) before it goes to the
	// dead-letter queue.
	//
	// Default: 6 hours.
	MaxEventAge awscdk.Duration

	// LogRetention is how long the function's logs are kept.
	//
	// Default: awslogs.RetentionDays_THREE_MONTHS.
	LogRetention awslogs.RetentionDays

	// EncryptionKey encrypts the environment, the log group, the dead-letter
	// queue and the alarm topic this construct creates. The construct adds
	// the statements CloudWatch Logs, EventBridge, SNS and CloudWatch need to
	// the key policy; an imported key must already allow them.
	//
	// Default: a new customer-managed key with yearly rotation.
	EncryptionKey awskms.IKey

	// DeadLetterQueue receives events that failed every retry, from Lambda's
	// asynchronous invocations and from the rule targets and subscriptions
	// this construct makes. A queue passed in is alarmed by its owner.
	//
	// Default: a new SQS queue encrypted with EncryptionKey, SSL-only,
	// keeping messages 14 days, with an alarm on its depth.
	DeadLetterQueue awssqs.IQueue

	// AlarmTopic receives the function's alarms. CloudWatch publishes alarm
	// actions as the service, so the topic's policy must allow it: the
	// construct adds that statement (AllowAlarmsToPublish) to a topic defined
	// in this app; an imported topic's owner must add it. An encrypted
	// topic's key must also let cloudwatch.amazonaws.com use it.
	//
	// Default: a new SNS topic encrypted with EncryptionKey, whose policy
	// lets this account's alarms publish.
	AlarmTopic awssns.ITopic

	// ExternalEgress describes, in plain words, every endpoint outside AWS
	// the function calls, e.g. "the Slack incoming-webhook URL held in its
	// secret, over HTTPS". It goes into the reason of the function's
	// NIST.800.53.R5-LambdaInsideVPC suppression, so that reason stays true.
	//
	// Default: none; the reason states that the function calls only AWS
	// service APIs.
	ExternalEgress *string
}

// PrefetchBundles starts building this module's Lambda functions (the
// ones its constructs define) in the background and returns at once. Call
// it first in a CDK app's main, before awscdk.NewApp: the build, or Go's
// up-to-date check, then runs while Node starts, and every GoFunction waits
// for it instead of starting its own. It is optional; without it the first
// GoFunction builds them. Build errors are reported by the GoFunction that
// needs the binary.
func PrefetchBundles() { gobuild.Prefetch("arm64") }

// GoFunction is a Go Lambda function on provided.al2023, arm64, built by
// import path (no Docker) with -tags lambda.norpc -trimpath -ldflags "-s -w".
//
// Its role has no AWS-managed policies: every permission is a statement in
// one customer-managed policy, Policy (see AddToRolePolicy), starting with
// writing its own log group, sending to its dead-letter queue and using its
// key; X-Ray's two write actions, which take no resource, are in a second
// one of their own, so that a statement on * in Policy stays a cdk-nag
// finding until its owner explains it. Failed asynchronous events are retried and then land in an
// encrypted dead-letter queue; alarms fire on errors and on dead letters.
type GoFunction struct {
	constructs.Construct

	// Function is the Lambda function.
	Function awslambda.Function
	// Role is the function's execution role. Statements added to it (grants
	// to the GoFunction, its Function or Role) go to Policy.
	Role awsiam.Role
	// Policy holds every permission of Role but X-Ray's two write actions,
	// which take no resource and are in a policy of their own.
	Policy awsiam.ManagedPolicy
	// LogGroup receives the function's JSON logs.
	LogGroup awslogs.LogGroup
	// DeadLetterQueue receives events that failed every retry.
	DeadLetterQueue awssqs.IQueue
	// EncryptionKey encrypts the environment, logs, queue and topic.
	EncryptionKey awskms.IKey
	// AlarmTopic receives ErrorsAlarm and DeadLetterAlarm.
	AlarmTopic awssns.ITopic
	// ErrorsAlarm fires when an invocation fails.
	ErrorsAlarm awscloudwatch.Alarm
	// DeadLetterAlarm fires when the dead-letter queue holds a message; nil
	// when the queue was passed in.
	DeadLetterAlarm awscloudwatch.Alarm

	retryAttempts *float64
	maxEventAge   awscdk.Duration
	resultsTopic  awssns.ITopic
}

var (
	// importPathPattern is a package path of a module: elements of the
	// characters Go allows, none starting with a dot. The first need not
	// have one ("go mod init webteam" and CDK's Go template make such
	// module paths); go build, run later, checks the rest.
	importPathPattern = regexp.MustCompile(`^[a-zA-Z0-9_~-][a-zA-Z0-9._~-]*(/[a-zA-Z0-9_~-][a-zA-Z0-9._~-]*)*$`)
	envNamePattern    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)
	// reservedEnv are set by Lambda and cannot be overridden.
	reservedEnv = map[string]bool{
		"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true, "AWS_EXECUTION_ENV": true,
		"AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true, "AWS_LAMBDA_FUNCTION_VERSION": true,
		"AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true,
		"AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
		"AWS_LAMBDA_RUNTIME_API": true, "LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
	}
)

func (p *GoFunctionProps) validate() error {
	var errs []error
	fail := func(field string, err error) { errs = append(errs, fmt.Errorf("gofunction: %s %w", field, err)) }
	if p.ImportPath == nil {
		fail("ImportPath", errors.New("is required"))
	} else if !importPathPattern.MatchString(*p.ImportPath) {
		fail("ImportPath", fmt.Errorf("%q is not a Go import path (want e.g. \"github.com/org/repo/lambdas/fn\")", *p.ImportPath))
	}
	if p.Description != nil && !*awscdk.Token_IsUnresolved(*p.Description) {
		if n := utf8.RuneCountInString(*p.Description); n > maxDescription {
			fail("Description", fmt.Errorf("is %d characters long (want at most %d, Lambda's limit): %q", n, maxDescription, runes.Cut(*p.Description, 60)+"..."))
		}
	}
	if p.Environment != nil {
		for _, name := range sortedKeys(*p.Environment) {
			switch {
			case !envNamePattern.MatchString(name):
				fail("Environment", fmt.Errorf("variable %q is not a valid name (want a letter, then letters, digits or _; at least 2 characters)", name))
			case reservedEnv[name]:
				fail("Environment", fmt.Errorf("variable %q is reserved by Lambda", name))
			}
		}
		if size := environmentSize(environment(p)); size > maxEnvironmentBytes {
			fail("Environment", fmt.Errorf("is %d bytes as Lambda measures it, the JSON of every variable, GOMAXPROCS included (want at most %d, Lambda's 4 KB limit; values resolved at deployment count as empty)", size, maxEnvironmentBytes))
		}
	}
	if v := p.MemorySizeMiB; v != nil && (*v < 128 || *v > 10240 || *v != math.Trunc(*v)) {
		fail("MemorySizeMiB", fmt.Errorf("%v is out of range (want a whole number from 128 to 10240)", *v))
	}
	if v := p.ReservedConcurrentExecutions; v != nil && (*v < 1 || *v != math.Trunc(*v)) {
		fail("ReservedConcurrentExecutions", fmt.Errorf("%v is out of range (want a whole number of at least 1; 0 would stop the function)", *v))
	}
	if v := p.RetryAttempts; v != nil && (*v < 0 || *v > 2 || *v != math.Trunc(*v)) {
		fail("RetryAttempts", fmt.Errorf("%v is out of range (want 0, 1 or 2)", *v))
	}
	// Lambda and EventBridge take both in whole seconds (ToSeconds would
	// fail with a raw jsii error otherwise).
	for _, d := range []struct {
		field    string
		value    awscdk.Duration
		min, max time.Duration
		want     string
	}{
		{"MaxEventAge", p.MaxEventAge, time.Minute, 6 * time.Hour, "1 minute to 6 hours"},
		{"Timeout", p.Timeout, time.Second, 15 * time.Minute, "1 second to 15 minutes"},
	} {
		if err := cdkduration.Whole(d.value, time.Second, d.want); err != nil {
			fail(d.field, err)
		} else if ms, ok := cdkduration.Millis(d.value); ok && (ms < float64(d.min.Milliseconds()) || ms > float64(d.max.Milliseconds())) {
			fail(d.field, fmt.Errorf("%s is out of range (want %s)", cdkduration.Human(d.value), d.want))
		}
	}
	if e := p.ExternalEgress; e != nil {
		switch {
		case strings.TrimSpace(*e) == "":
			fail("ExternalEgress", errors.New("is empty (want a description such as \"the Slack incoming-webhook URL held in its secret, over HTTPS\", or leave it unset)"))
		case *awscdk.Token_IsUnresolved(*e):
			fail("ExternalEgress", fmt.Errorf("%q is a token (want plain text: it becomes part of a cdk-nag reason)", *e))
		}
	}
	return errors.Join(errs...)
}

// NewGoFunction builds the function's main package and defines the function.
// It panics with an error naming the field and the value when props are
// invalid, and with the go build output when the package does not build.
func NewGoFunction(scope constructs.Construct, id *string, props *GoFunctionProps) *GoFunction {
	if props == nil {
		props = &GoFunctionProps{}
	}
	if err := props.validate(); err != nil {
		panic(err)
	}
	asset, err := gobuild.Build(*props.ImportPath, "arm64")
	if err != nil {
		panic(fmt.Errorf("gofunction: ImportPath %q does not build: %w", *props.ImportPath, err))
	}

	this := &GoFunction{
		retryAttempts: orNumber(props.RetryAttempts, 2),
		maxEventAge:   props.MaxEventAge,
	}
	if this.maxEventAge == nil {
		this.maxEventAge = awscdk.Duration_Hours(num(6))
	}
	constructs.NewConstruct_Override(this, scope, id)
	stack := awscdk.Stack_Of(this)

	this.EncryptionKey = props.EncryptionKey
	if this.EncryptionKey == nil {
		this.EncryptionKey = awskms.NewKey(this, str("Key"), &awskms.KeyProps{
			Description:       str("Encrypts the environment, logs, dead letters and alarms of " + *props.ImportPath),
			EnableKeyRotation: boolean(true),
			RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
			PendingWindow:     awscdk.Duration_Days(num(30)),
		})
	}
	for _, s := range keyPolicyStatements(stack) {
		this.EncryptionKey.AddToResourcePolicy(s, boolean(true))
	}

	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_THREE_MONTHS
	}
	this.LogGroup = awslogs.NewLogGroup(this, str("LogGroup"), &awslogs.LogGroupProps{
		LogGroupName:  str(LogGroupPrefix + strings.ToLower(*awscdk.Names_UniqueResourceName(this, &awscdk.UniqueResourceNameOptions{MaxLength: num(200), Separator: str("-")}))),
		Retention:     retention,
		EncryptionKey: this.EncryptionKey,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
	})

	this.DeadLetterQueue = props.DeadLetterQueue
	if this.DeadLetterQueue == nil {
		this.DeadLetterQueue = NewDeadLetterQueue(this, str("DeadLetterQueue"), this.EncryptionKey, "the function, its rule targets and its subscriptions")
	}

	role := newPolicyRole(this, str("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(str("lambda.amazonaws.com"), nil),
		Description: str("Execution role of " + *props.ImportPath),
		// A name only when another environment refers to the role (a key
		// in another region granting to the function): such a reference
		// needs a physical name, and no other template changes.
		RoleName: awscdk.PhysicalName_GENERATE_IF_NEEDED(),
	})
	this.Role = role
	this.Policy = awsiam.NewManagedPolicy(this, str("Policy"), &awsiam.ManagedPolicyProps{
		Description: str("Permissions of " + *props.ImportPath + ", X-Ray's aside"),
		Roles:       &[]awsiam.IRole{this.Role},
		Statements: &[]awsiam.PolicyStatement{
			statement("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, this.LogGroup.LogGroupArn()),
			statement("SendDeadLetters", []string{"sqs:SendMessage"}, this.DeadLetterQueue.QueueArn()),
			viaServices(stack, statement("UseOwnKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, this.EncryptionKey.KeyArn())),
		},
	})
	role.policy = this.Policy
	this.Policy.Node().AddValidation(&policySize{policy: this.Policy})
	// X-Ray's write actions have no resource-level permissions. They get a
	// policy of their own, so that its Resource::* suppression covers them
	// alone: a statement on * that another construct (or a grant) adds to
	// Policy is still reported unless that construct suppresses it.
	tracing := awsiam.NewManagedPolicy(this, str("TracingPolicy"), &awsiam.ManagedPolicyProps{
		Description: str("X-Ray tracing of " + *props.ImportPath),
		Roles:       &[]awsiam.IRole{this.Role},
		Statements: &[]awsiam.PolicyStatement{
			statement("Tracing", []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, str("*")),
		},
	})
	nag.Suppress(tracing, nag.Rule{
		ID:        "AwsSolutions-IAM5",
		Reason:    iam5TracingReason,
		AppliesTo: []string{"Resource::*"},
	})

	description := props.Description
	if description == nil {
		description = str(runes.Cut("Go function "+*props.ImportPath, maxDescription))
	}
	this.Function = awslambda.NewFunction(this, str("Function"), &awslambda.FunctionProps{
		Description:  description,
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      str("bootstrap"),
		Code: awslambda.Code_FromAsset(str(asset.Dir), &awss3assets.AssetOptions{
			AssetHash:     str(asset.Hash),
			AssetHashType: awscdk.AssetHashType_CUSTOM,
		}),
		Role:                         this.Role,
		Environment:                  environment(props),
		MemorySize:                   orNumber(props.MemorySizeMiB, 128),
		Timeout:                      orDuration(props.Timeout, awscdk.Duration_Minutes(num(1))),
		ReservedConcurrentExecutions: orNumber(props.ReservedConcurrentExecutions, 1),
		LogGroup:                     this.LogGroup,
		LoggingFormat:                awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2:        awslambda.ApplicationLogLevel_INFO,
		SystemLogLevelV2:             awslambda.SystemLogLevel_WARN,
		RecursiveLoop:                awslambda.RecursiveLoop_TERMINATE,
	})
	// Dead-letter config, tracing and environment encryption are set on the
	// CloudFormation resource: the statements they need are already in
	// Policy, each under its own Sid, and the L2 properties would add them
	// again without one.
	cfn := this.Function.Node().DefaultChild().(awslambda.CfnFunction)
	cfn.SetDeadLetterConfig(&awslambda.CfnFunction_DeadLetterConfigProperty{TargetArn: this.DeadLetterQueue.QueueArn()})
	cfn.SetTracingConfig(&awslambda.CfnFunction_TracingConfigProperty{Mode: str("Active")})
	cfn.SetKmsKeyArn(this.EncryptionKey.KeyArn())
	cfn.AddResourceDependency(this.Policy.Node().DefaultChild().(awscdk.CfnResource), str("the function needs its permissions before it can run"))
	// Lambda refuses to create a function with active tracing whose role
	// may not call PutTraceSegments yet.
	cfn.AddResourceDependency(tracing.Node().DefaultChild().(awscdk.CfnResource), str("active tracing needs the X-Ray permissions when the function is created"))
	this.Function.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: this.retryAttempts,
		MaxEventAge:   this.maxEventAge,
	})
	nag.Suppress(this.Function, nag.Rule{
		ID:     "NIST.800.53.R5-LambdaInsideVPC",
		Reason: lambdaOutsideVPCReason(props.ExternalEgress),
	})

	this.AlarmTopic = props.AlarmTopic
	if this.AlarmTopic == nil {
		this.AlarmTopic = awssns.NewTopic(this, str("AlarmTopic"), &awssns.TopicProps{
			DisplayName: str("Alarms of " + *props.ImportPath),
			MasterKey:   this.EncryptionKey,
			EnforceSSL:  boolean(true),
		})
	}
	// Also for a topic passed in: a topic defined in this app gets the
	// statement (once, however many functions alarm to it); an imported
	// one is left to its owner.
	AllowAlarmsToPublish(this.AlarmTopic)
	action := awscloudwatchactions.NewSnsAction(this.AlarmTopic)
	this.ErrorsAlarm = this.Function.MetricErrors(&awscloudwatch.MetricOptions{
		Period: awscdk.Duration_Minutes(num(5)), Statistic: str("Sum"),
	}).CreateAlarm(this, str("ErrorsAlarm"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   str("An invocation of " + *props.ImportPath + " failed; see its log group and dead-letter queue"),
		Threshold:          num(1),
		EvaluationPeriods:  num(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	this.ErrorsAlarm.AddAlarmAction(action)
	if props.DeadLetterQueue == nil {
		this.DeadLetterAlarm = NewDeadLetterAlarm(this, str("DeadLetterAlarm"), this.DeadLetterQueue,
			"Events for "+*props.ImportPath+" failed every retry and wait in its dead-letter queue", this.AlarmTopic)
	}
	return this
}

// NewDeadLetterQueue defines, as id under scope, a dead-letter queue as a
// GoFunction makes its own: encrypted with key, SSL-only, keeping messages
// 14 days, retained when the stack is deleted. holder says what sends to it,
// for the reason of its cdk-nag AwsSolutions-SQS3 suppression.
func NewDeadLetterQueue(scope constructs.Construct, id *string, key awskms.IKey, holder string) awssqs.Queue {
	queue := awssqs.NewQueue(scope, id, &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: key,
		EnforceSSL:          boolean(true),
		RetentionPeriod:     awscdk.Duration_Days(num(14)),
		DataKeyReuse:        awscdk.Duration_Hours(num(1)),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
	nag.Suppress(queue, nag.Rule{ID: "AwsSolutions-SQS3",
		Reason: "This queue is itself the dead-letter queue of " + holder + "; a dead-letter queue of a dead-letter queue would only move the same messages."})
	return queue
}

// NewDeadLetterAlarm defines, as id under scope, an alarm that fires as soon
// as queue holds a message (its maximum visible messages over 5 minutes),
// with description, notifying topic.
func NewDeadLetterAlarm(scope constructs.Construct, id *string, queue awssqs.IQueue, description string, topic awssns.ITopic) awscloudwatch.Alarm {
	alarm := queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
		Period: awscdk.Duration_Minutes(num(5)), Statistic: str("Maximum"),
	}).CreateAlarm(scope, id, &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   str(description),
		Threshold:          num(1),
		EvaluationPeriods:  num(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
	return alarm
}

// iam5TracingReason is the reason of the AwsSolutions-IAM5 suppression of
// Resource::* on every GoFunction's TracingPolicy.
const iam5TracingReason = "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions; this policy holds only them."

// lambdaOutsideVPCReason is the reason of the NIST.800.53.R5-LambdaInsideVPC
// suppression: true for a function that calls only AWS APIs, and for one
// that also calls what externalEgress describes.
func lambdaOutsideVPCReason(externalEgress *string) string {
	if externalEgress == nil {
		return "The function calls only AWS service APIs, over TLS with SigV4, and reaches no VPC resources; a VPC would add NAT or VPC endpoint infrastructure without narrowing what it can reach."
	}
	return "The function reaches no VPC resources; it calls AWS service APIs over TLS with SigV4 and, outside AWS, " + strings.TrimSpace(*externalEgress) +
		". A VPC would add a NAT gateway for that traffic, and NAT or VPC endpoints for the AWS APIs, without narrowing what the function can reach."
}

// LogGroupPrefix starts the name of every GoFunction log group; the key
// policy lets CloudWatch Logs use the key for log groups under it.
const LogGroupPrefix = "/golden-ami/lambda/"

// AddToRolePolicy adds statements to the function's policy, Policy, where
// grants to the GoFunction also go (see GrantPrincipal).
func (f *GoFunction) AddToRolePolicy(statements ...awsiam.PolicyStatement) {
	f.Policy.AddStatements(statements...)
}

// RuleTarget is the function as an EventBridge rule target that retries
// RetryAttempts times within MaxEventAge and then sends the event to the
// dead-letter queue.
func (f *GoFunction) RuleTarget(event awsevents.RuleTargetInput) awsevents.IRuleTarget {
	return awseventstargets.NewLambdaFunction(f.Function, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: f.DeadLetterQueue,
		RetryAttempts:   f.retryAttempts,
		MaxEventAge:     f.maxEventAge,
		Event:           event,
	})
}

// Subscribe subscribes the function to topic; messages SNS cannot deliver
// go to the dead-letter queue.
func (f *GoFunction) Subscribe(topic awssns.ITopic) awssns.Subscription {
	return topic.AddSubscription(awssnssubscriptions.NewLambdaSubscription(f.Function, &awssnssubscriptions.LambdaSubscriptionProps{
		DeadLetterQueue: f.DeadLetterQueue,
	}))
}

// viaServices limits st, a grant on a key, to calls that SQS, SNS and
// Lambda make for the function in stack's region: its dead letters, its
// results and the topics it publishes to, and its environment. The
// function's code never calls KMS itself, so it cannot decrypt what else
// the key protects (logs, other queues) directly.
func viaServices(stack awscdk.Stack, st awsiam.PolicyStatement) awsiam.PolicyStatement {
	st.AddCondition(str("StringEquals"), map[string]interface{}{"kms:ViaService": []string{
		cdkkey.RegionalService(stack, "sqs"), cdkkey.RegionalService(stack, "sns"), cdkkey.RegionalService(stack, "lambda"),
	}})
	return st
}

// keyPolicyStatements let the services that write to this construct's
// encrypted resources use the key, each only on behalf of this account.
func keyPolicyStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	partition, account, region := *stack.Partition(), *stack.Account(), *stack.Region()
	service := func(sid, principal string, actions []string, conditions map[string]interface{}) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        str(sid),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(str(principal), nil)},
			Actions:    strs(actions...),
			Resources:  strs("*"),
			Conditions: &conditions,
		})
	}
	useKey := []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}
	sameAccount := map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": account}}
	return []awsiam.PolicyStatement{
		service("AllowFunctionLogGroups", cdkkey.RegionalService(stack, "logs"), useKey, map[string]interface{}{
			"ArnLike": map[string]interface{}{
				"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s*", partition, region, account, LogGroupPrefix),
			},
		}),
		deadLetterKeyStatements(account)[0],
		deadLetterKeyStatements(account)[1],
		service("AllowCloudWatchAlarms", "cloudwatch.amazonaws.com", []string{"kms:Decrypt", "kms:GenerateDataKey*"}, sameAccount),
	}
}

// deadLetterKeyStatements let EventBridge rules and SNS subscriptions of
// account send dead letters to a queue encrypted with the key.
func deadLetterKeyStatements(account string) []awsiam.PolicyStatement {
	var out []awsiam.PolicyStatement
	for _, s := range []struct{ sid, principal string }{
		{"AllowEventBridgeDeadLetters", "events.amazonaws.com"},
		{"AllowSNSDeadLetters", "sns.amazonaws.com"},
	} {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        str(s.sid),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(str(s.principal), nil)},
			Actions:    strs("kms:Decrypt", "kms:GenerateDataKey"),
			Resources:  strs("*"),
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": account}},
		}))
	}
	return out
}

// AllowDeadLetters adds to key's policy what EventBridge rules and SNS
// subscriptions of key's account need to send dead letters to a queue
// encrypted with it (the statements a GoFunction adds to its own key). For an
// imported key it does nothing; that key's owner must allow it.
func AllowDeadLetters(key awskms.IKey) {
	for _, s := range deadLetterKeyStatements(*awscdk.Stack_Of(key).Account()) {
		key.AddToResourcePolicy(s, boolean(true))
	}
}

// AllowAlarmsToPublish adds to topic's resource policy what CloudWatch
// needs to publish the alarm actions of topic's account and region: alarms
// publish as the service cloudwatch.amazonaws.com, and a topic policy (which
// EnforceSSL creates) replaces the default one that would have let them.
// For an imported topic it does nothing; that topic's owner must allow it.
func AllowAlarmsToPublish(topic awssns.ITopic) {
	stack := awscdk.Stack_Of(topic)
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        str("AllowCloudWatchAlarms"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(str("cloudwatch.amazonaws.com"), nil)},
		Actions:    strs("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:SourceAccount": *stack.Account()},
			"ArnLike": map[string]interface{}{"aws:SourceArn": fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:*",
				*stack.Partition(), *stack.Region(), *stack.Account())},
		},
	}))
}

// environment is props.Environment plus GOMAXPROCS=1 when the function's
// memory buys at most one vCPU (OneVCPUMemoryMiB) and the caller
// did not set it.
func environment(props *GoFunctionProps) *map[string]*string {
	env := map[string]*string{}
	if props.Environment != nil {
		for k, v := range *props.Environment {
			env[k] = v
		}
	}
	if v, ok := contract.GoMaxProcs(*orNumber(props.MemorySizeMiB, 128)); ok && env[contract.EnvGoMaxProcs] == nil {
		env[contract.EnvGoMaxProcs] = str(v)
	}
	if len(env) == 0 {
		return nil
	}
	return &env
}

// Lambda's limits on a function's description and on the total size of its
// environment variables.
const (
	maxDescription      = 256
	maxEnvironmentBytes = 4096
)

// environmentSize is the size Lambda checks against its 4 KB limit: the
// JSON object of the variables ({"NAME":"value",...}). A value resolved at
// deployment counts as empty.
func environmentSize(env *map[string]*string) int {
	if env == nil {
		return 0
	}
	literal := make(map[string]string, len(*env))
	for k, v := range *env {
		if v != nil && !*awscdk.Token_IsUnresolved(*v) {
			literal[k] = *v
		} else {
			literal[k] = ""
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(literal) // a map of strings always encodes
	return b.Len() - 1      // Encode ends with a newline
}

func sortedKeys(m map[string]*string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func statement(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: str(sid), Actions: strs(actions...), Resources: &resources})
}

func orNumber(v *float64, def float64) *float64 {
	if v == nil {
		return num(def)
	}
	return v
}

func orDuration(v, def awscdk.Duration) awscdk.Duration {
	if v == nil {
		return def
	}
	return v
}

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

// SendResultsTo makes Lambda publish the outcome of every asynchronous
// invocation to topic: the function's result on success, the error after
// the last retry on failure (the event still goes to the dead-letter queue
// too). topicKey is the key topic is encrypted with, or nil. The permissions
// go into Policy.
//
// Lambda takes one destination per outcome: calling it again with the same
// topic changes nothing, and with another topic panics (subscribe the other
// endpoints to the first topic instead).
func (f *GoFunction) SendResultsTo(topic awssns.ITopic, topicKey awskms.IKey) {
	if f.resultsTopic != nil {
		if f.resultsTopic == topic {
			return
		}
		panic(fmt.Errorf("gofunction: SendResultsTo %s: the results of %s already go to %s, and Lambda takes one destination per outcome (subscribe to that topic instead)",
			*topic.Node().Path(), *f.Node().Path(), *f.resultsTopic.Node().Path()))
	}
	f.resultsTopic = topic
	cfg, ok := f.Function.Node().TryFindChild(str("EventInvokeConfig")).(awslambda.EventInvokeConfig)
	if !ok {
		panic("gofunction: the function has no asynchronous invocation config")
	}
	cfn := cfg.Node().DefaultChild().(awslambda.CfnEventInvokeConfig)
	cfn.SetDestinationConfig(&awslambda.CfnEventInvokeConfig_DestinationConfigProperty{
		OnSuccess: &awslambda.CfnEventInvokeConfig_OnSuccessProperty{Destination: topic.TopicArn()},
		OnFailure: &awslambda.CfnEventInvokeConfig_OnFailureProperty{Destination: topic.TopicArn()},
	})
	statements := []awsiam.PolicyStatement{statement("PublishResults", []string{"sns:Publish"}, topic.TopicArn())}
	// With the function's own key, UseOwnKey already grants exactly this.
	if topicKey != nil && topicKey != f.EncryptionKey {
		statements = append(statements, viaServices(awscdk.Stack_Of(f), statement("EncryptResults", []string{"kms:GenerateDataKey", "kms:Decrypt"}, topicKey.KeyArn())))
	}
	f.AddToRolePolicy(statements...)
	// The destination needs the permissions before Lambda validates it.
	cfn.AddResourceDependency(f.Policy.Node().DefaultChild().(awscdk.CfnResource), str("Lambda checks it may publish to the destination"))
}
