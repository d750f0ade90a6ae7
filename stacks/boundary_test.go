package stacks

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const boundaryPolicy = "permissions-boundary.json"

// awsManagedPolicyActions are the actions of the AWS managed policies our
// roles attach, as AWS's managed policy reference lists them
// (docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html; the
// version each was copied at is in the key's comment). The boundary must
// allow them, or the part of the policy the platform needs: when AWS adds
// an action to one of these, add it here and decide whether the boundary
// lets it through.
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

// boundaryLeavesOut are actions of those managed policies the boundary
// deliberately does not allow, with the reason the platform does not need
// them.
var boundaryLeavesOut = map[string]string{
	"ecr:BatchGetImage":    "the lifecycle policies manage AMIs; the platform builds no container images",
	"ecr:BatchDeleteImage": "the lifecycle policies manage AMIs; the platform builds no container images",
}

// boundaryBoundedActions are the IAM actions on a role that the condition
// key iam:PermissionsBoundary applies to: an execution policy must allow
// them only with the boundary.
var boundaryBoundedActions = []string{
	"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
	"iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
}

// allOnRolePrefix reports whether every resource is a pattern of roles
// named GoldenAmi-*.
func allOnRolePrefix(resources []string) bool {
	for _, r := range resources {
		if !strings.HasPrefix(r, "arn:aws:iam::*:role/GoldenAmi-") || !strings.HasSuffix(r, "*") {
			return false
		}
	}
	return len(resources) > 0
}

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

// allTemplates are the environment snapshots and every template of the
// synthesized delivery pipeline, its stages' included.
func allTemplates(t *testing.T) []string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("testdata", "snapshots", "*.template.json"))
	dir, _ := synthPipeline(t)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".template.json") {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil || len(paths) < 10 {
		t.Fatalf("templates %v (%v): want the environments' and the pipeline's", paths, err)
	}
	return paths
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

func readTemplateResources(t *testing.T, path string) map[string]templateResource {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct{ Resources map[string]templateResource }
	if err := json.Unmarshal(data, &tmpl); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tmpl.Resources
}

// Every role the stacks define is bounded by the environment's (or the
// pipeline's) PermissionsBoundary, in its own account: without it the
// execution policies refuse to create the role.
func TestEveryRoleHasThePermissionsBoundary(t *testing.T) {
	roles := 0
	for _, path := range allTemplates(t) {
		for id, r := range readTemplateResources(t, path) {
			if r.Type != "AWS::IAM::Role" {
				continue
			}
			roles++
			arn := policyARN(r.Properties.PermissionsBoundary)
			if len(r.Properties.PermissionsBoundary) == 0 || !anyGlobMatches([]string{"arn:aws:iam::*:policy/" + PermissionsBoundaryName}, arn) {
				t.Errorf("%s: role %s has permissions boundary %s, want the policy %s of its account", filepath.Base(path), id, r.Properties.PermissionsBoundary, PermissionsBoundaryName)
			}
		}
	}
	if roles < 50 {
		t.Errorf("found %d roles in the templates, want the environments' and the pipeline's (over 50)", roles)
	}
	for _, e := range Environments() {
		if e.PermissionsBoundary != PermissionsBoundaryName {
			t.Errorf("environment %s: PermissionsBoundary %q, but bootstrap/ requires %q", e.Name, e.PermissionsBoundary, PermissionsBoundaryName)
		}
	}
	if p := DeliveryPipeline().PermissionsBoundary; p != PermissionsBoundaryName {
		t.Errorf("pipeline: PermissionsBoundary %q, but bootstrap/ requires %q", p, PermissionsBoundaryName)
	}
}

// roleActions collects every action the templates' roles are given: their
// inline policies, the stacks' policies, and the AWS managed policies they
// attach. AssumeRole targets are collected apart, as ARN patterns.
func roleActions(t *testing.T) (actions map[string]string, assumes map[string]string) {
	t.Helper()
	actions, assumes = map[string]string{}, map[string]string{}
	for _, path := range allTemplates(t) {
		base := filepath.Base(path)
		resources := readTemplateResources(t, path)
		add := func(id string, doc policyStatements) {
			for _, s := range doc.Statement {
				for _, a := range strings1(s.Action) {
					actions[a] = base + " " + id
					if a == "sts:AssumeRole" {
						for _, target := range assumeTargets(s.Resource, s.Condition, resources) {
							assumes[target] = base + " " + id
						}
					}
				}
			}
		}
		for id, r := range resources {
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
							t.Errorf("%s: role %s attaches %s, whose actions awsManagedPolicyActions does not list (add them, and to the boundary what the role needs)", base, id, arn)
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

// assumeTargets renders the roles an sts:AssumeRole statement names: ARNs
// with the partition filled in, a role of the same stack by the name
// CloudFormation gives it (the stack name, which is GoldenAmi-..., then the
// logical id), and the CDK bootstrap roles when the statement is scoped to
// them by their aws-cdk:bootstrap-role tag.
func assumeTargets(resource json.RawMessage, condition map[string]map[string]json.RawMessage, resources map[string]templateResource) []string {
	for _, keys := range condition {
		if _, ok := keys["iam:ResourceTag/aws-cdk:bootstrap-role"]; ok {
			return []string{"arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-us-east-1"}
		}
	}
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
			if resources[getAtt.GetAtt[0]].Type == "AWS::IAM::Role" {
				out = append(out, "arn:aws:iam::123456789012:role/GoldenAmi-Stack-"+getAtt.GetAtt[0]+"-ABCDEF")
			} else {
				out = append(out, string(raw))
			}
		case json.Unmarshal(raw, &sub) == nil && sub.Sub != "":
			out = append(out, strings.ReplaceAll(sub.Sub, "${AWS::Partition}", "aws"))
		default:
			out = append(out, policyARN(raw))
		}
	}
	return out
}

// The boundary allows everything the platform's roles are given, so it
// never takes away what a function, a build instance or the pipeline needs:
// every action of every role's policies, every action of the AWS managed
// policies they attach (but for boundaryLeavesOut), and sts:AssumeRole on
// every role they assume.
func TestPermissionsBoundaryCoversEveryRole(t *testing.T) {
	doc, _ := readPolicy(t, boundaryPolicy)
	boundary := doc.Statement
	actions, assumes := roleActions(t)
	allows := func(action, resource string) bool {
		for _, s := range boundary {
			if s.Effect == "Allow" && anyGlobMatches(s.Action, action) && anyGlobMatches(strings1(s.Resource), resource) {
				return true
			}
		}
		return false
	}
	for _, a := range slices.Sorted(maps.Keys(actions)) {
		if a == "sts:AssumeRole" {
			continue
		}
		_, leftOut := boundaryLeavesOut[a]
		switch ok := allows(a, "arn:aws:s3:::any-resource"); {
		case leftOut && ok:
			t.Errorf("the boundary allows %s, which boundaryLeavesOut says the platform does not need", a)
		case !leftOut && !ok:
			t.Errorf("%s gives %s, which the boundary (bootstrap/%s) does not allow", actions[a], a, boundaryPolicy)
		}
	}
	if len(assumes) == 0 {
		t.Fatal("no role assumes another: the pipeline's roles should")
	}
	for target, who := range assumes {
		if !allows("sts:AssumeRole", target) {
			t.Errorf("%s assumes %s, which the boundary does not allow", who, target)
		}
	}
}

// The boundary is no wider than the platform needs: only Allow statements,
// no IAM action (a bounded role can change no role or policy, its own
// boundary included), no wildcard the roles' policies do not use already,
// nothing no role is given, and sts:AssumeRole only on the CDK bootstrap
// roles and the platform's own.
func TestPermissionsBoundaryIsNarrow(t *testing.T) {
	doc, size := readPolicy(t, boundaryPolicy)
	boundary := doc.Statement
	actions, _ := roleActions(t)
	if size > 6144 {
		t.Errorf("%s is %d characters; IAM managed policies hold at most 6144", boundaryPolicy, size)
	}
	for _, s := range boundary {
		if s.Effect != "Allow" || s.Sid == "" {
			t.Errorf("statement %q has effect %q, want a named Allow", s.Sid, s.Effect)
		}
		if len(s.Condition) != 0 {
			t.Errorf("statement %s has a condition; the roles' own policies carry the conditions", s.Sid)
		}
		for _, a := range s.Action {
			switch {
			case strings.HasPrefix(a, "iam:") || a == "*" || strings.HasSuffix(a, ":*"):
				t.Errorf("statement %s allows %q", s.Sid, a)
			case a == "sts:AssumeRole":
				want := []string{"arn:aws:iam::*:role/cdk-hnb659fds-*", "arn:aws:iam::*:role/GoldenAmi-*"}
				if got := strings1(s.Resource); strings.Join(got, " ") != strings.Join(want, " ") || len(s.Action) != 1 {
					t.Errorf("statement %s allows sts:AssumeRole on %v (with %v), want only that action on %v", s.Sid, got, s.Action, want)
				}
			case actions[a] == "":
				t.Errorf("statement %s allows %s, which no role of the templates is given", s.Sid, a)
			}
		}
		if r := strings1(s.Resource); len(r) == 1 && r[0] == "*" && strings.Contains(strings.Join(s.Action, " "), "sts:") {
			t.Errorf("statement %s allows an sts action on every resource", s.Sid)
		}
	}
}

// The execution policies let CloudFormation create a role, or change what
// a role may do, only when the role has the boundary, remove a boundary
// only from the platform's roles (which deleting a role needs), and never
// change the boundary policy itself.
func TestExecutionPoliciesRequireThePermissionsBoundary(t *testing.T) {
	want := "arn:aws:iam::*:policy/" + PermissionsBoundaryName
	boundaryARN := "arn:aws:iam::111111111111:policy/" + PermissionsBoundaryName
	for _, name := range append(append([]string{}, environmentPolicies...), pipelinePolicies...) {
		doc, _ := readPolicy(t, name)
		creates, removes := false, false
		for _, s := range doc.Statement {
			var got []string
			for op, keys := range s.Condition {
				if raw, ok := keys["iam:PermissionsBoundary"]; ok && (op == "ArnLike" || op == "ArnEquals" || op == "StringEquals" || op == "StringLike") {
					got = strings1(raw)
				}
			}
			for _, a := range s.Action {
				for _, bounded := range boundaryBoundedActions {
					if a != bounded {
						continue
					}
					creates = creates || a == "iam:CreateRole"
					if len(got) != 1 || got[0] != want {
						t.Errorf("%s: statement %s allows %s with iam:PermissionsBoundary %v, want exactly [%s]", name, s.Sid, a, got, want)
					}
				}
				if a == "iam:DeleteRolePermissionsBoundary" {
					// CloudFormation's AWS::IAM::Role handler removes the
					// boundary before it deletes a role, so deleting or
					// replacing a role needs it; allowed alone, on the
					// policy's own role prefix.
					removes = true
					if len(s.Action) != 1 || len(s.Condition) != 0 || !allOnRolePrefix(strings1(s.Resource)) {
						t.Errorf("%s: statement %s allows iam:DeleteRolePermissionsBoundary with %v on %s, want it alone on GoldenAmi-* roles", name, s.Sid, s.Action, s.Resource)
					}
				}
				if policyWrites[a] && anyGlobMatches(strings1(s.Resource), boundaryARN) {
					t.Errorf("%s: statement %s allows %s on the boundary policy %s", name, s.Sid, a, boundaryARN)
				}
			}
		}
		if strings.Contains(name, "functions") || strings.Contains(name, "pipeline") {
			if !creates || !removes {
				t.Errorf("%s allows iam:CreateRole %v, iam:DeleteRolePermissionsBoundary %v; the templates it deploys define roles, which CloudFormation creates and deletes", name, creates, removes)
			}
		}
	}
}
