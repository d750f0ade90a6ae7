package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/platform-eng/golden-ami/internal/contract"
)

func addSamples(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Records":[{"Sns":{"Message":"{\"arn\":\"x\",\"semver\":1e999,\"state\":{\"status\":\"AVAILABLE\"}}"}}]}`))
	f.Add([]byte(`{"detail-type":null,"Records":null}`))
}

// FuzzDecodeEvent checks the SNS/EventBridge sniffing decoder: no panic, and
// a decoded notification is exactly one of: image references, or a reason
// to ignore. Every reference names an image build version and a documented
// status, whichever channel it came from.
func FuzzDecodeEvent(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		n, err := decodeEvent(raw)
		if err != nil {
			return
		}
		if (len(n.Refs) > 0) == (n.Ignore != "") {
			t.Fatalf("decoded %+v: want exactly one kind", n)
		}
		for _, ref := range n.Refs {
			if !imageBuildVersionARN.MatchString(ref.ARN) || contract.CheckImageStatus("status", ref.Status) != nil {
				t.Fatalf("bad image reference %+v", ref)
			}
		}
	})
}

// FuzzHandle runs whole invocations against in-memory fakes: no panic, and
// whatever the input, nothing but valid AMI ids is ever written.
func FuzzHandle(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		w := newWorld("")
		_, _ = w.h.Handle(context.Background(), raw)
		for region, p := range w.regions {
			if p.exists && contract.ValidateAMIID(p.value) != nil {
				t.Fatalf("wrote %q in %s", p.value, region)
			}
		}
	})
}
