// Package gobuild builds Go Lambda functions for provided.al2023 by import
// path, the way the constructs bundle them: `go build <import path>` run in
// the CDK app's own module, so a construct imported from another team's
// module cache builds from that team's module graph. No Docker.
//
// Binaries are built into a per-user cache with stable paths. `go build`
// does not relink an output that is up to date, so repeated synths cost a
// quick up-to-date check instead of a link. The first request for one of
// this module's functions builds all of them in one `go build`, which links
// them in parallel. A file lock keeps concurrent synths (parallel test
// packages) from writing the same binary at once.
package gobuild

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/platform-eng/golden-ami/internal/contract"
)

// Flags are the production build flags of every function.
var Flags = []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w"}

// Result is one built function.
type Result struct {
	// Dir holds exactly one file, "bootstrap": the asset to upload.
	Dir string
	// Hash identifies the binary's content: a digest of Go's build ID.
	Hash string
}

type builder struct {
	mu     sync.Mutex
	built  map[string]Result // by arch + import path
	builds int               // go build runs, for tests
}

var defaultBuilder = &builder{built: map[string]Result{}}

// Build builds the main package at importPath for linux/<arch> ("arm64" or
// "amd64") and returns its asset directory. It is safe to call from many
// constructs; each function is built once per process.
func Build(importPath, arch string) (Result, error) {
	return defaultBuilder.build(importPath, arch)
}

// Prefetch starts building this module's functions for linux/<arch> in the
// background and returns at once. A CDK app calls it before it starts jsii,
// so the build (or the up-to-date check) overlaps Node's start instead of
// following it; Build then waits for it and returns its results. It reports
// no error: when the prefetch fails, Build builds again and reports that.
func Prefetch(arch string) { defaultBuilder.prefetch(arch) }

func (b *builder) prefetch(arch string) {
	go func() { _, _ = b.build(contract.Functions[0], arch) }()
}

func (b *builder) build(importPath, arch string) (Result, error) {
	if arch != "arm64" && arch != "amd64" {
		return Result{}, fmt.Errorf("gobuild: architecture %q is not supported (want \"arm64\" or \"amd64\")", arch)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.built[arch+" "+importPath]; ok {
		return r, nil
	}
	batch := []string{importPath}
	if slices.Contains(contract.Functions, importPath) {
		batch = contract.Functions // build all of ours in one go build
	}
	b.builds++
	results, err := buildBatch(batch, arch)
	if err != nil && len(batch) > 1 {
		// One broken function must not break the others: build this one alone.
		b.builds++
		results, err = buildBatch([]string{importPath}, arch)
	}
	if err != nil {
		return Result{}, err
	}
	for path, r := range results {
		b.built[arch+" "+path] = r
	}
	return results[importPath], nil
}

func buildBatch(importPaths []string, arch string) (map[string]Result, error) {
	root, err := cacheRoot()
	if err != nil {
		return nil, err
	}
	binDir := filepath.Join(root, "bin-linux-"+arch)
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("gobuild: %w", err)
	}
	unlock, err := lock(filepath.Join(root, "lock"))
	if err != nil {
		return nil, fmt.Errorf("gobuild: lock %s: %w", root, err)
	}
	defer unlock()

	goCmd, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("gobuild: building %s needs the go command on PATH: %w", strings.Join(importPaths, ", "), err)
	}
	// With several packages, -o names a directory and each binary takes its
	// package's last path element; build them one name each.
	out := binDir + string(filepath.Separator)
	if len(importPaths) == 1 {
		out = filepath.Join(binDir, binaryName(importPaths[0]))
	}
	args := append(append([]string{"build"}, Flags...), "-o", out)
	args = append(args, importPaths...)
	cmd := exec.Command(goCmd, args...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gobuild: go %s (in %s): %w\n%s%s", strings.Join(args, " "), workingDir(), err, output.String(), hint(output.String(), importPaths))
	}

	results := make(map[string]Result, len(importPaths))
	for _, p := range importPaths {
		bin := filepath.Join(binDir, binaryName(p))
		if len(importPaths) > 1 {
			bin = filepath.Join(binDir, filepath.Base(p))
		}
		r, err := stage(root, arch, p, bin)
		if err != nil {
			return nil, err
		}
		results[p] = r
	}
	return results, nil
}

// stage publishes bin as <assets>/<name>-<hash>/bootstrap. The directory
// is content-addressed and never changes once written, so a concurrent
// synth copying an older asset can never see a half-replaced file. The hash
// is derived from Go's build ID, which changes whenever the binary does.
func stage(root, arch, importPath, bin string) (Result, error) {
	id, err := buildID(bin)
	if err != nil {
		return Result{}, fmt.Errorf("gobuild: read the build ID of %s for %s: %w", bin, importPath, err)
	}
	sum := sha256.Sum256(append([]byte(importPath+" linux/"+arch+" "), id...))
	hash := hex.EncodeToString(sum[:])
	assets := filepath.Join(root, "assets-linux-"+arch)
	// No dots: CDK would stage "github.com_..." as a directory with an extension.
	name := strings.ReplaceAll(binaryName(importPath), ".", "_")
	dir := filepath.Join(assets, name+"-"+hash[:16])
	target := filepath.Join(dir, "bootstrap")
	if _, err := os.Stat(target); err == nil {
		// Handed out again: not a candidate for another synth's prune.
		now := time.Now()
		os.Chtimes(dir, now, now)
	} else {
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return Result{}, fmt.Errorf("gobuild: %w", err)
		}
		if err := os.Link(bin, filepath.Join(tmp, "bootstrap")); err != nil {
			if err := copyFile(bin, filepath.Join(tmp, "bootstrap")); err != nil {
				return Result{}, fmt.Errorf("gobuild: stage %s: %w", importPath, err)
			}
		}
		if err := os.Rename(tmp, dir); err != nil {
			return Result{}, fmt.Errorf("gobuild: stage %s: %w", importPath, err)
		}
		prune(assets, name, dir, time.Now())
	}
	return Result{Dir: dir, Hash: hash}, nil
}

// buildID reads the Go build ID from the ELF note the linker writes
// (section .note.go.buildid: name "Go", type 4), as `go tool buildid`
// prints it, without starting a process per function on every synth.
func buildID(bin string) ([]byte, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return nil, errors.New("no .note.go.buildid section")
	}
	note, err := sec.Data()
	if err != nil {
		return nil, err
	}
	const header = 12 // namesz, descsz, type: 4 bytes each
	if len(note) < header+4 {
		return nil, fmt.Errorf(".note.go.buildid is %d bytes, too short", len(note))
	}
	bo := f.ByteOrder
	namesz, descsz, typ := bo.Uint32(note[0:]), bo.Uint32(note[4:]), bo.Uint32(note[8:])
	if namesz != 4 || typ != 4 || string(note[header:header+4]) != "Go\x00\x00" || int(descsz) > len(note)-header-4 || descsz == 0 {
		return nil, fmt.Errorf(".note.go.buildid is not a Go build ID note (namesz %d, descsz %d, type %d)", namesz, descsz, typ)
	}
	return note[header+4 : header+4+int(descsz)], nil
}

// pruneAfter is how long an asset directory stays after it was last
// handed out. Another synth (another checkout, a parallel test package)
// may have been handed a directory a moment ago and not copied it into its
// cloud assembly yet; a directory in use must never go.
const pruneAfter = time.Hour

// prune removes a function's asset directories that are neither keep nor
// among the two newest others, and that nobody was handed for pruneAfter.
func prune(assets, name, keep string, now time.Time) {
	matches, _ := filepath.Glob(filepath.Join(assets, name+"-*"))
	type entry struct {
		path string
		mod  time.Time
	}
	var dirs []entry
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.IsDir() && m != keep && !strings.HasSuffix(m, ".tmp") {
			dirs = append(dirs, entry{m, fi.ModTime()})
		}
	}
	slices.SortFunc(dirs, func(a, b entry) int { return b.mod.Compare(a.mod) })
	for i, d := range dirs {
		if i >= 2 && now.Sub(d.mod) > pruneAfter {
			os.RemoveAll(d.path)
		}
	}
}

// hint explains the usual cause of a failed build in another team's
// module: its go.sum lacks the function's dependencies, because nothing in
// that module imports a Lambda's main package.
func hint(output string, importPaths []string) string {
	if !strings.Contains(output, "missing go.sum entry") {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nThe app's module must list the functions it deploys as tools, so `go mod tidy` records their dependencies. Add to its go.mod, then run `go mod tidy`:\n\ttool (\n")
	for _, p := range importPaths {
		b.WriteString("\t\t" + p + "\n")
	}
	b.WriteString("\t)\n")
	return b.String()
}

// binaryName turns an import path into a file name: every character
// outside [A-Za-z0-9._-] becomes "_".
func binaryName(importPath string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, importPath)
}

func cacheRoot() (string, error) {
	if dir := os.Getenv("GOLDEN_AMI_BUILD_CACHE"); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "golden-ami", "lambda-builds"), nil
}

func workingDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	return wd
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}
