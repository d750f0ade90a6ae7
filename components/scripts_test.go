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
// systemctl, cloud-init, curl and package managers, so they check what the
// scripts decide rather than what they say.

// bashStep is one ExecuteBash step of a document: its name and its
// commands joined into one script.
type bashStep struct{ name, script string }

// bashSteps returns the ExecuteBash steps of d, in document order.
func bashSteps(t *testing.T, d Document) []bashStep {
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
			if s.Action == "ExecuteBash" {
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
			// A fake IMDSv2: a token for PUT, then region and domain only with that token.
			sb.fake("curl", `args="$*"
case "${args}" in
  *"-X PUT"*/latest/api/token*) echo -n tok ;;
  *"X-aws-ec2-metadata-token: tok"*/meta-data/placement/region) echo -n "${REGION}" ;;
  *"X-aws-ec2-metadata-token: tok"*/meta-data/services/domain)
    [ "${DOMAIN_FAILS}" = true ] && { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }
    echo -n "${DOMAIN}" ;;
  *) echo "unexpected curl ${args}" >&2; exit 7 ;;
esac`)
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
