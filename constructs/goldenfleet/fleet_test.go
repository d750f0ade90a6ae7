package goldenfleet_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/goldenfleet"
	"github.com/platform-eng/golden-ami/constructs/goldenimage"
	"github.com/platform-eng/golden-ami/constructs/latestami"
	"github.com/platform-eng/golden-ami/internal/cdktest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

const parameter = "/golden-ami/prod/al2023/latest"

var env = &awscdk.Environment{Account: jsii.String("333333333333"), Region: jsii.String("eu-west-1")}

func newStack(t *testing.T) awscdk.Stack {
	return awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Consumer"), &awscdk.StackProps{Env: env})
}

func vpc(stack awscdk.Stack) awsec2.IVpc {
	return awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-0123456789abcdef0"), AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		PrivateSubnetIds:           jsii.Strings("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
		PrivateSubnetRouteTableIds: jsii.Strings("rtb-0123456789abcdef0", "rtb-0123456789abcdef1"),
	})
}

func ref(prefix string) map[string]interface{} {
	return map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^" + prefix))}
}

func has(t *testing.T, tmpl assertions.Template, what, typ string, props map[string]interface{}) {
	t.Helper()
	cdktest.Check(t, what, func() { tmpl.HasResourceProperties(jsii.String(typ), props) })
}

func TestFleetDefaults(t *testing.T) {
	stack := newStack(t)
	fleet := goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
		LatestAMI:    latestami.LatestAMIFromParameterName(parameter),
		Vpc:          vpc(stack),
		InstanceType: awsec2.NewInstanceType(jsii.String("t3.small")),
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	t.Run("every alarm can publish to its topic", func(t *testing.T) {
		for _, p := range cdktest.AlarmTopicProblems(cdktest.TemplateJSON(t, stack)) {
			t.Error(p)
		}
	})

	has(t, tmpl, "launch template: deploy-time resolve:ssm image, IMDSv2, encrypted gp3, no public IP", "AWS::EC2::LaunchTemplate", map[string]interface{}{
		"LaunchTemplateData": map[string]interface{}{
			"ImageId":             "{{resolve:ssm:" + parameter + "}}",
			"InstanceType":        "t3.small",
			"MetadataOptions":     map[string]interface{}{"HttpTokens": "required"},
			"Monitoring":          map[string]interface{}{"Enabled": true},
			"BlockDeviceMappings": []interface{}{map[string]interface{}{"Ebs": map[string]interface{}{"Encrypted": true, "VolumeType": "gp3"}}},
			"NetworkInterfaces":   []interface{}{map[string]interface{}{"AssociatePublicIpAddress": false}},
		},
	})
	cdktest.Check(t, "group pinned to the template's numbered version, with no update policy", func() {
		tmpl.HasResource(jsii.String("AWS::AutoScaling::AutoScalingGroup"), map[string]interface{}{
			"Properties": map[string]interface{}{
				"LaunchTemplate": map[string]interface{}{
					"LaunchTemplateId": ref("FleetLaunchTemplate"),
					"Version":          map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^FleetLaunchTemplate")), "LatestVersionNumber"}},
				},
				"MinSize": "1", "MaxSize": "1",
				"NotificationConfigurations": []interface{}{map[string]interface{}{"TopicARN": ref("FleetRolloutAlarmTopic")}},
			},
			// Deployments never replace instances themselves: rollouts do.
			"UpdatePolicy": map[string]interface{}{"AutoScalingRollingUpdate": assertions.Match_Absent(), "AutoScalingReplacingUpdate": assertions.Match_Absent()},
		})
	})
	has(t, tmpl, "default rollback alarm on failed status checks", "AWS::CloudWatch::Alarm", map[string]interface{}{
		"Namespace": "AWS/EC2", "MetricName": "StatusCheckFailed",
		"Dimensions":   []interface{}{map[string]interface{}{"Name": "AutoScalingGroupName", "Value": ref("FleetGroup")}},
		"AlarmActions": []interface{}{ref("FleetRolloutAlarmTopic")},
	})
	has(t, tmpl, "rollout function: arm64 Go, the refresh preferences and the rollback alarm", "AWS::Lambda::Function", map[string]interface{}{
		"Runtime": "provided.al2023", "Architectures": []interface{}{"arm64"},
		"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectEquals(&map[string]interface{}{
			"SSM_PARAMETER_NAME":               parameter,
			"AUTO_SCALING_GROUP_NAME":          ref("FleetGroup"),
			"LAUNCH_TEMPLATE_ID":               ref("FleetLaunchTemplate"),
			"REFRESH_MIN_HEALTHY_PERCENTAGE":   "90",
			"REFRESH_MAX_HEALTHY_PERCENTAGE":   "110", // launch before terminating: a one-instance group keeps serving
			"REFRESH_CHECKPOINT_PERCENTAGES":   "50,100",
			"REFRESH_CHECKPOINT_DELAY_SECONDS": "600",
			"REFRESH_ALARM_NAMES":              ref("FleetStatusCheckAlarm"),
			"REFRESH_SKIP_MATCHING":            "true",
			"GOMAXPROCS":                       "1",
		})},
	})
	has(t, tmpl, "parameter rule scoped to the one parameter", "AWS::Events::Rule", map[string]interface{}{
		"EventPattern": assertions.Match_ObjectEquals(&map[string]interface{}{
			"source": []interface{}{"aws.ssm"}, "detail-type": []interface{}{"Parameter Store Change"},
			"detail": map[string]interface{}{"name": []interface{}{parameter}, "operation": []interface{}{"Create", "Update"}},
		}),
	})
	has(t, tmpl, "convergence every 15 minutes", "AWS::Events::Rule", map[string]interface{}{"ScheduleExpression": "rate(15 minutes)"})
	has(t, tmpl, "least privilege: only this group, this template, this parameter", "AWS::IAM::ManagedPolicy", map[string]interface{}{
		"Roles": []interface{}{ref("FleetRolloutRole")},
		"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
			map[string]interface{}{"Sid": "WriteOwnLogs"}, map[string]interface{}{"Sid": "SendDeadLetters"},
			map[string]interface{}{"Sid": "UseOwnKey"},
			map[string]interface{}{"Sid": "ReadLatestAMI", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:eu-west-1:333333333333:parameter" + parameter},
			map[string]interface{}{"Sid": "DescribeGroupAndVersions", "Resource": "*",
				"Action": []interface{}{"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeInstanceRefreshes", "ec2:DescribeLaunchTemplateVersions"}},
			map[string]interface{}{"Sid": "AddLaunchTemplateVersions", "Action": "ec2:CreateLaunchTemplateVersion",
				"Resource": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:aws:ec2:eu-west-1:333333333333:launch-template/", ref("FleetLaunchTemplate")}}}},
			map[string]interface{}{"Sid": "RefreshThisGroup", "Action": "autoscaling:StartInstanceRefresh",
				"Resource": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:aws:autoscaling:eu-west-1:333333333333:autoScalingGroup:*:autoScalingGroupName/", ref("FleetGroup")}}}},
			map[string]interface{}{"Sid": "LaunchFromThisTemplate", "Action": "ec2:RunInstances", "Resource": "*",
				"Condition": assertions.Match_ObjectEquals(&map[string]interface{}{"ArnEquals": map[string]interface{}{"ec2:LaunchTemplate": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:aws:ec2:eu-west-1:333333333333:launch-template/", ref("FleetLaunchTemplate")}}}}})},
			// Tags only as RunInstances launches (the template's tag
			// specifications), which the statement above limits to this template.
			// Only this account's and region's instances and volumes: the
			// resource types the template's tag specifications tag.
			map[string]interface{}{"Sid": "TagWhileLaunching", "Action": "ec2:CreateTags",
				"Resource":  []interface{}{"arn:aws:ec2:eu-west-1:333333333333:instance/*", "arn:aws:ec2:eu-west-1:333333333333:volume/*"},
				"Condition": assertions.Match_ObjectEquals(&map[string]interface{}{"StringEquals": map[string]interface{}{"ec2:CreateAction": "RunInstances"}})},
			map[string]interface{}{"Sid": "PassInstanceRole", "Action": "iam:PassRole",
				"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{"iam:PassedToService": "ec2.amazonaws.com"}}},
		}},
	})
	has(t, tmpl, "the function's key lets Auto Scaling's service-linked role publish to its topic", "AWS::KMS::Key", map[string]interface{}{
		"KeyPolicy": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Sid": "AllowAutoScalingNotifications",
			"Condition": map[string]interface{}{"ArnLike": map[string]interface{}{
				"aws:PrincipalArn": "arn:aws:iam::333333333333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
			}},
		})})},
	})
	if fleet.Connections() == nil || len(*fleet.Connections().SecurityGroups()) != 1 || len(fleet.RollbackAlarms) != 1 {
		t.Errorf("Connections %v, %d rollback alarms", fleet.Connections(), len(fleet.RollbackAlarms))
	}
	cdktest.Check(t, "Group and InstanceRole are the group and role the construct defines", func() {
		if fleet.Group == nil || *fleet.Group.Node().Path() != "Consumer/Fleet/Group" {
			panic(fmt.Sprintf("Group = %v, want Consumer/Fleet/Group", fleet.Group))
		}
		if fleet.InstanceRole == nil || *fleet.InstanceRole.Node().Path() != "Consumer/Fleet/InstanceRole" || fleet.Group.Role() != fleet.InstanceRole {
			panic(fmt.Sprintf("InstanceRole = %v, want Consumer/Fleet/InstanceRole, the group's role", fleet.InstanceRole))
		}
		if fleet.AutoScalingGroup != fleet.Group {
			panic("AutoScalingGroup is not Group")
		}
	})
	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		cdktest.NagClean(t, stack)
	})
}

func TestFleetOptions(t *testing.T) {
	stack := newStack(t)
	latency := awscloudwatch.NewAlarm(stack, jsii.String("Latency"), &awscloudwatch.AlarmProps{
		Metric:    awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("App"), MetricName: jsii.String("Latency")}),
		Threshold: jsii.Number(500), EvaluationPeriods: jsii.Number(3), AlarmName: jsii.String("app-latency"),
	})
	errorsAlarm := awscloudwatch.Alarm_FromAlarmName(stack, jsii.String("Errors"), jsii.String("app-5xx"))
	goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
		LatestAMI:             latestami.LatestAMIFromParameterARN("arn:aws:ssm:eu-west-1:222222222222:parameter" + parameter),
		Vpc:                   vpc(stack),
		InstanceType:          awsec2.NewInstanceType(jsii.String("m7g.large")),
		MinCapacity:           jsii.Number(2),
		MaxCapacity:           jsii.Number(6),
		RollbackAlarms:        &[]awscloudwatch.IAlarm{latency, errorsAlarm},
		MinHealthyPercentage:  jsii.Number(100),
		MaxHealthyPercentage:  jsii.Number(150),
		CheckpointPercentages: &[]*float64{jsii.Number(10), jsii.Number(50), jsii.Number(100)},
		CheckpointDelay:       awscdk.Duration_Minutes(jsii.Number(30)),
		InstanceWarmup:        awscdk.Duration_Minutes(jsii.Number(3)),
		ConvergenceInterval:   awscdk.Duration_Hours(jsii.Number(1)),
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	cdktest.Check(t, "the given alarms replace the default", func() { tmpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(3)) })
	has(t, tmpl, "preferences and alarms wired", "AWS::Lambda::Function", map[string]interface{}{
		"Environment": map[string]interface{}{"Variables": map[string]interface{}{
			"SSM_PARAMETER_NAME":               "arn:aws:ssm:eu-west-1:222222222222:parameter" + parameter,
			"REFRESH_MIN_HEALTHY_PERCENTAGE":   "100",
			"REFRESH_MAX_HEALTHY_PERCENTAGE":   "150",
			"REFRESH_CHECKPOINT_PERCENTAGES":   "10,50,100",
			"REFRESH_CHECKPOINT_DELAY_SECONDS": "1800",
			"REFRESH_INSTANCE_WARMUP_SECONDS":  "180",
			// A defined alarm is named through its Ref (which also orders the
			// deployment); an imported one by its name.
			"REFRESH_ALARM_NAMES": map[string]interface{}{"Fn::Join": []interface{}{",", []interface{}{ref("Latency"), "app-5xx"}}},
		}},
	})
	has(t, tmpl, "group size", "AWS::AutoScaling::AutoScalingGroup", map[string]interface{}{"MinSize": "2", "MaxSize": "6"})
	cdktest.Check(t, "a shared parameter resolves at deploy through an SSM-typed parameter", func() {
		tmpl.HasParameter(jsii.String("*"), map[string]interface{}{
			"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": "arn:aws:ssm:eu-west-1:222222222222:parameter" + parameter,
		})
	})
	has(t, tmpl, "shared parameter read by ARN", "AWS::IAM::ManagedPolicy", map[string]interface{}{"PolicyDocument": map[string]interface{}{
		"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Sid": "ReadLatestAMI", "Resource": "arn:aws:ssm:eu-west-1:222222222222:parameter" + parameter,
		})}),
	}})
	has(t, tmpl, "hourly convergence", "AWS::Events::Rule", map[string]interface{}{"ScheduleExpression": "rate(1 hour)"})
}

// fleetWithAlarmTopic synthesizes a default fleet whose AlarmTopic is
// topic(stack).
func fleetWithAlarmTopic(t *testing.T, topic func(awscdk.Stack) awssns.ITopic) assertions.Template {
	stack := newStack(t)
	goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
		LatestAMI:    latestami.LatestAMIFromParameterName(parameter),
		Vpc:          vpc(stack),
		InstanceType: awsec2.NewInstanceType(jsii.String("t3.small")),
		AlarmTopic:   topic(stack),
	})
	return assertions.Template_FromStack(stack, nil)
}

// An imported topic has a key the construct cannot see: no key gets a
// statement for Auto Scaling, which could not help it.
func TestFleetWithAnImportedAlarmTopicGrantsNothing(t *testing.T) {
	tmpl := fleetWithAlarmTopic(t, func(stack awscdk.Stack) awssns.ITopic {
		return awssns.Topic_FromTopicArn(stack, jsii.String("Ops"), jsii.String("arn:aws:sns:eu-west-1:333333333333:ops"))
	})
	has(t, tmpl, "group notifications go to the given topic", "AWS::AutoScaling::AutoScalingGroup", map[string]interface{}{
		"NotificationConfigurations": []interface{}{map[string]interface{}{"TopicARN": "arn:aws:sns:eu-west-1:333333333333:ops"}},
	})
	cdktest.Check(t, "no AllowAutoScalingNotifications statement", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::KMS::Key"), map[string]interface{}{
			"KeyPolicy": map[string]interface{}{"Statement": assertions.Match_Not(assertions.Match_ArrayWith(&[]interface{}{
				assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowAutoScalingNotifications"}),
			}))},
		})
	})
}

// A topic defined in the app with its own key: that key, not the
// function's, lets Auto Scaling publish.
func TestFleetWithAnAlarmTopicGrantsOnTheTopicKey(t *testing.T) {
	tmpl := fleetWithAlarmTopic(t, func(stack awscdk.Stack) awssns.ITopic {
		opsKey := awskms.NewKey(stack, jsii.String("OpsKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
		return awssns.NewTopic(stack, jsii.String("Ops"), &awssns.TopicProps{MasterKey: opsKey})
	})
	withStatement := assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowAutoScalingNotifications"})})
	cdktest.Check(t, "the topic's key has the statement, and only it", func() {
		keys := tmpl.FindResources(jsii.String("AWS::KMS::Key"), map[string]interface{}{"Properties": map[string]interface{}{"KeyPolicy": map[string]interface{}{"Statement": withStatement}}})
		var ids []string
		for id := range *keys {
			ids = append(ids, id)
		}
		if len(ids) != 1 || !strings.HasPrefix(ids[0], "OpsKey") {
			panic(fmt.Sprintf("keys with AllowAutoScalingNotifications: %v, want only OpsKey", ids))
		}
	})
}

// The root volume follows the image's operating system unless set.
func TestFleetRootVolume(t *testing.T) {
	windows := latestami.LatestAMIFromParameterName("/golden-ami/windows2022/latest")
	windows.OperatingSystem = awsec2.OperatingSystemType_WINDOWS
	for _, tc := range []struct {
		name   string
		props  goldenfleet.GoldenFleetProps
		device string
		size   float64
	}{
		{"Linux default", goldenfleet.GoldenFleetProps{LatestAMI: latestami.LatestAMIFromParameterName(parameter)}, "/dev/xvda", 30},
		{"Windows default", goldenfleet.GoldenFleetProps{LatestAMI: windows}, "/dev/sda1", 50},
		{"given", goldenfleet.GoldenFleetProps{LatestAMI: latestami.LatestAMIFromParameterName(parameter), RootDeviceName: jsii.String("/dev/sda1"), RootVolumeSizeGiB: jsii.Number(80)}, "/dev/sda1", 80},
	} {
		stack := newStack(t)
		props := tc.props
		props.Vpc, props.InstanceType = vpc(stack), awsec2.NewInstanceType(jsii.String("t3.large"))
		goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &props)
		has(t, assertions.Template_FromStack(stack, nil), tc.name, "AWS::EC2::LaunchTemplate", map[string]interface{}{
			"LaunchTemplateData": map[string]interface{}{"BlockDeviceMappings": []interface{}{map[string]interface{}{
				"DeviceName": tc.device, "Ebs": map[string]interface{}{"VolumeSize": tc.size, "Encrypted": true},
			}}},
		})
	}
}

func TestFleetOnAnExistingGroup(t *testing.T) {
	stack := newStack(t)
	group := awsautoscaling.AutoScalingGroup_FromAutoScalingGroupName(stack, jsii.String("Group"), jsii.String("web"))
	template := awsec2.LaunchTemplate_FromLaunchTemplateAttributes(stack, jsii.String("Template"), &awsec2.LaunchTemplateAttributes{LaunchTemplateId: jsii.String("lt-0123456789abcdef0")})
	role := awsiam.Role_FromRoleName(stack, jsii.String("Role"), jsii.String("web-instances"), nil)
	fleet := goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
		LatestAMI: latestami.LatestAMIFromParameterName(parameter), AutoScalingGroup: group, LaunchTemplate: template, Role: role,
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	if fleet.Group != nil || fleet.InstanceRole != role || fleet.AutoScalingGroup != group {
		t.Errorf("Group = %v, InstanceRole = %v, AutoScalingGroup = %v; want nil, the given role and the given group", fleet.Group, fleet.InstanceRole, fleet.AutoScalingGroup)
	}
	// Without SecurityGroup there is nothing to open: Connections is empty,
	// as documented, and rules added to it change nothing.
	if n := len(*fleet.Connections().SecurityGroups()); n != 0 {
		t.Errorf("Connections has %d security groups, want none", n)
	}
	for _, typ := range []string{"AWS::AutoScaling::AutoScalingGroup", "AWS::EC2::LaunchTemplate"} {
		cdktest.Check(t, "no new "+typ, func() { tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(0)) })
	}
	has(t, tmpl, "rolls the given group and template", "AWS::Lambda::Function", map[string]interface{}{
		"Environment": map[string]interface{}{"Variables": map[string]interface{}{"AUTO_SCALING_GROUP_NAME": "web", "LAUNCH_TEMPLATE_ID": "lt-0123456789abcdef0"}},
	})
	// The construct cannot see what an existing template tags: CreateTags
	// covers every type a launch template may tag, in this account and region.
	has(t, tmpl, "tags what a launch template may tag, only while launching", "AWS::IAM::ManagedPolicy", map[string]interface{}{"PolicyDocument": map[string]interface{}{
		"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Sid": "TagWhileLaunching", "Action": "ec2:CreateTags",
			"Resource": []interface{}{
				"arn:aws:ec2:eu-west-1:333333333333:instance/*", "arn:aws:ec2:eu-west-1:333333333333:network-interface/*",
				"arn:aws:ec2:eu-west-1:333333333333:spot-instances-request/*", "arn:aws:ec2:eu-west-1:333333333333:volume/*",
			},
			"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{"ec2:CreateAction": "RunInstances"}},
		})}),
	}})
	has(t, tmpl, "passes the given instance role", "AWS::IAM::ManagedPolicy", map[string]interface{}{"PolicyDocument": map[string]interface{}{
		"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Sid": "PassInstanceRole", "Resource": "arn:aws:iam::333333333333:role/web-instances",
		})}),
	}})
}

func TestInvalidFleetProps(t *testing.T) {
	stack := newStack(t)
	ami := latestami.LatestAMIFromParameterName(parameter)
	v, small := vpc(stack), awsec2.NewInstanceType(jsii.String("t3.small"))
	for _, tc := range []struct {
		test  string
		props goldenfleet.GoldenFleetProps
		want  string
	}{
		{"TestFailsWithoutLatestAMI", goldenfleet.GoldenFleetProps{Vpc: v, InstanceType: small}, "goldenfleet: LatestAMI is required"},
		{"TestFailsWithoutVpcAndInstanceType", goldenfleet.GoldenFleetProps{LatestAMI: ami},
			"goldenfleet: Vpc is required\ngoldenfleet: InstanceType is required"},
		{"TestFailsWhenGroupComesWithoutTemplate", goldenfleet.GoldenFleetProps{LatestAMI: ami,
			AutoScalingGroup: awsautoscaling.AutoScalingGroup_FromAutoScalingGroupName(stack, jsii.String("G"), jsii.String("g"))},
			"goldenfleet: AutoScalingGroup/LaunchTemplate must be given together (an existing group and the template it runs)"},
		{"TestFailsWhenMaxIsBelowMin", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, MinCapacity: jsii.Number(3), MaxCapacity: jsii.Number(2)},
			"goldenfleet: MaxCapacity 2 is not a whole number of at least 1 and at least MinCapacity"},
		{"TestFailsWhenCheckpointsDoNotEndAt100", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, CheckpointPercentages: &[]*float64{jsii.Number(50)}},
			"goldenfleet: CheckpointPercentages must end with 100, so the refresh finishes"},
		{"TestFailsWhenCheckpointsDescend", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, CheckpointPercentages: &[]*float64{jsii.Number(60), jsii.Number(40), jsii.Number(100)}},
			"goldenfleet: CheckpointPercentages[1] 40 is not above the previous checkpoint and at most 100"},
		{"TestFailsWhenACheckpointIsNil", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, CheckpointPercentages: &[]*float64{jsii.Number(50), nil, jsii.Number(100)}},
			"goldenfleet: CheckpointPercentages[1] is nil"},
		{"TestFailsWhenTheLastCheckpointIsNil", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, CheckpointPercentages: &[]*float64{jsii.Number(50), nil}},
			"goldenfleet: CheckpointPercentages[1] is nil"},
		{"TestFailsWhenRootDeviceIsNotADevice", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, RootDeviceName: jsii.String("sda1")},
			`goldenfleet: RootDeviceName "sda1" is not a device name (want e.g. "/dev/xvda" or "/dev/sda1")`},
		{"TestFailsWhenRootVolumeIsTooLarge", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, RootVolumeSizeGiB: jsii.Number(20000)},
			"goldenfleet: RootVolumeSizeGiB 20000 is out of range (want a whole number from 1 to 16384)"},
		{"TestFailsWhenMinHealthyIsOver100", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, MinHealthyPercentage: jsii.Number(110)},
			"goldenfleet: MinHealthyPercentage 110 is out of range (want a whole number from 0 to 100)"},
		{"TestFailsWhenMaxHealthyIsBelow100", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, MaxHealthyPercentage: jsii.Number(90)},
			"goldenfleet: MaxHealthyPercentage 90 is out of range (want a whole number from 100 to 200)"},
		{"TestFailsWhenMaxHealthyIsOver200", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, MinHealthyPercentage: jsii.Number(100), MaxHealthyPercentage: jsii.Number(201)},
			"goldenfleet: MaxHealthyPercentage 201 is out of range (want a whole number from 100 to 200)"},
		{"TestFailsWhenMaxHealthyIsMoreThan100AboveTheDefaultMinHealthy", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, MaxHealthyPercentage: jsii.Number(200)},
			"goldenfleet: MaxHealthyPercentage 200 is more than 100 above MinHealthyPercentage 90 (want at most 190: Auto Scaling allows a difference of at most 100)"},
		{"TestFailsWhenMaxHealthyIsMoreThan100AboveMinHealthy", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, MinHealthyPercentage: jsii.Number(0), MaxHealthyPercentage: jsii.Number(110)},
			"goldenfleet: MaxHealthyPercentage 110 is more than 100 above MinHealthyPercentage 0 (want at most 100: Auto Scaling allows a difference of at most 100)"},
		{"TestFailsWhenTheTemplateWasImportedByName", goldenfleet.GoldenFleetProps{LatestAMI: ami,
			AutoScalingGroup: awsautoscaling.AutoScalingGroup_FromAutoScalingGroupName(stack, jsii.String("ByNameGroup"), jsii.String("web")),
			LaunchTemplate:   awsec2.LaunchTemplate_FromLaunchTemplateAttributes(stack, jsii.String("ByName"), &awsec2.LaunchTemplateAttributes{LaunchTemplateName: jsii.String("web")})},
			`goldenfleet: LaunchTemplate "web" has no launch template id (want a template imported with LaunchTemplateId, ` +
				`e.g. awsec2.LaunchTemplate_FromLaunchTemplateAttributes with LaunchTemplateId "lt-0123456789abcdef0": the rollout function and its IAM policy name the template by id)`},
		{"TestFailsWhenTheParameterIsInAnotherRegion", goldenfleet.GoldenFleetProps{Vpc: v, InstanceType: small,
			LatestAMI: latestami.LatestAMIFromParameterARN("arn:aws:ssm:us-east-1:222222222222:parameter" + parameter)},
			`goldenfleet: LatestAMI "arn:aws:ssm:us-east-1:222222222222:parameter/golden-ami/prod/al2023/latest" is a parameter of us-east-1, not of eu-west-1, the fleet's region ` +
				`(want the ARN of the parameter's copy in eu-west-1: CloudFormation and the rollout function read a parameter only in its own region)`},
		{"TestFailsWhenARollbackAlarmIsNil", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, RollbackAlarms: &[]awscloudwatch.IAlarm{nil}},
			"goldenfleet: RollbackAlarms[0] is nil"},
		{"TestFailsWhenALaterRollbackAlarmIsNil", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small,
			RollbackAlarms: &[]awscloudwatch.IAlarm{awscloudwatch.Alarm_FromAlarmName(stack, jsii.String("Errors"), jsii.String("app-5xx")), nil}},
			"goldenfleet: RollbackAlarms[1] is nil"},
		{"TestFailsWithNoRollbackAlarms", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, RollbackAlarms: &[]awscloudwatch.IAlarm{}},
			"goldenfleet: RollbackAlarms has 0 alarms (want 1 to 10, or leave it unset for the default)"},
		{"TestFailsWhenCheckpointDelayIsTooLong", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, CheckpointDelay: awscdk.Duration_Hours(jsii.Number(49))},
			"goldenfleet: CheckpointDelay 2 days 1 hour is longer than 48 hours"},
		{"TestFailsWhenConvergenceIsTooFrequent", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, ConvergenceInterval: awscdk.Duration_Seconds(jsii.Number(10))},
			"goldenfleet: ConvergenceInterval 10 seconds is shorter than EventBridge's 1 minute minimum"},
		{"TestFailsWhenConvergenceIsNotWholeMinutes", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, ConvergenceInterval: awscdk.Duration_Seconds(jsii.Number(90))},
			"goldenfleet: ConvergenceInterval 1 minute 30 seconds is not a whole number of minutes (want e.g. 2 minutes: EventBridge schedules run at whole-minute rates)"},
		{"TestFailsWhenCheckpointDelayIsNotWholeSeconds", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, CheckpointDelay: awscdk.Duration_Millis(jsii.Number(1500))},
			"goldenfleet: CheckpointDelay 1 second 500 millis is not a whole number of seconds (want e.g. 10 minutes)"},
		{"TestFailsWhenInstanceWarmupIsNotWholeSeconds", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small, InstanceWarmup: awscdk.Duration_Millis(jsii.Number(2500))},
			"goldenfleet: InstanceWarmup 2 seconds 500 millis is not a whole number of seconds (want e.g. 5 minutes)"},
		{"TestReportsEveryBadDuration", goldenfleet.GoldenFleetProps{LatestAMI: ami, Vpc: v, InstanceType: small,
			CheckpointDelay: awscdk.Duration_Millis(jsii.Number(100)), ConvergenceInterval: awscdk.Duration_Seconds(jsii.Number(61))},
			"goldenfleet: CheckpointDelay 100 millis is not a whole number of seconds (want e.g. 10 minutes)\n" +
				"goldenfleet: ConvergenceInterval 1 minute 1 second is not a whole number of minutes (want e.g. 2 minutes: EventBridge schedules run at whole-minute rates)"},
	} {
		t.Run(tc.test, func(t *testing.T) {
			props := tc.props
			before := len(*stack.Node().Children())
			if got := cdktest.ExpectPanic(t, func() { goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &props) }); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if after := len(*stack.Node().Children()); after != before {
				t.Errorf("the stack gained %d children before validation failed", after-before)
			}
		})
	}
}

// TagWhileLaunching names instances and volumes only, because those are the
// only resource types the template the construct defines tags at launch,
// even when the app tags everything.
func TestFleetTemplateTagsOnlyInstancesAndVolumes(t *testing.T) {
	stack := newStack(t)
	awscdk.Tags_Of(stack).Add(jsii.String("team"), jsii.String("platform"), nil)
	goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
		LatestAMI:    latestami.LatestAMIFromParameterName(parameter),
		Vpc:          vpc(stack),
		InstanceType: awsec2.NewInstanceType(jsii.String("t3.small")),
	})
	templates := cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::EC2::LaunchTemplate")
	if len(templates) != 1 {
		t.Fatalf("%d launch templates, want 1", len(templates))
	}
	for id, lt := range templates {
		data, _ := lt["Properties"].(map[string]interface{})["LaunchTemplateData"].(map[string]interface{})
		specs, _ := data["TagSpecifications"].([]interface{})
		var types []string
		for _, spec := range specs {
			types = append(types, fmt.Sprint(spec.(map[string]interface{})["ResourceType"]))
		}
		if strings.Join(types, ",") != "instance,volume" {
			t.Errorf("%s tags %v at launch, want instance and volume (what TagWhileLaunching allows)", id, types)
		}
	}
}

// The default MaxHealthyPercentage stays within Auto Scaling's limit of 100
// above MinHealthyPercentage.
func TestFleetMaxHealthyDefaultFollowsMinHealthy(t *testing.T) {
	for _, tc := range []struct {
		minHealthy float64
		want       string
	}{{100, "110"}, {10, "110"}, {5, "105"}, {0, "100"}} {
		stack := newStack(t)
		goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
			LatestAMI: latestami.LatestAMIFromParameterName(parameter), Vpc: vpc(stack), InstanceType: awsec2.NewInstanceType(jsii.String("t3.small")),
			MinHealthyPercentage: jsii.Number(tc.minHealthy),
		})
		has(t, assertions.Template_FromStack(stack, nil), fmt.Sprintf("MinHealthyPercentage %v: MaxHealthyPercentage %s", tc.minHealthy, tc.want), "AWS::Lambda::Function",
			map[string]interface{}{"Environment": map[string]interface{}{"Variables": map[string]interface{}{
				"REFRESH_MIN_HEALTHY_PERCENTAGE": fmt.Sprint(tc.minHealthy), "REFRESH_MAX_HEALTHY_PERCENTAGE": tc.want,
			}}})
	}
}

// A group of at least 0 instances still may grow to 1: MaxCapacity is at
// least 1, as documented.
func TestFleetWithMinCapacity0HasMaxCapacity1(t *testing.T) {
	stack := newStack(t)
	goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
		LatestAMI: latestami.LatestAMIFromParameterName(parameter), Vpc: vpc(stack), InstanceType: awsec2.NewInstanceType(jsii.String("t3.small")),
		MinCapacity: jsii.Number(0),
	})
	has(t, assertions.Template_FromStack(stack, nil), "MinSize 0, MaxSize 1", "AWS::AutoScaling::AutoScalingGroup", map[string]interface{}{"MinSize": "0", "MaxSize": "1"})
}

// The parameter's region can only be compared when both are known: a
// parameter ARN in an environment-agnostic stack is accepted.
func TestFleetInAnEnvironmentAgnosticStackTakesAParameterARN(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Agnostic"), nil)
	goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
		LatestAMI: latestami.LatestAMIFromParameterARN("arn:aws:ssm:us-east-1:222222222222:parameter" + parameter),
		Vpc:       vpc(stack), InstanceType: awsec2.NewInstanceType(jsii.String("t3.small")),
	})
	has(t, assertions.Template_FromStack(stack, nil), "reads the parameter by ARN", "AWS::Lambda::Function", map[string]interface{}{
		"Environment": map[string]interface{}{"Variables": map[string]interface{}{"SSM_PARAMETER_NAME": "arn:aws:ssm:us-east-1:222222222222:parameter" + parameter}},
	})
}

// A recorder writes its parameter in its own account, in its pipeline's
// regions: a fleet elsewhere would fail at deployment resolving the
// parameter, so synthesis refuses it, naming the recorder and the regions.
func TestFleetOnARecorderOfAnotherRegionOrAccount(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	images := awscdk.NewStack(app, jsii.String("Images"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("333333333333"), Region: jsii.String("us-east-1")}})
	recorder := func(id string, regions ...string) *latestami.LatestAMIRecorder {
		p := goldenimage.NewGoldenImagePipeline(images, jsii.String(id), &goldenimage.GoldenImagePipelineProps{
			ImageName: jsii.String(strings.ToLower(id)), DistributionRegions: jsii.Strings(regions...)})
		return latestami.NewLatestAMIRecorder(images, jsii.String(id+"Latest"), &latestami.LatestAMIRecorderProps{Pipeline: p})
	}
	home, everywhere := recorder("Home", "us-east-1"), recorder("Everywhere", "us-east-1", "eu-west-1")
	fleet := func(stack, account, region string, r *latestami.LatestAMIRecorder) func() {
		s := awscdk.NewStack(app, jsii.String(stack), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}})
		return func() {
			goldenfleet.NewGoldenFleet(s, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
				LatestAMI: latestami.LatestAMIFromRecorder(r), Vpc: vpc(s), InstanceType: awsec2.NewInstanceType(jsii.String("t3.small"))})
		}
	}
	if got, want := cdktest.ExpectPanic(t, fleet("OtherRegion", "333333333333", "eu-west-1", home)),
		`goldenfleet: LatestAMI is the recorder Images/HomeLatest, which writes /golden-ami/home/latest in us-east-1 only, not in eu-west-1, the fleet's region (add eu-west-1 to the pipeline's DistributionRegions)`; got != want {
		t.Errorf("another region: got  %s\nwant %s", got, want)
	}
	if got, want := cdktest.ExpectPanic(t, fleet("OtherAccount", "444444444444", "us-east-1", home)),
		`goldenfleet: LatestAMI is the recorder Images/HomeLatest of account 333333333333, and the fleet is in account 444444444444 (the recorder writes its parameter in its own account only: share it through AWS RAM and use latestami.LatestAMIFromParameterARN)`; got != want {
		t.Errorf("another account: got  %s\nwant %s", got, want)
	}
	// In a region the recorder writes in, the fleet is defined.
	fleet("Distributed", "333333333333", "eu-west-1", everywhere)()
	fleet("SameRegion", "333333333333", "us-east-1", home)()
}
