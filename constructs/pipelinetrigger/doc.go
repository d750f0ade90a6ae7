// Package pipelinetrigger defines PipelineTrigger: an EventBridge rule on a
// golden image's upstream-AMI parameter that starts the pipeline exactly
// once per new parameter version.
//
//	pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{
//		Pipeline: pipeline,
//	})
package pipelinetrigger
