package cdkkey_test

import (
	"encoding/json"
	"os"
	"strings"
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

// Regional endpoints end with the region's domain: amazonaws.com.cn in
// China, AWS::URLSuffix when the region is known only at deployment.
func TestRegionalService(t *testing.T) {
	app := awscdk.NewApp(nil)
	for _, tc := range []struct {
		region, want string
	}{
		{"us-east-1", "logs.us-east-1.amazonaws.com"},
		{"cn-north-1", "logs.cn-north-1.amazonaws.com.cn"},
		{"us-gov-west-1", "logs.us-gov-west-1.amazonaws.com"},
		{"", `logs.{"Ref":"AWS::Region"}.{"Ref":"AWS::URLSuffix"}`},
	} {
		var env *awscdk.Environment
		if tc.region != "" {
			env = &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String(tc.region)}
		}
		stack := awscdk.NewStack(app, jsii.String("S"+strings.ReplaceAll(tc.region, "-", "")), &awscdk.StackProps{Env: env})
		got := cdkkey.RegionalService(stack, "logs")
		if tc.region == "" {
			b, _ := json.Marshal(stack.Resolve(got))
			got = string(b)
			want, _ := json.Marshal(map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"logs.", map[string]interface{}{"Ref": "AWS::Region"}, ".", map[string]interface{}{"Ref": "AWS::URLSuffix"}}}})
			tc.want = string(want)
		}
		if got != tc.want {
			t.Errorf("RegionalService(%q, logs) = %s, want %s", tc.region, got, tc.want)
		}
	}
}
