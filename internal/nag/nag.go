// Package nag attaches cdk-nag suppressions to CloudFormation resources by
// writing the "cdk_nag" metadata that cdk-nag reads. Library constructs use
// it to document the findings their design makes inevitable, without making
// every consumer import cdk-nag.
//
// Every suppression names one rule, targets one resource, narrows itself
// with AppliesTo where cdk-nag reports granular findings, and gives the
// reason the finding does not apply.
//
// Other teams' apps may have environment-agnostic stacks or no feature
// flags. In a finding, cdk-nag then shows an ARN's partition, region or
// account as the pseudo parameter ("<AWS::Partition>", "<AWS::Region>",
// "<AWS::AccountId>") where the stack's value is a token. Partition, Region,
// Account and ResourceFinding build AppliesTo entries that match the
// findings as scope's stack renders them.
package nag

import (
	"fmt"
	"regexp"
	"strings"

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

// Partition returns the AppliesTo regular expression of an ARN's
// partition in scope's stack, matching it as cdk-nag renders it in
// findings. Where the stack's value is a token, cdk-nag shows the pseudo
// parameter ("<AWS::Partition>"), and so does the pattern: in an
// environment-agnostic stack, or in an app without
// @aws-cdk/core:enablePartitionLiterals. Where it is a literal, the pattern
// is any literal field, [^:]+, which cannot match a pseudo parameter.
//
// Partition, Region and Account fit ARNs built from the stack's own
// partition, region and account (Stack.FormatArn, Stack.Partition), as
// the constructs' grants are.
func Partition(scope constructs.IConstruct) string {
	return field(scope, awscdk.Stack_Of(scope).Partition())
}

// Region is Partition for an ARN's region: "<AWS::Region>" in an
// environment-agnostic stack, otherwise [^:]+.
func Region(scope constructs.IConstruct) string {
	return field(scope, awscdk.Stack_Of(scope).Region())
}

// Account is Partition for an ARN's account: "<AWS::AccountId>" in an
// environment-agnostic stack, otherwise [^:]+.
func Account(scope constructs.IConstruct) string {
	return field(scope, awscdk.Stack_Of(scope).Account())
}

func field(scope constructs.IConstruct, value *string) string {
	if !*awscdk.Token_IsUnresolved(value) {
		return `[^:]+`
	}
	return regexp.QuoteMeta(flatten(scope, awscdk.Stack_Of(scope).Resolve(value), *value))
}

// ImageVersions is the AppliesTo pattern of a grant on every image of one
// Image Builder recipe, "arn:...:image/<recipe>/*", in scope's stack, and
// ImageVersionsReason explains it: image versions and builds are created
// by every build, so they cannot be listed in advance.
func ImageVersions(scope constructs.IConstruct, recipeName string) string {
	return `/^Resource::arn:` + Partition(scope) + `:imagebuilder:` + Region(scope) + `:` + Account(scope) +
		`:image\/` + regexp.QuoteMeta(recipeName) + `\/\*$/`
}

// ImageVersionsReason is the reason for an ImageVersions suppression.
const ImageVersionsReason = "Every build creates a new image version and build number under the recipe, so the grant covers image/<recipe>/*: this pipeline's images and no other recipe's."

// ResourceFinding is the AppliesTo finding of an IAM policy statement's
// resource arn, exactly as cdk-nag reports it: "Resource::" and arn, with
// each pseudo parameter in it rendered as cdk-nag renders it (for example
// "Resource::arn:<AWS::Partition>:elasticbeanstalk:us-east-1::platform/x/*").
// arn may combine literals with the partition, region and account of
// scope's stack. It panics when arn refers to anything else (a resource's
// logical id, say, which may still change before synthesis): match such a
// finding with a pattern.
func ResourceFinding(scope constructs.IConstruct, arn string) string {
	return "Resource::" + flatten(scope, awscdk.Stack_Of(scope).Resolve(&arn), arn)
}

// flatten renders a resolved value as cdk-nag's flattenCfnReference does,
// for the strings, Fn::Join and pseudo-parameter Refs that ResourceFinding
// allows.
func flatten(scope constructs.IConstruct, v interface{}, arn string) string {
	switch v := v.(type) {
	case string:
		// cdk-nag rewrites Fn::Sub syntax in every string it flattens.
		return strings.ReplaceAll(strings.ReplaceAll(v, "${", "<"), "}", ">")
	case map[string]interface{}:
		if ref, ok := v["Ref"].(string); ok && len(v) == 1 && strings.HasPrefix(ref, "AWS::") {
			return "<" + ref + ">"
		}
		if join, ok := v["Fn::Join"].([]interface{}); ok && len(v) == 1 && len(join) == 2 {
			delimiter, _ := join[0].(string)
			items, _ := join[1].([]interface{})
			parts := make([]string, len(items))
			for i, item := range items {
				parts[i] = flatten(scope, item, arn)
			}
			return strings.Join(parts, delimiter)
		}
	}
	panic(fmt.Sprintf("nag: %s: ARN %q refers to more than literals and the stack's pseudo parameters; match its finding with a pattern", *scope.Node().Path(), arn))
}
