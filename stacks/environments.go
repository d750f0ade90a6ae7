package stacks

import (
	"time"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
)

// DeliveryPipeline returns the delivery pipeline's configuration: it runs in
// a tools account and deploys the environments below, in order, one wave
// each. Replace the placeholders with your account, repository and connection.
func DeliveryPipeline() PipelineConfig {
	return PipelineConfig{
		Account:       "999999999999", // placeholder: your tools account
		Region:        "us-east-1",
		Repository:    "platform-eng/golden-ami",
		Branch:        "main",
		ConnectionARN: "arn:aws:codeconnections:us-east-1:999999999999:connection/00000000-0000-0000-0000-000000000000", // placeholder
		GoToolchain:   "go1.26.8",
		// Placeholder: a secret holding the Slack incoming-webhook URL for pipeline runs.
		SlackWebhookSecretARN: "arn:aws:secretsmanager:us-east-1:999999999999:secret:golden-ami/slack-webhook-AbCdEf",
		NotificationEmails:    []string{"platform-team@example.com"},
		// Every role of the pipeline stack is bounded by this policy
		// (bootstrap/pipeline-permissions-boundary.json); create it first.
		PermissionsBoundary: PipelinePermissionsBoundaryName,
	}
}

// Environments returns every environment of the golden-image platform. Edit
// this file to add one: replace the placeholder account ids with your own.
// `cdk synth` builds all of them; `cdk synth -c env=<name>` builds one.
func Environments() []Environment {
	return []Environment{
		{
			Name:                "dev",
			Account:             "111111111111", // placeholder: your dev account
			Region:              "us-east-1",
			DistributionRegions: []string{"us-west-2"},
			// Build every Monday; the upstream monitor triggers extra builds.
			Schedule:       "cron(0 4 ? * MON *)",
			StartCondition: gi.StartOnSchedule,
			// Look for a new upstream base image every hour.
			UpstreamCheckInterval: time.Hour,
			// Every role is bounded by bootstrap/environment-permissions-boundary.json,
			// created under this name in the account before deploying.
			PermissionsBoundary: PermissionsBoundaryName,
			Images: []Image{
				{
					Name:          "al2023",
					Platform:      gi.PlatformLinux,
					Architecture:  gi.ArchitectureX86_64,
					StigLevel:     gi.StigMedium,
					InstanceTypes: []string{"m7i.large", "m6i.large"},
					Upstream: Upstream{
						SourceParameterName: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
					},
				},
			},
		},
		{
			Name:                 "prod",
			Account:              "222222222222", // placeholder: your prod account
			Region:               "us-east-1",
			DistributionRegions:  []string{"us-west-2", "eu-west-1"},
			DistributionAccounts: []string{"333333333333", "444444444444"}, // placeholders: workload accounts
			// Monthly patch build on the evening of Patch Tuesday (the second
			// Tuesday), 22:00 UTC, after Microsoft's release at 10:00
			// Pacific. (WED#2, the second Wednesday, comes six days before
			// Patch Tuesday in months that start on a Wednesday.)
			Schedule:              "cron(0 22 ? * TUE#2 *)",
			StartCondition:        gi.StartOnSchedule,
			UpstreamCheckInterval: 6 * time.Hour,
			PermissionsBoundary:   PermissionsBoundaryName,
			TerminationProtection: true,
			RequireApproval:       true,
			// Placeholders: who hears about prod builds, decisions and alarms.
			NotificationEmails:    []string{"platform-team@example.com"},
			SlackWebhookSecretARN: "arn:aws:secretsmanager:us-east-1:222222222222:secret:golden-ami/slack-webhook-AbCdEf",
			// Placeholders: a private subnet with a NAT route, and a security
			// group with no inbound rule and outbound HTTPS, for the build
			// and test instances (dev builds in the default VPC).
			BuildSubnetID:         "subnet-0123456789abcdef0",
			BuildSecurityGroupIDs: []string{"sg-0123456789abcdef0"},
			Images: []Image{
				{
					Name:          "al2023",
					Platform:      gi.PlatformLinux,
					Architecture:  gi.ArchitectureX86_64,
					StigLevel:     gi.StigMedium,
					InstanceTypes: []string{"m7i.large", "m6i.large"},
					Upstream: Upstream{
						SourceParameterName: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
					},
				},
				{
					Name:          "al2023-arm64",
					Platform:      gi.PlatformLinux,
					Architecture:  gi.ArchitectureArm64,
					StigLevel:     gi.StigMedium,
					InstanceTypes: []string{"m7g.large", "m6g.large"},
					Upstream: Upstream{
						SourceParameterName: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
					},
				},
				{
					Name:          "docker-al2023",
					Platform:      gi.PlatformLinux,
					Architecture:  gi.ArchitectureX86_64,
					StigLevel:     gi.StigLow,
					InstanceTypes: []string{"m7i.large"},
					Upstream: Upstream{
						// The original design: follow an Elastic Beanstalk platform branch.
						PlatformBranch: "Docker running on 64bit Amazon Linux 2023",
					},
				},
				{
					Name:          "windows2022",
					Platform:      gi.PlatformWindows,
					Architecture:  gi.ArchitectureX86_64,
					StigLevel:     gi.StigHigh,
					InstanceTypes: []string{"m7i.xlarge", "m6i.xlarge"},
					Upstream: Upstream{
						ImageOwner:       "amazon",
						ImageNamePattern: "Windows_Server-2022-English-Full-Base-*",
					},
				},
			},
		},
	}
}
