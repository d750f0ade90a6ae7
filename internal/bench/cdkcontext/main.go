// Command cdkcontext prints the "context" object of cdk.json as JSON, the
// way the CDK CLI hands it to an app in CDK_CONTEXT_JSON.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/platform-eng/golden-ami/internal/cdktest"
)

func main() {
	ctx, err := cdktest.Context()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
