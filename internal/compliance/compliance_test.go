package compliance_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/cdktest"
	"github.com/platform-eng/golden-ami/internal/compliance"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// badQueue adds a queue whose VisibilityTimeout is outside the schema's
// range (0 to 43200 seconds): CDK itself accepts it, only the
// CloudFormation schema validation rejects it.
func badQueue(scope awscdk.Stack, id string) {
	awscdk.NewCfnResource(scope, jsii.String(id), &awscdk.CfnResourceProps{
		Type:       jsii.String("AWS::SQS::Queue"),
		Properties: &map[string]interface{}{"VisibilityTimeout": 99999},
	})
}

// report returns the validation report synth wrote, and the names of the
// plugins that reported.
func report(t *testing.T, app awscdk.App) (string, []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(*app.Outdir(), "validation-report.json"))
	if err != nil {
		t.Fatalf("no validation report: %v", err)
	}
	var plugins []string
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), `"pluginName": "`); ok {
			plugins = append(plugins, strings.TrimSuffix(name, `",`))
		}
	}
	return string(data), plugins
}

// With the plugin registered early, a schema violation still fails synth,
// in the app's own stacks and in a nested stage's (a pipeline's stages),
// and the templates are validated once, not by the default plugin as well.
func TestValidateTemplatesFailsSynthOnSchemaViolations(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	compliance.ValidateTemplates(app)
	badQueue(awscdk.NewStack(app, jsii.String("Top"), nil), "TopQueue")
	stage := awscdk.NewStage(app, jsii.String("Prod"), nil)
	badQueue(awscdk.NewStack(stage, jsii.String("Nested"), nil), "NestedQueue")

	msg := cdktest.ExpectPanic(t, func() { app.Synth(nil) })
	if !strings.Contains(msg, "Validation failed") {
		t.Errorf("synth failed, but not on validation: %s", msg)
	}
	data, plugins := report(t, app)
	for _, path := range []string{"Top/TopQueue", "Prod/Nested/NestedQueue"} {
		if !strings.Contains(data, path) {
			t.Errorf("the validation report does not name %s:\n%s", path, data)
		}
	}
	if !strings.Contains(data, "VisibilityTimeout") {
		t.Errorf("the validation report does not name the property VisibilityTimeout:\n%s", data)
	}
	if len(plugins) != 1 || plugins[0] != *awscdk.CloudFormationValidatePlugin_PLUGIN_NAME() {
		t.Errorf("plugins that reported = %q, want the CloudFormation validation once", plugins)
	}
}

// The baseline ValidateTemplates must match: without it, the flag in
// cdk.json makes aws-cdk-lib's default validation fail synth on the same
// violation. (So the flag, not the registration, is what makes it a gate.)
func TestDefaultValidationFailsSynthOnSchemaViolations(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	badQueue(awscdk.NewStack(app, jsii.String("Top"), nil), "TopQueue")

	msg := cdktest.ExpectPanic(t, func() { app.Synth(nil) })
	if !strings.Contains(msg, "Validation failed") {
		t.Errorf("synth failed, but not on validation: %s", msg)
	}
	if data, _ := report(t, app); !strings.Contains(data, "Top/TopQueue") {
		t.Errorf("the validation report does not name Top/TopQueue:\n%s", data)
	}
}

// A valid template synthesizes with the plugin registered, and gets no report.
func TestValidateTemplatesPassesValidTemplates(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	compliance.ValidateTemplates(app)
	stack := awscdk.NewStack(app, jsii.String("Top"), nil)
	awscdk.NewCfnResource(stack, jsii.String("Queue"), &awscdk.CfnResourceProps{
		Type:       jsii.String("AWS::SQS::Queue"),
		Properties: &map[string]interface{}{"VisibilityTimeout": 300},
	})
	app.Synth(nil) // a panic fails the test
	if data, plugins := report(t, app); len(plugins) != 0 {
		t.Errorf("a valid template got a report:\n%s", data)
	}
}

// Registering twice is refused: ValidateTemplates does register a plugin
// (the default validation alone would pass the tests above).
func TestValidateTemplatesTwiceFailsSynth(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	compliance.ValidateTemplates(app)
	compliance.ValidateTemplates(app)
	awscdk.NewCfnWaitConditionHandle(awscdk.NewStack(app, jsii.String("Top"), nil), jsii.String("Handle"), nil)

	msg := cdktest.ExpectPanic(t, func() { app.Synth(nil) })
	if !strings.Contains(msg, "only one instance of CloudFormationValidatePlugin can be registered") {
		t.Errorf("synth failed with %q, want the duplicate-plugin error", msg)
	}
}
