// Command golden-ami synthesizes the golden-image platform: every
// environment in stacks/environments.go, or one with `-c env=<name>`.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/compliance"
	"github.com/platform-eng/golden-ami/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)

	name, _ := app.Node().TryGetContext(jsii.String("env")).(string)
	envs, err := stacks.Select(stacks.Environments(), name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		jsii.Close()
		os.Exit(1)
	}
	for _, env := range envs {
		stacks.NewEnvironment(app, env)
	}
	compliance.Apply(app, true)
	app.Synth(nil)
}
