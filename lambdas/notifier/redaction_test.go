package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// captureLogs sends slog's default logger, at debug level, to a buffer for
// the rest of the test.
func captureLogs(t *testing.T) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}

// The webhook URL is a credential: whatever happens, it appears in no log
// record, no returned error and no result.
func TestWebhookURLNeverLoggedOrReturned(t *testing.T) {
	logs := captureLogs(t)
	var leaks []string // everything the function said, besides its logs
	var secrets []string

	run := func(name string, secretValue func(string) string, prepare func(*fakeaws.Server, *slackServer, *Handler), script ...slackResponse) {
		t.Run(name, func(t *testing.T) {
			srv, slack, h := setupIntegration(t, secretValue, script...)
			secrets = append(secrets, slack.webhook(), strings.TrimPrefix(slack.webhook(), "http://"))
			if prepare != nil {
				prepare(srv, slack, h)
			}
			for _, ev := range []string{"codepipeline-execution-failed.json", "imagebuilder-state-available.json", "alarm-dlq-alarm.json"} {
				res, err := h.Handle(context.Background(), loadEvent(t, ev))
				if err != nil {
					leaks = append(leaks, err.Error())
				}
				for _, r := range res.Records {
					leaks = append(leaks, r.Reason)
				}
			}
		})
	}
	run("success", bareURL, nil)
	run("500 then success", bareURL, nil, slackResponse{status: 500, body: "rollup_error"})
	run("429 then success", bareURL, nil, slackResponse{status: 429, body: "rate_limited", retryAfter: "1"})
	run("permanent 500", bareURL, nil, slackResponse{status: 500}, slackResponse{status: 500}, slackResponse{status: 500},
		slackResponse{status: 500}, slackResponse{status: 500}, slackResponse{status: 500},
		slackResponse{status: 500}, slackResponse{status: 500}, slackResponse{status: 500})
	run("404", bareURL, nil, slackResponse{status: 404, body: "no_service"}, slackResponse{status: 404, body: "no_service"}, slackResponse{status: 404, body: "no_service"})
	run("redirect", bareURL, nil, slackResponse{status: 302, location: "https://elsewhere.example.com/"})
	run("unreachable", bareURL, func(_ *fakeaws.Server, s *slackServer, _ *Handler) { s.Close() })
	run("AWS reads fail", bareURL, func(srv *fakeaws.Server, _ *slackServer, _ *Handler) {
		srv.Inject(fakeaws.Fault{Operation: "GetPipelineExecution", Code: "AccessDeniedException", Times: 10})
		srv.Inject(fakeaws.Fault{Operation: "GetImage", Status: 404, Code: "ResourceNotFoundException", Times: 10})
	})
	run("secret as JSON", func(w string) string { return `{"webhookUrl":"` + w + `"}` }, nil)
	// Secrets that are rejected: their value must not be echoed either.
	run("plain http to a real host", func(w string) string {
		return strings.Replace(w, "127.0.0.1", "hooks.example.com", 1)
	}, nil)
	run("JSON that does not parse", func(w string) string { return `{"webhookUrl":"` + w }, nil)
	run("user info", func(w string) string { return strings.Replace(w, "http://", "https://"+webhookTok+"@", 1) }, nil)

	out := logs.String()
	// The capture works and covers the interesting paths.
	for _, want := range []string{
		`"msg":"posted to Slack"`,
		`"msg":"Slack webhook attempt failed; retrying"`,
		`"msg":"GetPipelineExecution failed; posting without the commit from the API"`,
		`"msg":"GetImage failed; posting without the AMI ids"`,
		`"msg":"webhook secret read"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	if len(leaks) < 30 {
		t.Errorf("collected %d errors and reasons, want the failures of every path", len(leaks))
	}
	all := out + "\n" + strings.Join(leaks, "\n")
	for _, s := range append(secrets, webhookPath, webhookTok, "hooks.example.com") {
		if strings.Contains(all, s) {
			t.Errorf("%q appears in the logs or errors", s)
		}
	}
	if t.Failed() {
		t.Logf("errors and reasons:\n%s", strings.Join(leaks, "\n"))
	}
}
