package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

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
	PipelineARN   string                 // optional
	ParameterTier ssmtypes.ParameterTier // optional
}

var (
	pipelineARNPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:imagebuilder:[a-z]{2,4}(-[a-z]+)+-[0-9]+:[0-9]{12}:image-pipeline/[a-z0-9_-]+$`)
	parameterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
)

// configFromEnv reads and validates the environment. Errors name the
// variable and its value.
func configFromEnv(getenv func(string) string) (config, error) {
	c := config{ParameterName: getenv(contract.EnvSSMParameterName), PipelineARN: getenv(contract.EnvImagePipelineARN)}
	if len(c.ParameterName) > 2048 || !parameterNamePattern.MatchString(c.ParameterName) {
		return config{}, fmt.Errorf("latestami: %s=%q is not an SSM parameter name (want e.g. /golden-ami/latest)",
			contract.EnvSSMParameterName, c.ParameterName)
	}
	if c.PipelineARN != "" && !pipelineARNPattern.MatchString(c.PipelineARN) {
		return config{}, fmt.Errorf("latestami: %s=%q is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>, or unset to accept every pipeline)",
			contract.EnvImagePipelineARN, c.PipelineARN)
	}
	c.ParameterTier = ssmtypes.ParameterTier(getenv(contract.EnvSSMParameterTier))
	if c.ParameterTier != "" && !slices.Contains(c.ParameterTier.Values(), c.ParameterTier) {
		return config{}, fmt.Errorf("latestami: %s=%q is not a parameter tier (want Standard, Advanced or Intelligent-Tiering, or unset for Parameter Store's default)",
			contract.EnvSSMParameterTier, c.ParameterTier)
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
	clients := &regionalSSM{cfg: cfg, byRegion: map[string]*ssm.Client{}}
	return &Handler{
		ParameterName: c.ParameterName,
		PipelineARN:   c.PipelineARN,
		ParameterTier: c.ParameterTier,
		Images:        imagebuilder.NewFromConfig(cfg),
		ParamsIn:      clients.in,
		Retryer:       putRetryer(cfg),
	}, nil
}

// putRetryer is the retryer the SDK clients use, with the same maximum
// attempts (AWS_MAX_ATTEMPTS included), for the handler's own PutParameter
// retries.
func putRetryer(cfg aws.Config) aws.Retryer {
	r := cfg.Retryer()
	if cfg.RetryMaxAttempts != 0 {
		r = retry.AddWithMaxAttempts(r, cfg.RetryMaxAttempts)
	}
	return r
}

// regionalSSM builds one SSM client per region from the loaded config, on
// first use, and keeps it for the life of the execution environment.
type regionalSSM struct {
	cfg      aws.Config
	mu       sync.Mutex
	byRegion map[string]*ssm.Client
}

func (r *regionalSSM) in(region string) parameterStore {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.byRegion[region]
	if !ok {
		c = ssm.NewFromConfig(r.cfg, func(o *ssm.Options) { o.Region = region })
		r.byRegion[region] = c
	}
	return c
}
