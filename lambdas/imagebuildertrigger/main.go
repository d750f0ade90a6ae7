package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
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
	PipelineARN   string
	ParameterName string
}

var (
	pipelineARNPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:imagebuilder:[a-z]{2,4}(-[a-z]+)+-[0-9]+:[0-9]{12}:image-pipeline/[a-z0-9_-]+$`)
	parameterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
)

// configFromEnv reads and validates the environment. Errors name the
// variable and its value.
func configFromEnv(getenv func(string) string) (config, error) {
	c := config{PipelineARN: getenv(contract.EnvImagePipelineARN), ParameterName: getenv(contract.EnvSSMParameterName)}
	if !pipelineARNPattern.MatchString(c.PipelineARN) {
		return config{}, fmt.Errorf("imagebuildertrigger: %s=%q is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>)",
			contract.EnvImagePipelineARN, c.PipelineARN)
	}
	if len(c.ParameterName) > 2048 || !parameterNamePattern.MatchString(c.ParameterName) {
		return config{}, fmt.Errorf("imagebuildertrigger: %s=%q is not an SSM parameter name (want e.g. /golden-ami/upstream)",
			contract.EnvSSMParameterName, c.ParameterName)
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
	return &Handler{
		PipelineARN:   c.PipelineARN,
		ParameterName: c.ParameterName,
		Params:        ssm.NewFromConfig(cfg),
		Pipelines:     imagebuilder.NewFromConfig(cfg),
	}, nil
}
