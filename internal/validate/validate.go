// Package validate holds the input checks shared by the constructs (which
// validate their props) and the environment configuration (which validates
// every environment before anything is defined).
//
// Each check returns an error that quotes the bad value and says what is
// allowed; callers prefix it with the field name, for example
// `goldenimage: DistributionRegions[1] "us-east" is not an AWS region (want e.g. "us-east-1")`.
// The package imports only the standard library.
package validate

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // time zones are checked the same on every machine
)

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	// A region: a two- to four-letter prefix (us, eusc), then words, then a
	// number: "us-east-1", "us-gov-west-1", "eusc-de-east-1".
	regionPattern       = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
	instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	namePattern         = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	devicePattern       = regexp.MustCompile(`^/dev/[a-z0-9]+$`)
	// Graviton families carry a "g" after the generation digit (m7g, c7gn,
	// r8gd, t4g, x2gd, im4gn, is4gen, g5g); a1 is the one arm64 family without it.
	gravitonPattern = regexp.MustCompile(`^([a-z]+[0-9]+[a-z-]*g[a-z-]*|a1)\.`)
	// ssmParameterNamePattern follows SSM's rules: a fully qualified name
	// starts with "/", uses letters, digits and . _ - /, and does not start
	// with "aws" or "ssm" (case-insensitive) except for AWS's public tree.
	ssmParameterNamePattern = regexp.MustCompile(`^/[a-zA-Z0-9_.\-/]+$`)
)

// Account checks a 12-digit AWS account id.
func Account(s string) error {
	if !accountPattern.MatchString(s) {
		return fmt.Errorf("%q is not an AWS account id (want 12 digits)", s)
	}
	return nil
}

// Region checks the shape of an AWS region name such as "eu-central-1".
func Region(s string) error {
	if !regionPattern.MatchString(s) {
		return fmt.Errorf("%q is not an AWS region (want e.g. \"us-east-1\")", s)
	}
	return nil
}

// Name checks a resource-friendly name: lowercase letters, digits and
// hyphens, starting with a letter, at most maxLen characters.
func Name(s string, maxLen int) error {
	if len(s) > maxLen || !namePattern.MatchString(s) {
		return fmt.Errorf("%q is not a valid name (want 2-%d lowercase letters, digits or hyphens, starting with a letter)", s, maxLen)
	}
	return nil
}

// Timezone checks an IANA time zone name such as "Europe/Berlin".
func Timezone(s string) error {
	if _, err := time.LoadLocation(s); err != nil || s == "" || s == "Local" || strings.TrimSpace(s) != s {
		return fmt.Errorf("%q is not an IANA time zone (want e.g. \"Europe/Berlin\")", s)
	}
	return nil
}

// DeviceName checks an EC2 block device name such as "/dev/xvda".
func DeviceName(s string) error {
	if !devicePattern.MatchString(s) {
		return fmt.Errorf("%q is not a device name (want e.g. \"/dev/xvda\" or \"/dev/sda1\")", s)
	}
	return nil
}

// InstanceType checks the shape of an EC2 instance type such as "m7i.large".
func InstanceType(s string) error {
	if !instanceTypePattern.MatchString(s) {
		return fmt.Errorf("%q is not an EC2 instance type (want e.g. \"m7i.large\")", s)
	}
	return nil
}

// InstanceTypeForArchitecture checks that an instance type can run images
// of the given architecture ("x86_64" or "arm64"). Image Builder only finds
// a mismatch when it launches the build instance, an hour into the build.
func InstanceTypeForArchitecture(s, arch string) error {
	if err := InstanceType(s); err != nil {
		return err
	}
	graviton := gravitonPattern.MatchString(s)
	switch {
	case arch == "arm64" && !graviton:
		return fmt.Errorf("%q is not an arm64 (Graviton) instance type (want e.g. \"m7g.large\")", s)
	case arch == "x86_64" && graviton:
		return fmt.Errorf("%q is an arm64 (Graviton) instance type, not x86_64 (want e.g. \"m7i.large\")", s)
	}
	return nil
}

// SSMParameterName checks a fully qualified SSM parameter name.
func SSMParameterName(s string) error {
	if len(s) > 1011 || !ssmParameterNamePattern.MatchString(s) || strings.Contains(s, "//") || strings.HasSuffix(s, "/") {
		return fmt.Errorf("%q is not a fully qualified SSM parameter name (want e.g. \"/golden-ami/al2023/latest\")", s)
	}
	lower := strings.ToLower(s)
	if (strings.HasPrefix(lower, "/aws") || strings.HasPrefix(lower, "/ssm")) && !strings.HasPrefix(s, "/aws/service/") {
		return fmt.Errorf("%q is not a valid SSM parameter name (names under /aws and /ssm are reserved)", s)
	}
	return nil
}

// ImageOwner checks an EC2 DescribeImages owner: an alias or an account id.
func ImageOwner(s string) error {
	switch s {
	case "amazon", "self", "aws-marketplace", "aws-backup-vault":
		return nil
	}
	if Account(s) == nil {
		return nil
	}
	return fmt.Errorf("%q is not an image owner (want \"amazon\", \"self\", \"aws-marketplace\", \"aws-backup-vault\" or a 12-digit account id)", s)
}

// WritableSSMParameterName checks the name of a parameter a stack creates or
// a function writes: SSMParameterName, and not under AWS's public
// /aws/service tree, which can be read but not written.
func WritableSSMParameterName(s string) error {
	if err := SSMParameterName(s); err != nil {
		return err
	}
	if strings.HasPrefix(s, "/aws/") {
		return fmt.Errorf("%q is under AWS's reserved /aws tree (readable, but no account can create or write a parameter there)", s)
	}
	return nil
}

var ssmParameterARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:ssm:[a-z]{2,4}(-[a-z]+)+-[0-9]:[0-9]{12}:parameter(/.+)$`)

// SSMParameterARN checks the ARN of an SSM parameter, such as one shared
// from another account, and returns the parameter's name.
func SSMParameterARN(s string) (string, error) {
	m := ssmParameterARNPattern.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%q is not an SSM parameter ARN (want arn:aws:ssm:<region>:<account>:parameter/<name>)", s)
	}
	if err := SSMParameterName(m[2]); err != nil {
		return "", fmt.Errorf("%q names a bad parameter: %w", s, err)
	}
	return m[2], nil
}

// SSMParameter checks a fully qualified SSM parameter name or a parameter ARN.
func SSMParameter(s string) error {
	if strings.HasPrefix(s, "arn:") {
		_, err := SSMParameterARN(s)
		return err
	}
	return SSMParameterName(s)
}

// Unique reports the first value that appears twice in values, as an error
// naming both positions.
func Unique(values []string) error {
	seen := make(map[string]int, len(values))
	for i, v := range values {
		if j, ok := seen[v]; ok {
			return fmt.Errorf("[%d] %q duplicates [%d]", i, v, j)
		}
		seen[v] = i
	}
	return nil
}
