// Package cdkkey decides whether a construct may adopt another construct's
// KMS key as its own (and extend the key's policy), and names the regional
// service endpoints key policies and conditions refer to.
package cdkkey

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/regioninfo"
	"github.com/aws/constructs-go/constructs/v10"
)

// DomainSuffix is the stack's AWS domain: amazonaws.com, or
// amazonaws.com.cn in the China regions. Regional service principals
// (logs.<region>.<suffix>) and kms:ViaService values (sqs.<region>.<suffix>)
// end with it. It is literal when the stack's region is, and AWS::URLSuffix
// otherwise.
func DomainSuffix(stack awscdk.Stack) string {
	region := *stack.Region()
	if !*awscdk.Token_IsUnresolved(region) {
		if s := regioninfo.RegionInfo_Get(&region).DomainSuffix(); s != nil {
			return *s
		}
	}
	return *stack.UrlSuffix()
}

// RegionalService is service's endpoint in stack's region, e.g.
// "logs.cn-north-1.amazonaws.com.cn": a regional service principal, or a
// kms:ViaService value.
func RegionalService(stack awscdk.Stack, service string) string {
	return service + "." + *stack.Region() + "." + DomainSuffix(stack)
}

// Adoptable returns key when constructs defined in scope may use it as
// their own key: a key defined (not imported) in scope's stack, whose
// policy CDK can extend without a cross-stack or cross-environment
// reference. Otherwise it returns nil (make a key of your own).
func Adoptable(scope constructs.IConstruct, key awskms.IKey) awskms.IKey {
	own, ok := key.(awskms.Key)
	if !ok || own == nil {
		return nil
	}
	if *awscdk.Stack_Of(own).Node().Path() != *awscdk.Stack_Of(scope).Node().Path() {
		return nil
	}
	return own
}
