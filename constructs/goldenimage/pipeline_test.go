package goldenimage_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsimagebuilder"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/jsii-runtime-go"

	gi "github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

var testEnv = &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")}

func newStack(t *testing.T) awscdk.Stack {
	t.Helper()
	return awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{Env: testEnv})
}

func hasProps(t *testing.T, tmpl assertions.Template, typ string, props map[string]interface{}) {
	t.Helper()
	cdktest.Check(t, typ, func() { tmpl.HasResourceProperties(jsii.String(typ), props) })
}

func count(t *testing.T, tmpl assertions.Template, typ string, n int) {
	t.Helper()
	cdktest.Check(t, "count "+typ, func() { tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n))) })
}

func TestDefaults(t *testing.T) {
	stack := newStack(t)
	p := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	tmpl := assertions.Template_FromStack(stack, nil)

	for typ, n := range map[string]int{
		"AWS::ImageBuilder::ImagePipeline": 1, "AWS::ImageBuilder::ImageRecipe": 1, "AWS::ImageBuilder::Component": 2,
		"AWS::ImageBuilder::InfrastructureConfiguration": 1, "AWS::ImageBuilder::DistributionConfiguration": 1,
		"AWS::ImageBuilder::LifecyclePolicy": 1, "AWS::KMS::Key": 1, "AWS::S3::Bucket": 2, "AWS::SNS::Topic": 1,
		"AWS::Logs::LogGroup": 2, "AWS::SSM::Parameter": 1, "AWS::IAM::Role": 2, "AWS::IAM::ManagedPolicy": 1,
		"AWS::IAM::InstanceProfile": 1, "AWS::IAM::Policy": 0,
	} {
		count(t, tmpl, typ, n)
	}

	t.Run("upstream parameter seeded from the public AL2023 parameter", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::SSM::Parameter", map[string]interface{}{
			"Name":     "/golden-ami/al2023/upstream",
			"Type":     "String",
			"DataType": "aws:ec2:image",
			"Value":    "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}}",
		})
		if p.UpstreamParameter == nil {
			t.Error("UpstreamParameter is nil")
		}
	})
	t.Run("recipe: ssm parent, agent first, update, STIG medium, test; encrypted gp3 root on /dev/xvda", func(t *testing.T) {
		key := assertions.NewCapture(nil)
		hasProps(t, tmpl, "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{
			"ParentImage": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"ssm:", map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^AL2023UpstreamParameter"))}}}},
			"Components": []interface{}{
				map[string]interface{}{"ComponentArn": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023SSMAgentComponent")), "Arn"}}},
				map[string]interface{}{"ComponentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"},
				map[string]interface{}{"ComponentArn": "arn:aws:imagebuilder:us-east-1:aws:component/stig-build-linux-medium/x.x.x"},
				map[string]interface{}{"ComponentArn": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023TestComponent")), "Arn"}}},
			},
			"BlockDeviceMappings": []interface{}{map[string]interface{}{
				"DeviceName": "/dev/xvda",
				"Ebs": map[string]interface{}{
					"Encrypted": true, "VolumeType": "gp3", "DeleteOnTermination": true,
					"KmsKeyId":   map[string]interface{}{"Fn::GetAtt": []interface{}{key, "Arn"}},
					"VolumeSize": assertions.Match_Absent(),
				},
			}},
			"Name":        "test-al2023",
			"Description": "Golden image al2023",
			"Version":     assertions.Match_StringLikeRegexp(jsii.String(`^1\.[0-9]+\.[0-9]+$`)),
			"AmiTags": map[string]interface{}{
				"golden-ami:image": "al2023", "golden-ami:pipeline": "test-al2023",
				"golden-ami:platform": "Linux", "golden-ami:architecture": "x86_64", "golden-ami:stig-level": "medium",
			},
		})
		// The exported tag keys name the tags the AMIs carry.
		hasProps(t, tmpl, "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{"AmiTags": map[string]interface{}{
			gi.TagImage: "al2023", gi.TagPipeline: *p.RecipeName, gi.TagPlatform: "Linux", gi.TagArchitecture: "x86_64", gi.TagStigLevel: "medium",
		}})
		if got := key.AsString(); !strings.HasPrefix(*got, "AL2023Key") {
			t.Errorf("root volume key = %s, want the construct's own key", *got)
		}
	})
	t.Run("recipe keeps the SSM agent in the image and leaves user data alone", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{
			"AdditionalInstanceConfiguration": assertions.Match_ObjectEquals(&map[string]interface{}{
				"SystemsManagerAgent": map[string]interface{}{"UninstallAfterBuild": false},
			}),
		})
	})
	t.Run("SSM agent component is our embedded Linux document", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::ImageBuilder::Component", map[string]interface{}{
			"Name":     "test-al2023-update-ssm-agent-linux",
			"Platform": "Linux",
			"Data":     assertions.Match_StringLikeRegexp(jsii.String("name: UpdateSSMAgentLinux")),
			"Version":  assertions.Match_StringLikeRegexp(jsii.String(`^1\.[0-9]+\.[0-9]+$`)),
		})
	})
	t.Run("infrastructure: IMDSv2 required, terminate on failure, default instance types, logs, topic", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::ImageBuilder::InfrastructureConfiguration", map[string]interface{}{
			"InstanceMetadataOptions":    map[string]interface{}{"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
			"TerminateInstanceOnFailure": true,
			"InstanceTypes":              []interface{}{"m7i.large", "m6i.large"},
			"Logging":                    map[string]interface{}{"S3Logs": map[string]interface{}{"S3KeyPrefix": "al2023", "S3BucketName": map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^AL2023LogBucket"))}}},
			"SnsTopicArn":                map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^AL2023Topic"))},
			"SubnetId":                   assertions.Match_Absent(),
			"SecurityGroupIds":           assertions.Match_Absent(),
		})
	})
	t.Run("instance role has exactly the two managed policies plus its own log prefix", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::IAM::Role", map[string]interface{}{
			"AssumeRolePolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{"Principal": map[string]interface{}{"Service": "ec2.amazonaws.com"}}}},
			"ManagedPolicyArns": []interface{}{
				map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, ":iam::aws:policy/EC2InstanceProfileForImageBuilder"}}},
				map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonSSMManagedInstanceCore"}}},
			},
		})
		hasProps(t, tmpl, "AWS::IAM::ManagedPolicy", map[string]interface{}{
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
				map[string]interface{}{"Action": "s3:PutObject", "Effect": "Allow", "Sid": "WriteOwnBuildLogs",
					"Resource": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023LogBucket")), "Arn"}}, "/al2023/*"}}}},
				map[string]interface{}{"Action": []interface{}{"kms:Decrypt", "kms:GenerateDataKey"}, "Sid": "EncryptOwnBuildLogs",
					"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
			}},
			"Roles": []interface{}{map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^AL2023InstanceRole"))}},
		})
	})
	t.Run("key rotates and lets Image Builder, Auto Scaling and CloudWatch Logs use it", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::KMS::Key", map[string]interface{}{
			"EnableKeyRotation": true,
			"KeyPolicy": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
				assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowServiceLinkedRolesToUseTheKey", "Condition": map[string]interface{}{"ArnLike": map[string]interface{}{"aws:PrincipalArn": []interface{}{
					"arn:aws:iam::111111111111:role/aws-service-role/imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder",
					"arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
				}}}}),
				// The service-linked roles may grant the key only to the AWS
				// resources they launch, never to a principal of their choice.
				assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowServiceLinkedRolesToGrantToAWSResources", "Action": "kms:CreateGrant",
					"Condition": assertions.Match_ObjectEquals(&map[string]interface{}{
						"ArnLike": map[string]interface{}{"aws:PrincipalArn": []interface{}{
							"arn:aws:iam::111111111111:role/aws-service-role/imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder",
							"arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
						}},
						"Bool": map[string]interface{}{"kms:GrantIsForAWSResource": "true"},
					})}),
				assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowImageBuilderLogGroups", "Principal": map[string]interface{}{"Service": "logs.us-east-1.amazonaws.com"}}),
			})},
		})
		cdktest.Check(t, "key retained", func() {
			tmpl.HasResource(jsii.String("AWS::KMS::Key"), map[string]interface{}{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
		})
	})
	t.Run("log bucket: KMS, versioned, private, SSL-only, access-logged, expiring after 90 days", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::S3::Bucket", map[string]interface{}{
			"BucketEncryption": map[string]interface{}{"ServerSideEncryptionConfiguration": []interface{}{map[string]interface{}{
				"BucketKeyEnabled":              true,
				"ServerSideEncryptionByDefault": map[string]interface{}{"SSEAlgorithm": "aws:kms"},
			}}},
			"VersioningConfiguration":        map[string]interface{}{"Status": "Enabled"},
			"PublicAccessBlockConfiguration": map[string]interface{}{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			"LoggingConfiguration":           map[string]interface{}{"LogFilePrefix": "build-logs/"},
			"LifecycleConfiguration": map[string]interface{}{"Rules": []interface{}{map[string]interface{}{
				"Id": "expire-build-logs", "ExpirationInDays": 90, "Status": "Enabled",
			}}},
		})
		hasProps(t, tmpl, "AWS::S3::BucketPolicy", map[string]interface{}{
			"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
				"Effect": "Deny", "Condition": map[string]interface{}{"Bool": map[string]interface{}{"aws:SecureTransport": "false"}},
			})})},
		})
	})
	t.Run("topic encrypted with the key", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::SNS::Topic", map[string]interface{}{
			"KmsMasterKeyId": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023Key")), "Arn"}},
		})
	})
	t.Run("log groups: Image Builder's names, 90 days, encrypted", func(t *testing.T) {
		for _, name := range []string{"/aws/imagebuilder/test-al2023", "/aws/imagebuilder/pipeline/test-al2023"} {
			hasProps(t, tmpl, "AWS::Logs::LogGroup", map[string]interface{}{
				"LogGroupName": name, "RetentionInDays": 90,
				"KmsKeyId": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023Key")), "Arn"}},
			})
			// Kept when the stack is deleted, but not when its first
			// deployment rolls back: a kept group's fixed name would make
			// the retry fail with "already exists".
			cdktest.Check(t, name+" retained except on create", func() {
				tmpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]interface{}{
					"Properties":     map[string]interface{}{"LogGroupName": name},
					"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain",
				})
			})
		}
	})
	t.Run("distribution: home region only, own key, dated AMI name, private", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::ImageBuilder::DistributionConfiguration", map[string]interface{}{
			"Distributions": []interface{}{map[string]interface{}{
				"Region": "us-east-1",
				"AmiDistributionConfiguration": map[string]interface{}{
					"Name":                          "al2023-{{ imagebuilder:buildDate }}",
					"KmsKeyId":                      map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023Key")), "Arn"}},
					"LaunchPermissionConfiguration": assertions.Match_Absent(),
				},
				"LaunchTemplateConfigurations": assertions.Match_Absent(),
			}},
		})
	})
	t.Run("pipeline: weekly on schedule, tests, scanning, metadata, auto-disable after 3", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::ImageBuilder::ImagePipeline", map[string]interface{}{
			"Status": "ENABLED",
			"Schedule": map[string]interface{}{
				"ScheduleExpression":              "cron(0 4 ? * MON *)",
				"Timezone":                        "Etc/UTC",
				"PipelineExecutionStartCondition": "EXPRESSION_MATCH_ONLY",
				"AutoDisablePolicy":               map[string]interface{}{"FailureCount": 3},
			},
			"ImageTestsConfiguration":      map[string]interface{}{"ImageTestsEnabled": true, "TimeoutMinutes": 90},
			"ImageScanningConfiguration":   map[string]interface{}{"ImageScanningEnabled": true},
			"EnhancedImageMetadataEnabled": true,
			"ImageTags":                    map[string]interface{}{"golden-ami:pipeline": "test-al2023"},
		})
	})
	t.Run("lifecycle: deprecate after 30 days, delete after 180 keeping 3, selected by pipeline tag", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::ImageBuilder::LifecyclePolicy", map[string]interface{}{
			"ResourceType": "AMI_IMAGE",
			"PolicyDetails": []interface{}{
				map[string]interface{}{"Action": map[string]interface{}{"Type": "DEPRECATE"}, "Filter": map[string]interface{}{"Type": "AGE", "Value": 30, "Unit": "DAYS"}},
				map[string]interface{}{
					"Action": map[string]interface{}{"Type": "DELETE", "IncludeResources": map[string]interface{}{"Amis": true, "Snapshots": true}},
					"Filter": map[string]interface{}{"Type": "AGE", "Value": 180, "Unit": "DAYS", "RetainAtLeast": 3},
				},
			},
			"ResourceSelection": map[string]interface{}{"TagMap": map[string]interface{}{"golden-ami:pipeline": "test-al2023"}},
			"ExecutionRole":     map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023LifecycleRole")), "Arn"}},
		})
		hasProps(t, tmpl, "AWS::IAM::Role", map[string]interface{}{
			"AssumeRolePolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{"Principal": map[string]interface{}{"Service": "imagebuilder.amazonaws.com"}}}},
			"ManagedPolicyArns": []interface{}{
				map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/EC2ImageBuilderLifecycleExecutionPolicy"}}},
			},
		})
	})
	t.Run("exported fields", func(t *testing.T) {
		if p.Pipeline == nil || p.Recipe == nil || p.Topic == nil || p.EncryptionKey == nil || p.InstanceRole == nil ||
			p.LogBucket == nil || p.LifecyclePolicy == nil || p.LifecycleRole == nil || p.PipelineARN == nil {
			t.Error("an exported field is nil")
		}
		if *p.RecipeName != "test-al2023" || *p.LogPrefix != "al2023/" || p.Platform != gi.PlatformLinux || p.Architecture != gi.ArchitectureX86_64 {
			t.Errorf("RecipeName %q, LogPrefix %q, Platform %q, Architecture %q", *p.RecipeName, *p.LogPrefix, p.Platform, p.Architecture)
		}
		if got := *p.DistributionRegions; len(got) != 1 || *got[0] != "us-east-1" {
			t.Errorf("DistributionRegions = %v", got)
		}
	})
	t.Run("stateful logical IDs are pinned", func(t *testing.T) {
		// Changing any of these replaces a key, bucket, parameter or log group.
		tj := cdktest.TemplateJSON(t, stack)
		for _, id := range []string{"AL2023KeyA2F81A0A", "AL2023LogBucketF75897A9", "AL2023AccessLogBucket3E304E35",
			"AL2023UpstreamParameter8F509011", "AL2023ImageLogGroupAC3AD650", "AL2023PipelineLogGroup567A4B02"} {
			if _, ok := tj["Resources"].(map[string]interface{})[id]; !ok {
				t.Errorf("logical id %s is gone", id)
			}
		}
	})
	t.Run("cdk-nag AwsSolutions and NIST 800-53 rev5 find nothing", func(t *testing.T) {
		assertNagClean(t, stack)
	})
}

func TestOptions(t *testing.T) {
	stack := newStack(t)
	key := awskms.NewKey(stack, jsii.String("SharedKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	bucket := awss3.Bucket_FromBucketName(stack, jsii.String("SharedLogs"), jsii.String("shared-logs"))
	subnet := awsec2.Subnet_FromSubnetAttributes(stack, jsii.String("Subnet"), &awsec2.SubnetAttributes{
		SubnetId: jsii.String("subnet-0123456789abcdef0"), RouteTableId: jsii.String("rtb-0123456789abcdef0"),
	})
	sg := awsec2.SecurityGroup_FromSecurityGroupId(stack, jsii.String("Sg"), jsii.String("sg-0123456789abcdef0"), nil)
	lt := awsec2.LaunchTemplate_FromLaunchTemplateAttributes(stack, jsii.String("Lt"), &awsec2.LaunchTemplateAttributes{LaunchTemplateId: jsii.String("lt-0123456789abcdef0")})
	p := gi.NewGoldenImagePipeline(stack, jsii.String("Win"), &gi.GoldenImagePipelineProps{
		ImageName:                   jsii.String("win2022"),
		Description:                 jsii.String("Windows Server 2022"),
		Platform:                    gi.PlatformWindows,
		ParentImage:                 gi.ParentImageFromAMIID("ami-0123456789abcdef0"),
		StigLevel:                   gi.StigHigh,
		AdditionalComponents:        &[]*gi.Component{gi.ComponentFromARN("arn:aws:imagebuilder:us-east-1:aws:component/amazon-cloudwatch-agent-windows/x.x.x"), gi.ComponentFromDocument("hello", "name: Hello\nschemaVersion: 1.0\nphases: []\n")},
		InstanceTypes:               jsii.Strings("c7i.2xlarge"),
		RootDeviceName:              jsii.String("/dev/sda1"),
		RootVolumeSizeGiB:           jsii.Number(80),
		EncryptionKey:               key,
		AMITags:                     &map[string]*string{"team": jsii.String("platform")},
		Subnet:                      subnet,
		SecurityGroups:              &[]awsec2.ISecurityGroup{sg},
		LogBucket:                   bucket,
		LogRetention:                awscdk.Duration_Days(jsii.Number(30)),
		DistributionRegions:         jsii.Strings("us-east-1", "eu-west-1"),
		DistributionAccounts:        jsii.Strings("222222222222", "333333333333"),
		DistributionKeyAlias:        jsii.String("alias/team/golden"),
		DistributionLaunchTemplates: &[]awsec2.ILaunchTemplate{lt},
		Schedule:                    jsii.String(""),
		ImageTestsTimeout:           awscdk.Duration_Hours(jsii.Number(2)),
		LifecycleDeprecateAfter:     awscdk.Duration_Days(jsii.Number(14)),
		LifecycleRetainCount:        jsii.Number(10),
	})
	tmpl := assertions.Template_FromStack(stack, nil)

	count(t, tmpl, "AWS::SSM::Parameter", 0)
	count(t, tmpl, "AWS::S3::Bucket", 0)
	count(t, tmpl, "AWS::KMS::Key", 2) // the one given, and the AMI key (the AMI is shared with other accounts)
	count(t, tmpl, "AWS::ImageBuilder::Component", 3)
	hasProps(t, tmpl, "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{
		"ParentImage": "ami-0123456789abcdef0",
		"Components": []interface{}{
			map[string]interface{}{"ComponentArn": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^WinSSMAgentComponent")), "Arn"}}},
			map[string]interface{}{"ComponentArn": "arn:aws:imagebuilder:us-east-1:aws:component/update-windows/x.x.x"},
			map[string]interface{}{"ComponentArn": "arn:aws:imagebuilder:us-east-1:aws:component/amazon-cloudwatch-agent-windows/x.x.x"},
			map[string]interface{}{"ComponentArn": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^WinComponenthello")), "Arn"}}},
			map[string]interface{}{"ComponentArn": "arn:aws:imagebuilder:us-east-1:aws:component/stig-build-windows-high/x.x.x"},
			map[string]interface{}{"ComponentArn": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^WinTestComponent")), "Arn"}}},
		},
		"BlockDeviceMappings": []interface{}{map[string]interface{}{"DeviceName": "/dev/sda1", "Ebs": map[string]interface{}{
			"VolumeSize": 80, "KmsKeyId": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^SharedKey")), "Arn"}},
		}}},
		"Description": "Windows Server 2022",
		"AmiTags":     map[string]interface{}{"team": "platform", "golden-ami:stig-level": "high", "golden-ami:platform": "Windows"},
	})
	hasProps(t, tmpl, "AWS::ImageBuilder::Component", map[string]interface{}{
		"Platform": "Windows", "Data": assertions.Match_StringLikeRegexp(jsii.String("name: UpdateSSMAgentWindows")),
	})
	hasProps(t, tmpl, "AWS::ImageBuilder::InfrastructureConfiguration", map[string]interface{}{
		"InstanceTypes":    []interface{}{"c7i.2xlarge"},
		"SubnetId":         "subnet-0123456789abcdef0",
		"SecurityGroupIds": []interface{}{"sg-0123456789abcdef0"},
		"Logging":          map[string]interface{}{"S3Logs": map[string]interface{}{"S3BucketName": "shared-logs", "S3KeyPrefix": "win2022"}},
	})
	hasProps(t, tmpl, "AWS::IAM::ManagedPolicy", map[string]interface{}{
		"PolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
			"Action": "s3:PutObject", "Resource": "arn:aws:s3:::shared-logs/win2022/*",
		}}},
	})
	hasProps(t, tmpl, "AWS::ImageBuilder::DistributionConfiguration", map[string]interface{}{
		"Distributions": []interface{}{
			map[string]interface{}{
				"Region": "us-east-1",
				"AmiDistributionConfiguration": map[string]interface{}{
					"Name":                          "win2022-{{ imagebuilder:buildDate }}",
					"KmsKeyId":                      map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^WinAmiKey")), "Arn"}},
					"LaunchPermissionConfiguration": map[string]interface{}{"UserIds": []interface{}{"222222222222", "333333333333"}},
					"AmiTags":                       map[string]interface{}{"team": "platform"},
				},
				"LaunchTemplateConfigurations": []interface{}{map[string]interface{}{"LaunchTemplateId": "lt-0123456789abcdef0", "SetDefaultVersion": true}},
			},
			map[string]interface{}{
				"Region": "eu-west-1",
				"AmiDistributionConfiguration": map[string]interface{}{
					"KmsKeyId":                      "arn:aws:kms:eu-west-1:111111111111:alias/team/golden",
					"LaunchPermissionConfiguration": map[string]interface{}{"UserIds": []interface{}{"222222222222", "333333333333"}},
				},
				"LaunchTemplateConfigurations": assertions.Match_Absent(),
			},
		},
	})
	hasProps(t, tmpl, "AWS::KMS::Key", map[string]interface{}{
		"KeyPolicy": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Sid":       "AllowDistributionAccountsToLaunchTheAMI",
			"Principal": map[string]interface{}{"AWS": []interface{}{"arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"}},
			"Condition": map[string]interface{}{"StringLike": map[string]interface{}{"kms:ViaService": "ec2.*.amazonaws.com"}},
		})})},
	})
	// The AMI shared with other accounts has a key of its own: the key that
	// protects logs and notifications lets no other account in.
	tj := cdktest.TemplateJSON(t, stack)
	for id, k := range cdktest.ResourcesOfType(tj, "AWS::KMS::Key") {
		policy, _ := json.Marshal(k["Properties"].(map[string]interface{})["KeyPolicy"])
		other := strings.Contains(string(policy), "222222222222") || strings.Contains(string(policy), "333333333333")
		if strings.HasPrefix(id, "SharedKey") == other {
			t.Errorf("%s: the policy lets other accounts in: %v, want only the AMI key to", id, other)
		}
	}
	for _, account := range []string{"222222222222", "333333333333"} {
		// An account running the AMI in an Auto Scaling group grants its own
		// service-linked role the key (aws kms create-grant): nothing else.
		hasProps(t, tmpl, "AWS::KMS::Key", map[string]interface{}{
			"KeyPolicy": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectEquals(&map[string]interface{}{
				"Sid":       "AllowAccount" + account + "ToGrantItsAutoScalingRole",
				"Effect":    "Allow",
				"Principal": map[string]interface{}{"AWS": "arn:aws:iam::" + account + ":root"},
				"Action":    "kms:CreateGrant",
				"Resource":  "*",
				"Condition": map[string]interface{}{
					"StringLike": map[string]interface{}{"kms:GranteePrincipal": "arn:aws:iam::" + account + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling*"},
					"ForAllValues:StringEquals": map[string]interface{}{"kms:GrantOperations": []interface{}{
						"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "DescribeKey", "CreateGrant",
					}},
				},
			})})},
		})
	}
	hasProps(t, tmpl, "AWS::ImageBuilder::ImagePipeline", map[string]interface{}{
		"Schedule":                assertions.Match_Absent(),
		"ImageTestsConfiguration": map[string]interface{}{"TimeoutMinutes": 120},
	})
	hasProps(t, tmpl, "AWS::Logs::LogGroup", map[string]interface{}{"RetentionInDays": 30})
	hasProps(t, tmpl, "AWS::ImageBuilder::LifecyclePolicy", map[string]interface{}{
		"PolicyDetails": []interface{}{
			map[string]interface{}{"Action": map[string]interface{}{"Type": "DEPRECATE"}, "Filter": map[string]interface{}{"Type": "AGE", "Value": 14}},
			map[string]interface{}{"Action": map[string]interface{}{"Type": "DELETE"}, "Filter": map[string]interface{}{"Type": "COUNT", "Value": 10, "Unit": assertions.Match_Absent()}},
		},
	})
	if *p.DistributionRegions != nil && len(*p.DistributionRegions) != 2 {
		t.Errorf("DistributionRegions = %d regions, want the home region once plus eu-west-1", len(*p.DistributionRegions))
	}
	if p.UpstreamParameter != nil {
		t.Error("UpstreamParameter should be nil for an AMI parent")
	}
	t.Run("cdk-nag finds nothing", func(t *testing.T) { assertNagClean(t, stack) })
}

func TestScheduleOptionsWithDependencyStartCondition(t *testing.T) {
	stack := newStack(t)
	gi.NewGoldenImagePipeline(stack, jsii.String("Arm"), &gi.GoldenImagePipelineProps{
		ImageName:                jsii.String("al2023-arm"),
		Architecture:             gi.ArchitectureArm64,
		DistributionRegions:      jsii.Strings("eu-west-1"),
		Schedule:                 jsii.String("cron(0 6 ? * WED#2 *)"),
		ScheduleTimezone:         jsii.String("Europe/Berlin"),
		StartCondition:           gi.StartWhenDependenciesUpdated,
		AutoDisableAfterFailures: jsii.Number(1),
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	hasProps(t, tmpl, "AWS::ImageBuilder::ImagePipeline", map[string]interface{}{"Schedule": map[string]interface{}{
		"ScheduleExpression": "cron(0 6 ? * WED#2 *)", "Timezone": "Europe/Berlin",
		"PipelineExecutionStartCondition": "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE",
		"AutoDisablePolicy":               map[string]interface{}{"FailureCount": 1},
	}})
	hasProps(t, tmpl, "AWS::ImageBuilder::InfrastructureConfiguration", map[string]interface{}{"InstanceTypes": []interface{}{"m7g.large", "m6g.large"}})
	hasProps(t, tmpl, "AWS::SSM::Parameter", map[string]interface{}{"Value": "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64}}"})
	hasProps(t, tmpl, "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{"AmiTags": map[string]interface{}{"golden-ami:architecture": "arm64"}})
	// DistributionKeyAlias defaults to alias/golden-ami/distribution in every extra region.
	hasProps(t, tmpl, "AWS::ImageBuilder::DistributionConfiguration", map[string]interface{}{"Distributions": []interface{}{
		map[string]interface{}{"Region": "us-east-1"},
		map[string]interface{}{"Region": "eu-west-1", "AmiDistributionConfiguration": map[string]interface{}{
			"KmsKeyId": "arn:aws:kms:eu-west-1:111111111111:alias/golden-ami/distribution",
		}},
	}})
}

func TestParentImageKinds(t *testing.T) {
	stack := newStack(t)
	param := awsssm.NewStringParameter(stack, jsii.String("Given"), &awsssm.StringParameterProps{
		ParameterName: jsii.String("/team/upstream"), StringValue: jsii.String("ami-0123456789abcdef0"), DataType: awsssm.ParameterDataType_AWS_EC2_IMAGE,
	})
	for id, parent := range map[string]*gi.ParentImage{
		"FromParameter":     gi.ParentImageFromParameter(param),
		"FromParameterName": gi.ParentImageFromParameterName("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
		"FromImageARN":      gi.ParentImageFromImageARN("arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"),
		"FromParameterARN":  gi.ParentImageFromParameterName("arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/prod/al2023/latest"),
		// The stack's own partition and region are tokens that never change.
		"FromImageARNOfStack": gi.ParentImageFromImageARN(*awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:imagebuilder:${AWS::Region}:aws:image/amazon-linux-2023-x86/x.x.x"), nil)),
	} {
		gi.NewGoldenImagePipeline(stack, jsii.String(id), &gi.GoldenImagePipelineProps{ImageName: jsii.String(strings.ToLower(id)), ParentImage: parent})
	}
	tmpl := assertions.Template_FromStack(stack, nil)
	count(t, tmpl, "AWS::SSM::Parameter", 1) // the one given, none created
	hasProps(t, tmpl, "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{
		"ParentImage": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"ssm:", map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Given"))}}}},
	})
	for _, want := range []string{"ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x",
		"ssm:arn:aws:ssm:eu-west-1:222222222222:parameter/golden-ami/prod/al2023/latest"} {
		hasProps(t, tmpl, "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{"ParentImage": want})
	}
	hasProps(t, tmpl, "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{"ParentImage": map[string]interface{}{
		"Fn::Sub": "arn:${AWS::Partition}:imagebuilder:${AWS::Region}:aws:image/amazon-linux-2023-x86/x.x.x"}})
}

// A recipe's version is a hash of its synthesized content, so a parent or a
// component ARN that CloudFormation resolves only at deployment (a
// CfnParameter, another resource's attribute, an import) could change
// while the version stays the same, and the replacement recipe would fail
// with "already exists". Such values are refused, naming the field, the
// value and what it resolves to; the stack's pseudo parameters are not.
func TestDeployTimeValuesAreRefused(t *testing.T) {
	doc := "name: Tools\nschemaVersion: 1.0\nphases: [{name: build, steps: [{name: A, action: ExecuteBash, inputs: {commands: [echo a]}}]}]\n"
	const why = `: the recipe's version is a hash of its synthesized content, so it would not change when this value does, and replacing the recipe would fail with "already exists"; `
	const useParameter = "use ParentImageFromParameterName (or ParentImageFromParameter), which Image Builder resolves when each build starts, or a literal value"
	const useLiteral = `pass a literal ARN (a version of "x.x.x" follows the latest), or the document itself (ComponentFromDocument)`
	for _, tc := range []struct {
		name  string
		props func(stack awscdk.Stack) (gi.GoldenImagePipelineProps, string)
		want  string // after the value
	}{
		{"an AMI id from a CfnParameter", func(stack awscdk.Stack) (gi.GoldenImagePipelineProps, string) {
			v := *awscdk.NewCfnParameter(stack, jsii.String("ParentAmi"), &awscdk.CfnParameterProps{Type: jsii.String("AWS::EC2::Image::Id")}).ValueAsString()
			return gi.GoldenImagePipelineProps{ParentImage: gi.ParentImageFromAMIID(v)}, "goldenimage: ParentImage " + strconv.Quote(v)
		}, ` is resolved at deployment ({"Ref":"ParentAmi"})` + why + useParameter},
		{"an image ARN from an import", func(stack awscdk.Stack) (gi.GoldenImagePipelineProps, string) {
			v := *awscdk.Fn_ImportValue(jsii.String("BaseImageArn"))
			return gi.GoldenImagePipelineProps{ParentImage: gi.ParentImageFromImageARN(v)}, "goldenimage: ParentImage " + strconv.Quote(v)
		}, ` is resolved at deployment ({"Fn::ImportValue":"BaseImageArn"})` + why + useParameter},
		{"a component's ARN attribute", func(stack awscdk.Stack) (gi.GoldenImagePipelineProps, string) {
			c := awsimagebuilder.NewCfnComponent(stack, jsii.String("Tools"), &awsimagebuilder.CfnComponentProps{
				Name: jsii.String("tools"), Platform: jsii.String("Linux"), Version: jsii.String("1.0.1"), Data: jsii.String(doc),
			})
			v := *c.AttrArn()
			return gi.GoldenImagePipelineProps{AdditionalComponents: &[]*gi.Component{gi.ComponentFromARN(v)}}, "goldenimage: AdditionalComponents[0] " + strconv.Quote(v)
		}, ` is resolved at deployment ({"Fn::GetAtt":["Tools","Arn"]})` + why + useLiteral},
		{"an ARN built with a parameter in Fn::Sub", func(stack awscdk.Stack) (gi.GoldenImagePipelineProps, string) {
			awscdk.NewCfnParameter(stack, jsii.String("ToolsVersion"), &awscdk.CfnParameterProps{Type: jsii.String("String")})
			v := *awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:imagebuilder:${AWS::Region}:${AWS::AccountId}:component/tools/${ToolsVersion}"), nil)
			return gi.GoldenImagePipelineProps{AdditionalComponents: &[]*gi.Component{gi.ComponentFromARN(v)}}, "goldenimage: AdditionalComponents[0] " + strconv.Quote(v)
		}, ` is resolved at deployment ({"Fn::Sub":"arn:${AWS::Partition}:imagebuilder:${AWS::Region}:${AWS::AccountId}:component/tools/${ToolsVersion}"})` + why + useLiteral},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stack := newStack(t)
			props, prefix := tc.props(stack)
			props.ImageName = jsii.String("al2023")
			got := cdktest.ExpectPanic(t, func() { gi.NewGoldenImagePipeline(stack, jsii.String("Img"), &props) })
			if want := prefix + tc.want; got != want {
				t.Errorf("panic = %s\nwant    %s", got, want)
			}
			if c := stack.Node().TryFindChild(jsii.String("Img")); c != nil {
				t.Errorf("the pipeline construct %s was defined before the refusal", *c.Node().Path())
			}
		})
	}

	// A managed component's ARN built from the stack's partition and region
	// (an environment-agnostic stack) is fine.
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Agnostic"), nil)
	managed := *awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:imagebuilder:${AWS::Region}:aws:component/amazon-cloudwatch-agent-linux/x.x.x"), nil)
	joined := *awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), stack.Partition(), jsii.String(":imagebuilder:"), stack.Region(), jsii.String(":aws:component/aws-cli-version-2-linux/x.x.x")})
	gi.NewGoldenImagePipeline(stack, jsii.String("Img"), &gi.GoldenImagePipelineProps{
		ImageName:            jsii.String("al2023"),
		AdditionalComponents: &[]*gi.Component{gi.ComponentFromARN(managed), gi.ComponentFromARN(joined)},
	})
	count(t, assertions.Template_FromStack(stack, nil), "AWS::ImageBuilder::ImageRecipe", 1)
}

// recipeIdentity synthesizes one pipeline in a fresh app and returns the
// recipe's and the additional component's versions.
func recipeIdentity(t *testing.T, props gi.GoldenImagePipelineProps) (recipe, component string) {
	t.Helper()
	stack := newStack(t)
	gi.NewGoldenImagePipeline(stack, jsii.String("Img"), &props)
	tj := cdktest.TemplateJSON(t, stack)
	for _, r := range cdktest.ResourcesOfType(tj, "AWS::ImageBuilder::ImageRecipe") {
		recipe = r["Properties"].(map[string]interface{})["Version"].(string)
	}
	for id, r := range cdktest.ResourcesOfType(tj, "AWS::ImageBuilder::Component") {
		if strings.HasPrefix(id, "ImgComponenttools") {
			component = r["Properties"].(map[string]interface{})["Version"].(string)
		}
	}
	return recipe, component
}

func TestContentChangeProducesNewRecipeIdentity(t *testing.T) {
	base := func() gi.GoldenImagePipelineProps {
		return gi.GoldenImagePipelineProps{
			ImageName:            jsii.String("al2023"),
			AdditionalComponents: &[]*gi.Component{gi.ComponentFromDocument("tools", "name: Tools\nschemaVersion: 1.0\nphases: [{name: build, steps: [{name: A, action: ExecuteBash, inputs: {commands: [echo a]}}]}]\n")},
		}
	}
	r0, c0 := recipeIdentity(t, base())
	r1, c1 := recipeIdentity(t, base())
	if r0 != r1 || c0 != c1 || c0 == "" {
		t.Fatalf("identical content gave different identities: recipe %s vs %s, component %s vs %s", r0, r1, c0, c1)
	}

	changedDoc := base()
	changedDoc.AdditionalComponents = &[]*gi.Component{gi.ComponentFromDocument("tools", "name: Tools\nschemaVersion: 1.0\nphases: [{name: build, steps: [{name: A, action: ExecuteBash, inputs: {commands: [echo b]}}]}]\n")}
	r2, c2 := recipeIdentity(t, changedDoc)
	if c2 == c0 {
		t.Errorf("changing a component document kept component version %s", c2)
	}
	if r2 == r0 {
		t.Errorf("changing a component document kept recipe version %s", r2)
	}

	stig := base()
	stig.StigLevel = gi.StigHigh
	if r3, _ := recipeIdentity(t, stig); r3 == r0 {
		t.Errorf("changing the STIG level kept recipe version %s", r3)
	}

	schedule := base()
	schedule.Schedule = jsii.String("cron(0 5 ? * TUE *)")
	if r4, _ := recipeIdentity(t, schedule); r4 != r0 {
		t.Errorf("changing only the schedule changed recipe version %s -> %s; the recipe did not change", r0, r4)
	}
}

// Image Builder keys a component by name and version. Reordering, adding or
// removing extra components must never ask CloudFormation to create a
// component under one logical id while another still holds its name and
// version ("already exists"), and must not replace a component whose
// content did not change.
func TestReorderingComponentsNeverReusesANameAndVersion(t *testing.T) {
	doc := func(cmd string) string {
		return "name: X\nschemaVersion: 1.0\nphases: [{name: build, steps: [{name: A, action: ExecuteBash, inputs: {commands: [" + cmd + "]}}]}]\n"
	}
	aa, bb, cc := gi.ComponentFromDocument("aa", doc("echo a")), gi.ComponentFromDocument("bb", doc("echo b")), gi.ComponentFromDocument("cc", doc("echo c"))
	components := func(list ...*gi.Component) map[string]string { // logical id -> name@version
		stack := newStack(t)
		gi.NewGoldenImagePipeline(stack, jsii.String("Img"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023"), AdditionalComponents: &list})
		out := map[string]string{}
		for id, r := range cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::ImageBuilder::Component") {
			props := r["Properties"].(map[string]interface{})
			out[id] = props["Name"].(string) + "@" + props["Version"].(string)
		}
		return out
	}
	before := components(aa, bb, cc)
	for name, after := range map[string]map[string]string{
		"swapped":       components(bb, aa, cc),
		"first removed": components(bb, cc),
		"one inserted":  components(cc, aa, bb),
	} {
		for id, identity := range after {
			for oldID, oldIdentity := range before {
				if identity == oldIdentity && id != oldID {
					t.Errorf("%s: %s would create %s, which %s still holds", name, id, identity, oldID)
				}
			}
			if old, kept := before[id]; kept && old != identity && strings.Contains(id, "Component") && !strings.Contains(id, "SSMAgent") && !strings.Contains(id, "Test") {
				t.Errorf("%s: %s changed from %s to %s although its content did not", name, id, old, identity)
			}
		}
	}
}

func TestEventRulesAndGrants(t *testing.T) {
	stack := newStack(t)
	p := gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	p.OnImageAvailable(jsii.String("Available"), nil)
	p.OnImageFailed(jsii.String("Failed"), &awsevents.OnEventOptions{Description: jsii.String("tell the team")})
	role := awsiam.NewRole(stack, jsii.String("Starter"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	p.GrantStartExecution(role)
	p.GrantReadImages(role)
	tmpl := assertions.Template_FromStack(stack, nil)

	prefix := map[string]interface{}{"prefix": "arn:aws:imagebuilder:us-east-1:111111111111:image/test-al2023/"}
	cdktest.Check(t, "available rule", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{"EventPattern": map[string]interface{}{
			"source":      []interface{}{"aws.imagebuilder"},
			"detail-type": []interface{}{"EC2 Image Builder Image State Change"},
			"resources":   []interface{}{prefix},
			"detail":      map[string]interface{}{"state": map[string]interface{}{"status": []interface{}{"AVAILABLE"}}},
		}})
	})
	cdktest.Check(t, "failed rule", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
			"Description": "tell the team",
			"EventPattern": map[string]interface{}{
				"resources": []interface{}{prefix},
				"detail":    map[string]interface{}{"state": map[string]interface{}{"status": []interface{}{"FAILED", "CANCELLED"}}},
			}})
	})
	cdktest.Check(t, "grants", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
			map[string]interface{}{"Action": "imagebuilder:StartImagePipelineExecution", "Effect": "Allow", "Resource": map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^AL2023Pipeline")), "Arn"}}},
			map[string]interface{}{"Action": "imagebuilder:GetImage", "Effect": "Allow", "Resource": "arn:aws:imagebuilder:us-east-1:111111111111:image/test-al2023/*"},
		}}})
	})
}

func assertNagClean(t *testing.T, stack awscdk.Stack) {
	t.Helper()
	cdktest.NagClean(t, stack)
}

// Other teams' apps may not set this repository's feature flags. The
// construct must synthesize, and pass cdk-nag, with none of them.
func TestWorksWithoutFeatureFlags(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Bare"), &awscdk.StackProps{Env: testEnv})
	gi.NewGoldenImagePipeline(stack, jsii.String("AL2023"), &gi.GoldenImagePipelineProps{ImageName: jsii.String("al2023")})
	assertNagClean(t, stack)
	count(t, assertions.Template_FromStack(stack, nil), "AWS::ImageBuilder::ImagePipeline", 1)
}

// Image Builder counts lifecycle ages up to 1000 of a unit: ages over 1000
// days are given in weeks.
func TestLifecycleAgesOver1000DaysInWeeks(t *testing.T) {
	stack := newStack(t)
	gi.NewGoldenImagePipeline(stack, jsii.String("Img"), &gi.GoldenImagePipelineProps{
		ImageName:               jsii.String("al2023"),
		LifecycleDeprecateAfter: awscdk.Duration_Days(jsii.Number(1000)),
		LifecycleDeleteAfter:    awscdk.Duration_Days(jsii.Number(1092)),
	})
	hasProps(t, assertions.Template_FromStack(stack, nil), "AWS::ImageBuilder::LifecyclePolicy", map[string]interface{}{"PolicyDetails": []interface{}{
		map[string]interface{}{"Action": map[string]interface{}{"Type": "DEPRECATE"}, "Filter": map[string]interface{}{"Type": "AGE", "Value": 1000, "Unit": "DAYS"}},
		map[string]interface{}{"Action": assertions.Match_ObjectLike(&map[string]interface{}{"Type": "DELETE"}), "Filter": map[string]interface{}{"Type": "AGE", "Value": 156, "Unit": "WEEKS", "RetainAtLeast": 3}},
	}})
}

// Component names stay within Image Builder's 128 characters when a long
// stack name (the base is cut at 100) meets a 40-character component name.
func TestComponentNamesFitImageBuildersLimit(t *testing.T) {
	stackName := "Team-" + strings.Repeat("x", 120)
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Long"), &awscdk.StackProps{Env: testEnv, StackName: jsii.String(stackName)})
	long := strings.Repeat("c", 40)
	gi.NewGoldenImagePipeline(stack, jsii.String("Img"), &gi.GoldenImagePipelineProps{
		ImageName:            jsii.String("al2023"),
		AdditionalComponents: &[]*gi.Component{gi.ComponentFromDocument(long, "name: Tools\nschemaVersion: 1.0\nphases: [{name: build, steps: [{name: A, action: ExecuteBash, inputs: {commands: [echo a]}}]}]\n")},
	})
	names := map[string]bool{}
	for id, r := range cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::ImageBuilder::Component") {
		name := r["Properties"].(map[string]interface{})["Name"].(string)
		if len(name) > 128 || !regexp.MustCompile(`^[-_A-Za-z0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z0-9]$`).MatchString(name) {
			t.Errorf("%s: name %q (%d characters) is not an Image Builder component name", id, name, len(name))
		}
		names[name] = true
	}
	if len(names) != 3 {
		t.Errorf("component names %v, want 3 distinct", names)
	}
	for name := range names {
		if strings.HasSuffix(name, "-"+long) && !strings.HasPrefix(name, strings.ToLower(stackName[:60])) {
			t.Errorf("%q does not keep the stack name's start", name)
		}
	}
}

// In the China regions, regional service principals and kms:ViaService
// values end with amazonaws.com.cn.
func TestChinaRegionsUseTheirDomain(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("China"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("cn-north-1")},
	})
	gi.NewGoldenImagePipeline(stack, jsii.String("Img"), &gi.GoldenImagePipelineProps{
		ImageName:            jsii.String("al2023"),
		DistributionAccounts: jsii.Strings("222222222222"),
	})
	tj := cdktest.TemplateJSON(t, stack)
	data, err := json.Marshal(tj)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"logs.cn-north-1.amazonaws.com.cn"`, `"s3.cn-north-1.amazonaws.com.cn"`, `"ec2.*.amazonaws.com.cn"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the template has no %s", want)
		}
	}
	// Global service principals (ec2.amazonaws.com ...) are the same in
	// every partition; regional ones and kms:ViaService are not.
	for _, stale := range []string{`"logs.cn-north-1.amazonaws.com"`, `"s3.cn-north-1.amazonaws.com"`, `"ec2.*.amazonaws.com"`} {
		if strings.Contains(string(data), stale) {
			t.Errorf("the template still has %s", stale)
		}
	}
}

// An Ubuntu parent with its root device named builds on /dev/sda1.
func TestUbuntuParentWithItsRootDevice(t *testing.T) {
	stack := newStack(t)
	gi.NewGoldenImagePipeline(stack, jsii.String("Img"), &gi.GoldenImagePipelineProps{
		ImageName:      jsii.String("ubuntu2204"),
		ParentImage:    gi.ParentImageFromParameterName("/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id"),
		RootDeviceName: jsii.String("/dev/sda1"),
	})
	hasProps(t, assertions.Template_FromStack(stack, nil), "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{
		"ParentImage":         "ssm:/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
		"BlockDeviceMappings": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{"DeviceName": "/dev/sda1"})},
	})
}

// Debian's official AMIs use /dev/xvda: a Debian parent needs no
// RootDeviceName.
func TestDebianParentKeepsTheDefaultRootDevice(t *testing.T) {
	stack := newStack(t)
	gi.NewGoldenImagePipeline(stack, jsii.String("Img"), &gi.GoldenImagePipelineProps{
		ImageName:   jsii.String("debian12"),
		ParentImage: gi.ParentImageFromParameterName("/aws/service/debian/release/bookworm/latest/amd64"),
	})
	hasProps(t, assertions.Template_FromStack(stack, nil), "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{
		"BlockDeviceMappings": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{"DeviceName": "/dev/xvda"})},
	})
}

// The recipe and the pipeline take a description of up to 1024
// characters; an AMI's takes 255 (EC2), so the AMIs get the first 255
// characters, cut between runes, not bytes.
func TestLongDescriptionIsCutForTheAMIs(t *testing.T) {
	stack := newStack(t)
	long := strings.Repeat("é", 300)
	gi.NewGoldenImagePipeline(stack, jsii.String("Long"), &gi.GoldenImagePipelineProps{
		ImageName: jsii.String("long"), Description: jsii.String(long), ParentImage: gi.ParentImageFromAMIID("ami-0123456789abcdef0"),
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	hasProps(t, tmpl, "AWS::ImageBuilder::ImageRecipe", map[string]interface{}{"Description": long})
	hasProps(t, tmpl, "AWS::ImageBuilder::ImagePipeline", map[string]interface{}{"Description": long})
	hasProps(t, tmpl, "AWS::ImageBuilder::DistributionConfiguration", map[string]interface{}{
		"Distributions": []interface{}{map[string]interface{}{"AmiDistributionConfiguration": assertions.Match_ObjectLike(&map[string]interface{}{
			"Description": strings.Repeat("é", 255),
		})}},
	})
}
