package gofunction

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func TestJSONLengthCountsReferencesAsARNs(t *testing.T) {
	var literal interface{}
	text := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b&c/*","Condition":{"NumericLessThan":{"s3:max-keys":10}}}]}`
	if err := json.Unmarshal([]byte(text), &literal); err != nil {
		t.Fatal(err)
	}
	if got, want := jsonLength(literal, 150), len(text); got != want {
		t.Errorf("literal document: jsonLength = %d, want its compact JSON length %d (no HTML escapes)", got, want)
	}
	for _, ref := range []string{`{"Ref":"Topic"}`, `{"Fn::GetAtt":["Key","Arn"]}`, `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":sqs:x"]]}`} {
		var v interface{}
		if err := json.Unmarshal([]byte(`{"Resource":`+ref+`}`), &v); err != nil {
			t.Fatal(err)
		}
		if got, want := jsonLength(v, 150), len(`{"Resource":}`)+152; got != want {
			t.Errorf("%s: jsonLength = %d, want %d (the reference as a quoted 150-character ARN)", ref, got, want)
		}
	}
	var notIntrinsic interface{}
	_ = json.Unmarshal([]byte(`{"Refs":"x"}`), &notIntrinsic)
	if got := jsonLength(notIntrinsic, 150); got != len(`{"Refs":"x"}`) {
		t.Errorf(`{"Refs":"x"}: jsonLength = %d, want its own length`, got)
	}
}

// The construct's own statements leave most of IAM's 6,144 characters to
// the statements callers add (the doc comment of GrantPrincipal says about
// 900).
func TestOwnStatementsEstimate(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	fn := NewGoFunction(stack, jsii.String("Fn"), &GoFunctionProps{ImportPath: jsii.String("github.com/platform-eng/golden-ami/lambdas/imagebuildertrigger")})
	n := jsonLength(stack.Resolve(fn.Policy.Document()), defaultARNSizeEstimate)
	t.Logf("the construct's own statements are estimated at %d characters", n)
	if n < 700 || n > 1100 {
		t.Errorf("estimated %d characters, want about 900 (update GrantPrincipal's doc comment)", n)
	}
}
