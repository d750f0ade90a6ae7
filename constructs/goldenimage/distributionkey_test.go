package goldenimage_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

func TestDistributionKey(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("Keys"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")}})
	k := gi.NewDistributionKey(stack, jsii.String("DistributionKey"), &gi.DistributionKeyProps{DistributionAccounts: jsii.Strings("222222222222")})
	tmpl := assertions.Template_FromStack(stack, nil)

	if got := *k.AliasARN(); got != "arn:aws:kms:eu-west-1:111111111111:alias/golden-ami/distribution" {
		t.Errorf("AliasARN = %s", got)
	}
	if *k.AliasName != "alias/golden-ami/distribution" {
		t.Errorf("AliasName = %s", *k.AliasName)
	}
	hasProps(t, tmpl, "AWS::KMS::Alias", map[string]interface{}{"AliasName": "alias/golden-ami/distribution"})
	hasProps(t, tmpl, "AWS::KMS::Key", map[string]interface{}{
		"EnableKeyRotation": true,
		"KeyPolicy": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowServiceLinkedRolesToUseTheKey"}),
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowDistributionAccountsToLaunchTheAMI", "Principal": map[string]interface{}{"AWS": "arn:aws:iam::222222222222:root"}}),
		})},
	})
	t.Run("no CloudWatch Logs statement: the key encrypts only AMI copies", func(t *testing.T) {
		for id, key := range cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::KMS::Key") {
			statements, _ := key["Properties"].(map[string]interface{})["KeyPolicy"].(map[string]interface{})["Statement"].([]interface{})
			var sids []string
			for _, s := range statements {
				sid, _ := s.(map[string]interface{})["Sid"].(string)
				sids = append(sids, sid)
				if sid == "AllowImageBuilderLogGroups" {
					t.Errorf("%s has statement %s", id, sid)
				}
			}
			if len(sids) != 5 {
				t.Errorf("%s statements %v, want the account root, the two service-linked-role statements, and the distribution account's launch and Auto Scaling grant statements", id, sids)
			}
		}
	})
	t.Run("cdk-nag finds nothing", func(t *testing.T) { assertNagClean(t, stack) })

	for _, tc := range []struct {
		test  string
		props gi.DistributionKeyProps
		want  string
	}{
		{"TestFailsWhenAliasIsAWSManaged", gi.DistributionKeyProps{AliasName: jsii.String("alias/aws/ebs")},
			`goldenimage: AliasName "alias/aws/ebs" is not a customer-managed key alias (want e.g. "alias/golden-ami/distribution")`},
		{"TestFailsWhenAccountIsInvalid", gi.DistributionKeyProps{DistributionAccounts: jsii.Strings("2222")},
			`goldenimage: DistributionAccounts[0] "2222" is not an AWS account id (want 12 digits)`},
		{"TestFailsWhenAnAccountIsNil", gi.DistributionKeyProps{DistributionAccounts: &[]*string{jsii.String("222222222222"), nil}},
			`goldenimage: DistributionAccounts[1] is nil`},
	} {
		t.Run(tc.test, func(t *testing.T) {
			props := tc.props
			before := len(*stack.Node().Children())
			if got := cdktest.ExpectPanic(t, func() { gi.NewDistributionKey(stack, jsii.String("Bad"), &props) }); got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
			if after := len(*stack.Node().Children()); after != before {
				t.Errorf("the stack gained %d children before validation failed", after-before)
			}
		})
	}
}
