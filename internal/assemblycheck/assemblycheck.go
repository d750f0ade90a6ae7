// Package assemblycheck verifies a synthesized cloud assembly (cdk.out):
// every environment's template holds a complete, hardened golden-image
// pipeline per image, and no cdk-nag report has a Non-Compliant row. The
// stack tests run it on an in-process synth; `go run
// ./internal/tools/checkassembly cdk.out` runs it on the output of the
// README's synth command.
package assemblycheck

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
	for _, env := range envs {
		name := "GoldenAmi-" + env.Name
		tmpl, err := readTemplate(filepath.Join(dir, name+".template.json"))
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
			kt, err := readTemplate(filepath.Join(dir, keys+".template.json"))
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

// NagReportProblems returns a problem per Non-Compliant row in any cdk-nag
// report under dir (nested stage assemblies included), and one when there
// are no reports at all.
func NagReportProblems(dir string) []string {
	var reports []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, "-NagReport.csv") {
			reports = append(reports, p)
		}
		return nil
	})
	if len(reports) == 0 {
		return []string{"no cdk-nag reports (*-NagReport.csv) in " + dir}
	}
	var problems []string
	for _, path := range reports {
		f, err := os.Open(path)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", filepath.Base(path), err))
			continue
		}
		for _, row := range rows {
			if len(row) > 2 && row[2] == "Non-Compliant" {
				problems = append(problems, fmt.Sprintf("%s: Non-Compliant %s on %s", filepath.Base(path), row[0], row[1]))
			}
		}
	}
	return problems
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
