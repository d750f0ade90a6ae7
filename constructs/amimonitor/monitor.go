package amimonitor

import (
	"errors"
	"fmt"
	"regexp"
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
	"github.com/platform-eng/golden-ami/internal/cdkduration"
	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/nag"
	"github.com/platform-eng/golden-ami/internal/runes"
	"github.com/platform-eng/golden-ami/internal/validate"
)

// UpstreamDescriptionPrefix starts the description of every parameter
// version the monitor writes. The imagebuildertrigger function builds only
// versions so described; write it yourself to make a hand-written value
// start a build.
const UpstreamDescriptionPrefix = contract.UpstreamDescriptionPrefix

// UpstreamMonitorProps configures an UpstreamMonitor. Set exactly one
// source: SourceParameterName, PlatformBranch, PlatformARN, or ImageOwner
// together with ImageNamePattern.
type UpstreamMonitorProps struct {
	// Parameter is the upstream-AMI parameter the monitor keeps current, the
	// one a golden image recipe's "ssm:" parent points at (for example
	// GoldenImagePipeline.UpstreamParameter).
	//
	// Default: a new String parameter of data type aws:ec2:image named
	// ParameterName and seeded with ParameterSeed, described "Upstream AMI
	// seed; the upstream monitor replaces it". CloudFormation writes the
	// seed again whenever it updates the resource; the trigger ignores
	// that write and the monitor replaces it (see ParameterSeed).
	Parameter awsssm.IStringParameter

	// ParameterName names the parameter the construct creates when
	// Parameter is not set.
	//
	// Default: "/golden-ami/upstream/" followed by the lowercased
	// awscdk.Names_UniqueResourceName of this construct with "-" as the
	// separator: the stack name and the construct ids on the path, then a
	// hash of the path, at most 200 characters (e.g.
	// "/golden-ami/upstream/test-monitor-98d5b9ba" for construct "Monitor"
	// in stack "Test").
	ParameterName *string

	// ParameterSeed is the first value of the parameter the construct
	// creates: an AMI id or a "{{resolve:ssm:...}}" dynamic reference.
	// CloudFormation writes it at creation and on every update of the
	// parameter resource. No build starts for it: the imagebuildertrigger
	// function builds only the values the monitor writes (described with
	// UpstreamDescriptionPrefix), and the monitor replaces the seed,
	// or claims it when it already is the upstream's AMI, on its next run.
	//
	// Default: a dynamic reference to SourceParameterName; required for
	// other sources.
	ParameterSeed *string

	// SourceParameterName makes the monitor follow an SSM parameter holding
	// an AMI id, such as
	// "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
	// in the stack's region. One of the four sources is required.
	//
	// Default: none; another source is set.
	SourceParameterName *string

	// PlatformBranch makes the monitor follow the newest Ready version of an
	// Elastic Beanstalk platform branch, e.g. "Docker running on 64bit
	// Amazon Linux 2023". One of the four sources is required.
	//
	// Default: none; another source is set.
	PlatformBranch *string

	// PlatformARN makes the monitor follow one Elastic Beanstalk platform
	// version, by its ARN. One of the four sources is required.
	//
	// Default: none; another source is set.
	PlatformARN *string

	// ImageOwner, with ImageNamePattern, makes the monitor follow the newest
	// EC2 image, by creation date, of this owner: "amazon", "self",
	// "aws-marketplace", "aws-backup-vault" or a 12-digit account id. One of
	// the four sources is required.
	//
	// Default: none; another source is set. Required with ImageNamePattern.
	ImageOwner *string

	// ImageNamePattern, with ImageOwner, is the name filter the newest image
	// must match, in EC2's DescribeImages syntax ("*" and "?" wildcards).
	//
	// Default: none; another source is set. Required with ImageOwner.
	ImageNamePattern *string

	// CheckInterval is how often the monitor looks at the upstream (whole
	// minutes, at least 1: an EventBridge rate).
	//
	// Default: 1 hour.
	CheckInterval awscdk.Duration

	// AdditionalTriggers are event patterns that also run the monitor, for
	// example an upstream team's own "new base image" event.
	//
	// Default: none; only the schedule runs it.
	AdditionalTriggers *[]*awsevents.EventPattern

	// EncryptionKey encrypts the monitor function's environment and logs,
	// and the dead-letter queue and alarm topic it creates; it is passed to
	// the function's GoFunction (see gofunction.GoFunctionProps).
	//
	// Default: a new customer-managed key with yearly rotation, retained on
	// stack deletion (the GoFunction default).
	EncryptionKey awskms.IKey

	// DeadLetterQueue receives monitor runs that failed every retry, from
	// the schedule, the AdditionalTriggers and Lambda's asynchronous
	// invocations.
	//
	// Default: a new SQS queue encrypted with EncryptionKey, keeping messages
	// 14 days, with an alarm on its depth (the GoFunction default).
	DeadLetterQueue awssqs.IQueue

	// AlarmTopic receives the monitor function's alarms.
	//
	// Default: a new SNS topic encrypted with EncryptionKey (the GoFunction default).
	AlarmTopic awssns.ITopic

	// LogRetention is how long the monitor function's logs are kept.
	//
	// Default: awslogs.RetentionDays_THREE_MONTHS (the GoFunction default).
	LogRetention awslogs.RetentionDays
}

// UpstreamMonitor runs the amimonitor function on a schedule: it resolves
// the upstream AMI and writes it to the upstream-AMI parameter only when it
// changed, or when the current value is one the monitor did not write (a
// CloudFormation seed). Its writes, marked by their description, are what
// start a golden image build (see pipelinetrigger). The function's role may
// read its one source and read and write only its one parameter.
type UpstreamMonitor struct {
	constructs.Construct

	// Function is the monitor function.
	Function *gofunction.GoFunction
	// Parameter is the upstream-AMI parameter the monitor maintains.
	Parameter awsssm.IStringParameter
	// Schedule is the rule that runs the monitor every CheckInterval.
	Schedule awsevents.Rule
	// Triggers are the rules of AdditionalTriggers.
	Triggers []awsevents.Rule
}

var (
	platformARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:elasticbeanstalk:[a-z0-9-]+::platform/[^/]+/[0-9]+(\.[0-9]+)*$`)
	// lambdaParameterNamePattern is what the monitor function accepts as
	// its parameter's name (lambdas/amimonitor, configFromEnv).
	lambdaParameterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
)

func (p *UpstreamMonitorProps) validate() error {
	var errs []error
	fail := func(field string, err error) { errs = append(errs, fmt.Errorf("amimonitor: %s %w", field, err)) }
	known := func(s *string) bool { return s != nil && !strings.Contains(*s, "${Token[") }

	sources := 0
	for _, s := range []*string{p.SourceParameterName, p.PlatformBranch, p.PlatformARN} {
		if s != nil {
			sources++
		}
	}
	// The monitor function reads an empty variable as unset: ImageOwner and
	// ImageNamePattern must both be non-empty (or both unset).
	oneEmpty := false
	if p.ImageOwner != nil || p.ImageNamePattern != nil {
		sources++
		switch {
		case p.ImageOwner == nil || p.ImageNamePattern == nil:
			fail("ImageOwner/ImageNamePattern", errors.New("must be set together"))
		case (*p.ImageOwner == "") != (*p.ImageNamePattern == ""):
			oneEmpty = true
			fail("ImageOwner", fmt.Errorf("%q and ImageNamePattern %q must both be non-empty (the monitor function reads an empty value as unset)", *p.ImageOwner, *p.ImageNamePattern))
		}
	}
	if sources != 1 {
		fail("source", fmt.Errorf("has %d sources set (want exactly one of SourceParameterName, PlatformBranch, PlatformARN, or ImageOwner with ImageNamePattern)", sources))
	}
	if known(p.SourceParameterName) {
		if err := validate.SSMParameterName(*p.SourceParameterName); err != nil {
			fail("SourceParameterName", err)
		}
	}
	if known(p.PlatformARN) && !platformARNPattern.MatchString(*p.PlatformARN) {
		fail("PlatformARN", fmt.Errorf("%q is not an Elastic Beanstalk platform version ARN", *p.PlatformARN))
	}
	if b := p.PlatformBranch; b != nil && strings.TrimSpace(*b) == "" {
		fail("PlatformBranch", errors.New("is empty"))
	} else if known(b) && strings.TrimSpace(*b) != *b {
		// The function passes the branch to ListPlatformVersions as is.
		fail("PlatformBranch", fmt.Errorf("%q has leading or trailing whitespace (an Elastic Beanstalk branch name has none, so no platform version would match)", *b))
	}
	if known(p.ImageOwner) && !oneEmpty {
		if err := validate.ImageOwner(*p.ImageOwner); err != nil {
			fail("ImageOwner", err)
		}
	}
	if p.Parameter != nil && (p.ParameterName != nil || p.ParameterSeed != nil) {
		fail("ParameterName/ParameterSeed", errors.New("are only used when Parameter is not set"))
	}
	if known(p.ParameterName) {
		if err := validate.WritableSSMParameterName(*p.ParameterName); err != nil {
			fail("ParameterName", err)
		}
	}
	// The function refuses to copy its source onto its own parameter, and a
	// parameter name outside SSM's characters (checked above for ParameterName).
	if known(p.SourceParameterName) && known(p.ParameterName) && *p.SourceParameterName == *p.ParameterName {
		fail("SourceParameterName", fmt.Errorf("%q is also ParameterName (the monitor would copy the parameter onto itself)", *p.SourceParameterName))
	}
	if p.Parameter != nil {
		if name := p.Parameter.ParameterName(); known(name) {
			if known(p.SourceParameterName) && *p.SourceParameterName == *name {
				fail("SourceParameterName", fmt.Errorf("%q is also the name of Parameter (the monitor would copy the parameter onto itself)", *name))
			}
			if len(*name) > 2048 || !lambdaParameterNamePattern.MatchString(*name) {
				fail("Parameter", fmt.Errorf("name %q is not an SSM parameter name (want 1 to 2048 letters, digits, \".\", \"_\", \"-\" or \"/\")", *name))
			}
		}
	}
	if p.Parameter == nil && p.ParameterSeed == nil && p.SourceParameterName == nil && sources == 1 {
		fail("ParameterSeed", errors.New("is required to create the parameter when the source is not an SSM parameter"))
	}
	if s := p.ParameterSeed; known(s) && !strings.HasPrefix(*s, "{{resolve:ssm:") {
		if err := contract.ValidateAMIID(*s); err != nil {
			fail("ParameterSeed", fmt.Errorf("%q is neither an AMI id nor a \"{{resolve:ssm:...}}\" dynamic reference", *s))
		}
	}
	if err := cdkduration.Rate(p.CheckInterval); err != nil {
		fail("CheckInterval", err)
	}
	return errors.Join(errs...)
}

// NewUpstreamMonitor defines the monitor. It panics with an error naming the
// field and the value when props are invalid, before defining anything.
func NewUpstreamMonitor(scope constructs.Construct, id *string, props *UpstreamMonitorProps) *UpstreamMonitor {
	if props == nil {
		props = &UpstreamMonitorProps{}
	}
	if err := props.validate(); err != nil {
		panic(err)
	}
	this := &UpstreamMonitor{}
	constructs.NewConstruct_Override(this, scope, id)
	stack := awscdk.Stack_Of(this)

	this.Parameter = props.Parameter
	if this.Parameter == nil {
		name := props.ParameterName
		if name == nil {
			name = str("/golden-ami/upstream/" + strings.ToLower(*awscdk.Names_UniqueResourceName(this, &awscdk.UniqueResourceNameOptions{Separator: str("-"), MaxLength: num(200)})))
		}
		seed := props.ParameterSeed
		if seed == nil {
			seed = str("{{resolve:ssm:" + *props.SourceParameterName + "}}")
		}
		this.Parameter = awsssm.NewStringParameter(this, str("Parameter"), &awsssm.StringParameterProps{
			ParameterName: name,
			StringValue:   seed,
			DataType:      awsssm.ParameterDataType_AWS_EC2_IMAGE,
			// CloudFormation writes the seed again, with this description,
			// whenever it updates the resource. The trigger builds only
			// versions described with UpstreamDescriptionPrefix,
			// which this must never start with.
			Description: str("Upstream AMI seed; the upstream monitor replaces it"),
		})
	}

	env := map[string]*string{contract.EnvSSMParameterName: this.Parameter.ParameterName()}
	var source string
	switch {
	case props.SourceParameterName != nil:
		env[contract.EnvSourceParameterName] = props.SourceParameterName
		source = "SSM parameter " + *props.SourceParameterName
	case props.PlatformBranch != nil:
		env[contract.EnvPlatformBranch] = props.PlatformBranch
		source = "Elastic Beanstalk branch " + *props.PlatformBranch
	case props.PlatformARN != nil:
		env[contract.EnvPlatformARN] = props.PlatformARN
		source = "Elastic Beanstalk platform " + *props.PlatformARN
	default:
		env[contract.EnvImageOwner] = props.ImageOwner
		env[contract.EnvImageNamePattern] = props.ImageNamePattern
		source = "EC2 images " + *props.ImageOwner + "/" + *props.ImageNamePattern
	}
	this.Function = gofunction.NewGoFunction(this, str("Function"), &gofunction.GoFunctionProps{
		ImportPath:      str(contract.FunctionAMIMonitor),
		Description:     str(runes.Cut("Keeps the upstream-AMI parameter current from "+source, 256)),
		Environment:     &env,
		EncryptionKey:   props.EncryptionKey,
		DeadLetterQueue: props.DeadLetterQueue,
		AlarmTopic:      props.AlarmTopic,
		LogRetention:    props.LogRetention,
	})

	partition, region, account := *stack.Partition(), *stack.Region(), *stack.Account()
	statements := []awsiam.PolicyStatement{
		// GetParameterHistory reads who wrote the current value (its
		// description), which GetParameter does not return.
		statement("MaintainUpstreamParameter", []string{"ssm:GetParameter", "ssm:GetParameterHistory", "ssm:PutParameter", "ssm:AddTagsToResource", "ssm:ListTagsForResource"}, this.Parameter.ParameterArn()),
		// Parameter Store validates aws:ec2:image values with the writer's
		// own ec2:DescribeImages; the EC2 source lists images with it too.
		statement("DescribeImages", []string{"ec2:DescribeImages"}, str("*")),
	}
	appliesTo := []string{"Resource::*"}
	switch {
	case props.SourceParameterName != nil:
		owner := account
		if strings.HasPrefix(*props.SourceParameterName, "/aws/service/") {
			owner = "" // AWS's public parameters have no account in their ARN
		}
		statements = append(statements, statement("ReadSourceParameter", []string{"ssm:GetParameter"},
			str(fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s", partition, region, owner, *props.SourceParameterName))))
	case props.PlatformBranch != nil:
		platforms := fmt.Sprintf("arn:%s:elasticbeanstalk:%s::platform/%s/*", partition, region, *props.PlatformBranch)
		statements = append(statements, statement("ReadPlatformBranch", []string{"elasticbeanstalk:ListPlatformVersions", "elasticbeanstalk:DescribePlatformVersion"}, str(platforms)))
		appliesTo = append(appliesTo, nag.ResourceFinding(this, platforms))
	case props.PlatformARN != nil:
		statements = append(statements, statement("ReadPlatform", []string{"elasticbeanstalk:DescribePlatformVersion"}, props.PlatformARN))
	}
	this.Function.AddToRolePolicy(statements...)
	reason := "ec2:DescribeImages supports no resource-level permissions, so its resource must be *; Parameter Store needs it to validate aws:ec2:image values."
	if props.PlatformBranch != nil {
		reason += " The branch's platform versions are not known in advance, so the Elastic Beanstalk statement covers every version of this one branch."
	}
	nag.Suppress(this.Function.Policy, nag.Rule{ID: "AwsSolutions-IAM5", Reason: reason, AppliesTo: appliesTo})

	interval := props.CheckInterval
	if interval == nil {
		interval = awscdk.Duration_Hours(num(1))
	}
	this.Schedule = awsevents.NewRule(this, str("Schedule"), &awsevents.RuleProps{
		Description: str(runes.Cut("Checks "+source+" for a new upstream AMI", 512)),
		Schedule:    awsevents.Schedule_Rate(interval),
		Targets:     &[]awsevents.IRuleTarget{this.Function.RuleTarget(nil)},
	})
	if props.AdditionalTriggers != nil {
		for i, pattern := range *props.AdditionalTriggers {
			this.AddTrigger(str(fmt.Sprintf("Trigger%d", i)), pattern)
		}
	}
	return this
}

// AddTrigger defines a rule that also runs the monitor on events matching
// pattern, with the function's retries and dead-letter queue, and adds it
// to Triggers.
func (m *UpstreamMonitor) AddTrigger(id *string, pattern *awsevents.EventPattern) awsevents.Rule {
	rule := awsevents.NewRule(m, id, &awsevents.RuleProps{
		Description:  str("Runs the upstream monitor on an additional event"),
		EventPattern: pattern,
		Targets:      &[]awsevents.IRuleTarget{m.Function.RuleTarget(nil)},
	})
	m.Triggers = append(m.Triggers, rule)
	return rule
}

func statement(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
	acts := make([]*string, len(actions))
	for i := range actions {
		acts[i] = &actions[i]
	}
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: str(sid), Actions: &acts, Resources: &resources})
}

func str(s string) *string   { return &s }
func num(v float64) *float64 { return &v }
