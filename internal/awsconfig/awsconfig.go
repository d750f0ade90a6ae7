// Package awsconfig loads the AWS SDK configuration the Lambda functions
// share: the standard credential and endpoint chain, plus a retryer that also
// retries the service-specific throttling codes the standard retryer misses.
//
// Load is called once per cold start, from main:
//
//	cfg, err := awsconfig.Load(ctx)
//	if err != nil {
//		return fmt.Errorf("load AWS config: %w", err)
//	}
//	client := ssm.NewFromConfig(cfg)
//
// Endpoints are never hard-coded: config.LoadDefaultConfig honours
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, which is how the
// integration tests point the real clients at a local fake.
package awsconfig

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
)

// MaxAttempts is how many times one API call is tried, the first attempt
// included. It is above the SDK's default of 3 because Image Builder's
// CallRateLimitExceededException and SSM's TooManyUpdates come in bursts.
// AWS_MAX_ATTEMPTS, when set, still overrides it.
const MaxAttempts = 5

// ExtraThrottleCodes are error codes the standard retryer does not know that
// mean "slow down and try again". They are retried and, like the SDK's own
// throttling codes, counted as throttles.
var ExtraThrottleCodes = []string{
	"CallRateLimitExceededException", // Image Builder, HTTP 429
	"TooManyUpdates",                 // SSM PutParameter/AddTagsToResource on one parameter
}

// ExtraRetryableCodes are error codes the standard retryer does not know that
// describe a transient conflict and are safe to retry.
var ExtraRetryableCodes = []string{
	"ResourceInUseException", // Image Builder: the pipeline or a resource is busy
	"ResourceContention",     // Auto Scaling: a pending update to the group
}

// Option changes how Load builds the configuration.
type Option func(*options)

type options struct {
	maxBackoff time.Duration
}

// WithMaxBackoff caps the delay between retry attempts. Tests use it to keep
// retries fast; they still happen. Production uses the SDK default (20s).
func WithMaxBackoff(d time.Duration) Option {
	return func(o *options) { o.maxBackoff = d }
}

// Load loads the default SDK configuration (environment, shared files, the
// Lambda execution role) with the retryer from NewRetryer.
func Load(ctx context.Context, opts ...Option) (aws.Config, error) {
	o := options{maxBackoff: retry.DefaultMaxBackoff}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRetryer(func() aws.Retryer { return NewRetryer(o.maxBackoff) }),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awsconfig: load default config: %w", err)
	}
	return cfg, nil
}

// NewRetryer returns the SDK's standard retryer (which already retries
// ThrottlingException, RequestLimitExceeded, Throttling and HTTP 5xx) that
// also retries ExtraThrottleCodes and ExtraRetryableCodes, with at most
// MaxAttempts attempts and at most maxBackoff between them.
func NewRetryer(maxBackoff time.Duration) aws.Retryer {
	throttles := codeSet(ExtraThrottleCodes)
	retryables := codeSet(ExtraRetryableCodes)
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = maxBackoff
		o.Retryables = append(o.Retryables,
			retry.RetryableErrorCode{Codes: throttles},
			retry.RetryableErrorCode{Codes: retryables},
		)
		o.Throttles = append(o.Throttles, retry.ThrottleErrorCode{Codes: throttles})
	})
}

func codeSet(codes []string) map[string]struct{} {
	m := make(map[string]struct{}, len(codes))
	for _, c := range codes {
		m[c] = struct{}{}
	}
	return m
}

// PageTokens guards a pagination loop against a service that returns a
// NextToken it has already returned: the SDK's paginators (with their
// default StopOnDuplicateToken false) and a plain loop would read the same
// pages until the function times out, and the error would name only the
// deadline. Its zero value is ready to use; use one per pagination.
type PageTokens struct{ seen map[string]struct{} }

// Check records next, the NextToken of the page just read, and returns an
// error naming it if an earlier page of this pagination returned it too. A
// nil or empty token (the last page) is never an error.
func (p *PageTokens) Check(next *string) error {
	t := aws.ToString(next)
	if t == "" {
		return nil
	}
	if _, dup := p.seen[t]; dup {
		return fmt.Errorf("the service returned NextToken %q a second time (after %d pages); stopping rather than reading the same pages again", truncateToken(t), len(p.seen)+1)
	}
	if p.seen == nil {
		p.seen = map[string]struct{}{}
	}
	p.seen[t] = struct{}{}
	return nil
}

// truncateToken keeps an error readable: tokens can be kilobytes long.
func truncateToken(t string) string {
	const n = 40
	if len(t) > n {
		return t[:n] + "..."
	}
	return t
}
