package stacks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/internal/cdkkey"
	"github.com/platform-eng/golden-ami/internal/nag"
)

// hardenPipeline fixes what it can of the resources CDK Pipelines generates
// and attaches a narrow, reasoned cdk-nag suppression to each finding that
// remains. It runs after BuildPipeline, when those resources exist.
//
// Fixed here:
//   - the permissions-check approval function gets reserved concurrency and
//     a log group encrypted with the pipeline key;
//   - the cross-region artifact buckets are versioned.
//
// Narrowed here (narrowPipelineGrants): three grants CDK Pipelines makes on
// Resource "*": the asset role's CodeBuild builds, the pipeline role's KMS
// keys and the permissions check's sts:AssumeRole.
//
// The remaining findings are the shape of CDK Pipelines' own grants: one
// role and inline policy per action, scoped by CDK to the pipeline's
// buckets, key, CodeBuild projects and bootstrap roles.
func hardenPipeline(stack *PipelineStack) {
	s := stack.Stack
	partition, region, account := *s.Partition(), *s.Region(), *s.Account()
	stack.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        str("AllowPipelineFunctionLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(str(cdkkey.RegionalService(s, "logs")), nil)},
		Actions:    strs("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"),
		Resources:  strs("*"),
		Conditions: &map[string]interface{}{"ArnLike": map[string]interface{}{
			"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:%s:logs:%s:%s:log-group:/aws/lambda/*", partition, region, account),
		}},
	}), boolean(true))

	grants := []string{
		"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
		"Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*",
		`/^Resource::<(Artifacts|BuildCache)[A-F0-9]{8}\.Arn>\/\*$/`,
		`/^Resource::arn:` + partition + `:s3:::goldenami-pipeline-suppo[a-z0-9]+\/\*$/`,
		`/^Resource::arn:` + partition + `:logs:` + region + `:` + account + `:log-group:\/aws\/codebuild\/<[A-Za-z0-9]+>:\*$/`,
		`/^Resource::arn:` + partition + `:codebuild:` + region + `:` + account + `:report-group\/<[A-Za-z0-9]+>-\*$/`,
	}
	const grantsReason = "CDK Pipelines generates this policy for the pipeline or one of its actions; its wildcards are CDK's grant shapes (s3:GetObject*, kms:GenerateDataKey*, ...) on the pipeline's own artifact and cache buckets, key, and the action's own CodeBuild log group and report groups."
	const inlineReason = "CDK Pipelines generates this role's grants inline, as the role's default policy, attached to this one role; it has no option to put them in a customer-managed policy instead."

	replicationKeys := narrowPipelineGrants(stack)
	var replicationKeysApply []string
	for _, k := range replicationKeys {
		replicationKeysApply = append(replicationKeysApply, "Resource::"+k)
	}

	// Wildcards that need their own explanation, by the policy's path. A
	// slice, not a map: the suppressions must come out in the same order on
	// every synth.
	type policyRule struct {
		suffix string
		rule   nag.Rule
	}
	extra := []policyRule{
		{"/Pipeline/UpdatePipeline/SelfMutation/Role/DefaultPolicy/Resource", nag.Rule{ID: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::*", "Resource::arn:*:iam::" + account + ":role/*"},
			Reason: "Self-mutation assumes only roles tagged aws-cdk:bootstrap-role (deploy, file-publishing, image-publishing), a condition CDK adds; cloudformation:DescribeStacks and s3:ListBucket on * let it read the stacks and buckets it updates."}},
		{"/Pipeline/Assets/FileRole/DefaultPolicy/Resource", nag.Rule{ID: "AwsSolutions-IAM5", AppliesTo: []string{
			"Resource::arn:" + partition + ":logs:" + region + ":" + account + ":log-group:/aws/codebuild/*",
			"Resource::arn:" + partition + ":codebuild:" + region + ":" + account + ":report-group/*"},
			Reason: "CDK Pipelines shares this asset-publishing role among the CodeBuild projects it generates, one per asset, and grants it CodeBuild's default log groups (/aws/codebuild/*) and report groups of this account and region, whose project names it generates; it starts no builds (narrowPipelineGrants drops that grant)."}},
		{"/Pipeline/PipelinesSecurityCheck/CDKSecurityCheck/Role/DefaultPolicy/Resource", nag.Rule{ID: "AwsSolutions-IAM5", AppliesTo: []string{`/^Resource::<PipelinePipelinesSecurityCheckCDKPipelinesAutoApprove[A-F0-9]{8}\.Arn>:\*$/`},
			Reason: "The permissions-broadening check invokes CDK's approval function and its versions (<function ARN>:*), whose numbers Lambda assigns; the deploy roles it assumes to diff each stage are named exactly."}},
		{"/Pipeline/PipelinesSecurityCheck/CDKPipelinesAutoApprove/ServiceRole/DefaultPolicy/Resource", nag.Rule{ID: "AwsSolutions-IAM5", AppliesTo: []string{"Resource::" + pipelineARN(s) + "/*"},
			Reason: "CDK's approval function approves this pipeline's approval actions (<pipeline ARN>/<stage>/<action>), whose stage names CDK Pipelines generates; CDK's SECURITY_CHECK=ALLOW_APPROVE tag condition stays on the statement."}},
	}

	if len(replicationKeysApply) > 0 {
		extra = append(extra, policyRule{"/Pipeline/Pipeline/Role/DefaultPolicy/Resource", nag.Rule{ID: "AwsSolutions-IAM5", AppliesTo: replicationKeysApply,
			Reason: "The pipeline role writes artifacts to the cross-region support stacks' replication buckets, encrypted with their keys, whose ARNs CDK cannot reference across regions; " +
				"the grant names the keys of those regions in this account, limited by kms:ResourceAliases to the alias CDK gives each replication key."}})
	}

	for _, c := range *stack.Pipeline.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		res, ok := c.(awscdk.CfnResource)
		if !ok {
			continue
		}
		path := *res.Node().Path()
		switch *res.CfnResourceType() {
		case "AWS::IAM::Policy":
			rules := []nag.Rule{
				{ID: "NIST.800.53.R5-IAMNoInlinePolicy", Reason: inlineReason},
				{ID: "AwsSolutions-IAM5", Reason: grantsReason, AppliesTo: grants},
			}
			for _, e := range extra {
				if strings.HasSuffix(path, e.suffix) {
					rules = append(rules, e.rule)
				}
			}
			nag.Suppress(res, rules...)
		case "AWS::IAM::Role":
			if strings.Contains(path, "/CDKPipelinesAutoApprove/") {
				nag.Suppress(res, nag.Rule{ID: "AwsSolutions-IAM4", AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
					Reason: "CDK's approval function uses AWSLambdaBasicExecutionRole only to write its own logs."})
			}
		case "AWS::Lambda::Function":
			if fn, ok := res.(awslambda.CfnFunction); ok && strings.Contains(path, "/CDKPipelinesAutoApprove/") {
				// One approval per stage of a wave runs at once.
				fn.SetReservedConcurrentExecutions(num(5))
				nag.Suppress(res,
					nag.Rule{ID: "NIST.800.53.R5-LambdaDLQ", Reason: "The permissions check invokes this function synchronously; a failed invocation fails that check's build, so there is no asynchronous event to lose."},
					nag.Rule{ID: "NIST.800.53.R5-LambdaInsideVPC", Reason: "CDK's approval function calls only the CodePipeline API; a VPC would add NAT or endpoints without reducing what it can reach."},
				)
			}
		case "AWS::Logs::LogGroup":
			if lg, ok := res.(awslogs.CfnLogGroup); ok && strings.Contains(path, "/CDKPipelinesAutoApprove/") {
				lg.SetKmsKeyId(stack.Key.KeyArn())
			}
		}
	}

	// CDK Pipelines adds a support stack per extra region for cross-region
	// artifacts; its bucket holds transient copies of this pipeline's artifacts.
	for _, child := range *awscdk.Stage_Of(s).Node().Children() {
		support, ok := child.(awscdk.Stack)
		if !ok || !strings.HasPrefix(*support.Node().Id(), "cross-region-stack-") {
			continue
		}
		for _, c := range *support.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			res, ok := c.(awss3.CfnBucket)
			if !ok {
				continue
			}
			res.SetVersioningConfiguration(&awss3.CfnBucket_VersioningConfigurationProperty{Status: str("Enabled")})
			const why = "CDK Pipelines' replication bucket holds transient copies of artifacts that stay, versioned and access-logged, in the pipeline's primary artifact bucket"
			const notLogged = why + ". Access to the copies in this bucket itself is not logged; the primary bucket's access logs record each artifact when the pipeline writes it, " +
				"and the pipeline's execution history records each action that reads a copy."
			nag.Suppress(res,
				nag.Rule{ID: "AwsSolutions-S1", Reason: notLogged},
				nag.Rule{ID: "NIST.800.53.R5-S3BucketLoggingEnabled", Reason: notLogged},
				nag.Rule{ID: "NIST.800.53.R5-S3BucketReplicationEnabled", Reason: why + "; it is itself the cross-region copy."},
			)
		}
	}
}

// suppressPipelineBuckets explains the pipeline's own buckets' remaining findings.
func suppressPipelineBuckets(accessLogs, artifacts, cache constructs.IConstruct) {
	nag.Suppress(accessLogs,
		nag.Rule{ID: "NIST.800.53.R5-S3DefaultEncryptionKMS", Reason: "S3 server access logging only delivers to buckets encrypted with SSE-S3, not SSE-KMS."},
		nag.Rule{ID: "NIST.800.53.R5-S3BucketReplicationEnabled", Reason: "Access logs of the pipeline's artifact and cache buckets; a cross-region replica would outlive the artifacts they describe."},
	)
	for _, b := range []constructs.IConstruct{artifacts, cache} {
		nag.Suppress(b, nag.Rule{ID: "NIST.800.53.R5-S3BucketReplicationEnabled",
			Reason: "Pipeline artifacts and build caches are rebuilt from the source repository by the next run; a cross-region replica adds cost without recovery value."})
	}
}

// narrowPipelineGrants replaces three statements CDK Pipelines generates on
// Resource "*" with what each role needs:
//
//   - the asset-publishing roles' codebuild:BatchGetBuilds, StartBuild and
//     StopBuild: AssetSingletonRole adds them for the legacy CdkPipeline,
//     whose publishing actions ran as that role. Here the role is only the
//     asset projects' service role, and the shared CodeBuild action role
//     starts each project, on that project's ARN alone. The statement is
//     dropped: code the asset builds run (npm's cdk-assets) cannot start
//     other builds, such as the permissions check, whose role assumes the
//     environments' deploy roles.
//   - the pipeline role's KMS use of "*": the cross-region support stacks'
//     artifact keys, whose ARNs CDK cannot reference across regions. They
//     become the keys of those regions in this account, limited by
//     kms:ResourceAliases to the aliases CDK gives them; the statement on the
//     pipeline's own key stays.
//   - the permissions check's sts:AssumeRole: the deploy role of every stack
//     the pipeline deploys, as each stack's synthesizer names it (qualifier,
//     account and region), keeping CDK's aws-cdk:bootstrap-role=deploy tag
//     condition.
//
// The policies are rewritten when they are rendered, so grants CDK adds
// later stay. If CDK changes one of these statements, it no longer matches,
// keeps its "*", and cdk-nag reports it: the suppressions no longer cover it.
//
// It returns the replication keys' resource patterns, "arn:...:key/*" per region.
func narrowPipelineGrants(stack *PipelineStack) (replicationKeys []string) {
	s := stack.Stack
	var keys, aliases []interface{}
	for _, support := range supportStacks(s) {
		for _, c := range *support.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			if alias, ok := c.(awskms.Alias); ok {
				key := fmt.Sprintf("arn:%s:kms:%s:%s:key/*", *s.Partition(), *support.Region(), *support.Account())
				replicationKeys = append(replicationKeys, key)
				keys = append(keys, key)
				aliases = append(aliases, alias.AliasName())
			}
		}
	}
	kmsActions := []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}
	var keysStatement map[string]interface{}
	if len(keys) > 0 {
		keysStatement = map[string]interface{}{
			"Sid": "CrossRegionArtifactKeys", "Effect": "Allow", "Action": kmsActions, "Resource": keys,
			"Condition": map[string]interface{}{"ForAnyValue:StringEquals": map[string]interface{}{"kms:ResourceAliases": aliases}},
		}
	}
	deployRoles := stageDeployRoles(stack)

	for _, c := range *stack.Pipeline.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		policy, ok := c.(awsiam.CfnPolicy)
		if !ok {
			continue
		}
		switch path := *policy.Node().Path(); {
		case strings.HasSuffix(path, "/Pipeline/Pipeline/Role/DefaultPolicy/Resource"):
			narrowWildcards(s, policy, wildcardGrant{actions: kmsActions, also: keysStatement})
		case strings.Contains(path, "/Pipeline/Assets/") && strings.HasSuffix(path, "Role/DefaultPolicy/Resource"):
			narrowWildcards(s, policy, wildcardGrant{actions: []string{"codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"}})
		case strings.HasSuffix(path, "/PipelinesSecurityCheck/CDKSecurityCheck/Role/DefaultPolicy/Resource"):
			narrowWildcards(s, policy, wildcardGrant{actions: []string{"sts:AssumeRole"}, resources: deployRoles})
		case strings.HasSuffix(path, "/PipelinesSecurityCheck/CDKPipelinesAutoApprove/ServiceRole/DefaultPolicy/Resource"):
			// CDK grants it on every pipeline of the account carrying the
			// tag; it only ever approves this one.
			narrowWildcards(s, policy, wildcardGrant{actions: []string{"codepipeline:GetPipelineState", "codepipeline:PutApprovalResult"},
				resources: []interface{}{pipelineARN(s), pipelineARN(s) + "/*"}})
		}
	}
	return replicationKeys
}

// supportStacks returns the cross-region support stacks CDK Pipelines adds
// next to the pipeline stack, one per extra region.
func supportStacks(s awscdk.Stack) []awscdk.Stack {
	var out []awscdk.Stack
	for _, child := range *awscdk.Stage_Of(s).Node().Children() {
		if support, ok := child.(awscdk.Stack); ok && strings.HasPrefix(*support.Node().Id(), "cross-region-stack-") {
			out = append(out, support)
		}
	}
	return out
}

// stageDeployRoles returns the deploy role ARN of every top-level stack the
// pipeline deploys, sorted: the role CDK Pipelines' CloudFormation actions
// run as, read from the stack's synthesizer like CDK Pipelines reads it.
func stageDeployRoles(stack *PipelineStack) []interface{} {
	seen := map[string]bool{}
	var arns []string
	for _, stage := range stack.AllStages() {
		for _, c := range *stage.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			st, ok := c.(awscdk.Stack)
			if !ok || st.NestedStackParent() != nil {
				continue
			}
			syn, ok := st.Synthesizer().(awscdk.DefaultStackSynthesizer)
			if !ok {
				panic(fmt.Errorf("stacks: %s does not use the DefaultStackSynthesizer, so its deploy role is unknown to the permissions check's policy", *st.Node().Path()))
			}
			arn := strings.ReplaceAll(*syn.DeployRoleArn(), "${AWS::Partition}", *awscdk.Aws_PARTITION())
			if !seen[arn] {
				seen[arn] = true
				arns = append(arns, arn)
			}
		}
	}
	sort.Strings(arns)
	out := make([]interface{}, len(arns))
	for i := range arns {
		out[i] = arns[i]
	}
	return out
}

// wildcardGrant is a statement CDK Pipelines generates on Resource "*",
// identified by its exact actions, and what replaces the "*".
type wildcardGrant struct {
	actions []string
	// resources replace "*"; without them, "*" is dropped, and with it the
	// statement when "*" was its only resource.
	resources []interface{}
	// also is a statement added when the grant matched, or nil.
	also map[string]interface{}
}

// narrowWildcards makes policy render its document with grants applied.
func narrowWildcards(s awscdk.Stack, policy awsiam.CfnPolicy, grants ...wildcardGrant) {
	policy.SetPolicyDocument(awscdk.Lazy_UncachedAny(&narrowedDocument{stack: s, document: policy.PolicyDocument(), grants: grants}, nil))
}

// narrowedDocument produces a policy document with its grants applied.
type narrowedDocument struct {
	stack    awscdk.Stack
	document interface{}
	grants   []wildcardGrant
}

func (n *narrowedDocument) Produce(awscdk.IResolveContext) interface{} {
	doc, ok := n.stack.Resolve(n.document).(map[string]interface{})
	if !ok {
		return n.document
	}
	statements, _ := doc["Statement"].([]interface{})
	var kept []interface{}
	matched := make([]bool, len(n.grants))
	for _, st := range statements {
		sm, ok := st.(map[string]interface{})
		if !ok || sm["Effect"] != "Allow" {
			kept = append(kept, st)
			continue
		}
		resources := asList(sm["Resource"])
		for i, g := range n.grants {
			if !sameStrings(asList(sm["Action"]), g.actions) || !contains(resources, "*") {
				continue
			}
			matched[i] = true
			var narrowed []interface{}
			for _, r := range resources {
				if r != "*" {
					narrowed = append(narrowed, r)
				}
			}
			resources = append(narrowed, g.resources...)
		}
		if len(resources) == 0 {
			continue
		}
		out := make(map[string]interface{}, len(sm))
		for k, v := range sm {
			out[k] = v
		}
		out["Resource"] = resources
		kept = append(kept, out)
	}
	for i, g := range n.grants {
		if matched[i] && g.also != nil {
			kept = append(kept, g.also)
		}
	}
	out := make(map[string]interface{}, len(doc))
	for k, v := range doc {
		out[k] = v
	}
	out["Statement"] = kept
	return out
}

func asList(v interface{}) []interface{} {
	switch x := v.(type) {
	case nil:
		return nil
	case []interface{}:
		return x
	}
	return []interface{}{v}
}

func contains(values []interface{}, want string) bool {
	for _, v := range values {
		if v == want {
			return true
		}
	}
	return false
}

// sameStrings reports whether values holds exactly want, in any order.
func sameStrings(values []interface{}, want []string) bool {
	if len(values) != len(want) {
		return false
	}
	got := make([]string, len(values))
	for i, v := range values {
		str, ok := v.(string)
		if !ok {
			return false
		}
		got[i] = str
	}
	sort.Strings(got)
	w := append([]string(nil), want...)
	sort.Strings(w)
	for i := range got {
		if got[i] != w[i] {
			return false
		}
	}
	return true
}

// pipelineARN is the delivery pipeline's ARN in s.
func pipelineARN(s awscdk.Stack) string {
	return fmt.Sprintf("arn:%s:codepipeline:%s:%s:%s", *s.Partition(), *s.Region(), *s.Account(), PipelineName)
}
