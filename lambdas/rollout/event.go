package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/platform-eng/golden-ami/internal/contract"
)

// Triggers reported in the log.
const (
	triggerParameterChange = "parameter-change"
	triggerSchedule        = "schedule"
)

// parameterChange is the detail of an EventBridge "Parameter Store Change"
// event. When a write of an aws:ec2:image parameter fails Parameter Store's
// asynchronous validation, Exception carries the reason and no new version
// exists.
type parameterChange struct {
	Operation string `json:"operation"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	DataType  string `json:"dataType"`
	Exception string `json:"exception"`
}

// decide returns what triggered the invocation or, for a well-formed event
// the function does not act on, a non-empty reason. A malformed event is an
// error naming the field.
//
// A scheduled event's detail is not read: the schedule only says "converge
// now".
func (h *Handler) decide(ev events.CloudWatchEvent) (trigger, reason string, err error) {
	switch {
	case ev.Source == "":
		return "", "", errors.New(`field "source" is empty`)
	case ev.DetailType == "":
		return "", "", errors.New(`field "detail-type" is empty`)
	case ev.Source == contract.SourceEvents && ev.DetailType == contract.DetailTypeScheduledEvent:
		return triggerSchedule, "", nil
	case ev.Source != contract.SourceSSM || ev.DetailType != contract.DetailTypeParameterChange:
		return "", fmt.Sprintf("event %s/%q is neither an %s %q nor an %s %q event", ev.Source, ev.DetailType,
			contract.SourceSSM, contract.DetailTypeParameterChange, contract.SourceEvents, contract.DetailTypeScheduledEvent), nil
	}
	change, err := decodeDetail(ev.Detail)
	if err != nil {
		return "", "", err
	}
	switch {
	case !parameterOf(h.ParameterName).matches(change.Name, ev.AccountID, ev.Region):
		return "", fmt.Sprintf("parameter %s is not %s", describeChanged(h.ParameterName, change.Name, ev), h.ParameterName), nil
	case change.Operation != contract.OperationCreate && change.Operation != contract.OperationUpdate:
		return "", fmt.Sprintf("operation %s of %s does not create a new value", change.Operation, change.Name), nil
	case change.Exception != "":
		return "", fmt.Sprintf("the %s of %s failed Parameter Store validation: %s", change.Operation, change.Name, change.Exception), nil
	}
	return triggerParameterChange, "", nil
}

// decodeDetail decodes and checks a Parameter Store Change detail.
func decodeDetail(raw json.RawMessage) (parameterChange, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return parameterChange{}, errors.New(`field "detail" is missing`)
	}
	if trimmed[0] != '{' {
		return parameterChange{}, fmt.Errorf(`field "detail" is not a JSON object: %s`, truncate(trimmed))
	}
	var c parameterChange
	if err := json.Unmarshal(trimmed, &c); err != nil {
		return parameterChange{}, fmt.Errorf(`field "detail": %w`, err)
	}
	if c.Name == "" {
		return parameterChange{}, errors.New(`field "detail.name" is empty`)
	}
	if c.Operation == "" {
		return parameterChange{}, fmt.Errorf(`field "detail.operation" is empty (detail.name %q)`, c.Name)
	}
	// Parameter Store sends these four. Anything else (a typo, a mis-cased
	// "update") is malformed rather than a change to ignore, so it is not
	// mistaken for one of those the function deliberately ignores.
	switch c.Operation {
	case contract.OperationCreate, contract.OperationUpdate, contract.OperationDelete, contract.OperationLabelParameterVersion:
	default:
		return parameterChange{}, fmt.Errorf(`field "detail.operation" = %q is not one of %s, %s, %s, %s (detail.name %q)`, c.Operation,
			contract.OperationCreate, contract.OperationUpdate, contract.OperationDelete, contract.OperationLabelParameterVersion, c.Name)
	}
	return c, nil
}

func truncate(b []byte) string {
	const n = 64
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}

// parameterARNPattern is the ARN of an SSM parameter:
// arn:<partition>:ssm:<region>:<12-digit account>:parameter/<name>, where
// <name> is the parameter's name without its leading slash.
var parameterARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:ssm:([a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}):([0-9]{12}):parameter/([a-zA-Z0-9_.\-][a-zA-Z0-9_.\-/]*)$`)

// watchedParameter is what a Parameter Store Change event of the latest-AMI
// parameter carries: its name in detail.name and, for a parameter shared by
// ARN, the owner's account and region in the envelope.
type watchedParameter struct {
	// names the event's detail.name may take.
	names []string
	// account and region of the ARN; empty for a parameter given by name,
	// which lives in the function's own account and region.
	account, region string
}

// parseParameterARN derives the parameter's name, account and region from
// its ARN. The ARN drops a name's leading slash: parameter/golden-ami/latest
// is /golden-ami/latest (a hierarchical name starts with one), and
// parameter/foo is foo, or /foo, which SSM also accepts and which has the
// same ARN.
func parseParameterARN(arn string) (watchedParameter, bool) {
	m := parameterARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return watchedParameter{}, false
	}
	w := watchedParameter{names: []string{"/" + m[3]}, account: m[2], region: m[1]}
	if !strings.Contains(m[3], "/") {
		w.names = []string{m[3], "/" + m[3]}
	}
	return w, true
}

// parameterOf is the parameter SSM_PARAMETER_NAME (validated by
// configFromEnv) names: a parameter name, or a parameter ARN.
func parameterOf(ref string) watchedParameter {
	if w, ok := parseParameterARN(ref); ok {
		return w
	}
	return watchedParameter{names: []string{ref}}
}

// matches reports whether an event for the parameter name in account and
// region is about this parameter. An event that does not say its account
// or region is matched by name.
func (w watchedParameter) matches(name, account, region string) bool {
	return slices.Contains(w.names, name) &&
		(w.account == "" || account == "" || account == w.account) &&
		(w.region == "" || region == "" || region == w.region)
}

// describeChanged names the parameter an event is about, with its account
// and region when the function watches a parameter by ARN.
func describeChanged(ref, name string, ev events.CloudWatchEvent) string {
	if !strings.HasPrefix(ref, "arn:") {
		return name
	}
	if ev.AccountID != "" {
		name += " of account " + ev.AccountID
	}
	if ev.Region != "" {
		name += " in " + ev.Region
	}
	return name
}
