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
// (parameters written, executions and instance refreshes started, Slack
// posts received), so the numbers are for functions that did their work.
//
// Cold start and RSS are measured on a build for the host architecture
// with the production flags; sizes are of the arm64 build. When
// qemu-aarch64 is on PATH (see -qemu) the arm64 build is also run under
// emulation, for information only. Cold starts are interleaved: each round
// starts every function once, so a burst of load on the machine spreads
// over all of them. The report also gives each function's package-init
// time from GODEBUG=inittrace=1 (see -inittrace), which is most of the
// difference between a function and the aws-lambda-go-only baseline.
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
	"maps"
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
	initTraces  int
	env         map[string]string // overrides of every function's environment; "" removes
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
	flag.IntVar(&o.initTraces, "inittrace", 11, "starts per function with GODEBUG=inittrace=1 for the package-init table (0: skip)")
	var env string
	flag.StringVar(&env, "env", "", "comma-separated NAME=VALUE overrides of every function's environment, for experiments; NAME= removes NAME (-env GOMAXPROCS= runs the Go runtime's default)")
	flag.Parse()
	if functions != "" {
		o.functions = strings.Split(functions, ",")
	}
	var err error
	if o.env, err = parseEnvOverrides(env); err != nil {
		fmt.Fprintln(os.Stderr, "lambdabench:", err)
		os.Exit(2)
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
	Init      initSummary
	Runs      []runResult
}

type runResult struct {
	Runner      runner
	Cold        stats
	ColdCPU     stats // CPU time of the process until its first next
	ColdWait    stats // time it waited for a CPU until then
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
	for i := range selected {
		env := maps.Clone(selected[i].Env)
		maps.Copy(env, o.env)
		selected[i].Env = env
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
	fmt.Fprintf(w, "- runs: %d cold starts per function and runner (after 1 untimed warm-up; functions interleaved round by round), %d invocations for RSS\n", o.runs, o.invocations)
	loadBefore, psiBefore := loadAvg(), cpuPressure()

	results, err := measureAll(ctx, o, moduleDir, dir, selected, runners)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "- load average before / after: %s / %s; CPU pressure (PSI some) before / after: %s / %s\n\n",
		loadBefore, loadAvg(), psiBefore, cpuPressure())
	failures := report(w, results)
	if len(failures) > 0 {
		return fmt.Errorf("%w:\n  %s", errLimits, strings.Join(failures, "\n  "))
	}
	return nil
}

// parseEnvOverrides reads -env: NAME=VALUE items separated by commas.
func parseEnvOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for _, item := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(item, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("-env: %q is not NAME=VALUE (NAME= removes NAME)", item)
		}
		out[name] = value
	}
	return out, nil
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

// measureAll builds every function, then times the cold starts round by
// round, each round starting every function on every runner once, so a
// burst of noise on the machine spreads over all of them instead of
// landing on one. Then it drives one process per function and runner
// through o.invocations invocations for the memory numbers.
func measureAll(ctx context.Context, o options, moduleDir, dir string, selected []scenario, runners []runner) ([]result, error) {
	results := make([]result, len(selected))
	var targets []*target
	defer func() {
		for _, t := range targets {
			t.close()
		}
	}()
	for i, s := range selected {
		results[i].Scenario = s
		bins, err := buildAll(ctx, moduleDir, dir, s, runners, &results[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		if o.initTraces > 0 {
			env := lambdaEnv(s, "http://127.0.0.1:9", dir)
			if results[i].Init, err = traceInit(bins[runtime.GOARCH], env, o.initTraces); err != nil {
				return nil, fmt.Errorf("%s: inittrace: %w", s.Name, err)
			}
		}
		for _, rn := range runners {
			argv := append(append([]string(nil), rn.Prefix...), bins[rn.GOARCH])
			targets = append(targets, newTarget(s, rn, argv, dir))
		}
	}
	for round := 0; round <= o.runs; round++ { // round 0 is the warm-up
		for _, t := range targets {
			if err := t.coldRun(o.timeout, round > 0); err != nil {
				return nil, fmt.Errorf("%s on %s, start %d: %w", t.s.Name, t.rn.Label, round, err)
			}
		}
	}
	k := 0
	for i := range selected {
		for range runners {
			t := targets[k]
			k++
			rr, err := t.finish(o)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", t.s.Name, t.rn.Label, err)
			}
			results[i].Runs = append(results[i].Runs, rr)
		}
	}
	return results, nil
}

// buildAll builds s for arm64 (size and zip recorded in res) and for every
// runner's architecture, and returns GOARCH -> binary.
func buildAll(ctx context.Context, moduleDir, dir string, s scenario, runners []runner, res *result) (map[string]string, error) {
	arches := []string{"arm64", runtime.GOARCH}
	for _, rn := range runners {
		arches = append(arches, rn.GOARCH)
	}
	bins := map[string]string{}
	for _, arch := range arches {
		if bins[arch] != "" {
			continue
		}
		out := filepath.Join(dir, s.Name, arch, "bootstrap")
		size, err := build(ctx, moduleDir, arch, s.Package, out)
		if err != nil {
			return nil, err
		}
		bins[arch] = out
		if arch == runtime.GOARCH {
			res.HostBytes = size
		}
		if arch != "arm64" {
			continue
		}
		res.Binary = size
		zf, err := os.Create(filepath.Join(dir, s.Name, arch, "function.zip"))
		if err != nil {
			return nil, err
		}
		res.Zip, err = zipSize(out, zf)
		if cerr := zf.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("zip: %w", err)
		}
	}
	return bins, nil
}

// target is one function on one runner: the fake its cold starts share and
// what they measured.
type target struct {
	s    scenario
	rn   runner
	argv []string
	dir  string
	fake *fake
	env  []string
	// n counts the invocations made against fake.
	n                      int
	cold, cpu, wait, first []time.Duration
}

func newTarget(s scenario, rn runner, argv []string, dir string) *target {
	f := startFake(s)
	return &target{s: s, rn: rn, argv: argv, dir: dir, fake: f, env: lambdaEnv(s, f.URL(), dir)}
}

func (t *target) close() { t.fake.close() }

// coldRun starts a process, waits for its first next, makes one
// invocation, and kills it. timed is false for the warm-up.
func (t *target) coldRun(timeout time.Duration, timed bool) error {
	p, err := startProc(t.argv, t.env, functionARN(t.s))
	if err != nil {
		return err
	}
	defer p.stop()
	d, err := p.coldStart(timeout)
	if err != nil {
		return err
	}
	// The process now waits in next; its scheduler counters are those of
	// the cold start.
	sched, err := readSchedStat(p.cmd.Process.Pid)
	if err != nil {
		return err
	}
	payload, check := t.s.Event(t.fake.Server, t.n)
	t.n++
	inv, err := p.invoke(payload, check, timeout)
	if err != nil {
		return fmt.Errorf("first invocation: %w", err)
	}
	if timed {
		t.cold = append(t.cold, d)
		t.cpu = append(t.cpu, sched.CPU)
		t.wait = append(t.wait, sched.Wait)
		t.first = append(t.first, inv.Duration)
	}
	return nil
}

// finish checks the cold starts' work, then measures memory.
func (t *target) finish(o options) (runResult, error) {
	rr := runResult{Runner: t.rn, Invocations: o.invocations, Cold: summarize(t.cold),
		ColdCPU: summarize(t.cpu), ColdWait: summarize(t.wait), FirstInvoke: summarize(t.first)}
	if err := t.s.Verify(t.fake.Server, t.n); err != nil {
		return rr, fmt.Errorf("after the cold starts: %w", err)
	}
	var err error
	rr.InitRSS, rr.After, err = memoryRun(o, t.s, t.argv, t.dir)
	return rr, err
}

// memoryRun drives one process through o.invocations invocations against a
// fresh fake and returns its memory after init and at the end.
func memoryRun(o options, s scenario, argv []string, dir string) (initial, after procStatus, err error) {
	g := startFake(s)
	defer g.close()
	p, err := startProc(argv, lambdaEnv(s, g.URL(), dir), functionARN(s))
	if err != nil {
		return initial, after, err
	}
	defer p.stop()
	if _, err := p.coldStart(o.timeout); err != nil {
		return initial, after, err
	}
	if initial, err = readProcStatus(p.cmd.Process.Pid); err != nil {
		return initial, after, err
	}
	for i := 0; i < o.invocations; i++ {
		payload, check := s.Event(g.Server, i)
		if _, err := p.invoke(payload, check, o.timeout); err != nil {
			return initial, after, fmt.Errorf("invocation %d of %d: %w", i+1, o.invocations, err)
		}
	}
	// The process is now blocked in its next call, as Lambda freezes it.
	if after, err = readProcStatus(p.cmd.Process.Pid); err != nil {
		return initial, after, err
	}
	if err := s.Verify(g.Server, o.invocations); err != nil {
		return initial, after, fmt.Errorf("after %d invocations: %w", o.invocations, err)
	}
	return initial, after, nil
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
	fmt.Fprintf(w, "Cold start: exec until the first GET .../invocation/next arrives (wall clock). CPU and CPU wait: the process's on-CPU time and its time runnable but waiting for a CPU until then (/proc/<pid>/task/*/schedstat, medians). 1st invoke: next handed the event until the response arrived, in a fresh process. RSS from /proc/<pid>/status.\n\n")
	fmt.Fprintf(w, "| function | run on | cold start median | p90 (limit %s) | min..max | CPU | CPU wait | 1st invoke median | VmRSS after init | VmRSS after N invocations (limit %s) | VmHWM |\n", ms(MaxColdStart), mb(MaxRSSBytes))
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
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
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s..%s | %s | %s | %s | %s | %s (N=%d) | %s |\n",
				r.Scenario.Name, label, ms(rr.Cold.Median), coldCol, ms(rr.Cold.Min), ms(rr.Cold.Max),
				ms(rr.ColdCPU.Median), ms(rr.ColdWait.Median), ms(rr.FirstInvoke.Median), mb(rr.InitRSS.VmRSS), rssCol, rr.Invocations, mb(rr.After.VmHWM))
		}
	}
	fmt.Fprintln(w)

	if results[0].Init.Packages > 0 {
		fmt.Fprintf(w, "## Package init before main (host build, GODEBUG=inittrace=1, median of %d starts)\n\n", results[0].Init.Total.N)
		fmt.Fprintf(w, "| function | packages | init total | largest |\n|---|---:|---:|---|\n")
		for _, r := range results {
			var top []string
			for _, p := range r.Init.Top {
				top = append(top, fmt.Sprintf("%s %s", strings.TrimPrefix(p.Package, "github.com/aws/"), ms(p.Median)))
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s |\n", r.Scenario.Name, r.Init.Packages, ms(r.Init.Total.Median), strings.Join(top, ", "))
		}
		fmt.Fprintln(w)
	}

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

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuPressure is the "some" line of /proc/pressure/cpu: the share of time
// runnable tasks waited for a CPU, which is what makes cold starts noisy.
func cpuPressure() string {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return "unavailable"
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "some" {
		return "unavailable"
	}
	return strings.Join(f[1:3], " ")
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
