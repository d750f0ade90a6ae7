// Package goldenimage defines a golden-image pipeline for EC2 Image Builder as
// one construct: NewGoldenImagePipeline.
//
// The pipeline takes its parent image from an SSM parameter ("ssm:" parent),
// updates the SSM agent before anything else, applies OS updates and the
// DISA STIG, tests the image on a fresh instance, scans it with Inspector,
// encrypts it with a customer-managed key and distributes it to regions and
// accounts. A lifecycle policy deprecates and then deletes old images. The
// image always keeps the SSM agent, even one Image Builder installed on a
// parent that had none.
//
//	app := awscdk.NewApp(nil)
//	stack := awscdk.NewStack(app, jsii.String("Images"), nil)
//	pipeline := goldenimage.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &goldenimage.GoldenImagePipelineProps{
//		ImageName:           jsii.String("al2023"),
//		DistributionRegions: jsii.Strings("eu-west-1"),
//	})
//	pipeline.GrantStartExecution(someFunction)
//	pipeline.OnImageAvailable(jsii.String("Available"), &awsevents.OnEventOptions{Target: someTarget})
//
// Every region in DistributionRegions other than the stack's own needs a
// customer-managed key with the alias DistributionKeyAlias; NewDistributionKey
// defines one in a stack of that region. In the stack's own region the AMI
// is encrypted with AMIKey: EncryptionKey while the AMI stays in this
// account, and a key of its own once DistributionAccounts share it, so the
// accounts it is shared with get no use of the key that protects the
// pipeline's logs and notifications.
//
// Image Builder resources are immutable. Components and the recipe keep a
// stable name and take a version derived from a hash of their resolved
// content, so changing them never fails with "already exists".
//
// GoldenImagePipelineFromAttributes stands for a pipeline defined
// elsewhere, so the constructs that work for a pipeline (the trigger, the
// latest-AMI recorder, notifications) and its grants and rules can be used
// with it.
package goldenimage
