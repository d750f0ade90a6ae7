// Package latestami defines LatestAMIRecorder: a Go function that writes
// each finished golden AMI into a latest-AMI SSM parameter in every region
// the image was distributed to, with provenance tags. Consumers reference
// the parameter from CloudFormation ("{{resolve:ssm:...}}" or a parameter of
// type AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>).
//
//	recorder := latestami.NewLatestAMIRecorder(stack, jsii.String("Latest"), &latestami.LatestAMIRecorderProps{
//		Pipeline: pipeline,
//	})
//	recorder.GrantRead(someRole)
package latestami
