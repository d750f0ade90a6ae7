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
//
// # A fleet in another account: grant Auto Scaling the AMI's key
//
// This step is required for every fleet outside the platform's account
// (a LatestAMI from LatestAMIFromParameterARN, or any AMI the platform
// shares through goldenimage's DistributionAccounts). The golden AMI's
// snapshots are encrypted with the platform's customer-managed key: in
// each region, the key that encrypts the AMI copy there. EC2 Auto Scaling
// launches instances through the service-linked role
// AWSServiceRoleForAutoScaling of the fleet's account. Cross-account use of
// a key needs an IAM policy on the caller's side too, and a service-linked
// role's policies cannot be changed, so only a KMS grant gives that role
// the key. Without it, every launch fails ("Client.InternalError: Client
// error on launch" in the group's activity), and so does every instance
// refresh, which then rolls back. AWS's "Required AWS KMS key policy for
// use with encrypted volumes" prescribes the grant. Create it once per
// fleet account and region, from the fleet's account, before the first
// deployment:
//
//	aws kms create-grant \
//	  --region <region> \
//	  --key-id arn:aws:kms:<region>:<platform account>:key/<key id> \
//	  --grantee-principal arn:aws:iam::<fleet account>:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling \
//	  --operations "Encrypt" "Decrypt" "ReEncryptFrom" "ReEncryptTo" "GenerateDataKey" "GenerateDataKeyWithoutPlaintext" "DescribeKey" "CreateGrant"
//
// The service-linked role must exist first (aws iam
// create-service-linked-role --aws-service-name autoscaling.amazonaws.com
// creates it, if the account has never used Auto Scaling). The caller
// needs kms:CreateGrant on the key in its own IAM policy, and the key's
// policy must allow the fleet's account kms:CreateGrant when called
// directly, not only through EC2 (kms:ViaService), since the command calls
// KMS itself. The golden-image keys (constructs/goldenimage) allow exactly
// this to every account in DistributionAccounts: a grant to that account's
// own Auto Scaling role, for these operations. The grant lasts until it is revoked or retired, and covers
// later AMIs encrypted with the same key. The construct does not create
// it: CloudFormation has no resource for KMS grants.
package goldenfleet
