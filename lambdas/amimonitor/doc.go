// Command amimonitor watches an upstream for a new base AMI and records it in
// the upstream-AMI SSM parameter that the golden image recipe's "ssm:" parent
// image points at. It runs on a schedule and ignores its input.
//
// # Environment
//
//   - SSM_PARAMETER_NAME (required): the upstream-AMI parameter to maintain,
//     e.g. /golden-ami/upstream. It is written as a String of data type
//     aws:ec2:image, then tagged golden-ami:upstream-source and
//     golden-ami:observed-at.
//
// And exactly one upstream source:
//
//   - PLATFORM_ARN: one Elastic Beanstalk platform version,
//     arn:aws:elasticbeanstalk:<region>::platform/<name>/<version>; its hvm
//     entry of CustomAmiList is the AMI.
//   - PLATFORM_BRANCH: an Elastic Beanstalk platform branch name, e.g.
//     "Docker running on 64bit Amazon Linux 2023"; the newest version in
//     status Ready (versions compared numerically: 4.10.0 > 4.9.1) is used.
//   - SOURCE_PARAMETER_NAME: an SSM parameter holding an AMI id, e.g.
//     /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64.
//   - IMAGE_OWNER and IMAGE_NAME_PATTERN together: the newest available EC2
//     image (by CreationDate) of that owner whose name matches the pattern.
//
// Zero sources, several, or only one of IMAGE_OWNER and IMAGE_NAME_PATTERN
// stop the function at start-up with a message naming the variables.
//
// # Behaviour
//
// The function returns {"changed":bool,"previous":"ami-..","current":"ami-..","source":".."},
// plus "retagged":true when it repaired the tags (below).
// When the upstream AMI equals the parameter's value the value is never
// written, so the Parameter Store Change event that starts a build only
// fires for a real change. The function then reads the parameter's tags and,
// only when golden-ami:upstream-source is missing or differs (a previous run
// wrote the value but failed to tag it, or the parameter was seeded by
// CloudFormation), re-applies the tags; golden-ami:observed-at is then the
// value's LastModifiedDate, not the time of the repair. Otherwise nothing is
// written. An upstream without a usable AMI, or with an invalid id, is an
// error and the parameter is left untouched.
//
// # IAM
//
// ssm:GetParameter, ssm:PutParameter, ssm:AddTagsToResource and
// ssm:ListTagsForResource on the parameter, ec2:DescribeImages (Parameter Store validates aws:ec2:image
// values with it), plus, per source, elasticbeanstalk:DescribePlatformVersion
// and elasticbeanstalk:ListPlatformVersions, ssm:GetParameter on the source
// parameter, or ec2:DescribeImages.
package main
