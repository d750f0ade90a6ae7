// Command baseline is the smallest possible aws-lambda-go function: no
// logger, no SDK, no environment checks. lambdabench measures it next to the
// real functions so their cold start and RSS can be read against the floor
// that process start, the Go runtime and aws-lambda-go alone cost.
//
// It echoes its event.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, ev json.RawMessage) (json.RawMessage, error) {
		return ev, nil
	})
}
