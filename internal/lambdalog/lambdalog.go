// Package lambdalog makes aws-lambda-go's structured slog handler the default
// logger, so every record logged with a context (slog.InfoContext and
// friends) carries the Lambda request id.
//
// Call Setup first thing in main:
//
//	func main() {
//		lambdalog.Setup()
//		...
//		lambda.Start(h.Handle)
//	}
//
// The handler writes JSON when the function's log format is JSON (Lambda sets
// AWS_LAMBDA_LOG_FORMAT=JSON; the constructs configure it) and text
// otherwise, and filters by AWS_LAMBDA_LOG_LEVEL. Both variables are read by
// aws-lambda-go when the process starts.
package lambdalog

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Setup installs lambdacontext.NewLogHandler, with the invoked function ARN
// as an extra field, as the slog default and returns the logger.
func Setup() *slog.Logger {
	l := slog.New(lambdacontext.NewLogHandler(lambdacontext.WithFunctionARN()))
	slog.SetDefault(l)
	return l
}
