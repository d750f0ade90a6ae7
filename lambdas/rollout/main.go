package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
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
	GroupName        string
	LaunchTemplateID string
	// ParameterName is SSM_PARAMETER_NAME as given: a parameter name, or
	// the ARN of a parameter shared from another account through AWS RAM.
	ParameterName string
	Preferences   Preferences
}

var (
	launchTemplateIDPattern = regexp.MustCompile(`^lt-[0-9a-f]{8}([0-9a-f]{9})?$`)
	parameterNamePattern    = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
)

// configFromEnv reads and validates the environment. Every variable is
// required except REFRESH_INSTANCE_WARMUP_SECONDS and
// REFRESH_MAX_HEALTHY_PERCENTAGE: the construct owns the
// defaults, so they live in one place. Errors name the variable and its
// value. SSM_PARAMETER_NAME is a parameter name or, for a parameter shared
// from another account, its ARN (GetParameter accepts both; a shared
// parameter only by ARN).
func configFromEnv(getenv func(string) string) (config, error) {
	c := config{
		GroupName:        getenv(contract.EnvAutoScalingGroupName),
		LaunchTemplateID: getenv(contract.EnvLaunchTemplateID),
		ParameterName:    getenv(contract.EnvSSMParameterName),
	}
	bad := func(name, want string) error {
		return fmt.Errorf("rollout: %s=%q is not %s", name, getenv(name), want)
	}
	if n := utf8.RuneCountInString(c.GroupName); n < 1 || n > 255 || strings.IndexFunc(c.GroupName, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return config{}, bad(contract.EnvAutoScalingGroupName, "an Auto Scaling group name (want 1 to 255 printable characters)")
	}
	if !launchTemplateIDPattern.MatchString(c.LaunchTemplateID) {
		return config{}, bad(contract.EnvLaunchTemplateID, `a launch template id (want "lt-" followed by 17 hex digits)`)
	}
	switch ref := c.ParameterName; {
	case strings.HasPrefix(ref, "arn:"):
		if _, ok := parseParameterARN(ref); !ok || len(ref) > 2048 {
			return config{}, bad(contract.EnvSSMParameterName, "an SSM parameter ARN (want arn:<partition>:ssm:<region>:<12-digit account>:parameter/<name>)")
		}
	case len(ref) > 2048 || !parameterNamePattern.MatchString(ref):
		return config{}, bad(contract.EnvSSMParameterName,
			"an SSM parameter name or ARN (want e.g. /golden-ami/latest or arn:aws:ssm:us-east-1:111122223333:parameter/golden-ami/latest)")
	}

	p := &c.Preferences
	n, err := strconv.ParseInt(getenv(contract.EnvRefreshMinHealthyPercentage), 10, 32)
	if err != nil || n < 0 || n > 100 {
		return config{}, bad(contract.EnvRefreshMinHealthyPercentage, "a percentage (want an integer from 0 to 100)")
	}
	p.MinHealthyPercentage = int32(n)

	if v := getenv(contract.EnvRefreshMaxHealthyPercentage); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		switch {
		case err != nil || n < 100 || n > 200:
			return config{}, bad(contract.EnvRefreshMaxHealthyPercentage, "a maximum healthy percentage (want an integer from 100 to 200, or unset to leave it to Auto Scaling)")
		case n-int64(p.MinHealthyPercentage) > 100:
			return config{}, bad(contract.EnvRefreshMaxHealthyPercentage, fmt.Sprintf("within 100 of %s=%d (want at most %d: Auto Scaling allows a difference of at most 100)",
				contract.EnvRefreshMinHealthyPercentage, p.MinHealthyPercentage, p.MinHealthyPercentage+100))
		}
		m := int32(n)
		p.MaxHealthyPercentage = &m
	}

	const wantCheckpoints = `a list of checkpoint percentages (want ascending integers from 1 to 100 separated by commas, ending with 100, e.g. "20,50,100")`
	for _, f := range strings.Split(getenv(contract.EnvRefreshCheckpointPercentages), ",") {
		n, err := strconv.ParseInt(f, 10, 32)
		if err != nil || n < 1 || n > 100 || (len(p.CheckpointPercentages) > 0 && int32(n) <= p.CheckpointPercentages[len(p.CheckpointPercentages)-1]) {
			return config{}, bad(contract.EnvRefreshCheckpointPercentages, wantCheckpoints)
		}
		p.CheckpointPercentages = append(p.CheckpointPercentages, int32(n))
	}
	if p.CheckpointPercentages[len(p.CheckpointPercentages)-1] != 100 {
		return config{}, bad(contract.EnvRefreshCheckpointPercentages, wantCheckpoints)
	}

	n, err = strconv.ParseInt(getenv(contract.EnvRefreshCheckpointDelaySeconds), 10, 32)
	if err != nil || n < 0 || n > 172800 {
		return config{}, bad(contract.EnvRefreshCheckpointDelaySeconds, "a checkpoint delay (want whole seconds from 0 to 172800)")
	}
	p.CheckpointDelaySeconds = int32(n)

	if v := getenv(contract.EnvRefreshInstanceWarmupSeconds); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return config{}, bad(contract.EnvRefreshInstanceWarmupSeconds, "an instance warmup (want whole seconds, at least 0, or unset to use the group's default instance warmup)")
		}
		w := int32(n)
		p.InstanceWarmupSeconds = &w
	}

	p.AlarmNames = strings.Split(getenv(contract.EnvRefreshAlarmNames), ",")
	if len(p.AlarmNames) > 10 || slices.ContainsFunc(p.AlarmNames, func(n string) bool { return n == "" || utf8.RuneCountInString(n) > 255 }) {
		return config{}, bad(contract.EnvRefreshAlarmNames, "a list of CloudWatch alarm names (want 1 to 10 names of 1 to 255 characters, separated by commas)")
	}

	switch v := getenv(contract.EnvRefreshSkipMatching); v {
	case "true", "false":
		p.SkipMatching = v == "true"
	default:
		return config{}, bad(contract.EnvRefreshSkipMatching, `a boolean (want "true" or "false")`)
	}
	return c, nil
}

// newHandler loads the SDK configuration once and builds the clients. The
// integration tests call it too, so they run the production wiring.
func newHandler(ctx context.Context, c config, opts ...awsconfig.Option) (*Handler, error) {
	cfg, err := awsconfig.Load(ctx, opts...)
	if err != nil {
		return nil, err
	}
	as, ec := autoscaling.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	return &Handler{
		GroupName:        c.GroupName,
		LaunchTemplateID: c.LaunchTemplateID,
		ParameterName:    c.ParameterName,
		Preferences:      c.Preferences,
		Params:           ssm.NewFromConfig(cfg),
		Groups:           as,
		Refreshes:        as,
		Starter:          as,
		Versions:         ec,
		VersionCreator:   ec,
	}, nil
}
