package goldenimage_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

func TestPipelinesShareOneKeyAndLogBucket(t *testing.T) {
	stack := newStack(t)
	shared := gi.NewSharedResources(stack, jsii.String("Shared"), &gi.SharedResourcesProps{LogRetention: awscdk.Duration_Days(jsii.Number(30))})
	// The AMIs shared with other accounts get a key of their own, shared too.
	amiKey := gi.NewDistributionKey(stack, jsii.String("AmiKey"), &gi.DistributionKeyProps{DistributionAccounts: jsii.Strings("222222222222")})
	for _, name := range []string{"one", "two"} {
		gi.NewGoldenImagePipeline(stack, jsii.String(name), &gi.GoldenImagePipelineProps{
			ImageName: jsii.String(name), EncryptionKey: shared.EncryptionKey, LogBucket: shared.LogBucket, AMIKey: amiKey.Key,
			LogRetention: awscdk.Duration_Days(jsii.Number(30)), DistributionAccounts: jsii.Strings("222222222222"),
		})
	}
	tmpl := assertions.Template_FromStack(stack, nil)
	count(t, tmpl, "AWS::KMS::Key", 2)
	count(t, tmpl, "AWS::S3::Bucket", 2)
	count(t, tmpl, "AWS::ImageBuilder::ImagePipeline", 2)
	hasProps(t, tmpl, "AWS::S3::Bucket", map[string]interface{}{
		"LifecycleConfiguration": map[string]interface{}{"Rules": []interface{}{map[string]interface{}{"Id": "expire-build-logs", "ExpirationInDays": 30}}},
	})
	// Each pipeline writes only under its own prefix of the shared bucket.
	for _, prefix := range []string{"/one/*", "/two/*"} {
		hasProps(t, tmpl, "AWS::IAM::ManagedPolicy", map[string]interface{}{
			"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
				"Action":   "s3:PutObject",
				"Resource": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^SharedLogBucket")), "Arn"}}, prefix}}},
			})})},
		})
	}
	// Both pipelines add the same key-policy statements; each policy holds
	// each once. Only the AMI key lets the other account in.
	tj := cdktest.TemplateJSON(t, stack)
	want := map[string]map[string]int{
		"SharedKey": {"AllowServiceLinkedRolesToUseTheKey": 1, "AllowServiceLinkedRolesToGrantToAWSResources": 1, "AllowImageBuilderLogGroups": 1,
			"AllowDistributionAccountsToLaunchTheAMI": 0, "AllowAccount222222222222ToGrantItsAutoScalingRole": 0},
		"AmiKey": {"AllowServiceLinkedRolesToUseTheKey": 1, "AllowServiceLinkedRolesToGrantToAWSResources": 1, "AllowImageBuilderLogGroups": 0,
			"AllowDistributionAccountsToLaunchTheAMI": 1, "AllowAccount222222222222ToGrantItsAutoScalingRole": 1},
	}
	for id, k := range cdktest.ResourcesOfType(tj, "AWS::KMS::Key") {
		sids := map[string]int{}
		for _, s := range k["Properties"].(map[string]interface{})["KeyPolicy"].(map[string]interface{})["Statement"].([]interface{}) {
			if sid, ok := s.(map[string]interface{})["Sid"].(string); ok {
				sids[sid]++
			}
		}
		for prefix, counts := range want {
			if !strings.HasPrefix(id, prefix) {
				continue
			}
			for sid, n := range counts {
				if sids[sid] != n {
					t.Errorf("%s: key policy has %d %s statements, want %d", id, sids[sid], sid, n)
				}
			}
		}
	}
	hasProps(t, tmpl, "AWS::ImageBuilder::DistributionConfiguration", map[string]interface{}{
		"Distributions": []interface{}{map[string]interface{}{"AmiDistributionConfiguration": map[string]interface{}{
			"KmsKeyId": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AmiKey")), "Arn"}},
		}}},
	})
	t.Run("cdk-nag finds nothing", func(t *testing.T) { assertNagClean(t, stack) })
}

func TestSharedResourcesRejectAnInvalidRetention(t *testing.T) {
	stack := newStack(t)
	got := cdktest.ExpectPanic(t, func() {
		gi.NewSharedResources(stack, jsii.String("Shared"), &gi.SharedResourcesProps{LogRetention: awscdk.Duration_Days(jsii.Number(45))})
	})
	want := `goldenimage: LogRetention 45 days is not a CloudWatch Logs retention period (want one of [1 3 5 7 14 30 60 90 120 150 180 365 400 545 731 1096 1827 2192 2557 2922 3288 3653] days)`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
