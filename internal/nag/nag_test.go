package nag

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func TestSuppressWritesCdkNagMetadataOnTheResource(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil)
	topic := awssns.NewTopic(stack, jsii.String("Topic"), nil)
	Suppress(topic, Rule{ID: "AwsSolutions-SNS2", Reason: "first reason of enough length"})
	Suppress(topic, Rule{ID: "AwsSolutions-IAM5", Reason: "second reason of enough length", AppliesTo: []string{"Resource::*", `/^Action::s3:.*$/`}})

	got, _ := json.Marshal(topic.Node().DefaultChild().(awscdk.CfnResource).GetMetadata(jsii.String("cdk_nag")))
	want := `{"rules_to_suppress":[{"id":"AwsSolutions-SNS2","reason":"first reason of enough length"},` +
		`{"applies_to":["Resource::*",{"regex":"/^Action::s3:.*$/g"}],"id":"AwsSolutions-IAM5","reason":"second reason of enough length"}]}`
	if string(got) != want {
		t.Errorf("metadata\n got %s\nwant %s", got, want)
	}
}

func TestSuppressRejectsAThinReason(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil)
	topic := awssns.NewTopic(stack, jsii.String("Topic"), nil)
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, "nag: suppression of AwsSolutions-SNS2 on S/Topic needs a reason of at least 10 characters") {
			t.Errorf("panic = %v", r)
		}
	}()
	Suppress(topic, Rule{ID: "AwsSolutions-SNS2", Reason: "because"})
}
