package gobuild

import (
	"archive/zip"
	"debug/buildinfo"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-eng/golden-ami/internal/contract"
)

// Another team does not check this repository out: `go get` puts a
// released version in its module cache, read-only, under a versioned path,
// and no replace directive points at a working tree. The functions must
// build from that copy, with the go.mod the README tells that team to write
// (the functions listed as tools, then `go mod tidy`).
//
// The test publishes this working tree as version v0.0.1 on a file:// proxy,
// serves every other module from the local module cache's download
// directory (no network), and builds into an empty module cache.
func TestBuildsFromAnotherTeamsReadOnlyModuleCache(t *testing.T) {
	const version = "v0.0.1"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	localCache := goEnv(t, "GOMODCACHE")
	proxy := t.TempDir()
	publish(t, root, proxy, version)

	modCache := t.TempDir()
	// The module cache is read-only; make it removable again before
	// TempDir's cleanup (cleanups run last registered, first).
	t.Cleanup(func() {
		filepath.WalkDir(modCache, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	t.Setenv("GOMODCACHE", modCache)
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(localCache, "cache", "download")))
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOFLAGS", "-mod=readonly")
	t.Setenv("GOTOOLCHAIN", "local")
	t.Setenv("GOLDEN_AMI_BUILD_CACHE", t.TempDir())

	consumer := t.TempDir()
	goMod := "module example.com/webteam/consumer\n\ngo 1.26.8\n\nrequire " + contract.ModulePath + " " + version + "\n\ntool (\n\t" + strings.Join(contract.Functions, "\n\t") + "\n)\n"
	if err := os.WriteFile(filepath.Join(consumer, "go.mod"), []byte(goMod), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(consumer)
	// -e: with no network, tidy cannot fetch the test dependencies of
	// dependencies (testify, for aws-lambda-go's tests), which no build needs.
	if out, err := exec.Command("go", "mod", "tidy", "-e").CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy in the consumer's module: %v\n%s", err, out)
	}

	copyInCache := filepath.Join(modCache, contract.ModulePath+"@"+version)
	if info, err := os.Stat(filepath.Join(copyInCache, "go.mod")); err != nil || info.Mode().Perm()&0o222 != 0 {
		t.Fatalf("the module is not a read-only copy in the module cache (%v, %v): the test does not test what it says", info, err)
	}

	b := &builder{built: map[string]Result{}}
	for _, fn := range contract.Functions {
		r, err := b.build(fn, "arm64")
		if err != nil {
			t.Fatalf("%s from the module cache: %v", fn, err)
		}
		bi, err := buildinfo.ReadFile(filepath.Join(r.Dir, "bootstrap"))
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		if bi.Path != fn || bi.Main.Path != contract.ModulePath || bi.Main.Version != version || bi.Main.Replace != nil {
			t.Errorf("%s was built from %s %s (replace %v), want %s %s from the module cache", fn, bi.Main.Path, bi.Main.Version, bi.Main.Replace, contract.ModulePath, version)
		}
	}
	if b.builds != 1 {
		t.Errorf("%d go build runs, want the five functions built in one", b.builds)
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// publish writes the module at root, as `git ls-files` lists it, to a
// GOPROXY directory as version: the zip holds what the go command would
// put in a module zip (nested modules left out).
func publish(t *testing.T, root, proxy, version string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v (the test publishes the tracked files of a clone)", err)
	}
	files := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	nested := map[string]bool{}
	for _, f := range files {
		if dir := filepath.Dir(f); filepath.Base(f) == "go.mod" && dir != "." {
			nested[dir] = true
		}
	}
	dir := filepath.Join(proxy, contract.ModulePath, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	zf, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	added := 0
files:
	for _, f := range files {
		for d := filepath.Dir(f); d != "."; d = filepath.Dir(d) {
			if nested[d] {
				continue files
			}
		}
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err) // a tracked file deleted in the working tree
		}
		w, err := zw.Create(contract.ModulePath + "@" + version + "/" + filepath.ToSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		added++
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	if added == 0 {
		t.Fatal("no files to publish")
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		version + ".mod":  string(goMod),
		version + ".info": `{"Version":"` + version + `","Time":"2026-11-01T00:00:00Z"}`,
		"list":            version + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
