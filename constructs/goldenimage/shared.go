package goldenimage

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
)

// SharedResourcesProps configures SharedResources.
type SharedResourcesProps struct {
	// Purpose says what the resources serve, in the key's description.
	//
	// Default: "golden images".
	Purpose *string

	// LogRetention is how long build logs stay in the log bucket. Give the
	// pipelines the same LogRetention for their log groups.
	//
	// Default: 90 days.
	LogRetention awscdk.Duration
}

// SharedResources are the key and the build-log buckets several
// GoldenImagePipelines in one stack can share, instead of each defining its
// own: pass EncryptionKey and LogBucket to every pipeline. Each pipeline
// still adds its key-policy statements and writes logs only under its own
// prefix, so sharing widens nobody's access.
type SharedResources struct {
	constructs.Construct

	// EncryptionKey is a customer-managed key with yearly rotation.
	EncryptionKey awskms.Key
	// LogBucket receives build logs, encrypted with EncryptionKey.
	LogBucket awss3.Bucket
	// AccessLogBucket receives LogBucket's server access logs.
	AccessLogBucket awss3.Bucket
}

// NewSharedResources defines a key and the build-log buckets. It panics
// with an error naming the field and the value when props are invalid.
func NewSharedResources(scope constructs.Construct, id *string, props *SharedResourcesProps) *SharedResources {
	if props == nil {
		props = &SharedResourcesProps{}
	}
	retention := props.LogRetention
	if retention == nil {
		retention = awscdk.Duration_Days(jsiiNumber(defaultLogRetentionDays))
	}
	if days, ok := wholeDays(retention); !ok || !contains(logRetentions, days) {
		panic(fmt.Errorf("goldenimage: LogRetention %s is not a CloudWatch Logs retention period (want one of %v days)", *retention.ToHumanString(), logRetentions))
	}
	purpose := "golden images"
	if props.Purpose != nil {
		purpose = *props.Purpose
	}
	this := &SharedResources{}
	constructs.NewConstruct_Override(this, scope, id)
	this.EncryptionKey = newKey(this, purpose)
	this.LogBucket, this.AccessLogBucket = newLogBuckets(this, this.EncryptionKey, retention)
	return this
}

// GrantDecrypt lets grantee decrypt with the shared key, for example to read
// build logs: kms:Decrypt on EncryptionKey.
func (s *SharedResources) GrantDecrypt(grantee awsiam.IGrantable) awsiam.Grant {
	return s.EncryptionKey.GrantDecrypt(grantee)
}
