package goldenimage

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// deployTimeValue reports whether s holds a token whose value CloudFormation
// only knows when it deploys: a CfnParameter, another resource's attribute,
// an import, a mapping or a dynamic reference. A recipe's version is a hash
// of its synthesized content, so such a value could change (a new parameter
// value, a replaced component with a new ARN) while the version stays the
// same, and CloudFormation's replacement recipe would then fail with
// "already exists". The stack's pseudo parameters (AWS::Partition,
// AWS::Region, AWS::AccountId, AWS::URLSuffix ...) never change for a stack
// and do not count. The second result is the resolved form, for messages.
func deployTimeValue(stack awscdk.Stack, s string) (bool, string) {
	if strings.Contains(s, "{{resolve:") {
		return true, s
	}
	if !isToken(s) {
		return false, ""
	}
	resolved := stack.Resolve(jsiiString(s))
	data, err := json.Marshal(resolved)
	if err != nil {
		return true, s
	}
	return deployTime(resolved), string(data)
}

var subVariable = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// deployTime walks a resolved CloudFormation value.
func deployTime(v interface{}) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, "{{resolve:")
	case []interface{}:
		for _, e := range v {
			if deployTime(e) {
				return true
			}
		}
		return false
	case map[string]interface{}:
		if len(v) != 1 {
			return true
		}
		for fn, arg := range v {
			switch fn {
			case "Ref":
				name, ok := arg.(string)
				return !ok || !strings.HasPrefix(name, "AWS::")
			case "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Base64":
				return deployTime(arg)
			case "Fn::Sub":
				return deployTimeSub(arg)
			}
		}
		return true // Fn::GetAtt, Fn::ImportValue, Fn::FindInMap, Fn::If, ...
	}
	return false // numbers, booleans, null
}

// deployTimeSub checks an Fn::Sub: "template" or ["template", {vars}].
func deployTimeSub(arg interface{}) bool {
	var template string
	vars := map[string]interface{}{}
	switch a := arg.(type) {
	case string:
		template = a
	case []interface{}:
		if len(a) != 2 {
			return true
		}
		t, ok := a[0].(string)
		m, ok2 := a[1].(map[string]interface{})
		if !ok || !ok2 {
			return true
		}
		template, vars = t, m
	default:
		return true
	}
	if strings.Contains(template, "{{resolve:") {
		return true
	}
	for _, m := range subVariable.FindAllStringSubmatch(template, -1) {
		name := m[1]
		if value, ok := vars[name]; ok {
			if deployTime(value) {
				return true
			}
			continue
		}
		if !strings.HasPrefix(name, "AWS::") || strings.Contains(name, ".") {
			return true // a parameter, or a resource's attribute (Logical.Attr)
		}
	}
	return false
}

// deployTimeError is the message for a value of field resolved at
// deployment.
func deployTimeError(value, resolved, instead string) error {
	return fmt.Errorf("%q is resolved at deployment (%s): the recipe's version is a hash of its synthesized content, "+
		"so it would not change when this value does, and replacing the recipe would fail with \"already exists\"; %s",
		value, resolved, instead)
}
