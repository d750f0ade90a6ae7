package stacks

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/assemblycheck"
	"github.com/platform-eng/golden-ami/internal/cdktest"
	"github.com/platform-eng/golden-ami/internal/compliance"
)

// pipelineFixture is the pipeline stack with every environment, synthesized
// once the way `cdk synth -c pipeline=true` does.
var pipelineFixture struct {
	once  sync.Once
	dir   string
	stack *PipelineStack
	err   error
}

func synthPipeline(t *testing.T) (string, *PipelineStack) {
	t.Helper()
	f := &pipelineFixture
	f.once.Do(func() {
		ctx, err := cdktest.Context()
		if err != nil {
			f.err = err
			return
		}
		if f.dir, f.err = os.MkdirTemp("", "golden-ami-pipeline-"); f.err != nil {
			return
		}
		fixture.extraDirs = append(fixture.extraDirs, f.dir)
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(f.dir)})
		cfg := DeliveryPipeline()
		envs, _ := Select(Environments(), "")
		if f.err = cfg.ValidateFor(envs); f.err != nil {
			return
		}
		f.stack = NewPipelineStack(app, jsii.String("GoldenAmi-Pipeline"), &PipelineStackProps{
			StackProps:   awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)}},
			Pipeline:     cfg,
			Environments: envs,
			PrepareStage: func(s awscdk.Stage) { compliance.Apply(s, true) },
		})
		compliance.Apply(app, true)
		defer func() {
			if r := recover(); r != nil {
				f.err = errorf("pipeline synth failed: %v\n%s", r, violations(f.dir))
			}
		}()
		app.Synth(nil)
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.dir, f.stack
}

func pipelineStages(t *testing.T, dir string) []map[string]interface{} {
	t.Helper()
	tmpl := readTemplate(t, dir, "GoldenAmi-Pipeline")
	for _, p := range cdktest.ResourcesOfType(tmpl, "AWS::CodePipeline::Pipeline") {
		var stages []map[string]interface{}
		for _, s := range p["Properties"].(map[string]interface{})["Stages"].([]interface{}) {
			stages = append(stages, s.(map[string]interface{}))
		}
		return stages
	}
	t.Fatal("no AWS::CodePipeline::Pipeline")
	return nil
}

func TestPipelineStagesRunInOrder(t *testing.T) {
	dir, _ := synthPipeline(t)
	var names []string
	for _, s := range pipelineStages(t, dir) {
		names = append(names, s["Name"].(string))
	}
	want := []string{"Source", "Build", "UpdatePipeline", "Assets"}
	for _, env := range Environments() {
		if len(env.DistributionRegions) > 0 {
			want = append(want, keysStage(t, dir, env)) // the keys before the images that use them
		}
		want = append(want, env.Name)
	}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("stages %v, want %v", names, want)
	}
}

// keysStage is the name of the pipeline stage that deploys env's keys: the
// wave "<env>-keys", which CDK Pipelines names after its stage
// ("<env>-keys-<region>") when it holds only one.
func keysStage(t *testing.T, dir string, env Environment) string {
	t.Helper()
	want := env.Name + "-keys"
	if len(env.DistributionRegions) == 1 {
		want += "-" + env.DistributionRegions[0]
	}
	for _, s := range pipelineStages(t, dir) {
		if s["Name"] == want {
			return want
		}
	}
	t.Fatalf("no pipeline stage %s", want)
	return ""
}

type action struct {
	Name      string
	RunOrder  float64
	Category  string
	Provider  string
	StackName string
}

func stageActions(t *testing.T, dir, stage string) []action {
	t.Helper()
	for _, s := range pipelineStages(t, dir) {
		if s["Name"] != stage {
			continue
		}
		var out []action
		for _, a := range s["Actions"].([]interface{}) {
			am := a.(map[string]interface{})
			typ := am["ActionTypeId"].(map[string]interface{})
			act := action{Name: am["Name"].(string), RunOrder: am["RunOrder"].(float64), Category: typ["Category"].(string), Provider: typ["Provider"].(string)}
			if cfg, ok := am["Configuration"].(map[string]interface{}); ok {
				act.StackName, _ = cfg["StackName"].(string)
			}
			out = append(out, act)
		}
		return out
	}
	t.Fatalf("no stage %s", stage)
	return nil
}

// Each environment deploys in two pipeline stages: "<env>-keys", every
// distribution region's key stack in parallel, then "<env>", the images
// stack followed by its verification; the approval, where required, comes
// first. Every stack deploys behind its permissions-broadening check.
func TestProdWaitsForApprovalAndDeploysItsKeysBeforeItsImages(t *testing.T) {
	dir, _ := synthPipeline(t)
	firstAction := func(actions []action) action {
		first := actions[0]
		for _, a := range actions {
			if a.RunOrder < first.RunOrder {
				first = a
			}
		}
		return first
	}
	deploys := func(actions []action) map[string]float64 {
		out := map[string]float64{}
		for _, a := range actions {
			if a.Provider == "CloudFormation" && strings.HasSuffix(a.Name, ".Deploy") {
				out[a.StackName] = a.RunOrder
			}
		}
		return out
	}
	checks := func(actions []action) (n int) {
		for _, a := range actions {
			if strings.Contains(a.Name, "Check") {
				n++
			}
		}
		return n
	}
	for _, env := range Environments() {
		images := stageActions(t, dir, env.Name)
		first := images
		if len(env.DistributionRegions) > 0 {
			keys := stageActions(t, dir, keysStage(t, dir, env))
			first = keys
			got := deploys(keys)
			if len(got) != len(env.DistributionRegions) {
				t.Errorf("%s-keys deploys %v, want the key stacks of %v", env.Name, got, env.DistributionRegions)
			}
			for _, r := range env.DistributionRegions {
				name := "GoldenAmi-" + env.Name + "-keys-" + r
				if at, ok := got[name]; !ok || at != got["GoldenAmi-"+env.Name+"-keys-"+env.DistributionRegions[0]] {
					t.Errorf("%s-keys: %s deploys at %v (present %v); want every region in parallel", env.Name, name, at, ok)
				}
			}
			if n := checks(keys); n < len(env.DistributionRegions) {
				t.Errorf("%s-keys: %d permission checks for %d stacks", env.Name, n, len(env.DistributionRegions))
			}
		}
		f := firstAction(first)
		if approval := f.Category == "Approval" && f.Provider == "Manual"; approval != env.RequireApproval {
			t.Errorf("%s: first action %+v; approval %v, want %v", env.Name, f, approval, env.RequireApproval)
		}
		if f := firstAction(images); len(env.DistributionRegions) > 0 && f.Category == "Approval" {
			t.Errorf("%s: the images stage asks for approval again (%+v)", env.Name, f)
		}
		got := deploys(images)
		at, ok := got["GoldenAmi-"+env.Name]
		if len(got) != 1 || !ok {
			t.Errorf("%s deploys %v, want GoldenAmi-%s alone", env.Name, got, env.Name)
		}
		verify := 0
		for _, a := range images {
			if strings.Contains(a.Name, "Verify-"+env.Name) {
				verify++
				if a.RunOrder <= at {
					t.Errorf("%s: verification runs at %v, before or with the deploy at %v", env.Name, a.RunOrder, at)
				}
			}
		}
		if n := checks(images); n < 1 || verify != 1 {
			t.Errorf("%s: %d permission checks, %d verifications; want at least 1 and 1", env.Name, n, verify)
		}
	}
}

func TestBuildRunsVetTestsWithAReportThenSynth(t *testing.T) {
	dir, _ := synthPipeline(t)
	tmpl := readTemplate(t, dir, "GoldenAmi-Pipeline")
	var spec map[string]interface{}
	var cache, environment map[string]interface{}
	for _, p := range cdktest.ResourcesOfType(tmpl, "AWS::CodeBuild::Project") {
		props := p["Properties"].(map[string]interface{})
		src := props["Source"].(map[string]interface{})
		raw := flatten(src["BuildSpec"])
		if strings.Contains(raw, "gotestsum") {
			if err := json.Unmarshal([]byte(raw), &spec); err != nil {
				t.Fatal(err)
			}
			cache, _ = props["Cache"].(map[string]interface{})
			environment, _ = props["Environment"].(map[string]interface{})
		}
	}
	if spec == nil {
		t.Fatal("no CodeBuild project runs the tests")
	}
	var commands []string
	for _, phase := range []string{"install", "build"} {
		p, _ := spec["phases"].(map[string]interface{})[phase].(map[string]interface{})
		for _, c := range p["commands"].([]interface{}) {
			commands = append(commands, c.(string))
		}
	}
	// The same checks as .ci/run and the README's test command, in its order:
	// gofmt, vet, this module's tests, examples/consumer's, synth, then the
	// check of what synth wrote.
	order := []string{
		removeCachedToolchain,
		`go version`,
		`gofmt" -l .`,
		`go mod verify && (cd examples/consumer && go mod verify) && (cd internal/tools/gotestsum && go mod verify)`,
		`go vet ./...`,
		`go -C internal/tools/gotestsum build -o /tmp/gotestsum gotest.tools/gotestsum`,
		`/tmp/gotestsum --junitfile reports/unit-tests.xml -- ./...`,
		`(cd examples/consumer && go vet ./... && go test ./...)`,
		`aws-cdk@` + CDKCLIVersion + ` synth --quiet -c pipeline=true`,
		`go run ./internal/tools/checkassembly cdk.out`,
		removeCachedToolchain, // again, last: the cache need not upload it
	}
	last := -1
	for _, want := range order {
		i := -1
		for j, c := range commands {
			if strings.Contains(c, want) && j > last {
				i = j
				break
			}
		}
		if i < 0 {
			t.Errorf("build commands %q: want %q after the previous step", commands, want)
			continue
		}
		last = i
	}
	for _, c := range commands {
		if strings.Contains(c, "gofmt") {
			checkGofmtCommand(t, c)
		}
	}
	reports, _ := json.Marshal(spec["reports"])
	if !strings.Contains(string(reports), `"file-format":"JUNITXML"`) || !strings.Contains(string(reports), "TestReports") {
		t.Errorf("reports %s: want the unit tests' JUnit file in the TestReports group", reports)
	}
	// Only what the build verifies is cached: Go's modules (go mod verify);
	// not what Go, jsii or npx trust as found.
	var cached struct{ Paths []string }
	raw, _ := json.Marshal(spec["cache"])
	_ = json.Unmarshal(raw, &cached)
	if want := []string{goModCache + "/**/*"}; !slices.Equal(cached.Paths, want) {
		t.Errorf("cache paths %q, want only %q", cached.Paths, want)
	}
	if !strings.Contains(removeCachedToolchain, "rm -rf "+goModCache+"/golang.org/toolchain@* "+goModCache+"/cache/download/golang.org/toolchain") {
		t.Errorf("removeCachedToolchain %q does not remove the cached toolchain and its download", removeCachedToolchain)
	}
	if cache["Type"] != "S3" {
		t.Errorf("build cache %v, want an S3 cache", cache)
	}
	vars := map[string]interface{}{}
	for _, v := range environment["EnvironmentVariables"].([]interface{}) {
		vm := v.(map[string]interface{})
		vars[vm["Name"].(string)] = vm["Value"]
	}
	if vars["GOTOOLCHAIN"] != DeliveryPipeline().GoToolchain || vars["GOMODCACHE"] != goModCache || vars["GOCACHE"] != goBuildCache {
		t.Errorf("build environment %v does not pin the Go toolchain and caches", vars)
	}
}

// checkGofmtCommand runs the build's gofmt command in a directory holding
// a formatted file, where it must succeed, then an unformatted one, where it
// must fail: printing the files is not enough, CodeBuild needs the status.
func checkGofmtCommand(t *testing.T, command string) {
	t.Helper()
	for _, tc := range []struct {
		source string
		fail   bool
	}{
		{"package x\n\nfunc f() {}\n", false},
		{"package x\nfunc  f( ) {  }\n", true},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(tc.source), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-c", command)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.fail {
			t.Errorf("gofmt command %q on %q: failed %v (%v, output %q), want failed %v", command, tc.source, failed, err, out, tc.fail)
		}
	}
}

// flatten renders a string or an Fn::Join of strings and references as one
// string, each reference written as its logical id.
func flatten(v interface{}) string {
	return render(v, func(id, _ string) string { return id })
}

func TestPipelineTemplateResources(t *testing.T) {
	_, stack := synthPipeline(t)
	tmpl := assertions.Template_FromStack(stack.Stack, nil)
	cdktest.Check(t, "keys rotate", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::KMS::Key"), map[string]interface{}{"EnableKeyRotation": true})
	})
	cdktest.Check(t, "report group", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::CodeBuild::ReportGroup"), map[string]interface{}{
			"Type": "TEST", "ExportConfig": map[string]interface{}{"ExportConfigType": "S3"},
		})
	})
	cdktest.Check(t, "every CodeBuild project logs to the encrypted build log group, kept a year", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]interface{}{
			"LogGroupName": PipelineBuildLogGroup, "RetentionInDays": 365,
			"KmsKeyId": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^Key")), "Arn"}},
		})
		tmpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]interface{}{
			"Properties":     map[string]interface{}{"LogGroupName": PipelineBuildLogGroup},
			"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain",
		})
		tmpl.AllResourcesProperties(jsii.String("AWS::CodeBuild::Project"), map[string]interface{}{
			"LogsConfig": map[string]interface{}{"CloudWatchLogs": map[string]interface{}{
				"GroupName": map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^BuildLogs"))}, "Status": "ENABLED",
			}},
		})
	})
	cdktest.Check(t, "permission-broadening notifications go to the encrypted topic", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]interface{}{
			"KmsMasterKeyId": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^Key")), "Arn"}},
		})
	})
}

// cdkCLIInstall matches every way a buildspec can fetch the CDK CLI, with
// the version it asks for, if any.
var cdkCLIInstall = regexp.MustCompile(`(?:npm (?:install|i)(?: -g| --global)+|npx(?: --yes| -y)?) aws-cdk(@[0-9A-Za-z.+-]*)?`)

// TestEveryCodeBuildProjectInstallsThePinnedCDKCLI walks every CodeBuild
// project of every template the pipeline synthesizes: one that fetches
// aws-cdk without CDKCLIVersion gets npm's latest, which may be a 3.x that
// cannot read this library's cloud assembly. The permissions-broadening
// check, whose buildspec CDK Pipelines writes with a bare
// `npm install -g aws-cdk`, would then fail on every stage and be reported
// as a broadening that needs a manual approval.
func TestEveryCodeBuildProjectInstallsThePinnedCDKCLI(t *testing.T) {
	dir, _ := synthPipeline(t)
	var templates []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".template.json") {
			templates = append(templates, p)
		}
		return nil
	})
	installers, securityChecks := 0, 0
	for _, path := range templates {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl map[string]interface{}
		if err := json.Unmarshal(data, &tmpl); err != nil {
			t.Fatal(err)
		}
		for id, p := range cdktest.ResourcesOfType(tmpl, "AWS::CodeBuild::Project") {
			src, _ := p["Properties"].(map[string]interface{})["Source"].(map[string]interface{})
			spec := flatten(src["BuildSpec"])
			if spec == "" && src["BuildSpec"] != nil {
				t.Errorf("%s %s: cannot read the buildspec %v", filepath.Base(path), id, src["BuildSpec"])
			}
			matches := cdkCLIInstall.FindAllStringSubmatch(spec, -1)
			if len(matches) > 0 {
				installers++
			}
			for _, m := range matches {
				if m[1] != "@"+CDKCLIVersion {
					t.Errorf("%s %s runs %q: want aws-cdk@%s, the CLI that reads this library's cloud assembly", filepath.Base(path), id, m[0], CDKCLIVersion)
				}
			}
			if strings.Contains(spec, "--security-only") {
				securityChecks++
				if !strings.Contains(spec, "cdk diff -a . --security-only --fail") {
					t.Errorf("%s %s: the permissions-broadening check no longer runs `cdk diff -a . --security-only --fail`:\n%s", filepath.Base(path), id, spec)
				}
				if len(matches) == 0 {
					t.Errorf("%s %s: the permissions-broadening check installs no aws-cdk@%s:\n%s", filepath.Base(path), id, CDKCLIVersion, spec)
				}
			}
		}
	}
	// Synth, self-mutation and the permissions-broadening check.
	if installers < 3 || securityChecks != 1 {
		t.Errorf("%d CodeBuild projects fetch aws-cdk and %d run the permissions-broadening check; want synth, self-mutation and the check (3), and 1", installers, securityChecks)
	}
}

// TestPipelineNagGate covers the pipeline stack, its cross-region support
// stacks and every stage's stacks: reports exist for each and hold no
// Non-Compliant row; no unsuppressed annotation remains.
func TestPipelineNagGate(t *testing.T) {
	dir, stack := synthPipeline(t)
	for _, f := range cdktest.NagFindings(t, stack.Stack) {
		t.Error(f)
	}
	var reports []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, "-NagReport.csv") {
			reports = append(reports, filepath.Base(p))
		}
		return nil
	})
	for _, name := range []string{"GoldenAmi-Pipeline", "GoldenAmi-Pipeline-support-us-west-2", "GoldenAmi-dev", "GoldenAmi-prod", "GoldenAmi-prod-keys-eu-west-1"} {
		for _, pack := range []string{"AwsSolutions", "NIST.800.53.R5"} {
			found := false
			for _, r := range reports {
				found = found || r == pack+"-"+name+"-NagReport.csv"
			}
			if !found {
				t.Errorf("no %s report for %s among %v", pack, name, reports)
			}
		}
	}
	for _, p := range assemblycheck.NagReportProblems(dir) {
		t.Error(p)
	}
}

func TestInvalidPipelineConfig(t *testing.T) {
	good := DeliveryPipeline()
	for _, tc := range []struct {
		test   string
		mutate func(*PipelineConfig)
		want   string
	}{
		{"TestFailsWhenPipelineAccountIsInvalid", func(c *PipelineConfig) { c.Account, c.SlackWebhookSecretARN = "99", "" }, `pipeline: Account "99" is not an AWS account id (want 12 digits)`},
		{"TestFailsWithoutASource", func(c *PipelineConfig) { c.ConnectionARN = "" }, `pipeline: ConnectionARN is empty and so is CodeCommitRepository (want one source)`},
		{"TestFailsWithTwoSources", func(c *PipelineConfig) { c.CodeCommitRepository = "golden-ami" }, `pipeline: ConnectionARN and CodeCommitRepository are both set (want one source)`},
		{"TestFailsWhenConnectionIsNotAConnection", func(c *PipelineConfig) { c.ConnectionARN = "arn:aws:iam::999999999999:role/x" },
			`pipeline: ConnectionARN "arn:aws:iam::999999999999:role/x" is not a CodeConnections connection ARN`},
		{"TestFailsWhenConnectionIsInAnotherAccount", func(c *PipelineConfig) {
			c.ConnectionARN = "arn:aws:codeconnections:eu-west-1:888888888888:connection/00000000-0000-0000-0000-000000000000"
		}, `pipeline: ConnectionARN "arn:aws:codeconnections:eu-west-1:888888888888:connection/00000000-0000-0000-0000-000000000000" is in account 888888888888, not the pipeline's account 999999999999`},
		{"TestFailsWhenConnectionIsOfAnotherPartition", func(c *PipelineConfig) {
			c.ConnectionARN = "arn:aws-us-gov:codeconnections:us-gov-west-1:999999999999:connection/00000000-0000-0000-0000-000000000000"
		}, `pipeline: ConnectionARN "arn:aws-us-gov:codeconnections:us-gov-west-1:999999999999:connection/00000000-0000-0000-0000-000000000000" is in partition aws-us-gov, but region us-east-1 is in aws`},
		{"TestFailsWhenRepositoryHasNoOwner", func(c *PipelineConfig) { c.Repository = "golden-ami" }, `pipeline: Repository "golden-ami" is not an "owner/name" repository`},
		{"TestFailsWhenToolchainIsNotExact", func(c *PipelineConfig) { c.GoToolchain = "1.26" }, `pipeline: GoToolchain "1.26" is not an exact Go toolchain (want e.g. "go1.26.8")`},
		{"TestFailsWhenSlackSecretIsInAnotherAccount", func(c *PipelineConfig) {
			c.SlackWebhookSecretARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:slack-AbCdEf"
		}, `pipeline: SlackWebhookSecretARN "arn:aws:secretsmanager:us-east-1:111111111111:secret:slack-AbCdEf" is in account 111111111111, not 999999999999`},
		{"TestFailsWhenSlackSecretIsInAnotherRegion", func(c *PipelineConfig) {
			c.SlackWebhookSecretARN = "arn:aws:secretsmanager:eu-west-1:999999999999:secret:slack-AbCdEf"
		}, `pipeline: SlackWebhookSecretARN "arn:aws:secretsmanager:eu-west-1:999999999999:secret:slack-AbCdEf" is in region eu-west-1, not the pipeline's region us-east-1`},
		{"TestFailsWhenSlackSecretARNIsMalformed", func(c *PipelineConfig) {
			c.SlackWebhookSecretARN = "arn:aws:secretsmanager:us-east-1:999999999999:secret:slack"
		}, `pipeline: SlackWebhookSecretARN "arn:aws:secretsmanager:us-east-1:999999999999:secret:slack" is not a complete Secrets Manager secret ARN (want arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)`},
		{"TestFailsWhenPermissionsBoundaryIsTooLong", func(c *PipelineConfig) { c.PermissionsBoundary = strings.Repeat("b", 129) },
			`pipeline: PermissionsBoundary "` + strings.Repeat("b", 129) + `" is not an IAM policy name (1-128 letters, digits and +=,.@_-)`},
		{"TestFailsWhenNotificationEmailsRepeatExactly", func(c *PipelineConfig) { c.NotificationEmails = []string{"ops@example.com", "ops@example.com"} },
			`pipeline: NotificationEmails [1] "ops@example.com" duplicates [0] (compared case-insensitively; each address subscribes once)`},
		{"TestFailsWhenNotificationEmailsDifferOnlyInCase", func(c *PipelineConfig) { c.NotificationEmails = []string{"ops@example.com", "Ops@Example.com"} },
			`pipeline: NotificationEmails [1] "ops@example.com" duplicates [0] (compared case-insensitively; each address subscribes once)`},
	} {
		t.Run(tc.test, func(t *testing.T) {
			c := good
			tc.mutate(&c)
			if err := c.Validate(); err == nil || err.Error() != tc.want {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
	if err := good.Validate(); err != nil {
		t.Errorf("the shipped pipeline config is invalid: %v", err)
	}
}

// readmeSection returns the README's section under heading, up to the next
// heading of the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(readme), "\n"+heading+"\n")
	if !found {
		t.Fatalf("README.md has no %q section", heading)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	return section
}

// TestREADMEDeployStepsReplaceEveryPlaceholder keeps the deploy steps in
// step with the shipped configuration: main.go validates every environment
// before it selects one, and the pipeline config with -c pipeline=true, so
// a placeholder left anywhere stops the deploy. The README must name each
// placeholder, say how to create the Slack secret the stacks only import,
// and quote the error a user sees otherwise, as the code words it.
func TestREADMEDeployStepsReplaceEveryPlaceholder(t *testing.T) {
	const yours = "123456789012"
	envs := Environments()
	for i := range envs {
		if envs[i].SlackWebhookSecretARN != "" {
			envs[i].Account = yours
			break
		}
	}
	envErr := ValidateAll(envs)
	if envErr == nil {
		t.Fatal("no shipped environment has a placeholder Slack secret; update this test and the README")
	}
	pipeline := DeliveryPipeline()
	pipeline.Account = yours
	pipelineErr := pipeline.Validate()
	if pipelineErr == nil {
		t.Fatal("the shipped pipeline config has no placeholder Slack secret; update this test and the README")
	}
	shared := []string{
		"`SlackWebhookSecretARN`", "`NotificationEmails`",
		"aws secretsmanager create-secret --name golden-ami/slack-webhook --secret-string 'https://hooks.slack.com/services/",
		`{"webhookUrl": "https://hooks.slack.com/services/`,
		"Secret_FromSecretCompleteArn", "home region", "random suffix", `""`, "kms:Decrypt",
	}
	for _, tc := range []struct {
		heading string
		want    []string
	}{
		{"## Deploy one environment", append([]string{
			"`Environments()`", "`DeliveryPipeline()`", "`Account`", "`DistributionAccounts`", envErr.Error(),
		}, shared...)},
		{"## Deploy through the pipeline", append([]string{
			"`DeliveryPipeline()`", "`Environments()`", "`Account`", "`ConnectionARN`", pipelineErr.Error(),
		}, shared...)},
	} {
		// Compare words, not line breaks: prose is wrapped at any space.
		section := strings.Join(strings.Fields(readmeSection(t, tc.heading)), " ")
		for _, want := range tc.want {
			if !strings.Contains(section, strings.Join(strings.Fields(want), " ")) {
				t.Errorf("README %q does not say %s", tc.heading, want)
			}
		}
	}
}

// A pipeline deploys only environments of its own partition.
func TestPipelineFailsForAnEnvironmentOfAnotherPartition(t *testing.T) {
	china := validEnv()
	china.Name, china.Region = "china", "cn-north-1"
	err := DeliveryPipeline().ValidateFor([]Environment{validEnv(), china})
	want := `pipeline: Region "us-east-1" is in partition aws, but environment "china"'s Region "cn-north-1" is in aws-cn (a pipeline deploys within its partition)`
	if err == nil || err.Error() != want {
		t.Errorf("ValidateFor = %v, want %s", err, want)
	}
	if err := DeliveryPipeline().ValidateFor([]Environment{validEnv()}); err != nil {
		t.Errorf("ValidateFor one environment of the pipeline's partition = %v", err)
	}
}

// removeCachedToolchain deletes the toolchain a build downloaded into the
// (read-only) module cache and its download, and nothing else.
func TestRemoveCachedToolchainDeletesOnlyTheToolchain(t *testing.T) {
	cache := t.TempDir()
	for _, dir := range []string{
		"golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64/bin", "cache/download/golang.org/toolchain/@v",
		"golang.org/x/sys@v0.36.0/unix", "cache/download/golang.org/x/sys/@v",
	} {
		if err := os.MkdirAll(filepath.Join(cache, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cache, dir, "f"), []byte("x"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	// Go leaves the module cache read-only.
	if err := filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != cache {
			err = os.Chmod(p, 0o555)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("chmod", "-R", "u+w", cache).Run() })
	cmd := exec.Command("bash", "-c", strings.ReplaceAll(removeCachedToolchain, goModCache, cache))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	for dir, want := range map[string]bool{
		"golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64": false, "cache/download/golang.org/toolchain": false,
		"golang.org/x/sys@v0.36.0/unix/f": true, "cache/download/golang.org/x/sys/@v/f": true,
	} {
		if _, err := os.Stat(filepath.Join(cache, dir)); (err == nil) != want {
			t.Errorf("after removeCachedToolchain, %s exists = %v, want %v", dir, err == nil, want)
		}
	}
}
