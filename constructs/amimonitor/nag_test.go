package amimonitor_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/amimonitor"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

// Other teams' apps may have no feature flags and environment-agnostic
// stacks, where the partition, region and account of the monitor's ARNs
// are tokens: its suppressions must still match cdk-nag's findings.
func TestNagCleanInEveryAppSetup(t *testing.T) {
	cdktest.NagCleanInEveryAppSetup(t, "Test", func(t *testing.T, stack awscdk.Stack) {
		seed := jsii.String("ami-0123456789abcdef0")
		for id, props := range map[string]*amimonitor.UpstreamMonitorProps{
			"Public":   {SourceParameterName: jsii.String(al2023)},
			"Own":      {SourceParameterName: jsii.String("/team/base-ami")},
			"Branch":   {PlatformBranch: jsii.String("Docker running on 64bit Amazon Linux 2023"), ParameterSeed: seed},
			"Platform": {PlatformARN: jsii.String("arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.3.0"), ParameterSeed: seed},
			"Images":   {ImageOwner: jsii.String("amazon"), ImageNamePattern: jsii.String("Windows_Server-2022-English-Full-Base-*"), ParameterSeed: seed},
		} {
			amimonitor.NewUpstreamMonitor(stack, jsii.String(id), props)
		}
	})
}
