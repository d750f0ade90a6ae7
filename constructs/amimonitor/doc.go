// Package amimonitor defines UpstreamMonitor: a scheduled Go function that
// watches a base image (an Elastic Beanstalk platform branch or version, an
// SSM parameter, or an EC2 image name pattern) and records the newest AMI in
// the upstream-AMI parameter that a golden image recipe builds on. It writes
// only when the AMI changed, or once to claim a value CloudFormation wrote
// (the parameter's seed), and describes every write as its own, so the
// trigger builds only the monitor's values, never a seed.
//
//	monitor := amimonitor.NewUpstreamMonitor(stack, jsii.String("Upstream"), &amimonitor.UpstreamMonitorProps{
//		Parameter:      pipeline.UpstreamParameter,
//		PlatformBranch: jsii.String("Docker running on 64bit Amazon Linux 2023"),
//	})
package amimonitor
