package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxSchemaSourceBytes bounds the generated source of any one
// aws-sdk-go-v2 "schemas" package a function links. Those packages build
// every shape schema of their service in package-level variables, so their
// size is their init cost before main: secretsmanager's 80 KB costs 0.2 to
// 0.3 ms, ssm's 757 KB about 2 ms (docs/lambda-benchmarks.md). The
// benchmark needs a quiet machine and is not part of the test command; this
// check is the cheap, deterministic guard against a `go get -u` quietly
// giving the cold start back.
const maxSchemaSourceBytes = 100_000

// goPackage is one line of `go list -deps` output.
type goPackage struct {
	ImportPath string
	Bytes      int64 // total size of its GoFiles
}

// largeSchemaPackages returns one message per SDK schemas package in pkgs
// whose generated source exceeds limit.
func largeSchemaPackages(function string, pkgs []goPackage, limit int64) []string {
	var out []string
	for _, p := range pkgs {
		if !strings.HasPrefix(p.ImportPath, "github.com/aws/aws-sdk-go-v2/service/") || !strings.HasSuffix(p.ImportPath, "/schemas") {
			continue
		}
		if p.Bytes > limit {
			out = append(out, fmt.Sprintf("%s links %s (%d bytes of generated schemas, limit %d): its package init "+
				"runs before main and adds to every cold start; hold that service module on its last release before "+
				"schema-based serialization (see docs/lambda-benchmarks.md)", function, p.ImportPath, p.Bytes, limit))
		}
	}
	return out
}

func TestLargeSchemaPackagesNamesTheFunctionPackageAndSize(t *testing.T) {
	pkgs := []goPackage{
		{"github.com/aws/aws-sdk-go-v2/service/ssm/schemas", 765004},
		{"github.com/aws/aws-sdk-go-v2/service/secretsmanager/schemas", 79541},
		{"github.com/aws/aws-sdk-go-v2/service/ssm", 900000}, // not a schemas package
		{"example.com/big/schemas", 900000},                  // not the SDK
	}
	got := largeSchemaPackages("lambdas/x", pkgs, maxSchemaSourceBytes)
	want := "lambdas/x links github.com/aws/aws-sdk-go-v2/service/ssm/schemas (765004 bytes of generated schemas, limit 100000)"
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Fatalf("largeSchemaPackages = %q, want one message starting %q", got, want)
	}
	if got := largeSchemaPackages("lambdas/x", pkgs[1:], maxSchemaSourceBytes); len(got) != 0 {
		t.Fatalf("below the limit: got %q, want none", got)
	}
}

// TestFunctionsLinkNoLargeSchemaPackage lists each benchmarked function's
// dependencies as the production build sees them (linux/arm64,
// lambda.norpc) and fails if one links a large generated schemas package.
func TestFunctionsLinkNoLargeSchemaPackage(t *testing.T) {
	for _, s := range scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc",
				"-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \",\"}}", s.Package)
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", s.Package, err, stderr.String())
			}
			var pkgs []goPackage
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				fields := strings.Split(sc.Text(), "\t")
				if len(fields) != 3 {
					t.Fatalf("unexpected go list line %q", sc.Text())
				}
				p := goPackage{ImportPath: fields[0]}
				if strings.HasSuffix(p.ImportPath, "/schemas") && fields[2] != "" {
					for _, f := range strings.Split(fields[2], ",") {
						fi, err := os.Stat(filepath.Join(fields[1], f))
						if err != nil {
							t.Fatal(err)
						}
						p.Bytes += fi.Size()
					}
				}
				pkgs = append(pkgs, p)
			}
			if len(pkgs) < 50 {
				t.Fatalf("go list -deps %s listed only %d packages; the check would prove nothing", s.Package, len(pkgs))
			}
			for _, msg := range largeSchemaPackages("lambdas/"+s.Name, pkgs, maxSchemaSourceBytes) {
				t.Error(msg)
			}
		})
	}
}
