package gofunction

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
)

// GrantPrincipal makes GoFunction an awsiam.IGrantable: grants to the
// function, such as bucket.GrantRead(fn), key.GrantDecrypt(fn) or
// pipeline.GrantStartExecution(fn), add their statements to Policy, the
// function's customer-managed policy, like AddToRolePolicy. The principal
// is Role, whose principal policy is Policy: grants to Function (whose
// grant principal is Role) land there too, never in an inline policy,
// which NIST 800-53 rev 5 flags. Cross-account and cross-region grants
// work as they do for any role.
//
// IAM limits a managed policy to 6,144 characters (without whitespace).
// Unlike a role's default policy, Policy is not split when grants make it
// larger: synthesis fails instead, naming the policy and its length. The
// construct's own statements take about 600 characters.
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

var _ awsiam.IGrantable = (*GoFunction)(nil)

// maxManagedPolicyLength is IAM's limit on a managed policy document, in
// characters without whitespace.
const maxManagedPolicyLength = 6144

// policySize fails synthesis when the function's managed policy is longer
// than IAM accepts, as aws-cdk-lib measures a policy when it splits a
// role's default policy: the JSON of the resolved document (references as
// CloudFormation intrinsics).
type policySize struct {
	policy awsiam.ManagedPolicy
}

func (v *policySize) Validate() *[]*string {
	doc, err := json.Marshal(awscdk.Stack_Of(v.policy).Resolve(v.policy.Document()))
	if err != nil {
		msg := fmt.Sprintf("gofunction: %s: the policy document does not encode as JSON: %v", *v.policy.Node().Path(), err)
		return &[]*string{&msg}
	}
	if n := len(doc); n > maxManagedPolicyLength {
		msg := fmt.Sprintf("gofunction: %s is about %d characters long, over IAM's limit of %d for a managed policy: grant less to the function, or attach a managed policy of your own to its Role with the rest", *v.policy.Node().Path(), n, maxManagedPolicyLength)
		return &[]*string{&msg}
	}
	return &[]*string{}
}
