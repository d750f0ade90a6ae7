package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMESnippetCompiles type-checks the root README's "Use the
// constructs in your app" example against this module, the way another
// team would paste it, and holds it to the 15 lines the README promises.
func TestREADMESnippetCompiles(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Use the constructs in your app.*?```go\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no go block under \"## Use the constructs in your app\"")
	}
	snippet := string(m[1])
	if n := strings.Count(strings.TrimSpace(snippet), "\n") + 1; n > 15 {
		t.Errorf("the README's example is %d lines, want at most 15", n)
	}
	src := `package snippet

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/goldenfleet"
	"github.com/platform-eng/golden-ami/constructs/latestami"
)

// What the README's example takes from the app around it.
func example(stack awscdk.Stack, vpc awsec2.IVpc, http5xxAlarm awscloudwatch.IAlarm, loadBalancer awsec2.IConnectable) {
` + snippet + `}
`
	// Inside this module, so it resolves through its go.mod like the app;
	// "_" keeps ./... from ever seeing it.
	dir, err := os.MkdirTemp(".", "_readme-snippet-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "snippet.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "vet", "./"+filepath.Base(dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("the README's example does not compile against this module: %v\n%s\n--- as checked:\n%s", err, out, src)
	}
}
