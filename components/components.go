// Package components embeds the project's own AWSTOE component documents so
// the goldenimage construct can define them from any module cache, without
// reading files relative to the working directory.
//
// The documents run in this order in every golden image recipe:
//
//  1. update-ssm-agent-<platform>: updates the SSM agent before anything else,
//     so OS updates and STIG hardening never run on a stale or broken agent;
//  2. (AWS-managed) update-linux / update-windows;
//  3. (AWS-managed) stig-build-<platform>-<level>;
//  4. test-golden-<platform>: test-phase checks on an instance launched from the
//     finished image.
package components

import (
	"embed"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed *.yaml
var files embed.FS

// Document is one AWSTOE component document.
type Document struct {
	// Name is the file's base name without ".yaml", e.g. "update-ssm-agent-linux".
	Name string
	// Platform is the Image Builder platform the document runs on: "Linux" or "Windows".
	Platform string
	// Description is the document's own description.
	Description string
	// Data is the YAML document itself.
	Data string
}

// The embedded documents.
var (
	UpdateSSMAgentLinux   = mustLoad("update-ssm-agent-linux", "Linux")
	UpdateSSMAgentWindows = mustLoad("update-ssm-agent-windows", "Windows")
	TestLinux             = mustLoad("test-golden-linux", "Linux")
	TestWindows           = mustLoad("test-golden-windows", "Windows")
)

// All returns every embedded document.
func All() []Document {
	return []Document{UpdateSSMAgentLinux, UpdateSSMAgentWindows, TestLinux, TestWindows}
}

// SSMAgentUpdate returns the SSM-agent update document for platform ("Linux" or "Windows").
func SSMAgentUpdate(platform string) (Document, error) {
	return pick(platform, UpdateSSMAgentLinux, UpdateSSMAgentWindows)
}

// Test returns the test-phase document for platform ("Linux" or "Windows").
func Test(platform string) (Document, error) {
	return pick(platform, TestLinux, TestWindows)
}

func pick(platform string, linux, windows Document) (Document, error) {
	switch platform {
	case "Linux":
		return linux, nil
	case "Windows":
		return windows, nil
	}
	return Document{}, fmt.Errorf("components: platform %q is not supported (want \"Linux\" or \"Windows\")", platform)
}

func mustLoad(name, platform string) Document {
	data, err := files.ReadFile(name + ".yaml")
	if err != nil {
		panic(fmt.Sprintf("components: %v", err))
	}
	var head struct {
		Description string `yaml:"description"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		panic(fmt.Sprintf("components: %s.yaml: %v", name, err))
	}
	return Document{
		Name:        name,
		Platform:    platform,
		Description: strings.TrimSpace(head.Description),
		Data:        string(data),
	}
}
