package gobuild

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/golden-ami/internal/contract"
)

func TestBuildsEveryFunctionForLinuxArm64(t *testing.T) {
	t.Setenv("GOLDEN_AMI_BUILD_CACHE", t.TempDir())
	b := &builder{built: map[string]Result{}}
	seen := map[string]bool{}
	for _, path := range contract.Functions {
		r, err := b.build(path, "arm64")
		if err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(r.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != "bootstrap" {
			t.Fatalf("%s: asset dir %s holds %v, want only bootstrap", path, r.Dir, entries)
		}
		f, err := elf.Open(filepath.Join(r.Dir, "bootstrap"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
			t.Errorf("%s: machine %v type %v, want an AArch64 executable", path, f.Machine, f.Type)
		}
		if syms, _ := f.Symbols(); len(syms) != 0 {
			t.Errorf("%s: %d symbols, want a stripped binary (-s -w)", path, len(syms))
		}
		f.Close()
		if len(r.Hash) != 64 || seen[r.Hash] {
			t.Errorf("%s: hash %q is not a unique SHA-256", path, r.Hash)
		}
		seen[r.Hash] = true
	}
	// The first request built all of them in one go build.
	if len(b.built) != len(contract.Functions) {
		t.Errorf("built %d functions, want all %d in one batch", len(b.built), len(contract.Functions))
	}
}

func TestRebuildIsCachedAndStable(t *testing.T) {
	t.Setenv("GOLDEN_AMI_BUILD_CACHE", t.TempDir())
	first, err := (&builder{built: map[string]Result{}}).build(contract.FunctionImageBuilderTrigger, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(filepath.Join(first.Dir, "bootstrap"))
	// A new process (a fresh builder) with the same cache and unchanged
	// code: same content-addressed asset, untouched.
	second, err := (&builder{built: map[string]Result{}}).build(contract.FunctionImageBuilderTrigger, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(second.Dir, "bootstrap"))
	if first != second {
		t.Errorf("second build %+v differs from first %+v", second, first)
	}
	if !os.SameFile(before, after) { // go build may touch an up-to-date binary; it never rewrites it in place
		t.Error("the published asset was replaced although the code did not change")
	}
	if !strings.HasSuffix(first.Dir, first.Hash[:16]) {
		t.Errorf("asset dir %s is not addressed by its hash %s", first.Dir, first.Hash)
	}
}

func TestBuildFailuresNameTheProblem(t *testing.T) {
	t.Setenv("GOLDEN_AMI_BUILD_CACHE", t.TempDir())
	b := &builder{built: map[string]Result{}}
	if _, err := b.build(contract.FunctionLatestAMI, "riscv64"); err == nil || err.Error() != `gobuild: architecture "riscv64" is not supported (want "arm64" or "amd64")` {
		t.Errorf("unsupported arch: %v", err)
	}
	_, err := b.build("github.com/platform-eng/golden-ami/lambdas/nosuchfunction", "arm64")
	if err == nil || !strings.Contains(err.Error(), "gobuild: go build") || !strings.Contains(err.Error(), "nosuchfunction") {
		t.Errorf("missing package: %v", err)
	}
}

// Another team's module that requires ours but does not list the function
// as a tool has no go.sum entries for its dependencies: the error says how
// to fix that.
func TestBuildInAModuleWithoutToolsExplainsTheFix(t *testing.T) {
	t.Setenv("GOLDEN_AMI_BUILD_CACHE", t.TempDir())
	t.Setenv("GOFLAGS", "-mod=readonly")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	consumer := t.TempDir()
	goMod := "module example.com/consumer\n\ngo 1.26.8\n\nrequire " + contract.ModulePath + " v0.0.0-00010101000000-000000000000\n\nreplace " + contract.ModulePath + " => " + root + "\n"
	if err := os.WriteFile(filepath.Join(consumer, "go.mod"), []byte(goMod), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(consumer)
	_, err = (&builder{built: map[string]Result{}}).build(contract.FunctionLatestAMI, "arm64")
	want := "The app's module must list the functions it deploys as tools, so `go mod tidy` records their dependencies. Add to its go.mod, then run `go mod tidy`:\n\ttool (\n\t\t" + contract.FunctionLatestAMI + "\n\t)\n"
	if err == nil || !strings.Contains(err.Error(), "missing go.sum entry") || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("got %v\nwant it to end with:\n%s", err, want)
	}
}

func TestABrokenBatchMemberDoesNotBreakTheOthers(t *testing.T) {
	t.Setenv("GOLDEN_AMI_BUILD_CACHE", t.TempDir())
	saved := contract.Functions
	contract.Functions = append([]string{contract.ModulePath + "/lambdas/nosuchfunction"}, saved...)
	t.Cleanup(func() { contract.Functions = saved })
	r, err := (&builder{built: map[string]Result{}}).build(contract.FunctionLatestAMI, "arm64")
	if err != nil {
		t.Fatalf("building latestami failed because another batch member does not build: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "bootstrap")); err != nil {
		t.Error(err)
	}
}

func TestBinaryName(t *testing.T) {
	if got := binaryName("github.com/x/y-z/lambdas/fn_1"); got != "github.com_x_y-z_lambdas_fn_1" {
		t.Errorf("binaryName = %q", got)
	}
}

func TestBuildIDMatchesGoToolBuildID(t *testing.T) {
	t.Setenv("GOLDEN_AMI_BUILD_CACHE", t.TempDir())
	b := &builder{built: map[string]Result{}}
	r, err := b.build(contract.Functions[0], "arm64")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(r.Dir, "bootstrap")
	want, err := exec.Command("go", "tool", "buildid", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := buildID(bin)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.TrimSpace(string(want)) {
		t.Fatalf("buildID = %q, go tool buildid = %q", got, strings.TrimSpace(string(want)))
	}
}

func TestBuildIDOfANonGoFileNamesTheProblem(t *testing.T) {
	notELF := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(notELF, []byte(strings.Repeat("#!/bin/sh\n", 16)), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := buildID(notELF); err == nil || !strings.Contains(err.Error(), "bad magic number") {
		t.Fatalf("buildID(shell script) error = %v, want the ELF parser's bad magic number", err)
	}
	// An ELF without Go's note: the test binary's own ELF is a Go binary,
	// so rename its section in a copy.
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(self, []byte(".note.go.buildid")) {
		t.Fatal("test binary has no .note.go.buildid section name")
	}
	self = bytes.ReplaceAll(self, []byte(".note.go.buildid"), []byte(".note.go.buildix"))
	noNote := filepath.Join(t.TempDir(), "nonote")
	if err := os.WriteFile(noNote, self, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := buildID(noNote); err == nil || err.Error() != "no .note.go.buildid section" {
		t.Fatalf("buildID(no note) error = %v, want \"no .note.go.buildid section\"", err)
	}
}

// A prefetch and the constructs' requests that follow it share one go build.
func TestPrefetchAndBuildShareOneBuild(t *testing.T) {
	t.Setenv("GOLDEN_AMI_BUILD_CACHE", t.TempDir())
	b := &builder{built: map[string]Result{}}
	b.prefetch("arm64")
	for _, path := range contract.Functions {
		r, err := b.build(path, "arm64")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(r.Dir, "bootstrap")); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	b.mu.Lock() // the prefetch may still hold it, if it lost the race
	defer b.mu.Unlock()
	if b.builds != 1 {
		t.Errorf("go build ran %d times, want 1", b.builds)
	}
}

// A directory another synth was handed recently may not have been copied
// into its cloud assembly yet: prune leaves it, and removes only old ones
// beyond the two newest.
func TestPruneLeavesDirectoriesInUse(t *testing.T) {
	assets := t.TempDir()
	now := time.Now()
	ages := map[string]time.Duration{"fn-a": 0, "fn-b": time.Minute, "fn-c": 10 * time.Minute, "fn-d": 59 * time.Minute, "fn-e": 2 * time.Hour, "fn-f": 3 * time.Hour, "fn-g": 4 * time.Hour}
	for dir, age := range ages {
		p := filepath.Join(assets, dir)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	prune(assets, "fn", filepath.Join(assets, "fn-g"), now)
	var left []string
	entries, _ := os.ReadDir(assets)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	// fn-g is the one being staged; fn-a to fn-d were handed out within the
	// hour; fn-e and fn-f are old and not among the two newest others.
	if want := []string{"fn-a", "fn-b", "fn-c", "fn-d", "fn-g"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
