// Command synthphases times the phases of the whole app's synth in one
// process: defining each environment (which includes waiting for the
// Lambda functions' bundle, prefetched as main.go does), applying the cdk-nag packs, and app.Synth (CloudFormation
// schema validation, the nag rules and writing the assembly), in wall time
// and in the CPU time of the app and of its child processes (jsii's two
// Node processes, and the Lambda bundle's go build while it runs). It builds the
// same app as main.go without the pipeline. scripts/bench-synth.sh runs it
// after the comparison; set CDK_VALIDATION=false to see what validation
// costs.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/gofunction"
	"github.com/platform-eng/golden-ami/internal/compliance"
	"github.com/platform-eng/golden-ami/stacks"
)

func main() {
	t0 := time.Now()
	var app0, children0 int64
	lap := func(phase string) {
		app, children := cpu()
		fmt.Printf("%-28s %6d ms   cpu: app %5d ms, children %6d ms\n", phase, time.Since(t0).Milliseconds(), app-app0, children-children0)
		t0, app0, children0 = time.Now(), app, children
	}
	gofunction.PrefetchBundles()
	app := awscdk.NewApp(nil)
	if os.Getenv("CDK_VALIDATION") != "false" { // as main.go does
		compliance.ValidateTemplates(app)
	}
	lap("start (Node, jsii, App)")
	envs, err := stacks.Select(stacks.Environments(), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, env := range envs {
		stacks.NewEnvironment(app, env)
		lap("define " + env.Name)
	}
	compliance.Apply(app, true)
	lap("apply cdk-nag")
	app.Synth(nil)
	lap("app.Synth")
	jsii.Close()
	lap("close")
}
