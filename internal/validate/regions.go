package validate

import (
	"fmt"
	"strings"
)

// KnownRegion checks that s is a region aws-cdk-lib's region table
// (regioninfo) lists, so a typo in a configuration fails before anything is
// deployed, naming the region it probably meant. It accepts fewer names
// than Region: the constructs keep the shape check, so other teams can name
// a region newer than this module's aws-cdk-lib.
func KnownRegion(s string) error {
	if err := Region(s); err != nil {
		return err
	}
	if _, ok := regionPartitions[s]; ok {
		return nil
	}
	if near := nearestRegion(s); near != "" {
		return fmt.Errorf("%q is not a region aws-cdk-lib knows (did you mean %q?)", s, near)
	}
	return fmt.Errorf("%q is not a region this module's aws-cdk-lib knows (a newer region needs a newer aws-cdk-lib, and internal/validate's copy of its table)", s)
}

// Partition returns the partition of a region KnownRegion accepts ("aws",
// "aws-cn", "aws-us-gov", ...), or "" for any other name.
func Partition(region string) string {
	return regionPartitions[region]
}

// Regions returns every region KnownRegion accepts, with its partition.
func Regions() map[string]string {
	out := make(map[string]string, len(regionPartitions))
	for r, p := range regionPartitions {
		out[r] = p
	}
	return out
}

// nearestRegion is the known region s most likely misspells: one with the
// same prefix (the country or area, "us") and the same number, at most two
// edits away, if exactly one is that close. A different prefix or number is
// more likely another region than a typo (sa-west-1 is not ca-west-1, and
// il-central-2 may be a region newer than the table).
func nearestRegion(s string) string {
	prefix, number := regionEnds(s)
	best, bestDist, ties := "", 3, 0
	for r := range regionPartitions {
		if p, n := regionEnds(r); p != prefix || n != number {
			continue
		}
		switch d := editDistance(s, r); {
		case d < bestDist:
			best, bestDist, ties = r, d, 0
		case d == bestDist:
			ties++
		}
	}
	if ties > 0 {
		return ""
	}
	return best
}

// regionEnds returns a region name's first and last hyphen-separated parts.
func regionEnds(s string) (string, string) {
	first, _, _ := strings.Cut(s, "-")
	return first, s[strings.LastIndex(s, "-")+1:]
}

// editDistance is the optimal string alignment distance of two ASCII
// strings: insertions, deletions, substitutions and transpositions of
// adjacent characters (the usual typos) each count one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// regionPartitions is aws-cdk-lib 2.270.0's region table
// (regioninfo.RegionInfo_Regions), with each region's partition. A stacks
// test compares it with the table of the aws-cdk-lib in go.mod, so an
// upgrade that adds a region fails until it is added here.
var regionPartitions = map[string]string{
	"af-south-1":      "aws",
	"ap-east-1":       "aws",
	"ap-east-2":       "aws",
	"ap-northeast-1":  "aws",
	"ap-northeast-2":  "aws",
	"ap-northeast-3":  "aws",
	"ap-south-1":      "aws",
	"ap-south-2":      "aws",
	"ap-southeast-1":  "aws",
	"ap-southeast-2":  "aws",
	"ap-southeast-3":  "aws",
	"ap-southeast-4":  "aws",
	"ap-southeast-5":  "aws",
	"ap-southeast-6":  "aws",
	"ap-southeast-7":  "aws",
	"ca-central-1":    "aws",
	"ca-west-1":       "aws",
	"cn-north-1":      "aws-cn",
	"cn-northwest-1":  "aws-cn",
	"eu-central-1":    "aws",
	"eu-central-2":    "aws",
	"eu-isoe-west-1":  "aws-iso-e",
	"eu-north-1":      "aws",
	"eu-south-1":      "aws",
	"eu-south-2":      "aws",
	"eu-west-1":       "aws",
	"eu-west-2":       "aws",
	"eu-west-3":       "aws",
	"eusc-de-east-1":  "aws-eusc",
	"il-central-1":    "aws",
	"me-central-1":    "aws",
	"me-south-1":      "aws",
	"mx-central-1":    "aws",
	"sa-east-1":       "aws",
	"us-east-1":       "aws",
	"us-east-2":       "aws",
	"us-gov-east-1":   "aws-us-gov",
	"us-gov-west-1":   "aws-us-gov",
	"us-iso-east-1":   "aws-iso",
	"us-iso-west-1":   "aws-iso",
	"us-isob-east-1":  "aws-iso-b",
	"us-isob-west-1":  "aws-iso-b",
	"us-isof-east-1":  "aws-iso-f",
	"us-isof-south-1": "aws-iso-f",
	"us-west-1":       "aws",
	"us-west-2":       "aws",
}
