package gofunction

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// GrantPrincipal makes GoFunction an awsiam.IGrantable: grants to the
// function, such as bucket.GrantRead(fn), key.GrantDecrypt(fn) or
// pipeline.GrantStartExecution(fn), add their statements to Policy, the
// function's customer-managed policy, like AddToRolePolicy. The principal
// is Role, whose principal policy is Policy: grants to Function (whose
// grant principal is Role) land there too, never in an inline policy,
// which NIST 800-53 rev 5 flags (the role refuses one; see
// policyRole.AttachInlinePolicy). Cross-account and cross-region grants
// work as they do for any role.
//
// IAM limits a managed policy to 6,144 characters (without whitespace).
// Unlike a role's default policy, Policy is not split when grants make it
// larger: synthesis fails instead when its estimated length (each
// reference counted as a 150-character ARN, as aws-cdk-lib estimates) is
// over the limit. The construct's own statements are estimated at about
// 900 characters.
func (f *GoFunction) GrantPrincipal() awsiam.IPrincipal {
	return f.Role
}

// policyRole is an IAM role whose principal policy is a customer-managed
// policy: statements that aws-cdk-lib adds to the role (grants,
// Function.AddToRolePolicy) go to that policy, not to an inline default
// policy.
type policyRole struct {
	awsiam.Role
	policy awsiam.ManagedPolicy
}

func newPolicyRole(scope constructs.Construct, id *string, props *awsiam.RoleProps) *policyRole {
	r := &policyRole{}
	awsiam.NewRole_Override(r, scope, id, props)
	return r
}

// AddToPrincipalPolicy overrides Role's: the statement goes to the managed
// policy.
func (r *policyRole) AddToPrincipalPolicy(statement awsiam.PolicyStatement) *awsiam.AddToPrincipalPolicyResult {
	if r.policy == nil {
		panic("gofunction: a statement was added to the role before its managed policy existed")
	}
	r.policy.AddStatements(statement)
	added := true
	return &awsiam.AddToPrincipalPolicyResult{StatementAdded: &added, PolicyDependable: r.policy}
}

// AttachInlinePolicy overrides Role's: an inline policy on the function's
// role is refused with a message that says where the statements belong.
// aws-cdk-lib attaches one when Function.AddToRolePolicy runs with the
// feature flag @aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy on,
// or mixes statements whose resources are list tokens with literal ones.
func (r *policyRole) AttachInlinePolicy(policy awsiam.Policy) {
	panic(fmt.Sprintf("gofunction: %s would get the inline policy %s (aws-cdk-lib attaches one from Function.AddToRolePolicy when @aws-cdk/aws-lambda:createNewPoliciesWithAddToRolePolicy is on): grant to the GoFunction or use GoFunction.AddToRolePolicy, which add to its managed policy", *r.Node().Path(), *policy.Node().Path()))
}

var _ awsiam.IGrantable = (*GoFunction)(nil)

// maxManagedPolicyLength is IAM's limit on a managed policy document, in
// characters without whitespace.
const maxManagedPolicyLength = 6144

// defaultARNSizeEstimate is what aws-cdk-lib counts for a reference (an ARN
// only known at deployment) when it estimates a policy's size, unless the
// context sets arnSizeEstimateContext.
const (
	defaultARNSizeEstimate = 150
	arnSizeEstimateContext = "@aws-cdk/aws-iam.arnSizeEstimate"
)

// policySize fails synthesis when the function's managed policy is
// estimated to be longer than IAM accepts. The estimate is the length of
// the resolved document's JSON without whitespace, with each reference
// (Ref, Fn::GetAtt, Fn::Join, ...) counted as an ARN of
// defaultARNSizeEstimate characters, as aws-cdk-lib counts references
// when it sizes policies.
type policySize struct {
	policy awsiam.ManagedPolicy
}

func (v *policySize) Validate() *[]*string {
	estimate := float64(defaultARNSizeEstimate)
	if n, ok := v.policy.Node().TryGetContext(jsii.String(arnSizeEstimateContext)).(float64); ok && n > 0 {
		estimate = n
	}
	doc := awscdk.Stack_Of(v.policy).Resolve(v.policy.Document())
	if n := jsonLength(doc, int(estimate)); n > maxManagedPolicyLength {
		msg := fmt.Sprintf("gofunction: %s is estimated at %d characters (each reference counted as %d), over IAM's limit of %d for a managed policy: grant less to the function, or attach a managed policy of your own to its Role with the rest", *v.policy.Node().Path(), n, int(estimate), maxManagedPolicyLength)
		return &[]*string{&msg}
	}
	return &[]*string{}
}

// jsonLength is the length of v as compact JSON, except that each
// CloudFormation intrinsic (an object whose one key is "Ref" or starts with
// "Fn::") counts as reference characters plus its quotes.
func jsonLength(v interface{}, reference int) int {
	switch x := v.(type) {
	case map[string]interface{}:
		if len(x) == 1 {
			for k := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return reference + 2
				}
			}
		}
		n := 2 + max(len(x)-1, 0) // braces and commas
		for k, e := range x {
			n += len(k) + 3 + jsonLength(e, reference) // "key":
		}
		return n
	case []interface{}:
		n := 2 + max(len(x)-1, 0)
		for _, e := range x {
			n += jsonLength(e, reference)
		}
		return n
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(x) != nil {
			return 0
		}
		return len(bytes.TrimSpace(buf.Bytes()))
	}
}
