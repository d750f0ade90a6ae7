package components

import (
	"io/fs"
	"os/exec"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// knownActions are AWSTOE's action modules
// (https://docs.aws.amazon.com/imagebuilder/latest/userguide/toe-action-modules.html).
var knownActions = map[string]bool{
	"ExecuteBash": true, "ExecuteBinary": true, "ExecuteDocument": true, "ExecutePowerShell": true,
	"Reboot": true, "SetRegistry": true, "UpdateOS": true,
	"S3Download": true, "S3Upload": true, "WebDownload": true,
	"AppendFile": true, "CopyFile": true, "CopyFolder": true, "CreateFile": true, "CreateFolder": true,
	"CreateSymlink": true, "DeleteFile": true, "DeleteFolder": true, "ListFiles": true, "MoveFile": true,
	"MoveFolder": true, "ReadFile": true, "SetFileEncoding": true, "SetFileOwner": true,
	"SetFolderOwner": true, "SetFilePermissions": true, "SetFolderPermissions": true,
	"InstallMSI": true, "UninstallMSI": true,
}

// platformActions lists the script actions that only run on one platform.
var platformActions = map[string]string{"ExecuteBash": "Linux", "ExecutePowerShell": "Windows"}

var knownPhases = map[string]bool{"build": true, "validate": true, "test": true}

type document struct {
	Name          string    `yaml:"name"`
	Description   string    `yaml:"description"`
	SchemaVersion yaml.Node `yaml:"schemaVersion"`
	Phases        []struct {
		Name  string `yaml:"name"`
		Steps []struct {
			Name   string         `yaml:"name"`
			Action string         `yaml:"action"`
			Inputs map[string]any `yaml:"inputs"`
		} `yaml:"steps"`
	} `yaml:"phases"`
}

// checkDocument returns every schema problem in data, for a document meant for platform.
func checkDocument(data []byte, platform string) []string {
	var problems []string
	var doc document
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []string{"does not parse: " + err.Error()}
	}
	if doc.Name == "" {
		problems = append(problems, "has no name")
	}
	if doc.Description == "" || len(doc.Description) > 1024 {
		problems = append(problems, "description must be 1-1024 characters")
	}
	if doc.SchemaVersion.Value != "1.0" {
		problems = append(problems, "schemaVersion is "+doc.SchemaVersion.Value+", want 1.0")
	}
	if len(doc.Phases) == 0 {
		problems = append(problems, "has no phases")
	}
	steps := map[string]bool{}
	phases := map[string]bool{}
	for _, p := range doc.Phases {
		if !knownPhases[p.Name] {
			problems = append(problems, "phase "+p.Name+" is not build, validate or test")
		}
		if phases[p.Name] {
			problems = append(problems, "phase "+p.Name+" appears twice")
		}
		phases[p.Name] = true
		if len(p.Steps) == 0 {
			problems = append(problems, "phase "+p.Name+" has no steps")
		}
		for _, s := range p.Steps {
			if s.Name == "" {
				problems = append(problems, "a step in phase "+p.Name+" has no name")
			}
			if steps[s.Name] {
				problems = append(problems, "step name "+s.Name+" is not unique")
			}
			steps[s.Name] = true
			if !knownActions[s.Action] {
				problems = append(problems, "step "+s.Name+" uses unknown action "+s.Action)
			}
			if want, ok := platformActions[s.Action]; ok && want != platform {
				problems = append(problems, "step "+s.Name+" uses "+s.Action+" in a "+platform+" document")
			}
			if len(s.Inputs) == 0 {
				problems = append(problems, "step "+s.Name+" has no inputs")
			}
		}
	}
	return problems
}

func TestEveryDocumentFollowsTheAWSTOESchema(t *testing.T) {
	for _, d := range All() {
		for _, p := range checkDocument([]byte(d.Data), d.Platform) {
			t.Errorf("%s.yaml %s", d.Name, p)
		}
	}
}

func TestSchemaCheckCatchesBrokenDocuments(t *testing.T) {
	broken := `name: Broken
description: broken on purpose
schemaVersion: 2.0
phases:
  - name: install
    steps:
      - name: One
        action: ExecuteBash
        inputs: {commands: [echo]}
      - name: One
        action: RunScript
        inputs: {commands: [echo]}
`
	got := strings.Join(checkDocument([]byte(broken), "Windows"), "; ")
	want := "schemaVersion is 2.0, want 1.0; phase install is not build, validate or test; " +
		"step One uses ExecuteBash in a Windows document; step name One is not unique; step One uses unknown action RunScript"
	if got != want {
		t.Errorf("problems\n got %s\nwant %s", got, want)
	}
}

func TestEveryYAMLFileIsRegistered(t *testing.T) {
	registered := map[string]bool{}
	for _, d := range All() {
		registered[d.Name+".yaml"] = true
	}
	matches, err := fs.Glob(files, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range matches {
		if !registered[m] {
			t.Errorf("%s is embedded but not returned by All()", m)
		}
	}
	if len(matches) != len(registered) {
		t.Errorf("All() returns %d documents, %d files are embedded", len(registered), len(matches))
	}
}

func TestBashScriptsParse(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to syntax-check the Linux documents: %v", err)
	}
	for _, d := range All() {
		var doc struct {
			Phases []struct {
				Steps []struct {
					Name   string `yaml:"name"`
					Action string `yaml:"action"`
					Inputs struct {
						Commands []string `yaml:"commands"`
					} `yaml:"inputs"`
				} `yaml:"steps"`
			} `yaml:"phases"`
		}
		if err := yaml.Unmarshal([]byte(d.Data), &doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range doc.Phases {
			for _, s := range p.Steps {
				if s.Action != "ExecuteBash" {
					continue
				}
				cmd := exec.Command(bash, "-n")
				cmd.Stdin = strings.NewReader(strings.Join(s.Inputs.Commands, "\n"))
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s step %s: bash -n: %v\n%s", d.Name, s.Name, err, out)
				}
			}
		}
	}
}

func TestSSMAgentUpdateAndTestPickThePlatform(t *testing.T) {
	for _, tc := range []struct {
		platform string
		update   Document
		test     Document
	}{
		{"Linux", UpdateSSMAgentLinux, TestLinux},
		{"Windows", UpdateSSMAgentWindows, TestWindows},
	} {
		if got, err := SSMAgentUpdate(tc.platform); err != nil || got.Name != tc.update.Name {
			t.Errorf("SSMAgentUpdate(%s) = %s, %v", tc.platform, got.Name, err)
		}
		if got, err := Test(tc.platform); err != nil || got.Name != tc.test.Name {
			t.Errorf("Test(%s) = %s, %v", tc.platform, got.Name, err)
		}
	}
	_, err := SSMAgentUpdate("macOS")
	if want := `components: platform "macOS" is not supported (want "Linux" or "Windows")`; err == nil || err.Error() != want {
		t.Errorf("SSMAgentUpdate(macOS) error = %v, want %q", err, want)
	}
}

func TestDocumentsCarryPlatformAndDescription(t *testing.T) {
	for _, d := range All() {
		if d.Description == "" {
			t.Errorf("%s has no description", d.Name)
		}
		if !strings.HasSuffix(d.Name, strings.ToLower(d.Platform)) {
			t.Errorf("%s is registered for platform %s", d.Name, d.Platform)
		}
	}
}
