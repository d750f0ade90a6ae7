package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/cdktest"
)

// rolePolicy is the one AWS::IAM::Policy CDK Pipelines attaches to a role.
type rolePolicy struct {
	id         string
	statements []map[string]interface{}
	suppressed []map[string]interface{}
}

// pipelineRolePolicy returns the policy of the pipeline stack's role whose
// logical id starts with rolePrefix.
func pipelineRolePolicy(t *testing.T, tmpl map[string]interface{}, rolePrefix string) rolePolicy {
	t.Helper()
	var found []rolePolicy
	for id, p := range cdktest.ResourcesOfType(tmpl, "AWS::IAM::Policy") {
		props := p["Properties"].(map[string]interface{})
		attached := false
		for _, r := range props["Roles"].([]interface{}) {
			ref, _ := r.(map[string]interface{})["Ref"].(string)
			attached = attached || strings.HasPrefix(ref, rolePrefix)
		}
		if !attached {
			continue
		}
		rp := rolePolicy{id: id}
		for _, s := range props["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			rp.statements = append(rp.statements, s.(map[string]interface{}))
		}
		md, _ := p["Metadata"].(map[string]interface{})
		nag, _ := md["cdk_nag"].(map[string]interface{})
		rules, _ := nag["rules_to_suppress"].([]interface{})
		for _, r := range rules {
			rp.suppressed = append(rp.suppressed, r.(map[string]interface{}))
		}
		found = append(found, rp)
	}
	if len(found) != 1 {
		t.Fatalf("%d policies attached to the role %s*, want 1", len(found), rolePrefix)
	}
	return found[0]
}

// list returns a statement's Action or Resource as a list.
func list(v interface{}) []interface{} {
	if l, ok := v.([]interface{}); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []interface{}{v}
}

// nagName renders a template value the way cdk-nag names it in applies_to:
// "<Logical.Arn>" for Fn::GetAtt, "<Logical>" for Ref, parts of Fn::Join
// and Fn::Sub concatenated.
func nagName(v interface{}) string {
	return render(v, func(id, attr string) string {
		if attr == "" {
			return "<" + id + ">"
		}
		return "<" + id + "." + attr + ">"
	})
}

// render writes a template string value as one string: a string as it is,
// the parts of an Fn::Join concatenated, an Fn::Sub with its partition
// written as <AWS::Partition>, and each Ref or Fn::GetAtt as ref(logical
// id, attribute), the attribute empty for a Ref.
func render(v interface{}, ref func(id, attr string) string) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]interface{}:
		if join, ok := x["Fn::Join"].([]interface{}); ok {
			var b strings.Builder
			for _, part := range join[1].([]interface{}) {
				b.WriteString(render(part, ref))
			}
			return b.String()
		}
		if att, ok := x["Fn::GetAtt"].([]interface{}); ok {
			return ref(fmt.Sprint(att[0]), fmt.Sprint(att[1]))
		}
		if id, ok := x["Ref"].(string); ok {
			return ref(id, "")
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			return strings.ReplaceAll(sub, "${AWS::Partition}", "<AWS::Partition>")
		}
	}
	return fmt.Sprint(v)
}

func TestAssetPublishingRoleCannotStartBuilds(t *testing.T) {
	dir, _ := synthPipeline(t)
	tmpl := readTemplate(t, dir, "GoldenAmi-Pipeline")
	// The asset projects run cdk-assets, installed from npm; their role must
	// not start, stop or read other CodeBuild builds, such as the security
	// check's, whose role assumes the environments' deploy roles.
	assets := pipelineRolePolicy(t, tmpl, "PipelineAssetsFileRole")
	for _, s := range assets.statements {
		for _, a := range list(s["Action"]) {
			if strings.HasPrefix(a.(string), "codebuild:") && strings.HasSuffix(a.(string), "Build") || a == "codebuild:BatchGetBuilds" {
				t.Errorf("%s allows %s on %s", assets.id, a, nagName(s["Resource"]))
			}
		}
		for _, r := range list(s["Resource"]) {
			if r == "*" {
				t.Errorf("%s allows %v on *", assets.id, s["Action"])
			}
		}
	}
	// CodePipeline still starts every asset project, through the action role,
	// on those projects alone.
	action := pipelineRolePolicy(t, tmpl, "PipelineCodeBuildActionRole")
	started := map[string]bool{}
	for _, s := range action.statements {
		if strings.Contains(fmt.Sprint(s["Action"]), "codebuild:StartBuild") {
			for _, r := range list(s["Resource"]) {
				started[nagName(r)] = true
			}
		}
	}
	projects := 0
	for id := range cdktest.ResourcesOfType(tmpl, "AWS::CodeBuild::Project") {
		if strings.HasPrefix(id, "PipelineAssets") {
			projects++
			if !started[fmt.Sprintf("<%s.Arn>", id)] {
				t.Errorf("the CodeBuild action role cannot start the asset project %s (it starts %v)", id, started)
			}
		}
	}
	if projects == 0 {
		t.Error("no asset publishing project; the check is not looking in the right place")
	}
}

// supportAliases returns, by region, the alias of the artifact key of each
// cross-region support stack.
func supportAliases(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "cross-region-stack-*.template.json"))
	out := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl map[string]interface{}
		if err := json.Unmarshal(data, &tmpl); err != nil {
			t.Fatal(err)
		}
		region := strings.TrimSuffix(filepath.Base(p)[strings.LastIndex(filepath.Base(p), "_")+1:], ".template.json")
		for _, a := range cdktest.ResourcesOfType(tmpl, "AWS::KMS::Alias") {
			out[region] = a["Properties"].(map[string]interface{})["AliasName"].(string)
		}
	}
	if len(out) == 0 {
		t.Fatal("no cross-region support stack with a key alias")
	}
	return out
}

func TestPipelineRoleUsesOnlyItsArtifactKeys(t *testing.T) {
	dir, _ := synthPipeline(t)
	tmpl := readTemplate(t, dir, "GoldenAmi-Pipeline")
	aliases := supportAliases(t, dir)
	cfg := DeliveryPipeline()
	pipeline := pipelineRolePolicy(t, tmpl, "PipelineRoleB27FAA37")
	var wantResources, wantAliases []string
	for region, alias := range aliases {
		wantResources = append(wantResources, fmt.Sprintf("arn:aws:kms:%s:%s:key/*", region, cfg.Account))
		wantAliases = append(wantAliases, alias)
	}
	sort.Strings(wantResources)
	sort.Strings(wantAliases)
	ownKey, replicationKeys := false, false
	for _, s := range pipeline.statements {
		var resources []string
		for _, r := range list(s["Resource"]) {
			resources = append(resources, nagName(r))
		}
		sort.Strings(resources)
		if !strings.Contains(fmt.Sprint(s["Action"]), "kms:") {
			for _, r := range resources {
				if r == "*" {
					t.Errorf("%s allows %v on *", pipeline.id, s["Action"])
				}
			}
			continue
		}
		switch {
		case reflect.DeepEqual(resources, []string{"<Key961B73FD.Arn>"}) && s["Condition"] == nil:
			ownKey = true
		case reflect.DeepEqual(resources, wantResources):
			cond, _ := s["Condition"].(map[string]interface{})
			anyOf, _ := cond["ForAnyValue:StringEquals"].(map[string]interface{})
			var got []string
			for _, a := range list(anyOf["kms:ResourceAliases"]) {
				got = append(got, nagName(a))
			}
			sort.Strings(got)
			if len(cond) != 1 || len(anyOf) != 1 || !reflect.DeepEqual(got, wantAliases) {
				t.Errorf("%s: the replication keys' statement has the condition %v, want ForAnyValue:StringEquals kms:ResourceAliases %v", pipeline.id, s["Condition"], wantAliases)
			}
			replicationKeys = true
		default:
			t.Errorf("%s allows %v on %v, want only the pipeline key, or %v limited to the aliases %v", pipeline.id, s["Action"], resources, wantResources, wantAliases)
		}
	}
	if !ownKey || !replicationKeys {
		t.Errorf("%s: pipeline key statement %v, replication keys statement %v; want both", pipeline.id, ownKey, replicationKeys)
	}
}

func TestSecurityCheckAssumesOnlyTheStagesDeployRoles(t *testing.T) {
	dir, _ := synthPipeline(t)
	tmpl := readTemplate(t, dir, "GoldenAmi-Pipeline")
	// The roles the pipeline's CloudFormation actions deploy with.
	deploy := map[string]bool{}
	for _, p := range cdktest.ResourcesOfType(tmpl, "AWS::CodePipeline::Pipeline") {
		for _, s := range p["Properties"].(map[string]interface{})["Stages"].([]interface{}) {
			for _, a := range s.(map[string]interface{})["Actions"].([]interface{}) {
				am := a.(map[string]interface{})
				if am["ActionTypeId"].(map[string]interface{})["Provider"] == "CloudFormation" {
					deploy[nagName(am["RoleArn"])] = true
				}
			}
		}
	}
	var want []string
	for r := range deploy {
		want = append(want, r)
	}
	sort.Strings(want)
	if len(want) < 5 {
		t.Fatalf("deploy roles %v; want one per environment account and region", want)
	}
	check := pipelineRolePolicy(t, tmpl, "PipelinePipelinesSecurityCheckCDKSecurityCheckRole")
	var got []string
	for _, s := range check.statements {
		if !strings.Contains(fmt.Sprint(s["Action"]), "sts:AssumeRole") {
			continue
		}
		for _, r := range list(s["Resource"]) {
			got = append(got, nagName(r))
		}
		cond, _ := json.Marshal(s["Condition"])
		if string(cond) != `{"ForAnyValue:StringEquals":{"iam:ResourceTag/aws-cdk:bootstrap-role":["deploy"]}}` {
			t.Errorf("%s: sts:AssumeRole condition %s, want CDK's aws-cdk:bootstrap-role=deploy tag condition kept", check.id, cond)
		}
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s assumes %v\nwant exactly the deploy roles %v", check.id, got, want)
	}
}

// CDK grants its approval function GetPipelineState and PutApprovalResult
// on every pipeline of the account that carries the SECURITY_CHECK tag; it
// may approve only this pipeline's actions, and CDK's condition stays.
func TestAutoApproveApprovesOnlyThisPipeline(t *testing.T) {
	dir, _ := synthPipeline(t)
	tmpl := readTemplate(t, dir, "GoldenAmi-Pipeline")
	approve := pipelineRolePolicy(t, tmpl, "PipelinePipelinesSecurityCheckCDKPipelinesAutoApproveServiceRole")
	found := 0
	for _, s := range approve.statements {
		if !strings.Contains(fmt.Sprint(s["Action"]), "codepipeline:") {
			continue
		}
		found++
		arn := "arn:aws:codepipeline:" + DeliveryPipeline().Region + ":" + DeliveryPipeline().Account + ":golden-ami"
		if got := list(s["Resource"]); !reflect.DeepEqual(got, []interface{}{arn, arn + "/*"}) {
			t.Errorf("%s: codepipeline actions on %v, want %s and its actions %s/*", approve.id, got, arn, arn)
		}
		if cond, _ := json.Marshal(s["Condition"]); string(cond) != `{"StringEquals":{"aws:ResourceTag/SECURITY_CHECK":"ALLOW_APPROVE"}}` {
			t.Errorf("%s: condition %s, want CDK's SECURITY_CHECK tag condition kept", approve.id, cond)
		}
	}
	if found != 1 {
		t.Errorf("%s: %d codepipeline statements, want 1", approve.id, found)
	}
}

// TestPipelineSuppressionsNameWildcardsThePoliciesHave checks that every
// IAM5 suppression of a pipeline policy that names a resource literally
// names one the policy grants: a suppression left behind after its
// statement is gone documents something false.
func TestPipelineSuppressionsNameWildcardsThePoliciesHave(t *testing.T) {
	dir, _ := synthPipeline(t)
	tmpl := readTemplate(t, dir, "GoldenAmi-Pipeline")
	checked := 0
	for id, p := range cdktest.ResourcesOfType(tmpl, "AWS::IAM::Policy") {
		granted := map[string]bool{}
		for _, s := range p["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			for _, r := range list(s.(map[string]interface{})["Resource"]) {
				granted["Resource::"+nagName(r)] = true
			}
		}
		md, _ := p["Metadata"].(map[string]interface{})
		nag, _ := md["cdk_nag"].(map[string]interface{})
		rules, _ := nag["rules_to_suppress"].([]interface{})
		for _, r := range rules {
			rm := r.(map[string]interface{})
			if rm["id"] != "AwsSolutions-IAM5" {
				continue
			}
			for _, a := range list(rm["applies_to"]) {
				s, ok := a.(string)
				if !ok || !strings.HasPrefix(s, "Resource::") {
					continue // regular expressions and actions shared by every CDK Pipelines policy
				}
				checked++
				if !granted[s] {
					t.Errorf("%s suppresses %s, which it does not grant", id, s)
				}
			}
		}
	}
	if checked == 0 {
		t.Error("no IAM5 suppression names a resource; the check is not looking in the right place")
	}
}

// TestPipelineInlinePolicySuppressionsGiveTheTrueReason: CDK Pipelines
// generates its grants as inline default policies; self-mutation would
// redeploy a customer-managed policy just as well, so that is no reason.
func TestPipelineInlinePolicySuppressionsGiveTheTrueReason(t *testing.T) {
	dir, _ := synthPipeline(t)
	tmpl := readTemplate(t, dir, "GoldenAmi-Pipeline")
	checked := 0
	for id, p := range cdktest.ResourcesOfType(tmpl, "AWS::IAM::Policy") {
		md, _ := p["Metadata"].(map[string]interface{})
		nag, _ := md["cdk_nag"].(map[string]interface{})
		for _, r := range list(nag["rules_to_suppress"]) {
			rm := r.(map[string]interface{})
			if rm["id"] != "NIST.800.53.R5-IAMNoInlinePolicy" {
				continue
			}
			checked++
			reason := rm["reason"].(string)
			if !strings.Contains(reason, "CDK Pipelines generates") || !strings.Contains(reason, "inline") || strings.Contains(reason, "would not be") {
				t.Errorf("%s: IAMNoInlinePolicy reason %q: want that CDK Pipelines generates the policy inline, and no claim that self-mutation would not rebuild a managed policy", id, reason)
			}
		}
	}
	if checked == 0 {
		t.Error("no IAMNoInlinePolicy suppression on the pipeline's policies; the check is not looking in the right place")
	}
}

// The Verify step reads each image pipeline and upstream parameter of its
// environment through a role the environment's stack defines for exactly
// that, not through CDK's lookup role (ReadOnlyAccess to the account).
func TestVerifyStepAssumesOnlyItsEnvironmentsVerifyRole(t *testing.T) {
	dir, ps := synthPipeline(t)
	cfg := DeliveryPipeline()
	var assumed []string
	pipelineTemplate := readTemplate(t, dir, "GoldenAmi-Pipeline")
	roles := cdktest.ResourcesOfType(pipelineTemplate, "AWS::IAM::Role")
	for id, r := range cdktest.ResourcesOfType(pipelineTemplate, "AWS::IAM::Policy") {
		for _, st := range r["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			st := st.(map[string]interface{})
			for _, res := range anyList(st["Resource"]) {
				if strings.Contains(res, "lookup-role") {
					t.Errorf("%s lets the pipeline assume CDK's lookup role %s", id, res)
				}
				if strings.Contains(res, "PipelineVerify") {
					assumed = append(assumed, res)
					// The verify roles trust only roles named after the
					// pipeline stack: CloudFormation names a role so when
					// the template gives it no name.
					for _, ref := range r["Properties"].(map[string]interface{})["Roles"].([]interface{}) {
						role := ref.(map[string]interface{})["Ref"].(string)
						props, found := roles[role]["Properties"].(map[string]interface{})
						if name, named := props["RoleName"]; !found || named {
							t.Errorf("%s, which assumes %s, is named %v (found: %v); want a name CloudFormation generates from the stack's", role, res, name, found)
						}
					}
				}
			}
		}
	}
	envs, _ := Select(Environments(), "")
	for _, env := range envs {
		want := "arn:aws:iam::" + env.Account + ":role/GoldenAmi-" + env.Name + "-PipelineVerify"
		if !slices.Contains(assumed, want) {
			t.Errorf("no Verify step may assume %s (assumable: %v)", want, assumed)
		}
		images := ps.Stages[env.Name].Images.Stack
		tmpl := assertions.Template_FromStack(images.Stack, nil)
		cdktest.Check(t, env.Name+": verify role trusts the pipeline's account", func() {
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]interface{}{
				"RoleName": "GoldenAmi-" + env.Name + "-PipelineVerify",
				"AssumeRolePolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
					"Action": "sts:AssumeRole", "Effect": "Allow",
					"Principal": map[string]interface{}{"AWS": "arn:aws:iam::" + cfg.Account + ":root"},
				}}},
				"MaxSessionDuration": 3600,
			})
		})
		cdktest.Check(t, env.Name+": verify policy reads the pipelines and parameters, nothing else", func() {
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]interface{}{
				"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
					map[string]interface{}{"Sid": "ReadImagePipelines", "Action": "imagebuilder:GetImagePipeline", "Effect": "Allow", "Resource": assertions.Match_AnyValue()},
					map[string]interface{}{"Sid": "ReadUpstreamParameters", "Action": "ssm:GetParameter", "Effect": "Allow", "Resource": assertions.Match_AnyValue()},
				}},
			})
		})
		var pipelines, parameters int
		for _, r := range cdktest.ResourcesOfType(cdktest.TemplateJSON(t, images.Stack), "AWS::IAM::ManagedPolicy") {
			for _, st := range r["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
				st := st.(map[string]interface{})
				switch st["Sid"] {
				case "ReadImagePipelines":
					pipelines = len(list(st["Resource"]))
				case "ReadUpstreamParameters":
					parameters = len(list(st["Resource"]))
				}
			}
		}
		if pipelines != len(env.Images) || parameters != len(env.Images) {
			t.Errorf("%s: verify policy names %d pipelines and %d parameters, want %d each", env.Name, pipelines, parameters, len(env.Images))
		}
	}
}

// The source action may use the configured connection under its own
// service prefix: IAM matches a statement's prefix to the resource's, so
// CDK's codestar-connections:UseConnection alone does not cover a
// codeconnections connection.
func TestSourceActionMayUseTheConnectionUnderItsPrefix(t *testing.T) {
	dir, _ := synthPipeline(t)
	cfg := DeliveryPipeline()
	if !strings.HasPrefix(cfg.ConnectionARN, "arn:aws:codeconnections:") {
		t.Fatalf("the example ConnectionARN %s does not have the codeconnections prefix this test is about", cfg.ConnectionARN)
	}
	source := pipelineRolePolicy(t, readTemplate(t, dir, "GoldenAmi-Pipeline"), "PipelineSource")
	for _, s := range source.statements {
		if slices.Contains(list(s["Action"]), interface{}("codeconnections:UseConnection")) && slices.Equal(list(s["Resource"]), []interface{}{cfg.ConnectionARN}) {
			return
		}
	}
	t.Errorf("%s has no codeconnections:UseConnection on %s: %v", source.id, cfg.ConnectionARN, source.statements)
}
