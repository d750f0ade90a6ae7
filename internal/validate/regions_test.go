package validate

import "testing"

func TestKnownRegion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"us-east-1", ""},
		{"eu-central-2", ""},
		{"cn-northwest-1", ""},
		{"us-gov-west-1", ""},
		{"us-esat-1", `"us-esat-1" is not a region aws-cdk-lib knows (did you mean "us-east-1"?)`},
		{"us-wset-2", `"us-wset-2" is not a region aws-cdk-lib knows (did you mean "us-west-2"?)`},
		{"ap-southest-1", `"ap-southest-1" is not a region aws-cdk-lib knows (did you mean "ap-southeast-1"?)`},
		{"eusc-de-east-1", ""},
		// Another prefix or number is another region, not a typo.
		{"sa-west-1", `"sa-west-1" is not a region aws-cdk-lib knows (did you mean "sa-east-1"?)`}, // not ca-west-1
		{"us-northeast-1", unknownRegion("us-northeast-1")},
		{"il-central-2", unknownRegion("il-central-2")},
		{"eu-west-4", unknownRegion("eu-west-4")},
		{"xx-nowhere-9", unknownRegion("xx-nowhere-9")},
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

func unknownRegion(s string) string {
	return `"` + s + `" is not a region this module's aws-cdk-lib knows (a newer region needs a newer aws-cdk-lib, and internal/validate's copy of its table)`
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
	// us-east-1 and us-west-1 are each one edit away: no suggestion.
	if got := nearestRegion("us-wast-1"); got != "" {
		t.Errorf("nearestRegion(us-wast-1) = %q, want none", got)
	}
	if got := nearestRegion("ap-souteast-2"); got != "ap-southeast-2" {
		t.Errorf("nearestRegion(ap-souteast-2) = %q, want ap-southeast-2", got)
	}
}
