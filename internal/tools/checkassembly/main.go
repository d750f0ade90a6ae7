// Command checkassembly verifies the cloud assembly written by the README's
// synth command: a complete, hardened golden-image pipeline per image in
// every environment's template, and every row of every cdk-nag report
// Compliant or Suppressed (no Non-Compliant, UNKNOWN or unrecognised status).
//
//	go run ./internal/tools/checkassembly cdk.out
package main

import (
	"fmt"
	"os"

	"github.com/platform-eng/golden-ami/internal/assemblycheck"
	"github.com/platform-eng/golden-ami/stacks"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: checkassembly <cdk.out directory>")
		os.Exit(2)
	}
	problems := assemblycheck.Check(os.Args[1], stacks.AssemblyCheckEnvironments(stacks.Environments()))
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	fmt.Printf("%s: every environment's template has its golden-image pipelines; no cdk-nag finding\n", os.Args[1])
}
