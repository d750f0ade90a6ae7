// Package goldenfleet defines GoldenFleet: an Auto Scaling group that runs
// the latest golden AMI and rolls onto each new one with an instance
// refresh, checkpoints and auto-rollback on CloudWatch alarms.
//
//	fleet := goldenfleet.NewGoldenFleet(stack, jsii.String("Web"), &goldenfleet.GoldenFleetProps{
//		LatestAMI:      latestami.LatestAMIFromParameterName("/golden-ami/prod/al2023/latest"),
//		Vpc:            vpc,
//		InstanceType:   awsec2.NewInstanceType(jsii.String("t3.small")),
//		RollbackAlarms: &[]awscloudwatch.IAlarm{http5xxAlarm},
//	})
//	fleet.Connections().AllowFrom(loadBalancer, awsec2.Port_Tcp(jsii.Number(80)), nil)
//
// The rollout function (github.com/platform-eng/golden-ami/lambdas/rollout)
// is built by import path in the app's module: list it as a tool in the
// app's go.mod (see package gofunction). GoldenFleet's doc comment explains
// why the group follows the AMI without drifting from what CloudFormation
// manages.
package goldenfleet
