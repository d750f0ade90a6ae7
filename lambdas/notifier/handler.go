package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Outcomes reported in RecordResult.Outcome.
const (
	OutcomePosted  = "posted"
	OutcomeSkipped = "skipped"
	OutcomeFailed  = "failed"
)

// Result is what one invocation returns, one entry per SNS record.
type Result struct {
	Records []RecordResult `json:"records"`
}

// RecordResult is what happened to one SNS record. Reason is why it was
// skipped or failed; for a posted record it is the message's headline.
type RecordResult struct {
	MessageID string `json:"messageId,omitempty"`
	Kind      string `json:"kind"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason,omitempty"`
}

// secretReader reads the webhook secret.
type secretReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// imageGetter reads an image's name, state and AMIs for EventBridge image
// events, which carry none of them.
type imageGetter interface {
	GetImage(ctx context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error)
}

// executionGetter reads a pipeline execution's source revisions (the
// commit).
type executionGetter interface {
	GetPipelineExecution(ctx context.Context, in *codepipeline.GetPipelineExecutionInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineExecutionOutput, error)
}

// Handler posts pipeline, image, trigger and alarm notifications to Slack.
type Handler struct {
	// SecretARN names the secret holding the webhook URL.
	SecretARN  string
	Secrets    secretReader
	Images     imageGetter
	Executions executionGetter
	Slack      *SlackPoster

	mu      sync.Mutex
	webhook string // read once per execution environment, then cached
	posted  recent // SNS message ids this execution environment has posted
	started recent // image builds this execution environment has posted as started
}

// recent remembers the last recentSize keys added, so that what this
// execution environment already posted is not posted twice: an SNS message
// id (Lambda retries a whole event when one of its records failed), or an
// image build the trigger reported as started (see startedBuild). Older
// keys are forgotten, so the memory stays bounded.
type recent struct {
	ids  map[string]bool
	ring []string
	next int
}

const recentSize = 256

func (r *recent) has(id string) bool { return id != "" && r.ids[id] }

func (r *recent) add(id string) {
	if id == "" || r.ids[id] {
		return
	}
	if r.ids == nil {
		r.ids, r.ring = map[string]bool{}, make([]string, recentSize)
	}
	delete(r.ids, r.ring[r.next])
	r.ring[r.next] = id
	r.ids[id] = true
	r.next = (r.next + 1) % recentSize
}

// Handle posts one Slack message for each SNS record it can format.
//
// An event with no records, or a record that is not an SNS notification
// (EventSource other than "aws:sns", or an empty Sns.Message), is an error
// naming the field, and nothing is posted. A message that is not JSON, or
// that the notifier does not recognise, is logged at info and skipped. A
// recognised message missing a field it needs, or with an image status
// Image Builder does not document, is an error naming the field.
// A record this execution environment already posted (the same SNS message
// id, or the trigger's "started" for the same image build) is logged at
// info and skipped; see the package doc for the limits. A message that
// cannot be delivered (Slack unreachable or answering non-2xx after the
// retries, or the webhook secret unreadable) is an error, so the event is
// retried and then lands in the dead-letter queue. Records are independent:
// one failing does not stop the others.
func (h *Handler) Handle(ctx context.Context, ev events.SNSEvent) (Result, error) {
	if len(ev.Records) == 0 {
		return Result{}, errors.New(`malformed SNS event: field "Records" is empty`)
	}
	for i, r := range ev.Records {
		switch {
		case r.EventSource != "aws:sns":
			return Result{}, fmt.Errorf(`malformed SNS event: field "Records[%d].EventSource" is %s, want "aws:sns"`, i, quoteShort([]byte(r.EventSource)))
		case r.SNS.Message == "":
			return Result{}, fmt.Errorf(`malformed SNS event: field "Records[%d].Sns.Message" is empty (message %s)`, i, r.SNS.MessageID)
		}
	}
	res := Result{Records: make([]RecordResult, 0, len(ev.Records))}
	var errs []error
	for i, r := range ev.Records {
		rr, err := h.handleRecord(ctx, r.SNS)
		res.Records = append(res.Records, rr)
		if err != nil {
			errs = append(errs, fmt.Errorf("Records[%d] (SNS message %s, %s): %w", i, r.SNS.MessageID, rr.Kind, err))
		}
	}
	return res, errors.Join(errs...)
}

func (h *Handler) handleRecord(ctx context.Context, sns events.SNSEntity) (RecordResult, error) {
	rr := RecordResult{MessageID: sns.MessageID}
	n, err := decodeMessage(sns.Message)
	rr.Kind = n.Kind
	build := startedBuild(n)
	switch {
	case err != nil || n.Skip != "":
	case h.alreadyPosted(sns.MessageID):
		n.Skip = "SNS message " + sns.MessageID + " was already posted by this execution environment (a redelivery)"
	case h.alreadyStarted(build):
		n.Skip = "image build " + build + " was already posted as started by this execution environment (a duplicate trigger record)"
	}
	if err != nil {
		rr.Outcome, rr.Reason = OutcomeFailed, err.Error()
		return rr, err
	}
	if n.Skip != "" {
		rr.Outcome, rr.Reason = OutcomeSkipped, n.Skip
		slog.InfoContext(ctx, "message skipped; nothing posted", "kind", n.Kind, "reason", n.Skip,
			"messageId", sns.MessageID, "topicArn", sns.TopicArn)
		return rr, nil
	}
	m := h.compose(ctx, n)
	body, err := render(m)
	if err == nil {
		err = h.post(ctx, body)
	}
	if err != nil {
		rr.Outcome, rr.Reason = OutcomeFailed, err.Error()
		return rr, err
	}
	// Remembered only once Slack accepted the post: a failed one is
	// retried, and a later record for the same build must still post it.
	h.mu.Lock()
	h.posted.add(sns.MessageID)
	h.started.add(build)
	h.mu.Unlock()
	rr.Outcome, rr.Reason = OutcomePosted, m.Text
	slog.InfoContext(ctx, "posted to Slack", "kind", n.Kind, "messageId", sns.MessageID, "text", m.Text)
	return rr, nil
}

func (h *Handler) alreadyPosted(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.posted.has(id)
}

func (h *Handler) alreadyStarted(build string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.started.has(build)
}

// startedBuild returns the image build a trigger record reports as started,
// or "" for any other notification. The trigger starts the pipeline with an
// idempotent client token, so a redelivered Parameter Store event (or the
// same AMI written again) gets the original build back and reports it as
// started again, with the same ARN, in a new SNS message that the message
// id check does not catch.
func startedBuild(n notification) string {
	if n.Kind != KindTriggerDecision || n.Trigger == nil || n.Trigger.Condition != "Success" || n.Trigger.Decision != "started" {
		return ""
	}
	return n.Trigger.ImageBuildVersionARN
}

// compose builds the message, reading what the event lacks from AWS. A
// failed read degrades the message (no commit, no AMI ids) rather than
// failing the notification.
func (h *Handler) compose(ctx context.Context, n notification) message {
	switch n.Kind {
	case KindPipelineExecution:
		return pipelineMessage(*n.Pipeline, h.commits(ctx, *n.Pipeline))
	case KindApproval:
		return approvalMessage(*n.Pipeline, h.commits(ctx, *n.Pipeline))
	case KindImageStateChange:
		return imageMessage(h.image(ctx, *n.Image))
	case KindImageNotification:
		return imageMessage(*n.Image)
	case KindTriggerDecision:
		return triggerMessage(*n.Trigger)
	case KindAlarm:
		return alarmMessageFor(*n.Alarm)
	}
	// decodeMessage sets a pointer for every kind it does not skip.
	return message{Text: ":information_source: unformatted notification of kind " + esc(n.Kind)}
}

// commits returns the execution's source revisions from GetPipelineExecution,
// or, when that fails or has none, the commit the event's execution-trigger
// names (if any).
func (h *Handler) commits(ctx context.Context, e pipelineEvent) []commit {
	var out []commit
	exec, err := h.Executions.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{
		PipelineName:        aws.String(e.Pipeline),
		PipelineExecutionId: aws.String(e.ExecutionID),
	}, inRegion(e.Region, func(o *codepipeline.Options, r string) { o.Region = r }))
	switch {
	case err != nil:
		slog.WarnContext(ctx, "GetPipelineExecution failed; posting without the commit from the API",
			"pipeline", e.Pipeline, "executionId", e.ExecutionID, "error", err.Error())
	case exec.PipelineExecution != nil:
		for _, r := range exec.PipelineExecution.ArtifactRevisions {
			if id := aws.ToString(r.RevisionId); id != "" {
				out = append(out, commitFromRevision(id, aws.ToString(r.RevisionSummary), aws.ToString(r.RevisionUrl)))
			}
		}
	}
	if len(out) == 0 && e.TriggerCommitID != "" {
		out = append(out, commit{ID: e.TriggerCommitID, Message: e.TriggerCommitMessage})
	}
	return out
}

// image completes an image from GetImage: its pipeline and, for an
// available image, its AMIs; and the failure reason when the event had
// none. When GetImage fails the message says the AMIs are unknown.
func (h *Handler) image(ctx context.Context, img imageInfo) imageInfo {
	out, err := h.Images.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(img.ARN)},
		inRegion(img.Region, func(o *imagebuilder.Options, r string) { o.Region = r }))
	if err != nil || out.Image == nil {
		if err == nil {
			err = errors.New("response has no image")
		}
		slog.WarnContext(ctx, "GetImage failed; posting without the AMI ids", "image", img.ARN, "error", err.Error())
		img.AMIsUnknown = true
		return img
	}
	got := out.Image
	if got.SourcePipelineName != nil {
		img.PipelineName = aws.ToString(got.SourcePipelineName)
	} else {
		img.PipelineName = pipelineNameFromARN(aws.ToString(got.SourcePipelineArn))
	}
	if img.Reason == "" && got.State != nil {
		img.Reason = aws.ToString(got.State.Reason)
	}
	if got.OutputResources != nil {
		for _, a := range got.OutputResources.Amis {
			img.AMIs = append(img.AMIs, outputAMI{Region: aws.ToString(a.Region), ImageID: aws.ToString(a.Image), AccountID: aws.ToString(a.AccountId)})
		}
	}
	return img
}

// inRegion returns an option that sends the call to region, or one that
// changes nothing when region does not look like an AWS region.
func inRegion[O any](region string, set func(*O, string)) func(*O) {
	if !regionPattern.MatchString(region) {
		return func(*O) {}
	}
	return func(o *O) { set(o, region) }
}

// post sends body to the webhook, reading the webhook URL on first use.
//
// When Slack answers that the webhook itself is gone (see webhookGone), the
// cached URL is dropped and the secret re-read once; a URL that changed (the
// secret was rotated) gets one more delivery. Slack accepted nothing in
// those answers, so that delivery cannot post the message twice.
func (h *Handler) post(ctx context.Context, body []byte) error {
	webhook, err := h.webhookURL(ctx)
	if err != nil {
		return err
	}
	attempts, err := h.Slack.Post(ctx, webhook, body)
	var derr *deliveryError
	if errors.As(err, &derr) && webhookGone(derr) {
		attempts, err = h.repost(ctx, webhook, body, derr)
	}
	if err != nil {
		return err
	}
	if attempts > 1 {
		slog.InfoContext(ctx, "Slack accepted the message after retries", "attempts", attempts)
	}
	return nil
}

// webhookGone reports whether Slack rejected the webhook rather than the
// message: 403 (invalid_token, action_prohibited), 404 (no_service) or 410
// (channel archived). The URL will not work again, but the secret may hold a
// new one.
func webhookGone(d *deliveryError) bool {
	if d.stopped != nil {
		return false
	}
	switch d.status {
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		return true
	}
	return false
}

// repost handles a webhook Slack rejected with first: it forgets stale,
// re-reads the secret and, when it holds a different URL, posts body there
// once (with the poster's usual retries). The new URL stays cached.
func (h *Handler) repost(ctx context.Context, stale string, body []byte, first *deliveryError) (int, error) {
	slog.WarnContext(ctx, "Slack rejected the webhook; re-reading the secret",
		"status", first.status, "error", first.msg, "secretArn", h.SecretARN)
	h.mu.Lock()
	if h.webhook == stale { // unless a concurrent post already replaced it
		h.webhook = ""
	}
	h.mu.Unlock()
	fresh, err := h.webhookURL(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w; re-reading the webhook secret failed: %w", first, err)
	}
	if fresh == stale {
		return 0, fmt.Errorf("%w; re-read webhook secret %s: its URL is unchanged", first, h.SecretARN)
	}
	slog.InfoContext(ctx, "webhook secret holds a new URL; posting to it once", "secretArn", h.SecretARN)
	attempts, err := h.Slack.Post(ctx, fresh, body)
	if err != nil {
		return attempts, fmt.Errorf("%w; re-read webhook secret %s: its new URL failed too: %w", first, h.SecretARN, err)
	}
	return attempts, nil
}

// webhookURL returns the webhook URL, reading the secret only the first
// time it succeeds in this execution environment (and again after repost
// forgets a URL Slack rejected). A failed read is not cached, so the next
// invocation tries again.
func (h *Handler) webhookURL(ctx context.Context) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.webhook != "" {
		return h.webhook, nil
	}
	out, err := h.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(h.SecretARN)})
	if err != nil {
		return "", fmt.Errorf("read webhook secret %s: %w", h.SecretARN, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("webhook secret %s has no SecretString (a binary secret is not supported)", h.SecretARN)
	}
	u, err := parseWebhookSecret(*out.SecretString)
	if err != nil {
		return "", fmt.Errorf("webhook secret %s: %w", h.SecretARN, err)
	}
	h.webhook = u
	slog.InfoContext(ctx, "webhook secret read", "secretArn", h.SecretARN, "versionId", aws.ToString(out.VersionId))
	return u, nil
}
