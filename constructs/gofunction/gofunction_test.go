package gofunction_test

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/constructs/gofunction"
	"github.com/platform-eng/golden-ami/internal/cdktest"
	"github.com/platform-eng/golden-ami/internal/compliance"
	"github.com/platform-eng/golden-ami/internal/contract"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

var env = &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")}

func hasProps(t *testing.T, tmpl assertions.Template, typ string, props map[string]interface{}) {
	t.Helper()
	cdktest.Check(t, typ, func() { tmpl.HasResourceProperties(jsii.String(typ), props) })
}

func count(t *testing.T, tmpl assertions.Template, typ string, n int) {
	t.Helper()
	cdktest.Check(t, "count "+typ, func() { tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n))) })
}

func ref(prefix string) map[string]interface{} {
	return map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^" + prefix))}
}

func arn(prefix string) map[string]interface{} {
	return map[string]interface{}{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^" + prefix)), "Arn"}}
}

// suppression returns the reason of the cdk-nag suppression of rule on the
// one resource of type typ.
func suppression(t *testing.T, stack awscdk.Stack, typ, rule string) string {
	t.Helper()
	resources := cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), typ)
	if len(resources) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(resources), typ)
	}
	for _, res := range resources {
		nagMeta, _ := res["Metadata"].(map[string]interface{})["cdk_nag"].(map[string]interface{})
		rules, _ := nagMeta["rules_to_suppress"].([]interface{})
		for _, r := range rules {
			if m, _ := r.(map[string]interface{}); m["id"] == rule {
				reason, _ := m["reason"].(string)
				return reason
			}
		}
	}
	t.Fatalf("no suppression of %s on the %s", rule, typ)
	return ""
}

func TestDefaults(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: env})
	fn := gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{
		ImportPath:  jsii.String(contract.FunctionImageBuilderTrigger),
		Environment: &map[string]*string{"APP_MODE": jsii.String("b")},
	})
	tmpl := assertions.Template_FromStack(stack, nil)

	hasProps(t, tmpl, "AWS::Lambda::Function", map[string]interface{}{
		"Runtime":                      "provided.al2023",
		"Architectures":                []interface{}{"arm64"},
		"Handler":                      "bootstrap",
		"MemorySize":                   128,
		"Timeout":                      60,
		"ReservedConcurrentExecutions": 1,
		"Description":                  "Go function " + contract.FunctionImageBuilderTrigger,
		"Environment":                  map[string]interface{}{"Variables": assertions.Match_ObjectEquals(&map[string]interface{}{"APP_MODE": "b", "GOMAXPROCS": "1"})},
		"TracingConfig":                map[string]interface{}{"Mode": "Active"},
		"KmsKeyArn":                    arn("FnKey"),
		"DeadLetterConfig":             map[string]interface{}{"TargetArn": arn("FnDeadLetterQueue")},
		"LoggingConfig":                map[string]interface{}{"LogFormat": "JSON", "LogGroup": ref("FnLogGroup"), "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"},
		"RecursiveLoop":                "Terminate",
	})
	hasProps(t, tmpl, "AWS::Lambda::EventInvokeConfig", map[string]interface{}{
		"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600, "Qualifier": "$LATEST",
	})
	hasProps(t, tmpl, "AWS::Logs::LogGroup", map[string]interface{}{
		"LogGroupName": assertions.Match_StringLikeRegexp(jsii.String("^/golden-ami/lambda/test-fn-")), "RetentionInDays": 90, "KmsKeyId": arn("FnKey"),
	})
	// The named group is kept when the stack is deleted, not when its first
	// deployment rolls back (a kept group would fail the retry).
	cdktest.Check(t, "log group retained except on create", func() {
		tmpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]interface{}{
			"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain",
		})
	})
	hasProps(t, tmpl, "AWS::SQS::Queue", map[string]interface{}{
		"KmsMasterKeyId": arn("FnKey"), "MessageRetentionPeriod": 1209600,
	})
	hasProps(t, tmpl, "AWS::SQS::QueuePolicy", map[string]interface{}{
		"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Effect": "Deny", "Condition": map[string]interface{}{"Bool": map[string]interface{}{"aws:SecureTransport": "false"}},
		})})},
	})
	hasProps(t, tmpl, "AWS::KMS::Key", map[string]interface{}{"EnableKeyRotation": true})
	hasProps(t, tmpl, "AWS::SNS::Topic", map[string]interface{}{"KmsMasterKeyId": arn("FnKey")})

	t.Run("role: no managed AWS policies, one customer policy with exact statements", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::IAM::Role", map[string]interface{}{
			"AssumeRolePolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{"Principal": map[string]interface{}{"Service": "lambda.amazonaws.com"}}}},
			"ManagedPolicyArns":        assertions.Match_Absent(),
			"Policies":                 assertions.Match_Absent(),
		})
		count(t, tmpl, "AWS::IAM::Policy", 0)
		hasProps(t, tmpl, "AWS::IAM::ManagedPolicy", map[string]interface{}{
			"Roles": []interface{}{ref("FnRole")},
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
				map[string]interface{}{"Sid": "WriteOwnLogs", "Action": []interface{}{"logs:CreateLogStream", "logs:PutLogEvents"}, "Resource": arn("FnLogGroup")},
				map[string]interface{}{"Sid": "SendDeadLetters", "Action": "sqs:SendMessage", "Resource": arn("FnDeadLetterQueue")},
				map[string]interface{}{"Sid": "UseOwnKey", "Action": []interface{}{"kms:Decrypt", "kms:GenerateDataKey"}, "Resource": arn("FnKey"),
					// Only through the services that use the key for the
					// function, never a direct Decrypt of what else it holds.
					"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{"kms:ViaService": []interface{}{
						"sqs.us-east-1.amazonaws.com", "sns.us-east-1.amazonaws.com", "lambda.us-east-1.amazonaws.com"}}}},
			}},
		})
		// X-Ray's actions, on *, in a policy of their own.
		hasProps(t, tmpl, "AWS::IAM::ManagedPolicy", map[string]interface{}{
			"Roles": []interface{}{ref("FnRole")},
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{
				map[string]interface{}{"Sid": "Tracing", "Action": []interface{}{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}, "Resource": "*"},
			}},
		})
		count(t, tmpl, "AWS::IAM::ManagedPolicy", 2)
	})
	t.Run("alarms on errors and dead letters notify the topic", func(t *testing.T) {
		count(t, tmpl, "AWS::CloudWatch::Alarm", 2)
		for _, p := range cdktest.AlarmTopicProblems(cdktest.TemplateJSON(t, stack)) {
			t.Error(p)
		}
		hasProps(t, tmpl, "AWS::SNS::TopicPolicy", map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			map[string]interface{}{
				"Sid": "AllowCloudWatchAlarms", "Effect": "Allow", "Action": "sns:Publish", "Resource": ref("FnAlarmTopic"),
				"Principal": map[string]interface{}{"Service": "cloudwatch.amazonaws.com"},
				"Condition": map[string]interface{}{
					"StringEquals": map[string]interface{}{"aws:SourceAccount": "111111111111"},
					"ArnLike":      map[string]interface{}{"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:*"},
				},
			},
		})}})
		hasProps(t, tmpl, "AWS::CloudWatch::Alarm", map[string]interface{}{
			"MetricName": "Errors", "Namespace": "AWS/Lambda", "Threshold": 1, "Statistic": "Sum",
			"ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
			"AlarmActions": []interface{}{ref("FnAlarmTopic")},
		})
		hasProps(t, tmpl, "AWS::CloudWatch::Alarm", map[string]interface{}{
			"MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS", "Threshold": 1,
			"AlarmActions": []interface{}{ref("FnAlarmTopic")},
		})
	})
	t.Run("key policy lets logs, EventBridge, SNS and CloudWatch use the key for this account only", func(t *testing.T) {
		hasProps(t, tmpl, "AWS::KMS::Key", map[string]interface{}{"KeyPolicy": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowFunctionLogGroups", "Principal": map[string]interface{}{"Service": "logs.us-east-1.amazonaws.com"},
				"Condition": map[string]interface{}{"ArnLike": map[string]interface{}{"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111111111111:log-group:/golden-ami/lambda/*"}}}),
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowEventBridgeDeadLetters", "Principal": map[string]interface{}{"Service": "events.amazonaws.com"},
				"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": "111111111111"}}}),
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowSNSDeadLetters", "Principal": map[string]interface{}{"Service": "sns.amazonaws.com"},
				"Condition": assertions.Match_ObjectEquals(&map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": "111111111111"}})}),
			assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "AllowCloudWatchAlarms", "Principal": map[string]interface{}{"Service": "cloudwatch.amazonaws.com"},
				"Action":    []interface{}{"kms:Decrypt", "kms:GenerateDataKey*"},
				"Condition": assertions.Match_ObjectEquals(&map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": "111111111111"}})}),
		})}})
	})
	t.Run("the asset is the arm64 bootstrap built from the import path", func(t *testing.T) {
		dir := *app.Synth(nil).Directory()
		data, err := os.ReadFile(filepath.Join(dir, "Test.assets.json"))
		if err != nil {
			t.Fatal(err)
		}
		var manifest struct {
			Files map[string]struct {
				Source struct{ Path, Packaging string } `json:"source"`
			} `json:"files"`
		}
		if err := json.Unmarshal(data, &manifest); err != nil {
			t.Fatal(err)
		}
		zips := 0
		for _, f := range manifest.Files {
			if f.Source.Packaging != "zip" {
				continue
			}
			zips++
			entries, _ := os.ReadDir(filepath.Join(dir, f.Source.Path))
			if len(entries) != 1 || entries[0].Name() != "bootstrap" {
				t.Errorf("asset %s holds %v, want only bootstrap", f.Source.Path, entries)
				continue
			}
			bin, err := elf.Open(filepath.Join(dir, f.Source.Path, "bootstrap"))
			if err != nil {
				t.Fatal(err)
			}
			if bin.Machine != elf.EM_AARCH64 {
				t.Errorf("bootstrap is built for %v, want AArch64", bin.Machine)
			}
			bin.Close()
		}
		if zips != 1 {
			t.Errorf("%d zip assets, want the function's one", zips)
		}
	})
	t.Run("suppression reasons are true for every function", func(t *testing.T) {
		if got, want := suppression(t, stack, "AWS::Lambda::Function", "NIST.800.53.R5-LambdaInsideVPC"),
			"The function calls only AWS service APIs, over TLS with SigV4, and reaches no VPC resources; a VPC would add NAT or VPC endpoint infrastructure without narrowing what it can reach."; got != want {
			t.Errorf("LambdaInsideVPC reason\n got %s\nwant %s", got, want)
		}
		// Resource::* is suppressed on the tracing policy alone, whose only
		// statement is X-Ray's: a statement on * in Policy stays a finding
		// (TestWildcardAddedToThePolicyIsAFinding).
		suppressed := map[string]string{}
		for id, res := range cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::IAM::ManagedPolicy") {
			meta, _ := res["Metadata"].(map[string]interface{})
			nagMeta, _ := meta["cdk_nag"].(map[string]interface{})
			rules, _ := nagMeta["rules_to_suppress"].([]interface{})
			for _, r := range rules {
				if m, _ := r.(map[string]interface{}); m["id"] == "AwsSolutions-IAM5" {
					suppressed[id], _ = m["reason"].(string)
				}
			}
		}
		if len(suppressed) != 1 {
			t.Fatalf("IAM5 suppressed on %v, want the tracing policy alone", suppressed)
		}
		for id, reason := range suppressed {
			if want := "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions; this policy holds only them."; !strings.HasPrefix(id, "FnTracingPolicy") || reason != want {
				t.Errorf("IAM5 suppressed on %s with %q, want FnTracingPolicy with %q", id, reason, want)
			}
		}
	})
	t.Run("exported fields", func(t *testing.T) {
		if fn.Function == nil || fn.Role == nil || fn.Policy == nil || fn.LogGroup == nil || fn.DeadLetterQueue == nil ||
			fn.EncryptionKey == nil || fn.AlarmTopic == nil || fn.ErrorsAlarm == nil || fn.DeadLetterAlarm == nil {
			t.Error("an exported field is nil")
		}
	})
	t.Run("cdk-nag finds nothing", func(t *testing.T) {
		cdktest.NagClean(t, stack)
	})
}

func TestSharedKeyQueueAndTopicAndOptions(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: env})
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	queue := awssqs.NewQueue(stack, jsii.String("Dlq"), &awssqs.QueueProps{EncryptionMasterKey: key, EnforceSSL: jsii.Bool(true)})
	topic := awssns.NewTopic(stack, jsii.String("Alarms"), &awssns.TopicProps{MasterKey: key, EnforceSSL: jsii.Bool(true)})
	fn := gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{
		ImportPath:                   jsii.String(contract.FunctionLatestAMI),
		Description:                  jsii.String("custom"),
		MemorySizeMiB:                jsii.Number(256),
		Timeout:                      awscdk.Duration_Seconds(jsii.Number(30)),
		ReservedConcurrentExecutions: jsii.Number(3),
		RetryAttempts:                jsii.Number(0),
		MaxEventAge:                  awscdk.Duration_Minutes(jsii.Number(30)),
		LogRetention:                 awslogs.RetentionDays_ONE_YEAR,
		EncryptionKey:                key,
		DeadLetterQueue:              queue,
		AlarmTopic:                   topic,
		ExternalEgress:               jsii.String("the Slack incoming-webhook URL held in its secret, over HTTPS"),
	})
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("Extra"), Actions: jsii.Strings("ssm:GetParameter"), Resources: jsii.Strings("arn:aws:ssm:us-east-1:111111111111:parameter/x")}))
	rule := awsevents.NewRule(stack, jsii.String("Rule"), &awsevents.RuleProps{Schedule: awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(1)))})
	rule.AddTarget(fn.RuleTarget(nil))
	fn.Subscribe(topic)
	tmpl := assertions.Template_FromStack(stack, nil)

	count(t, tmpl, "AWS::KMS::Key", 1)
	count(t, tmpl, "AWS::SQS::Queue", 1)
	count(t, tmpl, "AWS::SNS::Topic", 1)
	count(t, tmpl, "AWS::CloudWatch::Alarm", 1) // the errors alarm; the queue's owner alarms on it
	for _, p := range cdktest.AlarmTopicProblems(cdktest.TemplateJSON(t, stack)) {
		t.Errorf("a topic passed in and defined in this app: %s", p)
	}
	if fn.DeadLetterAlarm != nil {
		t.Error("DeadLetterAlarm is set for a queue passed in")
	}
	hasProps(t, tmpl, "AWS::Lambda::Function", map[string]interface{}{
		"Description": "custom", "MemorySize": 256, "Timeout": 30, "ReservedConcurrentExecutions": 3,
		"DeadLetterConfig": map[string]interface{}{"TargetArn": arn("Dlq")}, "KmsKeyArn": arn("Key"),
	})
	hasProps(t, tmpl, "AWS::Lambda::EventInvokeConfig", map[string]interface{}{"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 1800})
	hasProps(t, tmpl, "AWS::Logs::LogGroup", map[string]interface{}{"RetentionInDays": 365})
	hasProps(t, tmpl, "AWS::IAM::ManagedPolicy", map[string]interface{}{"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
		assertions.Match_ObjectLike(&map[string]interface{}{"Sid": "Extra", "Action": "ssm:GetParameter"}),
	})}})
	hasProps(t, tmpl, "AWS::Events::Rule", map[string]interface{}{"Targets": []interface{}{map[string]interface{}{
		"Arn": arn("FnFunction"), "DeadLetterConfig": map[string]interface{}{"Arn": arn("Dlq")},
		"RetryPolicy": map[string]interface{}{"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 1800},
	}}})
	hasProps(t, tmpl, "AWS::SNS::Subscription", map[string]interface{}{
		"Protocol": "lambda", "Endpoint": arn("FnFunction"), "RedrivePolicy": map[string]interface{}{"deadLetterTargetArn": arn("Dlq")},
	})
	count(t, tmpl, "AWS::IAM::Policy", 0)
	if got, want := suppression(t, stack, "AWS::Lambda::Function", "NIST.800.53.R5-LambdaInsideVPC"),
		"The function reaches no VPC resources; it calls AWS service APIs over TLS with SigV4 and, outside AWS, the Slack incoming-webhook URL held in its secret, over HTTPS. "+
			"A VPC would add a NAT gateway for that traffic, and NAT or VPC endpoints for the AWS APIs, without narrowing what the function can reach."; got != want {
		t.Errorf("LambdaInsideVPC reason with ExternalEgress\n got %s\nwant %s", got, want)
	}
}

// GOMAXPROCS is 1 up to the memory that buys one vCPU, unless the caller
// sets it; above that the Go runtime's default stands.
func TestGoMaxProcs(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: env})
	for _, c := range []struct {
		id     string
		memory float64
		env    *map[string]*string
	}{
		{"Small", 0, nil},
		{"OneVCPU", 1769, nil},
		{"MoreThanOneVCPU", 1770, nil},
		{"MoreThanOneVCPUWithEnv", 2048, &map[string]*string{"APP_MODE": jsii.String("b")}},
		{"CallerSets", 128, &map[string]*string{"GOMAXPROCS": jsii.String("2")}},
	} {
		props := &gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), Environment: c.env}
		if c.memory != 0 {
			props.MemorySizeMiB = jsii.Number(c.memory)
		}
		gofunction.NewGoFunction(stack, jsii.String(c.id), props)
	}
	want := map[string]interface{}{
		"Small":                  map[string]interface{}{"Variables": map[string]interface{}{"GOMAXPROCS": "1"}},
		"OneVCPU":                map[string]interface{}{"Variables": map[string]interface{}{"GOMAXPROCS": "1"}},
		"MoreThanOneVCPU":        nil,
		"MoreThanOneVCPUWithEnv": map[string]interface{}{"Variables": map[string]interface{}{"APP_MODE": "b"}},
		"CallerSets":             map[string]interface{}{"Variables": map[string]interface{}{"GOMAXPROCS": "2"}},
	}
	functions := cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::Lambda::Function")
	if len(functions) != len(want) {
		t.Fatalf("%d functions, want %d", len(functions), len(want))
	}
	for logicalID, res := range functions {
		id, _, _ := strings.Cut(logicalID, "Function")
		got := res["Properties"].(map[string]interface{})["Environment"]
		if !reflect.DeepEqual(got, want[id]) {
			t.Errorf("%s: Environment = %v, want %v", id, got, want[id])
		}
	}
}

func TestInvalidPropsFailBeforeBuilding(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{Env: env})
	fortyVariables := map[string]*string{}
	for i := range 40 {
		fortyVariables[fmt.Sprintf("VAR_%02d", i)] = jsii.String(strings.Repeat("v", 90))
	}
	for _, tc := range []struct {
		test  string
		props gofunction.GoFunctionProps
		want  string
	}{
		{"TestFailsWhenImportPathIsMissing", gofunction.GoFunctionProps{}, "gofunction: ImportPath is required"},
		{"TestFailsWhenImportPathIsRelative", gofunction.GoFunctionProps{ImportPath: jsii.String("./lambdas/x")},
			`gofunction: ImportPath "./lambdas/x" is not a Go import path (want e.g. "github.com/org/repo/lambdas/fn")`},
		{"TestFailsWhenPackageDoesNotExist", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.ModulePath + "/lambdas/nosuch")},
			`gofunction: ImportPath "github.com/platform-eng/golden-ami/lambdas/nosuch" does not build: gobuild: go build`},
		{"TestFailsWhenEnvironmentNameIsInvalid", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), Environment: &map[string]*string{"A": jsii.String("x")}},
			`gofunction: Environment variable "A" is not a valid name (want a letter, then letters, digits or _; at least 2 characters)`},
		{"TestFailsWhenDescriptionIsTooLong", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), Description: jsii.String(strings.Repeat("é", 257))},
			`gofunction: Description is 257 characters long (want at most 256, Lambda's limit): "` + strings.Repeat("é", 60) + `..."`},
		{"TestFailsWhenEnvironmentIsOver4KB", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI),
			Environment: &map[string]*string{"BIG": jsii.String(strings.Repeat("x", 4000)), "MORE": jsii.String(strings.Repeat("y", 90)), "LATER": awscdk.Aws_ACCOUNT_ID()}},
			`gofunction: Environment is 4138 bytes as Lambda measures it, the JSON of every variable, GOMAXPROCS included (want at most 4096, Lambda's 4 KB limit; values resolved at deployment count as empty)`},
		// 3,851 bytes of names and values, but Lambda measures the JSON.
		{"TestFailsWhenEnvironmentJSONIsOver4KB", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), Environment: &fortyVariables},
			`gofunction: Environment is 4098 bytes as Lambda measures it, the JSON of every variable, GOMAXPROCS included (want at most 4096, Lambda's 4 KB limit; values resolved at deployment count as empty)`},
		{"TestFailsWhenEnvironmentNameIsReserved", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), Environment: &map[string]*string{"AWS_REGION": jsii.String("x")}},
			`gofunction: Environment variable "AWS_REGION" is reserved by Lambda`},
		{"TestFailsWhenMemoryIsTooSmall", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), MemorySizeMiB: jsii.Number(64)},
			"gofunction: MemorySizeMiB 64 is out of range (want a whole number from 128 to 10240)"},
		{"TestFailsWhenConcurrencyIsZero", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), ReservedConcurrentExecutions: jsii.Number(0)},
			"gofunction: ReservedConcurrentExecutions 0 is out of range (want a whole number of at least 1; 0 would stop the function)"},
		{"TestFailsWhenRetriesExceedTwo", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), RetryAttempts: jsii.Number(3)},
			"gofunction: RetryAttempts 3 is out of range (want 0, 1 or 2)"},
		{"TestFailsWhenEventAgeIsTooLong", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), MaxEventAge: awscdk.Duration_Hours(jsii.Number(7))},
			"gofunction: MaxEventAge 7 hours is out of range (want 1 minute to 6 hours)"},
		{"TestFailsWhenExternalEgressIsEmpty", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), ExternalEgress: jsii.String(" ")},
			`gofunction: ExternalEgress is empty (want a description such as "the Slack incoming-webhook URL held in its secret, over HTTPS", or leave it unset)`},
		{"TestFailsWhenTimeoutIsTooLong", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), Timeout: awscdk.Duration_Minutes(jsii.Number(16))},
			"gofunction: Timeout 16 minutes is out of range (want 1 second to 15 minutes)"},
		// Lambda and EventBridge take whole seconds; CDK's conversion would
		// otherwise fail with a raw jsii error.
		{"TestFailsWhenTimeoutIsNotWholeSeconds", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), Timeout: awscdk.Duration_Millis(jsii.Number(1500))},
			"gofunction: Timeout 1 second 500 millis is not a whole number of seconds (want 1 second to 15 minutes)"},
		{"TestFailsWhenEventAgeIsNotWholeSeconds", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI), MaxEventAge: awscdk.Duration_Millis(jsii.Number(90500))},
			"gofunction: MaxEventAge 1 minute 30 seconds 500 millis is not a whole number of seconds (want 1 minute to 6 hours)"},
		{"TestReportsEveryBadDuration", gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionLatestAMI),
			Timeout: awscdk.Duration_Millis(jsii.Number(100)), MaxEventAge: awscdk.Duration_Seconds(jsii.Number(30))},
			"gofunction: MaxEventAge 30 seconds is out of range (want 1 minute to 6 hours)\n" +
				"gofunction: Timeout 100 millis is not a whole number of seconds (want 1 second to 15 minutes)"},
	} {
		t.Run(tc.test, func(t *testing.T) {
			props := tc.props
			got := cdktest.ExpectPanic(t, func() { gofunction.NewGoFunction(stack, jsii.String("Fn"), &props) })
			// go build's output follows the message of a package that does not build.
			prefix := tc.test == "TestFailsWhenPackageDoesNotExist"
			if prefix && !strings.HasPrefix(got, tc.want) {
				t.Errorf("got  %s\nwant %s...", got, tc.want)
			}
			if !prefix && got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if n := len(*stack.Node().Children()); n != 0 {
				t.Errorf("the stack has %d children after a failed validation", n)
			}
		})
	}
}

// Durations in other units are fine when they are whole seconds.
func TestDurationsInWholeSecondsOfAnyUnit(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{Env: env})
	gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{
		ImportPath:  jsii.String(contract.FunctionLatestAMI),
		Timeout:     awscdk.Duration_Minutes(jsii.Number(1.5)),
		MaxEventAge: awscdk.Duration_Millis(jsii.Number(120000)),
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	cdktest.Check(t, "timeout in seconds", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{"Timeout": 90})
	})
	cdktest.Check(t, "event age in seconds", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]interface{}{"MaximumEventAgeInSeconds": 120})
	})
}

// Grants to a GoFunction land in its managed policy: no inline policy, no
// NIST IAMNoInlinePolicy finding. Resource grants (queue, topic, key) and
// a grant through awsiam.Grant_AddToPrincipal all work.
func TestGrantsGoToTheManagedPolicy(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: env})
	fn := gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{
		ImportPath: jsii.String(contract.FunctionImageBuilderTrigger),
	})
	queue := awssqs.Queue_FromQueueArn(stack, jsii.String("Other"), jsii.String("arn:aws:sqs:us-east-1:111111111111:other"))
	grant := queue.GrantConsumeMessages(fn)
	awssns.Topic_FromTopicArn(stack, jsii.String("Topic"), jsii.String("arn:aws:sns:us-east-1:111111111111:topic")).GrantPublish(fn)
	awskms.Key_FromKeyArn(stack, jsii.String("Key"), jsii.String("arn:aws:kms:us-east-1:111111111111:key/k")).GrantDecrypt(fn)
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: fn, Actions: jsii.Strings("imagebuilder:StartImagePipelineExecution"),
		ResourceArns: jsii.Strings("arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/x"),
	})
	// Grants to the Function (whose grant principal is Role) land there too.
	awssqs.Queue_FromQueueArn(stack, jsii.String("Outbox"), jsii.String("arn:aws:sqs:us-east-1:111111111111:outbox")).GrantSendMessages(fn.Function)
	fn.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("imagebuilder:GetImage"), Resources: jsii.Strings("arn:aws:imagebuilder:us-east-1:111111111111:image/x/1.0.0/1"),
	}))
	if !*grant.Success() {
		t.Error("queue.GrantConsumeMessages(fn) did not succeed")
	}
	if fn.GrantPrincipal().PrincipalAccount() == nil || *fn.GrantPrincipal().PrincipalAccount() != "111111111111" {
		t.Errorf("PrincipalAccount = %v, want the role's account 111111111111", fn.GrantPrincipal().PrincipalAccount())
	}

	tmpl := assertions.Template_FromStack(stack, nil)
	count(t, tmpl, "AWS::IAM::Policy", 0)
	count(t, tmpl, "AWS::IAM::ManagedPolicy", 2) // Policy and the tracing policy
	statement := func(actions interface{}, resource interface{}) interface{} {
		return assertions.Match_ObjectLike(&map[string]interface{}{"Effect": "Allow", "Action": actions, "Resource": resource})
	}
	hasProps(t, tmpl, "AWS::IAM::ManagedPolicy", map[string]interface{}{
		"Roles": []interface{}{ref("FnRole")},
		"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
			statement(assertions.Match_ArrayWith(&[]interface{}{"sqs:DeleteMessage", "sqs:ReceiveMessage"}), "arn:aws:sqs:us-east-1:111111111111:other"),
			statement("sns:Publish", "arn:aws:sns:us-east-1:111111111111:topic"),
			statement("kms:Decrypt", "arn:aws:kms:us-east-1:111111111111:key/k"),
			statement("imagebuilder:StartImagePipelineExecution", "arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/x"),
			statement(assertions.Match_ArrayWith(&[]interface{}{"sqs:SendMessage"}), "arn:aws:sqs:us-east-1:111111111111:outbox"),
			statement("imagebuilder:GetImage", "arn:aws:imagebuilder:us-east-1:111111111111:image/x/1.0.0/1"),
		})},
	})
	compliance.Apply(stack, false)
	for _, f := range cdktest.NagFindings(t, stack) {
		t.Errorf("finding: %s", f)
	}
}

// A key in another region's stack grants to the function as it would to
// any role: the grant principal is a construct (the role), so aws-cdk-lib
// sees the regions differ and synthesizes both stacks.
func TestCrossRegionKeyGrant(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	keys := awscdk.NewStack(app, jsii.String("Keys"), &awscdk.StackProps{Env: &awscdk.Environment{Account: env.Account, Region: jsii.String("eu-west-1")}})
	key := awskms.NewKey(keys, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: env})
	fn := gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{
		ImportPath: jsii.String(contract.FunctionImageBuilderTrigger),
	})
	key.GrantDecrypt(fn)

	policies := cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::IAM::ManagedPolicy")
	data, _ := json.Marshal(policies)
	if !strings.Contains(string(data), `"kms:Decrypt"`) || strings.Count(string(data), "kms:Decrypt") < 2 {
		t.Errorf("the function's policy has no kms:Decrypt statement for the other region's key:\n%s", data)
	}
	count(t, assertions.Template_FromStack(stack, nil), "AWS::IAM::Policy", 0)
	// The key stack's policy names the function's role.
	keyPolicy, _ := json.Marshal(cdktest.ResourcesOfType(cdktest.TemplateJSON(t, keys), "AWS::KMS::Key"))
	if !strings.Contains(string(keyPolicy), "kms:Decrypt") {
		t.Errorf("the key policy has no kms:Decrypt statement for the function's role:\n%s", keyPolicy)
	}
}

// A policy estimated longer than IAM accepts fails synthesis, naming the
// policy: with long literal ARNs, and with references, which are counted as
// 150-character ARNs (their intrinsics are far shorter in the template).
func TestPolicyLongerThanIAMAllowsFailsSynth(t *testing.T) {
	for _, tc := range []struct {
		name string
		arn  func(stack awscdk.Stack, i int) *string
	}{
		{"120 literal ARNs", func(_ awscdk.Stack, i int) *string {
			return jsii.String(fmt.Sprintf("arn:aws:sqs:us-east-1:111111111111:queue-with-a-long-name-%03d", i))
		}},
		{"40 imported values", func(_ awscdk.Stack, i int) *string {
			return awscdk.Fn_ImportValue(jsii.String(fmt.Sprintf("Queue%dArn", i)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := cdktest.NewApp(t, nil)
			stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: env})
			fn := gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{
				ImportPath: jsii.String(contract.FunctionImageBuilderTrigger),
			})
			n := 120
			if strings.HasPrefix(tc.name, "40") {
				n = 40
			}
			var arns []*string
			for i := 0; i < n; i++ {
				arns = append(arns, tc.arn(stack, i))
			}
			awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{Grantee: fn, Actions: jsii.Strings("sqs:SendMessage"), ResourceArns: &arns})
			msg := cdktest.ExpectPanic(t, func() { assertions.Template_FromStack(stack, nil) })
			if !regexp.MustCompile(`gofunction: Test/Fn/Policy is estimated at \d{4} characters \(each reference counted as 150\), over IAM's limit of 6144 for a managed policy: grant less to the function, or attach a managed policy of your own to its Role with the rest`).MatchString(msg) {
				t.Errorf("synth failed with\n%s\nwant the policy-length error", msg)
			}
		})
	}
}

// With @aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy on,
// aws-cdk-lib attaches an inline policy from Function.AddToRolePolicy: the
// role refuses it and says where the statement belongs.
func TestInlinePolicyIsRefused(t *testing.T) {
	app := cdktest.NewApp(t, map[string]interface{}{"@aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy": true})
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{Env: env})
	fn := gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{
		ImportPath: jsii.String(contract.FunctionImageBuilderTrigger),
	})
	msg := cdktest.ExpectPanic(t, func() {
		fn.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("sqs:SendMessage"), Resources: jsii.Strings("arn:aws:sqs:us-east-1:111111111111:q"),
		}))
	})
	if !strings.Contains(msg, "gofunction: Test/Fn/Role would get the inline policy Test/Fn/Function/") ||
		!strings.Contains(msg, "grant to the GoFunction or use GoFunction.AddToRolePolicy, which add to its managed policy") {
		t.Errorf("got %q, want the inline-policy refusal", msg)
	}
}

// A statement on * that a grant or another construct adds to the function's
// policy is a cdk-nag finding unless its owner suppresses it: the only
// blanket suppression is on the tracing policy.
func TestWildcardAddedToThePolicyIsAFinding(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{Env: env})
	fn := gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionImageBuilderTrigger)})
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("TooBroad"), Actions: jsii.Strings("secretsmanager:GetSecretValue"), Resources: jsii.Strings("*"),
	}))
	compliance.Apply(stack, false)
	var iam5 []string
	for _, f := range cdktest.NagFindings(t, stack) {
		if strings.Contains(f, "AwsSolutions-IAM5") || strings.Contains(f, "NIST") {
			iam5 = append(iam5, f)
		}
	}
	if len(iam5) == 0 || !strings.Contains(strings.Join(iam5, "\n"), "Resource::*") || !strings.Contains(strings.Join(iam5, "\n"), "Test/Fn/Policy") {
		t.Errorf("findings %q; want AwsSolutions-IAM5 Resource::* on Test/Fn/Policy", iam5)
	}
}

// Lambda refuses to create a function with active tracing before its role
// may write to X-Ray, and may refuse one whose permissions are not attached
// yet: the function waits for both of its policies.
func TestFunctionWaitsForItsPolicies(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Test"), &awscdk.StackProps{Env: env})
	gofunction.NewGoFunction(stack, jsii.String("Fn"), &gofunction.GoFunctionProps{ImportPath: jsii.String(contract.FunctionImageBuilderTrigger)})
	fns := cdktest.ResourcesOfType(cdktest.TemplateJSON(t, stack), "AWS::Lambda::Function")
	if len(fns) != 1 {
		t.Fatalf("%d functions, want 1", len(fns))
	}
	for id, fn := range fns {
		deps := fmt.Sprint(fn["DependsOn"])
		for _, want := range []string{"FnPolicy", "FnTracingPolicy"} {
			if !regexp.MustCompile(`\b` + want + `[0-9A-F]{8}\b`).MatchString(deps) {
				t.Errorf("%s depends on %s, want %s too", id, deps, want)
			}
		}
	}
}
