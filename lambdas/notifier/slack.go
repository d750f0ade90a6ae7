package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Reasons parseWebhookSecret gives. None contains any part of the secret.
var (
	errSecretEmpty        = errors.New("the secret is empty")
	errSecretJSON         = errors.New(`the secret starts with "{" but is not a JSON object whose "webhookUrl" is a string`)
	errSecretNoWebhookURL = errors.New(`the secret is a JSON object without a "webhookUrl"`)
	errURLParse           = errors.New("the webhook URL is not a valid URL")
	errURLScheme          = errors.New("the webhook URL is not an https URL")
	errURLPlainHTTP       = errors.New("the webhook URL uses plain http to a host that is not loopback (want https)")
	errURLNoHost          = errors.New("the webhook URL has no host")
	errURLUserInfo        = errors.New("the webhook URL carries user info (want https://hooks.slack.com/services/...)")
)

// parseWebhookSecret returns the webhook URL a secret holds: either the bare
// URL or a JSON object {"webhookUrl": "..."}. The URL must be https; plain
// http is accepted only for a loopback host (localhost, 127.0.0.0/8, ::1),
// which is what tests use. Errors say what is wrong and never echo the
// secret.
func parseWebhookSecret(secret string) (string, error) {
	s := strings.TrimSpace(secret)
	if s == "" {
		return "", errSecretEmpty
	}
	if strings.HasPrefix(s, "{") {
		var v struct {
			WebhookURL *string `json:"webhookUrl"`
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return "", errSecretJSON
		}
		if v.WebhookURL == nil || strings.TrimSpace(*v.WebhookURL) == "" {
			return "", errSecretNoWebhookURL
		}
		s = strings.TrimSpace(*v.WebhookURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", errURLParse
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return "", errURLPlainHTTP
	default:
		return "", errURLScheme
	}
	if u.Hostname() == "" {
		return "", errURLNoHost
	}
	if u.User != nil {
		return "", errURLUserInfo
	}
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redact removes the webhook URL, its path and query, and its last path
// segment (the token of a Slack webhook) from s.
func redact(s, webhook string) string {
	if webhook == "" {
		return s
	}
	pairs := []string{webhook, "[webhook URL]"}
	if u, err := url.Parse(webhook); err == nil {
		for _, p := range []string{u.EscapedPath(), u.Path} {
			if len(p) > 1 {
				pairs = append(pairs, p, "/[redacted]")
			}
		}
		if u.RawQuery != "" {
			pairs = append(pairs, u.RawQuery, "[redacted]")
		}
		if seg := path.Base(u.Path); len(seg) >= 8 {
			pairs = append(pairs, seg, "[redacted]")
		}
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// SlackPoster posts to a Slack incoming webhook with a bounded retry.
//
// An attempt that fails with a network error, HTTP 429 or a 5xx is retried,
// up to MaxAttempts in all. The wait before a retry is Backoff, doubled after
// each attempt, or for a 429 the Retry-After the server sent, at most
// MaxRetryAfter. Any other status (a 3xx, which is not followed, or a 4xx
// such as 404 no_service) will not succeed on retry and fails at once.
type SlackPoster struct {
	Client        *http.Client
	MaxAttempts   int
	Backoff       time.Duration
	MaxRetryAfter time.Duration
}

// Defaults of newSlackPoster. With them a delivery that fails every attempt
// takes at most 3 × 6s + 0.5s + 1s (or up to 2 × 5s when Slack sends
// Retry-After), so the function's timeout should be at least 30 seconds.
const (
	defaultAttempts      = 3
	defaultBackoff       = 500 * time.Millisecond
	defaultMaxRetryAfter = 5 * time.Second
	attemptTimeout       = 6 * time.Second
)

func newSlackPoster() *SlackPoster {
	return &SlackPoster{
		Client: &http.Client{
			Timeout: attemptTimeout,
			// A webhook does not redirect; following one would send the
			// message somewhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		MaxAttempts:   defaultAttempts,
		Backoff:       defaultBackoff,
		MaxRetryAfter: defaultMaxRetryAfter,
	}
}

// deliveryError is a failed delivery. Its message never contains the
// webhook URL.
type deliveryError struct {
	msg      string // redacted description of the last attempt
	status   int    // HTTP status of the last attempt, 0 when there was no response
	retry    bool   // whether the last attempt's failure was worth retrying
	attempts int
	stopped  error // the context error that cut the retries short, if any
}

func (e *deliveryError) Error() string {
	switch {
	case e.stopped != nil:
		return fmt.Sprintf("slack webhook: stopped after %d attempt(s) (%v); last: %s", e.attempts, e.stopped, e.msg)
	case !e.retry:
		return fmt.Sprintf("slack webhook: %s; not retried", e.msg)
	}
	return fmt.Sprintf("slack webhook: %d attempts failed; last: %s", e.attempts, e.msg)
}

// Unwrap exposes only the context error, never the HTTP client's error
// (which embeds the URL).
func (e *deliveryError) Unwrap() error { return e.stopped }

// Post delivers body to webhook and returns how many attempts it took.
func (p *SlackPoster) Post(ctx context.Context, webhook string, body []byte) (int, error) {
	for attempt := 1; ; attempt++ {
		wait, derr := p.try(ctx, webhook, body)
		if derr == nil {
			return attempt, nil
		}
		derr.attempts = attempt
		if !derr.retry || attempt >= p.MaxAttempts {
			return attempt, derr
		}
		if wait <= 0 {
			wait = p.Backoff << (attempt - 1)
		}
		slog.WarnContext(ctx, "Slack webhook attempt failed; retrying",
			"attempt", attempt, "maxAttempts", p.MaxAttempts, "status", derr.status, "error", derr.msg, "retryIn", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			derr.stopped = ctx.Err()
			return attempt, derr
		case <-t.C:
		}
	}
}

// try makes one attempt. For a 429 it also returns the wait the server
// asked for.
func (p *SlackPoster) try(ctx context.Context, webhook string, body []byte) (time.Duration, *deliveryError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return 0, &deliveryError{msg: "cannot build the request: " + redact(err.Error(), webhook)}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.Client.Do(req)
	if err != nil {
		// *url.Error prints the URL; keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, &deliveryError{msg: "request failed: " + redact(err.Error(), webhook), retry: ctx.Err() == nil}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	msg := "HTTP " + resp.Status
	if s := strings.TrimSpace(string(snippet)); s != "" {
		msg += ": " + quoteShort([]byte(s))
	}
	derr := &deliveryError{msg: redact(msg, webhook), status: resp.StatusCode}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		derr.retry = true
		return retryAfter(resp.Header.Get("Retry-After"), p.MaxRetryAfter), derr
	case resp.StatusCode >= 500:
		derr.retry = true
	}
	return 0, derr
}

// retryAfter parses a Retry-After header (seconds or an HTTP date), capped at
// max. It returns 0 when the header is absent or unusable.
func retryAfter(h string, max time.Duration) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(h); err == nil {
		if secs > int(max/time.Second) {
			return max
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	}
	if d <= 0 {
		return 0
	}
	return min(d, max)
}
