package goldenimage_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

const importedARN = "arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/web-base"

// A pipeline defined elsewhere: the fields come from the attributes, the
// image name and regions have defaults, nothing is defined, and the rules
// and grants work on its ARN and recipe name.
func TestPipelineFromAttributes(t *testing.T) {
	stack := newStack(t)
	topic := awssns.Topic_FromTopicArn(stack, jsii.String("Topic"), jsii.String("arn:aws:sns:us-east-1:111111111111:web-base"))
	p := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("Imported"), &gi.GoldenImagePipelineAttributes{
		PipelineARN: jsii.String(importedARN),
		RecipeName:  jsii.String("web-base-recipe"),
		Topic:       topic,
	})
	if got := *p.ImageName; got != "web-base" {
		t.Errorf("ImageName = %q, want the pipeline's name web-base", got)
	}
	if got := *p.PipelineARN; got != importedARN {
		t.Errorf("PipelineARN = %q", got)
	}
	if got := *p.RecipeName; got != "web-base-recipe" {
		t.Errorf("RecipeName = %q", got)
	}
	if regions := *p.DistributionRegions; len(regions) != 1 || *regions[0] != "us-east-1" {
		t.Errorf("DistributionRegions = %v, want the stack's region only", regions)
	}
	if p.Topic != topic || p.Pipeline != nil || p.Recipe != nil || p.EncryptionKey != nil || p.UpstreamParameter != nil {
		t.Errorf("fields: Topic %v (want the given topic), Pipeline %v, Recipe %v, EncryptionKey %v, UpstreamParameter %v (want nil)", p.Topic, p.Pipeline, p.Recipe, p.EncryptionKey, p.UpstreamParameter)
	}

	p.OnImageAvailable(jsii.String("Available"), nil)
	role := awsiam.NewRole(stack, jsii.String("Starter"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	p.GrantStartExecution(role)
	p.GrantReadImages(role)
	tmpl := assertions.Template_FromStack(stack, nil)
	count(t, tmpl, "AWS::ImageBuilder::ImagePipeline", 0)
	cdktest.Check(t, "available rule", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{"EventPattern": map[string]interface{}{
			"resources": []interface{}{map[string]interface{}{"prefix": "arn:aws:imagebuilder:us-east-1:111111111111:image/web-base-recipe/"}},
			"detail":    map[string]interface{}{"state": map[string]interface{}{"status": []interface{}{"AVAILABLE"}}},
		}})
	})
	cdktest.Check(t, "grants", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
			map[string]interface{}{"Action": "imagebuilder:StartImagePipelineExecution", "Effect": "Allow", "Resource": importedARN},
			map[string]interface{}{"Action": "imagebuilder:GetImage", "Effect": "Allow", "Resource": "arn:aws:imagebuilder:us-east-1:111111111111:image/web-base-recipe/*"},
		}}})
	})
}

// Given attributes win over defaults; an ARN that is a token needs ImageName.
func TestPipelineFromAttributesOptions(t *testing.T) {
	stack := newStack(t)
	arn := awscdk.Fn_ImportValue(jsii.String("WebBasePipelineArn"))
	p := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("Imported"), &gi.GoldenImagePipelineAttributes{
		PipelineARN:         arn,
		RecipeName:          jsii.String("web-base"),
		ImageName:           jsii.String("web"),
		DistributionRegions: jsii.Strings("us-east-1", "eu-west-1"),
		Platform:            gi.PlatformLinux,
		Architecture:        gi.ArchitectureArm64,
	})
	if *p.ImageName != "web" || *p.PipelineARN != *arn || p.Platform != gi.PlatformLinux || p.Architecture != gi.ArchitectureArm64 {
		t.Errorf("ImageName %q, PipelineARN %q, Platform %q, Architecture %q", *p.ImageName, *p.PipelineARN, p.Platform, p.Architecture)
	}
	if regions := *p.DistributionRegions; len(regions) != 2 || *regions[0] != "us-east-1" || *regions[1] != "eu-west-1" {
		t.Errorf("DistributionRegions = %v, want us-east-1, eu-west-1", regions)
	}
}

func TestInvalidPipelineAttributesFailBeforeAnythingIsDefined(t *testing.T) {
	stack := newStack(t)
	recipe := jsii.String("web-base")
	for _, tc := range []struct {
		test  string
		attrs gi.GoldenImagePipelineAttributes
		want  string
	}{
		{"TestFailsWhenNothingIsGiven", gi.GoldenImagePipelineAttributes{},
			"goldenimage: PipelineARN is required\ngoldenimage: RecipeName is required (image ARNs start with image/<RecipeName>/)"},
		{"TestFailsWhenPipelineARNIsNotAPipeline", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String("arn:aws:imagebuilder:us-east-1:111111111111:image-recipe/web/1.0.0"), RecipeName: recipe},
			`goldenimage: PipelineARN "arn:aws:imagebuilder:us-east-1:111111111111:image-recipe/web/1.0.0" is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>)`},
		{"TestFailsWhenPipelineIsInAnotherRegion", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String("arn:aws:imagebuilder:eu-west-1:111111111111:image-pipeline/web"), RecipeName: recipe},
			`goldenimage: PipelineARN "arn:aws:imagebuilder:eu-west-1:111111111111:image-pipeline/web" is in region eu-west-1, the stack in us-east-1 (Image Builder events and EventBridge rules are regional: import the pipeline in a stack of its region)`},
		{"TestFailsWhenPipelineIsInAnotherAccount", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String("arn:aws:imagebuilder:us-east-1:222222222222:image-pipeline/web"), RecipeName: recipe},
			`goldenimage: PipelineARN "arn:aws:imagebuilder:us-east-1:222222222222:image-pipeline/web" is in account 222222222222, the stack in 111111111111 (import the pipeline in a stack of its account)`},
		{"TestFailsWhenPipelineRegionIsMalformed", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String("arn:aws:imagebuilder:useast1:111111111111:image-pipeline/web"), RecipeName: recipe},
			"goldenimage: PipelineARN \"arn:aws:imagebuilder:useast1:111111111111:image-pipeline/web\": region \"useast1\" is not an AWS region (want e.g. \"us-east-1\")\n" +
				`goldenimage: PipelineARN "arn:aws:imagebuilder:useast1:111111111111:image-pipeline/web" is in region useast1, the stack in us-east-1 (Image Builder events and EventBridge rules are regional: import the pipeline in a stack of its region)`},
		{"TestFailsWhenRecipeNameIsNotAsImageARNsSpellIt", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String(importedARN), RecipeName: jsii.String("Web Base")},
			`goldenimage: RecipeName "Web Base" is not a recipe name as image ARNs spell it (want 1-128 lowercase letters, digits, hyphens or underscores)`},
		{"TestFailsWhenImageNameIsInvalid", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String(importedARN), RecipeName: recipe, ImageName: jsii.String("Web/Base")},
			`goldenimage: ImageName "Web/Base" is not a valid name (want 2-40 lowercase letters, digits or hyphens, starting with a letter)`},
		{"TestFailsWhenThePipelinesNameIsNoImageName", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String("arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/web_base"), RecipeName: recipe},
			`goldenimage: ImageName is not set, and the pipeline's name "web_base" is not a valid name (want 2-40 lowercase letters, digits or hyphens, starting with a letter): give ImageName`},
		{"TestFailsWhenPartitionDoesNotHoldTheRegion", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String("arn:aws-cn:imagebuilder:us-east-1:111111111111:image-pipeline/web"), RecipeName: recipe},
			`goldenimage: PipelineARN "arn:aws-cn:imagebuilder:us-east-1:111111111111:image-pipeline/web": partition aws-cn does not hold region us-east-1 (want aws)`},
		{"TestFailsWhenPartitionIsUnknown", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String("arn:awsx:imagebuilder:us-east-1:111111111111:image-pipeline/web"), RecipeName: recipe},
			`goldenimage: PipelineARN "arn:awsx:imagebuilder:us-east-1:111111111111:image-pipeline/web" is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>)`},
		{"TestFailsWhenRecipeNameIsAToken", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String(importedARN), RecipeName: jsii.String("${Token[TOKEN.99]}")},
			`goldenimage: RecipeName "${Token[TOKEN.99]}" is a token (want the literal name: rules and cdk-nag suppressions match it)`},
		{"TestFailsWhenTokenARNHasNoImageName", gi.GoldenImagePipelineAttributes{PipelineARN: awscdk.Fn_ImportValue(jsii.String("Arn")), RecipeName: recipe},
			`goldenimage: ImageName is required when PipelineARN is a token`},
		{"TestFailsWhenDistributionRegionIsInvalid", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String(importedARN), RecipeName: recipe, DistributionRegions: jsii.Strings("us-east-1", "eu-west")},
			`goldenimage: DistributionRegions[1] "eu-west" is not an AWS region (want e.g. "us-east-1")`},
		{"TestFailsWhenArchitectureIsUnknown", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String(importedARN), RecipeName: recipe, Architecture: "i386"},
			`goldenimage: Architecture "i386" is not an architecture (want "x86_64" or "arm64")`},
		{"TestFailsWhenPlatformIsUnknown", gi.GoldenImagePipelineAttributes{PipelineARN: jsii.String(importedARN), RecipeName: recipe, Platform: "macOS"},
			`goldenimage: Platform "macOS" is not a platform (want "Linux" or "Windows")`},
	} {
		t.Run(tc.test, func(t *testing.T) {
			attrs := tc.attrs
			failsBeforeDefining(t, stack, tc.want, func() { gi.GoldenImagePipelineFromAttributes(stack, jsii.String("Imported"), &attrs) })
		})
	}
}

// Partitions other than aws: a China-region pipeline in a China-region stack.
func TestPipelineFromAttributesInAnotherPartition(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("China"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("cn-north-1")},
	})
	p := gi.GoldenImagePipelineFromAttributes(stack, jsii.String("Imported"), &gi.GoldenImagePipelineAttributes{
		PipelineARN: jsii.String("arn:aws-cn:imagebuilder:cn-north-1:111111111111:image-pipeline/web-base"),
		RecipeName:  jsii.String("web-base"),
	})
	if *p.ImageName != "web-base" || *(*p.DistributionRegions)[0] != "cn-north-1" {
		t.Errorf("ImageName %q, DistributionRegions %v", *p.ImageName, *p.DistributionRegions)
	}
}
