package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

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
	case change.Name != h.ParameterName:
		return "", fmt.Sprintf("parameter %s is not %s", change.Name, h.ParameterName), nil
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
	return c, nil
}

func truncate(b []byte) string {
	const n = 64
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}
