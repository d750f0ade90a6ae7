package goldenimage

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/internal/validate"
)

// GoldenImagePipelineAttributes describe an Image Builder pipeline that
// was not defined by NewGoldenImagePipeline in this app: one built by
// another tool, by hand, or by another CDK app. See
// GoldenImagePipelineFromAttributes.
type GoldenImagePipelineAttributes struct {
	// PipelineARN is the image pipeline's ARN,
	// "arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>",
	// in the account and region of the stack that imports it: EventBridge
	// rules and Image Builder events are regional.
	//
	// Required.
	PipelineARN *string

	// RecipeName is the name of the pipeline's image recipe as it appears
	// in image ARNs (lowercase letters, digits, hyphens and underscores):
	// every image the pipeline builds is "image/<RecipeName>/<version>/<build>".
	// Rules and grants on the pipeline's images match exactly that prefix.
	// It must be a literal, not a token.
	//
	// Required.
	RecipeName *string

	// ImageName names the image in descriptions, rule ids and default
	// parameter names (latestami's "/golden-ami/<ImageName>/latest"): 2-40
	// lowercase letters, digits or hyphens, starting with a letter, as
	// GoldenImagePipelineProps.ImageName.
	//
	// Default: the pipeline's name, the last part of PipelineARN, when it
	// is such a name (otherwise ImageName is required).
	ImageName *string

	// Topic is the SNS topic the pipeline's infrastructure configuration
	// notifies of every finished image.
	//
	// Default: none. A latestami.LatestAMIRecorder then needs
	// latestami.TriggerEventBridge.
	Topic awssns.ITopic

	// UpstreamParameter is the SSM parameter the recipe's parent image
	// comes from ("ssm:<name>").
	//
	// Default: none. A pipelinetrigger.PipelineTrigger then needs its
	// Parameter.
	UpstreamParameter awsssm.IStringParameter

	// EncryptionKey is the key that functions working for the pipeline
	// (trigger, recorder) should encrypt with. It becomes their default
	// only when it is defined in their own stack; for an imported key,
	// whose policy CDK cannot change, or one of another stack, they create
	// their own.
	//
	// Default: none (each such function creates its own key).
	EncryptionKey awskms.IKey

	// DistributionRegions are the regions the pipeline distributes its AMI
	// to; a latestami.LatestAMIRecorder writes the parameter in each.
	//
	// Default: the stack's region only.
	DistributionRegions *[]*string

	// Platform and Architecture of the image, for code that reads them:
	// latestami.LatestAMIFromRecorder launches Windows only when Platform
	// is PlatformWindows, so set it for a Windows pipeline.
	//
	// Default: empty; consumers treat an empty Platform as Linux.
	Platform     Platform
	Architecture Architecture
}

var (
	pipelineARNPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f):imagebuilder:([a-z0-9-]+):([0-9]{12}):image-pipeline/([a-z0-9_-]+)$`)
	recipeNamePattern  = regexp.MustCompile(`^[a-z0-9_-]{1,128}$`)
)

// GoldenImagePipelineFromAttributes returns a GoldenImagePipeline for a
// pipeline defined elsewhere, so that the constructs that work for a
// pipeline (pipelinetrigger.PipelineTrigger, latestami.LatestAMIRecorder,
// notifications.Notifications.NotifyImages) and its methods
// (GrantStartExecution, GrantReadImages, ImageARNs, OnImageAvailable,
// OnImageFailed) can be used with it. It defines no resources; the fields
// for what it does not define (Pipeline, Recipe, the configurations,
// LifecyclePolicy, AMIKey, InstanceRole, LifecycleRole, LogBucket,
// LogPrefix) are nil, and those given no attribute too.
//
// It panics with an error naming the field and the value when attrs are
// invalid, before defining anything.
func GoldenImagePipelineFromAttributes(scope constructs.Construct, id *string, attrs *GoldenImagePipelineAttributes) *GoldenImagePipeline {
	if attrs == nil {
		attrs = &GoldenImagePipelineAttributes{}
	}
	stack := awscdk.Stack_Of(scope)
	imageName, err := attrs.validate(*stack.Account(), *stack.Region())
	if err != nil {
		panic(err)
	}
	this := &GoldenImagePipeline{
		PipelineARN:         attrs.PipelineARN,
		RecipeName:          attrs.RecipeName,
		ImageName:           imageName,
		Topic:               attrs.Topic,
		UpstreamParameter:   attrs.UpstreamParameter,
		EncryptionKey:       attrs.EncryptionKey,
		DistributionRegions: distributionRegions(stack, attrs.DistributionRegions),
		Platform:            attrs.Platform,
		Architecture:        attrs.Architecture,
	}
	constructs.NewConstruct_Override(this, scope, id)
	return this
}

// validate checks attrs against the importing stack's account and region
// and returns the image name to use.
func (a *GoldenImagePipelineAttributes) validate(stackAccount, stackRegion string) (*string, error) {
	var errs []error
	fail := func(field string, err error) {
		errs = append(errs, fmt.Errorf("goldenimage: %s %w", field, err))
	}
	known := func(s *string) bool { return s != nil && !isToken(*s) }
	imageName := a.ImageName

	switch {
	case a.PipelineARN == nil:
		fail("PipelineARN", errors.New("is required"))
	case known(a.PipelineARN):
		m := pipelineARNPattern.FindStringSubmatch(*a.PipelineARN)
		if m == nil {
			fail("PipelineARN", fmt.Errorf("%q is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>)", *a.PipelineARN))
			break
		}
		partition, region, account, name := m[1], m[2], m[3], m[4]
		if err := validate.Region(region); err != nil {
			fail("PipelineARN", fmt.Errorf("%q: region %w", *a.PipelineARN, err))
		} else if want := partitionOf(region); partition != want {
			fail("PipelineARN", fmt.Errorf("%q: partition %s does not hold region %s (want %s)", *a.PipelineARN, partition, region, want))
		}
		if !isToken(stackRegion) && region != stackRegion {
			fail("PipelineARN", fmt.Errorf("%q is in region %s, the stack in %s (Image Builder events and EventBridge rules are regional: import the pipeline in a stack of its region)", *a.PipelineARN, region, stackRegion))
		}
		if !isToken(stackAccount) && account != stackAccount {
			fail("PipelineARN", fmt.Errorf("%q is in account %s, the stack in %s (import the pipeline in a stack of its account)", *a.PipelineARN, account, stackAccount))
		}
		if imageName == nil {
			if err := validate.Name(name, 40); err != nil {
				fail("ImageName", fmt.Errorf("is not set, and the pipeline's name %w: give ImageName", err))
			}
			imageName = &name
		}
	}
	switch {
	case a.RecipeName == nil:
		fail("RecipeName", errors.New("is required (image ARNs start with image/<RecipeName>/)"))
	case isToken(*a.RecipeName):
		// Rules match it as a prefix, and the IAM suppressions of the
		// functions that read the images name it: both need the literal.
		fail("RecipeName", fmt.Errorf("%q is a token (want the literal name: rules and cdk-nag suppressions match it)", *a.RecipeName))
	case !recipeNamePattern.MatchString(*a.RecipeName):
		fail("RecipeName", fmt.Errorf("%q is not a recipe name as image ARNs spell it (want 1-128 lowercase letters, digits, hyphens or underscores)", *a.RecipeName))
	}
	switch {
	case imageName == nil && a.PipelineARN != nil && isToken(*a.PipelineARN):
		fail("ImageName", errors.New("is required when PipelineARN is a token"))
	case a.ImageName != nil && known(a.ImageName):
		if err := validate.Name(*a.ImageName, 40); err != nil {
			fail("ImageName", err)
		}
	}
	checkDistributionRegions(a.DistributionRegions, fail)
	if a.Platform != "" {
		if err := a.Platform.Validate(); err != nil {
			fail("Platform", err)
		}
	}
	if a.Architecture != "" {
		if err := a.Architecture.Validate(); err != nil {
			fail("Architecture", err)
		}
	}
	return imageName, errors.Join(errs...)
}

// partitionOf is the partition that holds region.
func partitionOf(region string) string {
	for _, p := range []struct{ prefix, partition string }{
		{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-iso-", "aws-iso"},
		{"eu-isoe-", "aws-iso-e"}, {"us-isof-", "aws-iso-f"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}
