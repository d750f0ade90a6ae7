package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// These tests run the production wiring (newHandler: awsconfig.Load, the
// real SDK clients and retryer, the real HTTP client) against fakeaws
// through AWS_ENDPOINT_URL, with an httptest server standing in for Slack.

const region = "us-east-1"

// integrationSecretARN is the ARN fakeaws gives the webhook secret.
var integrationSecretARN = fakeaws.SecretARN(region, "golden-ami/slack-webhook")

func setupIntegration(t *testing.T, secretValue func(webhook string) string, script ...slackResponse) (*fakeaws.Server, *slackServer, *Handler) {
	t.Helper()
	srv := fakeaws.New(t)
	srv.Setenv(t, region)
	for _, k := range []string{"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_CODEPIPELINE"} {
		t.Setenv(k, "")
	}
	slack := newSlack(t, script...)
	arn := srv.PutSecret(region, "golden-ami/slack-webhook", secretValue(slack.webhook()))
	srv.PutPipelineExecution(region, fakeaws.PipelineExecution{
		PipelineName: pipeline, ExecutionID: executionID, Status: "Failed",
		Revisions: []fakeaws.ArtifactRevision{{Name: "Source", RevisionID: commitSHA,
			RevisionSummary: `{"ProviderType":"GitHub","CommitMessage":"Pin the STIG component to 2.1.0"}`, RevisionURL: commitURL}},
	})
	srv.AddImage(fakeaws.Image{
		ARN: imageARN4, Status: "AVAILABLE", PipelineARN: "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden-ami",
		AMIs: []fakeaws.AMI{{Region: "us-east-1", ImageID: "ami-0123456789abcdef0", AccountID: "123456789012"}},
	})
	cfg, err := configFromEnv(func(string) string { return arn })
	if err != nil {
		t.Fatalf("configFromEnv: %v", err)
	}
	h, err := newHandler(context.Background(), cfg, awsconfig.WithMaxBackoff(time.Millisecond))
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	h.Slack.Backoff = time.Millisecond
	h.Slack.MaxRetryAfter = 50 * time.Millisecond
	return srv, slack, h
}

func bareURL(webhook string) string { return webhook }

func TestIntegrationPostsEveryKindAndReadsTheSecretOnce(t *testing.T) {
	srv, slack, h := setupIntegration(t, bareURL)
	// The first read is throttled; the SDK retries it.
	srv.Inject(fakeaws.Fault{Operation: "GetSecretValue", Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})

	events := []string{"codepipeline-execution-failed.json", "imagebuilder-state-available.json", "alarm-dlq-alarm.json",
		"trigger-started.json", "imagebuilder-notification-failed.json", "unknown-not-json.json"}
	for _, name := range events {
		res, err := h.Handle(context.Background(), loadEvent(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := OutcomePosted
		if strings.HasPrefix(name, "unknown") {
			want = OutcomeSkipped
		}
		if len(res.Records) != 1 || res.Records[0].Outcome != want {
			t.Errorf("%s: result %+v, want %s", name, res.Records, want)
		}
	}
	attempts, delivered := slack.counts()
	if attempts != 5 || len(delivered) != 5 {
		t.Fatalf("Slack attempts = %d, delivered = %d; want 5 and 5", attempts, len(delivered))
	}
	if got := srv.CountOK("GetSecretValue"); got != 1 {
		t.Errorf("successful GetSecretValue calls = %d, want 1 for 5 posts", got)
	}
	if got := srv.Count("GetSecretValue"); got != 2 {
		t.Errorf("GetSecretValue attempts = %d, want 2 (throttled, then read)", got)
	}
	pipe := show(t, delivered[0])
	if want := "Commit: <" + commitURL + "|9f3c1e2> Pin the STIG component to 2.1.0"; pipe.Fields[len(pipe.Fields)-1] != want {
		t.Errorf("pipeline fields = %q, want the commit from GetPipelineExecution last", pipe.Fields)
	}
	img := show(t, delivered[1])
	if img.Detail != "*AMIs*\n• us-east-1: `ami-0123456789abcdef0`" || img.Fields[3] != "Pipeline: golden-ami" {
		t.Errorf("image message = %+v, want the AMI and pipeline from GetImage", img)
	}
	if srv.CountOK("GetPipelineExecution") != 1 || srv.CountOK("GetImage") != 1 {
		t.Errorf("calls = %+v, want one GetPipelineExecution and one GetImage", srv.Calls())
	}
	for _, p := range slack.paths {
		if p != webhookPath {
			t.Errorf("posted to %q, want %q", p, webhookPath)
		}
	}
}

func TestIntegrationSecretAsJSON(t *testing.T) {
	_, slack, h := setupIntegration(t, func(w string) string { return `{"webhookUrl":"` + w + `","channel":"#golden-ami"}` })
	if _, err := h.Handle(context.Background(), loadEvent(t, "alarm-dlq-ok.json")); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if _, delivered := slack.counts(); len(delivered) != 1 {
		t.Errorf("delivered = %d, want 1", len(delivered))
	}
}

func TestIntegration500ThenSuccessDeliversOnce(t *testing.T) {
	_, slack, h := setupIntegration(t, bareURL, slackResponse{status: 500, body: "rollup_error"})
	res, err := h.Handle(context.Background(), loadEvent(t, "trigger-ignored.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if res.Records[0].Outcome != OutcomePosted {
		t.Errorf("result = %+v, want posted", res.Records)
	}
	attempts, delivered := slack.counts()
	if attempts != 2 || len(delivered) != 1 {
		t.Errorf("Slack POSTs = %d, delivered = %d; want exactly 2 POSTs and 1 message", attempts, len(delivered))
	}
}

func TestIntegration429HonoursRetryAfterCapped(t *testing.T) {
	_, slack, h := setupIntegration(t, bareURL, slackResponse{status: 429, body: "rate_limited", retryAfter: "30"})
	start := time.Now()
	if _, err := h.Handle(context.Background(), loadEvent(t, "trigger-ignored.json")); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	elapsed := time.Since(start)
	if attempts, delivered := slack.counts(); attempts != 2 || len(delivered) != 1 {
		t.Errorf("Slack POSTs = %d, delivered = %d; want 2 and 1", attempts, len(delivered))
	}
	// Retry-After: 30 is capped at MaxRetryAfter (50ms here), not ignored
	// (Backoff is 1ms) and not obeyed in full.
	if elapsed < 50*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("took %v, want about the 50ms cap", elapsed)
	}
}

func TestIntegrationPermanentFailureIsBoundedAndNamesTheStatus(t *testing.T) {
	for _, tc := range []struct {
		name         string
		script       []slackResponse
		wantAttempts int
		wantErr      string
	}{
		{
			name:         "500 every time",
			script:       []slackResponse{{status: 500, body: "rollup_error"}, {status: 503, body: "service unavailable"}, {status: 500, body: "rollup_error"}, {status: 200}},
			wantAttempts: 3,
			wantErr:      `slack webhook: 3 attempts failed; last: HTTP 500 Internal Server Error: "rollup_error"`,
		},
		{
			name:         "404 is not retried when the secret still holds the URL",
			script:       []slackResponse{{status: 404, body: "no_service"}},
			wantAttempts: 1,
			wantErr:      `slack webhook: HTTP 404 Not Found: "no_service"; not retried; re-read webhook secret ` + integrationSecretARN + ": its URL is unchanged",
		},
		{
			name:         "403 is not retried when the secret still holds the URL",
			script:       []slackResponse{{status: 403, body: "action_prohibited"}},
			wantAttempts: 1,
			wantErr:      `slack webhook: HTTP 403 Forbidden: "action_prohibited"; not retried; re-read webhook secret ` + integrationSecretARN + ": its URL is unchanged",
		},
		{
			name:         "410 is not retried when the secret still holds the URL",
			script:       []slackResponse{{status: 410, body: "channel_is_archived"}},
			wantAttempts: 1,
			wantErr:      `slack webhook: HTTP 410 Gone: "channel_is_archived"; not retried; re-read webhook secret ` + integrationSecretARN + ": its URL is unchanged",
		},
		{
			name:         "a redirect is not followed",
			script:       []slackResponse{{status: 302, location: "https://elsewhere.example.com/collect"}},
			wantAttempts: 1,
			wantErr:      `slack webhook: HTTP 302 Found; not retried`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, slack, h := setupIntegration(t, bareURL, tc.script...)
			ev := loadEvent(t, "alarm-dlq-alarm.json")
			res, err := h.Handle(context.Background(), ev)
			want := "Records[0] (SNS message " + ev.Records[0].SNS.MessageID + ", alarm): " + tc.wantErr
			if err == nil || err.Error() != want {
				t.Fatalf("error = %v\nwant %s", err, want)
			}
			if strings.Contains(err.Error(), slack.URL) || strings.Contains(err.Error(), webhookTok) {
				t.Errorf("error names the webhook: %v", err)
			}
			if res.Records[0].Outcome != OutcomeFailed || res.Records[0].Reason != tc.wantErr {
				t.Errorf("result = %+v", res.Records)
			}
			if attempts, delivered := slack.counts(); attempts != tc.wantAttempts || len(delivered) != 0 {
				t.Errorf("Slack POSTs = %d, delivered = %d; want %d and 0", attempts, len(delivered), tc.wantAttempts)
			}
		})
	}
}

func TestIntegrationSlackUnreachable(t *testing.T) {
	_, slack, h := setupIntegration(t, bareURL)
	slack.Close() // connection refused from now on
	_, err := h.Handle(context.Background(), loadEvent(t, "alarm-dlq-alarm.json"))
	if err == nil || !strings.Contains(err.Error(), "slack webhook: 3 attempts failed; last: request failed: dial tcp ") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error = %v, want 3 attempts ending in connection refused", err)
	}
	if strings.Contains(err.Error(), webhookPath) || strings.Contains(err.Error(), webhookTok) || strings.Contains(err.Error(), "http://") {
		t.Errorf("error names the webhook: %v", err)
	}
}

// The secret is read once per execution environment, across invocations;
// a failed read is not cached.
func TestIntegrationSecretReadOnceAcrossInvocations(t *testing.T) {
	srv, slack, h := setupIntegration(t, bareURL)
	srv.Inject(fakeaws.Fault{Operation: "GetSecretValue", Status: 400, Code: "AccessDeniedException", Message: "not authorized"})
	_, err := h.Handle(context.Background(), loadEvent(t, "alarm-dlq-alarm.json"))
	if err == nil || !strings.Contains(err.Error(), "read webhook secret arn:aws:secretsmanager:us-east-1:123456789012:secret:golden-ami/slack-webhook-") ||
		!strings.Contains(err.Error(), "AccessDeniedException: not authorized") {
		t.Fatalf("first invocation error = %v, want the denied read", err)
	}
	for _, name := range []string{"alarm-dlq-alarm.json", "alarm-dlq-ok.json", "trigger-started.json", "trigger-ignored.json"} {
		if _, err := h.Handle(context.Background(), loadEvent(t, name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if got := srv.Count("GetSecretValue"); got != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2 (the denied one, then one read for 4 invocations)", got)
	}
	if _, delivered := slack.counts(); len(delivered) != 4 {
		t.Errorf("delivered = %d, want 4", len(delivered))
	}
}

// CodePipeline failing to answer costs the commit, not the notification.
func TestIntegrationGetPipelineExecutionFailureStillPosts(t *testing.T) {
	srv, slack, h := setupIntegration(t, bareURL)
	srv.Inject(fakeaws.Fault{Operation: "GetPipelineExecution", Status: 400, Code: "AccessDeniedException", Message: "not authorized", Times: 10})
	if _, err := h.Handle(context.Background(), loadEvent(t, "codepipeline-execution-failed.json")); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	_, delivered := slack.counts()
	if len(delivered) != 1 {
		t.Fatalf("delivered = %d, want 1", len(delivered))
	}
	for _, f := range show(t, delivered[0]).Fields {
		if strings.HasPrefix(f, "Commit:") {
			t.Errorf("fields have %q, want no commit", f)
		}
	}
	if srv.Count("GetPipelineExecution") != 1 {
		t.Errorf("GetPipelineExecution attempts = %d, want 1 (AccessDenied is not retried)", srv.Count("GetPipelineExecution"))
	}
}

func TestIntegrationDeadlineStopsRetries(t *testing.T) {
	_, slack, h := setupIntegration(t, bareURL, slackResponse{status: 500}, slackResponse{status: 500}, slackResponse{status: 500})
	h.Slack.Backoff = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := h.Handle(ctx, loadEvent(t, "alarm-dlq-alarm.json"))
	if err == nil || !strings.Contains(err.Error(), "slack webhook: stopped after 1 attempt(s) (context deadline exceeded); last: HTTP 500 Internal Server Error") {
		t.Fatalf("error = %v, want stopped by the deadline", err)
	}
	if attempts, _ := slack.counts(); attempts != 1 {
		t.Errorf("attempts = %d, want 1", attempts)
	}
}

// A webhook rotated in Secrets Manager while the old URL is cached: Slack
// answers 404 for the old URL, the secret is read again, and the message
// goes to the new URL, once.
func TestIntegrationRotatedWebhookIsRereadOnce(t *testing.T) {
	const rotatedPath = "/services/T0GOLDEN1/B0AMI0002/Rt5uV6wX7yZ8aB9cD0eF1gH2"
	srv, slack, h := setupIntegration(t, bareURL, slackResponse{status: 200, body: "ok"}, slackResponse{status: 404, body: "no_service"})
	if _, err := h.Handle(context.Background(), loadEvent(t, "alarm-dlq-alarm.json")); err != nil {
		t.Fatalf("before the rotation: %v", err)
	}
	srv.PutSecret(region, "golden-ami/slack-webhook", slack.URL+rotatedPath)

	res, err := h.Handle(context.Background(), loadEvent(t, "alarm-dlq-ok.json"))
	if err != nil {
		t.Fatalf("after the rotation: %v", err)
	}
	if res.Records[0].Outcome != OutcomePosted {
		t.Errorf("result = %+v, want posted", res.Records)
	}
	_, delivered := slack.counts()
	if len(delivered) != 2 || !strings.HasPrefix(delivered[1].Text, ":white_check_mark: Alarm") {
		t.Errorf("delivered = %+v, want the alarm, then the OK once", delivered)
	}
	if want := []string{webhookPath, webhookPath, rotatedPath}; strings.Join(slack.paths, " ") != strings.Join(want, " ") {
		t.Errorf("POSTed to %q, want %q", slack.paths, want)
	}
	if got := srv.CountOK("GetSecretValue"); got != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2 (the first read, one re-read after the 404)", got)
	}
}

// The trigger replays a start (a redelivered Parameter Store event, or the
// same AMI written again) with the original image build, in a new SNS
// message: Slack gets that build's started line once, and a post that
// failed is not remembered, so the replay delivers it.
func TestIntegrationReplayedTriggerStartIsPostedOnce(t *testing.T) {
	const (
		startedID  = "5a1b2c0c-3c1d-5e2f-9a4b-6d7e8f9a0b0c"
		replayedID = "5a1b2c16-3c1d-5e2f-9a4b-6d7e8f9a0b16"
		started    = ":rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/7*: parameter /golden-ami/upstream version 3 is ami-0bbbbbbbbbbbbbbb0"
		replayed   = ":rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/7*: parameter /golden-ami/upstream version 4 is ami-0bbbbbbbbbbbbbbb0 (its value since version 3)"
		duplicate  = "image build arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami/1.0.0/7 was already posted as started by this execution environment (a duplicate trigger record)"
		failed     = `slack webhook: 3 attempts failed; last: HTTP 500 Internal Server Error: "rollup_error"`
	)
	for _, tc := range []struct {
		name       string
		script     []slackResponse
		events     []string // one invocation each
		want       []RecordResult
		wantPosted []string
	}{
		{
			name:   "replay after a post",
			events: []string{"trigger-started.json", "trigger-started-replayed.json"},
			want: []RecordResult{
				{MessageID: startedID, Kind: KindTriggerDecision, Outcome: OutcomePosted, Reason: started},
				{MessageID: replayedID, Kind: KindTriggerDecision, Outcome: OutcomeSkipped, Reason: duplicate},
			},
			wantPosted: []string{started},
		},
		{
			name:   "replay after a failed post, then Lambda's retry of the first",
			script: []slackResponse{{status: 500, body: "rollup_error"}, {status: 500, body: "rollup_error"}, {status: 500, body: "rollup_error"}},
			events: []string{"trigger-started.json", "trigger-started-replayed.json", "trigger-started.json"},
			want: []RecordResult{
				{MessageID: startedID, Kind: KindTriggerDecision, Outcome: OutcomeFailed, Reason: failed},
				{MessageID: replayedID, Kind: KindTriggerDecision, Outcome: OutcomePosted, Reason: replayed},
				{MessageID: startedID, Kind: KindTriggerDecision, Outcome: OutcomeSkipped, Reason: duplicate},
			},
			wantPosted: []string{replayed},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, slack, h := setupIntegration(t, bareURL, tc.script...)
			for i, name := range tc.events {
				res, err := h.Handle(context.Background(), loadEvent(t, name))
				if tc.want[i].Outcome == OutcomeFailed {
					if want := "Records[0] (SNS message " + tc.want[i].MessageID + ", trigger-decision): " + failed; err == nil || err.Error() != want {
						t.Fatalf("invocation %d (%s): error = %v\nwant %s", i, name, err, want)
					}
				} else if err != nil {
					t.Fatalf("invocation %d (%s): %v", i, name, err)
				}
				if len(res.Records) != 1 || res.Records[0] != tc.want[i] {
					t.Errorf("invocation %d (%s): result = %+v\nwant %+v", i, name, res.Records, tc.want[i])
				}
			}
			_, delivered := slack.counts()
			var got []string
			for _, p := range delivered {
				got = append(got, p.Text)
			}
			if strings.Join(got, "\n") != strings.Join(tc.wantPosted, "\n") {
				t.Errorf("posted to Slack %q, want %q", got, tc.wantPosted)
			}
		})
	}
}
