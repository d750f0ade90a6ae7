// Package nag attaches cdk-nag suppressions to CloudFormation resources by
// writing the "cdk_nag" metadata that cdk-nag reads. Library constructs use
// it to document the findings their design makes inevitable, without making
// every consumer import cdk-nag.
//
// Every suppression names one rule, targets one resource, narrows itself
// with AppliesTo where cdk-nag reports granular findings, and gives the
// reason the finding does not apply.
package nag

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
)

// Rule is one suppression.
type Rule struct {
	// ID is the cdk-nag rule id, e.g. "AwsSolutions-IAM4".
	ID string
	// Reason says why the finding does not apply; cdk-nag requires at least 10 characters.
	Reason string
	// AppliesTo narrows a granular rule to these findings, e.g.
	// "Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore".
	// A string that starts and ends with "/" is matched as a regular expression.
	AppliesTo []string
}

// Suppress adds rules to the CloudFormation resource behind c: c itself when
// it is a CfnResource, otherwise its default child. It panics when there is
// no such resource, because a suppression that lands nowhere hides nothing
// and documents something false.
func Suppress(c constructs.IConstruct, rules ...Rule) {
	res := resourceOf(c)
	existing, _ := res.GetMetadata(jsiiString("cdk_nag")).(map[string]interface{})
	var list []interface{}
	if existing != nil {
		list, _ = existing["rules_to_suppress"].([]interface{})
	}
	for _, r := range rules {
		if len(r.Reason) < 10 {
			panic(fmt.Sprintf("nag: suppression of %s on %s needs a reason of at least 10 characters", r.ID, *c.Node().Path()))
		}
		entry := map[string]interface{}{"id": r.ID, "reason": r.Reason}
		if len(r.AppliesTo) > 0 {
			var applies []interface{}
			for _, a := range r.AppliesTo {
				if len(a) > 1 && a[0] == '/' && a[len(a)-1] == '/' {
					applies = append(applies, map[string]interface{}{"regex": a + "g"})
				} else {
					applies = append(applies, a)
				}
			}
			entry["applies_to"] = applies
		}
		list = append(list, entry)
	}
	res.AddMetadata(jsiiString("cdk_nag"), map[string]interface{}{"rules_to_suppress": list})
}

func resourceOf(c constructs.IConstruct) awscdk.CfnResource {
	if r, ok := c.(awscdk.CfnResource); ok {
		return r
	}
	if child := c.Node().DefaultChild(); child != nil {
		if r, ok := child.(awscdk.CfnResource); ok {
			return r
		}
	}
	panic(fmt.Sprintf("nag: %s has no CloudFormation resource to suppress findings on", *c.Node().Path()))
}

func jsiiString(s string) *string { return &s }

// ImageVersions is the AppliesTo pattern of a grant on every image of one
// Image Builder recipe, "arn:...:image/<recipe>/*", and ImageVersionsReason
// explains it: image versions and builds are created by every build, so
// they cannot be listed in advance.
func ImageVersions(recipeName string) string {
	return `/^Resource::arn:[^:]+:imagebuilder:[^:]+:[^:]+:image\/` + regexp.QuoteMeta(recipeName) + `\/\*$/`
}

// ImageVersionsReason is the reason for an ImageVersions suppression.
const ImageVersionsReason = "Every build creates a new image version and build number under the recipe, so the grant covers image/<recipe>/*: this pipeline's images and no other recipe's."
