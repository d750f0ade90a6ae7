// Command lambdabench measures the golden-AMI Lambda functions against the
// acceptance criteria of their issue and exits non-zero when one is missed:
//
//   - the linux/arm64 bootstrap, built with the production command, is at
//     most 12 MB and a deflate zip of it at most 5 MB;
//   - cold start, from exec until the process's first GET
//     /2018-06-01/runtime/invocation/next reaches the Runtime API, is at
//     most 10 ms (90th percentile of -runs starts);
//   - VmRSS after -invocations invocations of one process is at most 40 MB.
//
// MB is 10^6 bytes throughout.
//
// Each function runs as a real process against an in-process fake Lambda
// Runtime API (internal/bench/runtimeapi) and an in-process fakeaws server
// reached through AWS_ENDPOINT_URL, with the environment Lambda gives a
// provided.al2023 function. Every invocation must return a response (not an
// error) of the expected shape, and the fake's state is checked afterwards
// (parameters written, executions started), so the numbers are for
// functions that did their work.
//
// Cold start and RSS are measured on a build for the host architecture
// with the production flags; sizes are of the arm64 build. When
// qemu-aarch64 is on PATH (see -qemu) the arm64 build is also run under
// emulation, for information only.
//
// Usage:
//
//	go run ./internal/bench/lambdabench [-runs 20] [-invocations 100] [-functions amimonitor,latestami] [-qemu auto|on|off]
//
// or scripts/bench-lambdas.sh with the same flags.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Limits from the issue. MB is 10^6 bytes.
const (
	MaxBinaryBytes = 12_000_000
	MaxZipBytes    = 5_000_000
	MaxColdStart   = 10 * time.Millisecond
	MaxRSSBytes    = 40_000_000
)

type options struct {
	runs        int
	invocations int
	functions   []string
	qemu        string
	keep        string
	timeout     time.Duration
}

func main() {
	var o options
	var functions string
	flag.IntVar(&o.runs, "runs", 20, "cold starts per function (after one untimed warm-up start)")
	flag.IntVar(&o.invocations, "invocations", 100, "invocations of one process before reading its RSS")
	flag.StringVar(&functions, "functions", "", "comma-separated functions to measure (default: all, and the baseline)")
	flag.StringVar(&o.qemu, "qemu", "auto", "also run the arm64 build under qemu-aarch64, for information: auto (if on PATH), on, off")
	flag.StringVar(&o.keep, "keep", "", "directory to keep the built binaries and zips in (default: a temporary directory, removed)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to wait for a start or an invocation")
	flag.Parse()
	if functions != "" {
		o.functions = strings.Split(functions, ",")
	}
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lambdabench:", err)
		if errors.Is(err, errLimits) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

// errLimits reports that the measurement worked and a limit was missed.
var errLimits = errors.New("limits exceeded")

// runner is one way of executing a built function.
type runner struct {
	Label  string // e.g. "linux/amd64 native"
	GOARCH string
	Prefix []string // e.g. the qemu binary
	// Checked runners' numbers are held to the limits.
	Checked bool
}

// result is everything measured for one function.
type result struct {
	Scenario  scenario
	Binary    int64 // arm64
	Zip       int64 // arm64
	HostBytes int64
	Runs      []runResult
}

type runResult struct {
	Runner      runner
	Cold        stats
	FirstInvoke stats
	InitRSS     procStatus
	After       procStatus
	Invocations int
}

func run(ctx context.Context, o options, w io.Writer) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("needs linux (reads /proc/<pid>/status); this is %s", runtime.GOOS)
	}
	if o.runs < 1 || o.invocations < 1 {
		return errors.New("-runs and -invocations must be at least 1")
	}
	selected, err := selectScenarios(o.functions)
	if err != nil {
		return err
	}
	moduleDir, err := goEnv(ctx, "GOMOD")
	if err != nil {
		return err
	}
	moduleDir = filepath.Dir(moduleDir)
	goVersion, err := goEnv(ctx, "GOVERSION")
	if err != nil {
		return err
	}

	runners := []runner{{Label: "linux/" + runtime.GOARCH + " native", GOARCH: runtime.GOARCH, Checked: true}}
	var qemuVersion string
	if o.qemu != "off" {
		q := findQEMU()
		switch {
		case q != "":
			runners = append(runners, runner{Label: "linux/arm64 qemu-user", GOARCH: "arm64", Prefix: []string{q}})
			qemuVersion = firstLine(exec.CommandContext(ctx, q, "--version"))
		case o.qemu == "on":
			return errors.New("-qemu on: neither qemu-aarch64 nor qemu-aarch64-static is on PATH")
		}
	}

	dir := o.keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "lambdabench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}

	fmt.Fprintf(w, "# lambdabench\n\n")
	fmt.Fprintf(w, "- command: `%s`\n", strings.Join(append([]string{"go run ./internal/bench/lambdabench"}, os.Args[1:]...), " "))
	fmt.Fprintf(w, "- date: %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "- go: %s, host linux/%s, nproc %d, CPU %s, kernel %s\n", goVersion, runtime.GOARCH, runtime.NumCPU(), cpuModel(), kernel())
	if qemuVersion != "" {
		fmt.Fprintf(w, "- qemu: %s\n", qemuVersion)
	}
	fmt.Fprintf(w, "- runs: %d cold starts (after 1 untimed warm-up), %d invocations for RSS\n\n", o.runs, o.invocations)

	var results []result
	for _, s := range selected {
		r, err := measure(ctx, o, moduleDir, dir, s, runners)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		results = append(results, r)
	}
	failures := report(w, results)
	if len(failures) > 0 {
		return fmt.Errorf("%w:\n  %s", errLimits, strings.Join(failures, "\n  "))
	}
	return nil
}

func selectScenarios(names []string) ([]scenario, error) {
	all := scenarios()
	if len(names) == 0 {
		return all, nil
	}
	var out []scenario
	for _, n := range names {
		found := false
		for _, s := range all {
			if s.Name == strings.TrimSpace(n) {
				out, found = append(out, s), true
			}
		}
		if !found {
			var known []string
			for _, s := range all {
				known = append(known, s.Name)
			}
			return nil, fmt.Errorf("unknown function %q (want one of %s)", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// measure builds one function and runs it with every runner.
func measure(ctx context.Context, o options, moduleDir, dir string, s scenario, runners []runner) (result, error) {
	res := result{Scenario: s}
	bins := map[string]string{}
	for _, arch := range []string{"arm64", runtime.GOARCH} {
		if bins[arch] != "" {
			continue
		}
		out := filepath.Join(dir, s.Name, arch, "bootstrap")
		size, err := build(ctx, moduleDir, arch, s.Package, out)
		if err != nil {
			return res, err
		}
		bins[arch] = out
		if arch == "arm64" {
			res.Binary = size
			zf, err := os.Create(filepath.Join(dir, s.Name, arch, "function.zip"))
			if err != nil {
				return res, err
			}
			res.Zip, err = zipSize(out, zf)
			if cerr := zf.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return res, fmt.Errorf("zip: %w", err)
			}
		}
		if arch == runtime.GOARCH {
			res.HostBytes = size
		}
	}
	for _, rn := range runners {
		argv := append(append([]string(nil), rn.Prefix...), bins[rn.GOARCH])
		rr, err := runFunction(o, s, rn, argv, dir)
		if err != nil {
			return res, fmt.Errorf("%s: %w", rn.Label, err)
		}
		res.Runs = append(res.Runs, rr)
	}
	return res, nil
}

// runFunction times o.runs cold starts (each process answers one
// invocation, then is killed), then drives one process through
// o.invocations invocations and reads its memory.
func runFunction(o options, s scenario, rn runner, argv []string, dir string) (runResult, error) {
	rr := runResult{Runner: rn, Invocations: o.invocations}

	f := newFake()
	defer f.close()
	s.Setup(f.Server)
	env := lambdaEnv(s, f.URL(), dir)
	var cold, first []time.Duration
	n := 0
	for i := -1; i < o.runs; i++ { // i == -1 is the warm-up
		p, err := startProc(argv, env, functionARN(s))
		if err != nil {
			return rr, err
		}
		d, err := p.coldStart(o.timeout)
		if err != nil {
			p.stop()
			return rr, fmt.Errorf("start %d: %w", i+1, err)
		}
		payload, check := s.Event(f.Server, n)
		inv, err := p.invoke(payload, check, o.timeout)
		p.stop()
		if err != nil {
			return rr, fmt.Errorf("start %d, first invocation: %w", i+1, err)
		}
		n++
		if i >= 0 {
			cold = append(cold, d)
			first = append(first, inv.Duration)
		}
	}
	if err := s.Verify(f.Server, n); err != nil {
		return rr, fmt.Errorf("after the cold starts: %w", err)
	}
	rr.Cold, rr.FirstInvoke = summarize(cold), summarize(first)

	g := newFake()
	defer g.close()
	s.Setup(g.Server)
	p, err := startProc(argv, lambdaEnv(s, g.URL(), dir), functionARN(s))
	if err != nil {
		return rr, err
	}
	defer p.stop()
	if _, err := p.coldStart(o.timeout); err != nil {
		return rr, err
	}
	if rr.InitRSS, err = readProcStatus(p.cmd.Process.Pid); err != nil {
		return rr, err
	}
	for i := 0; i < o.invocations; i++ {
		payload, check := s.Event(g.Server, i)
		if _, err := p.invoke(payload, check, o.timeout); err != nil {
			return rr, fmt.Errorf("invocation %d of %d: %w", i+1, o.invocations, err)
		}
	}
	// The process is now blocked in its next call, as Lambda freezes it.
	if rr.After, err = readProcStatus(p.cmd.Process.Pid); err != nil {
		return rr, err
	}
	if err := s.Verify(g.Server, o.invocations); err != nil {
		return rr, fmt.Errorf("after %d invocations: %w", o.invocations, err)
	}
	return rr, nil
}

// report prints the tables and returns one line per missed limit.
func report(w io.Writer, results []result) []string {
	var failures []string
	mark := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "**OVER**"
	}

	fmt.Fprintf(w, "## Size (linux/arm64, production build)\n\n")
	fmt.Fprintf(w, "| function | bootstrap | zip (deflate %d) | limits (%s / %s) | host bootstrap |\n", ZipLevel, mb(MaxBinaryBytes), mb(MaxZipBytes))
	fmt.Fprintf(w, "|---|---:|---:|---|---:|\n")
	for _, r := range results {
		verdict := "reference"
		if r.Scenario.Limits {
			okBin, okZip := r.Binary <= MaxBinaryBytes, r.Zip <= MaxZipBytes
			verdict = mark(okBin) + " / " + mark(okZip)
			if !okBin {
				failures = append(failures, fmt.Sprintf("%s: arm64 bootstrap is %s, limit %s", r.Scenario.Name, mb(r.Binary), mb(MaxBinaryBytes)))
			}
			if !okZip {
				failures = append(failures, fmt.Sprintf("%s: arm64 zip is %s, limit %s", r.Scenario.Name, mb(r.Zip), mb(MaxZipBytes)))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.Scenario.Name, mb(r.Binary), mb(r.Zip), verdict, mb(r.HostBytes))
	}

	fmt.Fprintf(w, "\n## Cold start and memory\n\n")
	fmt.Fprintf(w, "Cold start: exec until the first GET .../invocation/next arrives. 1st invoke: next handed the event until the response arrived, in a fresh process. RSS from /proc/<pid>/status.\n\n")
	fmt.Fprintf(w, "| function | run on | cold start median | p90 (limit %s) | min..max | 1st invoke median | VmRSS after init | VmRSS after N invocations (limit %s) | VmHWM |\n", ms(MaxColdStart), mb(MaxRSSBytes))
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		for _, rr := range r.Runs {
			checked := r.Scenario.Limits && rr.Runner.Checked
			coldCol, rssCol := ms(rr.Cold.P90), mb(rr.After.VmRSS)
			if checked {
				okCold, okRSS := rr.Cold.P90 <= MaxColdStart, rr.After.VmRSS <= MaxRSSBytes
				coldCol += " " + mark(okCold)
				rssCol += " " + mark(okRSS)
				if !okCold {
					failures = append(failures, fmt.Sprintf("%s: cold start p90 is %s (median %s), limit %s", r.Scenario.Name, ms(rr.Cold.P90), ms(rr.Cold.Median), ms(MaxColdStart)))
				}
				if !okRSS {
					failures = append(failures, fmt.Sprintf("%s: VmRSS after %d invocations is %s, limit %s", r.Scenario.Name, rr.Invocations, mb(rr.After.VmRSS), mb(MaxRSSBytes)))
				}
			}
			label := rr.Runner.Label
			if !checked {
				label += " (info)"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s..%s | %s | %s | %s (N=%d) | %s |\n",
				r.Scenario.Name, label, ms(rr.Cold.Median), coldCol, ms(rr.Cold.Min), ms(rr.Cold.Max),
				ms(rr.FirstInvoke.Median), mb(rr.InitRSS.VmRSS), rssCol, rr.Invocations, mb(rr.After.VmHWM))
		}
	}
	fmt.Fprintln(w)
	if len(failures) == 0 {
		fmt.Fprintf(w, "All limits met.\n")
	} else {
		fmt.Fprintf(w, "Limits exceeded:\n\n")
		for _, f := range failures {
			fmt.Fprintf(w, "- %s\n", f)
		}
	}
	return failures
}

func mb(b int64) string { return fmt.Sprintf("%.2f MB", float64(b)/1e6) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func goEnv(ctx context.Context, key string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", key, err)
	}
	v := strings.TrimSpace(string(out))
	if v == "" || v == os.DevNull {
		return "", fmt.Errorf("go env %s is empty; run inside the module", key)
	}
	return v, nil
}

func findQEMU() string {
	for _, name := range []string{"qemu-aarch64", "qemu-aarch64-static"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func firstLine(cmd *exec.Cmd) string {
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
