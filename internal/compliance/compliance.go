// Package compliance applies the cdk-nag rule packs every stack must pass:
// AWS Solutions and NIST 800-53 rev 5. The app applies them at synth (with
// CSV reports in cdk.out) and the tests apply them to every stack they
// build. With @aws-cdk/core:validateAgainstDefaultRules on, an
// unsuppressed error-level finding fails synthesis.
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

func ptr[T any](v T) *T { return &v }
