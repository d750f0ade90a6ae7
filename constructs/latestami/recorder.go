package latestami

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
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
	"github.com/platform-eng/golden-ami/internal/nag"
	"github.com/platform-eng/golden-ami/internal/runes"
	"github.com/platform-eng/golden-ami/internal/validate"
)

// Trigger says how the recorder learns that an image is finished.
type Trigger string

// Triggers.
const (
	// TriggerNotification subscribes to the pipeline's SNS topic; SNS
	// retries delivery for days. The message's AMI ids are not trusted: the
	// function reads the image (imagebuilder:GetImage) and records what
	// Image Builder reports.
	TriggerNotification Trigger = "notification"
	// TriggerEventBridge uses the pipeline's OnImageAvailable rule. The event
	// carries no AMI ids, so the function reads the image (imagebuilder:GetImage).
	TriggerEventBridge Trigger = "eventbridge"
)

// LatestAMIRecorderProps configures a LatestAMIRecorder.
type LatestAMIRecorderProps struct {
	// Pipeline is the golden-image pipeline whose finished AMIs are recorded:
	// one defined in this app, or one defined elsewhere
	// (goldenimage.GoldenImagePipelineFromAttributes). Images from any
	// other pipeline are ignored.
	//
	// Required.
	Pipeline *goldenimage.GoldenImagePipeline

	// ParameterName is the latest-AMI parameter, written in every
	// distribution region of the pipeline.
	//
	// Default: "/golden-ami/<ImageName>/latest".
	ParameterName *string

	// ParameterTier is the tier the function writes the parameter in.
	// awsssm.ParameterTier_ADVANCED lets the parameter be shared with other
	// accounts through AWS RAM (for latestami.LatestAMIFromParameterARN),
	// at a monthly charge per parameter; a parameter once advanced cannot go
	// back to standard.
	//
	// Default: Parameter Store's default tier (standard, unless the
	// account's default-tier setting says otherwise).
	ParameterTier awsssm.ParameterTier

	// Trigger says how the recorder learns about finished images.
	//
	// Default: TriggerNotification.
	Trigger Trigger

	// EncryptionKey encrypts the recorder function's environment and logs,
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
	// the pipeline's topic subscription (TriggerNotification) or OnImageAvailable rule (TriggerEventBridge) and Lambda's asynchronous invocations.
	//
	// Default: a new SQS queue encrypted with EncryptionKey, keeping messages
	// 14 days, with an alarm on its depth (the GoFunction default).
	DeadLetterQueue awssqs.IQueue

	// AlarmTopic receives the recorder function's alarms.
	//
	// Default: a new SNS topic encrypted with EncryptionKey (the GoFunction default).
	AlarmTopic awssns.ITopic

	// LogRetention is how long the recorder function's logs are kept.
	//
	// Default: awslogs.RetentionDays_THREE_MONTHS (the GoFunction default).
	LogRetention awslogs.RetentionDays
}

// LatestAMIRecorder writes each finished golden AMI into the latest-AMI
// parameter of every region it was distributed to (data type
// aws:ec2:image), tagged with its provenance: image ARN, pipeline, recipe
// and build date. It skips a region whose parameter already holds the AMI,
// so redelivered notifications change nothing and start nothing
// downstream. Failed and cancelled builds write nothing.
//
// The function creates the parameter with the first AVAILABLE image; until
// then it does not exist, so nothing can launch an unhardened image from it.
// The parameters are not CloudFormation resources: they outlive the stack.
type LatestAMIRecorder struct {
	constructs.Construct

	// Function is the recorder function.
	Function *gofunction.GoFunction
	// ParameterName is the latest-AMI parameter's name, the same in every region.
	ParameterName *string
	// Regions are the regions the parameter is written in, the stack's first.
	Regions *[]*string
	// Pipeline is the golden-image pipeline whose AMIs are recorded.
	Pipeline *goldenimage.GoldenImagePipeline
	// Subscription is the topic subscription, with TriggerNotification.
	Subscription awssns.Subscription
	// Rule is the OnImageAvailable rule, with TriggerEventBridge. It is a
	// child of the pipeline named "RecordLatestAMI"; a further
	// EventBridge recorder on the same pipeline names its rule
	// "RecordLatestAMI" followed by its own unique id
	// (awscdk.Names_NodeUniqueId), so the first keeps the id it always had.
	Rule awsevents.Rule
}

// NewLatestAMIRecorder defines the recorder. It panics with an error naming
// the field and the value when props are invalid, before defining anything.
func NewLatestAMIRecorder(scope constructs.Construct, id *string, props *LatestAMIRecorderProps) *LatestAMIRecorder {
	if props == nil {
		props = &LatestAMIRecorderProps{}
	}
	var errs []error
	if props.Pipeline == nil {
		errs = append(errs, errors.New("latestami: Pipeline is required"))
	}
	if n := props.ParameterName; n != nil && !strings.Contains(*n, "${Token[") {
		if err := validate.WritableSSMParameterName(*n); err != nil {
			errs = append(errs, fmt.Errorf("latestami: ParameterName %w", err))
		}
	}
	trigger := props.Trigger
	if trigger == "" {
		trigger = TriggerNotification
	}
	if trigger != TriggerNotification && trigger != TriggerEventBridge {
		errs = append(errs, fmt.Errorf("latestami: Trigger %q is not a trigger (want TriggerNotification %q or TriggerEventBridge %q)", string(trigger), TriggerNotification, TriggerEventBridge))
	}
	if trigger == TriggerNotification && props.Pipeline != nil && props.Pipeline.Topic == nil {
		errs = append(errs, fmt.Errorf("latestami: Trigger %q needs the pipeline's Topic, and pipeline %s has none (imported without one): use TriggerEventBridge, or give goldenimage.GoldenImagePipelineAttributes its Topic", string(trigger), *props.Pipeline.ImageName))
	}
	if _, ok := apiTiers[props.ParameterTier]; !ok && props.ParameterTier != "" {
		errs = append(errs, fmt.Errorf("latestami: ParameterTier %q is not a parameter tier (want awsssm.ParameterTier_STANDARD, _ADVANCED or _INTELLIGENT_TIERING)", string(props.ParameterTier)))
	}
	if err := errors.Join(errs...); err != nil {
		panic(err)
	}

	p := props.Pipeline
	this := &LatestAMIRecorder{ParameterName: props.ParameterName, Regions: p.DistributionRegions, Pipeline: p}
	if this.ParameterName == nil {
		this.ParameterName = str("/golden-ami/" + *p.ImageName + "/latest")
	}
	constructs.NewConstruct_Override(this, scope, id)

	key := props.EncryptionKey
	if key == nil {
		key = cdkkey.Adoptable(this, p.EncryptionKey) // nil: the function makes its own
	}
	this.Function = gofunction.NewGoFunction(this, str("Function"), &gofunction.GoFunctionProps{
		ImportPath:  str(contract.FunctionLatestAMI),
		Description: str(runes.Cut("Records the latest AMI of golden image "+*p.ImageName+" in "+*this.ParameterName, 256)),
		Environment: environment(this.ParameterName, p.PipelineARN, props.ParameterTier),
		// The function waits, region by region, for Parameter Store to
		// validate each aws:ec2:image write (up to 10 s each, longer when it
		// retries a failed write), so give it more than the default minute.
		Timeout:         awscdk.Duration_Minutes(num(3)),
		EncryptionKey:   key,
		DeadLetterQueue: props.DeadLetterQueue,
		AlarmTopic:      props.AlarmTopic,
		LogRetention:    props.LogRetention,
	})
	var arns []*string
	for _, region := range *this.Regions {
		arns = append(arns, this.ParameterARN(region))
	}
	this.Function.AddToRolePolicy(
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       str("WriteLatestAMIParameterInEveryRegion"),
			Actions:   strs("ssm:GetParameterHistory", "ssm:PutParameter", "ssm:AddTagsToResource", "ssm:ListTagsForResource"),
			Resources: &arns,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       str("ValidateAMIParameters"),
			Actions:   strs("ec2:DescribeImages"),
			Resources: strs("*"),
		}),
	)
	nag.Suppress(this.Function.Policy, nag.Rule{
		ID:        "AwsSolutions-IAM5",
		Reason:    "ec2:DescribeImages supports no resource-level permissions, so its resource must be *; Parameter Store needs it to validate aws:ec2:image values the function writes.",
		AppliesTo: []string{"Resource::*"},
	})

	// Either trigger only names the image: the function records what
	// GetImage reports, never AMI ids from a message anyone allowed to
	// publish to the topic could have sent.
	this.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       str("ReadPipelineImages"),
		Actions:   strs("imagebuilder:GetImage"),
		Resources: &[]*string{p.ImageARNs()},
	}))
	nag.Suppress(this.Function.Policy, nag.Rule{ID: "AwsSolutions-IAM5", Reason: nag.ImageVersionsReason, AppliesTo: []string{nag.ImageVersions(this, *p.RecipeName)}})
	switch trigger {
	case TriggerNotification:
		this.Subscription = this.Function.Subscribe(p.Topic)
	case TriggerEventBridge:
		this.Rule = p.OnImageAvailable(ruleID(p, this), &awsevents.OnEventOptions{
			Target: this.Function.RuleTarget(nil),
		})
	}
	return this
}

// ruleID is the construct id of recorder's OnImageAvailable rule under
// pipeline: "RecordLatestAMI" when that is free, otherwise made unique with
// the recorder's path.
func ruleID(pipeline *goldenimage.GoldenImagePipeline, recorder constructs.Construct) *string {
	id := "RecordLatestAMI"
	if pipeline.Node().TryFindChild(&id) != nil {
		id += *awscdk.Names_NodeUniqueId(recorder.Node())
	}
	return &id
}

// ParameterARN is the ARN of the latest-AMI parameter in region.
func (r *LatestAMIRecorder) ParameterARN(region *string) *string {
	stack := awscdk.Stack_Of(r)
	return str("arn:" + *stack.Partition() + ":ssm:" + *region + ":" + *stack.Account() + ":parameter" + *r.ParameterName)
}

// GrantRead lets grantee read the latest-AMI parameter in every region:
// ssm:GetParameter and ssm:GetParameters on its ARNs.
func (r *LatestAMIRecorder) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	var arns []*string
	for _, region := range *r.Regions {
		arns = append(arns, r.ParameterARN(region))
	}
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      strs("ssm:GetParameter", "ssm:GetParameters"),
		ResourceArns: &arns,
	})
}

// environment is the recorder function's configuration contract.
func environment(parameterName, pipelineARN *string, tier awsssm.ParameterTier) *map[string]*string {
	env := map[string]*string{
		contract.EnvSSMParameterName: parameterName,
		contract.EnvImagePipelineARN: pipelineARN,
	}
	if tier != "" {
		env[contract.EnvSSMParameterTier] = str(apiTiers[tier])
	}
	return &env
}

// apiTiers maps CDK's tier names to Parameter Store's.
var apiTiers = map[awsssm.ParameterTier]string{
	awsssm.ParameterTier_STANDARD:            "Standard",
	awsssm.ParameterTier_ADVANCED:            "Advanced",
	awsssm.ParameterTier_INTELLIGENT_TIERING: "Intelligent-Tiering",
}

func str(s string) *string { return &s }

func num(f float64) *float64 { return &f }

func strs(values ...string) *[]*string {
	out := make([]*string, len(values))
	for i := range values {
		out[i] = &values[i]
	}
	return &out
}
