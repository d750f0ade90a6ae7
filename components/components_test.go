package components

import (
	"fmt"
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

// optionalInputs lists the actions whose inputs are all optional: Reboot
// (delaySeconds) and UpdateOS (include, exclude).
var optionalInputs = map[string]bool{"Reboot": true, "UpdateOS": true}

type document struct {
	Name          string    `yaml:"name"`
	Description   string    `yaml:"description"`
	SchemaVersion yaml.Node `yaml:"schemaVersion"`
	Phases        []struct {
		Name  string `yaml:"name"`
		Steps []struct {
			Name   string `yaml:"name"`
			Action string `yaml:"action"`
			// Inputs is a mapping for most actions, but a list of mappings
			// for S3Download, S3Upload, WebDownload, SetRegistry and the
			// file-system actions.
			Inputs yaml.Node `yaml:"inputs"`
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
			if p := checkInputs(s.Inputs, s.Action); p != "" {
				problems = append(problems, "step "+s.Name+" in document "+doc.Name+": field "+p)
			}
		}
	}
	return problems
}

// checkInputs returns what is wrong with a step's inputs, starting with the
// field's name, or "" when nothing is.
func checkInputs(in yaml.Node, action string) string {
	required := !optionalInputs[action]
	in = deref(in)
	switch {
	case in.Kind == 0 || in.Tag == "!!null":
		if required {
			return "inputs is missing (" + action + " requires it)"
		}
	case in.Kind == yaml.MappingNode || in.Kind == yaml.SequenceNode:
		if len(in.Content) == 0 && required {
			return "inputs is empty (" + action + " requires it)"
		}
		if in.Kind == yaml.SequenceNode {
			for i, item := range in.Content {
				if deref(*item).Kind != yaml.MappingNode {
					return fmt.Sprintf("inputs[%d] is a %s (want a mapping)", i, kindName(deref(*item).Kind))
				}
			}
		}
	default:
		return "inputs is a " + kindName(in.Kind) + " (want a mapping or a list of mappings)"
	}
	return ""
}

// deref follows a YAML alias to the node it names.
func deref(n yaml.Node) yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = *n.Alias
	}
	return n
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "scalar"
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
		for _, s := range bashSteps(t, d) {
			cmd := exec.Command(bash, "-n")
			cmd.Stdin = strings.NewReader(s.script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s step %s: bash -n: %v\n%s", d.Name, s.name, err, out)
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

func TestSchemaCheckAcceptsListInputsAndOptionalInputs(t *testing.T) {
	// S3Download, WebDownload and the file-system actions take a list of
	// inputs; Reboot's and UpdateOS's inputs are all optional.
	valid := `name: ListInputs
description: valid on purpose
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Fetch
        action: S3Download
        inputs:
          - source: s3://bucket/path/package.zip
            destination: /tmp/package.zip
            expectedBucketOwner: "111111111111"
      - name: Download
        action: WebDownload
        inputs:
          - source: https://example.com/tool.tar.gz
            destination: /tmp/
      - name: Configure
        action: CreateFile
        inputs:
          - path: /etc/tool.conf
            content: key=value
            overwrite: true
      - name: Restart
        action: Reboot
      - name: Patch
        action: UpdateOS
      - name: Run
        action: ExecuteBash
        inputs:
          commands: [echo]
`
	if got := checkDocument([]byte(valid), "Linux"); len(got) != 0 {
		t.Errorf("valid document rejected: %s", strings.Join(got, "; "))
	}
}

func TestSchemaCheckRejectsStepsWithoutInputs(t *testing.T) {
	for _, tc := range []struct {
		name, inputs, want string
	}{
		{"missing", "", "step Run in document MissingInputs: field inputs is missing (ExecuteBash requires it)"},
		{"null", "inputs:", "step Run in document MissingInputs: field inputs is missing (ExecuteBash requires it)"},
		{"empty mapping", "inputs: {}", "step Run in document MissingInputs: field inputs is empty (ExecuteBash requires it)"},
		{"empty list", "inputs: []", "step Run in document MissingInputs: field inputs is empty (ExecuteBash requires it)"},
		{"scalar", "inputs: echo", "step Run in document MissingInputs: field inputs is a scalar (want a mapping or a list of mappings)"},
		{"list of scalars", "inputs: [echo]", "step Run in document MissingInputs: field inputs[0] is a scalar (want a mapping)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := `name: MissingInputs
description: broken on purpose
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Run
        action: ExecuteBash
        ` + tc.inputs + `
`
			got := strings.Join(checkDocument([]byte(doc), "Linux"), "; ")
			if got != tc.want {
				t.Errorf("problems\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
