package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// FuzzInvokePayload feeds arbitrary payloads through aws-lambda-go's
// reflection handler: the monitor ignores its input, so every payload must
// lead to the same decision, without an error or a panic.
func FuzzInvokePayload(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join("testdata", "scheduled-event.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(sample), "{}", "", "null", `{"detail":`, "\xff"} {
		f.Add([]byte(s))
	}
	want := fmt.Sprintf(`{"changed":true,"previous":%q,"current":%q,"source":"elasticbeanstalk:arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.10.0"}`, amiOld, amiNew)
	f.Fuzz(func(t *testing.T, payload []byte) {
		h := &Handler{ParameterName: paramName, Upstream: upstreamOf(amiNew), Params: &fakeSSM{getParameter: holding(amiOld)}, Now: func() time.Time { return fixedNow }}
		out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("Invoke(%q): %v", payload, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Fatalf("Invoke(%q) = %s", payload, got)
		}
	})
}

// FuzzParseVersion checks the Elastic Beanstalk version parser and the
// ordering built on it: no panic, and a total order (reflexive,
// antisymmetric).
func FuzzParseVersion(f *testing.F) {
	for _, s := range [][2]string{{"4.10.0", "4.9.1"}, {"4.10", "4.10.0"}, {"", "1"}, {"99999999999999999999.1", "1.2.3"}, {"1..2", "-1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := parseVersion(a)
		vb, errB := parseVersion(b)
		if errA != nil || errB != nil {
			return
		}
		if compareVersions(va, va) != 0 {
			t.Fatalf("compareVersions(%q, %q) != 0", a, a)
		}
		if compareVersions(va, vb) != -compareVersions(vb, va) {
			t.Fatalf("compareVersions(%q, %q) is not antisymmetric", a, b)
		}
	})
}
