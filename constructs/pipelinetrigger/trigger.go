package pipelinetrigger

import (
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/constructs/gofunction"
	"github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/cdkkey"
	"github.com/platform-eng/golden-ami/internal/contract"
)

// PipelineTriggerProps configures a PipelineTrigger.
type PipelineTriggerProps struct {
	// Pipeline is the golden-image pipeline to start: one defined in this
	// app, or one defined elsewhere
	// (goldenimage.GoldenImagePipelineFromAttributes).
	//
	// Required.
	Pipeline *goldenimage.GoldenImagePipeline

	// Parameter is the upstream-AMI parameter whose changes start a build.
	//
	// Default: Pipeline.UpstreamParameter; required when the pipeline's
	// parent is not an SSM parameter it knows.
	Parameter awsssm.IStringParameter

	// EncryptionKey encrypts the trigger function's environment and logs,
	// and the dead-letter queue and alarm topic it creates; it is passed to
	// the function's GoFunction (see gofunction.GoFunctionProps).
	//
	// Default: Pipeline.EncryptionKey when it is a key defined in this
	// stack (the function adds its statements to that key's policy);
	// otherwise (an imported key, whose policy CDK cannot change, or one
	// of another stack) a new
	// customer-managed key with yearly rotation, retained on stack deletion
	// (the GoFunction default).
	EncryptionKey awskms.IKey

	// DeadLetterQueue receives events that failed every retry, from
	// the parameter rule and Lambda's asynchronous invocations.
	//
	// Default: a new SQS queue encrypted with EncryptionKey, keeping messages
	// 14 days, with an alarm on its depth (the GoFunction default).
	DeadLetterQueue awssqs.IQueue

	// AlarmTopic receives the trigger function's alarms.
	//
	// Default: a new SNS topic encrypted with EncryptionKey (the GoFunction default).
	AlarmTopic awssns.ITopic

	// LogRetention is how long the trigger function's logs are kept.
	//
	// Default: awslogs.RetentionDays_THREE_MONTHS (the GoFunction default).
	LogRetention awslogs.RetentionDays
}

// PipelineTrigger starts a golden-image pipeline whenever the upstream
// monitor writes a new value to its upstream-AMI parameter: an EventBridge
// rule matching only that parameter's Create and Update changes invokes the
// imagebuildertrigger function, whose role may read that parameter's history
// and start that pipeline (and, once Notifications.NotifyDecisions sends its
// results to a topic, publish to that topic with its key). The function
// ignores versions written neither by the upstream monitor (their
// description lacks amimonitor.UpstreamDescriptionPrefix) nor by a
// latest-AMI recorder (the parameter can be another pipeline's latest-AMI
// parameter, so a team's image is rebuilt on each golden image), such as
// the seed CloudFormation writes on every update of the parameter resource. It runs one invocation
// at a time (reserved concurrency 1) and derives the start request's client
// token from the value and the version at which the monitor first wrote it,
// so redelivered events, and the monitor writing its value back after a
// seed, do not start a second build while Image Builder remembers the token.
// It never changes recipes or the pipeline: the recipe's "ssm:" parent
// resolves the new AMI when the build starts.
type PipelineTrigger struct {
	constructs.Construct

	// Function is the trigger function.
	Function *gofunction.GoFunction
	// Rule matches the parameter's Create and Update changes.
	Rule awsevents.Rule
}

// NewPipelineTrigger defines the trigger. It panics with an error naming the
// field when props are invalid, before defining anything.
func NewPipelineTrigger(scope constructs.Construct, id *string, props *PipelineTriggerProps) *PipelineTrigger {
	if props == nil {
		props = &PipelineTriggerProps{}
	}
	parameter := props.Parameter
	var errs []error
	if props.Pipeline == nil {
		errs = append(errs, errors.New("pipelinetrigger: Pipeline is required"))
	} else if parameter == nil {
		parameter = props.Pipeline.UpstreamParameter
		if parameter == nil {
			errs = append(errs, fmt.Errorf("pipelinetrigger: Parameter is required: pipeline %s does not build on an SSM parameter it knows", *props.Pipeline.ImageName))
		}
	}
	if err := errors.Join(errs...); err != nil {
		panic(err)
	}

	this := &PipelineTrigger{}
	constructs.NewConstruct_Override(this, scope, id)
	key := props.EncryptionKey
	if key == nil {
		key = cdkkey.Adoptable(this, props.Pipeline.EncryptionKey) // nil: the function makes its own
	}
	this.Function = gofunction.NewGoFunction(this, str("Function"), &gofunction.GoFunctionProps{
		ImportPath:  str(contract.FunctionImageBuilderTrigger),
		Description: str("Starts golden image pipeline " + *props.Pipeline.ImageName + " when its upstream AMI changes"),
		Environment: &map[string]*string{
			contract.EnvImagePipelineARN: props.Pipeline.PipelineARN,
			contract.EnvSSMParameterName: parameter.ParameterName(),
		},
		// One start at a time: with the deterministic client token, this
		// keeps a burst of redeliveries from racing each other.
		ReservedConcurrentExecutions: num(1),
		EncryptionKey:                key,
		DeadLetterQueue:              props.DeadLetterQueue,
		AlarmTopic:                   props.AlarmTopic,
		LogRetention:                 props.LogRetention,
	})
	this.Function.AddToRolePolicy(
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: str("ReadUpstreamParameter"), Actions: &[]*string{str("ssm:GetParameterHistory")}, Resources: &[]*string{parameter.ParameterArn()},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: str("StartPipeline"), Actions: &[]*string{str("imagebuilder:StartImagePipelineExecution")}, Resources: &[]*string{props.Pipeline.PipelineARN},
		}),
	)
	this.Rule = awsevents.NewRule(this, str("Rule"), &awsevents.RuleProps{
		Description: str("Starts golden image pipeline " + *props.Pipeline.ImageName + " on a new upstream AMI"),
		EventPattern: &awsevents.EventPattern{
			Source:     &[]*string{str(contract.SourceSSM)},
			DetailType: &[]*string{str(contract.DetailTypeParameterChange)},
			Detail: &map[string]interface{}{
				"name":      []interface{}{parameter.ParameterName()},
				"operation": []interface{}{contract.OperationCreate, contract.OperationUpdate},
			},
		},
		Targets: &[]awsevents.IRuleTarget{this.Function.RuleTarget(nil)},
	})
	return this
}

// GrantInvoke lets grantee invoke the trigger function directly
// (lambda:InvokeFunction), for example to replay a Parameter Store Change
// event from the dead-letter queue. Replays are safe: the client token makes
// a replay of an already-started change return the original build.
func (t *PipelineTrigger) GrantInvoke(grantee awsiam.IGrantable) awsiam.Grant {
	return t.Function.Function.GrantInvoke(grantee)
}

func str(s string) *string   { return &s }
func num(v float64) *float64 { return &v }
