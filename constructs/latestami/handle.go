package latestami

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/validate"
)

// ParameterType is the CloudFormation parameter type that resolves a
// latest-AMI parameter to its AMI id when a stack deploys. Raw templates
// declare:
//
//	Parameters:
//	  GoldenAmi:
//	    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
//	    Default: /golden-ami/prod/al2023/latest
const ParameterType = "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"

// LatestAMI is a consumer's handle on a latest-AMI parameter: the golden AMI
// a platform team's recorder keeps current. Create one with
// LatestAMIFromParameterName, LatestAMIFromRecorder or
// LatestAMIFromParameterARN. Nothing is looked up at synth time.
type LatestAMI struct {
	// ParameterName is the parameter's name, e.g. "/golden-ami/prod/al2023/latest".
	ParameterName *string
	// ParameterARN is set when the parameter lives in another account
	// (shared through AWS RAM); CloudFormation and EC2 then read it by ARN.
	ParameterARN *string
	// OperatingSystem is the golden image's operating system: the OS type
	// and user data of the machine images this handle returns.
	//
	// Default: awsec2.OperatingSystemType_LINUX; LatestAMIFromRecorder takes
	// it from the recorder's pipeline (WINDOWS for a Windows pipeline).
	OperatingSystem awsec2.OperatingSystemType
	recorder        *LatestAMIRecorder
}

// Recorder is the recorder whose parameter this handle refers to
// (LatestAMIFromRecorder), or nil when the handle names a parameter only. A
// recorder writes its parameter in its own account, in each of its Regions.
func (l *LatestAMI) Recorder() *LatestAMIRecorder { return l.recorder }

// os is OperatingSystem, LINUX when unset.
func (l *LatestAMI) os() awsec2.OperatingSystemType {
	if l.OperatingSystem == "" {
		return awsec2.OperatingSystemType_LINUX
	}
	return l.OperatingSystem
}

// imageConfig is a machine image config for id with the handle's OS type
// and that OS's empty user data.
func imageConfig(id *string, os awsec2.OperatingSystemType) *awsec2.MachineImageConfig {
	userData := awsec2.UserData_ForLinux(nil)
	if os == awsec2.OperatingSystemType_WINDOWS {
		userData = awsec2.UserData_ForWindows(nil)
	}
	return &awsec2.MachineImageConfig{ImageId: id, OsType: os, UserData: userData}
}

// LatestAMIFromParameterName refers to a latest-AMI parameter of this
// account by name. It panics when the name is not a fully qualified SSM
// parameter name.
func LatestAMIFromParameterName(name string) *LatestAMI {
	if !strings.Contains(name, "${Token[") {
		if err := validate.SSMParameterName(name); err != nil {
			panic(fmt.Errorf("latestami: parameter name %w", err))
		}
	}
	return &LatestAMI{ParameterName: &name}
}

// LatestAMIFromRecorder refers to the parameter a recorder writes.
func LatestAMIFromRecorder(r *LatestAMIRecorder) *LatestAMI {
	l := &LatestAMI{ParameterName: r.ParameterName, recorder: r}
	if r.Pipeline != nil && r.Pipeline.Platform == goldenimage.PlatformWindows {
		l.OperatingSystem = awsec2.OperatingSystemType_WINDOWS
	}
	return l
}

// LatestAMIFromParameterARN refers to a latest-AMI parameter of another
// account, shared with this one through AWS RAM (which requires the
// advanced parameter tier). It panics when arn is not an SSM parameter ARN.
func LatestAMIFromParameterARN(arn string) *LatestAMI {
	name, err := validate.SSMParameterARN(arn)
	if err != nil {
		panic(fmt.Errorf("latestami: %w", err))
	}
	return &LatestAMI{ParameterName: &name, ParameterARN: &arn}
}

// reference is how CloudFormation and EC2 name the parameter: its ARN when
// shared from another account, else its name.
func (l *LatestAMI) reference() *string {
	if l.ParameterARN != nil {
		return l.ParameterARN
	}
	return l.ParameterName
}

// ParameterReference is what an API call names the parameter by: its ARN
// when shared from another account, else its name.
func (l *LatestAMI) ParameterReference() *string { return l.reference() }

// ParameterARNIn is the parameter's ARN as seen from stack: the shared ARN,
// or the name in stack's account and region.
func (l *LatestAMI) ParameterARNIn(stack awscdk.Stack) *string {
	if l.ParameterARN != nil {
		return l.ParameterARN
	}
	return str("arn:" + *stack.Partition() + ":ssm:" + *stack.Region() + ":" + *stack.Account() + ":parameter" + *l.ParameterName)
}

// MachineImage is the golden AMI as an awsec2.IMachineImage, resolved by
// CloudFormation when the stack deploys (a parameter of type ParameterType):
// each deployment picks up the AMI current at that moment.
func (l *LatestAMI) MachineImage() awsec2.IMachineImage {
	if l.ParameterARN != nil {
		// CDK's SSM machine image accepts names only; a shared parameter is
		// named by ARN in an SSM-typed CloudFormation parameter instead.
		return &sharedParameterImage{arn: l.ParameterARN, os: l.os()}
	}
	return awsec2.MachineImage_FromSsmParameter(l.reference(), &awsec2.SsmParameterImageOptions{
		Os: l.os(),
	})
}

// sharedParameterImage resolves a parameter shared by ARN through a
// CloudFormation parameter of type ParameterType, one per stack and ARN.
type sharedParameterImage struct {
	arn *string
	os  awsec2.OperatingSystemType
}

// GetImage returns the CloudFormation parameter's value as the image id.
func (s *sharedParameterImage) GetImage(scope constructs.Construct) *awsec2.MachineImageConfig {
	stack := awscdk.Stack_Of(scope)
	id := "LatestAmi" + nonAlphanumeric.ReplaceAllString(*s.arn, "")
	param, ok := stack.Node().TryFindChild(str(id)).(awscdk.CfnParameter)
	if !ok {
		param = awscdk.NewCfnParameter(stack, str(id), &awscdk.CfnParameterProps{
			Type: str(ParameterType), Default: s.arn,
			Description: str("The latest golden AMI shared as " + *s.arn + ", resolved at deployment"),
		})
	}
	return imageConfig(param.ValueAsString(), s.os)
}

var nonAlphanumeric = regexp.MustCompile(`[^A-Za-z0-9]`)

// MachineImageAtLaunch is the golden AMI resolved by EC2 every time an
// instance launches ("resolve:ssm:<parameter>"), so new instances follow the
// parameter without a deployment.
func (l *LatestAMI) MachineImageAtLaunch() awsec2.IMachineImage {
	return awsec2.MachineImage_ResolveSsmParameterAtLaunch(l.reference(), &awsec2.SsmParameterImageOptions{
		Os: l.os(),
	})
}

// ResolveAtLaunch is the "resolve:ssm:" reference launch templates and
// RunInstances accept as an image id.
func (l *LatestAMI) ResolveAtLaunch() *string {
	return awscdk.Fn_Join(str(""), &[]*string{str("resolve:ssm:"), l.reference()})
}

// MachineImageAtDeploy is the golden AMI resolved by CloudFormation when the
// stack deploys, so launch templates built from it store a concrete AMI id,
// which Auto Scaling instance-refresh rollback requires. Each deployment
// picks up the AMI current at that moment. It is the dynamic reference
// "{{resolve:ssm:<name>}}" for a parameter of this account; dynamic
// references cannot name a parameter by ARN, so a parameter shared from
// another account becomes a CloudFormation parameter of type ParameterType,
// which can.
func (l *LatestAMI) MachineImageAtDeploy() awsec2.IMachineImage {
	if l.ParameterARN != nil {
		return &sharedParameterImage{arn: l.ParameterARN, os: l.os()}
	}
	return &deployTimeImage{ref: l.ResolveAtDeploy(), os: l.os()}
}

// deployTimeImage is an awsec2.IMachineImage resolved by CloudFormation.
type deployTimeImage struct {
	ref *string
	os  awsec2.OperatingSystemType
}

// GetImage returns the dynamic reference as the image id.
func (d *deployTimeImage) GetImage(constructs.Construct) *awsec2.MachineImageConfig {
	return imageConfig(d.ref, d.os)
}

// ResolveAtDeploy is the CloudFormation dynamic reference
// "{{resolve:ssm:<name>}}": CloudFormation replaces it with the AMI id when
// the stack deploys, so what it configures holds a concrete AMI. It panics
// for a parameter shared by ARN, which dynamic references cannot name; use
// MachineImageAtDeploy or CfnParameter for those.
func (l *LatestAMI) ResolveAtDeploy() *string {
	if l.ParameterARN != nil {
		panic(fmt.Errorf("latestami: %s is shared by ARN, which a {{resolve:ssm:...}} dynamic reference cannot name; use MachineImageAtDeploy or CfnParameter", *l.ParameterARN))
	}
	return awscdk.Fn_Join(str(""), &[]*string{str("{{resolve:ssm:"), l.ParameterName, str("}}")})
}

// CfnParameter defines, in scope, a CloudFormation parameter of type
// ParameterType defaulting to this parameter, for templates that pass the
// AMI id along themselves.
func (l *LatestAMI) CfnParameter(scope constructs.Construct, id *string) awscdk.CfnParameter {
	return awscdk.NewCfnParameter(scope, id, &awscdk.CfnParameterProps{
		Type:        str(ParameterType),
		Default:     l.reference(),
		Description: str("The latest golden AMI, resolved from " + *l.ParameterName + " at deployment"),
	})
}

// GrantRead lets grantee read the parameter (ssm:GetParameter and
// ssm:GetParameters): in every region the recorder writes it when built
// from a recorder, by ARN when shared, else in the region and account of
// the stack the grant is made in.
func (l *LatestAMI) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	if l.recorder != nil {
		return l.recorder.GrantRead(grantee)
	}
	arn := l.ParameterARN
	if arn == nil {
		// Pseudo-parameters resolve in whichever stack the grant lands in.
		arn = awscdk.Fn_Join(str(""), &[]*string{
			str("arn:"), awscdk.Aws_PARTITION(), str(":ssm:"), awscdk.Aws_REGION(), str(":"), awscdk.Aws_ACCOUNT_ID(), str(":parameter"), l.ParameterName,
		})
	}
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      strs("ssm:GetParameter", "ssm:GetParameters"),
		ResourceArns: &[]*string{arn},
	})
}
