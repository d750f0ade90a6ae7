// Command latestami records the AMIs of a finished golden image in the
// latest-AMI SSM parameter of every region the image was distributed to.
//
// It accepts both notifications Image Builder sends: the SNS notification
// of the infrastructure configuration's topic (Records[].Sns.Message is the
// Image object) and the EventBridge "EC2 Image Builder Image State Change"
// event (which names the image in resources[0] but carries no AMI ids).
// From either it takes only the image build version ARN and the status: for
// an image the event says is AVAILABLE, it calls GetImage and records the
// AMIs, accounts, pipeline and status GetImage reports. The SNS message's
// own AMIs are not used, because anyone allowed to publish to the topic
// could put any AMI id there; its sourcePipelineArn only lets the function
// ignore another pipeline's image (one built on the same infrastructure
// configuration) without a GetImage its role may not make. The ARN must be
// an image build version ARN
// (arn:<partition>:imagebuilder:<region>:<account>:image/<name>/<x.y.z>/<build>)
// and the status one Image Builder documents (PENDING, CREATING, BUILDING,
// TESTING, DISTRIBUTING, INTEGRATING, AVAILABLE, CANCELLED, FAILED,
// DEPRECATED, DELETED, DISABLED); anything else is a malformed event.
//
// # Environment
//
//   - SSM_PARAMETER_NAME (required): the latest-AMI parameter, e.g.
//     /golden-ami/latest, written in each distribution region as a String of
//     data type aws:ec2:image.
//   - IMAGE_PIPELINE_ARN (optional): when set, images whose
//     sourcePipelineArn differs are ignored (and logged).
//   - SSM_PARAMETER_TIER (optional): Standard, Advanced or
//     Intelligent-Tiering, sent with every PutParameter. Advanced is what
//     AWS RAM needs to share the parameter with other accounts. Unset: no
//     tier is sent, so Parameter Store's default applies.
//
// Invalid values stop the function at start-up with a message naming the
// variable and its value.
//
// # Behaviour
//
// For an image GetImage reports AVAILABLE, every output AMI owned by the
// image's account (accountId empty or equal to the account in the image
// ARN; copies shared to other accounts are skipped) is validated first, and
// every output AMI's region: one invalid id or region, or no AMI at all, is
// an error and nothing is written. Then, region by region,
// using one SSM client per region:
//
//   - the parameter already holds the AMI with this image's tags: nothing
//     is written ("unchanged"), so redelivery triggers nothing downstream;
//   - it holds the AMI but an earlier attempt failed to tag it: only the
//     tags are written ("retagged");
//   - its current version was written for a build Image Builder created
//     later: nothing is written ("stale"), so a late notification cannot
//     roll it back. The build and its creation time are read from the
//     version's description ("Golden AMI from <image ARN>, built <time>"),
//     which PutParameter writes together with the value, so they are right
//     even when the tags lag behind; a parameter without such a description
//     falls back to its golden-ami:image-arn and golden-ami:build-date tags.
//     Builds are ordered by creation time, not by recipe version:
//     goldenimage derives a recipe's version from a hash of its content, so
//     a changed recipe's builds may have lower versions. Only when a
//     creation time is unknown are builds ordered by build number, and then
//     only within one recipe version;
//   - otherwise PutParameter (Overwrite, with that description) then
//     AddTagsToResource with golden-ami:image-arn, golden-ami:pipeline-arn,
//     golden-ami:recipe-arn and golden-ami:build-date ("written").
//
// PutParameter has no idempotency token, so the SDK does not retry it: an
// attempt that SSM applied but answered with a 5xx (or whose response was
// lost) would otherwise write the same AMI again as a second version, which
// consumers see as a second change (GoldenFleet's rollout treats a new
// version of the same AMI as a deliberate retry). The handler retries it
// with the same policy and delays, but reads the parameter first and stops
// when the failed attempt was applied after all.
//
// A 200 from PutParameter is not a write either: Parameter Store validates
// aws:ec2:image values asynchronously, the new version appears only once
// the AMI is validated, and a value that fails validation never appears.
// So after a 200, and before retrying an attempt that may have reached SSM
// (a 5xx or no answer; a 4xx such as TooManyUpdates wrote nothing), the
// function reads the history until the value is there, waiting 100 ms,
// then twice as long each time up to 2 s, for at most 10 s. Only then are
// the tags written. A 200 whose version does not appear in time is an
// error for that region ("... validation failed or has not finished; not
// recorded, retry later"), so Lambda retries the event instead of the
// region being reported written while it still holds the old AMI. The
// function's timeout is 3 minutes to leave room for these waits.
//
// The parameter's current version and description are read with
// GetParameterHistory (GetParameter returns no description). An AVAILABLE
// event (either kind) whose GetImage still reports an earlier status is an
// error, so Lambda retries it instead of losing the image.
//
// A region that fails does not stop the others; the function then returns
// one error naming the failed regions, and a retry redoes only those.
// Images in any other documented status (FAILED, CANCELLED, still
// building, DEPRECATED, ...) write nothing and are logged at info. A
// malformed event, or a status GetImage reports that Image Builder does not
// document, is an error and writes nothing.
//
// # IAM
//
// ssm:GetParameterHistory, ssm:PutParameter, ssm:AddTagsToResource and
// ssm:ListTagsForResource on the parameter in every distribution region,
// ec2:DescribeImages (Parameter Store validates aws:ec2:image values with
// it), and imagebuilder:GetImage on the pipeline's images, whichever way it
// learns of them (SNS or EventBridge).
package main
