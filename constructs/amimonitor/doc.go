// Package amimonitor defines UpstreamMonitor: a scheduled Go function that
// watches a base image (an Elastic Beanstalk platform branch or version, an
// SSM parameter, or an EC2 image name pattern) and records the newest AMI in
// the upstream-AMI parameter that a golden image recipe builds on. It writes
// only when the AMI changed, so every write is a real change.
//
//	monitor := amimonitor.NewUpstreamMonitor(stack, jsii.String("Upstream"), &amimonitor.UpstreamMonitorProps{
//		Parameter:      pipeline.UpstreamParameter,
//		PlatformBranch: jsii.String("Docker running on 64bit Amazon Linux 2023"),
//	})
package amimonitor
