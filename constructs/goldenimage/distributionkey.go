package goldenimage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/golden-ami/internal/validate"
)

// DistributionKeyProps configures a DistributionKey.
type DistributionKeyProps struct {
	// AliasName is the alias GoldenImagePipelineProps.DistributionKeyAlias refers to.
	//
	// Default: "alias/golden-ami/distribution".
	AliasName *string

	// DistributionAccounts get use of the key to launch the AMIs it encrypts.
	// Give the same accounts as the pipeline's DistributionAccounts.
	//
	// Default: none.
	DistributionAccounts *[]*string
}

// DistributionKey is a customer-managed key, with rotation, that encrypts
// the AMI copies a GoldenImagePipeline distributes into this stack's region.
// Define one in a stack in every distribution region other than the
// pipeline's own; the pipeline finds it by alias, so no cross-region
// reference is needed and the stacks deploy in parallel. In the pipeline's
// own region, one can serve as the pipelines' AMIKey (pass Key), so every
// pipeline of a stack shares one key with the accounts it distributes to.
type DistributionKey struct {
	constructs.Construct

	// Key is the key.
	Key awskms.Key
	// AliasName is the key's alias.
	AliasName *string
}

// NewDistributionKey defines a distribution key. It panics with an error
// naming the field and the value when props are invalid.
func NewDistributionKey(scope constructs.Construct, id *string, props *DistributionKeyProps) *DistributionKey {
	if props == nil {
		props = &DistributionKeyProps{}
	}
	alias := defaultDistributionKeyAlias
	var errs []error
	if props.AliasName != nil {
		alias = *props.AliasName
		if !isToken(alias) && (!kmsAliasPattern.MatchString(alias) || strings.HasPrefix(alias, "alias/aws/")) {
			errs = append(errs, fmt.Errorf("goldenimage: AliasName %q is not a customer-managed key alias (want e.g. %q)", alias, defaultDistributionKeyAlias))
		}
	}
	if props.DistributionAccounts != nil {
		for i, a := range *props.DistributionAccounts {
			if a == nil {
				errs = append(errs, fmt.Errorf("goldenimage: DistributionAccounts[%d] is nil", i))
				continue
			}
			if !isToken(*a) {
				if err := validate.Account(*a); err != nil {
					errs = append(errs, fmt.Errorf("goldenimage: DistributionAccounts[%d] %w", i, err))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		panic(err)
	}

	this := &DistributionKey{AliasName: jsiiString(alias)}
	constructs.NewConstruct_Override(this, scope, id)
	this.Key = awskms.NewKey(this, jsiiString("Key"), &awskms.KeyProps{
		Description:       jsiiString("Encrypts golden AMI copies distributed to this region"),
		EnableKeyRotation: jsiiBool(true),
		Alias:             this.AliasName,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		PendingWindow:     awscdk.Duration_Days(jsiiNumber(30)),
	})
	// The key encrypts only AMI copies, never log groups, so it has no
	// CloudWatch Logs statement.
	for _, s := range keyPolicyStatements(awscdk.Stack_Of(this), props.DistributionAccounts, false) {
		this.Key.AddToResourcePolicy(s, jsiiBool(true))
	}
	return this
}

// AliasARN is the ARN of the key's alias,
// "arn:<partition>:kms:<region>:<account>:<AliasName>", the form a
// pipeline's distribution refers to it by.
func (k *DistributionKey) AliasARN() *string {
	stack := awscdk.Stack_Of(k)
	return jsiiString("arn:" + *stack.Partition() + ":kms:" + *stack.Region() + ":" + *stack.Account() + ":" + *k.AliasName)
}
