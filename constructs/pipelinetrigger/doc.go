// Package pipelinetrigger defines PipelineTrigger: an EventBridge rule on a
// golden image's upstream-AMI parameter that starts the pipeline once per
// new value the upstream monitor writes there, and never for a value written
// by anyone else (such as CloudFormation's seed).
//
//	pipelinetrigger.NewPipelineTrigger(stack, jsii.String("Trigger"), &pipelinetrigger.PipelineTriggerProps{
//		Pipeline: pipeline,
//	})
package pipelinetrigger
