package stacks

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

type policyDocument struct {
	Version   string
	Statement []struct {
		Sid      string
		Effect   string
		Action   []string
		Resource json.RawMessage
	}
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

func TestEnvironmentPolicyCoversEveryResourceType(t *testing.T) {
	allowed := map[string]bool{}
	for _, name := range environmentPolicies {
		doc, _ := readPolicy(t, name)
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				allowed[a] = true
			}
		}
	}
	snapshots, _ := filepath.Glob(filepath.Join("testdata", "snapshots", "*.template.json"))
	if len(snapshots) == 0 {
		t.Fatal("no snapshots to read resource types from")
	}
	types := map[string]bool{}
	for _, path := range snapshots {
		var tmpl struct {
			Resources map[string]struct{ Type string }
		}
		data, _ := os.ReadFile(path)
		if err := json.Unmarshal(data, &tmpl); err != nil {
			t.Fatal(err)
		}
		for _, r := range tmpl.Resources {
			types[r.Type] = true
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
			t.Errorf("%s needs %s, which the environment execution policy does not allow", typ, action)
		}
	}
}
