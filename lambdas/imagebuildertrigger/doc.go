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
// It then reads the parameter's history (GetParameterHistory, every page),
// takes the current version and value, checks the value is an AMI id, and
// finds the first version of the run of consecutive versions holding that
// value. It calls StartImagePipelineExecution with a client token derived
// from the pipeline ARN, the parameter name, that first version and the
// value (the first 32 hex digits of their SHA-256). Redelivered or duplicate
// events, and new versions that write the same AMI again (a PutParameter
// retried after a lost response, overlapping monitor runs), therefore replay
// the original execution instead of starting another; a new value starts a
// new build, and so does a return to an earlier value. It only ever starts
// executions: recipes and the pipeline belong to CloudFormation.
//
// Other parameters and sources, Delete and LabelParameterVersion operations,
// and failed writes are logged at info and return nil. A malformed event
// (no source, detail-type, detail, detail.name or detail.operation) is an
// error naming the field, so it lands in the dead-letter queue.
//
// The result is {"decision":"started|already-started|ignored","reason":"..",
// "imageBuildVersionArn":"..","clientToken":".."}.
//
// # IAM
//
// ssm:GetParameterHistory on the parameter and imagebuilder:StartImagePipelineExecution
// on the pipeline; nothing else.
package main
