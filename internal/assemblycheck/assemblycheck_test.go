package assemblycheck

import (
	"os"
	"path/filepath"
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

func TestCheckFailsWithoutNagReports(t *testing.T) {
	got := Check(t.TempDir(), nil)
	if len(got) != 1 || !strings.HasPrefix(got[0], "no cdk-nag reports") {
		t.Errorf("Check = %v", got)
	}
}
