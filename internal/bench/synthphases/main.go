// Command synthphases times the phases of the whole app's synth in one
// process: defining each environment (which includes waiting for the
// Lambda functions' bundle, prefetched as main.go does), applying the cdk-nag packs, and app.Synth (CloudFormation
// schema validation, the nag rules and writing the assembly). It builds the
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
	lap := func(phase string) {
		fmt.Printf("%-28s %6d ms\n", phase, time.Since(t0).Milliseconds())
		t0 = time.Now()
	}
	gofunction.PrefetchBundles()
	app := awscdk.NewApp(nil)
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
