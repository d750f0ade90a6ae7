package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestCIRunsTheREADMECommands keeps .ci/run honest: it must run the README's
// two commands verbatim, and a failing test command must fail CI. Under
// `set -e` a failure on the left of && does not stop a script, so the test
// command has to be checked explicitly.
func TestCIRunsTheREADMECommands(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)## The two commands.*?```sh\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README.md has no sh block under \"## The two commands\"")
	}
	var commands []string
	for _, line := range strings.Split(string(block[1]), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			commands = append(commands, line)
		}
	}
	if len(commands) != 2 {
		t.Fatalf("README's two commands: found %d (%q)", len(commands), commands)
	}
	synth, test := commands[0], commands[1]
	if !strings.Contains(synth, "synth") || !strings.Contains(test, "go test") {
		t.Fatalf("README's commands are %q and %q; want the synth command first, then the test command", synth, test)
	}
	if !strings.Contains(string(ci), "\n"+synth+"\n") {
		t.Errorf(".ci/run does not run the README's synth command %q on a line of its own", synth)
	}
	if !strings.Contains(string(ci), "if ! { "+test+"; }; then") {
		t.Errorf(".ci/run must run the README's test command as `if ! { %s; }; then ... exit 1`, so that a failure stops CI", test)
	}
}
