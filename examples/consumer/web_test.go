package main

import (
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

const platformParameter = "/golden-ami/prod/al2023/latest"

// newApp is an app with this app's cdk.json context (its feature flags),
// writing its cloud assembly to a temporary directory.
func newApp(t *testing.T) awscdk.App {
	t.Helper()
	data, err := os.ReadFile("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cdkJSON struct {
		Context map[string]interface{} `json:"context"`
	}
	if err := json.Unmarshal(data, &cdkJSON); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	return awscdk.NewApp(&awscdk.AppProps{Context: &cdkJSON.Context, Outdir: jsii.String(t.TempDir())})
}

func check(t *testing.T, what string, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assertion()
}

func ref(prefix string) map[string]interface{} {
	return map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^" + prefix))}
}

func TestWebStack(t *testing.T) {
	app := newApp(t)
	stack := NewWebStack(app, "WebTeam-Web", Config())
	ApplySecurityPacks(app)
	assembly := app.Synth(nil)
	tmpl := assertions.Template_FromStack(stack.Stack, nil)

	check(t, "the team's own golden-image pipeline, built on the platform's latest AMI", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::ImageBuilder::ImagePipeline"), jsii.Number(1))
		tmpl.HasResourceProperties(jsii.String("AWS::ImageBuilder::ImageRecipe"), map[string]interface{}{"ParentImage": "ssm:" + platformParameter})
		tmpl.HasResourceProperties(jsii.String("AWS::ImageBuilder::Component"), map[string]interface{}{
			"Data": assertions.Match_StringLikeRegexp(jsii.String("dnf install -y nginx")),
		})
	})
	check(t, "a launch template resolving the platform's parameter at deploy, and an ASG on it", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::EC2::LaunchTemplate"), map[string]interface{}{
			"LaunchTemplateData": map[string]interface{}{"ImageId": "{{resolve:ssm:" + platformParameter + "}}"},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::AutoScaling::AutoScalingGroup"), map[string]interface{}{
			"LaunchTemplate": map[string]interface{}{"LaunchTemplateId": ref("WebLaunchTemplate")},
			"MinSize":        "2", "MaxSize": "4",
			"VPCZoneIdentifier": []interface{}{"subnet-0123456789abcdef0", "subnet-0123456789abcdef1"},
		})
	})
	check(t, "the rollout function and its rule on the platform's parameter", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Environment": map[string]interface{}{"Variables": map[string]interface{}{
				"SSM_PARAMETER_NAME": platformParameter, "AUTO_SCALING_GROUP_NAME": ref("WebGroup"), "LAUNCH_TEMPLATE_ID": ref("WebLaunchTemplate"),
			}},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"EventPattern": map[string]interface{}{"detail": map[string]interface{}{"name": []interface{}{platformParameter}}},
			"Targets":      []interface{}{map[string]interface{}{"Arn": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^WebRolloutFunction")), "Arn"}}}},
		})
	})
	// That the trigger builds what the platform's recorder writes is
	// lambdas/imagebuildertrigger's TestHandle ("a golden AMI the recorder
	// wrote starts a build"); here, that it watches that parameter.
	check(t, "the worker pipeline's trigger watches the platform's latest-AMI parameter, and its AMIs are recorded", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Environment": map[string]interface{}{"Variables": map[string]interface{}{"SSM_PARAMETER_NAME": platformParameter, "IMAGE_PIPELINE_ARN": assertions.Match_AnyValue()}},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Environment": map[string]interface{}{"Variables": map[string]interface{}{"SSM_PARAMETER_NAME": "/web/worker/latest"}},
		})
	})
	check(t, "one customer-managed key for everything", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::KMS::Key"), jsii.Number(1))
		tmpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]interface{}{"EnableKeyRotation": true})
	})

	t.Run("cdk-nag AwsSolutions and NIST 800-53 rev 5 find nothing", func(t *testing.T) {
		annotations := assertions.Annotations_FromStack(stack.Stack)
		rules := assertions.Match_StringLikeRegexp(jsii.String(`AwsSolutions-|NIST\.800\.53\.R5-`))
		findings := append(*annotations.FindError(jsii.String("*"), rules), *annotations.FindWarning(jsii.String("*"), rules)...)
		for _, f := range findings {
			t.Errorf("%s: %v", *f.Id, f.Entry.Data)
		}
	})

	t.Run("Lambda assets are built by import path from this module's graph", func(t *testing.T) {
		want := map[string]bool{
			"github.com/platform-eng/golden-ami/lambdas/rollout":             false,
			"github.com/platform-eng/golden-ami/lambdas/imagebuildertrigger": false,
			"github.com/platform-eng/golden-ami/lambdas/latestami":           false,
		}
		bins, _ := filepath.Glob(filepath.Join(*assembly.Directory(), "asset.*", "bootstrap"))
		for _, bin := range bins {
			info, err := buildinfo.ReadFile(bin)
			if err != nil {
				t.Fatalf("%s: %v", bin, err)
			}
			if _, ok := want[info.Path]; !ok {
				t.Errorf("%s: unexpected function %s", bin, info.Path)
				continue
			}
			want[info.Path] = true
			if info.Main.Path != "github.com/platform-eng/golden-ami" || info.Main.Replace == nil || info.Main.Replace.Path != "../.." {
				t.Errorf("%s: built from module %+v, want github.com/platform-eng/golden-ami through this module's replace directive", info.Path, info.Main)
			}
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatalf("%s: %v", bin, err)
			}
			if f.Machine != elf.EM_AARCH64 {
				t.Errorf("%s: built for %v, want arm64", info.Path, f.Machine)
			}
			f.Close()
		}
		for path, found := range want {
			if !found {
				t.Errorf("no asset for %s among %s", path, strings.Join(bins, ", "))
			}
		}
	})
}

func TestWebStackOnASharedParameter(t *testing.T) {
	const arn = "arn:aws:ssm:us-east-1:999999999999:parameter/golden-ami/prod/al2023/latest"
	props := Config()
	props.PlatformParameter = arn
	stack := NewWebStack(newApp(t), "WebTeam-Web", props)
	tmpl := assertions.Template_FromStack(stack.Stack, nil)
	check(t, "a parameter shared by ARN resolves at deploy through an SSM-typed template parameter", func() {
		tmpl.HasParameter(jsii.String("*"), map[string]interface{}{"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": arn})
	})
	check(t, "the worker recipe builds on it by ARN", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::ImageBuilder::ImageRecipe"), map[string]interface{}{"ParentImage": "ssm:" + arn})
	})
	check(t, "no trigger: the parameter's change events stay in its own account", func() {
		tmpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(2))
	})
	check(t, "the rollout function reads it by ARN", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
			"Environment": map[string]interface{}{"Variables": map[string]interface{}{"SSM_PARAMETER_NAME": arn, "AUTO_SCALING_GROUP_NAME": ref("WebGroup")}},
		})
	})
}

func TestWebStackRejectsABadParameter(t *testing.T) {
	props := Config()
	props.PlatformParameter = "golden-ami/prod/al2023/latest"
	defer func() {
		const want = `latestami: parameter name "golden-ami/prod/al2023/latest" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`
		if got := recover(); got == nil || got.(error).Error() != want {
			t.Errorf("got panic %v\nwant %s", got, want)
		}
	}()
	NewWebStack(newApp(t), "WebTeam-Web", props)
}
