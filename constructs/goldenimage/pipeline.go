package goldenimage

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsimagebuilder"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/components"
	"github.com/platform-eng/golden-ami/internal/cdkkey"
	"github.com/platform-eng/golden-ami/internal/nag"
	"github.com/platform-eng/golden-ami/internal/runes"
)

// GoldenImagePipeline is everything EC2 Image Builder needs to build, test,
// scan, encrypt and distribute one golden image: components, recipe,
// infrastructure and distribution configurations, the pipeline and a
// lifecycle policy, plus the key, log bucket, log groups and notification
// topic they use.
//
// Every image keeps the SSM agent: the recipe sets
// AdditionalInstanceConfiguration.SystemsManagerAgent.UninstallAfterBuild to
// false, because Image Builder otherwise removes an agent it installed itself
// on a parent without one (RHEL, for example).
//
// Image Builder resources are immutable. The recipe and the components keep
// a stable name and take their version from a hash of their resolved
// content, so any change creates a new version instead of failing with
// "already exists", and the image ARNs keep a stable prefix that event rules
// and grants can match.
type GoldenImagePipeline struct {
	constructs.Construct

	// Pipeline is the Image Builder image pipeline.
	Pipeline awsimagebuilder.CfnImagePipeline
	// Recipe is the image recipe.
	Recipe awsimagebuilder.CfnImageRecipe
	// InfrastructureConfiguration describes the build and test instances.
	InfrastructureConfiguration awsimagebuilder.CfnInfrastructureConfiguration
	// DistributionConfiguration copies and shares the AMI.
	DistributionConfiguration awsimagebuilder.CfnDistributionConfiguration
	// LifecyclePolicy deprecates and deletes old images.
	LifecyclePolicy awsimagebuilder.CfnLifecyclePolicy
	// Topic receives Image Builder's notification for every finished image.
	Topic awssns.ITopic
	// EncryptionKey encrypts volumes, logs and the topic.
	EncryptionKey awskms.IKey
	// AMIKey encrypts the home-region AMI: EncryptionKey, or a key of its
	// own when the AMI is shared with other accounts.
	AMIKey awskms.IKey
	// InstanceRole is the role of the build and test instances.
	InstanceRole awsiam.IRole
	// LifecycleRole is the role Image Builder assumes to run the lifecycle policy.
	LifecycleRole awsiam.IRole
	// LogBucket receives the build logs under LogPrefix.
	LogBucket awss3.IBucket
	// LogPrefix is the key prefix of this pipeline's build logs, "<ImageName>/".
	LogPrefix *string
	// UpstreamParameter is the parameter the recipe's parent comes from, when
	// the parent is an SSM parameter this construct created or was given.
	UpstreamParameter awsssm.IStringParameter
	// PipelineARN is the ARN of Pipeline.
	PipelineARN *string
	// RecipeName is the recipe's stable name; image ARNs start with "image/<RecipeName>/".
	RecipeName *string
	// ImageName is the name the construct was given.
	ImageName *string
	// Platform and Architecture of the image.
	Platform     Platform
	Architecture Architecture
	// DistributionRegions lists every region that receives the AMI, the stack's own first.
	DistributionRegions *[]*string
}

// NewGoldenImagePipeline defines a golden-image pipeline. It panics with an
// error naming the field and the value when props are invalid, before
// defining anything.
func NewGoldenImagePipeline(scope constructs.Construct, id *string, props *GoldenImagePipelineProps) *GoldenImagePipeline {
	if props == nil {
		props = &GoldenImagePipelineProps{}
	}
	if err := props.validate(awscdk.Stack_Of(scope)); err != nil {
		panic(err)
	}
	p := props.withDefaults()

	// Image Builder names derive from the stack and ImageName, so ImageName
	// must be unique within the stack; a marker catches a second pipeline.
	// The marker is added only once this construct exists, so a construct id
	// that is already taken leaves no marker behind.
	stack := awscdk.Stack_Of(scope)
	marker := "GoldenImageName-" + *p.ImageName
	if stack.Node().TryFindChild(jsiiString(marker)) != nil {
		panic(fmt.Errorf("goldenimage: ImageName %q is already used by another pipeline in stack %s (want one pipeline per ImageName per stack)", *p.ImageName, *stack.StackName()))
	}
	this := &GoldenImagePipeline{ImageName: p.ImageName, Platform: p.Platform, Architecture: p.Architecture}
	constructs.NewConstruct_Override(this, scope, id)
	constructs.NewConstruct(stack, jsiiString(marker))
	baseName := resourceName(this, stack, *p.ImageName)
	this.RecipeName = jsiiString(baseName)
	this.LogPrefix = jsiiString(*p.ImageName + "/")
	this.DistributionRegions = distributionRegions(stack, p.DistributionRegions)

	this.EncryptionKey, this.AMIKey = this.defineKeys(p)
	this.LogBucket = this.defineLogBucket(p)
	this.Topic = awssns.NewTopic(this, jsiiString("Topic"), &awssns.TopicProps{
		DisplayName: jsiiString("Golden image " + *p.ImageName),
		MasterKey:   this.EncryptionKey,
		EnforceSSL:  jsiiBool(true),
	})
	this.InstanceRole = this.defineInstanceRole(p)
	this.UpstreamParameter = this.defineUpstreamParameter(p)

	parent := p.ParentImage
	if parent == nil {
		parent = ParentImageFromParameter(this.UpstreamParameter)
	}
	this.Recipe = this.defineRecipe(stack, p, parent, baseName)
	this.InfrastructureConfiguration = this.defineInfrastructure(p, baseName)
	this.DistributionConfiguration = this.defineDistribution(stack, p, baseName)
	this.Pipeline = this.definePipeline(p, baseName)
	this.PipelineARN = this.Pipeline.AttrArn()
	this.LifecycleRole, this.LifecyclePolicy = this.defineLifecycle(p, baseName)
	return this
}

// resourceName is the stable name of the Image Builder resources:
// "<stack name>-<ImageName>", lowercased. Stack names are unique per account
// and region, and ImageName per stack, so the name is too; it is the same
// whether the stack is deployed directly or from a pipeline stage, so image
// ARNs, lifecycle tags and event rules keep matching across deploy modes.
func resourceName(g *GoldenImagePipeline, stack awscdk.Stack, imageName string) string {
	name := *stack.StackName()
	if isToken(name) {
		return strings.ToLower(*awscdk.Names_UniqueResourceName(g, &awscdk.UniqueResourceNameOptions{MaxLength: jsiiNumber(96), Separator: jsiiString("-")}))
	}
	name = strings.ToLower(name + "-" + imageName)
	if len(name) > 100 {
		sum := sha256.Sum256([]byte(name))
		name = name[:91] + "-" + fmt.Sprintf("%x", sum[:4])
	}
	return name
}

// distributionRegions puts the stack's region first and drops duplicates of it.
func distributionRegions(stack awscdk.Stack, extra *[]*string) *[]*string {
	home := stack.Region()
	regions := []*string{home}
	if extra != nil {
		for _, r := range *extra {
			if *r != *home {
				regions = append(regions, r)
			}
		}
	}
	return &regions
}

func (g *GoldenImagePipeline) defineKeys(p GoldenImagePipelineProps) (key, amiKey awskms.IKey) {
	stack := awscdk.Stack_Of(g)
	key = p.EncryptionKey
	if key == nil {
		key = newKey(g, "golden image "+*p.ImageName)
	}
	shared := p.DistributionAccounts != nil && len(*p.DistributionAccounts) > 0
	amiKey = p.AMIKey
	switch {
	case amiKey == nil && !shared:
		amiKey = key
	case amiKey == nil:
		amiKey = awskms.NewKey(g, jsiiString("AmiKey"), &awskms.KeyProps{
			Description:       jsiiString("Encrypts the home-region AMIs of golden image " + *p.ImageName + ", shared with other accounts"),
			EnableKeyRotation: jsiiBool(true),
			RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
			PendingWindow:     awscdk.Duration_Days(jsiiNumber(30)),
		})
	}
	if amiKey == key {
		for _, s := range keyPolicyStatements(stack, p.DistributionAccounts, true) {
			key.AddToResourcePolicy(s, jsiiBool(true))
		}
		return key, amiKey
	}
	for _, s := range keyPolicyStatements(stack, nil, true) {
		key.AddToResourcePolicy(s, jsiiBool(true))
	}
	for _, s := range keyPolicyStatements(stack, p.DistributionAccounts, false) {
		amiKey.AddToResourcePolicy(s, jsiiBool(true))
	}
	return key, amiKey
}

// keyPolicyStatements let the services that use a golden-image key use it:
// Image Builder's service-linked role (encrypted build volumes, AMI copies,
// publishing to the encrypted topic), EC2 Auto Scaling's service-linked role
// (launching the encrypted AMI in this account), CloudWatch Logs (the
// /aws/imagebuilder log groups, only with logGroups) and the accounts the
// AMI is shared with. A distribution key encrypts only AMI copies, so it
// leaves logGroups false.
//
// The service-linked roles are matched by aws:PrincipalArn on the account
// principal, because KMS rejects a key policy that names a role which does
// not exist yet, and these roles appear only on first use of the service.
func keyPolicyStatements(stack awscdk.Stack, accounts *[]*string, logGroups bool) []awsiam.PolicyStatement {
	partition, account, region := *stack.Partition(), *stack.Account(), *stack.Region()
	suffix := cdkkey.DomainSuffix(stack)
	slr := func(path string) string {
		return fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/%s", partition, account, path)
	}
	useKey := jsiiStrings("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsiiString("AllowServiceLinkedRolesToUseTheKey"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
			Actions:    useKey,
			Resources:  jsiiStrings("*"),
			Conditions: &map[string]interface{}{
				"ArnLike": map[string]interface{}{"aws:PrincipalArn": []string{
					slr("imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder"),
					slr("autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
				}},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsiiString("AllowServiceLinkedRolesToGrantToAWSResources"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
			Actions:    jsiiStrings("kms:CreateGrant"),
			Resources:  jsiiStrings("*"),
			Conditions: &map[string]interface{}{
				"ArnLike": map[string]interface{}{"aws:PrincipalArn": []string{
					slr("imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder"),
					slr("autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
				}},
				"Bool": map[string]interface{}{"kms:GrantIsForAWSResource": "true"},
			},
		}),
	}
	if logGroups {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsiiString("AllowImageBuilderLogGroups"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsiiString("logs."+region+"."+suffix), nil)},
			Actions:    useKey,
			Resources:  jsiiStrings("*"),
			Conditions: &map[string]interface{}{
				"ArnLike": map[string]interface{}{
					"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:%s:logs:%s:%s:log-group:/aws/imagebuilder/*", partition, region, account),
				},
			},
		}))
	}
	if accounts != nil && len(*accounts) > 0 {
		var principals []awsiam.IPrincipal
		for _, a := range *accounts {
			principals = append(principals, awsiam.NewAccountPrincipal(a))
		}
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsiiString("AllowDistributionAccountsToLaunchTheAMI"),
			Principals: &principals,
			Actions:    jsiiStrings("kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey", "kms:CreateGrant"),
			Resources:  jsiiStrings("*"),
			Conditions: &map[string]interface{}{
				"StringLike": map[string]interface{}{"kms:ViaService": "ec2.*." + suffix},
			},
		}))
		// EC2 Auto Scaling launches with its service-linked role, whose
		// permissions cannot be changed and which a key policy cannot name
		// before it exists. So an account that runs the AMI in an Auto
		// Scaling group grants that role the key itself (aws kms
		// create-grant, see constructs/goldenfleet), which KMS authorizes
		// here: a grant only to an account's own Auto Scaling role, only for
		// the operations launching an encrypted AMI needs.
		for _, a := range *accounts {
			statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsiiString("AllowAccount" + *a + "ToGrantItsAutoScalingRole"),
				Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(a)},
				Actions:    jsiiStrings("kms:CreateGrant"),
				Resources:  jsiiStrings("*"),
				Conditions: &map[string]interface{}{
					"StringLike": map[string]interface{}{"kms:GranteePrincipal": fmt.Sprintf(
						"arn:%s:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling*", partition, *a)},
					"ForAllValues:StringEquals": map[string]interface{}{"kms:GrantOperations": autoScalingGrantOperations},
				},
			}))
		}
	}
	return statements
}

// autoScalingGrantOperations are the operations the EC2 Auto Scaling
// service-linked role of an account the AMI is shared with needs on the
// key, and may be granted by that account ("Required AWS KMS key policy for
// use with encrypted volumes", Amazon EC2 Auto Scaling User Guide).
var autoScalingGrantOperations = []string{
	"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "DescribeKey", "CreateGrant",
}

func (g *GoldenImagePipeline) defineLogBucket(p GoldenImagePipelineProps) awss3.IBucket {
	if p.LogBucket != nil {
		return p.LogBucket
	}
	bucket, _ := newLogBuckets(g, g.EncryptionKey, p.LogRetention)
	return bucket
}

// newKey defines a customer-managed key with yearly rotation, retained on
// stack deletion, as construct "Key" under scope.
func newKey(scope constructs.Construct, purpose string) awskms.Key {
	return awskms.NewKey(scope, jsiiString("Key"), &awskms.KeyProps{
		Description:       jsiiString("Encrypts the volumes, AMIs, logs and notifications of " + purpose),
		EnableKeyRotation: jsiiBool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		PendingWindow:     awscdk.Duration_Days(jsiiNumber(30)),
	})
}

// newLogBuckets defines the build-log bucket ("LogBucket") and its server
// access log bucket ("AccessLogBucket") under scope.
func newLogBuckets(scope constructs.Construct, key awskms.IKey, retention awscdk.Duration) (awss3.Bucket, awss3.Bucket) {
	days, _ := wholeDays(retention)
	expire := func(id string) *[]*awss3.LifecycleRule {
		return &[]*awss3.LifecycleRule{{
			Id:                                  jsiiString(id),
			Expiration:                          awscdk.Duration_Days(jsiiNumber(float64(days))),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsiiNumber(7)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsiiNumber(7)),
		}}
	}
	accessLogs := awss3.NewBucket(scope, jsiiString("AccessLogBucket"), &awss3.BucketProps{
		// S3 server access logging can only deliver to SSE-S3 buckets.
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsiiBool(true),
		MinimumTLSVersion: jsiiNumber(1.2),
		Versioned:         jsiiBool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		// Object ownership is left to CDK: with the
		// @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy flag it grants log
		// delivery by bucket policy, without it by the LogDeliveryWrite ACL,
		// which needs ObjectWriter ownership. Either way the construct
		// synthesizes in apps with or without that flag.
		LifecycleRules: expire("expire-access-logs"),
		RemovalPolicy:  awscdk.RemovalPolicy_RETAIN,
	})
	nag.Suppress(accessLogs,
		nag.Rule{ID: "AwsSolutions-S1", Reason: "This bucket is the server access log destination of the build-log bucket; logging it to itself would loop."},
		nag.Rule{ID: "NIST.800.53.R5-S3BucketLoggingEnabled", Reason: "This bucket is the server access log destination of the build-log bucket; logging it to itself would loop."},
		nag.Rule{ID: "NIST.800.53.R5-S3DefaultEncryptionKMS", Reason: "S3 server access logging only delivers to buckets encrypted with SSE-S3, not SSE-KMS."},
		nag.Rule{ID: "NIST.800.53.R5-S3BucketReplicationEnabled", Reason: "Access logs of a build-log bucket expire after the log retention period; a cross-region replica would outlive the data it describes."},
	)
	bucket := awss3.NewBucket(scope, jsiiString("LogBucket"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          key,
		BucketKeyEnabled:       jsiiBool(true),
		EnforceSSL:             jsiiBool(true),
		MinimumTLSVersion:      jsiiNumber(1.2),
		Versioned:              jsiiBool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: jsiiString("build-logs/"),
		LifecycleRules:         expire("expire-build-logs"),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
	})
	nag.Suppress(bucket, nag.Rule{
		ID:     "NIST.800.53.R5-S3BucketReplicationEnabled",
		Reason: "Build logs are diagnostic output that expires after the log retention period; every build regenerates them, so a cross-region replica adds cost without recovery value.",
	})
	return bucket, accessLogs
}

func (g *GoldenImagePipeline) defineInstanceRole(p GoldenImagePipelineProps) awsiam.IRole {
	role := awsiam.NewRole(g, jsiiString("InstanceRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsiiString("ec2.amazonaws.com"), nil),
		Description: jsiiString("Build and test instances of golden image " + *p.ImageName),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsiiString("EC2InstanceProfileForImageBuilder")),
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsiiString("AmazonSSMManagedInstanceCore")),
		},
	})
	nag.Suppress(role, nag.Rule{
		ID:     "AwsSolutions-IAM4",
		Reason: "Image Builder build instances need exactly these two AWS-managed policies: EC2InstanceProfileForImageBuilder (AWSTOE, component downloads) and AmazonSSMManagedInstanceCore (the SSM agent that runs the build).",
		AppliesTo: []string{
			"Policy::arn:<AWS::Partition>:iam::aws:policy/EC2InstanceProfileForImageBuilder",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore",
		},
	})
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsiiString("WriteOwnBuildLogs"),
			Actions:   jsiiStrings("s3:PutObject"),
			Resources: &[]*string{g.LogBucket.ArnForObjects(jsiiString(*g.LogPrefix + "*"))},
		}),
	}
	if logKey := g.LogBucket.EncryptionKey(); logKey != nil {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsiiString("EncryptOwnBuildLogs"),
			Actions:   jsiiStrings("kms:GenerateDataKey", "kms:Decrypt"),
			Resources: &[]*string{logKey.KeyArn()},
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]interface{}{"kms:ViaService": cdkkey.RegionalService(awscdk.Stack_Of(g), "s3")},
			},
		}))
	}
	policy := awsiam.NewManagedPolicy(g, jsiiString("LogWritePolicy"), &awsiam.ManagedPolicyProps{
		Description: jsiiString("Lets golden image " + *p.ImageName + " build instances write their own build logs"),
		Roles:       &[]awsiam.IRole{role},
		Statements:  &statements,
	})
	nag.Suppress(policy, nag.Rule{
		ID:        "AwsSolutions-IAM5",
		Reason:    "Build instances write log objects with generated names; the wildcard is confined to this pipeline's own prefix of the log bucket.",
		AppliesTo: []string{`/^Resource::(<[A-Za-z0-9]+\.Arn>|arn:` + nag.Partition(g) + `:s3:::[^/]+)\/` + regexp.QuoteMeta(*g.LogPrefix) + `\*$/`},
	})
	return role
}

func (g *GoldenImagePipeline) defineUpstreamParameter(p GoldenImagePipelineProps) awsssm.IStringParameter {
	if p.ParentImage != nil {
		return p.ParentImage.parameter
	}
	return awsssm.NewStringParameter(g, jsiiString("UpstreamParameter"), &awsssm.StringParameterProps{
		ParameterName: p.UpstreamParameterName,
		StringValue:   p.UpstreamParameterSeed,
		DataType:      awsssm.ParameterDataType_AWS_EC2_IMAGE,
		Tier:          awsssm.ParameterTier_STANDARD,
		Description:   jsiiString("Upstream AMI that golden image " + *p.ImageName + " is built on; maintained by the upstream monitor"),
	})
}

// componentRef is one recipe component with the identity that goes into the recipe hash.
type componentRef struct {
	arn      *string
	identity string
}

func (g *GoldenImagePipeline) defineComponent(stack awscdk.Stack, id, name, platform, description, data string) componentRef {
	props := &awsimagebuilder.CfnComponentProps{
		Name:        jsiiString(name),
		Platform:    jsiiString(platform),
		Description: jsiiString(runes.Cut(description, 1024)),
		Data:        jsiiString(data),
		Version:     jsiiString(versionPlaceholder),
	}
	// The construct id is part of the version: a component that moves to
	// another logical id (as components did when they were numbered by
	// position) gets a version no other logical id holds, so CloudFormation
	// never creates a name and version that still exists.
	props.Version = jsiiString(contentVersion(stack, props, id))
	c := awsimagebuilder.NewCfnComponent(g, jsiiString(id), props)
	return componentRef{arn: c.AttrArn(), identity: name + "@" + *props.Version}
}

// componentName is "<base>-<name>", within Image Builder's 128 characters
// for a component name: a base that would make it longer is cut and ends in
// a hash of the whole, so names stay unique.
func componentName(base, name string) string {
	full := base + "-" + name
	if len(full) <= 128 {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	keep := 128 - len(name) - 1 - 9 // "-" + name, and "-" + 8 hex digits
	return fmt.Sprintf("%s-%x-%s", base[:keep], sum[:4], name)
}

// managedComponent refers to an AWS-managed component, always its newest version.
func managedComponent(stack awscdk.Stack, name string) componentRef {
	arn := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsiiString("imagebuilder"),
		Account:      jsiiString("aws"),
		Resource:     jsiiString("component"),
		ResourceName: jsiiString(name + "/x.x.x"),
	})
	return componentRef{arn: arn, identity: "aws:" + name}
}

func (g *GoldenImagePipeline) defineRecipe(stack awscdk.Stack, p GoldenImagePipelineProps, parent *ParentImage, baseName string) awsimagebuilder.CfnImageRecipe {
	platform := string(p.Platform)
	lower := strings.ToLower(platform)
	agent, err := components.SSMAgentUpdate(platform)
	if err != nil {
		panic(err)
	}
	test, err := components.Test(platform)
	if err != nil {
		panic(err)
	}

	// Order matters: the SSM agent first, so OS updates and hardening never
	// run on a broken agent; extra components before STIG, so hardening has
	// the last word; tests run on a fresh instance after the build.
	refs := []componentRef{
		g.defineComponent(stack, "SSMAgentComponent", componentName(baseName, agent.Name), platform, agent.Description, agent.Data),
		managedComponent(stack, "update-"+lower),
	}
	if p.AdditionalComponents != nil {
		for _, c := range *p.AdditionalComponents {
			if c.arn != "" {
				refs = append(refs, componentRef{arn: jsiiString(c.arn), identity: c.arn})
				continue
			}
			// Named by the component, not its position: reordering, adding or
			// removing components leaves the others' logical ids alone.
			refs = append(refs, g.defineComponent(stack, "Component-"+c.name, componentName(baseName, c.name), platform,
				"Additional component "+c.name+" of golden image "+*p.ImageName, c.document))
		}
	}
	refs = append(refs,
		managedComponent(stack, fmt.Sprintf("stig-build-%s-%s", lower, p.StigLevel)),
		g.defineComponent(stack, "TestComponent", componentName(baseName, test.Name), platform, test.Description, test.Data),
	)

	var configs []interface{}
	var identities []string
	for _, r := range refs {
		configs = append(configs, &awsimagebuilder.CfnImageRecipe_ComponentConfigurationProperty{ComponentArn: r.arn})
		identities = append(identities, r.identity)
	}
	ebs := &awsimagebuilder.CfnImageRecipe_EbsInstanceBlockDeviceSpecificationProperty{
		Encrypted:           jsiiBool(true),
		KmsKeyId:            g.EncryptionKey.KeyArn(),
		VolumeType:          jsiiString("gp3"),
		DeleteOnTermination: jsiiBool(true),
	}
	if p.RootVolumeSizeGiB != nil {
		ebs.VolumeSize = p.RootVolumeSizeGiB
	}
	props := &awsimagebuilder.CfnImageRecipeProps{
		Name:        jsiiString(baseName),
		Description: jsiiString(runes.Cut(*p.Description, 1024)),
		ParentImage: parent.recipeValue(),
		Components:  &configs,
		BlockDeviceMappings: &[]interface{}{&awsimagebuilder.CfnImageRecipe_InstanceBlockDeviceMappingProperty{
			DeviceName: p.RootDeviceName,
			Ebs:        ebs,
		}},
		AmiTags: g.amiTags(p),
		// Image Builder installs the SSM agent on Linux parents that lack
		// it (RHEL, for example) and, by default, removes it again before
		// it creates the AMI. Keep it: the golden image ships the agent
		// the first component just updated. UserDataOverride stays unset,
		// so Image Builder's own agent installation still runs.
		AdditionalInstanceConfiguration: &awsimagebuilder.CfnImageRecipe_AdditionalInstanceConfigurationProperty{
			SystemsManagerAgent: &awsimagebuilder.CfnImageRecipe_SystemsManagerAgentProperty{
				UninstallAfterBuild: jsiiBool(false),
			},
		},
		Version: jsiiString(versionPlaceholder),
	}
	// The version covers the resolved properties and the component versions:
	// a component's ARN token stays the same when only its version changes.
	props.Version = jsiiString(contentVersion(stack, props, identities))
	return awsimagebuilder.NewCfnImageRecipe(g, jsiiString("Recipe"), props)
}

// amiTags are the user's tags plus provenance.
func (g *GoldenImagePipeline) amiTags(p GoldenImagePipelineProps) *map[string]*string {
	tags := map[string]*string{}
	if p.AMITags != nil {
		for k, v := range *p.AMITags {
			tags[k] = v
		}
	}
	tags[TagImage] = p.ImageName
	tags[TagPipeline] = g.RecipeName
	tags[TagPlatform] = jsiiString(string(p.Platform))
	tags[TagArchitecture] = jsiiString(string(p.Architecture))
	tags[TagStigLevel] = jsiiString(string(p.StigLevel))
	return &tags
}

func (g *GoldenImagePipeline) defineInfrastructure(p GoldenImagePipelineProps, baseName string) awsimagebuilder.CfnInfrastructureConfiguration {
	profile := awsiam.NewInstanceProfile(g, jsiiString("InstanceProfile"), &awsiam.InstanceProfileProps{Role: g.InstanceRole})
	props := &awsimagebuilder.CfnInfrastructureConfigurationProps{
		Name:                jsiiString(baseName),
		Description:         jsiiString("Build and test instances of golden image " + *p.ImageName),
		InstanceProfileName: profile.InstanceProfileName(),
		InstanceTypes:       p.InstanceTypes,
		InstanceMetadataOptions: &awsimagebuilder.CfnInfrastructureConfiguration_InstanceMetadataOptionsProperty{
			HttpTokens:              jsiiString("required"),
			HttpPutResponseHopLimit: jsiiNumber(1),
		},
		TerminateInstanceOnFailure: jsiiBool(true),
		SnsTopicArn:                g.Topic.TopicArn(),
		Logging: &awsimagebuilder.CfnInfrastructureConfiguration_LoggingProperty{
			S3Logs: &awsimagebuilder.CfnInfrastructureConfiguration_S3LogsProperty{
				S3BucketName: g.LogBucket.BucketName(),
				S3KeyPrefix:  jsiiString(strings.TrimSuffix(*g.LogPrefix, "/")),
			},
		},
		ResourceTags: &map[string]*string{TagImage: p.ImageName, TagPipeline: g.RecipeName},
	}
	if p.Subnet != nil {
		props.SubnetId = p.Subnet.SubnetId()
		var ids []*string
		for _, sg := range *p.SecurityGroups {
			ids = append(ids, sg.SecurityGroupId())
		}
		props.SecurityGroupIds = &ids
	}
	return awsimagebuilder.NewCfnInfrastructureConfiguration(g, jsiiString("Infrastructure"), props)
}

func (g *GoldenImagePipeline) defineDistribution(stack awscdk.Stack, p GoldenImagePipelineProps, baseName string) awsimagebuilder.CfnDistributionConfiguration {
	var distributions []interface{}
	for i, region := range *g.DistributionRegions {
		key := g.AMIKey.KeyArn()
		if i > 0 {
			key = jsiiString(fmt.Sprintf("arn:%s:kms:%s:%s:%s", *stack.Partition(), *region, *stack.Account(), *p.DistributionKeyAlias))
		}
		// CDK renders AmiDistributionConfiguration as untyped JSON, so it is
		// written with the CloudFormation schema's own (PascalCase) keys.
		ami := map[string]interface{}{
			"Name":        *p.ImageName + "-{{ imagebuilder:buildDate }}",
			"Description": runes.Cut(*p.Description, maxAMIDescription),
			"AmiTags":     g.amiTags(p),
			"KmsKeyId":    key,
		}
		if p.DistributionAccounts != nil && len(*p.DistributionAccounts) > 0 {
			ami["LaunchPermissionConfiguration"] = map[string]interface{}{"UserIds": p.DistributionAccounts}
		}
		d := &awsimagebuilder.CfnDistributionConfiguration_DistributionProperty{
			Region:                       region,
			AmiDistributionConfiguration: ami,
		}
		if i == 0 && p.DistributionLaunchTemplates != nil {
			var templates []interface{}
			for _, lt := range *p.DistributionLaunchTemplates {
				templates = append(templates, &awsimagebuilder.CfnDistributionConfiguration_LaunchTemplateConfigurationProperty{
					LaunchTemplateId:  lt.LaunchTemplateId(),
					SetDefaultVersion: jsiiBool(true),
				})
			}
			d.LaunchTemplateConfigurations = &templates
		}
		distributions = append(distributions, d)
	}
	return awsimagebuilder.NewCfnDistributionConfiguration(g, jsiiString("Distribution"), &awsimagebuilder.CfnDistributionConfigurationProps{
		Name:          jsiiString(baseName),
		Description:   jsiiString("Distribution of golden image " + *p.ImageName),
		Distributions: &distributions,
	})
}

func (g *GoldenImagePipeline) definePipeline(p GoldenImagePipelineProps, baseName string) awsimagebuilder.CfnImagePipeline {
	days, _ := wholeDays(p.LogRetention)
	retention := awslogs.RetentionDays(fmt.Sprint(days))
	if r, ok := retentionDays[days]; ok {
		retention = r
	}
	logGroup := func(id, name string) awslogs.LogGroup {
		return awslogs.NewLogGroup(g, jsiiString(id), &awslogs.LogGroupProps{
			LogGroupName:  jsiiString(name),
			Retention:     retention,
			EncryptionKey: g.EncryptionKey,
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
		})
	}
	// Image Builder's default log group names, created here so they get a
	// retention period and encryption instead of growing forever.
	imageLogs := logGroup("ImageLogGroup", "/aws/imagebuilder/"+baseName)
	pipelineLogs := logGroup("PipelineLogGroup", "/aws/imagebuilder/pipeline/"+baseName)

	props := &awsimagebuilder.CfnImagePipelineProps{
		Name:                           jsiiString(baseName),
		Description:                    jsiiString(runes.Cut(*p.Description, 1024)),
		ImageRecipeArn:                 g.Recipe.AttrArn(),
		InfrastructureConfigurationArn: g.InfrastructureConfiguration.AttrArn(),
		DistributionConfigurationArn:   g.DistributionConfiguration.AttrArn(),
		Status:                         jsiiString("ENABLED"),
		EnhancedImageMetadataEnabled:   jsiiBool(true),
		ImageTestsConfiguration: &awsimagebuilder.CfnImagePipeline_ImageTestsConfigurationProperty{
			ImageTestsEnabled: jsiiBool(true),
			TimeoutMinutes:    p.ImageTestsTimeout.ToMinutes(nil),
		},
		ImageScanningConfiguration: &awsimagebuilder.CfnImagePipeline_ImageScanningConfigurationProperty{
			ImageScanningEnabled: jsiiBool(true),
		},
		ImageTags: &map[string]*string{TagPipeline: g.RecipeName, TagImage: p.ImageName},
		LoggingConfiguration: &awsimagebuilder.CfnImagePipeline_PipelineLoggingConfigurationProperty{
			ImageLogGroupName:    imageLogs.LogGroupName(),
			PipelineLogGroupName: pipelineLogs.LogGroupName(),
		},
	}
	if *p.Schedule != "" {
		props.Schedule = &awsimagebuilder.CfnImagePipeline_ScheduleProperty{
			ScheduleExpression:              p.Schedule,
			Timezone:                        p.ScheduleTimezone,
			PipelineExecutionStartCondition: jsiiString(string(p.StartCondition)),
			AutoDisablePolicy: &awsimagebuilder.CfnImagePipeline_AutoDisablePolicyProperty{
				FailureCount: p.AutoDisableAfterFailures,
			},
		}
	}
	return awsimagebuilder.NewCfnImagePipeline(g, jsiiString("Pipeline"), props)
}

func (g *GoldenImagePipeline) defineLifecycle(p GoldenImagePipelineProps, baseName string) (awsiam.IRole, awsimagebuilder.CfnLifecyclePolicy) {
	role := awsiam.NewRole(g, jsiiString("LifecycleRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsiiString("imagebuilder.amazonaws.com"), nil),
		Description: jsiiString("Runs the lifecycle policy of golden image " + *p.ImageName),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsiiString("service-role/EC2ImageBuilderLifecycleExecutionPolicy")),
		},
	})
	nag.Suppress(role, nag.Rule{
		ID: "AwsSolutions-IAM4",
		Reason: "Image Builder lifecycle policies need an execution role, and AWS maintains EC2ImageBuilderLifecycleExecutionPolicy for exactly that role. " +
			"The policy itself allows ec2:DeregisterImage, ec2:DeleteSnapshot and image deprecation on any AMI or snapshot in the account tagged CreatedBy=EC2 Image Builder; " +
			"Image Builder acts with the role only on the resources this lifecycle policy's rules select: images tagged with this pipeline's recipe name, and their snapshots.",
		AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/EC2ImageBuilderLifecycleExecutionPolicy"},
	})
	age := func(d awscdk.Duration) *awsimagebuilder.CfnLifecyclePolicy_FilterProperty {
		days, _ := wholeDays(d)
		value, unit, _ := lifecycleAge(days) // validated
		return &awsimagebuilder.CfnLifecyclePolicy_FilterProperty{Type: jsiiString("AGE"), Value: jsiiNumber(value), Unit: jsiiString(unit)}
	}
	var deleteFilter *awsimagebuilder.CfnLifecyclePolicy_FilterProperty
	if p.LifecycleRetainCount != nil {
		deleteFilter = &awsimagebuilder.CfnLifecyclePolicy_FilterProperty{Type: jsiiString("COUNT"), Value: p.LifecycleRetainCount}
	} else {
		deleteFilter = age(p.LifecycleDeleteAfter)
		deleteFilter.RetainAtLeast = p.LifecycleRetainAtLeast
	}
	policy := awsimagebuilder.NewCfnLifecyclePolicy(g, jsiiString("LifecyclePolicy"), &awsimagebuilder.CfnLifecyclePolicyProps{
		Name:          jsiiString(baseName),
		Description:   jsiiString("Deprecates, then deletes, old images of golden image " + *p.ImageName),
		ExecutionRole: role.RoleArn(),
		ResourceType:  jsiiString("AMI_IMAGE"),
		Status:        jsiiString("ENABLED"),
		PolicyDetails: &[]interface{}{
			&awsimagebuilder.CfnLifecyclePolicy_PolicyDetailProperty{
				Action: &awsimagebuilder.CfnLifecyclePolicy_ActionProperty{Type: jsiiString("DEPRECATE")},
				Filter: age(p.LifecycleDeprecateAfter),
			},
			&awsimagebuilder.CfnLifecyclePolicy_PolicyDetailProperty{
				Action: &awsimagebuilder.CfnLifecyclePolicy_ActionProperty{
					Type: jsiiString("DELETE"),
					IncludeResources: &awsimagebuilder.CfnLifecyclePolicy_IncludeResourcesProperty{
						Amis: jsiiBool(true), Snapshots: jsiiBool(true),
					},
				},
				Filter: deleteFilter,
			},
		},
		// Images carry this tag from the pipeline's ImageTags. Selecting by tag
		// keeps images built by earlier recipe versions under the policy.
		ResourceSelection: &awsimagebuilder.CfnLifecyclePolicy_ResourceSelectionProperty{
			TagMap: &map[string]*string{TagPipeline: g.RecipeName},
		},
	})
	return role, policy
}

// versionPlaceholder stands in for the version while the content is hashed.
const versionPlaceholder = "0.0.0"

// contentVersion derives an Image Builder semantic version from the resolved
// content of parts: 1.<a>.<b>, with a and b taken from a SHA-256 of the
// resolved JSON (each below 2^30, Image Builder's limit per node).
func contentVersion(stack awscdk.Stack, parts ...interface{}) string {
	resolved := stack.Resolve(parts)
	data, err := json.Marshal(resolved)
	if err != nil {
		panic(fmt.Sprintf("goldenimage: hash content: %v", err))
	}
	sum := sha256.Sum256(data)
	const mask = 1<<30 - 1
	return fmt.Sprintf("1.%d.%d", binary.BigEndian.Uint32(sum[0:4])&mask, binary.BigEndian.Uint32(sum[4:8])&mask)
}

var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// maxAMIDescription is EC2's limit on an AMI's description.
const maxAMIDescription = 255

func jsiiStrings(values ...string) *[]*string {
	out := make([]*string, len(values))
	for i := range values {
		out[i] = &values[i]
	}
	return &out
}
