// Command imagebuildertrigger starts the golden image pipeline when the
// upstream-AMI SSM parameter gets a new value. It is the target of an
// EventBridge rule on "Parameter Store Change" events (source aws.ssm) for
// that parameter.
//
// # Environment
//
//   - IMAGE_PIPELINE_ARN (required): the pipeline to start,
//     arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>.
//   - SSM_PARAMETER_NAME (required): the upstream-AMI parameter, e.g.
//     /golden-ami/upstream.
//
// Invalid values stop the function at start-up with a message naming the
// variable and its value.
//
// # Behaviour
//
// It acts only on a Create or Update of SSM_PARAMETER_NAME whose detail has
// no "exception" (an aws:ec2:image write that failed Parameter Store's
// asynchronous validation carries one, e.g. "Unable to Describe Resource").
// It then reads the parameter's history (GetParameterHistory, every page)
// and takes the latest version: the event names no version, so the latest
// is the event's own or a later one, whose event follows.
//
// If that version's description starts neither with "Upstream AMI written
// by the golden-ami upstream monitor: " (contract.UpstreamDescriptionPrefix,
// which the amimonitor function writes with every value) nor with "Golden
// AMI from " (contract.LatestDescriptionPrefix, which the latestami
// recorder writes, so a team's pipeline can take another pipeline's
// latest-AMI parameter as its upstream), the decision is "ignored", with the
// reason "parameter <name> version <n> was not written by the upstream
// monitor or the latest-AMI recorder (e.g. a CloudFormation seed); no build
// started", and nothing starts. CloudFormation writes the parameter's seed when it
// creates the resource and again whenever it updates it (any property,
// e.g. its description or tags); for Elastic Beanstalk and EC2-pattern
// upstreams the seed is the public Amazon Linux 2023 or Windows AMI, so
// building it would publish the wrong base. The monitor writes the upstream
// back (or claims the seed when it already is the upstream's AMI) on its
// next run, and that write is what builds.
//
// For a version one of them wrote it checks the value is an AMI id and
// finds the first version of the run of consecutive versions they wrote
// holding that value; versions written by others are skipped and
// do not break the run. It calls StartImagePipelineExecution with a client
// token derived from the pipeline ARN, the parameter name, that first
// version, when it was written, and the value (the first 32 hex digits of
// their SHA-256; the write time tells a re-created parameter's versions from
// the old one's).
// Redelivered or duplicate events, new versions that write the same AMI
// again (a PutParameter retried after a lost response, overlapping monitor
// runs), and the monitor writing back the value it wrote before a seed
// re-write, therefore get the token of the original build, and Image
// Builder returns that execution instead of starting another. Image Builder
// honours a client token only for a limited time (it documents no exact
// window, referring to EC2's idempotency rules): a replay after the token
// has expired, e.g. a seed re-write days after the build, starts a second
// build of the same base. A new value starts a new build, and so does a
// return to an earlier value. It only ever starts executions: recipes and
// the pipeline belong to CloudFormation.
//
// Other parameters and sources, Delete and LabelParameterVersion operations,
// failed writes and versions the monitor did not write are logged at info
// (a failed write of our own parameter at warn) and return nil. A malformed
// event (no source, detail-type, detail, detail.name or detail.operation,
// or an operation other than Create, Update, Delete and
// LabelParameterVersion, the four Parameter Store sends) is an error naming
// the field and value, so it lands in the dead-letter queue.
//
// The result is {"decision":"started|already-started|ignored","reason":"..",
// "imageBuildVersionArn":"..","clientToken":".."}. A started build's reason
// names the version, the value and the first version of its run, e.g.
// "parameter /golden-ami/upstream version 5 is ami-.. (its value since
// version 2, skipping 2 versions not written by the upstream monitor or the
// latest-AMI recorder)".
//
// # IAM
//
// ssm:GetParameterHistory on the parameter and imagebuilder:StartImagePipelineExecution
// on the pipeline. The function calls nothing else; when its results go to
// the notifications topic (a Lambda destination), Lambda publishes them with
// the role, which then also has sns:Publish on that topic and
// kms:Decrypt/kms:GenerateDataKey on its key.
package main
