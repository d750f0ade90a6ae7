package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/platform-eng/golden-ami/internal/assemblycheck"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

// awsManagedPolicyActions are the actions of the AWS managed policies our
// roles attach, as AWS's managed policy reference lists them
// (docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html; the
// version each was copied at is in the key's comment). A boundary must
// allow them, or the part of them the platform needs: when AWS adds an
// action to one of these, add it here and decide whether the boundary lets
// it through.
var awsManagedPolicyActions = map[string][]string{
	// v2
	"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": {
		"ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument", "ssm:DescribeDocument",
		"ssm:GetManifest", "ssm:GetParameter", "ssm:GetParameters", "ssm:ListAssociations", "ssm:ListInstanceAssociations",
		"ssm:PutInventory", "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult", "ssm:UpdateAssociationStatus",
		"ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation",
		"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
		"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint",
		"ec2messages:GetMessages", "ec2messages:SendReply",
	},
	// v3
	"arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder": {
		"imagebuilder:GetComponent", "kms:Decrypt", "s3:GetObject", "logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutLogEvents",
	},
	// v1
	"arn:aws:iam::aws:policy/service-role/EC2ImageBuilderLifecycleExecutionPolicy": {
		"ec2:EnableImage", "ec2:DeregisterImage", "ec2:EnableImageDeprecation", "ec2:DescribeImageAttribute", "ec2:DisableImage",
		"ec2:DisableImageDeprecation", "ec2:DeleteSnapshot", "ec2:DeleteTags", "ec2:CreateTags",
		"ecr:BatchGetImage", "ecr:BatchDeleteImage",
		"ec2:DescribeImages", "tag:GetResources", "imagebuilder:DeleteImage",
	},
	// v1
	"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
		"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
	},
}

// boundaryLeavesOut are actions of those managed policies the boundaries
// deliberately do not allow, with the reason the platform does not need
// them.
var boundaryLeavesOut = map[string]string{
	"ecr:BatchGetImage":    "the lifecycle policies manage AMIs; the platform builds no container images",
	"ecr:BatchDeleteImage": "the lifecycle policies manage AMIs; the platform builds no container images",
}

// boundaries are the two permissions boundaries in bootstrap/: the
// environments' (every stack the stages deploy) and the pipeline's (the
// pipeline stack and its cross-region support stacks), with the roles each
// may assume.
var boundaries = []struct {
	file, name string
	pipeline   bool
	assumable  []string
}{
	{file: "environment-permissions-boundary.json", name: PermissionsBoundaryName},
	{file: "pipeline-permissions-boundary.json", name: PipelinePermissionsBoundaryName, pipeline: true, assumable: []string{
		"arn:*:iam::*:role/cdk-hnb659fds-deploy-role-*", "arn:*:iam::*:role/cdk-hnb659fds-file-publishing-role-*",
		"arn:*:iam::*:role/cdk-hnb659fds-image-publishing-role-*", "arn:*:iam::*:role/GoldenAmi-Pipeline-*",
		"arn:*:iam::*:role/GoldenAmi-*-PipelineVerify",
	}},
}

// boundedActions are the IAM actions that give a role permissions or a
// boundary; the condition key iam:PermissionsBoundary applies to each, and
// an execution policy must allow them only with the boundary.
var boundedActions = []string{"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}

// policyWrites are the IAM actions that change a managed policy.
var policyWrites = map[string]bool{
	"iam:CreatePolicy": true, "iam:CreatePolicyVersion": true, "iam:DeletePolicy": true, "iam:DeletePolicyVersion": true,
	"iam:SetDefaultPolicyVersion": true, "iam:TagPolicy": true, "iam:UntagPolicy": true,
}

// strings1 reads a policy element that is a string or a list of strings.
func strings1(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// deployedStack is one stack of the synthesized delivery pipeline: the
// pipeline stack, its support stacks, or a stack of an environment's stage.
type deployedStack struct {
	path, name, account string
	pipeline            bool // the pipeline's own, in the tools account
	resources           map[string]templateResource
}

type templateResource struct {
	Type       string
	Properties struct {
		PermissionsBoundary json.RawMessage
		ManagedPolicyArns   []json.RawMessage
		Policies            []struct{ PolicyDocument policyStatements }
		PolicyDocument      *policyStatements
	}
}

type policyStatements struct {
	Statement []struct {
		Action    json.RawMessage
		Resource  json.RawMessage
		Condition map[string]map[string]json.RawMessage
	}
}

// deployedStacks reads every stack of the synthesized delivery pipeline
// from the cloud assembly's manifests (the stages' in their nested
// assemblies): each one's stack name and account, as CloudFormation will
// see them, and its resources.
func deployedStacks(t *testing.T) []deployedStack {
	t.Helper()
	dir, _ := synthPipeline(t)
	stacks, err := assemblycheck.Stacks(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []deployedStack
	for _, st := range stacks {
		s := deployedStack{path: st.Template, name: st.Name, account: st.Account, pipeline: strings.HasPrefix(st.Name, "GoldenAmi-Pipeline")}
		data, err := os.ReadFile(s.path)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl struct{ Resources map[string]templateResource }
		if err := json.Unmarshal(data, &tmpl); err != nil {
			t.Fatalf("%s: %v", s.path, err)
		}
		s.resources = tmpl.Resources
		out = append(out, s)
	}
	if len(out) < 8 {
		t.Fatalf("%d stacks in the pipeline's assembly, want the pipeline's, its support stacks and every environment's", len(out))
	}
	return out
}

// Every role the stacks define is bounded by its own account's boundary:
// the environments' roles by PermissionsBoundaryName, the pipeline's by
// PipelinePermissionsBoundaryName. Without it the execution policies
// refuse to create the role.
func TestEveryRoleHasItsPermissionsBoundary(t *testing.T) {
	roles := map[bool]int{}
	for _, s := range deployedStacks(t) {
		name := PermissionsBoundaryName
		if s.pipeline {
			name = PipelinePermissionsBoundaryName
		}
		want := "arn:aws:iam::" + s.account + ":policy/" + name
		for id, r := range s.resources {
			if r.Type != "AWS::IAM::Role" {
				continue
			}
			roles[s.pipeline]++
			if got := policyARN(r.Properties.PermissionsBoundary); len(r.Properties.PermissionsBoundary) == 0 || got != want {
				t.Errorf("%s: role %s has permissions boundary %s, want %s", s.name, id, r.Properties.PermissionsBoundary, want)
			}
		}
	}
	if roles[false] < 20 || roles[true] < 10 {
		t.Errorf("found %d environment and %d pipeline roles, want every role of both", roles[false], roles[true])
	}
	for _, e := range Environments() {
		if e.PermissionsBoundary != PermissionsBoundaryName {
			t.Errorf("environment %s: PermissionsBoundary %q, but bootstrap/ requires %q", e.Name, e.PermissionsBoundary, PermissionsBoundaryName)
		}
	}
	if p := DeliveryPipeline().PermissionsBoundary; p != PipelinePermissionsBoundaryName {
		t.Errorf("pipeline: PermissionsBoundary %q, but bootstrap/ requires %q", p, PipelinePermissionsBoundaryName)
	}
}

// roleActions collects every action the roles of the pipeline's own stacks
// (pipeline true) or of the environments' are given: their inline
// policies, the stacks' policies, and the AWS managed policies they attach;
// and the roles they assume, as ARNs.
func roleActions(t *testing.T, pipeline bool) (actions map[string]string, assumes map[string]string) {
	t.Helper()
	actions, assumes = map[string]string{}, map[string]string{}
	for _, s := range deployedStacks(t) {
		if s.pipeline != pipeline {
			continue
		}
		add := func(id string, doc policyStatements) {
			for _, st := range doc.Statement {
				for _, a := range strings1(st.Action) {
					actions[a] = s.name + " " + id
					if a == "sts:AssumeRole" {
						for _, target := range assumeTargets(s, st.Resource, st.Condition) {
							assumes[target] = s.name + " " + id
						}
					}
				}
			}
		}
		for id, r := range s.resources {
			switch r.Type {
			case "AWS::IAM::Role":
				for _, p := range r.Properties.Policies {
					add(id, p.PolicyDocument)
				}
				for _, raw := range r.Properties.ManagedPolicyArns {
					arn := policyARN(raw)
					if strings.HasPrefix(arn, "arn:aws:iam::aws:") {
						managed, ok := awsManagedPolicyActions[arn]
						if !ok {
							t.Errorf("%s: role %s attaches %s, whose actions awsManagedPolicyActions does not list (add them, and to the boundary what the role needs)", s.name, id, arn)
						}
						for _, a := range managed {
							actions[a] = arn
						}
					}
				}
			case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
				if r.Properties.PolicyDocument != nil {
					add(id, *r.Properties.PolicyDocument)
				}
			}
		}
	}
	return actions, assumes
}

// assumeTargets renders the roles an sts:AssumeRole statement of stack s
// names: ARNs with the partition filled in; a role of the same stack by
// the name CloudFormation gives it (the stack name, the logical id and a
// random suffix); and, for a statement scoped by the CDK bootstrap roles'
// aws-cdk:bootstrap-role tag, the bootstrap roles of those kinds in the
// statement's account.
func assumeTargets(s deployedStack, resource json.RawMessage, condition map[string]map[string]json.RawMessage) []string {
	var raws []json.RawMessage
	if json.Unmarshal(resource, &raws) != nil {
		raws = []json.RawMessage{resource}
	}
	var out []string
	for _, raw := range raws {
		var getAtt struct {
			GetAtt []string `json:"Fn::GetAtt"`
		}
		var sub struct {
			Sub string `json:"Fn::Sub"`
		}
		switch {
		case json.Unmarshal(raw, &getAtt) == nil && len(getAtt.GetAtt) == 2:
			if s.resources[getAtt.GetAtt[0]].Type != "AWS::IAM::Role" {
				out = append(out, string(raw))
				continue
			}
			out = append(out, "arn:aws:iam::"+s.account+":role/"+s.name+"-"+getAtt.GetAtt[0]+"-AbCdEf123456")
		case json.Unmarshal(raw, &sub) == nil && sub.Sub != "":
			out = append(out, strings.ReplaceAll(sub.Sub, "${AWS::Partition}", "aws"))
		default:
			out = append(out, policyARN(raw))
		}
	}
	for _, keys := range condition {
		kinds := strings1(keys["iam:ResourceTag/aws-cdk:bootstrap-role"])
		if len(kinds) == 0 {
			continue
		}
		var tagged []string
		for _, pattern := range out {
			account := strings.Split(pattern, ":")[4]
			for _, kind := range kinds {
				tagged = append(tagged, fmt.Sprintf("arn:aws:iam::%s:role/cdk-hnb659fds-%s-role-%s-us-east-1", account, kind, account))
			}
		}
		return tagged
	}
	return out
}

// allows reports whether a boundary's Allow statements cover action on
// resource.
func allows(statements []policyStatement, action, resource string) bool {
	for _, s := range statements {
		if s.Effect == "Allow" && anyGlobMatches(s.Action, action) && anyGlobMatches(strings1(s.Resource), resource) {
			return true
		}
	}
	return false
}

// Each boundary allows everything its roles are given, so it never takes
// away what a function, a build instance or the pipeline needs: every
// action of every role's policies, every action of the AWS managed policies
// they attach (but for boundaryLeavesOut), and sts:AssumeRole on every
// role they assume.
func TestPermissionsBoundariesCoverEveryRole(t *testing.T) {
	for _, b := range boundaries {
		t.Run(b.file, func(t *testing.T) {
			doc, _ := readPolicy(t, b.file)
			actions, assumes := roleActions(t, b.pipeline)
			if len(actions) < 30 {
				t.Fatalf("the roles are given %d actions, want every role's", len(actions))
			}
			for _, a := range slices.Sorted(maps.Keys(actions)) {
				if a == "sts:AssumeRole" {
					continue
				}
				_, leftOut := boundaryLeavesOut[a]
				switch ok := allows(doc.Statement, a, "arn:aws:s3:::any-resource"); {
				case leftOut && ok:
					t.Errorf("the boundary allows %s, which boundaryLeavesOut says the platform does not need", a)
				case !leftOut && !ok:
					t.Errorf("%s gives %s, which bootstrap/%s does not allow", actions[a], a, b.file)
				}
			}
			if b.pipeline && len(assumes) < 5 {
				t.Fatalf("the pipeline's roles assume %v, want the deploy, publishing, action and verify roles", assumes)
			}
			for target, who := range assumes {
				if !allows(doc.Statement, "sts:AssumeRole", target) {
					t.Errorf("%s assumes %s, which bootstrap/%s does not allow", who, target, b.file)
				}
			}
		})
	}
}

// Each boundary is no wider than its roles need: only Allow statements
// without conditions, no IAM action (a bounded role can change no role or
// policy, its own boundary included), no service-wide wildcard, nothing no
// role is given, and sts:AssumeRole only on the roles the pipeline deploys
// and checks with (the environments' boundary: none).
func TestPermissionsBoundariesAreNarrow(t *testing.T) {
	for _, b := range boundaries {
		t.Run(b.file, func(t *testing.T) {
			doc, size := readPolicy(t, b.file)
			actions, _ := roleActions(t, b.pipeline)
			if size > 6144 {
				t.Errorf("%s is %d characters; IAM managed policies hold at most 6144", b.file, size)
			}
			var assumable []string
			for _, s := range doc.Statement {
				if s.Effect != "Allow" || s.Sid == "" || len(s.Condition) != 0 {
					t.Errorf("statement %q: effect %q, condition %v; want a named Allow without conditions", s.Sid, s.Effect, s.Condition)
				}
				for _, a := range s.Action {
					switch {
					case strings.HasPrefix(a, "iam:") || a == "*" || strings.HasSuffix(a, ":*"):
						t.Errorf("statement %s allows %q", s.Sid, a)
					case a == "sts:AssumeRole":
						if len(s.Action) != 1 {
							t.Errorf("statement %s allows sts:AssumeRole with %v, want it alone", s.Sid, s.Action)
						}
						assumable = append(assumable, strings1(s.Resource)...)
					case actions[a] == "":
						t.Errorf("statement %s allows %s, which no role of its stacks is given", s.Sid, a)
					}
				}
			}
			if !slices.Equal(assumable, b.assumable) {
				t.Errorf("the boundary allows sts:AssumeRole on %v, want %v", assumable, b.assumable)
			}
		})
	}
}

// The execution policies let CloudFormation create a role, or give a role
// permissions or a boundary, only when the role has its account's
// boundary; take permissions away without it (so a role whose boundary an
// administrator removed can still be deleted); never remove a boundary;
// and never change a boundary policy.
func TestExecutionPoliciesRequireThePermissionsBoundary(t *testing.T) {
	for _, name := range append(append([]string{}, environmentPolicies...), pipelinePolicies...) {
		boundary := PermissionsBoundaryName
		if strings.HasPrefix(name, "pipeline") {
			boundary = PipelinePermissionsBoundaryName
		}
		want := "arn:*:iam::*:policy/" + boundary
		doc, _ := readPolicy(t, name)
		allowed := map[string]bool{}
		for _, s := range doc.Statement {
			var got []string
			for op, keys := range s.Condition {
				if raw, ok := keys["iam:PermissionsBoundary"]; ok && (op == "ArnLike" || op == "ArnEquals" || op == "StringEquals" || op == "StringLike") {
					got = strings1(raw)
				}
			}
			for _, a := range s.Action {
				allowed[a] = true
				switch {
				case slices.Contains(boundedActions, a):
					if len(got) != 1 || got[0] != want {
						t.Errorf("%s: statement %s allows %s with iam:PermissionsBoundary %v, want exactly [%s]", name, s.Sid, a, got, want)
					}
				case a == "iam:DeleteRolePolicy" || a == "iam:DetachRolePolicy":
					if len(s.Condition) != 0 {
						t.Errorf("%s: statement %s allows %s only with %v; taking permissions away must not need the boundary", name, s.Sid, a, s.Condition)
					}
				case a == "iam:DeleteRolePermissionsBoundary" || strings.HasPrefix(a, "iam:Delete") && strings.HasSuffix(a, "PermissionsBoundary"):
					t.Errorf("%s: statement %s allows removing a boundary (%s)", name, s.Sid, a)
				}
				for _, b := range boundaries {
					if policyWrites[a] && anyGlobMatches(strings1(s.Resource), "arn:aws:iam::111111111111:policy/"+b.name) {
						t.Errorf("%s: statement %s allows %s on the boundary policy %s", name, s.Sid, a, b.name)
					}
				}
			}
		}
		if strings.Contains(name, "functions") || strings.Contains(name, "pipeline") {
			for _, a := range append(slices.Clone(boundedActions), "iam:DeleteRolePolicy", "iam:DetachRolePolicy") {
				if !allowed[a] {
					t.Errorf("%s does not allow %s; the templates it deploys define roles with policies", name, a)
				}
			}
		}
	}
}

// An environment without a boundary deploys roles without one, even in a
// pipeline stack that has a boundary of its own: the stages are created
// under the pipeline stack, and aws-cdk-lib hands boundaries down the tree.
// One with a boundary gets its own, not the pipeline's.
func TestEnvironmentStagesTakeTheirOwnBoundaryOrNone(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	pipeline := awscdk.NewStack(app, str("Pipeline"), &awscdk.StackProps{
		Env:                 &awscdk.Environment{Account: str("999999999999"), Region: str("us-east-1")},
		PermissionsBoundary: permissionsBoundary(PipelinePermissionsBoundaryName),
	})
	unbounded, bounded := validEnv(), validEnv()
	unbounded.Name, bounded.Name, bounded.PermissionsBoundary = "open", "closed", "TeamBoundary"
	stages := map[string]*EnvironmentStages{
		"": NewEnvironmentStages(pipeline, unbounded, "999999999999"),
		"arn:aws:iam::123456789012:policy/TeamBoundary": NewEnvironmentStages(pipeline, bounded, "999999999999"),
	}
	for want, s := range stages {
		roles := cdktest.ResourcesOfType(cdktest.TemplateJSON(t, s.Images.Stack.Stack), "AWS::IAM::Role")
		if len(roles) < 3 {
			t.Fatalf("%s: %d roles, want the environment's", *s.Images.Stack.StackName(), len(roles))
		}
		for id, role := range roles {
			got, _ := role["Properties"].(map[string]interface{})["PermissionsBoundary"].(string)
			if got != want {
				t.Errorf("%s: role %s has permissions boundary %q, want %q", *s.Images.Stack.StackName(), id, got, want)
			}
		}
	}
}
