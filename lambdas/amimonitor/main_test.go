package main

import (
	"testing"

	"github.com/platform-eng/golden-ami/internal/validate"
)

func TestConfigFromEnv(t *testing.T) {
	valid := map[string]string{"SSM_PARAMETER_NAME": "/golden-ami/upstream"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range valid {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	platform := "arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.10.0"
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    config
		wantErr string
	}{
		{name: "platform ARN", env: with("PLATFORM_ARN", platform),
			want: config{ParameterName: "/golden-ami/upstream", PlatformARN: platform}},
		{name: "platform branch", env: with("PLATFORM_BRANCH", "Docker running on 64bit Amazon Linux 2023"),
			want: config{ParameterName: "/golden-ami/upstream", PlatformBranch: "Docker running on 64bit Amazon Linux 2023"}},
		{name: "source parameter", env: with("SOURCE_PARAMETER_NAME", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
			want: config{ParameterName: "/golden-ami/upstream", SourceParameterName: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}},
		{name: "image owner and pattern", env: with("IMAGE_OWNER", "amazon", "IMAGE_NAME_PATTERN", "al2023-ami-2023.*-x86_64"),
			want: config{ParameterName: "/golden-ami/upstream", ImageOwner: "amazon", ImageNamePattern: "al2023-ami-2023.*-x86_64"}},
		{name: "missing parameter name", env: map[string]string{"PLATFORM_ARN": platform},
			wantErr: `amimonitor: SSM_PARAMETER_NAME="" is not an SSM parameter name (want e.g. /golden-ami/upstream)`},
		{name: "bad parameter name", env: map[string]string{"SSM_PARAMETER_NAME": "/golden ami", "PLATFORM_ARN": platform},
			wantErr: `amimonitor: SSM_PARAMETER_NAME="/golden ami" is not an SSM parameter name (want e.g. /golden-ami/upstream)`},
		{name: "no source", env: with(),
			wantErr: "amimonitor: set exactly one upstream source: PLATFORM_ARN, PLATFORM_BRANCH, SOURCE_PARAMETER_NAME, or IMAGE_OWNER with IMAGE_NAME_PATTERN; got none"},
		{name: "two sources", env: with("PLATFORM_ARN", platform, "SOURCE_PARAMETER_NAME", "/x"),
			wantErr: "amimonitor: set exactly one upstream source: PLATFORM_ARN, PLATFORM_BRANCH, SOURCE_PARAMETER_NAME, or IMAGE_OWNER with IMAGE_NAME_PATTERN; got PLATFORM_ARN, SOURCE_PARAMETER_NAME"},
		{name: "three sources", env: with("PLATFORM_BRANCH", "b", "IMAGE_OWNER", "amazon", "IMAGE_NAME_PATTERN", "x*", "PLATFORM_ARN", platform),
			wantErr: "amimonitor: set exactly one upstream source: PLATFORM_ARN, PLATFORM_BRANCH, SOURCE_PARAMETER_NAME, or IMAGE_OWNER with IMAGE_NAME_PATTERN; got PLATFORM_ARN, PLATFORM_BRANCH, IMAGE_OWNER+IMAGE_NAME_PATTERN"},
		{name: "owner without pattern", env: with("IMAGE_OWNER", "amazon"),
			wantErr: `amimonitor: IMAGE_OWNER="amazon" and IMAGE_NAME_PATTERN="": set both or neither`},
		{name: "pattern without owner", env: with("IMAGE_NAME_PATTERN", "al2023-*"),
			wantErr: `amimonitor: IMAGE_OWNER="" and IMAGE_NAME_PATTERN="al2023-*": set both or neither`},
		{name: "bad platform ARN", env: with("PLATFORM_ARN", "arn:aws:elasticbeanstalk:us-east-1::environment/x"),
			wantErr: `amimonitor: PLATFORM_ARN="arn:aws:elasticbeanstalk:us-east-1::environment/x" is not an Elastic Beanstalk platform version ARN (want arn:aws:elasticbeanstalk:<region>::platform/<name>/<version>)`},
		{name: "bad image owner", env: with("IMAGE_OWNER", "Amazon", "IMAGE_NAME_PATTERN", "al2023-*"),
			wantErr: `amimonitor: IMAGE_OWNER="Amazon" is not an image owner (want amazon, self, aws-marketplace, aws-backup-vault or a 12-digit account id)`},
		{name: "image owner of 11 digits", env: with("IMAGE_OWNER", "12345678901", "IMAGE_NAME_PATTERN", "al2023-*"),
			wantErr: `amimonitor: IMAGE_OWNER="12345678901" is not an image owner (want amazon, self, aws-marketplace, aws-backup-vault or a 12-digit account id)`},
		{name: "image owner account", env: with("IMAGE_OWNER", "123456789012", "IMAGE_NAME_PATTERN", "al2023-*"),
			want: config{ParameterName: "/golden-ami/upstream", ImageOwner: "123456789012", ImageNamePattern: "al2023-*"}},
		{name: "source is the target", env: with("SOURCE_PARAMETER_NAME", "/golden-ami/upstream"),
			wantErr: `amimonitor: SOURCE_PARAMETER_NAME and SSM_PARAMETER_NAME are both "/golden-ami/upstream"; the monitor would copy the parameter onto itself`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := configFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("configFromEnv = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// The function's regexp-free owner check agrees with the one synthesis
// applies (internal/validate), so a config the construct accepts starts.
func TestImageOwnerCheckAgreesWithValidate(t *testing.T) {
	for _, s := range []string{"amazon", "self", "aws-marketplace", "aws-backup-vault", "123456789012", "",
		"Amazon", "12345678901", "1234567890123", "12345678901a", "amazon ", "aws", "١٢٣٤٥٦٧٨٩٠١٢"} {
		if got, want := validImageOwner(s), validate.ImageOwner(s) == nil; got != want {
			t.Errorf("validImageOwner(%q) = %v, validate.ImageOwner accepts it: %v", s, got, want)
		}
	}
}
