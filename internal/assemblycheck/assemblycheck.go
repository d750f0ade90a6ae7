// Package assemblycheck verifies a synthesized cloud assembly (cdk.out):
// every environment's template holds a complete, hardened golden-image
// pipeline per image, and every row of every cdk-nag report is Compliant or
// Suppressed (not Non-Compliant, UNKNOWN or anything else). The
// stack tests run it on an in-process synth; `go run
// ./internal/tools/checkassembly cdk.out` runs it on the output of the
// README's synth command.
package assemblycheck

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Environment is what the check needs to know about one environment.
type Environment struct {
	Name                string
	Images              int
	DistributionRegions []string
}

var stigARN = regexp.MustCompile(`:aws:component/stig-build-(linux|windows)-(low|medium|high)/x\.x\.x`)

// Check returns every problem found in the assembly at dir, or nil.
func Check(dir string, envs []Environment) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	templates, err := stackTemplates(dir)
	if err != nil {
		return append(problems, err.Error())
	}
	template := func(stack string) string {
		if path, ok := templates[stack]; ok {
			return path
		}
		return filepath.Join(dir, stack+".template.json") // reported as missing
	}
	for _, env := range envs {
		name := "GoldenAmi-" + env.Name
		tmpl, err := readTemplate(template(name))
		if err != nil {
			fail("%s: %v", name, err)
			continue
		}
		n := env.Images
		for typ, want := range map[string]int{
			"AWS::ImageBuilder::ImagePipeline": n, "AWS::ImageBuilder::ImageRecipe": n,
			"AWS::ImageBuilder::InfrastructureConfiguration": n, "AWS::ImageBuilder::DistributionConfiguration": n,
			"AWS::ImageBuilder::LifecyclePolicy": n, "AWS::ImageBuilder::Component": 2 * n,
		} {
			if got := len(ofType(tmpl, typ)); got != want {
				fail("%s: %d %s, want %d", name, got, typ, want)
			}
		}
		for _, props := range ofType(tmpl, "AWS::ImageBuilder::ImageRecipe") {
			parent, _ := json.Marshal(props["ParentImage"])
			if !strings.Contains(string(parent), `"ssm:`) {
				fail("%s: recipe %v parent is %s, want an ssm: parameter", name, props["Name"], parent)
			}
			components, _ := json.Marshal(props["Components"])
			if !stigARN.Match(components) {
				fail("%s: recipe %v has no STIG component", name, props["Name"])
			}
		}
		agents := 0
		for _, props := range ofType(tmpl, "AWS::ImageBuilder::Component") {
			if data, _ := props["Data"].(string); strings.Contains(data, "name: UpdateSSMAgent") {
				agents++
			}
		}
		if agents != n {
			fail("%s: %d SSM-agent components, want %d", name, agents, n)
		}
		for _, props := range ofType(tmpl, "AWS::ImageBuilder::InfrastructureConfiguration") {
			imds, _ := props["InstanceMetadataOptions"].(map[string]interface{})
			if imds["HttpTokens"] != "required" {
				fail("%s: infrastructure %v does not require IMDSv2 (HttpTokens %v)", name, props["Name"], imds["HttpTokens"])
			}
			if props["TerminateInstanceOnFailure"] != true {
				fail("%s: infrastructure %v does not terminate failed instances", name, props["Name"])
			}
		}
		for _, props := range ofType(tmpl, "AWS::ImageBuilder::DistributionConfiguration") {
			dists, _ := props["Distributions"].([]interface{})
			if len(dists) != 1+len(env.DistributionRegions) {
				fail("%s: distribution %v has %d regions, want %d", name, props["Name"], len(dists), 1+len(env.DistributionRegions))
			}
		}
		for _, region := range env.DistributionRegions {
			keys := name + "-keys-" + region
			kt, err := readTemplate(template(keys))
			if err != nil {
				fail("%s: %v", keys, err)
				continue
			}
			if len(ofType(kt, "AWS::KMS::Key")) != 1 || len(ofType(kt, "AWS::KMS::Alias")) != 1 {
				fail("%s: want one key and one alias", keys)
			}
		}
	}
	problems = append(problems, NagReportProblems(dir)...)
	return problems
}

// stackTemplates maps each stack's name to its template file (Stacks).
func stackTemplates(dir string) (map[string]string, error) {
	stacks, err := Stacks(dir)
	out := map[string]string{}
	for _, s := range stacks {
		out[s.Name] = s.Template
	}
	return out, err
}

// Stack is one stack of a cloud assembly.
type Stack struct {
	// Name is the stack's CloudFormation name.
	Name string
	// Template is the path of its template file.
	Template string
	// Account is the account of its environment ("aws://<account>/<region>"),
	// "unknown-account" for an environment-agnostic stack.
	Account string
}

// Stacks lists the stacks of the assembly at dir and of the stage
// assemblies nested in it (the delivery pipeline's synth puts every
// environment's stacks in one of those), from the assemblies' manifests.
// Without a manifest there are none.
func Stacks(dir string) ([]Stack, error) {
	var out []Stack
	var walk func(dir string) error
	walk = func(dir string) error {
		data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		var m struct {
			Artifacts map[string]struct {
				Type        string `json:"type"`
				Environment string `json:"environment"`
				Properties  struct {
					StackName     string `json:"stackName"`
					TemplateFile  string `json:"templateFile"`
					DirectoryName string `json:"directoryName"`
				} `json:"properties"`
			} `json:"artifacts"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
		}
		for id, a := range m.Artifacts {
			switch a.Type {
			case "aws:cloudformation:stack":
				account, _, _ := strings.Cut(strings.TrimPrefix(a.Environment, "aws://"), "/")
				out = append(out, Stack{
					Name:     cmp.Or(a.Properties.StackName, id),
					Template: filepath.Join(dir, a.Properties.TemplateFile),
					Account:  account,
				})
			case "cdk:cloud-assembly":
				if err := walk(filepath.Join(dir, a.Properties.DirectoryName)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := walk(dir)
	return out, err
}

// csvHeader is the first row cdk-nag writes to a CSV report.
var csvHeader = []string{"Rule ID", "Resource ID", "Compliance", "Exception Reason", "Rule Level", "Rule Info"}

// passing are the Compliance values of a report row that are not a problem.
// cdk-nag (2.35) writes a row per rule and resource with one of four
// values: Compliant; Suppressed (a finding, or a rule error, suppressed
// with a reason); Non-Compliant; and UNKNOWN, when the rule threw and the
// resource was never checked. A rule that does not apply writes no row (the
// "N/A" in every row is the Exception Reason column), so an N/A Compliance,
// like any other value, is a status this check does not know and fails it.
var passing = map[string]bool{"Compliant": true, "Suppressed": true}

// NagReportProblems returns a problem per row of any cdk-nag report under
// dir (nested stage assemblies included, CSV or JSON) whose compliance is
// not Compliant or Suppressed, and one when there are no reports at all.
func NagReportProblems(dir string) []string {
	var reports []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, "-NagReport.csv") || strings.HasSuffix(p, "-NagReport.json")) {
			reports = append(reports, p)
		}
		return nil
	})
	if len(reports) == 0 {
		return []string{"no cdk-nag reports (*-NagReport.csv or *-NagReport.json) in " + dir}
	}
	var problems []string
	for _, path := range reports {
		name := filepath.Base(path)
		rows, err := readNagReport(path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		for _, r := range rows {
			if p := rowProblem(r); p != "" {
				problems = append(problems, name+": "+p)
			}
		}
	}
	return problems
}

// nagRow is one row of a cdk-nag report, with the field names of its JSON
// format.
type nagRow struct {
	RuleID     string `json:"ruleId"`
	ResourceID string `json:"resourceId"`
	Compliance string `json:"compliance"`
}

// rowProblem describes what is wrong with r, or returns "".
func rowProblem(r nagRow) string {
	switch {
	case passing[r.Compliance]:
		return ""
	case r.Compliance == "Non-Compliant":
		return fmt.Sprintf("Non-Compliant %s on %s", r.RuleID, r.ResourceID)
	case r.Compliance == "UNKNOWN":
		return fmt.Sprintf("UNKNOWN %s on %s (the rule threw an error, so the resource was not checked)", r.RuleID, r.ResourceID)
	}
	return fmt.Sprintf("unrecognised compliance %q of %s on %s (want Compliant or Suppressed)", r.Compliance, r.RuleID, r.ResourceID)
}

// readNagReport returns the rows of the CSV or JSON report at path.
func readNagReport(path string) ([]nagRow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".json") {
		var report struct {
			Lines *[]nagRow `json:"lines"`
		}
		if err := json.Unmarshal(data, &report); err != nil {
			return nil, err
		}
		if report.Lines == nil {
			return nil, fmt.Errorf(`no "lines" array`)
		}
		return *report.Lines, nil
	}
	records, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(records) == 0 || !slices.Equal(records[0], csvHeader) {
		var got []string
		if len(records) > 0 {
			got = records[0]
		}
		return nil, fmt.Errorf("header is %q, want %q", got, csvHeader)
	}
	rows := make([]nagRow, 0, len(records)-1)
	for _, rec := range records[1:] {
		rows = append(rows, nagRow{RuleID: rec[0], ResourceID: rec[1], Compliance: rec[2]})
	}
	return rows, nil
}

func readTemplate(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tmpl map[string]interface{}
	if err := json.Unmarshal(data, &tmpl); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tmpl, nil
}

// ofType returns the Properties of every resource of type typ.
func ofType(tmpl map[string]interface{}, typ string) []map[string]interface{} {
	var out []map[string]interface{}
	resources, _ := tmpl["Resources"].(map[string]interface{})
	for _, r := range resources {
		res, _ := r.(map[string]interface{})
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]interface{})
			out = append(out, props)
		}
	}
	return out
}
