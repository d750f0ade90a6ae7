package cdkkey_test

import (
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/cdkkey"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func TestAdoptable(t *testing.T) {
	app := awscdk.NewApp(nil)
	env := &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")}
	stack := awscdk.NewStack(app, jsii.String("A"), &awscdk.StackProps{Env: env})
	other := awscdk.NewStack(app, jsii.String("B"), &awscdk.StackProps{Env: env})
	scope := awscdk.NewStack(stack, jsii.String("Nested"), nil) // a stack inside a stack is another stack
	key := awskms.NewKey(stack, jsii.String("Key"), nil)
	otherKey := awskms.NewKey(other, jsii.String("Key"), nil)
	imported := awskms.Key_FromKeyArn(stack, jsii.String("Imported"), jsii.String("arn:aws:kms:us-east-1:111111111111:key/k"))

	for _, tc := range []struct {
		name  string
		scope awscdk.Stack
		key   awskms.IKey
		want  awskms.IKey
	}{
		{"a key of the scope's stack", stack, key, key},
		{"a key of another stack", other, key, nil},
		{"a key of an enclosing stack", scope, key, nil},
		{"another stack's own key", other, otherKey, otherKey},
		{"an imported key", stack, imported, nil},
		{"no key", stack, nil, nil},
	} {
		if got := cdkkey.Adoptable(tc.scope, tc.key); got != tc.want {
			t.Errorf("%s: Adoptable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
