package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/constructs/amimonitor"
	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/latestami"
	"github.com/platform-eng/golden-ami/constructs/notifications"
	"github.com/platform-eng/golden-ami/constructs/pipelinetrigger"
)

// GoldenImageStackProps configures a GoldenImageStack.
type GoldenImageStackProps struct {
	awscdk.StackProps
	// Environment is the validated environment the stack builds images for.
	Environment Environment
	// VerifierAccount is the delivery pipeline's account. When set, the
	// stack defines VerifyRole, which the pipeline's Verify step in that
	// account assumes to check the deployment.
	//
	// Default: "" (no verify role; the stack is deployed directly).
	VerifierAccount string
	// VerifierRoleNamePrefix limits who in VerifierAccount may assume
	// VerifyRole to the roles whose names start with it: the Verify step's
	// CodeBuild role, which CloudFormation names after the pipeline stack
	// ("GoldenAmi-Pipeline-").
	//
	// Default: "" (any principal of VerifierAccount that its own policies
	// allow to assume the role).
	VerifierRoleNamePrefix string
}

// GoldenImageStack holds one environment's golden-image pipelines, in the
// environment's home account and region.
type GoldenImageStack struct {
	awscdk.Stack
	// Shared is the environment's key and build-log buckets.
	Shared *gi.SharedResources
	// AMIKey encrypts the home-region AMIs shared with DistributionAccounts;
	// nil when the environment shares them with no other account.
	AMIKey *gi.DistributionKey
	// Notifications receive image builds, trigger decisions and every
	// function's alarms, and post them to Slack when configured.
	Notifications *notifications.Notifications
	// Images by image name.
	Images map[string]*ImageResources
	// Outputs by id, e.g. "Al2023PipelineArn".
	Outputs map[string]awscdk.CfnOutput
	// VerifyRole may read what the delivery pipeline's Verify step checks,
	// and nothing else: each image pipeline's status and each upstream
	// parameter. Nil without GoldenImageStackProps.VerifierAccount.
	VerifyRole awsiam.Role
}

// VerifyRoleName is the name of env's VerifyRole, which the delivery
// pipeline assumes by ARN.
func VerifyRoleName(env Environment) string { return "GoldenAmi-" + env.Name + "-PipelineVerify" }

// ImageResources are everything one golden image runs on: the pipeline and
// the loop that keeps it fresh.
type ImageResources struct {
	Pipeline *gi.GoldenImagePipeline
	Monitor  *amimonitor.UpstreamMonitor
	Trigger  *pipelinetrigger.PipelineTrigger
	Recorder *latestami.LatestAMIRecorder
}

// NewGoldenImageStack defines one pipeline per configured image, with
// outputs naming each pipeline and its parameters.
func NewGoldenImageStack(scope constructs.Construct, id *string, props *GoldenImageStackProps) *GoldenImageStack {
	if props == nil {
		props = &GoldenImageStackProps{}
	}
	env := props.Environment
	stack := &GoldenImageStack{
		Stack:   awscdk.NewStack(scope, id, &props.StackProps),
		Images:  map[string]*ImageResources{},
		Outputs: map[string]awscdk.CfnOutput{},
	}

	// One key and one set of log buckets per environment; every pipeline
	// adds its own key-policy statements and writes under its own prefix.
	stack.Shared = gi.NewSharedResources(stack.Stack, str("Shared"), &gi.SharedResourcesProps{
		Purpose: str("golden images of environment " + env.Name),
	})
	stack.Notifications = notifications.NewNotifications(stack.Stack, str("Notifications"), &notifications.NotificationsProps{
		SlackWebhookSecret: slackSecret(stack.Stack, env.SlackWebhookSecretARN),
		EmailAddresses:     strsOrNil(env.NotificationEmails),
		EncryptionKey:      stack.Shared.EncryptionKey,
	})
	alarms := stack.Notifications.Topic
	stack.output("NotificationsTopicArn", alarms.TopicArn(), "Image builds, trigger decisions and alarms of environment "+env.Name)
	// AMIs shared with other accounts are encrypted in the home region with
	// a key of their own, as in every other region, so those accounts get
	// no use of the shared key (logs, topics, queues). One per environment.
	var amiKey awskms.IKey = stack.Shared.EncryptionKey
	if len(env.DistributionAccounts) > 0 {
		stack.AMIKey = gi.NewDistributionKey(stack.Stack, str("AmiKey"), &gi.DistributionKeyProps{
			AliasName:            str(distributionKeyAlias(env)),
			DistributionAccounts: strsOrNil(env.DistributionAccounts),
		})
		amiKey = stack.AMIKey.Key
		stack.output("AmiKeyArn", amiKey.KeyArn(), "Key that encrypts the golden AMIs in this region (a fleet in another account grants its Auto Scaling role this key)")
	}
	// Build instances go to the environment's subnet and groups, or, with
	// neither, to the default VPC.
	var subnet awsec2.ISubnet
	var groups *[]awsec2.ISecurityGroup
	if env.BuildSubnetID != "" {
		subnet = awsec2.Subnet_FromSubnetId(stack.Stack, str("BuildSubnet"), str(env.BuildSubnetID))
		awscdk.Annotations_Of(subnet).AcknowledgeWarning(str("@aws-cdk/aws-ec2:noSubnetRouteTableId"),
			str("Image Builder takes only the subnet's id; nothing reads its route table"))
		sgs := make([]awsec2.ISecurityGroup, len(env.BuildSecurityGroupIDs))
		for i, id := range env.BuildSecurityGroupIDs {
			sgs[i] = awsec2.SecurityGroup_FromSecurityGroupId(stack.Stack, str(fmt.Sprintf("BuildSecurityGroup%d", i)), str(id), nil)
		}
		groups = &sgs
	}
	for _, img := range env.Images {
		p := gi.NewGoldenImagePipeline(stack.Stack, str(img.Name), &gi.GoldenImagePipelineProps{
			Subnet:                subnet,
			SecurityGroups:        groups,
			EncryptionKey:         stack.Shared.EncryptionKey,
			AMIKey:                amiKey,
			LogBucket:             stack.Shared.LogBucket,
			ImageName:             str(img.Name),
			Description:           str("Golden image " + img.Name + " (" + env.Name + ")"),
			Platform:              img.Platform,
			Architecture:          img.Architecture,
			StigLevel:             img.StigLevel,
			InstanceTypes:         strsOrNil(img.InstanceTypes),
			RootDeviceName:        strOrNil(img.RootDeviceName),
			UpstreamParameterName: str("/golden-ami/" + env.Name + "/" + img.Name + "/upstream"),
			UpstreamParameterSeed: upstreamSeed(img.Upstream),
			DistributionRegions:   strsOrNil(env.DistributionRegions),
			DistributionAccounts:  strsOrNil(env.DistributionAccounts),
			DistributionKeyAlias:  str(distributionKeyAlias(env)),
			Schedule:              str(env.Schedule),
			ScheduleTimezone:      strOrNil(env.ScheduleTimezone),
			StartCondition:        env.StartCondition,
			AMITags:               &map[string]*string{"golden-ami:environment": str(env.Name), "golden-ami:upstream": str(img.Upstream.Kind())},
		})
		monitor := amimonitor.NewUpstreamMonitor(stack.Stack, str(img.Name+"-monitor"), &amimonitor.UpstreamMonitorProps{
			Parameter:           p.UpstreamParameter,
			SourceParameterName: strOrNil(img.Upstream.SourceParameterName),
			PlatformBranch:      strOrNil(img.Upstream.PlatformBranch),
			PlatformARN:         strOrNil(img.Upstream.PlatformARN),
			ImageOwner:          strOrNil(img.Upstream.ImageOwner),
			ImageNamePattern:    strOrNil(img.Upstream.ImageNamePattern),
			CheckInterval:       awscdk.Duration_Minutes(num(env.upstreamCheckInterval().Minutes())),
			EncryptionKey:       stack.Shared.EncryptionKey,
			AlarmTopic:          alarms,
		})
		trigger := pipelinetrigger.NewPipelineTrigger(stack.Stack, str(img.Name+"-trigger"), &pipelinetrigger.PipelineTriggerProps{
			Pipeline:      p,
			EncryptionKey: stack.Shared.EncryptionKey,
			AlarmTopic:    alarms,
		})
		recorder := latestami.NewLatestAMIRecorder(stack.Stack, str(img.Name+"-latest"), &latestami.LatestAMIRecorderProps{
			Pipeline:      p,
			ParameterName: str(LatestAMIParameterName(env, img)),
			EncryptionKey: stack.Shared.EncryptionKey,
			AlarmTopic:    alarms,
		})
		stack.Notifications.NotifyImages(p)
		stack.Notifications.NotifyDecisions(trigger)
		stack.Images[img.Name] = &ImageResources{Pipeline: p, Monitor: monitor, Trigger: trigger, Recorder: recorder}
		prefix := camel(img.Name)
		stack.output(prefix+"PipelineArn", p.PipelineARN, "Image Builder pipeline of "+img.Name)
		stack.output(prefix+"UpstreamParameterName", p.UpstreamParameter.ParameterName(), "Upstream-AMI parameter the "+img.Name+" recipe builds on")
		stack.output(prefix+"LatestAmiParameterName", recorder.ParameterName, "Latest golden AMI of "+img.Name+", in every distribution region")
		stack.output(prefix+"NotificationTopicArn", p.Topic.TopicArn(), "Image Builder notifications of "+img.Name)
	}
	if props.VerifierAccount != "" {
		stack.VerifyRole = newVerifyRole(stack, env, props.VerifierAccount, props.VerifierRoleNamePrefix)
	}
	return stack
}

// newVerifyRole defines the role the delivery pipeline's Verify step
// assumes from verifier: read each image pipeline and each upstream
// parameter, as the step's commands do (verifyStep), nothing more. CDK's
// lookup role would do, but it has ReadOnlyAccess to the whole account.
func newVerifyRole(stack *GoldenImageStack, env Environment, verifier, rolePrefix string) awsiam.Role {
	var pipelines, parameters []*string
	for _, img := range env.Images {
		p := stack.Images[img.Name].Pipeline
		pipelines = append(pipelines, p.PipelineARN)
		parameters = append(parameters, p.UpstreamParameter.ParameterArn())
	}
	policy := awsiam.NewManagedPolicy(stack.Stack, str("PipelineVerifyPolicy"), &awsiam.ManagedPolicyProps{
		Description: str("What the delivery pipeline's Verify step of environment " + env.Name + " reads"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: str("ReadImagePipelines"), Actions: strs("imagebuilder:GetImagePipeline"), Resources: &pipelines}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: str("ReadUpstreamParameters"), Actions: strs("ssm:GetParameter"), Resources: &parameters}),
		},
	})
	return awsiam.NewRole(stack.Stack, str("PipelineVerifyRole"), &awsiam.RoleProps{
		RoleName:           str(VerifyRoleName(env)),
		Description:        str("Assumed by the delivery pipeline (account " + verifier + ") to check environment " + env.Name + " after each deployment"),
		AssumedBy:          verifierPrincipal(stack.Stack, verifier, rolePrefix),
		ManagedPolicies:    &[]awsiam.IManagedPolicy{policy},
		MaxSessionDuration: awscdk.Duration_Hours(num(1)),
	})
}

// verifierPrincipal is account, limited to its roles named with prefix
// (aws:PrincipalArn is the role's ARN for a session of that role) when
// prefix is set.
func verifierPrincipal(stack awscdk.Stack, account, prefix string) awsiam.IPrincipal {
	p := awsiam.NewAccountPrincipal(str(account))
	if prefix == "" {
		return p
	}
	return p.WithConditions(&map[string]interface{}{
		"ArnLike": map[string]interface{}{"aws:PrincipalArn": fmt.Sprintf("arn:%s:iam::%s:role/%s*", *stack.Partition(), account, prefix)},
	})
}

// DistributionKeyStackProps configures a DistributionKeyStack.
type DistributionKeyStackProps struct {
	awscdk.StackProps
	// Environment is the environment whose images the key encrypts.
	Environment Environment
}

// DistributionKeyStack holds the key that encrypts an environment's AMI
// copies in one distribution region.
type DistributionKeyStack struct {
	awscdk.Stack
	Key *gi.DistributionKey
}

// NewDistributionKeyStack defines the distribution key for one region.
func NewDistributionKeyStack(scope constructs.Construct, id *string, props *DistributionKeyStackProps) *DistributionKeyStack {
	if props == nil {
		props = &DistributionKeyStackProps{}
	}
	stack := &DistributionKeyStack{Stack: awscdk.NewStack(scope, id, &props.StackProps)}
	stack.Key = gi.NewDistributionKey(stack.Stack, str("DistributionKey"), &gi.DistributionKeyProps{
		AliasName:            str(distributionKeyAlias(props.Environment)),
		DistributionAccounts: strsOrNil(props.Environment.DistributionAccounts),
	})
	output(stack.Stack, "DistributionKeyArn", stack.Key.Key.KeyArn(), "Key that encrypts golden AMI copies in this region")
	return stack
}

// EnvironmentStacks are every stack of one environment.
type EnvironmentStacks struct {
	// Images is the home-region stack with the pipelines.
	Images *GoldenImageStack
	// Keys are the key stacks of the other distribution regions, by region.
	Keys map[string]*DistributionKeyStack
}

// NewEnvironment defines every stack of env under scope (an App, or a Stage
// of the delivery pipeline): "GoldenAmi-<env>" in the home region and
// "GoldenAmi-<env>-keys-<region>" per extra distribution region. The images
// stack depends on the key stacks, so a deploy creates the keys first.
func NewEnvironment(scope constructs.Construct, env Environment) *EnvironmentStacks {
	out := &EnvironmentStacks{Keys: map[string]*DistributionKeyStack{}}
	out.Images = NewGoldenImageStack(scope, str("GoldenAmi-"+env.Name), &GoldenImageStackProps{
		StackProps:  stackProps(env, env.Region, "GoldenAmi-"+env.Name, "Golden AMI pipelines of environment "+env.Name),
		Environment: env,
	})
	tagStack(out.Images.Stack, env)
	for _, region := range env.DistributionRegions {
		keys := NewDistributionKeyStack(scope, str("GoldenAmi-"+env.Name+"-keys-"+region), &DistributionKeyStackProps{
			StackProps:  stackProps(env, region, "GoldenAmi-"+env.Name+"-keys-"+region, "Keys for golden AMI copies of environment "+env.Name+" in "+region),
			Environment: env,
		})
		tagStack(keys.Stack, env)
		out.Images.AddStackDependency(keys.Stack, str("distribution needs the region's key"))
		out.Keys[region] = keys
	}
	return out
}

// EnvironmentStages are an environment's stages in the delivery pipeline:
// the images stage in the home region and a key stage per extra
// distribution region, deployed in parallel within the environment's wave.
type EnvironmentStages struct {
	Images *ImagesStage
	Keys   map[string]awscdk.Stage
}

// ImagesStage is the home-region stage of an environment.
type ImagesStage struct {
	awscdk.Stage
	Stack *GoldenImageStack
}

// NewEnvironmentStages defines env's stages under scope (the pipeline
// stack), whose Verify steps run in pipelineAccount. Their stacks keep the names of NewEnvironment's ("GoldenAmi-<env>",
// "GoldenAmi-<env>-keys-<region>"), so an environment can move from direct
// deploys to the pipeline without replacing anything.
func NewEnvironmentStages(scope constructs.Construct, env Environment, pipelineAccount string) *EnvironmentStages {
	out := &EnvironmentStages{Keys: map[string]awscdk.Stage{}}
	stage := environmentStage(scope, env.Name, env, env.Region)
	images := NewGoldenImageStack(stage, str("GoldenAmi"), &GoldenImageStackProps{
		StackProps:      stackProps(env, env.Region, "GoldenAmi-"+env.Name, "Golden AMI pipelines of environment "+env.Name),
		Environment:     env,
		VerifierAccount: pipelineAccount,
		// The Verify steps' CodeBuild roles are the pipeline stack's, named
		// after it by CloudFormation.
		VerifierRoleNamePrefix: *awscdk.Stack_Of(scope).StackName() + "-",
	})
	tagStack(images.Stack, env)
	out.Images = &ImagesStage{Stage: stage, Stack: images}
	for _, region := range env.DistributionRegions {
		ks := environmentStage(scope, env.Name+"-keys-"+region, env, region)
		keys := NewDistributionKeyStack(ks, str("Keys"), &DistributionKeyStackProps{
			StackProps:  stackProps(env, region, "GoldenAmi-"+env.Name+"-keys-"+region, "Keys for golden AMI copies of environment "+env.Name+" in "+region),
			Environment: env,
		})
		tagStack(keys.Stack, env)
		out.Keys[region] = ks
	}
	return out
}

// permissionsBoundaryContext is the context key through which aws-cdk-lib
// hands a Stage's or Stack's permissions boundary down the construct tree.
const permissionsBoundaryContext = "@aws-cdk/core:permissionsBoundary"

// environmentStage is a stage of env's account and region whose stacks get
// env's permissions boundary, or none: the stages are created under the
// pipeline stack, and without this an environment with no boundary would
// inherit the pipeline's (aws-cdk-lib reads the boundary from context, up
// the tree), a policy that does not exist in the environment's account.
func environmentStage(scope constructs.Construct, id string, env Environment, region string) awscdk.Stage {
	stage := awscdk.NewStage(scope, str(id), &awscdk.StageProps{
		Env:                 &awscdk.Environment{Account: str(env.Account), Region: str(region)},
		PermissionsBoundary: permissionsBoundary(env.PermissionsBoundary),
	})
	if env.PermissionsBoundary == "" {
		stage.Node().SetContext(str(permissionsBoundaryContext), map[string]interface{}{})
	}
	return stage
}

func stackProps(env Environment, region, name, description string) awscdk.StackProps {
	return awscdk.StackProps{
		Env:                   &awscdk.Environment{Account: str(env.Account), Region: str(region)},
		StackName:             str(name),
		Description:           str(description),
		TerminationProtection: boolean(env.TerminationProtection),
		PermissionsBoundary:   permissionsBoundary(env.PermissionsBoundary),
	}
}

// permissionsBoundary is the boundary of the given policy name for every
// role of a stack (each in the stack's own account), or nil for none.
func permissionsBoundary(name string) awscdk.PermissionsBoundary {
	if name == "" {
		return nil
	}
	return awscdk.PermissionsBoundary_FromName(str(name))
}

func tagStack(s awscdk.Stack, env Environment) {
	awscdk.Tags_Of(s).Add(str("golden-ami:environment"), str(env.Name), nil)
	awscdk.Tags_Of(s).Add(str("golden-ami:managed-by"), str("cdk"), nil)
}

// distributionKeyAlias is the alias of an environment's key in each distribution region.
func distributionKeyAlias(env Environment) string {
	return "alias/golden-ami/" + env.Name + "/distribution"
}

// upstreamSeed is the first value of an image's upstream-AMI parameter. A
// dynamic reference to the monitor's own source resolves to the value the
// monitor would write anyway; the other sources start from the construct's
// default (the public AL2023 or Windows parameter) until the monitor's
// first run.
func upstreamSeed(u Upstream) *string {
	if u.SourceParameterName != "" {
		return str("{{resolve:ssm:" + u.SourceParameterName + "}}")
	}
	return nil
}

func (s *GoldenImageStack) output(id string, value *string, description string) {
	s.Outputs[id] = output(s.Stack, id, value, description)
}

func output(stack awscdk.Stack, id string, value *string, description string) awscdk.CfnOutput {
	return awscdk.NewCfnOutput(stack, str(id), &awscdk.CfnOutputProps{Value: value, Description: str(description)})
}

// camel turns "al2023-arm64" into "Al2023Arm64" for output ids.
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// slackSecret imports the Slack webhook secret, or returns nil without one.
func slackSecret(scope constructs.Construct, arn string) awssecretsmanager.ISecret {
	if arn == "" {
		return nil
	}
	return awssecretsmanager.Secret_FromSecretCompleteArn(scope, str("SlackWebhook"), str(arn))
}

// LatestAMIParameterName is the latest-AMI parameter of an image, in every
// distribution region.
func LatestAMIParameterName(env Environment, img Image) string {
	return "/golden-ami/" + env.Name + "/" + img.Name + "/latest"
}

func str(s string) *string   { return &s }
func num(v float64) *float64 { return &v }
func boolean(v bool) *bool   { return &v }

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func strsOrNil(values []string) *[]*string {
	if len(values) == 0 {
		return nil
	}
	out := make([]*string, len(values))
	for i := range values {
		out[i] = &values[i]
	}
	return &out
}
