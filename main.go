// Command golden-ami synthesizes the golden-image platform: every
// environment in stacks/environments.go, or one with `-c env=<name>`; with
// `-c pipeline=true`, the self-mutating delivery pipeline that deploys them.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/gofunction"
	"github.com/platform-eng/golden-ami/internal/compliance"
	"github.com/platform-eng/golden-ami/stacks"
)

func main() {
	defer jsii.Close()
	gofunction.PrefetchBundles() // builds the Lambda functions while Node starts
	app := awscdk.NewApp(nil)
	if os.Getenv("CDK_VALIDATION") != "false" { // aws-cdk-lib's own switch for this validation
		compliance.ValidateTemplates(app) // creates the validation engine while the heap is small
	}

	opts, err := stacks.ParseContext(app.Node().TryGetContext(jsii.String("env")), app.Node().TryGetContext(jsii.String("pipeline")))
	if err != nil {
		exit(err)
	}
	envs, err := stacks.Select(stacks.Environments(), opts.Env)
	if err != nil {
		exit(err)
	}
	if opts.Pipeline {
		// The delivery pipeline deploys every environment.
		cfg := stacks.DeliveryPipeline()
		all, _ := stacks.Select(stacks.Environments(), "")
		if err := cfg.ValidateFor(all); err != nil {
			exit(err)
		}
		stacks.NewPipelineStack(app, jsii.String("GoldenAmi-Pipeline"), &stacks.PipelineStackProps{
			StackProps: awscdk.StackProps{
				Env:         &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)},
				Description: jsii.String("Self-mutating delivery pipeline of the golden AMI platform"),
			},
			Pipeline:     cfg,
			Environments: all,
			PrepareStage: func(stage awscdk.Stage) { compliance.Apply(stage, true) },
		})
	} else {
		for _, env := range envs {
			stacks.NewEnvironment(app, env)
		}
	}
	compliance.Apply(app, true)
	app.Synth(nil)
}

func exit(err error) {
	fmt.Fprintln(os.Stderr, err)
	jsii.Close()
	os.Exit(1)
}
