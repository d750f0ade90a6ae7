package validate

import (
	"strings"
	"testing"
)

func TestKnownRegion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"us-east-1", ""},
		{"eu-central-2", ""},
		{"cn-northwest-1", ""},
		{"us-gov-west-1", ""},
		{"us-esat-1", `"us-esat-1" is not a region aws-cdk-lib knows (did you mean "us-east-1"?)`},
		{"eu-west-4", `"eu-west-4" is not a region aws-cdk-lib knows (want e.g. "us-east-1")`}, // eu-west-1, -2 and -3 are each one edit away
		{"xx-nowhere-9", `"xx-nowhere-9" is not a region aws-cdk-lib knows (want e.g. "us-east-1")`},
		{"US-EAST-1", `"US-EAST-1" is not an AWS region (want e.g. "us-east-1")`},
		{"", `"" is not an AWS region (want e.g. "us-east-1")`},
	} {
		err := KnownRegion(tc.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("KnownRegion(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "cn-north-1": "aws-cn", "us-gov-east-1": "aws-us-gov", "eusc-de-east-1": "aws-eusc", "us-esat-1": "",
	} {
		if got := Partition(region); got != want {
			t.Errorf("Partition(%q) = %q, want %q", region, got, want)
		}
	}
	// Regions hands out a copy: changing it changes nothing here.
	Regions()["us-east-1"] = "changed"
	if Partition("us-east-1") != "aws" {
		t.Error("Regions returned the table itself")
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"us-east-1", "us-east-1", 0},
		{"us-esat-1", "us-east-1", 1}, {"us-esat-1", "us-west-1", 2}, {"ab", "ba", 1}, {"us-east-1", "us-east-2", 1}, {"kitten", "sitting", 3},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
	if strings.Contains(nearestRegion("eu-west-9"), "eu-west") {
		t.Errorf("nearestRegion(eu-west-9) = %q, want none: several regions are one edit away", nearestRegion("eu-west-9"))
	}
}
