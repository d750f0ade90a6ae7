// Command notifier posts the golden-AMI pipeline's news to a Slack incoming
// webhook. It is subscribed to the (KMS-encrypted) notifications SNS topic
// and receives an events.SNSEvent whose records' Sns.Message is one of:
//
//   - an EventBridge "CodePipeline Pipeline Execution State Change" (any
//     state), or a "CodePipeline Action Execution State Change" of an
//     Approval action (STARTED means waiting for approval; SUCCEEDED,
//     FAILED mean approved, rejected). The CodeStar Notifications spelling
//     ("detailType") is accepted too;
//   - an EventBridge "EC2 Image Builder Image State Change" in a final state
//     (AVAILABLE, FAILED, CANCELLED). It names the image but carries no AMI
//     ids, so the function calls imagebuilder:GetImage on resources[0];
//   - Image Builder's own SNS notification: the Image JSON, with the AMIs
//     (its "semver" overflows int64 and is never decoded);
//   - a Lambda asynchronous-invocation destination record, e.g. the pipeline
//     trigger's decision ("started", "already-started", "ignored") or its
//     failure (condition RetriesExhausted, EventAgeExceeded);
//   - a CloudWatch alarm notification.
//
// # Messages
//
// Each message has a one-line headline (also Slack's fallback "text") and
// Block Kit sections with what a person needs:
//
//	:x: CodePipeline *golden-ami-delivery* failed
//	  Pipeline, State, Account, Region, Execution (console link), Commit
//	:raised_hand: CodePipeline *golden-ami-delivery* is waiting for approval (stage Approve, action ApproveProduction)
//	:white_check_mark: Image *golden-ami-recipe 1.2.0/4* is available
//	  Image, Version, State, Pipeline, Account, Region; AMIs: • us-east-1: `ami-0123…`
//	:x: Image *golden-ami-recipe 1.2.0/5* failed; Reason: …
//	:rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/7*: parameter … version 3 is ami-…
//	:rotating_light: Alarm *golden-ami-dev-trigger-dlq-not-empty* is ALARM (was OK); the reason; a console link
//
// The commit (id, first line of its message, link) comes from
// codepipeline:GetPipelineExecution's artifactRevisions, or from the event's
// execution-trigger when that call fails; a failed GetPipelineExecution or
// GetImage is logged as a warning and the message goes out without the
// commit or with "AMIs unknown". Every value taken from an event is escaped
// for Slack's mrkdwn, so an event cannot ping @channel or forge links.
//
// # The webhook
//
// SLACK_WEBHOOK_SECRET_ARN (required) names a Secrets Manager secret whose
// SecretString is the webhook URL, either bare or as {"webhookUrl": "..."}.
// The URL must be https (plain http only to a loopback host). It is read on
// the first message to post, then cached for the life of the execution
// environment (a failed read is retried on the next invocation). It is a
// credential: it is never logged, and errors from the HTTP client, which
// embed it, are stripped of it (the URL, its path, query and token).
//
// Delivery retries a network error, HTTP 429 (waiting Retry-After, at most 5s)
// and 5xx, 3 attempts in all with 0.5s then 1s between them; other statuses
// (a 3xx is not followed; 4xx such as 404 no_service) fail at once. Each
// attempt times out after 6s, so give the function a timeout of at least 30s.
//
// A 403, 404 or 410 (invalid_token, no_service, an archived channel) means
// the webhook was revoked or rotated: the cached URL is dropped and the
// secret read again, once. If it holds a new URL the message is delivered
// there once (Slack accepted nothing from the old one, so nothing is posted
// twice) and the new URL is cached; otherwise the error names the status and
// says the secret was re-read.
//
// # Results and errors
//
// Handle returns {"records":[{"messageId","kind","outcome":"posted|skipped|failed","reason"}]}.
//
//   - An event with no records, or a record that is not an SNS notification
//     (EventSource other than "aws:sns", empty Sns.Message), is an error
//     naming the field; nothing is posted.
//   - A message that is not JSON, or not one of the shapes above (stage
//     events, non-approval actions, images still building included), is
//     logged at info and skipped.
//   - A recognised message missing a field it needs (say detail.execution-id),
//     or an image status Image Builder does not document (say "available"
//     in lower case), is an error naming the field and value.
//   - A message Slack did not accept after the retries, or an unreadable or
//     invalid secret, is an error, so Lambda retries the event and then
//     sends it to the dead-letter queue.
//
// Records are independent.
//
// # De-duplication
//
// A record is skipped (logged at info with its reason, outcome "skipped",
// no error, so nothing is retried) rather than posted twice when this
// execution environment already posted:
//
//   - the same SNS message id: Lambda redelivering an event after another
//     of its records failed ("... (a redelivery)");
//   - the trigger's "started" for the same imageBuildVersionArn. The trigger
//     starts the pipeline with an idempotent client token, so a redelivered
//     Parameter Store event, or the same AMI written again as a new
//     parameter version, gets the original build back and is reported as
//     "started" again in a new SNS message ("image build ... was already
//     posted as started by this execution environment (a duplicate trigger
//     record)"). Other decisions and other kinds are not de-duplicated.
//
// Both are remembered only after Slack accepted the post, so a failed post
// is retried and a later record for the same build still posts it. Each
// memory holds the last 256 keys, in memory only. A new execution
// environment (a cold start, a scale-out, a redeploy) knows nothing of
// earlier posts, so a duplicate that reaches it is posted again: the
// de-duplication makes a second post unlikely, not impossible.
//
// # IAM
//
// secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key
// if it is encrypted with a customer managed key), imagebuilder:GetImage on
// the pipeline's images, and codepipeline:GetPipelineExecution on the
// pipeline. The SNS topic's key must let SNS deliver to Lambda; the function
// itself does not decrypt SNS messages.
package main
