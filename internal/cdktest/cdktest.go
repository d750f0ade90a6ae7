// Package cdktest builds CDK apps for tests with exactly the context that
// `cdk synth` uses: the feature flags in the repository's cdk.json. Tests
// therefore synthesize with the same behaviour, including
// @aws-cdk/core:validateAgainstDefaultRules. AppSetups adds the setups of
// other teams' apps: no feature flags, environment-agnostic stacks.
package cdktest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/platform-eng/golden-ami/internal/compliance"
)

var reportPath = regexp.MustCompile(`found in: (\S+validation-report\.json)`)

var (
	contextOnce sync.Once
	context     map[string]interface{}
	contextErr  error
)

// Context returns the "context" object of the repository's cdk.json.
func Context() (map[string]interface{}, error) {
	contextOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			contextErr = err
			return
		}
		data, err := os.ReadFile(filepath.Join(root, "cdk.json"))
		if err != nil {
			contextErr = err
			return
		}
		var cfg struct {
			Context map[string]interface{} `json:"context"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			contextErr = fmt.Errorf("cdk.json: %w", err)
			return
		}
		context = cfg.Context
	})
	return context, contextErr
}

// RepoRoot walks up from the working directory to the directory holding cdk.json and go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "cdk.json")) && fileExists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cdktest: no cdk.json with go.mod above the working directory")
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// NewApp returns an App with cdk.json's context plus extra, writing its
// cloud assembly to a temporary directory removed when the test ends.
func NewApp(t testing.TB, extra map[string]interface{}) awscdk.App {
	t.Helper()
	ctx, err := Context()
	if err != nil {
		t.Fatal(err)
	}
	merged := make(map[string]interface{}, len(ctx)+len(extra))
	for k, v := range ctx {
		merged[k] = v
	}
	for k, v := range extra {
		merged[k] = v
	}
	return awscdk.NewApp(&awscdk.AppProps{
		Context: &merged,
		Outdir:  str(t.TempDir()),
	})
}

// TemplateJSON returns the synthesized template of stack as plain Go values.
func TemplateJSON(t testing.TB, stack awscdk.Stack) map[string]interface{} {
	t.Helper()
	raw := assertions.Template_FromStack(stack, nil).ToJSON()
	data, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]interface{}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// ResourcesOfType returns the resources of the given CloudFormation type, by logical id.
func ResourcesOfType(template map[string]interface{}, typ string) map[string]map[string]interface{} {
	out := map[string]map[string]interface{}{}
	resources, _ := template["Resources"].(map[string]interface{})
	for id, r := range resources {
		res, _ := r.(map[string]interface{})
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// ExpectPanic runs fn and returns the message of the panic it raises,
// failing the test when it does not panic.
func ExpectPanic(t testing.TB, fn func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("expected a panic, got none")
		}
		switch v := r.(type) {
		case error:
			msg = v.Error()
		case string:
			msg = v
		default:
			msg = fmt.Sprint(v)
		}
	}()
	fn()
	return ""
}

func str(s string) *string { return &s }

// Check runs a jsii assertion (which panics on mismatch) and reports a
// mismatch as a test error carrying the assertion's message.
func Check(t testing.TB, what string, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assertion()
}

// NagFindings returns the cdk-nag error and warning annotations of stack,
// as "<rule>: <path>" lines, after applying packs. An error-level finding
// fails synthesis under validateAgainstDefaultRules; that failure is
// returned as a finding too, with the report's content.
func NagFindings(t testing.TB, stack awscdk.Stack) (findings []string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if m := reportPath.FindStringSubmatch(msg); m != nil {
				if data, err := os.ReadFile(m[1]); err == nil {
					msg += "\n" + string(data)
				}
			}
			findings = append(findings, "synthesis failed: "+msg)
		}
	}()
	annotations := assertions.Annotations_FromStack(stack)
	any := assertions.Match_StringLikeRegexp(str(".*"))
	for _, m := range *annotations.FindError(str("*"), any) {
		findings = append(findings, fmt.Sprintf("error %s: %v", *m.Id, m.Entry.Data))
	}
	for _, m := range *annotations.FindWarning(str("*"), any) {
		findings = append(findings, fmt.Sprintf("warning %s: %v", *m.Id, m.Entry.Data))
	}
	return findings
}

// AlarmTopicProblems lists the alarms in template whose actions name an SNS
// topic of the same template that CloudWatch may not publish to: CloudWatch
// publishes alarm actions as the service cloudwatch.amazonaws.com, so the
// topic's policy (any topic policy replaces SNS's default) must allow it
// sns:Publish. Actions that are not a Ref to a topic of the template (an
// imported topic, an Auto Scaling or EC2 action) are not checked.
func AlarmTopicProblems(template map[string]interface{}) []string {
	allowed := map[string]bool{} // logical ids of topics that allow CloudWatch
	for _, policy := range ResourcesOfType(template, "AWS::SNS::TopicPolicy") {
		props, _ := policy["Properties"].(map[string]interface{})
		doc, _ := props["PolicyDocument"].(map[string]interface{})
		statements, _ := doc["Statement"].([]interface{})
		allows := false
		for _, s := range statements {
			st, _ := s.(map[string]interface{})
			principal, _ := st["Principal"].(map[string]interface{})
			if st["Effect"] == "Allow" && principal["Service"] == "cloudwatch.amazonaws.com" &&
				(st["Action"] == "sns:Publish" || fmt.Sprint(st["Action"]) == "[sns:Publish]") {
				allows = true
			}
		}
		topics, _ := props["Topics"].([]interface{})
		for _, topic := range topics {
			if ref, ok := topic.(map[string]interface{})["Ref"].(string); ok && allows {
				allowed[ref] = true
			}
		}
	}
	var problems []string
	for id, alarm := range ResourcesOfType(template, "AWS::CloudWatch::Alarm") {
		props, _ := alarm["Properties"].(map[string]interface{})
		for _, key := range []string{"AlarmActions", "OKActions", "InsufficientDataActions"} {
			actions, _ := props[key].([]interface{})
			for _, a := range actions {
				ref, ok := a.(map[string]interface{})["Ref"].(string)
				if !ok {
					continue
				}
				resource, _ := template["Resources"].(map[string]interface{})[ref].(map[string]interface{})
				if resource["Type"] == "AWS::SNS::Topic" && !allowed[ref] {
					problems = append(problems, fmt.Sprintf("alarm %s: %s topic %s does not let cloudwatch.amazonaws.com publish", id, key, ref))
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// AppSetup is one way an app that uses the constructs may be configured:
// with this repository's feature flags or none, and with stacks bound to
// an account and region or environment-agnostic. The setups differ in what
// CDK renders as a literal and what as a token (the partition, region and
// account of an ARN), which cdk-nag's findings and so their suppressions
// must match.
type AppSetup struct {
	// Name names the setup, for subtests.
	Name string
	// Flags gives the app cdk.json's context; without it the app has no
	// context at all, as a consumer's bare awscdk.NewApp(nil).
	Flags bool
	// Env is the stacks' environment; nil makes them environment-agnostic.
	Env *awscdk.Environment
	// PermissionsBoundary, when set, is the name of the permissions
	// boundary the stack gives every role (StackProps.PermissionsBoundary),
	// as a team whose roles must be bounded does.
	PermissionsBoundary string
}

// AppSetups are the setups every construct must synthesize in with no
// unsuppressed cdk-nag finding. Stacks with an environment are in
// 111111111111, us-east-1.
func AppSetups() []AppSetup {
	env := &awscdk.Environment{Account: str("111111111111"), Region: str("us-east-1")}
	return []AppSetup{
		{Name: "flags, env", Flags: true, Env: env},
		{Name: "flags, env-agnostic", Flags: true},
		{Name: "no flags, env, permissions boundary", Env: env, PermissionsBoundary: "TeamBoundary"},
		{Name: "no flags, env-agnostic"},
	}
}

// NewStack returns a stack named id in a new App of setup s.
func (s AppSetup) NewStack(t testing.TB, id string) awscdk.Stack {
	t.Helper()
	var app awscdk.App
	if s.Flags {
		app = NewApp(t, nil)
	} else {
		app = awscdk.NewApp(&awscdk.AppProps{Outdir: str(t.TempDir())})
	}
	props := &awscdk.StackProps{Env: s.Env}
	if s.PermissionsBoundary != "" {
		props.PermissionsBoundary = awscdk.PermissionsBoundary_FromName(str(s.PermissionsBoundary))
	}
	return awscdk.NewStack(app, str(id), props)
}

// NagCleanInEveryAppSetup runs define on a stack named stackName in each
// of AppSetups, as a subtest, and requires the stack to be nag-clean; in a
// setup with a PermissionsBoundary, every role must have it too.
func NagCleanInEveryAppSetup(t *testing.T, stackName string, define func(t *testing.T, stack awscdk.Stack)) {
	t.Helper()
	for _, setup := range AppSetups() {
		t.Run(setup.Name, func(t *testing.T) {
			stack := setup.NewStack(t, stackName)
			define(t, stack)
			NagClean(t, stack)
			if setup.PermissionsBoundary != "" {
				for _, p := range UnboundedRoles(TemplateJSON(t, stack), setup.PermissionsBoundary) {
					t.Error(p)
				}
			}
		})
	}
}

// UnboundedRoles lists the roles in template whose permissions boundary is
// not the managed policy named boundary, and fails when there is no role.
func UnboundedRoles(template map[string]interface{}, boundary string) []string {
	roles := ResourcesOfType(template, "AWS::IAM::Role")
	if len(roles) == 0 {
		return []string{"the template defines no role to check for permissions boundary " + boundary}
	}
	var problems []string
	want := regexp.MustCompile(`:policy/` + regexp.QuoteMeta(boundary) + `"`)
	for id, role := range roles {
		props, _ := role["Properties"].(map[string]interface{})
		got, _ := json.Marshal(props["PermissionsBoundary"])
		if !want.Match(got) {
			problems = append(problems, fmt.Sprintf("role %s has permissions boundary %s, want the policy %s", id, got, boundary))
		}
	}
	sort.Strings(problems)
	return problems
}

// NagClean applies the compliance packs to stack and reports each
// unsuppressed finding as a test error.
func NagClean(t testing.TB, stack awscdk.Stack) {
	t.Helper()
	compliance.Apply(stack, false)
	for _, f := range NagFindings(t, stack) {
		t.Error(f)
	}
}
