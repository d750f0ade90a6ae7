package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/golden-ami/internal/fakeaws"
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
	for _, tc := range []struct{ in, want string }{
		{"Name:\tx\n", "status has no VmRSS or VmHWM line"},
		{"VmRSS:\t   15908 kB\n", "status has no VmRSS or VmHWM line"},
		{"VmHWM:\t   17912 kB\n", "status has no VmRSS or VmHWM line"},
		{"VmRSS:\t12 MB\nVmHWM:\t1 kB\n", `unexpected VmRSS line "VmRSS:\t12 MB"`},
		{"VmRSS:\t1 kB\nVmHWM:\t17912\n", `unexpected VmHWM line "VmHWM:\t17912"`},
		{"VmRSS:\tx kB\nVmHWM:\t1 kB\n", `VmRSS: strconv.ParseInt: parsing "x": invalid syntax`},
	} {
		if got, err := parseProcStatus(strings.NewReader(tc.in)); err == nil || err.Error() != tc.want {
			t.Errorf("parseProcStatus(%q) = %+v, %v; want error %q", tc.in, got, err, tc.want)
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
		"GOMAXPROCS=1", // what GoFunction sets at 128 MB
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
	for _, tc := range []struct{ in, want string }{
		{"no trace here\n", "no inittrace lines"},
		{"init main @8.4 ms, 0.1.2 ms clock, 21584 bytes, 180 allocs\n",
			`inittrace line "init main @8.4 ms, 0.1.2 ms clock, 21584 bytes, 180 allocs": strconv.ParseFloat: parsing "0.1.2": invalid syntax`},
		{"init main @8.4 ms, 0.12 ms clock, 99999999999999999999 bytes, 180 allocs\n",
			`inittrace line "init main @8.4 ms, 0.12 ms clock, 99999999999999999999 bytes, 180 allocs": strconv.ParseInt: parsing "99999999999999999999": value out of range`},
	} {
		if got, err := parseInitTrace(strings.NewReader(tc.in)); err == nil || err.Error() != tc.want {
			t.Errorf("parseInitTrace(%q) = %+v, %v; want error %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSchedStat(t *testing.T) {
	got, err := parseSchedStat("284023891 24232848 67\n")
	if err != nil || got != (schedStat{CPU: 284023891, Wait: 24232848}) {
		t.Errorf("parseSchedStat = %+v, %v", got, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"1 2", `schedstat "1 2": want 3 fields`},
		{"1 2 3 4\n", `schedstat "1 2 3 4\n": want 3 fields`},
		{"x 2 3", `schedstat "x 2 3": strconv.ParseInt: parsing "x": invalid syntax`},
		{"1 -y 3", `schedstat "1 -y 3": strconv.ParseInt: parsing "-y": invalid syntax`},
	} {
		if got, err := parseSchedStat(tc.in); err == nil || err.Error() != tc.want {
			t.Errorf("parseSchedStat(%q) = %+v, %v; want error %q", tc.in, got, err, tc.want)
		}
	}
	st, err := readSchedStat(os.Getpid())
	if err != nil || st.CPU <= 0 {
		t.Errorf("readSchedStat(self) = %+v, %v", st, err)
	}
}

func TestCountMod(t *testing.T) {
	for _, tc := range []struct{ n, k, m, want int }{
		{0, 0, 4, 0}, {1, 0, 4, 1}, {1, 1, 4, 0}, {4, 3, 4, 1}, {5, 0, 4, 2}, {5, 1, 4, 1},
		{100, 0, 4, 25}, {100, 3, 4, 25}, {21, 0, 4, 6}, {21, 1, 4, 5}, {21, 3, 4, 5},
	} {
		if got := countMod(tc.n, tc.k, tc.m); got != tc.want {
			t.Errorf("countMod(%d, %d, %d) = %d, want %d", tc.n, tc.k, tc.m, got, tc.want)
		}
	}
}

func TestSlackWebhookAcceptsOnlyWhatSlackAccepts(t *testing.T) {
	h := newSlackWebhook()
	defer h.close()
	base := strings.TrimSuffix(h.URL(), webhookPath)
	for _, tc := range []struct {
		name, method, url, contentType, body string
		wantStatus                           int
	}{
		{"post", http.MethodPost, h.URL(), "application/json", `{"text":"hello"}`, http.StatusOK},
		{"another path", http.MethodPost, base + "/services/T0/B0/other", "application/json", `{"text":"hello"}`, http.StatusNotFound},
		{"get", http.MethodGet, h.URL(), "", "", http.StatusBadRequest},
		{"not JSON", http.MethodPost, h.URL(), "application/json", `text=hello`, http.StatusBadRequest},
		{"form content type", http.MethodPost, h.URL(), "application/x-www-form-urlencoded", `{"text":"hello"}`, http.StatusBadRequest},
		{"no text", http.MethodPost, h.URL(), "application/json", `{"blocks":[]}`, http.StatusBadRequest},
	} {
		req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || (tc.wantStatus == http.StatusOK && string(body) != "ok") {
			t.Errorf("%s: %d %q, want %d", tc.name, resp.StatusCode, body, tc.wantStatus)
		}
	}
	posts, rejected := h.Posts()
	if len(posts) != 1 || string(posts[0]) != `{"text":"hello"}` || rejected != 5 {
		t.Errorf("posts = %q, rejected = %d; want the one post and 5 rejected", posts, rejected)
	}
}

// Each fake gets its own webhook, which stops when the fake is closed.
func TestNotifierWebhookIsPerFakeAndStopsWithIt(t *testing.T) {
	hooks := newWebhooks()
	s := notifierScenario(hooks)
	a, b := startFake(s), startFake(s)
	defer b.close()
	ha, err := hooks.of(a.Server)
	if err != nil {
		t.Fatal(err)
	}
	hb, err := hooks.of(b.Server)
	if err != nil {
		t.Fatal(err)
	}
	if ha == hb || ha.URL() == hb.URL() || !strings.HasPrefix(ha.URL(), "http://127.0.0.1:") {
		t.Errorf("webhooks %s and %s; want two loopback webhooks", ha.URL(), hb.URL())
	}
	a.close()
	if _, err := hooks.of(a.Server); err == nil {
		t.Error("the closed fake still has a webhook")
	}
	if _, err := http.Post(ha.URL(), "application/json", strings.NewReader(`{"text":"x"}`)); err == nil {
		t.Error("the closed fake's webhook still answers")
	}
	if _, err := hooks.of(b.Server); err != nil {
		t.Errorf("the other fake lost its webhook: %v", err)
	}
}

// The check after each notifier invocation wants the record posted and
// exactly one new Slack post, carrying what the message (or the AWS read
// behind it) says.
func TestNotifierCheckWantsExactlyOnePostPerInvocation(t *testing.T) {
	hooks := newWebhooks()
	s := notifierScenario(hooks)
	f := startFake(s)
	defer f.close()
	h, err := hooks.of(f.Server)
	if err != nil {
		t.Fatal(err)
	}
	post := func(text string) {
		t.Helper()
		resp, err := http.Post(h.URL(), "application/json", strings.NewReader(string(mustJSON(map[string]string{"text": text}))))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("post: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	forget := func(keep int) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.posts = h.posts[:keep]
	}
	for i, tc := range []struct{ kind, marker string }{
		{"codepipeline-execution", "bench commit 0"},
		{"image-state-change", amiID(1)},
		{"trigger-decision", amiID(2)},
		{"alarm", "datapoints [3.0 "},
	} {
		payload, check := s.Event(f.Server, i)
		var ev struct {
			Records []struct {
				Sns struct{ MessageID, Message string }
			}
		}
		if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) != 1 || ev.Records[0].Sns.MessageID != snsMessageID(i) {
			t.Fatalf("event %d = %s, %v", i, payload, err)
		}
		response := func(kind, outcome string) []byte {
			return mustJSON(map[string]any{"records": []map[string]string{{"messageId": snsMessageID(i), "kind": kind, "outcome": outcome}}})
		}
		if err := check(response(tc.kind, "posted")); err == nil || !strings.Contains(err.Error(), "accepted") {
			t.Errorf("%d: check without a post = %v, want an error about the webhook", i, err)
		}
		post("a post without the marker")
		if err := check(response(tc.kind, "posted")); err == nil || !strings.Contains(err.Error(), "lacks") {
			t.Errorf("%d: check of a post without %q = %v, want an error", i, tc.marker, err)
		}
		forget(i) // the webhook keeps what it accepted
		post("message with " + tc.marker)
		if err := check(response(tc.kind, "posted")); err != nil {
			t.Errorf("%d: check = %v", i, err)
		}
		for _, bad := range [][]byte{response(tc.kind, "skipped"), response("unknown", "posted"), []byte(`{"records":[]}`)} {
			if err := check(bad); err == nil {
				t.Errorf("%d: check accepted %s", i, bad)
			}
		}
		post("a second post")
		if err := check(response(tc.kind, "posted")); err == nil {
			t.Errorf("%d: check accepted two posts for one invocation", i)
		}
		forget(i + 1)
	}
}

// The refresh the previous rollout invocation started succeeds before the
// next one, and the parameter alternates, so each invocation has a new AMI
// to roll out and no refresh in its way.
func TestRolloutEventFinishesThePreviousRefresh(t *testing.T) {
	s := rolloutScenario()
	f := startFake(s)
	defer f.close()
	_, check := s.Event(f.Server, 0)
	if p, _ := f.Parameter(region, latestParameter); p.Value != fleetAMI(0) || p.Version != 2 {
		t.Fatalf("parameter = %+v, want %s as version 2", p, fleetAMI(0))
	}
	if lt, _ := f.LaunchTemplate(region, fleetLaunchTemplate); lt.Versions[0].ImageID == fleetAMI(0) {
		t.Fatal("the deployed template already launches the first AMI")
	}
	started := `{"decision":"started","ami":"` + fleetAMI(0) + `","launchTemplateVersion":"2","instanceRefreshId":"r-1"}`
	if err := check([]byte(started)); err != nil {
		t.Errorf("check(%s) = %v", started, err)
	}
	for _, bad := range []string{
		`{"decision":"deferred","ami":"` + fleetAMI(0) + `","instanceRefreshId":"r-0"}`,
		`{"decision":"started","ami":"` + fleetAMI(1) + `","launchTemplateVersion":"2","instanceRefreshId":"r-1"}`,
		`{"decision":"started","ami":"` + fleetAMI(0) + `","launchTemplateVersion":"3","instanceRefreshId":"r-1"}`,
		`{"decision":"started","ami":"` + fleetAMI(0) + `","launchTemplateVersion":"2"}`,
	} {
		if err := check([]byte(bad)); err == nil {
			t.Errorf("check accepted %s", bad)
		}
	}

	// What the function does on invocation 0 (version 2, a refresh to it),
	// done here through the fake's fixtures.
	id := f.AddInstanceRefresh(region, fakeaws.InstanceRefresh{GroupName: fleetGroup, DesiredLaunchTemplateID: fleetLaunchTemplate, DesiredLaunchTemplateVersion: "2"})
	if _, check := s.Event(f.Server, 1); check([]byte("{}")) == nil {
		t.Error("check accepted an empty response")
	}
	rs := f.InstanceRefreshes(region, fleetGroup)
	if len(rs) != 1 || rs[0].ID != id || rs[0].Status != fakeaws.RefreshSuccessful {
		t.Errorf("refreshes = %+v, want %s Successful", rs, id)
	}
	if g, _ := f.AutoScalingGroup(region, fleetGroup); g.LaunchTemplateVersion != "2" {
		t.Errorf("group on version %s, want 2", g.LaunchTemplateVersion)
	}
	if p, _ := f.Parameter(region, latestParameter); p.Value != fleetAMI(1) || p.Version != 3 {
		t.Errorf("parameter = %+v, want %s as version 3", p, fleetAMI(1))
	}
}

// Each scenario's Verify fails when the function answered but did nothing,
// so a run cannot pass on responses alone.
// (verify_test.go checks that each of Verify's checks fails on its own.)
func TestVerifyFailsWhenTheFunctionDidNothing(t *testing.T) {
	want := map[string]string{
		"amimonitor":          upstreamParameter + ": 0 writes, tags map[]; want 1 writes and tags",
		"imagebuildertrigger": "pipeline executions = 0, want 1 (one per parameter version)",
		"latestami":           latestParameter + ` in us-east-1: 0 writes, value ""; want 1 writes ending with ` + amiID(0),
		"rollout":             "launch template " + fleetLaunchTemplate + ": 1 versions, default 1; want 2 (one per invocation), default still 1",
		"notifier":            "Slack webhook accepted 0 posts and rejected 0; want 1 (one per invocation) and 0",
	}
	for _, s := range scenarios() {
		if !s.Limits {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			f := startFake(s)
			defer f.close()
			s.Event(f.Server, 0)
			if err := s.Verify(f.Server, 1); err == nil || err.Error() != want[s.Name] {
				t.Errorf("Verify after an invocation that did nothing = %v, want %s", err, want[s.Name])
			}
		})
	}
}

func TestStartFakeRunsTeardownOnClose(t *testing.T) {
	var setup, teardown *fakeaws.Server
	f := startFake(scenario{Setup: func(f *fakeaws.Server) { setup = f }, Teardown: func(f *fakeaws.Server) { teardown = f }})
	if setup != f.Server || teardown != nil {
		t.Fatalf("after start: setup %p, teardown %p", setup, teardown)
	}
	f.close()
	if teardown != f.Server {
		t.Errorf("teardown ran on %p, want %p", teardown, f.Server)
	}
}

func TestEnvOverrides(t *testing.T) {
	got, err := parseEnvOverrides("GOMAXPROCS=,GOGC=200")
	if err != nil || len(got) != 2 || got["GOMAXPROCS"] != "" || got["GOGC"] != "200" {
		t.Fatalf("parseEnvOverrides = %v, %v", got, err)
	}
	s := imagebuildertriggerScenario()
	s.Env = maps.Clone(s.Env)
	maps.Copy(s.Env, got)
	env := lambdaEnv(s, "http://127.0.0.1:1", "/tmp/x")
	if !slices.Contains(env, "GOGC=200") {
		t.Errorf("env lacks GOGC=200: %v", env)
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOMAXPROCS=") {
			t.Errorf("GOMAXPROCS= left %s in the environment", kv)
		}
	}
	for _, bad := range []string{"GOMAXPROCS", "=1", "A=1,,B=2"} {
		if _, err := parseEnvOverrides(bad); err == nil || !strings.Contains(err.Error(), "is not NAME=VALUE") {
			t.Errorf("parseEnvOverrides(%q) error = %v, want one saying it is not NAME=VALUE", bad, err)
		}
	}
}
