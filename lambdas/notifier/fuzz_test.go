package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
)

func addSeedMessages(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var ev struct {
			Records []struct {
				Sns struct{ Message string }
			}
		}
		if json.Unmarshal(b, &ev) == nil {
			for _, r := range ev.Records {
				f.Add(r.Sns.Message)
			}
		}
	}
	for _, s := range []string{
		``, `null`, `[]`, `"x"`, `{}`,
		`{"source":"aws.codepipeline","detail-type":"CodePipeline Pipeline Execution State Change","account":"1","region":"us-east-1","detail":{"pipeline":"<!channel>","execution-id":"e|x>","state":"FAILED"}}`,
		`{"source":"aws.codepipeline","detailType":"CodePipeline Action Execution State Change","account":"1","region":"x","detail":{"pipeline":"p","execution-id":"e","state":"STARTED","stage":"s","action":"a","type":{"category":"Approval"}}}`,
		`{"source":"aws.imagebuilder","detail-type":"EC2 Image Builder Image State Change","resources":["arn:aws:imagebuilder:us-east-1:123456789012:image/a/1.0.0/1"],"detail":{"state":{"status":"FAILED","reason":"<@U123> & more"}}}`,
		`{"arn":"arn:aws:imagebuilder:us-east-1:123456789012:image/a/1.0.0/1","state":{"status":"AVAILABLE"},"semver":123456789012345678901234567890,"outputResources":{"amis":[{"region":"<x>","image":"ami-1"}]}}`,
		`{"version":"1.0","requestContext":{"functionArn":"f","condition":"Success","approximateInvokeCount":1e400},"responsePayload":"just a string"}`,
		`{"AlarmName":"a","NewStateValue":"ALARM","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:a|b"}`,
		// Found by the fuzzer in CI: a region that is not a code went into the console's host name.
		`{"detail-type":"CodePipeline Pipeline Execution State Change","source":"aws.codepipeline","account":"0","region":"%","detail":{"pipeline":"0","execution-id":"0","state":"FAILED"}}`,
		`{"AlarmName":"a","NewStateValue":"ALARM","Region":"evil.example/x"}`,
	} {
		f.Add(s)
	}
}

// FuzzDecodeMessage feeds arbitrary SNS messages through the decoder and,
// when it decides to post, through composition (with AWS answering or
// failing) and rendering. It must never panic, never both skip and fail,
// always produce valid Slack JSON within Slack's limits, and never let a
// message smuggle Slack markup (<!channel>, <@user>, links) out of an event:
// every "<" in the rendered text opens a link the notifier built.
func FuzzDecodeMessage(f *testing.F) {
	addSeedMessages(f)
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.Cleanup(func() { slog.SetDefault(prev) })
	var c calls
	answering := &Handler{
		Images:     imagesAre(&c, map[string]*ibtypes.Image{imageARN4: imageAvailable4()}),
		Executions: executionIs(&c, failedExecution(), nil),
	}
	failing := &Handler{
		Images:     imagesAre(&c, nil),
		Executions: executionIs(&c, nil, errors.New("AccessDenied")),
	}
	f.Fuzz(func(t *testing.T, msg string) {
		n, err := decodeMessage(msg)
		set := 0
		for _, p := range []bool{n.Pipeline != nil, n.Image != nil, n.Trigger != nil, n.Alarm != nil} {
			if p {
				set++
			}
		}
		switch {
		case err != nil:
			if n.Skip != "" || set != 0 || n.Kind == "" || n.Kind == KindUnknown {
				t.Fatalf("error %v with notification %+v", err, n)
			}
			return
		case n.Skip != "":
			if set != 0 || n.Kind == "" {
				t.Fatalf("skipped (%s) with notification %+v", n.Skip, n)
			}
			return
		case set != 1:
			t.Fatalf("to post, %d payloads set: %+v", set, n)
		}
		switch n.Kind {
		case KindPipelineExecution, KindApproval:
			e := n.Pipeline
			if e.Pipeline == "" || e.ExecutionID == "" || e.State == "" || e.Account == "" || e.Region == "" ||
				(n.Kind == KindApproval && (e.Stage == "" || e.Action == "")) {
				t.Fatalf("%s missing a required field: %+v", n.Kind, e)
			}
		case KindImageStateChange, KindImageNotification:
			if n.Image == nil || !finalImageStatus(n.Image.Status) || !imageBuildVersionARN.MatchString(n.Image.ARN) {
				t.Fatalf("%s posts a non-final or unnamed image: %+v", n.Kind, n.Image)
			}
		case KindTriggerDecision:
			if n.Trigger == nil || n.Trigger.FunctionARN == "" || n.Trigger.Condition == "" {
				t.Fatalf("destination record without function or condition: %+v", n.Trigger)
			}
		case KindAlarm:
			if n.Alarm == nil || n.Alarm.Name == "" || n.Alarm.NewState == "" {
				t.Fatalf("alarm without name or state: %+v", n.Alarm)
			}
		default:
			t.Fatalf("posting unexpected kind %q", n.Kind)
		}
		for _, h := range []*Handler{answering, failing} {
			m := h.compose(context.Background(), n)
			body, err := render(m)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			checkPayload(t, body)
		}
	})
}

func checkPayload(t *testing.T, body []byte) {
	t.Helper()
	var p slackPayload
	if !json.Valid(body) || json.Unmarshal(body, &p) != nil {
		t.Fatalf("invalid JSON: %s", body)
	}
	if strings.TrimSpace(p.Text) == "" || len(p.Blocks) == 0 {
		t.Fatalf("empty message: %s", body)
	}
	texts := []string{p.Text}
	for _, b := range p.Blocks {
		if b.Text != nil {
			texts = append(texts, b.Text.Text)
		}
		if len(b.Fields) > maxFields {
			t.Fatalf("%d fields, Slack allows %d", len(b.Fields), maxFields)
		}
		for _, f := range b.Fields {
			if utf8.RuneCountInString(f.Text) > maxFieldRunes {
				t.Fatalf("field of %d runes", utf8.RuneCountInString(f.Text))
			}
			texts = append(texts, f.Text)
		}
		for _, e := range b.Elements {
			texts = append(texts, e.Text)
		}
	}
	for _, s := range texts {
		if utf8.RuneCountInString(s) > maxTextRunes {
			t.Fatalf("text of %d runes", utf8.RuneCountInString(s))
		}
		for i := strings.Index(s, "<"); i >= 0; i = nextIndex(s, "<", i) {
			rest := s[i:]
			end := strings.Index(rest, ">")
			if !strings.HasPrefix(rest, "<https://") || end < 0 {
				t.Fatalf("markup not built by the notifier in %q", s)
			}
			target, _, ok := strings.Cut(rest[1:end], "|")
			if u, err := url.Parse(target); !ok || err != nil || u.Scheme != "https" || strings.ContainsAny(target, " \n<") {
				t.Fatalf("bad link %q in %q", rest[:end+1], s)
			}
		}
	}
}

func nextIndex(s, sub string, after int) int {
	j := strings.Index(s[after+1:], sub)
	if j < 0 {
		return -1
	}
	return after + 1 + j
}

// FuzzParseWebhookSecret checks that a rejected secret is described by one
// of the fixed reasons (so no part of it can reach a log), and an accepted
// one is an https URL or plain http to a loopback host.
func FuzzParseWebhookSecret(f *testing.F) {
	for _, s := range []string{"https://hooks.slack.com/services/T0/B0/x", `{"webhookUrl":"https://h/x"}`, "http://127.0.0.1:1/x",
		"http://example.com/x", "", "{", `{"webhookUrl":1}`, "https://u:p@h/x", "https:///x", "%", "http://[::1]/"} {
		f.Add(s)
	}
	reasons := []error{errSecretEmpty, errSecretJSON, errSecretNoWebhookURL, errURLParse, errURLScheme, errURLPlainHTTP, errURLNoHost, errURLUserInfo}
	f.Fuzz(func(t *testing.T, secret string) {
		got, err := parseWebhookSecret(secret)
		if err != nil {
			for _, r := range reasons {
				if err == r {
					return
				}
			}
			t.Fatalf("error %q is not one of the fixed reasons", err)
		}
		u, perr := url.Parse(got)
		if perr != nil || u.Hostname() == "" || u.User != nil ||
			!(u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname()))) {
			t.Fatalf("accepted %q", got)
		}
	})
}
