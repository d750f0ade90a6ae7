// Command rollout rolls one Auto Scaling group onto each new golden AMI (the
// immutable-server pattern): it adds a launch template version with the AMI
// from the latest-AMI SSM parameter and starts an instance refresh to it
// with checkpoints, a minimum healthy percentage, and auto rollback when the
// refresh fails or one of the given CloudWatch alarms goes into ALARM.
//
// # Events
//
// The function is the target of two EventBridge rules:
//
//   - "Parameter Store Change" (source aws.ssm) for the latest-AMI parameter.
//     It acts on Create and Update without an "exception" (an aws:ec2:image
//     write that failed validation carries one and created no version).
//     Parameter Store publishes these only in the parameter's account: for
//     a parameter shared from another account, they arrive only when its
//     owner forwards them to this account's default event bus (the
//     envelope keeps the owner's "account" and "region").
//   - a schedule (source aws.events, "Scheduled Event"), the convergence
//     pass. It is required: see "Nothing is lost" below. Every 15 minutes is
//     a reasonable rate; each pass costs four or five read calls.
//
// Both run the same comparison of the parameter with the group, so a
// redelivered, late or duplicate event changes nothing. Other sources,
// other parameters, Delete and LabelParameterVersion operations and failed
// writes are logged at info and return nil. A malformed event (no source or
// detail-type; a Parameter Store Change without detail, detail.name or
// detail.operation, with an operation other than Create, Update, Delete and
// LabelParameterVersion, the four Parameter Store sends, or whose detail is
// not a JSON object) is an error naming the field.
//
// # Environment
//
// All required, except REFRESH_INSTANCE_WARMUP_SECONDS and
// REFRESH_MAX_HEALTHY_PERCENTAGE. The construct owns
// every default, so they live in one place. Invalid values stop the
// function at start-up with a message naming the variable and its value.
//
//   - AUTO_SCALING_GROUP_NAME: the group to roll.
//   - LAUNCH_TEMPLATE_ID: the group's launch template, lt-<17 hex digits>.
//   - SSM_PARAMETER_NAME: the latest-AMI parameter: its name, e.g.
//     /golden-ami/latest, or, for a parameter shared from another account
//     through AWS RAM, its ARN,
//     arn:<partition>:ssm:<region>:<12-digit account>:parameter/<name>
//     (GetParameter reads a shared parameter only by ARN). Events are
//     matched against the name the ARN contains (parameter/golden-ami/latest
//     is /golden-ami/latest; a one-level parameter/foo matches foo and
//     /foo, which share that ARN) and, when the event says so, against the
//     ARN's account and region, so a parameter of the same name in this
//     account does not trigger a rollout.
//   - REFRESH_MIN_HEALTHY_PERCENTAGE: 0 to 100.
//   - REFRESH_MAX_HEALTHY_PERCENTAGE: unset to leave it to Auto Scaling
//     (100, or the group's instance maintenance policy: each instance is
//     terminated as its replacement launches), or 100 to 200 and at most
//     100 above REFRESH_MIN_HEALTHY_PERCENTAGE. When it is set and the two
//     bounds leave no room to terminate first (a one-instance group, say),
//     Auto Scaling launches the replacement before it terminates. The
//     construct always sets it (110 by default).
//   - REFRESH_CHECKPOINT_PERCENTAGES: ascending, comma-separated, ending with
//     100, e.g. "20,50,100". (With a last value below 100 a refresh would
//     stop before replacing every instance.)
//   - REFRESH_CHECKPOINT_DELAY_SECONDS: 0 to 172800.
//   - REFRESH_INSTANCE_WARMUP_SECONDS: unset to use the group's
//     DefaultInstanceWarmup (AWS recommends setting that instead), or >= 0.
//   - REFRESH_ALARM_NAMES: 1 to 10 CloudWatch alarm names, comma-separated.
//   - REFRESH_SKIP_MATCHING: "true" or "false".
//
// AutoRollback is always true and the strategy is always Rolling.
//
// # Behaviour
//
// Each invocation reads the parameter (its value must be an AMI id), the
// group, the group's instance refreshes and the template's versions, then
// decides, in this order:
//
//  1. a refresh is running: to this AMI, "in-progress"; to anything else,
//     "deferred". Nothing is started either way (Auto Scaling allows one
//     active refresh per group, and a second would answer
//     InstanceRefreshInProgress).
//  2. the group's launch template version already launches this AMI:
//     "unchanged" (unless some instances lag; see "Nothing is lost").
//  3. the newest finished refresh of this exact rollout (this AMI for this
//     parameter version) failed, was cancelled or rolled back: "blocked",
//     logged at warn. The function never retries a failed rollout by
//     itself; a new AMI, or writing the same AMI to the parameter again (a
//     new parameter version), starts a new one.
//  4. otherwise "started": CreateLaunchTemplateVersion with SourceVersion =
//     the group's current version and only ImageId replaced (so everything
//     else CloudFormation set is kept), then StartInstanceRefresh with
//     DesiredConfiguration {LaunchTemplateId, Version: "<that number>"} and
//     the preferences above.
//
// Step 4 is idempotent: CreateLaunchTemplateVersion carries a ClientToken
// derived from the group, template, source version, AMI and parameter
// version, so the SDK's retry of a lost response gets the same version; a
// later invocation reuses the template's latest version when an earlier
// attempt created it but failed to start the refresh. When
// StartInstanceRefresh answers InstanceRefreshInProgress, the function
// looks again: a running refresh to its version means an earlier attempt of
// the same start succeeded ("started"); any other means "deferred".
//
// Errors are wrapped with the operation, group, template and AMI; the
// group using another template, $Latest or $Default, a mixed instances
// policy, or a current version whose AMI is an SSM alias are errors that
// change nothing.
//
// The result is {"decision":"started|in-progress|deferred|unchanged|blocked|ignored",
// "reason":"..","ami":"..","launchTemplateVersion":"..","instanceRefreshId":".."}.
//
// # Why numbered versions, and how rollback restores the previous AMI
//
// The Auto Scaling API reference (RefreshPreferences.AutoRollback) says a
// rollback is not supported when "There is no desired configuration
// specified for the instance refresh", when "The Auto Scaling group has a
// launch template that uses an AWS Systems Manager parameter instead of an
// AMI ID for the ImageId property", or when "The Auto Scaling group uses the
// launch template's $Latest or $Default version". The user guide adds that
// the check applies when the refresh starts: "If the Auto Scaling group has
// an incompatible launch template or launch template version, you receive
// an error when you start ... an instance refresh with auto rollback
// enabled." And rolling back "replaces the instances that have been
// deployed so far. The new instances match the configuration that you last
// saved on the Auto Scaling group before starting the instance refresh."
//
// So the group must always sit on a numbered version whose ImageId is a
// concrete AMI id, and that saved configuration must not change before the
// refresh ends. Hence:
//
//   - the function never calls UpdateAutoScalingGroup or
//     ModifyLaunchTemplate. The new version reaches the group only through
//     the refresh's DesiredConfiguration: "Once the instance refresh
//     succeeds, Amazon EC2 Auto Scaling updates the settings of the Auto
//     Scaling group to reflect the new desired configuration." On failure
//     or an alarm, the group keeps its previous numbered version and auto
//     rollback relaunches the previous AMI. (Updating the group first, as
//     some tools do, makes the "rollback" relaunch the new version:
//     hashicorp/terraform-provider-aws#34189.)
//   - the desired version is a number, never $Latest or $Default, so after
//     a successful refresh the group is again on a numbered version and the
//     next refresh can roll back too.
//   - a template whose ImageId is resolve:ssm:<parameter> (EC2's launch-time
//     alias, CDK's ResolveSsmParameterAtLaunchImage) is refused: rollback
//     cannot restore it, and scale-out would launch a new AMI before any
//     alarm had a chance to stop it.
//
// # Drift from CloudFormation
//
// A successful refresh moves the group from CloudFormation's version X to
// the function's version N: drift detection reports
// LaunchTemplate.Version as NOT_EQUAL (as in
// aws-cloudformation/cloudformation-coverage-roadmap#1470). That drift is
// by design and harmless when the construct does this:
//
//   - the launch template's ImageId is resolved at deploy time from the
//     latest-AMI parameter: the CloudFormation dynamic reference
//     "{{resolve:ssm:<name>}}" for a parameter of the stack's account, or,
//     for one shared by ARN (which dynamic references cannot name), a
//     CloudFormation parameter of type
//     AWS::SSM::Parameter::Value<AWS::EC2::Image::Id> defaulting to the ARN
//     (see latestami.LatestAMI.MachineImageAtDeploy). Never the launch-time
//     alias "resolve:ssm:" and never a value cached in cdk.context.json
//     (CDK's cachedInContext), which would freeze an old AMI, and every
//     deployment would then put the group back on it. Every deployment
//     re-resolves it, so
//     whenever the parameter changed since the last deployment CloudFormation
//     writes a new version with the same AMI the function rolls out, and
//     points the group at it: CloudFormation moves the group sideways, never
//     back to an older AMI.
//   - the group's LaunchTemplate.Version is the template's
//     LatestVersionNumber (numbered; CDK's default), not $Latest/$Default.
//   - the group has no AutoScalingRollingUpdate, AutoScalingReplacingUpdate
//     or instance refresh UpdatePolicy, so replacing instances is this
//     function's job alone, always behind the alarms.
//   - the template's default version stays CloudFormation's (the function
//     never changes it), so the template itself does not drift.
//
// What remains, and how it converges:
//
//   - a CloudFormation update of the group's launch template while a refresh
//     runs fails ("An active instance refresh with a desired configuration
//     exists. All configuration options derived from the desired
//     configuration are not available for update while the instance refresh
//     is active.") and the stack update rolls back; redeploy after it.
//   - if anything (a stack rollback, a manual change) puts the group back
//     on an older AMI, the next convergence pass sees the group differ from
//     the parameter and starts a refresh again, behind the alarms.
//   - after a rollback, a deployment that re-resolves the parameter puts the
//     rolled-back AMI into the group's configuration (new instances would
//     use it) without a refresh. The function cannot undo that without
//     second-guessing the parameter; it reports it as "unchanged" with a
//     reason naming the failed refresh. Publish a fixed AMI instead.
//
// # Labelling a refresh with its AMI
//
// StartInstanceRefresh takes no tags and Auto Scaling tags only groups.
// What AWS does record per refresh is its DesiredConfiguration, a launch
// template version, and versions are immutable. So each version the
// function creates is described "golden-ami rollout of <ami> (latest-AMI
// parameter version <n>)", and DescribeInstanceRefreshes ->
// DesiredConfiguration.LaunchTemplate.Version -> DescribeLaunchTemplateVersions
// tells which AMI a refresh rolled out; the function itself decides with
// that. It does not tag the group: the group's tags belong to
// CloudFormation (more drift), and a group tag would be a second, mutable
// copy of what the refresh already records. The result and log carry the
// AMI, version and refresh id.
//
// # Nothing is lost
//
// A parameter change that arrives while a refresh runs is "deferred": the
// function returns nil, because retrying through Lambda's asynchronous
// retries (two, within minutes) cannot outlast a refresh with checkpoints
// and would end in the dead-letter queue. The parameter itself is the
// record of what should run, so the scheduled convergence pass, which
// compares it with the group, starts the rollout once the running refresh
// ends. A change deferred behind a refresh that then rolls back is rolled
// out too: only the exact rollout that failed is blocked.
//
// When the group's version already launches the AMI but some of its
// in-service instances lag, running a version that launches another AMI or
// differs from the group's in more than the AMI (something other than this
// function, a CloudFormation deployment say, moved the group without
// replacing them), it starts one refresh to the group's version for them.
// An instance on a version with the same AMI and the same launch template
// data does not lag: that is the sideways move of a deployment after a
// rollout (see "Drift from CloudFormation"), and refreshing onto it would
// replace every instance with an identical one. The reason names those
// instances; a version the function cannot read (another template,
// $Latest or $Default, a deleted version) counts as lagging.
// Instances protected from scale-in, in standby or not yet in service do not
// count, since a refresh with the default preferences leaves them, and after
// a failed refresh to that AMI it only reports them.
//
// Refreshes are attributed to an AMI only through a numbered launch
// template version: a refresh to $Latest or $Default (someone else's) still
// blocks while it runs, but is not taken for a rollout of whatever those
// aliases name today. Refreshes are read across every page and ordered by
// start time, newest first, with one that has no start time counted as the
// newest.
//
// # Known limits
//
//   - A blocked rollout is remembered only as long as Auto Scaling lists
//     its refresh (about six weeks). If the parameter still names the same
//     AMI after that, the next convergence pass rolls it out again, with
//     auto rollback guarding it as before.
//
// # IAM
//
//   - ssm:GetParameter on the latest-AMI parameter (its ARN, the owner's
//     for a shared one).
//   - autoscaling:DescribeAutoScalingGroups, autoscaling:DescribeInstanceRefreshes
//     and ec2:DescribeLaunchTemplateVersions: these do not support
//     resource-level permissions, so Resource "*".
//   - ec2:CreateLaunchTemplateVersion on the launch template's ARN.
//   - autoscaling:StartInstanceRefresh on the group's ARN
//     (arn:<partition>:autoscaling:<region>:<account>:autoScalingGroup:*:autoScalingGroupName/<name>).
//   - what using the launch template needs, because Auto Scaling checks the
//     caller's right to launch from the desired configuration:
//     ec2:RunInstances (conditioned on ec2:LaunchTemplate = the template's
//     ARN), iam:PassRole on the instance role when the template has an
//     instance profile (condition iam:PassedToService ec2.amazonaws.com),
//     and ec2:CreateTags conditioned on ec2:CreateAction = RunInstances (so
//     only the tagging RunInstances does as it launches) when the template
//     has tag specifications.
package main
