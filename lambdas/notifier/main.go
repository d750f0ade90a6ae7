package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

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
	SecretARN string
}

var secretARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z]{2,4}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$`)

// configFromEnv reads and validates the environment. Errors name the
// variable and quote its value when it is an ARN; any other value is not
// shown, since a misconfigured stack might have put the webhook URL itself
// there.
func configFromEnv(getenv func(string) string) (config, error) {
	c := config{SecretARN: getenv(contract.EnvSlackWebhookSecretARN)}
	if !secretARNPattern.MatchString(c.SecretARN) {
		value := fmt.Sprintf("%q", c.SecretARN)
		if c.SecretARN != "" && !strings.HasPrefix(c.SecretARN, "arn:") {
			value = fmt.Sprintf("(%d characters, not shown)", len(c.SecretARN))
		}
		return config{}, fmt.Errorf("notifier: %s=%s is not a Secrets Manager secret ARN (want arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)",
			contract.EnvSlackWebhookSecretARN, value)
	}
	return c, nil
}

// newHandler loads the SDK configuration once and builds the clients. It
// does not read the secret: that happens on the first message to post. The
// integration tests call it too, so they run the production wiring.
func newHandler(ctx context.Context, c config, opts ...awsconfig.Option) (*Handler, error) {
	cfg, err := awsconfig.Load(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &Handler{
		SecretARN:  c.SecretARN,
		Secrets:    secretsmanager.NewFromConfig(cfg),
		Images:     imagebuilder.NewFromConfig(cfg),
		Executions: codepipeline.NewFromConfig(cfg),
		Slack:      newSlackPoster(),
	}, nil
}
