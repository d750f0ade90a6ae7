// Package contract is the configuration and event contract shared by the
// constructs (which set environment variables and write event patterns) and
// the Lambda functions (which read them).
//
// It imports only the standard library, so Lambda binaries stay small.
package contract

import (
	"fmt"
	"strings"
)

// Environment variable names. The constructs set them; the functions read them.
const (
	// EnvSSMParameterName names the SSM parameter a function maintains or watches:
	// the upstream-AMI parameter for the monitor and the trigger, the latest-AMI
	// parameter for the recorder.
	EnvSSMParameterName = "SSM_PARAMETER_NAME"
	// EnvPlatformARN selects one Elastic Beanstalk platform version as the upstream.
	EnvPlatformARN = "PLATFORM_ARN"
	// EnvPlatformBranch selects the newest Ready version of an Elastic Beanstalk
	// platform branch as the upstream.
	EnvPlatformBranch = "PLATFORM_BRANCH"
	// EnvSourceParameterName selects a (usually public) SSM parameter such as
	// /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 as the upstream.
	EnvSourceParameterName = "SOURCE_PARAMETER_NAME"
	// EnvImageOwner and EnvImageNamePattern select the newest EC2 image by
	// creation date as the upstream. Both must be set together.
	EnvImageOwner       = "IMAGE_OWNER"
	EnvImageNamePattern = "IMAGE_NAME_PATTERN"
	// EnvSSMParameterTier is the tier the recorder writes its parameter in:
	// Standard, Advanced (which AWS RAM requires to share it with other
	// accounts) or Intelligent-Tiering; unset leaves it to Parameter Store's
	// default (Standard, unless the account's default tier says otherwise).
	EnvSSMParameterTier = "SSM_PARAMETER_TIER"
	// EnvImagePipelineARN is the Image Builder pipeline the trigger starts and
	// whose images the recorder accepts.
	EnvImagePipelineARN = "IMAGE_PIPELINE_ARN"
	// EnvSlackWebhookSecretARN names the Secrets Manager secret holding the Slack webhook URL.
	EnvSlackWebhookSecretARN = "SLACK_WEBHOOK_SECRET_ARN"
)

// Go runtime settings the functions' construct (constructs/gofunction) puts in
// their environment. Lambda gives a function CPU time in proportion to its
// memory, one full vCPU's worth at OneVCPUMemoryMiB, but shows it two vCPUs
// even when its memory buys a fraction of one, and the Go runtime starts one P (a scheduler slot,
// with its own thread, allocation cache and work stealing) per vCPU it sees.
// At OneVCPUMemoryMiB or less a second P only spends the function's share of
// CPU on starting and parking threads: about 0.4 ms of the 7 ms of CPU a
// cold start needs (docs/lambda-benchmarks.md), so the construct sets
// GOMAXPROCS to 1 there.
const (
	EnvGoMaxProcs    = "GOMAXPROCS"
	OneVCPUMemoryMiB = 1769
)

// GoMaxProcs is the GOMAXPROCS the construct gives a function with
// memoryMiB of memory, and false where it leaves the Go runtime's default.
func GoMaxProcs(memoryMiB float64) (string, bool) {
	if memoryMiB <= OneVCPUMemoryMiB {
		return "1", true
	}
	return "", false
}

// EventBridge sources and detail types the constructs match and the functions decode.
const (
	SourceSSM                   = "aws.ssm"
	DetailTypeParameterChange   = "Parameter Store Change"
	SourceImageBuilder          = "aws.imagebuilder"
	DetailTypeImageStateChange  = "EC2 Image Builder Image State Change"
	SourceCodePipeline          = "aws.codepipeline"
	DetailTypePipelineExecution = "CodePipeline Pipeline Execution State Change"
)

// Parameter Store Change operations.
const (
	OperationCreate                = "Create"
	OperationUpdate                = "Update"
	OperationDelete                = "Delete"
	OperationLabelParameterVersion = "LabelParameterVersion"
)

// Image Builder image statuses the functions act on.
const (
	ImageStatusAvailable = "AVAILABLE"
	ImageStatusFailed    = "FAILED"
	ImageStatusCancelled = "CANCELLED"
)

// ImageStatuses are the statuses Image Builder documents for an image
// (ImageState.status), in its order: building and distributing, then
// AVAILABLE, CANCELLED and FAILED, which end a build, then DEPRECATED,
// DELETED and DISABLED, which later lifecycle actions set.
var ImageStatuses = []string{
	"PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING",
	ImageStatusAvailable, ImageStatusCancelled, ImageStatusFailed,
	"DEPRECATED", "DELETED", "DISABLED",
}

// CheckImageStatus returns an error naming field and status when status is
// not one of ImageStatuses, so that an unknown one (a new one, or
// "available" in lower case) is not taken for one a function ignores.
func CheckImageStatus(field, status string) error {
	for _, s := range ImageStatuses {
		if s == status {
			return nil
		}
	}
	return fmt.Errorf("field %q = %q is not an Image Builder image status (want one of %s)",
		field, status, strings.Join(ImageStatuses, ", "))
}

// DataTypeEC2Image is the SSM parameter data type that makes Parameter Store
// validate the value as an AMI id (asynchronously).
const DataTypeEC2Image = "aws:ec2:image"

// Tag keys carrying provenance on the latest-AMI parameter and on images.
const (
	TagImageARN    = "golden-ami:image-arn"
	TagPipelineARN = "golden-ami:pipeline-arn"
	TagRecipeARN   = "golden-ami:recipe-arn"
	TagBuildDate   = "golden-ami:build-date"
	TagPipeline    = "golden-ami:pipeline"
)

// Tag keys the upstream monitor sets on the upstream-AMI parameter when it
// records a new upstream AMI.
const (
	// TagUpstreamSource describes where the AMI came from, e.g.
	// "elasticbeanstalk:arn:aws:elasticbeanstalk:...:platform/.../4.10.0".
	TagUpstreamSource = "golden-ami:upstream-source"
	// TagObservedAt is when the monitor first saw the AMI (RFC 3339, UTC).
	TagObservedAt = "golden-ami:observed-at"
)

// UpstreamDescriptionPrefix starts the description of every version of the
// upstream-AMI parameter that the upstream monitor writes; the upstream
// source follows it (cut to Parameter Store's 1,024-character limit). The
// trigger starts builds only for versions whose description starts with it
// (or with LatestDescriptionPrefix, see WrittenByWriter), so a value
// written by anyone else, such as CloudFormation re-writing the
// parameter's seed on a stack update, starts nothing. The parameter's own
// CloudFormation description must therefore never start with it.
const UpstreamDescriptionPrefix = "Upstream AMI written by the golden-ami upstream monitor: "

// LatestDescriptionPrefix starts the description of every version of a
// latest-AMI parameter that the latest-AMI recorder writes: "Golden AMI
// from <image build version ARN>, built <time>". A latest-AMI parameter can
// be another pipeline's upstream (a team baking its own image on top of
// the golden one), so the trigger builds these versions too.
const LatestDescriptionPrefix = "Golden AMI from "

// WrittenByWriter reports whether a parameter version with this
// description was written by one of the functions whose writes start
// builds: the upstream monitor (UpstreamDescriptionPrefix) or the
// latest-AMI recorder (LatestDescriptionPrefix). Anything else, such as a
// seed CloudFormation writes, starts nothing.
func WrittenByWriter(description string) bool {
	return strings.HasPrefix(description, UpstreamDescriptionPrefix) || strings.HasPrefix(description, LatestDescriptionPrefix)
}

// ValidateAMIID reports whether id is an EC2 AMI id: "ami-" followed by 8 or
// 17 lowercase hex digits. The error quotes the bad value.
func ValidateAMIID(id string) error {
	if !isAMIID(id) {
		return fmt.Errorf("%q is not an AMI id (want \"ami-\" followed by 8 or 17 hex digits)", id)
	}
	return nil
}

// ModulePath is this module's import path.
const ModulePath = "github.com/platform-eng/golden-ami"

// Import paths of the module's Lambda functions. The constructs bundle them
// with `go build <import path>`, so they build from any module cache.
const (
	FunctionAMIMonitor          = ModulePath + "/lambdas/amimonitor"
	FunctionImageBuilderTrigger = ModulePath + "/lambdas/imagebuildertrigger"
	FunctionLatestAMI           = ModulePath + "/lambdas/latestami"
)

// Functions lists every Lambda function of the module. Bundling builds them
// together in one `go build`, which links them in parallel.
var Functions = []string{FunctionAMIMonitor, FunctionImageBuilderTrigger, FunctionLatestAMI, FunctionRollout, FunctionNotifier}

// FunctionRollout is the import path of the function that rolls Auto Scaling
// groups onto each new golden AMI with an instance refresh.
const FunctionRollout = ModulePath + "/lambdas/rollout"

// Environment of the rollout function. It also reads EnvSSMParameterName: the
// latest-AMI parameter whose value it rolls out.
const (
	// EnvAutoScalingGroupName is the group the function refreshes.
	EnvAutoScalingGroupName = "AUTO_SCALING_GROUP_NAME"
	// EnvLaunchTemplateID is the group's launch template (lt-...). The
	// function adds versions to it and refuses to act when the group uses
	// another template.
	EnvLaunchTemplateID = "LAUNCH_TEMPLATE_ID"
	// EnvRefreshMinHealthyPercentage is the refresh's MinHealthyPercentage,
	// 0 to 100.
	EnvRefreshMinHealthyPercentage = "REFRESH_MIN_HEALTHY_PERCENTAGE"
	// EnvRefreshMaxHealthyPercentage is the refresh's MaxHealthyPercentage,
	// 100 to 200 and at most 100 above EnvRefreshMinHealthyPercentage; empty
	// leaves it to Auto Scaling.
	EnvRefreshMaxHealthyPercentage = "REFRESH_MAX_HEALTHY_PERCENTAGE"
	// EnvRefreshCheckpointPercentages are the refresh's
	// CheckpointPercentages: comma-separated, ascending, ending with 100,
	// e.g. "20,50,100".
	EnvRefreshCheckpointPercentages = "REFRESH_CHECKPOINT_PERCENTAGES"
	// EnvRefreshCheckpointDelaySeconds is the refresh's CheckpointDelay,
	// 0 to 172800.
	EnvRefreshCheckpointDelaySeconds = "REFRESH_CHECKPOINT_DELAY_SECONDS"
	// EnvRefreshInstanceWarmupSeconds is the refresh's InstanceWarmup. Empty
	// leaves it unset, so the group's DefaultInstanceWarmup (or health check
	// grace period) applies.
	EnvRefreshInstanceWarmupSeconds = "REFRESH_INSTANCE_WARMUP_SECONDS"
	// EnvRefreshAlarmNames are the CloudWatch alarms that fail and roll back
	// the refresh when they go into ALARM: comma-separated, 1 to 10 names.
	EnvRefreshAlarmNames = "REFRESH_ALARM_NAMES"
	// EnvRefreshSkipMatching is "true" or "false": whether the refresh keeps
	// instances that already run the new launch template version.
	EnvRefreshSkipMatching = "REFRESH_SKIP_MATCHING"
)

// The scheduled event the rollout function's convergence rule sends.
const (
	SourceEvents             = "aws.events"
	DetailTypeScheduledEvent = "Scheduled Event"
)

// FunctionNotifier is the import path of the function that posts pipeline,
// image, trigger-decision and alarm notifications from the notifications SNS
// topic to Slack. It reads EnvSlackWebhookSecretARN.
const FunctionNotifier = ModulePath + "/lambdas/notifier"

// CodePipeline events the notifier formats besides pipeline executions: an
// Action Execution State Change whose detail.type.category is Approval
// (state STARTED means it is waiting for approval).
const (
	DetailTypeActionExecution = "CodePipeline Action Execution State Change"
	ActionCategoryApproval    = "Approval"
)

// isAMIID matches ^ami-([0-9a-f]{8}|[0-9a-f]{17})$. It is written out rather
// than compiled from a regexp because every Lambda imports this package, and
// a package-level regexp.MustCompile runs in each cold start's init (about
// 0.1 ms, measured with GODEBUG=inittrace=1).
func isAMIID(id string) bool {
	hex, ok := strings.CutPrefix(id, "ami-")
	if !ok || (len(hex) != 8 && len(hex) != 17) {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
