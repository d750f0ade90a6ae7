package goldenimage

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"

	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/validate"
)

// Platform is the operating system family of an image.
type Platform string

// Platforms Image Builder builds.
const (
	PlatformLinux   Platform = "Linux"
	PlatformWindows Platform = "Windows"
)

// Architecture is the CPU architecture of an image.
type Architecture string

// Architectures Image Builder builds.
const (
	ArchitectureX86_64 Architecture = "x86_64"
	ArchitectureArm64  Architecture = "arm64"
)

// StigLevel selects the AWS-managed DISA STIG hardening component. Each level
// includes the settings of the levels below it.
type StigLevel string

// STIG levels, named after the AWS-managed stig-build-<platform>-<level> components.
const (
	// StigLow applies CAT III settings.
	StigLow StigLevel = "low"
	// StigMedium applies CAT II and CAT III settings.
	StigMedium StigLevel = "medium"
	// StigHigh applies CAT I, CAT II and CAT III settings.
	StigHigh StigLevel = "high"
)

// StartCondition says when a scheduled pipeline run actually builds.
type StartCondition string

// Start conditions, mapped to Image Builder's PipelineExecutionStartCondition.
const (
	// StartOnSchedule builds on every schedule tick (EXPRESSION_MATCH_ONLY).
	// This is the only mode that picks up new OS patches: the AWS-managed
	// update components keep their version when the distribution publishes
	// patches, so Image Builder sees no dependency change.
	StartOnSchedule StartCondition = "EXPRESSION_MATCH_ONLY"
	// StartWhenDependenciesUpdated builds on a schedule tick only when a
	// component or the parent image has a new version
	// (EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE). It saves builds but
	// skips the monthly patch builds, so pair it with the upstream monitor.
	StartWhenDependenciesUpdated StartCondition = "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"
)

// Validate reports whether p is a platform Image Builder builds.
func (p Platform) Validate() error {
	switch p {
	case PlatformLinux, PlatformWindows:
		return nil
	}
	return fmt.Errorf("%q is not a platform (want %q or %q)", string(p), PlatformLinux, PlatformWindows)
}

// Validate reports whether a is an architecture Image Builder builds.
func (a Architecture) Validate() error {
	switch a {
	case ArchitectureX86_64, ArchitectureArm64:
		return nil
	}
	return fmt.Errorf("%q is not an architecture (want %q or %q)", string(a), ArchitectureX86_64, ArchitectureArm64)
}

// ValidatePlatformArchitecture reports whether Image Builder can build
// platform p on architecture a. Windows images are x86_64 only.
func ValidatePlatformArchitecture(p Platform, a Architecture) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if p == PlatformWindows && a != ArchitectureX86_64 {
		return fmt.Errorf("%q is not supported for platform %q (want %q)", string(a), string(p), ArchitectureX86_64)
	}
	return nil
}

// Validate reports whether s is a STIG level with an AWS-managed component.
func (s StigLevel) Validate() error {
	switch s {
	case StigLow, StigMedium, StigHigh:
		return nil
	}
	return fmt.Errorf("%q is not a STIG level (want %q, %q or %q)", string(s), StigLow, StigMedium, StigHigh)
}

// Validate reports whether c is a start condition.
func (c StartCondition) Validate() error {
	switch c {
	case StartOnSchedule, StartWhenDependenciesUpdated:
		return nil
	}
	return fmt.Errorf("%q is not a start condition (want StartOnSchedule %q or StartWhenDependenciesUpdated %q)", string(c), StartOnSchedule, StartWhenDependenciesUpdated)
}

type parentKind int

const (
	parentParameter parentKind = iota
	parentParameterName
	parentAMI
	parentImageARN
)

// ParentImage is the image a golden image is built on. Create one with
// ParentImageFromParameter, ParentImageFromParameterName, ParentImageFromAMIID
// or ParentImageFromImageARN.
type ParentImage struct {
	kind      parentKind
	value     string
	parameter awsssm.IStringParameter
}

// ParentImageFromParameter builds on the AMI held in an SSM parameter. The
// recipe refers to it as "ssm:<name>", so Image Builder reads the parameter
// when each build starts and a new upstream AMI needs no recipe change.
func ParentImageFromParameter(parameter awsssm.IStringParameter) *ParentImage {
	return &ParentImage{kind: parentParameter, parameter: parameter}
}

// ParentImageFromParameterName builds on the AMI held in the SSM parameter
// with this fully qualified name, for example AWS's public
// "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
// or with this ARN, for a parameter another account shares through AWS RAM.
func ParentImageFromParameterName(name string) *ParentImage {
	return &ParentImage{kind: parentParameterName, value: name}
}

// ParentImageFromAMIID builds on one fixed AMI. Like every parent but
// ParentImageFromParameter, the value must be known at synthesis (or use
// only the stack's partition, region and account tokens): the recipe's
// version is a hash of its synthesized content, so a value resolved at
// deployment (a CfnParameter) could change without a new version, and the
// pipeline refuses one. For a parent chosen at deployment, put it in an SSM
// parameter and use ParentImageFromParameterName.
func ParentImageFromAMIID(id string) *ParentImage {
	return &ParentImage{kind: parentAMI, value: id}
}

// ParentImageFromImageARN builds on an Image Builder image, e.g.
// "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x".
func ParentImageFromImageARN(arn string) *ParentImage {
	return &ParentImage{kind: parentImageARN, value: arn}
}

var imageARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:(aws|[0-9]{12}):image/[a-z0-9_-]+/([0-9]+|x)\.([0-9]+|x)\.([0-9]+|x)(/[0-9]+)?$`)

// recipeValue is the recipe's ParentImage property.
func (p *ParentImage) recipeValue() *string {
	switch p.kind {
	case parentParameter:
		return awscdk.Fn_Join(jsiiString(""), &[]*string{jsiiString("ssm:"), p.parameter.ParameterName()})
	case parentParameterName:
		return jsiiString("ssm:" + p.value)
	}
	return jsiiString(p.value)
}

func (p *ParentImage) validate(stack awscdk.Stack) error {
	if p.kind != parentParameter {
		if deploy, resolved := deployTimeValue(stack, p.value); deploy {
			return deployTimeError(p.value, resolved, "use ParentImageFromParameterName (or ParentImageFromParameter), "+
				"which Image Builder resolves when each build starts, or a literal value")
		}
		if isToken(p.value) {
			return nil // only the stack's partition, region or account
		}
	}
	switch p.kind {
	case parentParameter:
		if p.parameter == nil {
			return fmt.Errorf("is a parameter parent with a nil parameter")
		}
		return nil
	case parentParameterName:
		return validate.SSMParameter(p.value)
	case parentAMI:
		return contract.ValidateAMIID(p.value)
	case parentImageARN:
		if !imageARNPattern.MatchString(p.value) {
			return fmt.Errorf("%q is not an Image Builder image ARN (want e.g. \"arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x\")", p.value)
		}
	}
	return nil
}

// Component is an extra build component for the recipe. Create one with
// ComponentFromARN or ComponentFromDocument.
type Component struct {
	arn      string
	name     string
	document string
}

// ComponentFromARN adds an existing component by ARN, for example an
// AWS-managed "arn:aws:imagebuilder:us-east-1:aws:component/amazon-cloudwatch-agent-linux/x.x.x".
// The ARN may use the stack's partition, region and account tokens, but not
// a value CloudFormation resolves only at deployment (a CfnParameter,
// another resource's Arn attribute, an import): the recipe's version is a
// hash of its synthesized content, which would not change with it, so the
// pipeline refuses one.
func ComponentFromARN(arn string) *Component {
	return &Component{arn: arn}
}

// ComponentFromDocument adds a component defined by an AWSTOE YAML document.
// The construct creates it with a version derived from the document's
// content, so changing the document never fails with "already exists".
// name must be unique within the pipeline.
func ComponentFromDocument(name, document string) *Component {
	return &Component{name: name, document: document}
}

var componentARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:(aws|aws-marketplace|[0-9]{12}):component/[a-z0-9_-]+/([0-9]+|x)\.([0-9]+|x)\.([0-9]+|x)(/[0-9]+)?$`)

func (c *Component) validate(stack awscdk.Stack) error {
	if c.arn != "" {
		if deploy, resolved := deployTimeValue(stack, c.arn); deploy {
			return deployTimeError(c.arn, resolved, "pass a literal ARN (a version of \"x.x.x\" follows the latest), "+
				"or the document itself (ComponentFromDocument)")
		}
		if isToken(c.arn) || componentARNPattern.MatchString(c.arn) {
			return nil
		}
		return fmt.Errorf("%q is not an Image Builder component ARN (want e.g. \"arn:aws:imagebuilder:us-east-1:aws:component/amazon-cloudwatch-agent-linux/x.x.x\")", c.arn)
	}
	if err := validate.Name(c.name, 40); err != nil {
		return fmt.Errorf("name %w", err)
	}
	if c.document == "" {
		return fmt.Errorf("%q has an empty document", c.name)
	}
	return nil
}

func jsiiString(s string) *string { return &s }

// isToken reports whether s holds an unresolved CDK token, which validation
// skips. It checks the markers CDK encodes string and list tokens with,
// as Token.isUnresolved does, without a round trip to the jsii runtime.
func isToken(s string) bool {
	return strings.Contains(s, "${Token[") || strings.Contains(s, "#{Token[")
}
