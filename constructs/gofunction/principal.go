package gofunction

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
)

// GrantPrincipal makes GoFunction an awsiam.IGrantable: grants to the
// function, such as bucket.GrantRead(fn), key.GrantDecrypt(fn) or
// pipeline.GrantStartExecution(fn), add their statements to Policy, the
// function's customer-managed policy, like AddToRolePolicy. (Grants to
// Function go to an inline default policy of Role instead, which NIST
// 800-53 rev 5 flags.) The principal is Role: policies that name the
// function, and the account grants compare, are the role's.
func (f *GoFunction) GrantPrincipal() awsiam.IPrincipal {
	return f.principal
}

// policyPrincipal is Role, except that statements added to its policy go to
// the function's managed policy.
type policyPrincipal struct {
	role   awsiam.IRole
	policy awsiam.ManagedPolicy
}

func (p *policyPrincipal) AddToPrincipalPolicy(statement awsiam.PolicyStatement) *awsiam.AddToPrincipalPolicyResult {
	p.policy.AddStatements(statement)
	added := true
	return &awsiam.AddToPrincipalPolicyResult{StatementAdded: &added, PolicyDependable: p.policy}
}

func (p *policyPrincipal) GrantPrincipal() awsiam.IPrincipal { return p }
func (p *policyPrincipal) AssumeRoleAction() *string         { return p.role.AssumeRoleAction() }
func (p *policyPrincipal) PolicyFragment() awsiam.PrincipalPolicyFragment {
	return p.role.PolicyFragment()
}
func (p *policyPrincipal) PrincipalAccount() *string { return p.role.PrincipalAccount() }

var _ awsiam.IGrantable = (*GoFunction)(nil)
