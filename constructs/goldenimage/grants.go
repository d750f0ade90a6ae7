package goldenimage

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"

	"github.com/platform-eng/golden-ami/internal/contract"
)

// GrantStartExecution lets grantee start this pipeline:
// imagebuilder:StartImagePipelineExecution on the pipeline's ARN.
func (g *GoldenImagePipeline) GrantStartExecution(grantee awsiam.IGrantable) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsiiStrings("imagebuilder:StartImagePipelineExecution"),
		ResourceArns: &[]*string{g.PipelineARN},
	})
}

// GrantReadImages lets grantee read this pipeline's images:
// imagebuilder:GetImage on "image/<RecipeName>/*", every version and build
// of this pipeline's recipe and no other.
func (g *GoldenImagePipeline) GrantReadImages(grantee awsiam.IGrantable) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsiiStrings("imagebuilder:GetImage"),
		ResourceArns: &[]*string{g.ImageARNs()},
	})
}

// ImageARNs is the ARN pattern of every image this pipeline builds,
// "arn:<partition>:imagebuilder:<region>:<account>:image/<RecipeName>/*".
func (g *GoldenImagePipeline) ImageARNs() *string {
	return awscdk.Stack_Of(g).FormatArn(&awscdk.ArnComponents{
		Service:      jsiiString("imagebuilder"),
		Resource:     jsiiString("image"),
		ResourceName: jsiiString(*g.RecipeName + "/*"),
	})
}

// imageARNPrefix is what every image ARN of this pipeline starts with.
func (g *GoldenImagePipeline) imageARNPrefix() *string {
	return awscdk.Stack_Of(g).FormatArn(&awscdk.ArnComponents{
		Service:      jsiiString("imagebuilder"),
		Resource:     jsiiString("image"),
		ResourceName: jsiiString(*g.RecipeName + "/"),
	})
}

// OnImageAvailable defines an EventBridge rule that matches "EC2 Image
// Builder Image State Change" events of this pipeline's images reaching
// AVAILABLE. Images of other pipelines never match: the rule matches the
// image ARN prefix "image/<RecipeName>/".
func (g *GoldenImagePipeline) OnImageAvailable(id *string, options *awsevents.OnEventOptions) awsevents.Rule {
	return g.onImageState(id, options, "Fires when an image of golden image "+*g.ImageName+" is available", contract.ImageStatusAvailable)
}

// OnImageFailed defines an EventBridge rule that matches this pipeline's
// images reaching FAILED or CANCELLED.
func (g *GoldenImagePipeline) OnImageFailed(id *string, options *awsevents.OnEventOptions) awsevents.Rule {
	return g.onImageState(id, options, "Fires when a build of golden image "+*g.ImageName+" fails or is cancelled", contract.ImageStatusFailed, contract.ImageStatusCancelled)
}

func (g *GoldenImagePipeline) onImageState(id *string, options *awsevents.OnEventOptions, description string, statuses ...string) awsevents.Rule {
	if options == nil {
		options = &awsevents.OnEventOptions{}
	}
	if options.Description != nil {
		description = *options.Description
	}
	rule := awsevents.NewRule(g, id, &awsevents.RuleProps{
		Description:     jsiiString(description),
		RuleName:        options.RuleName,
		CrossStackScope: options.CrossStackScope,
		EventPattern: &awsevents.EventPattern{
			Source:     jsiiStrings(contract.SourceImageBuilder),
			DetailType: jsiiStrings(contract.DetailTypeImageStateChange),
			Resources:  awsevents.Match_Prefix(g.imageARNPrefix()),
			Detail: &map[string]interface{}{
				"state": map[string]interface{}{"status": statuses},
			},
		},
	})
	if options.EventPattern != nil {
		rule.AddEventPattern(options.EventPattern)
	}
	if options.Target != nil {
		rule.AddTarget(options.Target)
	}
	return rule
}
