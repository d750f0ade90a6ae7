package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	imagebuildertypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestRetryerRetriesThrottlingAndTransientCodes(t *testing.T) {
	r := NewRetryer(time.Millisecond)
	for _, code := range []string{
		"CallRateLimitExceededException",
		"TooManyUpdates",
		"ResourceInUseException",
		"ResourceContention",
		"ThrottlingException",
		"Throttling",
		"RequestLimitExceeded",
	} {
		t.Run(code, func(t *testing.T) {
			err := &smithy.GenericAPIError{Code: code, Message: "slow down"}
			if !r.IsErrorRetryable(err) {
				t.Errorf("IsErrorRetryable(%s) = false, want true", code)
			}
			// Wrapped the way the SDK wraps it.
			wrapped := &smithy.OperationError{ServiceID: "X", OperationName: "Op", Err: err}
			if !r.IsErrorRetryable(wrapped) {
				t.Errorf("IsErrorRetryable(wrapped %s) = false, want true", code)
			}
		})
	}
}

func TestRetryerRetriesTypedServiceErrors(t *testing.T) {
	r := NewRetryer(time.Millisecond)
	for _, err := range []error{
		&imagebuildertypes.CallRateLimitExceededException{Message: aws.String("rate exceeded")},
		&imagebuildertypes.ResourceInUseException{Message: aws.String("in use")},
		&ssmtypes.TooManyUpdates{Message: aws.String("too many updates")},
	} {
		if !r.IsErrorRetryable(err) {
			t.Errorf("IsErrorRetryable(%T) = false, want true", err)
		}
	}
}

func TestRetryerRetriesServerErrors(t *testing.T) {
	r := NewRetryer(time.Millisecond)
	for _, status := range []int{500, 502, 503, 504} {
		err := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      errors.New("internal"),
		}}
		if !r.IsErrorRetryable(err) {
			t.Errorf("IsErrorRetryable(HTTP %d) = false, want true", status)
		}
	}
}

func TestRetryerDoesNotRetryClientErrors(t *testing.T) {
	r := NewRetryer(time.Millisecond)
	for _, code := range []string{
		"ValidationException",
		"ParameterNotFound",
		"ParameterAlreadyExists",
		"IdempotentParameterMismatchException",
		"ResourceNotFoundException",
		"AccessDeniedException",
		"InvalidAMIID.Malformed",
	} {
		err := &smithy.GenericAPIError{Code: code, Message: "no"}
		if r.IsErrorRetryable(err) {
			t.Errorf("IsErrorRetryable(%s) = true, want false", code)
		}
	}
	if r.IsErrorRetryable(&ssmtypes.ParameterNotFound{}) {
		t.Error("IsErrorRetryable(*ssmtypes.ParameterNotFound) = true, want false")
	}
	if r.IsErrorRetryable(fmt.Errorf("plain: %w", context.Canceled)) {
		t.Error("IsErrorRetryable(context.Canceled) = true, want false")
	}
}

func TestRetryerKeepsRetriesOnButBounded(t *testing.T) {
	r := NewRetryer(5 * time.Millisecond)
	if got := r.MaxAttempts(); got != MaxAttempts {
		t.Errorf("MaxAttempts() = %d, want %d", got, MaxAttempts)
	}
	for attempt := 1; attempt <= MaxAttempts; attempt++ {
		d, err := r.RetryDelay(attempt, &smithy.GenericAPIError{Code: "ThrottlingException"})
		if err != nil {
			t.Fatalf("RetryDelay(%d): %v", attempt, err)
		}
		if d > 5*time.Millisecond {
			t.Errorf("RetryDelay(%d) = %s, want at most 5ms", attempt, d)
		}
	}
}

func TestLoadHonoursEndpointAndRegionFromEnvironment(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

	cfg, err := Load(context.Background(), WithMaxBackoff(time.Millisecond))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("Region = %q, want eu-west-1", cfg.Region)
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:1" {
		t.Errorf("BaseEndpoint = %v, want http://127.0.0.1:1", cfg.BaseEndpoint)
	}
	r := cfg.Retryer()
	if r.MaxAttempts() != MaxAttempts {
		t.Errorf("Retryer().MaxAttempts() = %d, want %d", r.MaxAttempts(), MaxAttempts)
	}
	if !r.IsErrorRetryable(&smithy.GenericAPIError{Code: "CallRateLimitExceededException"}) {
		t.Error("loaded retryer does not retry CallRateLimitExceededException")
	}
}

func TestPageTokensStopARepeatedToken(t *testing.T) {
	var p PageTokens
	for i, tok := range []*string{aws.String("a"), nil, aws.String(""), aws.String("b")} {
		if err := p.Check(tok); err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
	}
	err := p.Check(aws.String("a"))
	if want := `the service returned NextToken "a" a second time (after 3 pages); stopping rather than reading the same pages again`; err == nil || err.Error() != want {
		t.Errorf("repeated token: %v, want %q", err, want)
	}
	long := strings.Repeat("x", 500)
	var q PageTokens
	_ = q.Check(&long)
	if err := q.Check(&long); err == nil || !strings.Contains(err.Error(), `"`+strings.Repeat("x", 40)+`..."`) || len(err.Error()) > 200 {
		t.Errorf("long repeated token: %v, want it cut to 40 characters", err)
	}
	// Each pagination has its own: another one may see "a" once.
	var r PageTokens
	if err := r.Check(aws.String("a")); err != nil {
		t.Errorf("a new PageTokens: %v", err)
	}
}
