package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/platform-eng/golden-ami/internal/contract"
)

// FuzzDecide feeds arbitrary bytes through the same JSON decoding the Lambda
// runtime does, then through the trigger's decision. It must never panic,
// never both ignore and fail, and only ever act on a Create or Update of our
// parameter without an exception.
func FuzzDecide(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"source":"aws.ssm","detail-type":"Parameter Store Change","detail":{"name":"/golden-ami/upstream","operation":"Update","exception":""}}`))
	f.Add([]byte(`{"source":"aws.ssm","detail-type":"Parameter Store Change","detail":[]}`))
	h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return // the Lambda runtime rejects it before the handler runs
		}
		change, reason, err := h.decide(ev)
		if err != nil {
			if reason != "" {
				t.Fatalf("decide returned both an error (%v) and a reason (%q)", err, reason)
			}
			return
		}
		if reason != "" {
			switch change.Operation {
			case "", contract.OperationCreate, contract.OperationUpdate, contract.OperationDelete, contract.OperationLabelParameterVersion:
			default:
				t.Fatalf("decide ignored an unknown operation instead of rejecting it: %+v", change)
			}
			return
		}
		if change.Name != paramName || change.Exception != "" ||
			(change.Operation != contract.OperationCreate && change.Operation != contract.OperationUpdate) {
			t.Fatalf("decide would act on %+v", change)
		}
	})
}
