package stacks

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/assemblycheck"
	"github.com/platform-eng/golden-ami/internal/cdktest"
	"github.com/platform-eng/golden-ami/internal/compliance"
)

var update = flag.Bool("update", false, "rewrite the template snapshots in testdata/snapshots")

// fixture is the whole app, every environment, synthesized once with the
// compliance packs and reports, exactly as main.go does.
type synthFixture struct {
	once      sync.Once
	dir       string
	extraDirs []string
	envs      map[string]*EnvironmentStacks
	stacks    []awscdk.Stack
	err       error
}

var fixture synthFixture

func (f *synthFixture) cleanup() {
	if f.dir != "" {
		os.RemoveAll(f.dir)
	}
	for _, d := range f.extraDirs {
		os.RemoveAll(d)
	}
}

func synthAll(t *testing.T) (dir string, envs map[string]*EnvironmentStacks, stacks []awscdk.Stack) {
	t.Helper()
	fixture.once.Do(func() {
		ctx, err := cdktest.Context()
		if err != nil {
			fixture.err = err
			return
		}
		fixture.dir, fixture.err = os.MkdirTemp("", "golden-ami-synth-")
		if fixture.err != nil {
			return
		}
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(fixture.dir)})
		fixture.envs = map[string]*EnvironmentStacks{}
		envs, err := Select(Environments(), "")
		if err != nil {
			fixture.err = err
			return
		}
		for _, env := range envs {
			s := NewEnvironment(app, env)
			fixture.envs[env.Name] = s
			fixture.stacks = append(fixture.stacks, s.Images.Stack)
			for _, k := range s.Keys {
				fixture.stacks = append(fixture.stacks, k.Stack)
			}
		}
		compliance.Apply(app, true)
		defer func() {
			if r := recover(); r != nil {
				fixture.err = fmt.Errorf("synth failed: %v\n%s", r, violations(fixture.dir))
			}
		}()
		app.Synth(nil)
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.dir, fixture.envs, fixture.stacks
}

func readTemplate(t *testing.T, dir, stackName string) map[string]interface{} {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, stackName+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]interface{}
	if err := json.Unmarshal(data, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestEveryEnvironmentTemplateHasTheGoldenImagePipeline(t *testing.T) {
	dir, envs, _ := synthAll(t)
	for _, p := range assemblycheck.Check(dir, AssemblyCheckEnvironments(Environments())) {
		t.Error(p)
	}
	for _, env := range Environments() {
		tmpl := readTemplate(t, dir, "GoldenAmi-"+env.Name)
		for _, img := range env.Images {
			for _, out := range []string{"PipelineArn", "UpstreamParameterName", "LatestAmiParameterName", "NotificationTopicArn"} {
				if _, ok := tmpl["Outputs"].(map[string]interface{})[camel(img.Name)+out]; !ok {
					t.Errorf("%s: output %s%s is missing", env.Name, camel(img.Name), out)
				}
			}
		}
		if got := len(envs[env.Name].Keys); got != len(env.DistributionRegions) {
			t.Errorf("%s: %d key stacks, want one per distribution region (%d)", env.Name, got, len(env.DistributionRegions))
		}
	}
}

func TestEveryImageHasItsMonitorTriggerAndRecorder(t *testing.T) {
	dir, envs, _ := synthAll(t)
	for _, env := range Environments() {
		tmpl := readTemplate(t, dir, "GoldenAmi-"+env.Name)
		functions := cdktest.ResourcesOfType(tmpl, "AWS::Lambda::Function")
		want := 3 * len(env.Images)
		if env.SlackWebhookSecretARN != "" {
			want++ // the Slack notifier
		}
		if len(functions) != want {
			t.Errorf("%s: %d functions, want 3 per image and the notifier with Slack (%d)", env.Name, len(functions), want)
		}
		vars := func(prefix string) map[string]interface{} {
			for id, f := range functions {
				if strings.HasPrefix(id, prefix) {
					return f["Properties"].(map[string]interface{})["Environment"].(map[string]interface{})["Variables"].(map[string]interface{})
				}
			}
			t.Fatalf("%s: no function %s*", env.Name, prefix)
			return nil
		}
		for _, img := range env.Images {
			id := strings.ReplaceAll(img.Name, "-", "")
			monitor := vars(id + "monitor")
			want := map[string]string{
				"SOURCE_PARAMETER_NAME": img.Upstream.SourceParameterName, "PLATFORM_BRANCH": img.Upstream.PlatformBranch,
				"PLATFORM_ARN": img.Upstream.PlatformARN, "IMAGE_OWNER": img.Upstream.ImageOwner, "IMAGE_NAME_PATTERN": img.Upstream.ImageNamePattern,
			}
			for name, value := range want {
				got, _ := monitor[name].(string)
				if got != value {
					t.Errorf("%s/%s monitor %s = %q, want %q", env.Name, img.Name, name, got, value)
				}
			}
			if got := vars(id + "latest")["SSM_PARAMETER_NAME"]; got != LatestAMIParameterName(env, img) {
				t.Errorf("%s/%s recorder writes %v, want %s", env.Name, img.Name, got, LatestAMIParameterName(env, img))
			}
			if _, ok := vars(id + "trigger")["IMAGE_PIPELINE_ARN"]; !ok {
				t.Errorf("%s/%s trigger has no pipeline", env.Name, img.Name)
			}
			res := envs[env.Name].Images.Images[img.Name]
			if res.Monitor.Parameter != res.Pipeline.UpstreamParameter {
				t.Errorf("%s/%s: the monitor maintains a different parameter than the recipe reads", env.Name, img.Name)
			}
		}
		schedules := 0
		for _, r := range cdktest.ResourcesOfType(tmpl, "AWS::Events::Rule") {
			if expr, ok := r["Properties"].(map[string]interface{})["ScheduleExpression"]; ok {
				schedules++
				if want := rate(env.upstreamCheckInterval()); expr != want {
					t.Errorf("%s: monitor schedule %v, want %s", env.Name, expr, want)
				}
			}
		}
		if schedules != len(env.Images) {
			t.Errorf("%s: %d schedules, want one monitor schedule per image", env.Name, schedules)
		}
	}
}

// rate renders d the way EventBridge schedules (and CDK) write it.
func rate(d time.Duration) string {
	unit := func(n int, name string) string {
		if n == 1 {
			return fmt.Sprintf("rate(1 %s)", name)
		}
		return fmt.Sprintf("rate(%d %ss)", n, name)
	}
	switch {
	case d%(24*time.Hour) == 0:
		return unit(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return unit(int(d/time.Hour), "hour")
	}
	return unit(int(d/time.Minute), "minute")
}

func TestUpstreamParametersAreSeededFromTheirSource(t *testing.T) {
	dir, _, _ := synthAll(t)
	tmpl := readTemplate(t, dir, "GoldenAmi-prod")
	values := map[string]string{}
	for _, r := range cdktest.ResourcesOfType(tmpl, "AWS::SSM::Parameter") {
		p := r["Properties"].(map[string]interface{})
		values[p["Name"].(string)] = p["Value"].(string)
	}
	want := map[string]string{
		"/golden-ami/prod/al2023/upstream":        "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}}",
		"/golden-ami/prod/al2023-arm64/upstream":  "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64}}",
		"/golden-ami/prod/docker-al2023/upstream": "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}}",
		"/golden-ami/prod/windows2022/upstream":   "{{resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base}}",
	}
	for name, v := range want {
		if values[name] != v {
			t.Errorf("%s = %q, want %q", name, values[name], v)
		}
	}
}

// CloudWatch publishes alarm actions as the service, and EnforceSSL's topic
// policy replaces the default one: every alarm's topic must allow it.
func TestEveryAlarmCanPublishToItsTopic(t *testing.T) {
	dir, _, stacks := synthAll(t)
	alarms := 0
	for _, s := range stacks {
		tmpl := readTemplate(t, dir, *s.StackName())
		alarms += len(cdktest.ResourcesOfType(tmpl, "AWS::CloudWatch::Alarm"))
		for _, p := range cdktest.AlarmTopicProblems(tmpl) {
			t.Errorf("%s: %s", *s.StackName(), p)
		}
	}
	if alarms == 0 {
		t.Fatal("no alarms found; the check checked nothing")
	}
}

// A key or resource policy that grants the same thing twice under two Sids
// is harder to review and hides which construct owns the grant.
func TestPoliciesGrantNothingTwice(t *testing.T) {
	dir, _, stacks := synthAll(t)
	checked := 0
	for _, s := range stacks {
		tmpl := readTemplate(t, dir, *s.StackName())
		for id, r := range tmpl["Resources"].(map[string]interface{}) {
			props, _ := r.(map[string]interface{})["Properties"].(map[string]interface{})
			for _, field := range []string{"KeyPolicy", "PolicyDocument"} {
				doc, ok := props[field].(map[string]interface{})
				if !ok {
					continue
				}
				seen := map[string]string{}
				for _, st := range doc["Statement"].([]interface{}) {
					st := st.(map[string]interface{})
					sid, _ := st["Sid"].(string)
					rest := map[string]interface{}{}
					for k, v := range st {
						if k != "Sid" {
							rest[k] = v
						}
					}
					key, _ := json.Marshal(rest)
					if other, dup := seen[string(key)]; dup {
						t.Errorf("%s %s: statements %q and %q grant the same", *s.StackName(), id, other, sid)
					}
					seen[string(key)] = sid
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no policy statements found; the check checked nothing")
	}
}

// GoFunction suppresses AwsSolutions-IAM5 for "Resource::*" on every
// function policy, so cdk-nag alone would not notice a new statement on "*".
// This does: an action on "*" must be one that supports no resource-level
// permissions (IAM's Service Authorization Reference), or be limited by a
// condition.
func TestWildcardResourcesOnlyForActionsWithoutResourceLevelPermissions(t *testing.T) {
	noResourceLevel := map[string]bool{
		"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true, // X-Ray tracing
		"ec2:DescribeImages": true, // Parameter Store's aws:ec2:image validation, the monitor's image search
	}
	dir, _, stacks := synthAll(t)
	checked := 0
	for _, s := range stacks {
		tmpl := readTemplate(t, dir, *s.StackName())
		for _, typ := range []string{"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"} {
			for id, r := range cdktest.ResourcesOfType(tmpl, typ) {
				doc := r["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})
				for _, st := range doc["Statement"].([]interface{}) {
					st := st.(map[string]interface{})
					checked++
					if !slices.Contains(anyList(st["Resource"]), "*") || st["Condition"] != nil {
						continue
					}
					for _, a := range anyList(st["Action"]) {
						if !noResourceLevel[a] {
							t.Errorf("%s %s: %s on * without a condition; name its resources, or add it here if it supports no resource-level permissions", *s.StackName(), id, a)
						}
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no policy statements found; the check checked nothing")
	}
}

func anyList(v interface{}) []string {
	var out []string
	for _, e := range list(v) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestProdIsTerminationProtectedAndDevIsNot(t *testing.T) {
	_, envs, _ := synthAll(t)
	for name, want := range map[string]bool{"prod": true, "dev": false} {
		stacks := []awscdk.Stack{envs[name].Images.Stack}
		for _, k := range envs[name].Keys {
			stacks = append(stacks, k.Stack)
		}
		for _, s := range stacks {
			if got := *s.TerminationProtection(); got != want {
				t.Errorf("%s: termination protection %v, want %v", *s.StackName(), got, want)
			}
		}
	}
}

func TestKeyStacksHoldTheAliasThePipelinesUse(t *testing.T) {
	dir, envs, _ := synthAll(t)
	for _, env := range Environments() {
		for _, region := range env.DistributionRegions {
			tmpl := readTemplate(t, dir, "GoldenAmi-"+env.Name+"-keys-"+region)
			aliases := cdktest.ResourcesOfType(tmpl, "AWS::KMS::Alias")
			if len(aliases) != 1 {
				t.Fatalf("%s/%s: %d aliases", env.Name, region, len(aliases))
			}
			for _, a := range aliases {
				if got := a["Properties"].(map[string]interface{})["AliasName"]; got != distributionKeyAlias(env) {
					t.Errorf("%s/%s alias %v, want %s", env.Name, region, got, distributionKeyAlias(env))
				}
			}
			deps := envs[env.Name].Images.Dependencies()
			found := false
			for _, d := range *deps {
				found = found || *d.StackName() == "GoldenAmi-"+env.Name+"-keys-"+region
			}
			if !found {
				t.Errorf("GoldenAmi-%s does not depend on its %s key stack", env.Name, region)
			}
		}
		main, _ := json.Marshal(readTemplate(t, dir, "GoldenAmi-"+env.Name))
		for _, region := range env.DistributionRegions {
			arn := "arn:aws:kms:" + region + ":" + env.Account + ":" + distributionKeyAlias(env)
			if !bytes.Contains(main, []byte(arn)) {
				t.Errorf("GoldenAmi-%s does not distribute with %s", env.Name, arn)
			}
		}
		// Shared AMIs are encrypted in the home region with the
		// environment's own AMI key, under the same alias, and its ARN is
		// an output (fleets in other accounts grant it to Auto Scaling).
		images := readTemplate(t, dir, "GoldenAmi-"+env.Name)
		aliases := cdktest.ResourcesOfType(images, "AWS::KMS::Alias")
		_, output := images["Outputs"].(map[string]interface{})["AmiKeyArn"]
		if shared := len(env.DistributionAccounts) > 0; shared != (len(aliases) == 1) || shared != output {
			t.Errorf("GoldenAmi-%s shares with %v: %d aliases, AmiKeyArn output %v", env.Name, env.DistributionAccounts, len(aliases), output)
		}
		for _, a := range aliases {
			if got := a["Properties"].(map[string]interface{})["AliasName"]; got != distributionKeyAlias(env) {
				t.Errorf("GoldenAmi-%s AMI key alias %v, want %s", env.Name, got, distributionKeyAlias(env))
			}
		}
	}
}

// TestNoUnsuppressedNagFindings is the cdk-nag gate: AwsSolutions and
// NIST 800-53 rev5 on every stack, zero unsuppressed errors or warnings,
// and no Non-Compliant row in the CSV reports written during synth.
func TestNoUnsuppressedNagFindings(t *testing.T) {
	dir, _, stacks := synthAll(t)
	for _, s := range stacks {
		for _, f := range cdktest.NagFindings(t, s) {
			t.Errorf("%s: %s", *s.StackName(), f)
		}
	}
	reports, _ := filepath.Glob(filepath.Join(dir, "*-NagReport.csv"))
	if want := 2 * len(stacks); len(reports) != want {
		t.Errorf("%d nag reports, want %d (two packs per stack)", len(reports), want)
	}
	// The reports' Non-Compliant rows are checked by assemblycheck, in
	// TestEveryEnvironmentTemplateHasTheGoldenImagePipeline.
}

// TestSuppressionsAreNarrowAndExplained checks every cdk-nag suppression in
// every template: one rule, a reason of substance, and applies_to for the
// granular IAM rules.
func TestSuppressionsAreNarrowAndExplained(t *testing.T) {
	dir, _, stacks := synthAll(t)
	total := 0
	used := map[string]bool{}
	for _, s := range stacks {
		tmpl := readTemplate(t, dir, *s.StackName())
		if md, ok := tmpl["Metadata"].(map[string]interface{}); ok && md["cdk_nag"] != nil {
			t.Errorf("%s has stack-wide suppressions; suppress on resources instead", *s.StackName())
		}
		for id, r := range tmpl["Resources"].(map[string]interface{}) {
			md, _ := r.(map[string]interface{})["Metadata"].(map[string]interface{})
			nag, _ := md["cdk_nag"].(map[string]interface{})
			rules, _ := nag["rules_to_suppress"].([]interface{})
			for _, rule := range rules {
				total++
				rm := rule.(map[string]interface{})
				ruleID, _ := rm["id"].(string)
				reason, _ := rm["reason"].(string)
				used[ruleID] = true
				if !regexp.MustCompile(`^(AwsSolutions|NIST\.800\.53\.R5)-[A-Za-z0-9]+$`).MatchString(ruleID) {
					t.Errorf("%s/%s: suppression id %q is not one rule", *s.StackName(), id, ruleID)
				}
				if len(reason) < 40 {
					t.Errorf("%s/%s: %s reason %q is too thin to be a justification", *s.StackName(), id, ruleID, reason)
				}
				if (ruleID == "AwsSolutions-IAM4" || ruleID == "AwsSolutions-IAM5") && rm["applies_to"] == nil {
					t.Errorf("%s/%s: %s suppression has no applies_to", *s.StackName(), id, ruleID)
				}
			}
		}
	}
	if total == 0 {
		t.Error("found no suppressions at all; the check is not looking in the right place")
	}
	// The README's table is the reviewer's list: every suppressed rule is on it.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	table := regexp.MustCompile(`(?s)## Security gate\n.*?(\n\| Rule \|.*?)\n\n`).FindSubmatch(readme)
	if table == nil {
		t.Fatal("README.md has no suppression table under \"## Security gate\"")
	}
	for id := range used {
		// The table writes AwsSolutions rules whole and NIST ones as "NIST <rule>".
		want := id
		if rule, ok := strings.CutPrefix(id, "NIST.800.53.R5-"); ok {
			want = "NIST " + rule
		}
		if !strings.Contains(string(table[1]), want) {
			t.Errorf("suppressed rule %s is not in the README's suppression table (as %q)", id, want)
		}
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// violations summarizes the validation report in dir: one line per rule and resource.
func violations(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "validation-report.json"))
	if err != nil {
		return ""
	}
	var report struct {
		PluginReports []struct {
			Violations []struct {
				Description         string
				ViolatingConstructs []struct{ ConstructPath string }
			}
		}
	}
	if json.Unmarshal(data, &report) != nil {
		return string(data)
	}
	var lines []string
	for _, p := range report.PluginReports {
		for _, v := range p.Violations {
			desc := v.Description
			if i := strings.IndexAny(desc, ".\n"); i > 0 && i < 160 {
				desc = desc[:i]
			}
			for _, c := range v.ViolatingConstructs {
				lines = append(lines, c.ConstructPath+": "+desc)
			}
		}
	}
	return strings.Join(lines, "\n")
}

var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// normalize blanks what changes without a meaningful change: asset hashes.
func normalize(data []byte) []byte {
	return assetHash.ReplaceAll(data, []byte("<asset-hash>"))
}

// TestSnapshots compares every synthesized template with its snapshot.
// Update them with: go test ./stacks -run TestSnapshots -update
func TestSnapshots(t *testing.T) {
	dir, _, stacks := synthAll(t)
	var names []string
	for _, s := range stacks {
		names = append(names, *s.StackName())
	}
	sort.Strings(names)
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(dir, name+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		var v interface{}
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatal(err)
		}
		got, _ = json.MarshalIndent(v, "", "  ")
		got = append(normalize(got), '\n')
		path := filepath.Join("testdata", "snapshots", name+".template.json")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: no snapshot (run: go test ./stacks -run TestSnapshots -update): %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; review the change and run: go test ./stacks -run TestSnapshots -update\n%s", name, path, firstDifference(want, got))
		}
	}
}

func firstDifference(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, wl, gl)
		}
	}
	return ""
}

// prod's build and test instances run in its subnet and security group;
// dev's, with neither set, in the default VPC.
func TestBuildInstancesRunInTheEnvironmentsNetwork(t *testing.T) {
	dir, _, _ := synthAll(t)
	for _, tc := range []struct {
		stack, subnet string
		groups        []interface{}
	}{
		{"GoldenAmi-prod", "subnet-0123456789abcdef0", []interface{}{"sg-0123456789abcdef0"}},
		{"GoldenAmi-dev", "", nil},
	} {
		infra := cdktest.ResourcesOfType(readTemplate(t, dir, tc.stack), "AWS::ImageBuilder::InfrastructureConfiguration")
		if len(infra) == 0 {
			t.Fatalf("%s: no infrastructure configuration", tc.stack)
		}
		for id, r := range infra {
			props := r["Properties"].(map[string]interface{})
			subnet, _ := props["SubnetId"].(string)
			groups, _ := props["SecurityGroupIds"].([]interface{})
			if subnet != tc.subnet || !reflect.DeepEqual(groups, tc.groups) {
				t.Errorf("%s %s: SubnetId %q, SecurityGroupIds %v; want %q and %v", tc.stack, id, subnet, groups, tc.subnet, tc.groups)
			}
		}
	}
}
