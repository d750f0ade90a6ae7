package components

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// These tests run the Linux documents' bash steps against fake snap,
// systemctl, cloud-init, curl, uname and package managers, so they check
// what the scripts decide rather than what they say.

// bashStep is one ExecuteBash step of a document: its name and its
// commands joined into one script.
type bashStep struct{ name, script string }

// bashSteps returns the ExecuteBash steps of d, in document order.
func bashSteps(t *testing.T, d Document) []bashStep {
	t.Helper()
	return scriptSteps(t, d, "ExecuteBash")
}

// scriptSteps returns the steps of d that run action (ExecuteBash or
// ExecutePowerShell), with their commands joined.
func scriptSteps(t *testing.T, d Document, action string) []bashStep {
	t.Helper()
	var doc struct {
		Phases []struct {
			Steps []struct {
				Name   string `yaml:"name"`
				Action string `yaml:"action"`
				Inputs struct {
					Commands []string `yaml:"commands"`
				} `yaml:"inputs"`
			} `yaml:"steps"`
		} `yaml:"phases"`
	}
	if err := yaml.Unmarshal([]byte(d.Data), &doc); err != nil {
		t.Fatal(err)
	}
	var steps []bashStep
	for _, p := range doc.Phases {
		for _, s := range p.Steps {
			if s.Action == action {
				steps = append(steps, bashStep{s.Name, strings.Join(s.Inputs.Commands, "\n")})
			}
		}
	}
	return steps
}

// stepScript returns the ExecuteBash commands of the named step of d.
func stepScript(t *testing.T, d Document, step string) string {
	t.Helper()
	for _, s := range bashSteps(t, d) {
		if s.name == step {
			return s.script
		}
	}
	t.Fatalf("%s has no ExecuteBash step %s", d.Name, step)
	return ""
}

// sandbox is a directory that is the whole PATH of a script run: a few real
// tools plus the fakes a test writes.
type sandbox struct {
	t    *testing.T
	dir  string
	bash string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to run the Linux documents: %v", err)
	}
	dir := t.TempDir()
	for _, tool := range []string{"awk", "grep", "wc", "cat", "rm"} {
		real, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is needed to run the Linux documents: %v", tool, err)
		}
		if err := os.Symlink(real, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return &sandbox{t: t, dir: dir, bash: bash}
}

// fake writes an executable named name whose body is bash.
func (s *sandbox) fake(name, body string) {
	s.t.Helper()
	script := "#!" + s.bash + "\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(script), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// run runs script with the sandbox as PATH and returns its combined output
// and whether it exited 0.
func (s *sandbox) run(script string, env ...string) (string, bool) {
	s.t.Helper()
	file := filepath.Join(s.t.TempDir(), "input.sh")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bash, file)
	cmd.Env = append([]string{"PATH=" + s.dir, "HOME=" + s.t.TempDir(), "LOG=" + filepath.Join(s.dir, "calls.log")}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			s.t.Fatalf("run script: %v", err)
		}
	}
	return string(out), err == nil
}

// calls returns what the fakes logged to $LOG.
func (s *sandbox) calls() string {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.dir, "calls.log"))
	if err != nil && !os.IsNotExist(err) {
		s.t.Fatal(err)
	}
	return string(data)
}

// fakeSnap pretends amazon-ssm-agent is a snap whose service has the
// startup and current state in $STARTUP and $CURRENT, printed the way
// `snap services` prints them.
func (s *sandbox) fakeSnap() {
	s.fake("snap", `case "$1" in
  list) [ "$2" = amazon-ssm-agent ] ;;
  services)
    echo "Service                            Startup   Current   Notes"
    echo "amazon-ssm-agent.amazon-ssm-agent  ${STARTUP}  ${CURRENT}  -" ;;
  *) exit 64 ;;
esac`)
}

// agentCheckSteps are the steps that check the SSM agent starts at boot and
// runs: the update's validation and the image test.
var agentCheckSteps = []struct {
	doc  Document
	step string
}{
	{UpdateSSMAgentLinux, "SSMAgentIsRunning"},
	{TestLinux, "SSMAgentEnabled"},
}

func TestSnapAgentChecksRequireEnabledAndActive(t *testing.T) {
	for _, st := range agentCheckSteps {
		for _, tc := range []struct {
			startup, current string
			pass             bool
		}{
			{"enabled", "active", true},
			{"enabled", "inactive", false},
			{"disabled", "active", false},
			{"disabled", "inactive", false},
		} {
			t.Run(st.doc.Name+"/"+st.step+"/"+tc.startup+"-"+tc.current, func(t *testing.T) {
				sb := newSandbox(t)
				sb.fakeSnap()
				out, ok := sb.run(stepScript(t, st.doc, st.step), "STARTUP="+tc.startup, "CURRENT="+tc.current)
				if ok != tc.pass {
					t.Errorf("snap service %s/%s: step passed = %v, want %v\n%s", tc.startup, tc.current, ok, tc.pass, out)
				}
			})
		}
	}
}

func TestSystemdAgentChecksRequireEnabledAndActive(t *testing.T) {
	for _, st := range agentCheckSteps {
		for _, tc := range []struct {
			enabled, active string
			pass            bool
		}{
			{"0", "0", true},
			{"1", "0", false},
			{"0", "3", false},
		} {
			t.Run(st.doc.Name+"/"+st.step+"/enabled"+tc.enabled+"-active"+tc.active, func(t *testing.T) {
				sb := newSandbox(t)
				sb.fake("systemctl", `case "$1" in
  is-enabled) exit "${ENABLED}" ;;
  is-active) exit "${ACTIVE}" ;;
  *) exit 64 ;;
esac`)
				out, ok := sb.run(stepScript(t, st.doc, st.step), "ENABLED="+tc.enabled, "ACTIVE="+tc.active)
				if ok != tc.pass {
					t.Errorf("is-enabled exit %s, is-active exit %s: step passed = %v, want %v\n%s", tc.enabled, tc.active, ok, tc.pass, out)
				}
			})
		}
	}
}

func TestCloudInitCheckAcceptsDegradedDone(t *testing.T) {
	for _, tc := range []struct {
		name string
		rc   string // exit code of `cloud-init status --wait`; "" when cloud-init is not installed
		pass bool
	}{
		{"done", "0", true},
		{"degraded done (recoverable errors)", "2", true},
		{"error (unrecoverable)", "1", false},
		{"unknown exit code", "3", false},
		{"cloud-init not installed", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t)
			if tc.rc != "" {
				sb.fake("cloud-init", `echo "cloud-init $*" >>"${LOG}"; exit "${RC}"`)
			}
			out, ok := sb.run(stepScript(t, TestLinux, "CloudInitFinished"), "RC="+tc.rc)
			if ok != tc.pass {
				t.Errorf("cloud-init status exit %q: step passed = %v, want %v\n%s", tc.rc, ok, tc.pass, out)
			}
			if tc.rc != "" && !strings.Contains(sb.calls(), "cloud-init status --wait") {
				t.Errorf("step never ran `cloud-init status --wait`; calls:\n%s", sb.calls())
			}
		})
	}
}

// fakeIMDS fakes curl as the build instance's IMDSv2: a token for PUT, then
// the region ($REGION) and the partition's domain ($DOMAIN, or a 404 when
// $DOMAIN_FAILS is true) only with that token. Any other call with -o is a
// download: it is logged to $LOG and succeeds; anything else fails.
func (s *sandbox) fakeIMDS() {
	s.fake("curl", `args="$*"
case "${args}" in
  *"-X PUT"*/latest/api/token*) echo -n tok ;;
  *"X-aws-ec2-metadata-token: tok"*/meta-data/placement/region) echo -n "${REGION}" ;;
  *"X-aws-ec2-metadata-token: tok"*/meta-data/services/domain)
    [ "${DOMAIN_FAILS:-}" = true ] && { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }
    echo -n "${DOMAIN}" ;;
  *" -o "*) echo "curl ${args}" >>"${LOG}" ;;
  *) echo "unexpected curl ${args}" >&2; exit 7 ;;
esac`)
}

func TestSSMAgentDownloadUsesThePartitionDomain(t *testing.T) {
	for _, tc := range []struct {
		name, region, domain string
		domainFails          bool
		want                 string
	}{
		{"commercial", "us-east-1", "amazonaws.com", false,
			"https://s3.us-east-1.amazonaws.com/amazon-ssm-us-east-1/latest/linux_amd64/amazon-ssm-agent.rpm"},
		{"China", "cn-north-1", "amazonaws.com.cn", false,
			"https://s3.cn-north-1.amazonaws.com.cn/amazon-ssm-cn-north-1/latest/linux_amd64/amazon-ssm-agent.rpm"},
		{"domain read fails", "eu-west-1", "", true,
			"https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/latest/linux_amd64/amazon-ssm-agent.rpm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.fakeIMDS()
			sb.fake("uname", `echo x86_64`)
			sb.fake("dnf", `echo "dnf $*" >>"${LOG}"`)
			fails := "false"
			if tc.domainFails {
				fails = "true"
			}
			out, ok := sb.run(stepScript(t, UpdateSSMAgentLinux, "UpdateSSMAgent"),
				"REGION="+tc.region, "DOMAIN="+tc.domain, "DOMAIN_FAILS="+fails)
			if !ok {
				t.Fatalf("step failed:\n%s", out)
			}
			if want := "dnf install -y " + tc.want + "\n"; sb.calls() != want {
				t.Errorf("package manager calls\n got %q\nwant %q", sb.calls(), want)
			}
		})
	}
}

// The update picks the first package manager of snap (only when the agent
// is a snap), dnf, yum and dpkg that the instance has, and installs the
// agent built for the instance's architecture. Every case also installs the
// package managers after the one it expects, so falling through shows.
func TestSSMAgentUpdateUsesThePackageManagerAndArchitecture(t *testing.T) {
	const base = "https://s3.us-east-1.amazonaws.com/amazon-ssm-us-east-1/latest"
	logs := func(name string) string { return `echo "` + name + ` $*" >>"${LOG}"` }
	for _, tc := range []struct {
		name  string
		arch  string   // what `uname -m` prints
		fakes []string // package managers on PATH
		snap  bool     // the agent is installed as a snap
		want  string   // the calls the package managers (and downloads) log
		fail  string   // when not empty, the step fails printing this
	}{
		{"snap", "x86_64", []string{"snap", "dnf", "yum", "dpkg"}, true,
			"snap list amazon-ssm-agent\nsnap watch --last=auto-refresh\nsnap refresh amazon-ssm-agent\n", ""},
		{"snap on Graviton", "aarch64", []string{"snap", "dnf", "yum", "dpkg"}, true,
			"snap list amazon-ssm-agent\nsnap watch --last=auto-refresh\nsnap refresh amazon-ssm-agent\n", ""},
		{"snap without the agent snap", "aarch64", []string{"snap", "dnf"}, false,
			"snap list amazon-ssm-agent\ndnf install -y " + base + "/linux_arm64/amazon-ssm-agent.rpm\n", ""},
		{"dnf x86_64", "x86_64", []string{"dnf", "yum", "dpkg"}, false,
			"dnf install -y " + base + "/linux_amd64/amazon-ssm-agent.rpm\n", ""},
		{"dnf aarch64", "aarch64", []string{"dnf", "yum", "dpkg"}, false,
			"dnf install -y " + base + "/linux_arm64/amazon-ssm-agent.rpm\n", ""},
		{"yum x86_64", "x86_64", []string{"yum", "dpkg"}, false,
			"yum install -y " + base + "/linux_amd64/amazon-ssm-agent.rpm\n", ""},
		{"yum aarch64", "aarch64", []string{"yum", "dpkg"}, false,
			"yum install -y " + base + "/linux_arm64/amazon-ssm-agent.rpm\n", ""},
		{"dpkg x86_64", "x86_64", []string{"dpkg"}, false,
			"curl -sS --fail -o /tmp/amazon-ssm-agent.deb " + base + "/debian_amd64/amazon-ssm-agent.deb\n" +
				"dpkg -i /tmp/amazon-ssm-agent.deb\n", ""},
		{"dpkg aarch64", "aarch64", []string{"dpkg"}, false,
			"curl -sS --fail -o /tmp/amazon-ssm-agent.deb " + base + "/debian_arm64/amazon-ssm-agent.deb\n" +
				"dpkg -i /tmp/amazon-ssm-agent.deb\n", ""},
		{"no package manager", "x86_64", nil, false,
			"", "no supported package manager (snap, dnf, yum, dpkg) found"},
		{"unsupported architecture", "armv7l", []string{"dnf"}, false,
			"", "unsupported architecture armv7l"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.fakeIMDS()
			sb.fake("uname", `[ "$1" = -m ] || exit 64; echo "${ARCH}"`)
			for _, pm := range tc.fakes {
				if pm == "snap" {
					sb.fake("snap", logs("snap")+`
case "$1" in
  list) [ "$2" = amazon-ssm-agent ] && [ "${AGENT_SNAP}" = true ] ;;
  watch) [ "$2" = --last=auto-refresh ] || exit 64; : >"${LOG}.watched" ;;
  refresh) # snapd's own refresh is running until someone waits for it
    [ -e "${LOG}.watched" ] || { echo 'error: snap "amazon-ssm-agent" has "auto-refresh" change in progress' >&2; exit 1; } ;;
  *) exit 64 ;;
esac`)
					continue
				}
				sb.fake(pm, logs(pm))
			}
			agentSnap := "false"
			if tc.snap {
				agentSnap = "true"
			}
			out, ok := sb.run(stepScript(t, UpdateSSMAgentLinux, "UpdateSSMAgent"),
				"REGION=us-east-1", "DOMAIN=amazonaws.com", "ARCH="+tc.arch, "AGENT_SNAP="+agentSnap)
			if tc.fail == "" && !ok {
				t.Fatalf("step failed:\n%s", out)
			}
			if tc.fail != "" && (ok || strings.TrimSpace(out) != tc.fail) {
				t.Errorf("step passed = %v, output %q; want it to fail printing %q", ok, out, tc.fail)
			}
			if got := sb.calls(); got != tc.want {
				t.Errorf("calls\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNoFailedUnitsFailsOnAFailedUnit(t *testing.T) {
	const unit = "nginx.service loaded failed failed A high performance web server and a reverse proxy server"
	for _, tc := range []struct {
		name   string
		failed string // what `systemctl list-units --state=failed --no-legend --plain` prints
		pass   bool
	}{
		{"no failed unit", "", true},
		{"one failed unit", unit + "\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t)
			sb.fake("systemctl", `[ "$*" = "list-units --state=failed --no-legend --plain" ] || exit 64
printf '%s' "${FAILED}"`)
			out, ok := sb.run(stepScript(t, TestLinux, "NoFailedUnits"), "FAILED="+tc.failed)
			if ok != tc.pass {
				t.Errorf("failed units %q: step passed = %v, want %v\n%s", tc.failed, ok, tc.pass, out)
			}
			// On failure the step lists the failed units, and only them.
			if out != tc.failed {
				t.Errorf("output %q, want %q", out, tc.failed)
			}
		})
	}
}

// The Windows download, like the Linux one, takes the partition's domain
// from IMDS (amazonaws.com.cn in the China regions), falling back to
// amazonaws.com. PowerShell does not run here, so this reads the script.
func TestWindowsSSMAgentDownloadUsesThePartitionDomain(t *testing.T) {
	var script string
	for _, s := range scriptSteps(t, UpdateSSMAgentWindows, "ExecutePowerShell") {
		if s.name == "DownloadSSMAgent" {
			script = s.script
		}
	}
	for _, want := range []string{
		`$domain = try { Invoke-RestMethod -Uri 'http://169.254.169.254/latest/meta-data/services/domain' -Headers @{ 'X-aws-ec2-metadata-token' = $token } } catch { '' }`,
		`if (-not $domain) { $domain = 'amazonaws.com' }`,
		`$url = "https://amazon-ssm-$region.s3.$region.$domain/latest/windows_amd64/AmazonSSMAgentSetup.exe"`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("DownloadSSMAgent lacks\n  %s\nscript:\n%s", want, script)
		}
	}
	if strings.Contains(script, ".amazonaws.com/") {
		t.Errorf("DownloadSSMAgent still names amazonaws.com in a URL:\n%s", script)
	}
}
