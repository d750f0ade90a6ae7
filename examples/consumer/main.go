// Command consumer is another team's CDK app built on the golden-AMI
// constructs, the way a team outside the platform would use them: it
// imports github.com/platform-eng/golden-ami as a module (here through a
// replace directive, so it builds from this checkout).
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	NewWebStack(app, "WebTeam-Web", Config())
	ApplySecurityPacks(app)
	app.Synth(nil)
}

// Config is the web team's deployment: replace the account and the VPC
// with your own.
func Config() *WebStackProps {
	return &WebStackProps{
		StackProps: awscdk.StackProps{
			Env:         &awscdk.Environment{Account: jsii.String("222222222222"), Region: jsii.String("us-east-1")},
			Description: jsii.String("Web team: a fleet on the platform's golden AMI and a worker image built on it"),
		},
		PlatformParameter:    "/golden-ami/prod/al2023/latest",
		VpcID:                "vpc-0123456789abcdef0",
		AvailabilityZones:    []string{"us-east-1a", "us-east-1b"},
		PrivateSubnetIDs:     []string{"subnet-0123456789abcdef0", "subnet-0123456789abcdef1"},
		PrivateRouteTableIDs: []string{"rtb-0123456789abcdef0", "rtb-0123456789abcdef1"},
		NotificationEmails:   []string{"web-team@example.com"},
	}
}

// ApplySecurityPacks runs cdk-nag's AwsSolutions and NIST 800-53 rev 5
// packs on every stack; findings fail the synth.
func ApplySecurityPacks(scope awscdk.App) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	awscdk.Aspects_Of(scope).Add(cdknag.NewNIST80053R5Checks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}
