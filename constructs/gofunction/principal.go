package gofunction

import (
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
// IAM limits a managed policy to 6,144 characters (without whitespace);
// unlike a role's default policy, Policy is not split when grants make it
// larger, so the deployment fails with LimitExceeded. Our functions' own
// statements take about a sixth of that.
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
