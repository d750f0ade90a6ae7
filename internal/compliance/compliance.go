// Package compliance applies the cdk-nag rule packs every stack must pass:
// AWS Solutions and NIST 800-53 rev 5. The app applies them at synth (with
// CSV reports in cdk.out) and the tests apply them to every stack they
// build. With @aws-cdk/core:validateAgainstDefaultRules on, an
// unsuppressed error-level finding fails synthesis.
//
// ValidateTemplates registers the CloudFormation template validation that
// flag turns into a gate, early, because of what its engine costs to
// create.
package compliance

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Apply adds both packs to scope and everything below it. reports writes
// <pack>-<stack>-NagReport.csv files into the cloud assembly.
func Apply(scope constructs.IConstruct, reports bool) {
	props := &cdknag.NagPackProps{Verbose: ptr(true), Reports: ptr(reports)}
	aspects := awscdk.Aspects_Of(scope)
	aspects.Add(cdknag.NewAwsSolutionsChecks(props), nil)
	aspects.Add(cdknag.NewNIST80053R5Checks(props), nil)
}

// ValidateTemplates registers on app the CloudFormation template
// validation aws-cdk-lib runs at synth by default (the same plugin, rules
// and report; with @aws-cdk/core:validateAgainstDefaultRules on, a schema
// violation fails synthesis), but creates its engine now instead of
// during app.Synth. Call it right after NewApp, before defining anything.
//
// Creating the engine (a WASM Rego engine and the resource schemas) is the
// largest fixed cost of a synth, about 3 s here, and it costs more wall
// and CPU time once the construct tree and its templates are in Node's
// heap (docs/benchmarks.md). Registering the plugin on the App replaces
// the default instance, so templates are validated once, and it covers
// the stacks of nested stages too. Calling it twice on one app fails at
// synth with aws-cdk-lib's DuplicateCloudFormationValidatePlugin error.
//
// aws-cdk-lib skips its default validation when the environment sets
// CDK_VALIDATION=false; a registered plugin runs regardless, so callers
// that honour that switch check it before calling.
func ValidateTemplates(app awscdk.App) {
	awscdk.Validations_Of(app).AddPlugins(awscdk.NewCloudFormationValidatePlugin(nil))
}

func ptr[T any](v T) *T { return &v }
