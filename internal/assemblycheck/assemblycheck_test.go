package assemblycheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The check must fail on a weak template and a non-compliant report; the
// happy path is exercised by the stack tests on a real synth.
func TestCheckReportsEveryMissingGuarantee(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "GoldenAmi-dev.template.json", `{"Resources": {
		"R": {"Type": "AWS::ImageBuilder::ImageRecipe", "Properties": {"Name": "r", "ParentImage": "ami-12345678", "Components": []}},
		"I": {"Type": "AWS::ImageBuilder::InfrastructureConfiguration", "Properties": {"Name": "i", "InstanceMetadataOptions": {"HttpTokens": "optional"}}}
	}}`)
	write(t, dir, "AwsSolutions-GoldenAmi-dev-NagReport.csv", "Rule ID,Resource ID,Compliance,Exception Reason,Rule Level,Rule Info\n\"AwsSolutions-S1\",\"GoldenAmi-dev/Bucket\",\"Non-Compliant\",\"N/A\",\"Error\",\"x\"\n")
	got := strings.Join(Check(dir, []Environment{{Name: "dev", Images: 1, DistributionRegions: []string{"us-west-2"}}}), "\n")
	for _, want := range []string{
		"GoldenAmi-dev: 0 AWS::ImageBuilder::ImagePipeline, want 1",
		`GoldenAmi-dev: recipe r parent is "ami-12345678", want an ssm: parameter`,
		"GoldenAmi-dev: recipe r has no STIG component",
		"GoldenAmi-dev: 0 SSM-agent components, want 1",
		"GoldenAmi-dev: infrastructure i does not require IMDSv2 (HttpTokens optional)",
		"GoldenAmi-dev: infrastructure i does not terminate failed instances",
		"GoldenAmi-dev-keys-us-west-2: open",
		"AwsSolutions-GoldenAmi-dev-NagReport.csv: Non-Compliant AwsSolutions-S1 on GoldenAmi-dev/Bucket",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
}

// The delivery pipeline's synth puts each environment's stacks in a nested
// stage assembly, under a path-derived file name: the check follows the
// manifests to the stack names.
func TestCheckFindsStacksInNestedStageAssemblies(t *testing.T) {
	dir := t.TempDir()
	stage := filepath.Join(dir, "assembly-Pipeline-dev")
	if err := os.Mkdir(stage, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "manifest.json", `{"artifacts": {"assembly-Pipeline-dev": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Pipeline-dev"}}}}`)
	write(t, stage, "manifest.json", `{"artifacts": {"PipelinedevGoldenAmi1234": {"type": "aws:cloudformation:stack", "properties": {"stackName": "GoldenAmi-dev", "templateFile": "PipelinedevGoldenAmi1234.template.json"}}}}`)
	write(t, stage, "PipelinedevGoldenAmi1234.template.json", `{"Resources": {
		"I": {"Type": "AWS::ImageBuilder::InfrastructureConfiguration", "Properties": {"Name": "i", "InstanceMetadataOptions": {"HttpTokens": "optional"}}}
	}}`)
	write(t, stage, "AwsSolutions-GoldenAmi-dev-NagReport.csv", nagCSV([3]string{"AwsSolutions-S1", "GoldenAmi-dev/Bucket", "Compliant"}))
	got := strings.Join(Check(dir, []Environment{{Name: "dev", Images: 1}}), "\n")
	if !strings.Contains(got, "GoldenAmi-dev: infrastructure i does not require IMDSv2 (HttpTokens optional)") || strings.Contains(got, "GoldenAmi-dev: open") {
		t.Errorf("the stage's template was not checked:\n%s", got)
	}
	write(t, stage, "manifest.json", `{"artifacts": `)
	if got := Check(dir, nil); len(got) != 1 || !strings.HasPrefix(got[0], filepath.Join(stage, "manifest.json")+": unexpected end of JSON input") {
		t.Errorf("a broken manifest: %v", got)
	}
}

func TestCheckFailsWithoutNagReports(t *testing.T) {
	got := Check(t.TempDir(), nil)
	if len(got) != 1 || !strings.HasPrefix(got[0], "no cdk-nag reports") {
		t.Errorf("Check = %v", got)
	}
}

// nagCSV is a CSV report as cdk-nag writes it, with a row per
// rule/resource/compliance triple.
func nagCSV(rows ...[3]string) string {
	s := "Rule ID,Resource ID,Compliance,Exception Reason,Rule Level,Rule Info\n"
	for _, r := range rows {
		reason := "N/A"
		if r[2] == "Suppressed" {
			reason = "Encrypted with the AWS managed key."
		}
		s += `"` + r[0] + `","` + r[1] + `","` + r[2] + `","` + reason + `","Error","The rule's info, with ""quotes""."` + "\n"
	}
	return s
}

// nagJSON is the same report in cdk-nag's JSON format.
func nagJSON(rows ...[3]string) string {
	var lines []string
	for _, r := range rows {
		lines = append(lines, `{"ruleId":"`+r[0]+`","resourceId":"`+r[1]+`","compliance":"`+r[2]+`","exceptionReason":"N/A","ruleLevel":"Error","ruleInfo":"x"}`)
	}
	return `{"lines":[` + strings.Join(lines, ",") + `]}`
}

// Only Compliant and Suppressed rows pass: Non-Compliant, UNKNOWN (the
// rule threw, so the resource was never checked) and any status the check
// does not know are each a problem naming the report, rule, resource and
// status, in CSV and JSON reports alike.
func TestNagReportProblemsAcceptOnlyCompliantAndSuppressed(t *testing.T) {
	rows := [][3]string{
		{"AwsSolutions-KMS5", "GoldenAmi-dev/Shared/Key/Resource", "Compliant"},
		{"AwsSolutions-IAM5", "GoldenAmi-dev/Role/DefaultPolicy/Resource", "Suppressed"},
		{"AwsSolutions-S1", "GoldenAmi-dev/Bucket/Resource", "Non-Compliant"},
		{"AwsSolutions-L1", "GoldenAmi-dev/Function/Resource", "UNKNOWN"},
		{"NIST.800.53.R5-LambdaConcurrency", "GoldenAmi-dev/Function/Resource", "Skipped"},
		// cdk-nag writes no row for a rule that does not apply; N/A is
		// only ever the Exception Reason, so in Compliance it is unknown.
		{"AwsSolutions-SNS3", "GoldenAmi-dev/Topic/Resource", "N/A"},
		{"AwsSolutions-SQS3", "GoldenAmi-dev/Queue/Resource", "compliant"},
	}
	for _, format := range []struct {
		ext     string
		content func(...[3]string) string
	}{{"csv", nagCSV}, {"json", nagJSON}} {
		t.Run(format.ext, func(t *testing.T) {
			dir := t.TempDir()
			name := "AwsSolutions-GoldenAmi-dev-NagReport." + format.ext
			write(t, dir, name, format.content(rows...))
			got := NagReportProblems(dir)
			want := []string{
				name + ": Non-Compliant AwsSolutions-S1 on GoldenAmi-dev/Bucket/Resource",
				name + ": UNKNOWN AwsSolutions-L1 on GoldenAmi-dev/Function/Resource (the rule threw an error, so the resource was not checked)",
				name + `: unrecognised compliance "Skipped" of NIST.800.53.R5-LambdaConcurrency on GoldenAmi-dev/Function/Resource (want Compliant or Suppressed)`,
				name + `: unrecognised compliance "N/A" of AwsSolutions-SNS3 on GoldenAmi-dev/Topic/Resource (want Compliant or Suppressed)`,
				name + `: unrecognised compliance "compliant" of AwsSolutions-SQS3 on GoldenAmi-dev/Queue/Resource (want Compliant or Suppressed)`,
			}
			if !slices.Equal(got, want) {
				t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			// The same report with only the passing rows has no problem.
			write(t, dir, name, format.content(rows[:2]...))
			if got := NagReportProblems(dir); len(got) != 0 {
				t.Errorf("Compliant and Suppressed rows: problems %q, want none", got)
			}
		})
	}
}

// A report that is not in cdk-nag's format is a problem, not an empty
// report.
func TestNagReportProblemsRejectUnreadableReports(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"x-NagReport.csv", "", `x-NagReport.csv: header is [], want ["Rule ID" "Resource ID" "Compliance" "Exception Reason" "Rule Level" "Rule Info"]`},
		{"x-NagReport.csv", "Rule ID,Compliance,Resource ID,Exception Reason,Rule Level,Rule Info\n\"R\",\"Non-Compliant\",\"S/B\",\"N/A\",\"Error\",\"x\"\n",
			`x-NagReport.csv: header is ["Rule ID" "Compliance" "Resource ID" "Exception Reason" "Rule Level" "Rule Info"], want ["Rule ID" "Resource ID" "Compliance" "Exception Reason" "Rule Level" "Rule Info"]`},
		{"x-NagReport.csv", nagCSV() + "\"R\",\"S/B\"\n", "x-NagReport.csv: record on line 2: wrong number of fields"},
		{"x-NagReport.json", `{"rows":[]}`, `x-NagReport.json: no "lines" array`},
		{"x-NagReport.json", `{"lines":[`, "x-NagReport.json: unexpected end of JSON input"},
	} {
		dir := t.TempDir()
		write(t, dir, tc.name, tc.content)
		if got := NagReportProblems(dir); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%s %q: problems %q, want [%q]", tc.name, tc.content, got, tc.want)
		}
	}
}
