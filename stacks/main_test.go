package stacks

import (
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.cleanup()
	jsii.Close()
	os.Exit(code)
}
