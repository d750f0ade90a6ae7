package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/platform-eng/golden-ami/internal/bench/runtimeapi"
	"github.com/platform-eng/golden-ami/internal/gobuild"
)

// buildFlags are the production build flags (gobuild.Flags, what the
// constructs bundle with), minus GOOS/GOARCH/CGO_ENABLED which go in the
// environment.
var buildFlags = append([]string{"build"}, gobuild.Flags...)

// buildCommand returns the shell form of the build, for the report.
func buildCommand(goarch, out, pkg string) string {
	words := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch, "go"}
	for _, f := range buildFlags {
		if strings.ContainsAny(f, " \t") {
			f = `"` + f + `"`
		}
		words = append(words, f)
	}
	return strings.Join(append(words, "-o", out, pkg), " ")
}

// build compiles pkg for linux/goarch with the production flags into
// out and returns its size in bytes.
func build(ctx context.Context, moduleDir, goarch, pkg, out string) (int64, error) {
	args := append(slices.Clone(buildFlags), "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s: %w\n%s", buildCommand(goarch, out, pkg), err, b)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// ZipLevel is the deflate level of the deployment zip: 6, the default of
// zlib and of Info-ZIP's zip command.
const ZipLevel = 6

// zipSize writes a zip archive holding only path, stored as "bootstrap"
// with mode 0755 and deflated at ZipLevel, to w and returns the bytes
// written.
func zipSize(path string, w io.Writer) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: w}
	zw := zip.NewWriter(cw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, ZipLevel)
	})
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()}
	hdr.SetMode(0o755)
	hdr.UncompressedSize64 = uint64(fi.Size())
	fw, err := zw.CreateHeader(hdr)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(fw, f); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// procStatus is the memory part of /proc/<pid>/status, in bytes.
type procStatus struct {
	VmRSS, VmHWM int64
}

// readProcStatus reads VmRSS and VmHWM of pid.
func readProcStatus(pid int) (procStatus, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return procStatus{}, err
	}
	defer f.Close()
	return parseProcStatus(f)
}

// parseProcStatus parses the "VmRSS:   12345 kB" lines of a status file.
func parseProcStatus(r io.Reader) (procStatus, error) {
	var st procStatus
	var seen int
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return procStatus{}, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return procStatus{}, fmt.Errorf("%s: %w", key, err)
		}
		if key == "VmRSS" {
			st.VmRSS = kb * 1024
		} else {
			st.VmHWM = kb * 1024
		}
		seen++
	}
	if err := sc.Err(); err != nil {
		return procStatus{}, err
	}
	if seen != 2 {
		return procStatus{}, errors.New("status has no VmRSS or VmHWM line")
	}
	return st, nil
}

// stats summarises durations.
type stats struct {
	N                     int
	Min, Median, P90, Max time.Duration
}

// summarize returns the minimum, median (the mean of the middle two for an
// even count), nearest-rank 90th percentile and maximum of ds.
func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	rank := int(math.Ceil(0.9 * float64(n)))
	return stats{N: n, Min: s[0], Median: med, P90: s[rank-1], Max: s[n-1]}
}

// tailBuffer keeps the last max bytes written to it, for error reports.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = slices.Delete(t.b, 0, over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.b))
}

// proc is one running function process and its own Runtime API.
type proc struct {
	cmd     *exec.Cmd
	rt      *runtimeapi.Server
	out     *tailBuffer
	started time.Time
	// ctx ends when the process exits; Invoke and WaitFirstNext then fail
	// at once instead of waiting for a timeout.
	ctx    context.Context
	cancel context.CancelCauseFunc
	exited chan struct{}
}

// startProc starts argv with env plus AWS_LAMBDA_RUNTIME_API pointing at a
// new fake Runtime API. started is taken immediately before the exec.
func startProc(argv, env []string, functionARN string) (*proc, error) {
	rt, err := runtimeapi.Start(runtimeapi.Options{FunctionARN: functionARN, Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	p := &proc{rt: rt, out: &tailBuffer{max: 8 << 10}, exited: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancelCause(context.Background())
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(slices.Clone(env), "AWS_LAMBDA_RUNTIME_API="+rt.Addr())
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		rt.Close()
		return nil, err
	}
	go func() {
		err := p.cmd.Wait()
		p.cancel(fmt.Errorf("process exited (%v); output:\n%s", err, p.out))
		close(p.exited)
	}()
	return p, nil
}

// coldStart waits for the first next and returns the time since exec.
func (p *proc) coldStart(timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	at, err := p.rt.WaitFirstNext(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w; output:\n%s", err, p.out)
	}
	return at.Sub(p.started), nil
}

// invoke sends one event and fails unless the function answered with a
// response (not an error) that check accepts.
func (p *proc) invoke(payload []byte, check func([]byte) error, timeout time.Duration) (runtimeapi.Result, error) {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	res, err := p.rt.Invoke(ctx, payload)
	if err != nil {
		return res, err
	}
	if res.Err {
		return res, fmt.Errorf("function returned an error (%s): %s", res.ErrorType, res.Body)
	}
	if check != nil {
		if err := check(res.Body); err != nil {
			return res, fmt.Errorf("unexpected response %s: %w", res.Body, err)
		}
	}
	return res, nil
}

// stop kills the process and closes its Runtime API.
func (p *proc) stop() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.rt.Close()
}

// initTrace is what GODEBUG=inittrace=1 reports for one start: the clock
// time of each package's init, in the order they ran.
type initTrace struct {
	Packages []string
	Clock    map[string]time.Duration
	Bytes    int64
}

var initLine = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes, [0-9]+ allocs$`)

// parseInitTrace reads the init lines of a GODEBUG=inittrace=1 run and
// ignores every other line.
func parseInitTrace(r io.Reader) (initTrace, error) {
	tr := initTrace{Clock: map[string]time.Duration{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		msf, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return initTrace{}, fmt.Errorf("inittrace line %q: %w", sc.Text(), err)
		}
		b, err := strconv.ParseInt(m[3], 10, 64)
		if err != nil {
			return initTrace{}, fmt.Errorf("inittrace line %q: %w", sc.Text(), err)
		}
		if _, dup := tr.Clock[m[1]]; !dup {
			tr.Packages = append(tr.Packages, m[1])
		}
		tr.Clock[m[1]] += time.Duration(math.Round(msf * float64(time.Millisecond)))
		tr.Bytes += b
	}
	if err := sc.Err(); err != nil {
		return initTrace{}, err
	}
	if len(tr.Packages) == 0 {
		return initTrace{}, errors.New("no inittrace lines")
	}
	return tr, nil
}

// Total is the summed init clock time.
func (tr initTrace) Total() time.Duration {
	var t time.Duration
	for _, d := range tr.Clock {
		t += d
	}
	return t
}

// initSummary is package init over several starts.
type initSummary struct {
	Packages int
	Total    stats
	Bytes    int64
	// Top are the packages with the largest median init time, largest first.
	Top []pkgInit
}

type pkgInit struct {
	Package string
	Median  time.Duration
}

// summarizeInit takes the median per package over traces and keeps the top n.
func summarizeInit(traces []initTrace, n int) initSummary {
	if len(traces) == 0 {
		return initSummary{}
	}
	var totals []time.Duration
	per := map[string][]time.Duration{}
	for _, tr := range traces {
		totals = append(totals, tr.Total())
		for p, d := range tr.Clock {
			per[p] = append(per[p], d)
		}
	}
	s := initSummary{Packages: len(traces[0].Packages), Total: summarize(totals), Bytes: traces[0].Bytes}
	for p, ds := range per {
		s.Top = append(s.Top, pkgInit{p, summarize(ds).Median})
	}
	slices.SortFunc(s.Top, func(a, b pkgInit) int {
		if c := cmp.Compare(b.Median, a.Median); c != 0 {
			return c
		}
		return strings.Compare(a.Package, b.Package)
	})
	if len(s.Top) > n {
		s.Top = s.Top[:n]
	}
	return s
}

// traceInit starts bin runs times with GODEBUG=inittrace=1 and env, and no
// Runtime API, so aws-lambda-go exits right after main reaches
// lambda.Start.
func traceInit(bin string, env []string, runs int) (initSummary, error) {
	var traces []initTrace
	for i := 0; i < runs; i++ {
		cmd := exec.Command(bin)
		cmd.Env = append(slices.Clone(env), "GODEBUG=inittrace=1")
		out, _ := cmd.CombinedOutput() // exits 1: no AWS_LAMBDA_RUNTIME_API
		tr, err := parseInitTrace(bytes.NewReader(out))
		if err != nil {
			return initSummary{}, fmt.Errorf("%s: %w; output:\n%s", bin, err, out)
		}
		traces = append(traces, tr)
	}
	return summarizeInit(traces, 3), nil
}

// schedStat is a process's scheduler accounting, summed over its threads.
type schedStat struct {
	// CPU is time spent running on a CPU.
	CPU time.Duration
	// Wait is time spent runnable but waiting for a CPU: what other load
	// on the machine adds to a cold start.
	Wait time.Duration
}

// readSchedStat sums /proc/<pid>/task/*/schedstat.
func readSchedStat(pid int) (schedStat, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return schedStat{}, err
	}
	var st schedStat
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread exited
		}
		if err != nil {
			return schedStat{}, err
		}
		one, err := parseSchedStat(string(b))
		if err != nil {
			return schedStat{}, err
		}
		st.CPU += one.CPU
		st.Wait += one.Wait
	}
	return st, nil
}

// parseSchedStat parses "<ns on cpu> <ns waiting> <timeslices>".
func parseSchedStat(s string) (schedStat, error) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return schedStat{}, fmt.Errorf("schedstat %q: want 3 fields", s)
	}
	run, err1 := strconv.ParseInt(f[0], 10, 64)
	wait, err2 := strconv.ParseInt(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return schedStat{}, fmt.Errorf("schedstat %q: %w", s, err)
	}
	return schedStat{CPU: time.Duration(run), Wait: time.Duration(wait)}, nil
}
