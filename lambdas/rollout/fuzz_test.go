package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/platform-eng/golden-ami/internal/contract"
)

// FuzzDecide feeds arbitrary bytes through the JSON decoding the Lambda
// runtime does, then through the function's event decision. It must never
// panic, never both ignore and fail, and act only on the schedule or on a
// Create or Update of our parameter without an exception, watched by name
// or, shared from another account, by ARN.
func FuzzDecide(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"source":"aws.ssm","detail-type":"Parameter Store Change","detail":{"name":"/golden-ami/latest","operation":"Update","exception":""}}`))
	f.Add([]byte(`{"source":"aws.ssm","detail-type":"Parameter Store Change","detail":[]}`))
	f.Add([]byte(`{"source":"aws.events","detail-type":"Scheduled Event","detail":null}`))
	f.Add([]byte(`{"source":"aws.ssm","detail-type":"Parameter Store Change","account":"444455556666","region":"us-east-1","detail":{"name":"/golden-ami/latest","operation":"Create"}}`))
	const sharedARN = "arn:aws:ssm:us-east-1:444455556666:parameter/golden-ami/latest"
	f.Fuzz(func(t *testing.T, payload []byte) {
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return // the Lambda runtime rejects it before the handler runs
		}
		for _, ref := range []string{paramName, sharedARN} {
			decideOnce(t, &Handler{ParameterName: ref}, ev)
		}
	})
}

// decideOnce checks the invariants of one decision by h, which watches
// paramName by name or, shared by ARN, in account 444455556666 and us-east-1.
func decideOnce(t *testing.T, h *Handler, ev events.CloudWatchEvent) {
	t.Helper()
	trigger, reason, err := h.decide(ev)
	switch {
	case err != nil && (reason != "" || trigger != ""):
		t.Fatalf("decide returned an error (%v) with a reason (%q) or trigger (%q)", err, reason, trigger)
	case err != nil:
		return
	case reason != "" && trigger != "":
		t.Fatalf("decide both ignored (%q) and triggered (%q)", reason, trigger)
	case reason != "":
		return
	case trigger == triggerSchedule:
		if ev.Source != contract.SourceEvents || ev.DetailType != contract.DetailTypeScheduledEvent {
			t.Fatalf("schedule trigger from %s/%q", ev.Source, ev.DetailType)
		}
	case trigger == triggerParameterChange:
		change, err := decodeDetail(ev.Detail)
		sameOwner := h.ParameterName == paramName ||
			((ev.AccountID == "" || ev.AccountID == "444455556666") && (ev.Region == "" || ev.Region == "us-east-1"))
		if err != nil || change.Name != paramName || !sameOwner || change.Exception != "" ||
			(change.Operation != contract.OperationCreate && change.Operation != contract.OperationUpdate) ||
			ev.Source != contract.SourceSSM || ev.DetailType != contract.DetailTypeParameterChange {
			t.Fatalf("watching %s, decide would act on %s/%q from %q in %q: %+v (%v)", h.ParameterName, ev.Source, ev.DetailType, ev.AccountID, ev.Region, change, err)
		}
	default:
		t.Fatalf("decide returned neither an error, a reason nor a known trigger: %q", trigger)
	}
}
