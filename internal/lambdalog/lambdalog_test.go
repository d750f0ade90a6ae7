package lambdalog

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// The handler reads AWS_LAMBDA_LOG_FORMAT when the package initialises, so
// the assertion runs in a child process started with the variable set.
func TestSetupLogsJSONWithRequestID(t *testing.T) {
	if os.Getenv("LAMBDALOG_CHILD") == "1" {
		Setup()
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
			AwsRequestID:       "req-123",
			InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
		})
		slog.InfoContext(ctx, "decided", "decision", "unchanged")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSetupLogsJSONWithRequestID$")
	cmd.Env = append(os.Environ(), "LAMBDALOG_CHILD=1", "AWS_LAMBDA_LOG_FORMAT=JSON")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var found bool
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if rec["message"] != "decided" {
			continue
		}
		found = true
		if rec["requestId"] != "req-123" {
			t.Errorf("requestId = %v, want req-123 (line %s)", rec["requestId"], line)
		}
		if rec["functionArn"] != "arn:aws:lambda:us-east-1:123456789012:function:f" {
			t.Errorf("functionArn = %v (line %s)", rec["functionArn"], line)
		}
		if rec["decision"] != "unchanged" {
			t.Errorf("decision = %v (line %s)", rec["decision"], line)
		}
	}
	if !found {
		t.Fatalf("no JSON record with message \"decided\" in child output:\n%s", out)
	}
}
