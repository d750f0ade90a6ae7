package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/lambdalog"
)

func main() {
	lambdalog.Setup()
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		slog.Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}
	h, err := newHandler(context.Background(), cfg)
	if err != nil {
		slog.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// config is the validated environment.
type config struct {
	ParameterName string
	// Exactly one source is set.
	PlatformARN         string
	PlatformBranch      string
	SourceParameterName string
	ImageOwner          string
	ImageNamePattern    string
}

var (
	parameterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
	platformARNPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:elasticbeanstalk:[a-z0-9-]+::platform/.+/[0-9][0-9.]*$`)
)

// validParameterName reports whether name is a syntactically valid SSM
// parameter name: 1 to 2048 of a-zA-Z0-9_.-/.
func validParameterName(name string) bool {
	return len(name) <= 2048 && parameterNamePattern.MatchString(name)
}

// configFromEnv reads and validates the environment. Errors name the
// variable and its value.
func configFromEnv(getenv func(string) string) (config, error) {
	c := config{
		ParameterName:       getenv(contract.EnvSSMParameterName),
		PlatformARN:         getenv(contract.EnvPlatformARN),
		PlatformBranch:      getenv(contract.EnvPlatformBranch),
		SourceParameterName: getenv(contract.EnvSourceParameterName),
		ImageOwner:          getenv(contract.EnvImageOwner),
		ImageNamePattern:    getenv(contract.EnvImageNamePattern),
	}
	if !validParameterName(c.ParameterName) {
		return config{}, fmt.Errorf("amimonitor: %s=%q is not an SSM parameter name (want e.g. /golden-ami/upstream)",
			contract.EnvSSMParameterName, c.ParameterName)
	}
	if (c.ImageOwner == "") != (c.ImageNamePattern == "") {
		return config{}, fmt.Errorf("amimonitor: %s=%q and %s=%q: set both or neither",
			contract.EnvImageOwner, c.ImageOwner, contract.EnvImageNamePattern, c.ImageNamePattern)
	}
	var set []string
	for _, kv := range []struct{ name, value string }{
		{contract.EnvPlatformARN, c.PlatformARN},
		{contract.EnvPlatformBranch, c.PlatformBranch},
		{contract.EnvSourceParameterName, c.SourceParameterName},
		{contract.EnvImageOwner + "+" + contract.EnvImageNamePattern, c.ImageOwner},
	} {
		if kv.value != "" {
			set = append(set, kv.name)
		}
	}
	if len(set) != 1 {
		got := "none"
		if len(set) > 1 {
			got = strings.Join(set, ", ")
		}
		return config{}, fmt.Errorf("amimonitor: set exactly one upstream source: %s, %s, %s, or %s with %s; got %s",
			contract.EnvPlatformARN, contract.EnvPlatformBranch, contract.EnvSourceParameterName,
			contract.EnvImageOwner, contract.EnvImageNamePattern, got)
	}
	if c.PlatformARN != "" && !platformARNPattern.MatchString(c.PlatformARN) {
		return config{}, fmt.Errorf("amimonitor: %s=%q is not an Elastic Beanstalk platform version ARN (want arn:aws:elasticbeanstalk:<region>::platform/<name>/<version>)",
			contract.EnvPlatformARN, c.PlatformARN)
	}
	if c.ImageOwner != "" && !validImageOwner(c.ImageOwner) {
		return config{}, fmt.Errorf("amimonitor: %s=%q is not an image owner (want amazon, self, aws-marketplace, aws-backup-vault or a 12-digit account id)",
			contract.EnvImageOwner, c.ImageOwner)
	}
	if c.SourceParameterName != "" && !validParameterName(c.SourceParameterName) {
		return config{}, fmt.Errorf("amimonitor: %s=%q is not an SSM parameter name (want e.g. /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64)",
			contract.EnvSourceParameterName, c.SourceParameterName)
	}
	if c.SourceParameterName == c.ParameterName {
		return config{}, fmt.Errorf("amimonitor: %s and %s are both %q; the monitor would copy the parameter onto itself",
			contract.EnvSourceParameterName, contract.EnvSSMParameterName, c.ParameterName)
	}
	return c, nil
}

// newHandler loads the SDK configuration once and builds only the clients
// the configured source needs. The integration tests call it too, so they
// run the production wiring and retryer.
func newHandler(ctx context.Context, c config, opts ...awsconfig.Option) (*Handler, error) {
	cfg, err := awsconfig.Load(ctx, opts...)
	if err != nil {
		return nil, err
	}
	params := ssm.NewFromConfig(cfg)
	h := &Handler{ParameterName: c.ParameterName, Params: params}
	switch {
	case c.PlatformARN != "":
		h.Upstream = platformVersionSource{ARN: c.PlatformARN, EB: elasticbeanstalk.NewFromConfig(cfg)}
	case c.PlatformBranch != "":
		h.Upstream = platformBranchSource{Branch: c.PlatformBranch, EB: elasticbeanstalk.NewFromConfig(cfg)}
	case c.SourceParameterName != "":
		h.Upstream = parameterSource{Name: c.SourceParameterName, SSM: params}
	default:
		h.Upstream = imageSource{Owner: c.ImageOwner, NamePattern: c.ImageNamePattern, EC2: ec2.NewFromConfig(cfg)}
	}
	return h, nil
}

// validImageOwner reports whether s is an owner DescribeImages takes: an
// alias or a 12-digit account id (internal/validate.ImageOwner, without
// regexp, which the function does not otherwise load).
func validImageOwner(s string) bool {
	switch s {
	case "amazon", "self", "aws-marketplace", "aws-backup-vault":
		return true
	}
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
