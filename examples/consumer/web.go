package main

import (
	_ "embed"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/goldenfleet"
	"github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/latestami"
	"github.com/platform-eng/golden-ami/constructs/notifications"
	"github.com/platform-eng/golden-ami/constructs/pipelinetrigger"
)

//go:embed components/web-worker.yaml
var workerComponent string

// WebStackProps configures the web team's stack.
type WebStackProps struct {
	awscdk.StackProps

	// PlatformParameter is the platform team's latest-AMI parameter: a name
	// in this account, or the ARN of a parameter shared through AWS RAM.
	PlatformParameter string

	// VpcID, AvailabilityZones, PrivateSubnetIDs and
	// PrivateRouteTableIDs locate the network team's VPC.
	VpcID                string
	AvailabilityZones    []string
	PrivateSubnetIDs     []string
	PrivateRouteTableIDs []string

	// NotificationEmails receive builds, trigger decisions and alarms.
	NotificationEmails []string
}

// WebStack is what another team builds from the platform's constructs: a web
// fleet that runs the platform's golden image and rolls onto each new one,
// and a worker image of the team's own, baked on top of the golden image
// and rebuilt whenever the golden image changes.
type WebStack struct {
	awscdk.Stack

	Fleet          *goldenfleet.GoldenFleet
	WorkerPipeline *goldenimage.GoldenImagePipeline
	WorkerTrigger  *pipelinetrigger.PipelineTrigger // nil for a shared PlatformParameter
	WorkerLatest   *latestami.LatestAMIRecorder
	Notifications  *notifications.Notifications
}

// NewWebStack defines the stack.
func NewWebStack(scope constructs.Construct, id string, props *WebStackProps) *WebStack {
	s := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	stack := &WebStack{Stack: s}

	var golden *latestami.LatestAMI
	if strings.HasPrefix(props.PlatformParameter, "arn:") {
		golden = latestami.LatestAMIFromParameterARN(props.PlatformParameter)
	} else {
		golden = latestami.LatestAMIFromParameterName(props.PlatformParameter)
	}
	vpc := awsec2.Vpc_FromVpcAttributes(s, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId:                      jsii.String(props.VpcID),
		AvailabilityZones:          jsii.Strings(props.AvailabilityZones...),
		PrivateSubnetIds:           jsii.Strings(props.PrivateSubnetIDs...),
		PrivateSubnetRouteTableIds: jsii.Strings(props.PrivateRouteTableIDs...),
	})

	// One key, one build-log bucket and one topic for everything below.
	shared := goldenimage.NewSharedResources(s, jsii.String("Shared"), &goldenimage.SharedResourcesProps{Purpose: jsii.String("web team images and fleet")})
	stack.Notifications = notifications.NewNotifications(s, jsii.String("Notifications"), &notifications.NotificationsProps{
		EmailAddresses: jsii.Strings(props.NotificationEmails...),
		EncryptionKey:  shared.EncryptionKey,
	})
	key, alarms := shared.EncryptionKey, stack.Notifications.Topic

	// The web tier runs the platform's golden image as it is.
	stack.Fleet = goldenfleet.NewGoldenFleet(s, jsii.String("Web"), &goldenfleet.GoldenFleetProps{
		LatestAMI:     golden,
		Vpc:           vpc,
		InstanceType:  awsec2.NewInstanceType(jsii.String("t3.small")),
		MinCapacity:   jsii.Number(2),
		MaxCapacity:   jsii.Number(4),
		EncryptionKey: key,
		AlarmTopic:    alarms,
	})

	// The worker tier bakes the team's runtime on top of the golden image.
	stack.WorkerPipeline = goldenimage.NewGoldenImagePipeline(s, jsii.String("Worker"), &goldenimage.GoldenImagePipelineProps{
		ImageName:            jsii.String("web-worker"),
		Description:          jsii.String("Web worker: the platform's golden AL2023 image plus nginx"),
		ParentImage:          goldenimage.ParentImageFromParameterName(props.PlatformParameter),
		AdditionalComponents: &[]*goldenimage.Component{goldenimage.ComponentFromDocument("web-worker", workerComponent)},
		EncryptionKey:        key,
		LogBucket:            shared.LogBucket,
	})
	if golden.ParameterARN == nil {
		// Rebuild as soon as the golden image changes. (Parameter Store
		// events stay in the parameter's account, so for a shared parameter
		// the pipeline's weekly schedule picks up the new golden image.)
		stack.WorkerTrigger = pipelinetrigger.NewPipelineTrigger(s, jsii.String("WorkerTrigger"), &pipelinetrigger.PipelineTriggerProps{
			Pipeline: stack.WorkerPipeline,
			Parameter: awsssm.StringParameter_FromStringParameterAttributes(s, jsii.String("GoldenParent"), &awsssm.StringParameterAttributes{
				ParameterName: golden.ParameterName, ForceDynamicReference: jsii.Bool(true),
			}),
			EncryptionKey: key,
			AlarmTopic:    alarms,
		})
		stack.Notifications.NotifyDecisions(stack.WorkerTrigger)
	}
	stack.WorkerLatest = latestami.NewLatestAMIRecorder(s, jsii.String("WorkerLatest"), &latestami.LatestAMIRecorderProps{
		Pipeline:      stack.WorkerPipeline,
		ParameterName: jsii.String("/web/worker/latest"),
		EncryptionKey: key,
		AlarmTopic:    alarms,
	})
	stack.Notifications.NotifyImages(stack.WorkerPipeline)

	awscdk.NewCfnOutput(s, jsii.String("WebGroupName"), &awscdk.CfnOutputProps{
		Value: stack.Fleet.AutoScalingGroup.AutoScalingGroupName(), Description: jsii.String("Auto Scaling group of the web tier"),
	})
	awscdk.NewCfnOutput(s, jsii.String("WorkerLatestAmiParameter"), &awscdk.CfnOutputProps{
		Value: stack.WorkerLatest.ParameterName, Description: jsii.String("Latest web-worker AMI"),
	})
	return stack
}
