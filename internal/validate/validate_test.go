package validate

import (
	"strings"
	"testing"
)

type check struct {
	in      string
	wantErr string // "" means valid
}

func run(t *testing.T, name string, fn func(string) error, cases []check) {
	t.Helper()
	for _, tc := range cases {
		err := fn(tc.in)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s(%q) = %q, want nil", name, tc.in, err)
		case tc.wantErr != "" && err == nil:
			t.Errorf("%s(%q) = nil, want %q", name, tc.in, tc.wantErr)
		case tc.wantErr != "" && err.Error() != tc.wantErr:
			t.Errorf("%s(%q)\n got %q\nwant %q", name, tc.in, err, tc.wantErr)
		}
	}
}

func TestAccount(t *testing.T) {
	run(t, "Account", Account, []check{
		{in: "123456789012"},
		{in: "12345678901", wantErr: `"12345678901" is not an AWS account id (want 12 digits)`},
		{in: "1234567890123", wantErr: `"1234567890123" is not an AWS account id (want 12 digits)`},
		{in: "12345678901a", wantErr: `"12345678901a" is not an AWS account id (want 12 digits)`},
		{in: "", wantErr: `"" is not an AWS account id (want 12 digits)`},
	})
}

func TestRegion(t *testing.T) {
	run(t, "Region", Region, []check{
		{in: "us-east-1"}, {in: "eu-central-2"}, {in: "ap-southeast-4"}, {in: "us-gov-west-1"}, {in: "cn-north-1"}, {in: "eusc-de-east-1"},
		{in: "europe-west-1", wantErr: `"europe-west-1" is not an AWS region (want e.g. "us-east-1")`},
		{in: "us-east", wantErr: `"us-east" is not an AWS region (want e.g. "us-east-1")`},
		{in: "US-EAST-1", wantErr: `"US-EAST-1" is not an AWS region (want e.g. "us-east-1")`},
		{in: "useast1", wantErr: `"useast1" is not an AWS region (want e.g. "us-east-1")`},
	})
}

func TestTimezone(t *testing.T) {
	run(t, "Timezone", Timezone, []check{
		{in: "Europe/Berlin"}, {in: "UTC"}, {in: "America/Argentina/Buenos_Aires"},
		{in: "Mars/Olympus", wantErr: `"Mars/Olympus" is not an IANA time zone (want e.g. "Europe/Berlin")`},
		{in: " ", wantErr: `" " is not an IANA time zone (want e.g. "Europe/Berlin")`},
		{in: "Local", wantErr: `"Local" is not an IANA time zone (want e.g. "Europe/Berlin")`},
	})
}

func TestDeviceName(t *testing.T) {
	run(t, "DeviceName", DeviceName, []check{
		{in: "/dev/xvda"}, {in: "/dev/sda1"}, {in: "/dev/nvme0n1"},
		{in: "xvda", wantErr: `"xvda" is not a device name (want e.g. "/dev/xvda" or "/dev/sda1")`},
		{in: "/dev/XVDA", wantErr: `"/dev/XVDA" is not a device name (want e.g. "/dev/xvda" or "/dev/sda1")`},
	})
}

func TestName(t *testing.T) {
	fn := func(s string) error { return Name(s, 10) }
	run(t, "Name", fn, []check{
		{in: "al2023"}, {in: "win-2022"},
		{in: "Al2023", wantErr: `"Al2023" is not a valid name (want 2-10 lowercase letters, digits or hyphens, starting with a letter)`},
		{in: "2023", wantErr: `"2023" is not a valid name (want 2-10 lowercase letters, digits or hyphens, starting with a letter)`},
		{in: "al-", wantErr: `"al-" is not a valid name (want 2-10 lowercase letters, digits or hyphens, starting with a letter)`},
		{in: "abcdefghijk", wantErr: `"abcdefghijk" is not a valid name (want 2-10 lowercase letters, digits or hyphens, starting with a letter)`},
	})
}

func TestInstanceTypeForArchitecture(t *testing.T) {
	x86 := func(s string) error { return InstanceTypeForArchitecture(s, "x86_64") }
	arm := func(s string) error { return InstanceTypeForArchitecture(s, "arm64") }
	run(t, "x86_64", x86, []check{
		{in: "m7i.large"}, {in: "m7i-flex.large"}, {in: "g4dn.xlarge"}, {in: "c5.2xlarge"},
		{in: "m7g.large", wantErr: `"m7g.large" is an arm64 (Graviton) instance type, not x86_64 (want e.g. "m7i.large")`},
		{in: "m7i large", wantErr: `"m7i large" is not an EC2 instance type (want e.g. "m7i.large")`},
	})
	run(t, "arm64", arm, []check{
		{in: "m7g.large"}, {in: "c7gn.xlarge"}, {in: "t4g.medium"}, {in: "a1.large"}, {in: "g5g.xlarge"}, {in: "im4gn.large"},
		{in: "m7i.large", wantErr: `"m7i.large" is not an arm64 (Graviton) instance type (want e.g. "m7g.large")`},
		{in: "g4dn.xlarge", wantErr: `"g4dn.xlarge" is not an arm64 (Graviton) instance type (want e.g. "m7g.large")`},
	})
}

func TestSSMParameterName(t *testing.T) {
	run(t, "SSMParameterName", SSMParameterName, []check{
		{in: "/golden-ami/al2023/latest"},
		{in: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"},
		{in: "golden", wantErr: `"golden" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{in: "/golden//latest", wantErr: `"/golden//latest" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{in: "/golden/latest/", wantErr: `"/golden/latest/" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{in: "/golden ami", wantErr: `"/golden ami" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{in: "/AWS/mine", wantErr: `"/AWS/mine" is not a valid SSM parameter name (names under /aws and /ssm are reserved)`},
		{in: "/ssm/x", wantErr: `"/ssm/x" is not a valid SSM parameter name (names under /aws and /ssm are reserved)`},
		// AWS's public parameters are under /aws/service/ exactly: names are
		// case-sensitive, and /AWS/service/ is reserved, not public.
		{in: "/AWS/service/x", wantErr: `"/AWS/service/x" is not a valid SSM parameter name (names under /aws and /ssm are reserved)`},
		// At most 1011 characters.
		{in: "/" + strings.Repeat("a", 1010)},
		{in: "/" + strings.Repeat("a", 1011), wantErr: `"/` + strings.Repeat("a", 1011) + `" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
	})
}

func TestImageOwner(t *testing.T) {
	const want = `(want "amazon", "self", "aws-marketplace", "aws-backup-vault" or a 12-digit account id)`
	run(t, "ImageOwner", ImageOwner, []check{
		{in: "amazon"}, {in: "self"}, {in: "aws-marketplace"}, {in: "aws-backup-vault"}, {in: "123456789012"},
		{in: "Amazon", wantErr: `"Amazon" is not an image owner ` + want},
		{in: "12345678901", wantErr: `"12345678901" is not an image owner ` + want},
		{in: "", wantErr: `"" is not an image owner ` + want},
		{in: "amazon ", wantErr: `"amazon " is not an image owner ` + want},
	})
}

func TestWritableSSMParameterName(t *testing.T) {
	run(t, "WritableSSMParameterName", WritableSSMParameterName, []check{
		{in: "/golden-ami/al2023/latest"},
		{in: "/aws/service/golden/latest", wantErr: `"/aws/service/golden/latest" is under AWS's reserved /aws tree (readable, but no account can create or write a parameter there)`},
		// What SSMParameterName refuses, it refuses with the same words.
		{in: "/AWS/mine", wantErr: `"/AWS/mine" is not a valid SSM parameter name (names under /aws and /ssm are reserved)`},
		{in: "golden", wantErr: `"golden" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
	})
}

func TestSSMParameter(t *testing.T) {
	run(t, "SSMParameter", SSMParameter, []check{
		{in: "/golden-ami/al2023/latest"},
		{in: "arn:aws:ssm:us-east-1:222222222222:parameter/golden-ami/prod/al2023/latest"},
		{in: "arn:aws-us-gov:ssm:us-gov-west-1:222222222222:parameter/golden-ami/latest"},
		{in: "golden", wantErr: `"golden" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
		{in: "arn:aws:s3:::bucket/latest", wantErr: `"arn:aws:s3:::bucket/latest" is not an SSM parameter ARN (want arn:aws:ssm:<region>:<account>:parameter/<name>)`},
		{in: "arn:aws:ssm:us-east-1:2222:parameter/golden", wantErr: `"arn:aws:ssm:us-east-1:2222:parameter/golden" is not an SSM parameter ARN (want arn:aws:ssm:<region>:<account>:parameter/<name>)`},
		{in: "arn:aws:ssm:us-east-1:222222222222:parameter/golden//latest",
			wantErr: `"arn:aws:ssm:us-east-1:222222222222:parameter/golden//latest" names a bad parameter: "/golden//latest" is not a fully qualified SSM parameter name (want e.g. "/golden-ami/al2023/latest")`},
	})
	name, err := SSMParameterARN("arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/latest")
	if name != "/golden-ami/latest" || err != nil {
		t.Errorf("SSMParameterARN = %q, %v; want /golden-ami/latest", name, err)
	}
}

func TestUnique(t *testing.T) {
	if err := Unique([]string{"a", "b"}); err != nil {
		t.Errorf("Unique(a, b) = %v", err)
	}
	err := Unique([]string{"a", "b", "a"})
	if want := `[2] "a" duplicates [0]`; err == nil || err.Error() != want {
		t.Errorf("Unique(a, b, a) = %v, want %q", err, want)
	}
}

func TestCron(t *testing.T) {
	hint := ` (want e.g. "cron(0 4 ? * MON *)")`
	run(t, "Cron", Cron, []check{
		{in: "cron(0 4 ? * MON *)"},
		{in: "cron(0 0 * * ? *)"},
		{in: "cron(15 10 ? * 6L 2022-2030)"},
		{in: "cron(0/15 * * * ? *)"},
		{in: "cron(0 6 ? * WED#2 *)"},
		{in: "cron(0 8 1,15 * ? *)"},
		{in: "cron(0 8 LW * ? *)"},
		{in: "cron(0 8 15W JAN-MAR ? *)"},
		{in: "cron(0 18 ? * MON-FRI *)"},
		{in: "rate(1 day)", wantErr: `"rate(1 day)" is not a valid cron expression: it must be written as "cron(...)"` + hint},
		{in: "0 4 * * ?", wantErr: `"0 4 * * ?" is not a valid cron expression: it must be written as "cron(...)"` + hint},
		{in: "cron(0 4 * *)", wantErr: `"cron(0 4 * *)" is not a valid cron expression: it has 4 fields, want 6 (minutes hours day-of-month month day-of-week year)` + hint},
		{in: "cron(60 4 ? * MON *)", wantErr: `"cron(60 4 ? * MON *)" is not a valid cron expression: minutes field "60" has "60", want 0-59` + hint},
		{in: "cron(0 24 ? * MON *)", wantErr: `"cron(0 24 ? * MON *)" is not a valid cron expression: hours field "24" has "24", want 0-23` + hint},
		{in: "cron(0 4 * * MON *)", wantErr: `"cron(0 4 * * MON *)" is not a valid cron expression: exactly one of day-of-month and day-of-week must be "?"` + hint},
		{in: "cron(0 4 ? * ? *)", wantErr: `"cron(0 4 ? * ? *)" is not a valid cron expression: exactly one of day-of-month and day-of-week must be "?"` + hint},
		{in: "cron(0 4 ? * FUNDAY *)", wantErr: `"cron(0 4 ? * FUNDAY *)" is not a valid cron expression: day-of-week field "FUNDAY" has "FUNDAY", want 1-7 or SUN-SAT` + hint},
		{in: "cron(0 ? * * ? *)", wantErr: `"cron(0 ? * * ? *)" is not a valid cron expression: hours field "?" does not allow "?"` + hint},
		{in: "cron(0 4 ? * MON#6 *)", wantErr: `"cron(0 4 ? * MON#6 *)" is not a valid cron expression: day-of-week field "MON#6" has "6" after #, want 1-5` + hint},
		{in: "cron(0/0 4 ? * MON *)", wantErr: `"cron(0/0 4 ? * MON *)" is not a valid cron expression: minutes field "0/0" has step "0", want 1-59` + hint},
		{in: "cron(0/59 4 ? * MON *)"},
		{in: "cron(0/60 4 ? * MON *)", wantErr: `"cron(0/60 4 ? * MON *)" is not a valid cron expression: minutes field "0/60" has step "60", want 1-59` + hint},
		{in: "cron(0/99 4 ? * MON *)", wantErr: `"cron(0/99 4 ? * MON *)" is not a valid cron expression: minutes field "0/99" has step "99", want 1-59` + hint},
		{in: "cron(0 0/24 ? * MON *)", wantErr: `"cron(0 0/24 ? * MON *)" is not a valid cron expression: hours field "0/24" has step "24", want 1-23` + hint},
		{in: "cron(0 4 20-10 * ? *)", wantErr: `"cron(0 4 20-10 * ? *)" is not a valid cron expression: day-of-month field "20-10" has range "20-10" that runs backwards` + hint},
		{in: "cron(0 4 1,,2 * ? *)", wantErr: `"cron(0 4 1,,2 * ? *)" is not a valid cron expression: day-of-month field "1,,2" has an empty list item` + hint},
		{in: "cron(0 4 ? 13 MON *)", wantErr: `"cron(0 4 ? 13 MON *)" is not a valid cron expression: month field "13" has "13", want 1-12 or JAN-DEC` + hint},
		{in: "cron(0 4 ? * MON 1969)", wantErr: `"cron(0 4 ? * MON 1969)" is not a valid cron expression: year field "1969" has "1969", want 1970-2199` + hint},
	})
}

func FuzzCron(f *testing.F) {
	for _, s := range []string{"cron(0 4 ? * MON *)", "cron(0/15 * * * ? *)", "cron(0 6 ? * WED#2 *)", "cron(,,, - / # L W)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Cron(s) // must not panic
	})
}
