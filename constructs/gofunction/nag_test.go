package gofunction_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/gofunction"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

// Other teams' apps may have no feature flags and environment-agnostic
// stacks, where the partition, region and account of the function's ARNs
// are tokens: its suppressions must still match cdk-nag's findings.
func TestNagCleanInEveryAppSetup(t *testing.T) {
	cdktest.NagCleanInEveryAppSetup(t, "Test", func(t *testing.T, stack awscdk.Stack) {
		fn := gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{ImportPath: jsii.String("github.com/platform-eng/golden-ami/lambdas/amimonitor")})
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("ssm:GetParameter"), Resources: jsii.Strings("arn:aws:ssm:us-east-1::parameter/aws/service/ami"),
		}))
		gofunction.NewGoFunction(stack, jsii.String("Egress"), &gofunction.GoFunctionProps{
			ImportPath: jsii.String("github.com/platform-eng/golden-ami/lambdas/notifier"), ExternalEgress: jsii.String("Slack's incoming-webhook URL, over HTTPS"),
		})
	})
}
