package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// webhookPath is the path of the fake Slack incoming webhook, shaped like a
// real one (/services/<team>/<bot>/<token>).
const webhookPath = "/services/T0BENCH00/B0BENCH00/Bench0Webhook0Token0000"

// slackWebhook stands in for a Slack incoming webhook on a loopback address
// (the notifier accepts plain http only there). Like Slack it answers a JSON
// POST to its path whose "text" is not empty with 200 "ok", and it keeps
// every body it accepted. Anything else is answered as Slack would (404
// no_service for another path, 400 invalid_payload for a bad body) and
// counted as rejected, so the notifier's invocation fails.
type slackWebhook struct {
	srv *httptest.Server

	mu       sync.Mutex
	posts    [][]byte
	rejected int
}

func newSlackWebhook() *slackWebhook {
	h := &slackWebhook{}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serveHTTP))
	return h
}

// URL is the webhook URL the notifier's secret holds.
func (h *slackWebhook) URL() string { return h.srv.URL + webhookPath }

func (h *slackWebhook) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	h.mu.Lock()
	defer h.mu.Unlock()
	var p struct {
		Text string `json:"text"`
	}
	switch {
	case r.URL.Path != webhookPath:
		h.rejected++
		http.Error(w, "no_service", http.StatusNotFound)
	case err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		json.Unmarshal(body, &p) != nil || p.Text == "":
		h.rejected++
		http.Error(w, "invalid_payload", http.StatusBadRequest)
	default:
		h.posts = append(h.posts, body)
		_, _ = io.WriteString(w, "ok")
	}
}

// Posts returns the bodies accepted so far, in order, and how many requests
// were rejected.
func (h *slackWebhook) Posts() (posts [][]byte, rejected int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.posts...), h.rejected
}

func (h *slackWebhook) close() { h.srv.Close() }

// webhooks gives every fake of a scenario its own slackWebhook, so posts
// are counted per fake exactly as the fake counts AWS calls.
type webhooks struct {
	mu sync.Mutex
	m  map[*fakeaws.Server]*slackWebhook
}

func newWebhooks() *webhooks { return &webhooks{m: map[*fakeaws.Server]*slackWebhook{}} }

// start starts the webhook of f.
func (w *webhooks) start(f *fakeaws.Server) *slackWebhook {
	h := newSlackWebhook()
	w.mu.Lock()
	defer w.mu.Unlock()
	if old := w.m[f]; old != nil {
		old.close()
	}
	w.m[f] = h
	return h
}

// of returns the webhook of f, or an error if it has none.
func (w *webhooks) of(f *fakeaws.Server) (*slackWebhook, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h, ok := w.m[f]
	if !ok {
		return nil, fmt.Errorf("no Slack webhook was started for fake %s", f.URL())
	}
	return h, nil
}

// stop stops and forgets the webhook of f.
func (w *webhooks) stop(f *fakeaws.Server) {
	w.mu.Lock()
	h := w.m[f]
	delete(w.m, f)
	w.mu.Unlock()
	if h != nil {
		h.close()
	}
}
