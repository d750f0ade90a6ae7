package stacks

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

type policyDocument struct {
	Version   string
	Statement []policyStatement
}

type policyStatement struct {
	Sid       string
	Effect    string
	Action    []string
	Resource  json.RawMessage
	Condition map[string]map[string]json.RawMessage
}

func readPolicy(t *testing.T, name string) (policyDocument, int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "bootstrap", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc policyDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	return doc, compact.Len()
}

var (
	environmentPolicies = []string{"environment-execution-policy-images.json", "environment-execution-policy-functions.json"}
	pipelinePolicies    = []string{"pipeline-execution-policy.json"}
)

// createActions is the action CloudFormation needs to create each resource
// type our stacks define. A type missing here fails the test below: add it
// here and to the bootstrap policy together.
var createActions = map[string]string{
	"AWS::ImageBuilder::Component":                   "imagebuilder:CreateComponent",
	"AWS::ImageBuilder::ImageRecipe":                 "imagebuilder:CreateImageRecipe",
	"AWS::ImageBuilder::InfrastructureConfiguration": "imagebuilder:CreateInfrastructureConfiguration",
	"AWS::ImageBuilder::DistributionConfiguration":   "imagebuilder:CreateDistributionConfiguration",
	"AWS::ImageBuilder::ImagePipeline":               "imagebuilder:CreateImagePipeline",
	"AWS::ImageBuilder::LifecyclePolicy":             "imagebuilder:CreateLifecyclePolicy",
	"AWS::SSM::Parameter":                            "ssm:PutParameter",
	"AWS::KMS::Key":                                  "kms:CreateKey",
	"AWS::KMS::Alias":                                "kms:CreateAlias",
	"AWS::S3::Bucket":                                "s3:CreateBucket",
	"AWS::S3::BucketPolicy":                          "s3:PutBucketPolicy",
	"AWS::SNS::Topic":                                "sns:CreateTopic",
	"AWS::SNS::TopicPolicy":                          "sns:SetTopicAttributes",
	"AWS::SNS::Subscription":                         "sns:Subscribe",
	"AWS::SQS::Queue":                                "sqs:CreateQueue",
	"AWS::SQS::QueuePolicy":                          "sqs:SetQueueAttributes",
	"AWS::Lambda::Function":                          "lambda:CreateFunction",
	"AWS::Lambda::Permission":                        "lambda:AddPermission",
	"AWS::Lambda::EventInvokeConfig":                 "lambda:PutFunctionEventInvokeConfig",
	"AWS::Logs::LogGroup":                            "logs:CreateLogGroup",
	"AWS::Events::Rule":                              "events:PutRule",
	"AWS::CloudWatch::Alarm":                         "cloudwatch:PutMetricAlarm",
	"AWS::IAM::Role":                                 "iam:CreateRole",
	"AWS::IAM::ManagedPolicy":                        "iam:CreatePolicy",
	"AWS::IAM::Policy":                               "iam:PutRolePolicy",
	"AWS::IAM::InstanceProfile":                      "iam:CreateInstanceProfile",
	"AWS::CodeBuild::Project":                        "codebuild:CreateProject",
	"AWS::CodeBuild::ReportGroup":                    "codebuild:CreateReportGroup",
	"AWS::CodePipeline::Pipeline":                    "codepipeline:CreatePipeline",
}

func TestBootstrapPoliciesAreValidAndNarrow(t *testing.T) {
	for _, name := range append(append([]string{}, environmentPolicies...), pipelinePolicies...) {
		doc, size := readPolicy(t, name)
		if doc.Version != "2012-10-17" || len(doc.Statement) == 0 {
			t.Errorf("%s: version %q, %d statements", name, doc.Version, len(doc.Statement))
		}
		// IAM managed policies hold at most 6,144 characters, whitespace excluded.
		if size > 6144 {
			t.Errorf("%s is %d characters; IAM managed policies hold at most 6144", name, size)
		}
		for _, s := range doc.Statement {
			if s.Effect != "Allow" || s.Sid == "" {
				t.Errorf("%s: statement %q has effect %q", name, s.Sid, s.Effect)
			}
			for _, a := range s.Action {
				if strings.Contains(a, "*") {
					t.Errorf("%s: statement %s has wildcard action %q", name, s.Sid, a)
				}
			}
		}
	}
}

// TestEnvironmentPolicyCoversEveryResourceType checks the environment
// policies against the environment snapshots; TestPipelineNagGate's
// synthesized pipeline is checked the same way by
// TestPipelinePolicyCoversEveryResourceType.
func TestEnvironmentPolicyCoversEveryResourceType(t *testing.T) {
	snapshots, _ := filepath.Glob(filepath.Join("testdata", "snapshots", "*.template.json"))
	if len(snapshots) == 0 {
		t.Fatal("no snapshots to read resource types from")
	}
	checkPolicyCoverage(t, environmentPolicies, snapshots)
}

func TestPipelinePolicyCoversEveryResourceType(t *testing.T) {
	dir, _ := synthPipeline(t)
	templates, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
	var own []string
	for _, path := range templates {
		// The pipeline stack and its cross-region support stacks; the
		// stages' stacks are the environments', covered above.
		if base := filepath.Base(path); strings.HasPrefix(base, "GoldenAmi-Pipeline") || strings.HasPrefix(base, "cross-region-stack-") {
			own = append(own, path)
		}
	}
	if len(own) < 2 {
		t.Fatalf("pipeline templates %v, want the pipeline stack and its support stacks", own)
	}
	checkPolicyCoverage(t, pipelinePolicies, own)
}

// checkPolicyCoverage fails unless the policies allow, for every resource
// type in the templates, the action that creates it; allow passing every
// role a rule target names to EventBridge; and allow reading function code
// from the CDK assets bucket when the templates define functions.
func checkPolicyCoverage(t *testing.T, policies, templates []string) {
	t.Helper()
	allowed := map[string]bool{}
	passedTo := map[string]bool{}
	var attachable []string // iam:PolicyARN patterns AttachRolePolicy is allowed for
	var resources []string
	var logGroups []string // resource patterns of the statements allowing logs:CreateLogGroup
	for _, name := range policies {
		doc, _ := readPolicy(t, name)
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				allowed[a] = true
				if a == "logs:CreateLogGroup" {
					var arns []string
					if json.Unmarshal(s.Resource, &arns) != nil {
						var one string
						_ = json.Unmarshal(s.Resource, &one)
						arns = []string{one}
					}
					logGroups = append(logGroups, arns...)
				}
				if a == "iam:AttachRolePolicy" {
					var arns []string
					_ = json.Unmarshal(s.Condition["ArnLike"]["iam:PolicyARN"], &arns)
					if len(arns) == 0 {
						arns = []string{"*"} // unconditioned
					}
					attachable = append(attachable, arns...)
				}
				if a == "iam:PassRole" {
					var services []string
					_ = json.Unmarshal(s.Condition["StringEquals"]["iam:PassedToService"], &services)
					for _, svc := range services {
						passedTo[svc] = true
					}
				}
			}
			resources = append(resources, string(s.Resource))
		}
	}
	types := map[string]bool{}
	ruleRoles := false
	var attached []json.RawMessage // ManagedPolicyArns entries
	for _, path := range templates {
		var tmpl struct {
			Resources map[string]struct {
				Type       string
				Properties struct {
					Targets           []map[string]json.RawMessage
					ManagedPolicyArns []json.RawMessage
					Name              json.RawMessage
					LogGroupName      json.RawMessage
				}
			}
		}
		data, _ := os.ReadFile(path)
		if err := json.Unmarshal(data, &tmpl); err != nil {
			t.Fatal(err)
		}
		for id, r := range tmpl.Resources {
			types[r.Type] = true
			for _, target := range r.Properties.Targets {
				if _, ok := target["RoleArn"]; ok && r.Type == "AWS::Events::Rule" {
					ruleRoles = true
				}
			}
			attached = append(attached, r.Properties.ManagedPolicyArns...)
			// Every log group CloudFormation creates must be one the
			// policies let it create, by name.
			if r.Type == "AWS::Logs::LogGroup" {
				stackName := strings.TrimSuffix(filepath.Base(path), ".template.json")
				arn := "arn:aws:logs:us-east-1:123456789012:log-group:" + logGroupName(r.Properties.LogGroupName, stackName)
				if !anyGlobMatches(logGroups, arn) {
					t.Errorf("%s creates log group %s (%s), which %v do not let CloudFormation create (logs:CreateLogGroup on %v)", path, id, arn, policies, logGroups)
				}
			}
			// The images policy scopes Image Builder resources to this prefix.
			var name string
			if strings.HasPrefix(r.Type, "AWS::ImageBuilder::") && (json.Unmarshal(r.Properties.Name, &name) != nil || !strings.HasPrefix(name, "goldenami-")) {
				t.Errorf("%s %s is named %s, outside the goldenami-* the execution policy allows", r.Type, id, r.Properties.Name)
			}
		}
	}
	var names []string
	for typ := range types {
		names = append(names, typ)
	}
	sort.Strings(names)
	for _, typ := range names {
		if typ == "AWS::CDK::Metadata" {
			continue
		}
		action, ok := createActions[typ]
		switch {
		case !ok:
			t.Errorf("%s appears in the templates but has no create action in createActions (nor, likely, in the bootstrap policy)", typ)
		case !allowed[action]:
			t.Errorf("%s needs %s, which %v do not allow", typ, action, policies)
		}
	}
	for _, raw := range attached {
		arn := policyARN(raw)
		if !anyGlobMatches(attachable, arn) {
			t.Errorf("a role attaches %s, which %v do not let CloudFormation attach (iam:PolicyARN %v)", arn, policies, attachable)
		}
	}
	if ruleRoles && !passedTo["events.amazonaws.com"] {
		t.Errorf("an EventBridge rule target has a RoleArn, but %v do not let CloudFormation pass roles to events.amazonaws.com", policies)
	}
	if types["AWS::Lambda::Function"] && !(allowed["s3:GetObject"] && strings.Contains(strings.Join(resources, " "), "cdk-hnb659fds-assets-")) {
		t.Errorf("the templates define functions, but %v do not allow s3:GetObject on the CDK assets bucket, where their code is", policies)
	}
}

// policyARN renders a ManagedPolicyArns entry: a string, an
// {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/..."]]}
// (partition aws), or a Ref to a policy of the stack, which CloudFormation
// names after the stack (GoldenAmi-...).
func policyARN(raw json.RawMessage) string {
	return renderNamed(raw, func(logicalID string) string { return "arn:aws:iam::123456789012:policy/GoldenAmi-" + logicalID })
}

// logGroupName renders a LogGroupName: a string, or a join of strings and
// references, where a reference is a resource CloudFormation names after
// stackName ("<stack>-<logical id>-<suffix>"), such as a function's
// /aws/lambda/<function name>. An unnamed group renders as "", which only a
// pattern of * matches.
func logGroupName(raw json.RawMessage, stackName string) string {
	return renderNamed(raw, func(logicalID string) string { return stackName + "-" + logicalID + "-ABC123" })
}

// renderNamed is render (pipeline_iam_test.go) for a value in a template:
// AWS::Partition is "aws", and a Ref to a resource of the template is the
// name CloudFormation gives it, named(its logical id).
func renderNamed(raw json.RawMessage, named func(logicalID string) string) string {
	var v interface{}
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return render(v, func(id, _ string) string {
		if id == "AWS::Partition" {
			return "aws"
		}
		return named(id)
	})
}

// anyGlobMatches reports whether s matches one of the IAM-style patterns,
// where * matches any run of characters.
func anyGlobMatches(patterns []string, s string) bool {
	for _, p := range patterns {
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, ".*") + "$"
		if regexp.MustCompile(re).MatchString(s) {
			return true
		}
	}
	return false
}
