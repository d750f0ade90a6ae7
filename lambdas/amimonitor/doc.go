// Command amimonitor watches an upstream for a new base AMI and records it in
// the upstream-AMI SSM parameter that the golden image recipe's "ssm:" parent
// image points at. It runs on a schedule and ignores its input.
//
// # Environment
//
//   - SSM_PARAMETER_NAME (required): the upstream-AMI parameter to maintain,
//     e.g. /golden-ami/upstream. It is written as a String of data type
//     aws:ec2:image with the description "Upstream AMI written by the
//     golden-ami upstream monitor: <source>" (contract.UpstreamDescriptionPrefix,
//     cut to 1,024 characters), then tagged golden-ami:upstream-source and
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
// plus "retagged":true when it repaired the tags or "claimed":true when it
// claimed the value (below). Each run logs one decision: changed,
// unchanged, retagged or claimed.
//
// Every value the function writes carries the description above. The
// imagebuildertrigger function starts builds only for versions with that
// marker, so a value written by anyone else, in particular the seed that
// CloudFormation writes when it creates the parameter and again whenever it
// updates the resource, starts nothing.
//
//   - changed: the upstream AMI differs from the parameter's value (whoever
//     wrote it): the AMI is written, then tagged with observed-at now.
//   - unchanged: the value is the upstream AMI, the current version is the
//     monitor's (its description starts with the marker) and the
//     golden-ami:upstream-source tag is this run's; nothing is written, so
//     the Parameter Store Change event that starts a build only fires for a
//     real change.
//   - retagged: as unchanged, but the upstream-source tag is missing or
//     differs (a previous run wrote the value but failed to tag it, or the
//     source was reconfigured); the tags are re-applied, with observed-at
//     the value's LastModifiedDate, not the time of the repair.
//   - claimed: the value is the upstream AMI but the current version is not
//     the monitor's (a CloudFormation seed: an SSM upstream's seed resolves
//     to that same AMI). The same value is written once more with the
//     monitor's description, and tagged (observed-at the seed's
//     LastModifiedDate). The trigger builds it, or, when the seed had
//     re-written a value the monitor wrote before, replays that build.
//
// GetParameter returns no description, so when the value is unchanged the
// function reads the parameter's history (GetParameterHistory, every page)
// for the current version's. Parameter Store keeps the previous
// description when a write sends none, so a version written without one
// (by hand, say) after a monitor write counts as the monitor's.
//
// An upstream without a usable AMI, or with an invalid id, is an error and
// the parameter is left untouched.
//
// # IAM
//
// ssm:GetParameter, ssm:GetParameterHistory, ssm:PutParameter,
// ssm:AddTagsToResource and ssm:ListTagsForResource on the parameter, ec2:DescribeImages (Parameter Store validates aws:ec2:image
// values with it), plus, per source, elasticbeanstalk:DescribePlatformVersion
// and elasticbeanstalk:ListPlatformVersions, ssm:GetParameter on the source
// parameter, or ec2:DescribeImages.
package main
