package nag

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/cdktest"
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

// cdk-nag renders the partition, region and account of an ARN as a
// literal or as the pseudo parameter, depending on the app's feature flags
// and the stack's environment; ResourceFinding renders them as it does.
func TestResourceFindingRendersPseudoParametersAsCdkNagDoes(t *testing.T) {
	for _, tc := range []struct {
		setup cdktest.AppSetup
		want  string
	}{
		{cdktest.AppSetups()[0], "Resource::arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/*"},
		{cdktest.AppSetups()[1], "Resource::arn:<AWS::Partition>:elasticbeanstalk:<AWS::Region>::platform/Docker running on 64bit Amazon Linux 2023/*"},
		{cdktest.AppSetups()[2], "Resource::arn:<AWS::Partition>:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/*"},
		{cdktest.AppSetups()[3], "Resource::arn:<AWS::Partition>:elasticbeanstalk:<AWS::Region>::platform/Docker running on 64bit Amazon Linux 2023/*"},
	} {
		t.Run(tc.setup.Name, func(t *testing.T) {
			stack := tc.setup.NewStack(t, "S")
			arn := "arn:" + *stack.Partition() + ":elasticbeanstalk:" + *stack.Region() + "::platform/Docker running on 64bit Amazon Linux 2023/*"
			if got := ResourceFinding(stack, arn); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestResourceFindingRefusesAResourceReference(t *testing.T) {
	stack := cdktest.AppSetups()[0].NewStack(t, "S")
	topic := awssns.NewTopic(stack, jsii.String("Topic"), nil)
	msg := cdktest.ExpectPanic(t, func() { ResourceFinding(stack, *topic.TopicArn()+"*") })
	if !strings.HasPrefix(msg, "nag: S: ARN ") || !strings.HasSuffix(msg, " refers to more than literals and the stack's pseudo parameters; match its finding with a pattern") {
		t.Errorf("panic = %s", msg)
	}
}

// In each app setup the pattern matches the recipe's images as cdk-nag
// reports them there, and nothing broader than before: not another recipe,
// a prefix of it or a longer path, nor a field that is neither a literal
// nor the stack's pseudo parameter.
func TestImageVersionsMatchesTheFindingInEveryAppSetup(t *testing.T) {
	const literal = "Resource::arn:aws:imagebuilder:us-east-1:111111111111:image/test-al2023/*"
	const agnostic = "Resource::arn:<AWS::Partition>:imagebuilder:<AWS::Region>:<AWS::AccountId>:image/test-al2023/*"
	for _, tc := range []struct {
		setup cdktest.AppSetup
		want  string
	}{
		{cdktest.AppSetups()[0], literal},
		{cdktest.AppSetups()[1], agnostic},
		{cdktest.AppSetups()[2], "Resource::arn:<AWS::Partition>:imagebuilder:us-east-1:111111111111:image/test-al2023/*"},
		{cdktest.AppSetups()[3], agnostic},
	} {
		t.Run(tc.setup.Name, func(t *testing.T) {
			pattern := ImageVersions(tc.setup.NewStack(t, "S"), "test-al2023")
			re := regexp.MustCompile(pattern[1 : len(pattern)-1])
			if !re.MatchString(tc.want) {
				t.Errorf("%s does not match %s", pattern, tc.want)
			}
			for _, other := range []string{
				strings.Replace(tc.want, "test-al2023", "test-al2023-arm64", 1),
				strings.Replace(tc.want, "test-al2023", "other", 1),
				strings.Replace(tc.want, "test-al2023/*", "*", 1),
				strings.Replace(tc.want, "test-al2023/*", "test-al2023/1.0.0/*", 1),
				strings.Replace(tc.want, ":image/", ":image-recipe/", 1),
				tc.want + ":x",
				strings.Replace(agnostic, "<AWS::Partition>", "<Partition>", 1),
				strings.Replace(agnostic, "<AWS::AccountId>", "<OtherAccount>", 1),
			} {
				if re.MatchString(other) {
					t.Errorf("%s matches %s", pattern, other)
				}
			}
		})
	}
}
