package goldenfleet

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/constructs/gofunction"
	"github.com/platform-eng/golden-ami/constructs/latestami"
	"github.com/platform-eng/golden-ami/internal/cdkduration"
	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/nag"
	"github.com/platform-eng/golden-ami/internal/validate"
)

// GoldenFleetProps configures a GoldenFleet.
type GoldenFleetProps struct {
	// LatestAMI is the golden image the fleet runs and follows. For an AMI
	// encrypted with another account's key (a parameter shared by ARN, say),
	// Auto Scaling needs a KMS grant on that key first: see "A fleet in
	// another account" in the package documentation. A parameter shared by
	// ARN must be in the fleet's region (the stack's), since a parameter is
	// read only in its own region; a recorder's (LatestAMIFromRecorder) must
	// be written in the fleet's account and region (one of its pipeline's
	// DistributionRegions).
	//
	// Required.
	LatestAMI *latestami.LatestAMI

	// AutoScalingGroup is an existing group to roll, instead of the one this
	// construct defines; give it together with LaunchTemplate. The group
	// must use that template at a numbered version whose image is an AMI id
	// (for example "{{resolve:ssm:...}}", resolved at deploy), not $Latest,
	// $Default or a launch-time "resolve:ssm:"; the rollout function refuses
	// to act otherwise. Set Role to the template's instance role, if it has
	// one, and SecurityGroup to the group's security group if Connections
	// should manage it. Vpc, VpcSubnets, InstanceType, MinCapacity,
	// MaxCapacity, UserData, RootDeviceName and RootVolumeSizeGiB are then
	// unused, and GoldenFleet.Group is nil.
	//
	// Default: a new group of MinCapacity to MaxCapacity instances in
	// VpcSubnets, pinned to the numbered version of the launch template the
	// construct defines, with a 5-minute default instance warmup.
	AutoScalingGroup awsautoscaling.IAutoScalingGroup

	// LaunchTemplate is the existing launch template AutoScalingGroup runs;
	// the rollout function adds a version to it for each new AMI. Give it
	// together with AutoScalingGroup, imported with its id
	// (awsec2.LaunchTemplate_FromLaunchTemplateAttributes with
	// LaunchTemplateId): the rollout function and its IAM policy name the
	// template by id, so a template imported by name only is refused.
	//
	// Default: the construct defines a launch template whose image is the
	// latest-AMI parameter resolved at deploy, with InstanceType, Role,
	// SecurityGroup and UserData, IMDSv2 required, detailed monitoring, no
	// public IP and an encrypted gp3 root volume (RootDeviceName,
	// RootVolumeSizeGiB).
	LaunchTemplate awsec2.ILaunchTemplate

	// Vpc is where the fleet runs.
	//
	// Required unless AutoScalingGroup is given.
	Vpc awsec2.IVpc

	// VpcSubnets are the fleet's subnets.
	//
	// Default: the VPC's private subnets.
	VpcSubnets *awsec2.SubnetSelection

	// InstanceType of the fleet's instances; it must match the golden
	// image's architecture.
	//
	// Required unless AutoScalingGroup is given.
	InstanceType awsec2.InstanceType

	// MinCapacity is the smallest number of instances in the group (a whole
	// number of at least 0).
	//
	// Default: 1.
	MinCapacity *float64

	// MaxCapacity is the largest number of instances in the group (a whole
	// number of at least 1 and at least MinCapacity).
	//
	// Default: MinCapacity, so the group has a fixed size; 1 when
	// MinCapacity is 0.
	MaxCapacity *float64

	// Role is the instances' role.
	//
	// Default: a new role with AmazonSSMManagedInstanceCore, so instances
	// are managed through Systems Manager instead of SSH.
	Role awsiam.IRole

	// SecurityGroup of the instances. With an existing AutoScalingGroup, it
	// only tells Connections which security group to manage.
	//
	// Default: a new security group allowing all outbound and no inbound
	// traffic; none for an existing AutoScalingGroup (Connections is then
	// empty).
	SecurityGroup awsec2.ISecurityGroup

	// UserData runs on every instance's first boot.
	//
	// Default: none.
	UserData awsec2.UserData

	// RootDeviceName is the device name of the image's root volume, which
	// the launch template sizes and encrypts. It must match the golden
	// image: a name the image does not use adds an empty extra volume
	// instead.
	//
	// Default: "/dev/sda1" when LatestAMI.OperatingSystem is WINDOWS, else
	// "/dev/xvda" (Amazon Linux; Ubuntu and RHEL images use "/dev/sda1").
	RootDeviceName *string

	// RootVolumeSizeGiB is the root volume's size (1 to 16384); at least the
	// image's root snapshot.
	//
	// Default: 30 for Linux, 50 for Windows (LatestAMI.OperatingSystem).
	RootVolumeSizeGiB *float64

	// RollbackAlarms fail an instance refresh and roll it back when any
	// goes into ALARM (at most 10).
	//
	// Default: one alarm on the group's instances failing EC2 status checks.
	RollbackAlarms *[]awscloudwatch.IAlarm

	// MinHealthyPercentage is how much of the group stays in service during
	// a refresh (0-100).
	//
	// Default: 90.
	MinHealthyPercentage *float64

	// MaxHealthyPercentage is how large the group may grow during a
	// refresh, counting instances in service and pending, as a percentage
	// of its desired capacity (100-200, and at most 100 above
	// MinHealthyPercentage, as Auto Scaling requires). Because it is set,
	// Auto Scaling launches a replacement before it terminates whenever
	// MinHealthyPercentage leaves no room to terminate first: in a group of
	// one or two instances with the default MinHealthyPercentage, every
	// replacement is in service before the instance it replaces goes.
	//
	// Default: 110, or MinHealthyPercentage + 100 when that is lower. (Left
	// unset, Auto Scaling would use the group's instance maintenance
	// policy, or without one terminate and launch at once: a one-instance
	// group would be down for every rollout. Being sent with every refresh,
	// it overrides a maintenance policy's maximum: set it to that maximum to
	// keep it.)
	MaxHealthyPercentage *float64

	// CheckpointPercentages are where a refresh pauses for CheckpointDelay
	// so the alarms can judge the new AMI; ascending, ending with 100.
	//
	// Default: 50 and 100.
	CheckpointPercentages *[]*float64

	// CheckpointDelay is how long a refresh waits at each checkpoint (whole
	// seconds, at most 48 hours).
	//
	// Default: 10 minutes.
	CheckpointDelay awscdk.Duration

	// InstanceWarmup is how long a new instance warms up before it counts as
	// healthy (whole seconds).
	//
	// Default: the group's default instance warmup (5 minutes, set by this construct).
	InstanceWarmup awscdk.Duration

	// ConvergenceInterval is how often the rollout function compares the
	// latest-AMI parameter with the group anyway, so a change that arrived
	// during another refresh, or a missed event, is rolled out later (whole
	// minutes, at least 1: an EventBridge rate).
	// Parameter Store publishes change events in the parameter's own
	// account only: for a LatestAMI shared by ARN, the fleet follows on this
	// schedule unless the owner forwards its "Parameter Store Change" events
	// to this account's default event bus, where ParameterRule matches them.
	//
	// Default: 15 minutes.
	ConvergenceInterval awscdk.Duration

	// EncryptionKey encrypts the rollout function's environment and logs,
	// and the dead-letter queue and alarm topic the function creates; it is
	// passed to the rollout GoFunction (see gofunction.GoFunctionProps). The
	// construct also adds a key-policy statement that lets EC2 Auto Scaling's
	// service-linked role publish the group's notifications to that topic;
	// an imported key must already allow it.
	//
	// Default: a new customer-managed key with yearly rotation, retained on
	// stack deletion (the GoFunction default).
	EncryptionKey awskms.IKey

	// DeadLetterQueue receives rollout events that failed every retry, from
	// the parameter rule, the convergence rule and Lambda's asynchronous
	// invocations.
	//
	// Default: a new SQS queue encrypted with EncryptionKey, keeping messages
	// 14 days, with an alarm on its depth (the GoFunction default).
	DeadLetterQueue awssqs.IQueue

	// AlarmTopic receives the rollout function's alarms, the default
	// rollback alarm (when RollbackAlarms is not set) and, for the group the
	// construct defines, its launch and termination notifications and their
	// errors.
	//
	// A topic you pass must let Auto Scaling publish: if it is encrypted
	// with a customer-managed key, that key's policy must allow the
	// service-linked role AWSServiceRoleForAutoScaling kms:Decrypt and
	// kms:GenerateDataKey*, or the group's notifications are dropped. The
	// construct adds that statement to the topic's key when the topic was
	// defined with one in this app (its MasterKey); an imported topic's key
	// is yours to grant. CloudWatch publishes the alarms as the service: the
	// rollout's GoFunction adds the topic-policy statement that allows it to
	// a topic defined in this app (gofunction.AllowAlarmsToPublish); an
	// imported topic's owner must allow it.
	//
	// Default: a new SNS topic encrypted with EncryptionKey (the GoFunction
	// default), whose key lets Auto Scaling's service-linked role publish
	// and whose policy lets this account's alarms publish.
	AlarmTopic awssns.ITopic

	// LogRetention is how long the rollout function's logs are kept.
	//
	// Default: awslogs.RetentionDays_THREE_MONTHS (the GoFunction default).
	LogRetention awslogs.RetentionDays
}

// GoldenFleet is an Auto Scaling group that runs the latest golden AMI and
// rolls onto each new one with an instance refresh, the immutable-server
// pattern: instances are replaced, never patched in place.
//
// # How it follows the AMI without drifting
//
// The launch template's image is the CloudFormation dynamic reference
// "{{resolve:ssm:<latest-AMI parameter>}}", resolved when the stack deploys,
// so every version CloudFormation writes holds a concrete AMI id. The group
// is pinned to a numbered version: launch-template version $Latest or
// $Default, or an image resolved by EC2 at launch ("resolve:ssm:" without
// braces), would each rule out instance-refresh auto-rollback, which AWS
// documents as unsupported for them.
//
// When the parameter changes (and every ConvergenceInterval), the rollout
// function creates a new launch-template version with the new AMI and starts
// an instance refresh to that version number, with checkpoints, minimum and
// maximum healthy percentages (by default, a small group's replacements are
// in service before the instances they replace are terminated) and
// auto-rollback on RollbackAlarms. A rollback returns the group to the
// version it ran before. The function never changes the
// template's default version or the group's settings; on success the
// refresh moves the group to the new version.
//
// CloudFormation still owns the template and the group. Its drift detection
// reports the group's version as changed after a rollout: that is the
// rollout, not drift to undo. A later deployment re-resolves the parameter,
// so it writes a version with the current AMI and never rolls the group
// back to an older one. The group has no update policy, so a deployment
// never replaces instances itself, and CloudFormation refuses to change the
// group while a refresh runs.
//
// Rollouts are idempotent: a redelivered event, or the next convergence
// pass, finds the refresh already running or the AMI already in place and
// does nothing. A change that arrives during another refresh is deferred to
// a later pass, never lost.
type GoldenFleet struct {
	constructs.Construct

	// LaunchTemplate is the fleet's launch template.
	LaunchTemplate awsec2.ILaunchTemplate
	// AutoScalingGroup is the fleet's group: Group, or the existing group
	// given as GoldenFleetProps.AutoScalingGroup.
	AutoScalingGroup awsautoscaling.IAutoScalingGroup
	// Group is the group the construct defines, for what only a concrete
	// group offers, such as AttachToApplicationTargetGroup or
	// ScaleOnCpuUtilization. It is nil when GoldenFleetProps.AutoScalingGroup
	// is given.
	Group awsautoscaling.AutoScalingGroup
	// InstanceRole is the instances' role: GoldenFleetProps.Role, or the
	// role the construct defines for a new group. It is nil for an existing
	// AutoScalingGroup given without Role.
	InstanceRole awsiam.IRole
	// Rollout is the function that rolls the group onto new AMIs.
	Rollout *gofunction.GoFunction
	// ParameterRule runs Rollout when the latest-AMI parameter changes.
	ParameterRule awsevents.Rule
	// ConvergenceRule runs Rollout every ConvergenceInterval.
	ConvergenceRule awsevents.Rule
	// RollbackAlarms roll a refresh back.
	RollbackAlarms []awscloudwatch.IAlarm

	securityGroup awsec2.ISecurityGroup
}

// validate checks the props for a fleet in a stack of region and account
// (tokens when the stack is environment-agnostic).
func (p *GoldenFleetProps) validate(region, account string) error {
	var errs []error
	fail := func(field string, err error) { errs = append(errs, fmt.Errorf("goldenfleet: %s %w", field, err)) }
	existing := p.AutoScalingGroup != nil
	if existing != (p.LaunchTemplate != nil) {
		fail("AutoScalingGroup/LaunchTemplate", errors.New("must be given together (an existing group and the template it runs)"))
	}
	for _, field := range []struct {
		name    string
		missing bool
	}{{"LatestAMI", p.LatestAMI == nil}, {"Vpc", !existing && p.Vpc == nil}, {"InstanceType", !existing && p.InstanceType == nil}} {
		if field.missing {
			fail(field.name, errors.New("is required"))
		}
	}
	whole := func(v float64) bool { return v == math.Trunc(v) }
	if v := p.MinCapacity; v != nil && (*v < 0 || !whole(*v)) {
		fail("MinCapacity", fmt.Errorf("%v is not a whole number of at least 0", *v))
	}
	if v := p.MaxCapacity; v != nil && (*v < 1 || !whole(*v) || (p.MinCapacity != nil && *v < *p.MinCapacity)) {
		fail("MaxCapacity", fmt.Errorf("%v is not a whole number of at least 1 and at least MinCapacity", *v))
	}
	minHealthyOK := true
	if v := p.MinHealthyPercentage; v != nil && (*v < 0 || *v > 100 || !whole(*v)) {
		fail("MinHealthyPercentage", fmt.Errorf("%v is out of range (want a whole number from 0 to 100)", *v))
		minHealthyOK = false
	}
	if v := p.MaxHealthyPercentage; v != nil {
		minHealthy := *orNumber(p.MinHealthyPercentage, defaultMinHealthyPercentage)
		switch {
		case *v < 100 || *v > 200 || !whole(*v):
			fail("MaxHealthyPercentage", fmt.Errorf("%v is out of range (want a whole number from 100 to 200)", *v))
		case minHealthyOK && *v-minHealthy > 100:
			fail("MaxHealthyPercentage", fmt.Errorf("%v is more than 100 above MinHealthyPercentage %v (want at most %v: Auto Scaling allows a difference of at most 100)",
				*v, minHealthy, minHealthy+100))
		}
	}
	if lt := p.LaunchTemplate; lt != nil && lt.LaunchTemplateId() == nil {
		name := "(no name)"
		if n := lt.LaunchTemplateName(); n != nil {
			name = fmt.Sprintf("%q", *n)
		}
		fail("LaunchTemplate", fmt.Errorf("%s has no launch template id (want a template imported with LaunchTemplateId, "+
			"e.g. awsec2.LaunchTemplate_FromLaunchTemplateAttributes with LaunchTemplateId \"lt-0123456789abcdef0\": the rollout function and its IAM policy name the template by id)", name))
	}
	if l := p.LatestAMI; l != nil && l.ParameterARN != nil && !*awscdk.Token_IsUnresolved(*l.ParameterARN) && !*awscdk.Token_IsUnresolved(region) {
		if parts := strings.SplitN(*l.ParameterARN, ":", 6); len(parts) == 6 && parts[3] != region {
			fail("LatestAMI", fmt.Errorf("%q is a parameter of %s, not of %s, the fleet's region (want the ARN of the parameter's copy in %s: "+
				"CloudFormation and the rollout function read a parameter only in its own region)", *l.ParameterARN, parts[3], region, region))
		}
	}
	if r := recorderOf(p.LatestAMI); r != nil && r.Regions != nil {
		// The recorder writes its parameter in its own account, in its
		// regions only: elsewhere the fleet's {{resolve:ssm:...}} fails at
		// deployment.
		recorderAccount := *awscdk.Stack_Of(r).Account()
		var regions []string
		literal := !*awscdk.Token_IsUnresolved(region)
		for _, rg := range *r.Regions {
			if rg == nil || *awscdk.Token_IsUnresolved(*rg) {
				literal = false
				break
			}
			regions = append(regions, *rg)
		}
		switch {
		case !*awscdk.Token_IsUnresolved(account) && !*awscdk.Token_IsUnresolved(recorderAccount) && account != recorderAccount:
			fail("LatestAMI", fmt.Errorf("is the recorder %s of account %s, and the fleet is in account %s (the recorder writes its parameter in its own account only: "+
				"share it through AWS RAM and use latestami.LatestAMIFromParameterARN)", *r.Node().Path(), recorderAccount, account))
		case literal && !slices.Contains(regions, region):
			fail("LatestAMI", fmt.Errorf("is the recorder %s, which writes %s in %s only, not in %s, the fleet's region (add %s to the pipeline's DistributionRegions)",
				*r.Node().Path(), *r.ParameterName, strings.Join(regions, ", "), region, region))
		}
	}
	if p.CheckpointPercentages != nil {
		cps := *p.CheckpointPercentages
		last := 0.0
		for i, c := range cps {
			if c == nil {
				fail(fmt.Sprintf("CheckpointPercentages[%d]", i), errors.New("is nil"))
				continue
			}
			if *c <= last || *c > 100 || !whole(*c) {
				fail(fmt.Sprintf("CheckpointPercentages[%d]", i), fmt.Errorf("%v is not above the previous checkpoint and at most 100", *c))
			}
			last = *c
		}
		if len(cps) == 0 || (cps[len(cps)-1] != nil && *cps[len(cps)-1] != 100) {
			fail("CheckpointPercentages", errors.New("must end with 100, so the refresh finishes"))
		}
	}
	// ToSeconds and Schedule_Rate reject fractions with a raw jsii error,
	// Schedule_Rate after resources were defined: cdkduration finds them first.
	if err := cdkduration.Whole(p.CheckpointDelay, time.Second, "e.g. 10 minutes"); err != nil {
		fail("CheckpointDelay", err)
	} else if ms, ok := cdkduration.Millis(p.CheckpointDelay); ok && ms > 172800*1000 {
		fail("CheckpointDelay", fmt.Errorf("%s is longer than 48 hours", cdkduration.Human(p.CheckpointDelay)))
	}
	if err := cdkduration.Whole(p.InstanceWarmup, time.Second, "e.g. 5 minutes"); err != nil {
		fail("InstanceWarmup", err)
	}
	if a := p.RollbackAlarms; a != nil {
		if len(*a) == 0 || len(*a) > 10 {
			fail("RollbackAlarms", fmt.Errorf("has %d alarms (want 1 to 10, or leave it unset for the default)", len(*a)))
		}
		for i, alarm := range *a {
			if alarm == nil {
				fail(fmt.Sprintf("RollbackAlarms[%d]", i), errors.New("is nil"))
			}
		}
	}
	if n := p.RootDeviceName; n != nil && !strings.Contains(*n, "${Token[") {
		if err := validate.DeviceName(*n); err != nil {
			fail("RootDeviceName", err)
		}
	}
	if v := p.RootVolumeSizeGiB; v != nil && (*v < 1 || *v > 16384 || !whole(*v)) {
		fail("RootVolumeSizeGiB", fmt.Errorf("%v is out of range (want a whole number from 1 to 16384)", *v))
	}
	if err := cdkduration.Rate(p.ConvergenceInterval); err != nil {
		fail("ConvergenceInterval", err)
	}
	return errors.Join(errs...)
}

// NewGoldenFleet defines the fleet. It panics with an error naming the
// field and the value when props are invalid, before defining anything.
func NewGoldenFleet(scope constructs.Construct, id *string, props *GoldenFleetProps) *GoldenFleet {
	if props == nil {
		props = &GoldenFleetProps{}
	}
	if err := props.validate(*awscdk.Stack_Of(scope).Region(), *awscdk.Stack_Of(scope).Account()); err != nil {
		panic(err)
	}
	this := &GoldenFleet{}
	constructs.NewConstruct_Override(this, scope, id)
	stack := awscdk.Stack_Of(this)
	partition, region, account := *stack.Partition(), *stack.Region(), *stack.Account()

	this.InstanceRole = props.Role
	if props.AutoScalingGroup != nil {
		this.AutoScalingGroup, this.LaunchTemplate, this.securityGroup = props.AutoScalingGroup, props.LaunchTemplate, props.SecurityGroup
	} else {
		this.defineGroup(props)
	}
	role := this.InstanceRole

	this.RollbackAlarms = []awscloudwatch.IAlarm{}
	if props.RollbackAlarms != nil {
		this.RollbackAlarms = append(this.RollbackAlarms, *props.RollbackAlarms...)
	} else {
		alarm := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: str("AWS/EC2"), MetricName: str("StatusCheckFailed"), Statistic: str("Maximum"), Period: awscdk.Duration_Minutes(num(1)),
			DimensionsMap: &map[string]*string{"AutoScalingGroupName": this.AutoScalingGroup.AutoScalingGroupName()},
		}).CreateAlarm(this, str("StatusCheckAlarm"), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   str("Golden fleet instances fail EC2 status checks; rolls back a running instance refresh"),
			Threshold:          num(1),
			EvaluationPeriods:  num(2),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		this.RollbackAlarms = append(this.RollbackAlarms, alarm)
	}

	minHealthy := *orNumber(props.MinHealthyPercentage, defaultMinHealthyPercentage)
	maxHealthy := *orNumber(props.MaxHealthyPercentage, math.Min(110, minHealthy+100))
	var alarmNames, checkpoints []string
	for _, a := range this.RollbackAlarms {
		alarmNames = append(alarmNames, *a.AlarmName())
	}
	cps := []float64{50, 100}
	if props.CheckpointPercentages != nil {
		cps = nil
		for _, c := range *props.CheckpointPercentages {
			cps = append(cps, *c)
		}
	}
	for _, c := range cps {
		checkpoints = append(checkpoints, fmt.Sprint(c))
	}
	env := map[string]*string{
		contract.EnvSSMParameterName:              props.LatestAMI.ParameterReference(),
		contract.EnvAutoScalingGroupName:          this.AutoScalingGroup.AutoScalingGroupName(),
		contract.EnvLaunchTemplateID:              this.LaunchTemplate.LaunchTemplateId(),
		contract.EnvRefreshMinHealthyPercentage:   str(fmt.Sprint(minHealthy)),
		contract.EnvRefreshMaxHealthyPercentage:   str(fmt.Sprint(maxHealthy)),
		contract.EnvRefreshCheckpointPercentages:  str(strings.Join(checkpoints, ",")),
		contract.EnvRefreshCheckpointDelaySeconds: str(fmt.Sprint(*orDuration(props.CheckpointDelay, awscdk.Duration_Minutes(num(10))).ToSeconds(nil))),
		contract.EnvRefreshAlarmNames:             joinTokens(alarmNames),
		contract.EnvRefreshSkipMatching:           str("true"),
	}
	if props.InstanceWarmup != nil {
		env[contract.EnvRefreshInstanceWarmupSeconds] = str(fmt.Sprint(*props.InstanceWarmup.ToSeconds(nil)))
	}
	this.Rollout = gofunction.NewGoFunction(this, str("Rollout"), &gofunction.GoFunctionProps{
		ImportPath:      str(contract.FunctionRollout),
		Description:     str("Rolls a golden fleet onto each new golden AMI with an instance refresh"),
		Environment:     &env,
		EncryptionKey:   props.EncryptionKey,
		DeadLetterQueue: props.DeadLetterQueue,
		AlarmTopic:      props.AlarmTopic,
		LogRetention:    props.LogRetention,
	})

	templateARN := str(fmt.Sprintf("arn:%s:ec2:%s:%s:launch-template/", partition, region, account) + *this.LaunchTemplate.LaunchTemplateId())
	groupARN := str(fmt.Sprintf("arn:%s:autoscaling:%s:%s:autoScalingGroup:*:autoScalingGroupName/", partition, region, account) + *this.AutoScalingGroup.AutoScalingGroupName())
	this.Rollout.AddToRolePolicy(
		statement("ReadLatestAMI", []string{"ssm:GetParameter"}, props.LatestAMI.ParameterARNIn(stack)),
		statement("DescribeGroupAndVersions", []string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeInstanceRefreshes", "ec2:DescribeLaunchTemplateVersions"}, str("*")),
		statement("AddLaunchTemplateVersions", []string{"ec2:CreateLaunchTemplateVersion"}, templateARN),
		statement("RefreshThisGroup", []string{"autoscaling:StartInstanceRefresh"}, groupARN),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: str("LaunchFromThisTemplate"), Actions: strs("ec2:RunInstances"), Resources: strs("*"),
			Conditions: &map[string]interface{}{"ArnEquals": map[string]interface{}{"ec2:LaunchTemplate": *templateARN}},
		}),
		// The template's tag specifications are applied by RunInstances,
		// which EC2 authorizes as ec2:CreateTags with ec2:CreateAction =
		// RunInstances on each resource it tags; the statement above limits
		// those launches to this template. No CreateTags outside a launch,
		// and only on this account's and region's resources of the types
		// the template tags.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: str("TagWhileLaunching"), Actions: strs("ec2:CreateTags"), Resources: launchTagged(stack, props.LaunchTemplate != nil),
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"ec2:CreateAction": "RunInstances"}},
		}),
	)
	if role != nil {
		this.Rollout.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: str("PassInstanceRole"), Actions: strs("iam:PassRole"), Resources: &[]*string{role.RoleArn()},
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"iam:PassedToService": "ec2.amazonaws.com"}},
		}))
	}
	nag.Suppress(this.Rollout.Policy, nag.Rule{
		ID:        "AwsSolutions-IAM5",
		AppliesTo: []string{"Resource::*", groupFinding(this, *this.AutoScalingGroup.AutoScalingGroupName())},
		Reason: "DescribeAutoScalingGroups, DescribeInstanceRefreshes and DescribeLaunchTemplateVersions support no resource-level permissions; " +
			"RunInstances is limited to launches from this fleet's template by the ec2:LaunchTemplate condition; " +
			"the group ARN's * is the group id Auto Scaling assigns, the name pins this one group.",
	}, nag.Rule{
		ID:        "AwsSolutions-IAM5",
		AppliesTo: []string{launchTaggedFinding},
		Reason: "CreateTags names this account's and region's resources of the types the launch template tags, with * for their ids, which EC2 assigns only at launch; " +
			"the ec2:CreateAction condition limits it to tagging during RunInstances, and LaunchFromThisTemplate limits RunInstances to this fleet's template.",
	})

	this.ParameterRule = awsevents.NewRule(this, str("ParameterRule"), &awsevents.RuleProps{
		Description: str("Rolls the golden fleet onto a new latest AMI"),
		EventPattern: &awsevents.EventPattern{
			Source:     strs(contract.SourceSSM),
			DetailType: strs(contract.DetailTypeParameterChange),
			Detail: &map[string]interface{}{
				"name":      []interface{}{props.LatestAMI.ParameterName},
				"operation": []string{contract.OperationCreate, contract.OperationUpdate},
			},
		},
		Targets: &[]awsevents.IRuleTarget{this.Rollout.RuleTarget(nil)},
	})
	this.ConvergenceRule = awsevents.NewRule(this, str("ConvergenceRule"), &awsevents.RuleProps{
		Description: str("Compares the golden fleet with the latest AMI and rolls out what is missing"),
		Schedule:    awsevents.Schedule_Rate(orDuration(props.ConvergenceInterval, awscdk.Duration_Minutes(num(15)))),
		Targets:     &[]awsevents.IRuleTarget{this.Rollout.RuleTarget(nil)},
	})
	if props.RollbackAlarms == nil {
		if a, ok := this.RollbackAlarms[0].(awscloudwatch.Alarm); ok {
			a.AddAlarmAction(awscloudwatchactions.NewSnsAction(this.Rollout.AlarmTopic))
		}
	}
	// Every launch, termination and failure of the group reaches the same
	// topic; Auto Scaling publishes through its service-linked role.
	// (Set on the resource: the topic exists only once the rollout function does.)
	if group, ok := this.AutoScalingGroup.Node().DefaultChild().(awsautoscaling.CfnAutoScalingGroup); ok {
		group.SetNotificationConfigurations(&[]interface{}{&awsautoscaling.CfnAutoScalingGroup_NotificationConfigurationProperty{
			TopicArn: this.Rollout.AlarmTopic.TopicArn(),
			NotificationTypes: strs("autoscaling:EC2_INSTANCE_LAUNCH", "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
				"autoscaling:EC2_INSTANCE_TERMINATE", "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"),
		}})
	}
	// Auto Scaling publishes through its service-linked role, which needs
	// the topic's key. That is the function's key for the topic it defines;
	// for a topic passed in, the key it was created with (a key imported
	// from elsewhere cannot be changed here; see AlarmTopic).
	key := this.Rollout.AlarmTopic.MasterKey()
	if key == nil {
		return this
	}
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        str("AllowAutoScalingNotifications"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
		Actions:    strs("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  strs("*"),
		Conditions: &map[string]interface{}{"ArnLike": map[string]interface{}{
			"aws:PrincipalArn": fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", partition, account),
		}},
	}), boolean(true))
	return this
}

// defineGroup defines the launch template, the group and, unless Role is
// given, the instance role.
func (f *GoldenFleet) defineGroup(props *GoldenFleetProps) {
	role := props.Role
	if role == nil {
		role = awsiam.NewRole(f, str("InstanceRole"), &awsiam.RoleProps{
			AssumedBy:       awsiam.NewServicePrincipal(str("ec2.amazonaws.com"), nil),
			Description:     str("Instances of a golden fleet"),
			ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(str("AmazonSSMManagedInstanceCore"))},
		})
		nag.Suppress(role, nag.Rule{ID: "AwsSolutions-IAM4", AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"},
			Reason: "Fleet instances are managed through Systems Manager instead of SSH; AmazonSSMManagedInstanceCore is AWS's policy for exactly that agent."})
	}
	securityGroup := props.SecurityGroup
	if securityGroup == nil {
		securityGroup = awsec2.NewSecurityGroup(f, str("SecurityGroup"), &awsec2.SecurityGroupProps{
			Vpc: props.Vpc, Description: str("Golden fleet instances: no inbound traffic"), AllowAllOutbound: boolean(true),
		})
	}
	f.securityGroup = securityGroup
	rootDevice, rootSize := props.RootDeviceName, props.RootVolumeSizeGiB
	windows := props.LatestAMI.OperatingSystem == awsec2.OperatingSystemType_WINDOWS
	if rootDevice == nil {
		rootDevice = str("/dev/xvda")
		if windows {
			rootDevice = str("/dev/sda1")
		}
	}
	if rootSize == nil {
		rootSize = num(30)
		if windows {
			rootSize = num(50)
		}
	}
	template := awsec2.NewLaunchTemplate(f, str("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		// Resolved when the stack deploys: every version CloudFormation
		// writes holds a concrete AMI, which instance-refresh rollback needs.
		MachineImage:             props.LatestAMI.MachineImageAtDeploy(),
		InstanceType:             props.InstanceType,
		Role:                     role,
		SecurityGroup:            securityGroup,
		UserData:                 props.UserData,
		RequireImdsv2:            boolean(true),
		HttpTokens:               awsec2.LaunchTemplateHttpTokens_REQUIRED,
		DetailedMonitoring:       boolean(true),
		AssociatePublicIpAddress: boolean(false),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: rootDevice,
			Volume:     awsec2.BlockDeviceVolume_Ebs(rootSize, &awsec2.EbsDeviceOptions{Encrypted: boolean(true), VolumeType: awsec2.EbsDeviceVolumeType_GP3, DeleteOnTermination: boolean(true)}),
		}},
	})

	minCapacity := orNumber(props.MinCapacity, 1)
	group := awsautoscaling.NewAutoScalingGroup(f, str("Group"), &awsautoscaling.AutoScalingGroupProps{
		Vpc:                   props.Vpc,
		VpcSubnets:            props.VpcSubnets,
		LaunchTemplate:        template,
		MinCapacity:           minCapacity,
		MaxCapacity:           orNumber(props.MaxCapacity, math.Max(*minCapacity, 1)),
		DefaultInstanceWarmup: awscdk.Duration_Minutes(num(5)),
		GroupMetrics:          &[]awsautoscaling.GroupMetrics{awsautoscaling.GroupMetrics_All()},
	})
	f.LaunchTemplate, f.AutoScalingGroup, f.Group, f.InstanceRole = template, group, group, role
}

// defaultMinHealthyPercentage is MinHealthyPercentage's default.
const defaultMinHealthyPercentage = 90

// launchTagged are the ARNs, in stack's account and region, of every
// resource of the types a launch template can tag when RunInstances creates
// it. The template the construct defines tags instances and volumes only
// (CDK renders tags for those two); an existing template may tag any of the
// four types EC2 allows, so each is included.
func launchTagged(stack awscdk.Stack, existingTemplate bool) *[]*string {
	types := []string{"instance", "volume"}
	if existingTemplate {
		types = []string{"instance", "network-interface", "spot-instances-request", "volume"}
	}
	arns := make([]*string, len(types))
	for i, t := range types {
		arns[i] = stack.FormatArn(&awscdk.ArnComponents{Service: str("ec2"), Resource: str(t), ResourceName: str("*")})
	}
	return &arns
}

// launchTaggedFinding is the cdk-nag finding of launchTagged's ARNs, for a
// stack with a concrete or an unresolved account and region.
const launchTaggedFinding = `/^Resource::arn:(<AWS::Partition>|[^:<>]+):ec2:(<AWS::Region>|[^:<>]+):(<AWS::AccountId>|[0-9]{12}):` +
	`(instance|volume|network-interface|spot-instances-request)\/\*$/`

// groupFinding is the cdk-nag finding of the ARN, in scope's stack, of the
// group named name (a Ref to the group this construct defines, or an
// existing group's name), whose "*" is the group id.
func groupFinding(scope constructs.IConstruct, name string) string {
	pattern := `<[A-Za-z0-9]+>` // cdk-nag renders a Ref as <LogicalId>
	if !*awscdk.Token_IsUnresolved(name) {
		pattern = regexp.QuoteMeta(name)
	}
	return `/^Resource::arn:` + nag.Partition(scope) + `:autoscaling:` + nag.Region(scope) + `:` + nag.Account(scope) +
		`:autoScalingGroup:\*:autoScalingGroupName\/` + pattern + `$/`
}

// joinTokens joins names that may be tokens into one comma-separated
// string: a plain string when every name is known at synth, otherwise an
// Fn::Join token.
func joinTokens(names []string) *string {
	concrete := true
	for _, n := range names {
		concrete = concrete && !*awscdk.Token_IsUnresolved(n)
	}
	if concrete {
		return str(strings.Join(names, ","))
	}
	ptrs := make([]*string, len(names))
	for i := range names {
		ptrs[i] = &names[i]
	}
	return awscdk.Fn_Join(str(","), &ptrs)
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

// Connections are the rules of the fleet's security group (SecurityGroup,
// or the one the construct defines), so the fleet is an awsec2.IConnectable:
// fleet.Connections().AllowFrom(loadBalancer, awsec2.Port_Tcp(jsii.Number(443)), nil).
//
// For an existing AutoScalingGroup given without SecurityGroup, the
// construct knows no security group: Connections is then empty, and rules
// added to it, or to a peer for it, change nothing. Give SecurityGroup (the
// group's) to manage them here. (Like CDK's own constructs, it returns the
// connections rather than failing.)
func (f *GoldenFleet) Connections() awsec2.Connections {
	var groups []awsec2.ISecurityGroup
	if f.securityGroup != nil {
		groups = append(groups, f.securityGroup)
	}
	return awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &groups})
}

// recorderOf is the recorder l refers to, or nil.
func recorderOf(l *latestami.LatestAMI) *latestami.LatestAMIRecorder {
	if l == nil {
		return nil
	}
	return l.Recorder()
}
