package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		want stats
	}{
		{"empty", nil, stats{}},
		{"one", ms(7), stats{N: 1, Min: 7 * time.Millisecond, Median: 7 * time.Millisecond, P90: 7 * time.Millisecond, Max: 7 * time.Millisecond}},
		{"odd, unsorted", ms(5, 1, 3), stats{N: 3, Min: time.Millisecond, Median: 3 * time.Millisecond, P90: 5 * time.Millisecond, Max: 5 * time.Millisecond}},
		// Nearest rank: ceil(0.9*10) = 9th value; median of 10 is the mean of the 5th and 6th.
		{"ten", ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), stats{N: 10, Min: time.Millisecond, Median: 5500 * time.Microsecond, P90: 9 * time.Millisecond, Max: 10 * time.Millisecond}},
		// 20 runs: the 18th value, so two slow outliers do not set p90.
		{"twenty", ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 30, 40), stats{N: 20, Min: time.Millisecond, Median: time.Millisecond, P90: 2 * time.Millisecond, Max: 40 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			if got := summarize(tc.in); got != tc.want {
				t.Errorf("summarize = %+v, want %+v", got, tc.want)
			}
			if !slices.Equal(in, tc.in) {
				t.Error("summarize reordered its input")
			}
		})
	}
}

func TestParseProcStatus(t *testing.T) {
	status := "Name:\tbootstrap\nVmPeak:\t 1255140 kB\nVmHWM:\t   17912 kB\nVmRSS:\t   15908 kB\nThreads:\t5\n"
	got, err := parseProcStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if got != (procStatus{VmRSS: 15908 * 1024, VmHWM: 17912 * 1024}) {
		t.Errorf("got %+v", got)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\nVmHWM:\t1 kB\n", "VmRSS:\tx kB\nVmHWM:\t1 kB\n"} {
		if _, err := parseProcStatus(strings.NewReader(bad)); err == nil {
			t.Errorf("parseProcStatus(%q) succeeded", bad)
		}
	}
}

func TestReadProcStatusOfThisProcess(t *testing.T) {
	st, err := readProcStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.VmRSS <= 0 || st.VmHWM < st.VmRSS {
		t.Errorf("status = %+v", st)
	}
}

func TestZipHoldsOnlyAnExecutableBootstrapDeflated(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	content := bytes.Repeat([]byte("golden-ami "), 10000)
	if err := os.WriteFile(bin, content, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := zipSize(bin, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n >= int64(len(content)) {
		t.Errorf("zipSize = %d, archive is %d bytes, input %d", n, buf.Len(), len(content))
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("archive has %d files, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" || f.Method != zip.Deflate || f.Mode().Perm() != 0o755 {
		t.Errorf("entry %s method %d mode %v, want bootstrap, deflate, 0755", f.Name, f.Method, f.Mode())
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, content) {
		t.Error("entry content differs from the binary")
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{max: 5}
	io.WriteString(b, "abc")
	io.WriteString(b, "defgh")
	if got := b.String(); got != "defgh" {
		t.Errorf("tail = %q", got)
	}
}

func TestLambdaEnvIsCleanAndCarriesTheContract(t *testing.T) {
	t.Setenv("AWS_PROFILE", "from-the-host")
	s := imagebuildertriggerScenario()
	env := lambdaEnv(s, "http://127.0.0.1:1", "/tmp/x")
	has := func(kv string) bool { return slices.Contains(env, kv) }
	for _, kv := range []string{
		"IMAGE_PIPELINE_ARN=" + pipelineARN, "SSM_PARAMETER_NAME=" + upstreamParameter,
		"AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_FUNCTION_NAME=golden-ami-imagebuildertrigger", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
	} {
		if !has(kv) {
			t.Errorf("env lacks %s", kv)
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_PROFILE=") || strings.HasPrefix(kv, "AWS_LAMBDA_RUNTIME_API=") {
			t.Errorf("env has %s", kv)
		}
	}
}

func TestSelectScenarios(t *testing.T) {
	got, err := selectScenarios([]string{"latestami", " amimonitor"})
	if err != nil || len(got) != 2 || got[0].Name != "latestami" || got[1].Name != "amimonitor" {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := selectScenarios([]string{"nope"}); err == nil || !strings.Contains(err.Error(), `unknown function "nope"`) {
		t.Errorf("error = %v", err)
	}
}

func TestReportFlagsEveryExceededLimitButNotTheReference(t *testing.T) {
	over := runResult{Runner: runner{Label: "linux/amd64 native", Checked: true}, Invocations: 100,
		Cold: stats{Median: 9 * time.Millisecond, P90: 11 * time.Millisecond}, After: procStatus{VmRSS: 41_000_000}}
	info := runResult{Runner: runner{Label: "linux/arm64 qemu-user"}, Invocations: 100,
		Cold: stats{P90: time.Second}, After: procStatus{VmRSS: 90_000_000}}
	results := []result{
		{Scenario: scenario{Name: "big", Limits: true}, Binary: 12_000_001, Zip: 5_000_001, Runs: []runResult{over, info}},
		{Scenario: scenario{Name: "fine", Limits: true}, Binary: 12_000_000, Zip: 5_000_000, Runs: []runResult{info}},
		{Scenario: scenario{Name: "baseline"}, Binary: 99_000_000, Zip: 99_000_000, Runs: []runResult{over}},
	}
	var out strings.Builder
	failures := report(&out, results)
	want := []string{
		"big: arm64 bootstrap is 12.00 MB, limit 12.00 MB",
		"big: arm64 zip is 5.00 MB, limit 5.00 MB",
		"big: cold start p90 is 11.00 ms (median 9.00 ms), limit 10.00 ms",
		"big: VmRSS after 100 invocations is 41.00 MB, limit 40.00 MB",
	}
	if !slices.Equal(failures, want) {
		t.Errorf("failures =\n%s\nwant\n%s", strings.Join(failures, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(out.String(), "| fine | 12.00 MB | 5.00 MB | ok / ok |") || !strings.Contains(out.String(), "linux/arm64 qemu-user (info)") {
		t.Errorf("report:\n%s", out.String())
	}
}

// TestBaselineEndToEnd builds the baseline function (aws-lambda-go only,
// a few seconds) and runs it through the real start, invoke and memory
// path against the fake Runtime API.
func TestBaselineEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	moduleDir, err := goEnv(ctx, "GOMOD")
	if err != nil {
		t.Fatal(err)
	}
	s := baselineScenario()
	if _, err := build(ctx, filepath.Dir(moduleDir), runtime.GOARCH, s.Package, bin); err != nil {
		t.Fatal(err)
	}
	tg := newTarget(s, runner{Label: "native"}, []string{bin}, dir)
	defer tg.close()
	o := options{runs: 3, invocations: 5, timeout: 10 * time.Second}
	for i := 0; i <= o.runs; i++ {
		if err := tg.coldRun(o.timeout, i > 0); err != nil {
			t.Fatal(err)
		}
	}
	rr, err := tg.finish(o)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Cold.N != 3 || rr.Cold.Min <= 0 || rr.FirstInvoke.N != 3 || rr.ColdCPU.N != 3 || rr.ColdCPU.Min <= 0 {
		t.Errorf("cold = %+v, first invoke = %+v", rr.Cold, rr.FirstInvoke)
	}
	if rr.InitRSS.VmRSS <= 0 || rr.After.VmRSS <= 0 || rr.After.VmHWM < rr.After.VmRSS {
		t.Errorf("memory: init %+v, after %+v", rr.InitRSS, rr.After)
	}
}

// A process that exits during init fails the measurement at once, with its
// output, instead of waiting for the timeout.
func TestAnExitBeforeTheFirstNextFailsFast(t *testing.T) {
	p, err := startProc([]string{"/bin/sh", "-c", "echo invalid configuration >&2; exit 1"}, nil, "arn")
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	start := time.Now()
	_, err = p.coldStart(time.Minute)
	if err == nil || !strings.Contains(err.Error(), "invalid configuration") || time.Since(start) > 10*time.Second {
		t.Errorf("error = %v after %v", err, time.Since(start))
	}
}

func TestParseAndSummarizeInitTrace(t *testing.T) {
	run := func(schemasMS string) initTrace {
		t.Helper()
		out := "init runtime @0.030 ms, 0.45 ms clock, 0 bytes, 0 allocs\n" +
			"some other output\n" +
			"init github.com/aws/aws-sdk-go-v2/service/ssm/schemas @3.7 ms, " + schemasMS + " ms clock, 1427032 bytes, 7857 allocs\n" +
			"init main @8.4 ms, 0.12 ms clock, 21584 bytes, 180 allocs\n"
		tr, err := parseInitTrace(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	tr := run("2.8")
	if !slices.Equal(tr.Packages, []string{"runtime", "github.com/aws/aws-sdk-go-v2/service/ssm/schemas", "main"}) ||
		tr.Total() != 3370*time.Microsecond || tr.Bytes != 1427032+21584 {
		t.Errorf("trace = %+v, total %v", tr, tr.Total())
	}
	s := summarizeInit([]initTrace{run("2.8"), run("1.0"), run("2.0")}, 2)
	if s.Packages != 3 || s.Total.N != 3 || s.Total.Median != 2570*time.Microsecond {
		t.Errorf("summary = %+v", s)
	}
	want := []pkgInit{{"github.com/aws/aws-sdk-go-v2/service/ssm/schemas", 2 * time.Millisecond}, {"runtime", 450 * time.Microsecond}}
	if !slices.Equal(s.Top, want) {
		t.Errorf("top = %+v, want %+v", s.Top, want)
	}
	if _, err := parseInitTrace(strings.NewReader("no trace here\n")); err == nil {
		t.Error("parseInitTrace accepted output without init lines")
	}
}

func TestSchedStat(t *testing.T) {
	got, err := parseSchedStat("284023891 24232848 67\n")
	if err != nil || got != (schedStat{CPU: 284023891, Wait: 24232848}) {
		t.Errorf("parseSchedStat = %+v, %v", got, err)
	}
	if _, err := parseSchedStat("1 2"); err == nil {
		t.Error("parseSchedStat accepted two fields")
	}
	st, err := readSchedStat(os.Getpid())
	if err != nil || st.CPU <= 0 {
		t.Errorf("readSchedStat(self) = %+v, %v", st, err)
	}
}
