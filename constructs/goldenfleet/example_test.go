package goldenfleet_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/goldenfleet"
	"github.com/platform-eng/golden-ami/constructs/latestami"
)

// A service team runs two to four instances of the latest golden AMI,
// reachable on 443 from inside the VPC, and rolls onto every new AMI with
// an instance refresh.
func ExampleNewGoldenFleet() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Service"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId:                      jsii.String("vpc-0123456789abcdef0"),
		VpcCidrBlock:               jsii.String("10.0.0.0/16"),
		AvailabilityZones:          jsii.Strings("us-east-1a", "us-east-1b"),
		PrivateSubnetIds:           jsii.Strings("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
		PrivateSubnetRouteTableIds: jsii.Strings("rtb-0123456789abcdef0", "rtb-0123456789abcdef1"),
	})
	fleet := goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
		LatestAMI:    latestami.LatestAMIFromParameterName("/golden-ami/al2023/latest"),
		Vpc:          vpc,
		InstanceType: awsec2.NewInstanceType(jsii.String("t3.small")),
		MinCapacity:  jsii.Number(2),
		MaxCapacity:  jsii.Number(4),
	})
	fleet.Connections().AllowFrom(awsec2.Peer_Ipv4(vpc.VpcCidrBlock()), awsec2.Port_Tcp(jsii.Number(443)), nil)

	tmpl := assertions.Template_FromStack(stack, nil)
	props := func(typ string) map[string]interface{} { // of the one resource of type typ
		found := *tmpl.FindResources(jsii.String(typ), nil)
		if len(found) != 1 {
			panic(fmt.Sprintf("%d resources of type %s (want 1)", len(found), typ))
		}
		for _, r := range found {
			return (*r)["Properties"].(map[string]interface{})
		}
		return nil
	}
	fmt.Println("image:", props("AWS::EC2::LaunchTemplate")["LaunchTemplateData"].(map[string]interface{})["ImageId"])
	group := props("AWS::AutoScaling::AutoScalingGroup")
	fmt.Println("capacity:", group["MinSize"], "to", group["MaxSize"])
	env := props("AWS::Lambda::Function")["Environment"].(map[string]interface{})["Variables"].(map[string]interface{})
	for _, name := range []string{"SSM_PARAMETER_NAME", "REFRESH_MIN_HEALTHY_PERCENTAGE", "REFRESH_CHECKPOINT_PERCENTAGES"} {
		fmt.Println(name, "=", env[name])
	}
	for _, rule := range props("AWS::EC2::SecurityGroup")["SecurityGroupIngress"].([]interface{}) {
		rule := rule.(map[string]interface{})
		fmt.Printf("inbound: %v %v/%v\n", rule["CidrIp"], rule["IpProtocol"], rule["FromPort"])
	}
	// Output:
	// image: {{resolve:ssm:/golden-ami/al2023/latest}}
	// capacity: 2 to 4
	// SSM_PARAMETER_NAME = /golden-ami/al2023/latest
	// REFRESH_MIN_HEALTHY_PERCENTAGE = 90
	// REFRESH_CHECKPOINT_PERCENTAGES = 50,100
	// inbound: 10.0.0.0/16 tcp/443
}

// The fleet serves an internal Application Load Balancer: Group is the
// concrete awsautoscaling.AutoScalingGroup the construct defines, so it
// attaches to a target group like any CDK group, and the load balancer may
// reach the fleet's security group on the target port. Rollouts then
// replace instances behind the target group.
func ExampleGoldenFleet_targetGroup() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Service"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")},
	})
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId:                      jsii.String("vpc-0123456789abcdef0"),
		AvailabilityZones:          jsii.Strings("us-east-1a", "us-east-1b"),
		PrivateSubnetIds:           jsii.Strings("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
		PrivateSubnetRouteTableIds: jsii.Strings("rtb-0123456789abcdef0", "rtb-0123456789abcdef1"),
	})
	fleet := goldenfleet.NewGoldenFleet(stack, jsii.String("Fleet"), &goldenfleet.GoldenFleetProps{
		LatestAMI:    latestami.LatestAMIFromParameterName("/golden-ami/al2023/latest"),
		Vpc:          vpc,
		InstanceType: awsec2.NewInstanceType(jsii.String("t3.small")),
		MinCapacity:  jsii.Number(2),
	})
	alb := awselasticloadbalancingv2.NewApplicationLoadBalancer(stack, jsii.String("Alb"), &awselasticloadbalancingv2.ApplicationLoadBalancerProps{
		Vpc: vpc, InternetFacing: jsii.Bool(false),
	})
	targets := awselasticloadbalancingv2.NewApplicationTargetGroup(stack, jsii.String("Web"), &awselasticloadbalancingv2.ApplicationTargetGroupProps{
		Vpc: vpc, Port: jsii.Number(8080), Protocol: awselasticloadbalancingv2.ApplicationProtocol_HTTP,
	})
	alb.AddListener(jsii.String("Http"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port: jsii.Number(80), Open: jsii.Bool(false), DefaultTargetGroups: &[]awselasticloadbalancingv2.IApplicationTargetGroup{targets},
	})
	fleet.Group.AttachToApplicationTargetGroup(targets)

	tmpl := assertions.Template_FromStack(stack, nil)
	for _, g := range *tmpl.FindResources(jsii.String("AWS::AutoScaling::AutoScalingGroup"), nil) {
		fmt.Println("group target groups:", len((*g)["Properties"].(map[string]interface{})["TargetGroupARNs"].([]interface{})))
	}
	for _, r := range *tmpl.FindResources(jsii.String("AWS::EC2::SecurityGroupIngress"), nil) {
		p := (*r)["Properties"].(map[string]interface{})
		from := p["SourceSecurityGroupId"].(map[string]interface{})["Fn::GetAtt"].([]interface{})[0]
		fmt.Printf("fleet inbound from %.3s...: %v/%v\n", from, p["IpProtocol"], p["FromPort"])
	}
	// Output:
	// group target groups: 1
	// fleet inbound from Alb...: tcp/8080
}
