// Package cdkkey decides whether a construct may adopt another construct's
// KMS key as its own (and extend the key's policy).
package cdkkey

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
)

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
