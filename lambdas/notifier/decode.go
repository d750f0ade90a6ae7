package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/platform-eng/golden-ami/internal/contract"
)

// Kinds of SNS message, reported in RecordResult.Kind.
const (
	KindPipelineExecution = "codepipeline-execution" // CodePipeline Pipeline Execution State Change
	KindApproval          = "codepipeline-approval"  // CodePipeline Action Execution State Change of an Approval action
	KindPipelineOther     = "codepipeline-other"     // other CodePipeline events (stages, non-approval actions): skipped
	KindImageStateChange  = "image-state-change"     // EventBridge EC2 Image Builder Image State Change
	KindImageNotification = "image-notification"     // Image Builder's own SNS notification (the Image JSON)
	KindImageOther        = "imagebuilder-other"     // other Image Builder events: skipped
	KindTriggerDecision   = "trigger-decision"       // a Lambda destination record (the pipeline trigger's decisions)
	KindAlarm             = "alarm"                  // a CloudWatch alarm notification
	KindUnknown           = "unknown"                // anything else: skipped
)

// notification is one decoded SNS message. Exactly one of the pointers is
// set for a kind that is posted; Skip is set, and no pointer, for one that
// is not.
type notification struct {
	Kind string
	// Skip is why the message is not posted: a well-formed message the
	// notifier does not format, or one that is not JSON at all.
	Skip string

	Pipeline *pipelineEvent     // KindPipelineExecution, KindApproval
	Image    *imageInfo         // KindImageNotification; KindImageStateChange before GetImage
	Trigger  *destinationRecord // KindTriggerDecision
	Alarm    *alarmMessage      // KindAlarm
}

// pipelineEvent is what the notifier needs from a CodePipeline execution or
// approval-action state change.
type pipelineEvent struct {
	Account     string
	Region      string
	Pipeline    string
	ExecutionID string
	State       string
	// Stage and Action name the approval action (KindApproval only).
	Stage  string
	Action string
	// TriggerCommitID and TriggerCommitMessage come from the event's
	// execution-trigger (pipelines with Git triggers carry them); they are
	// used when GetPipelineExecution cannot say.
	TriggerCommitID      string
	TriggerCommitMessage string
}

// imageInfo is an Image Builder image as the notifier shows it.
type imageInfo struct {
	ARN          string
	Name         string // from the ARN
	Version      string // x.y.z/build, from the ARN
	Account      string
	Region       string
	Status       string
	Reason       string
	PipelineName string
	AMIs         []outputAMI
	// AMIsUnknown is set when the AMIs could not be read (GetImage failed).
	AMIsUnknown bool
}

// outputAMI is one distributed AMI of an image.
type outputAMI struct {
	Region    string
	ImageID   string
	AccountID string
}

// destinationRecord is a Lambda asynchronous-invocation destination record.
// Decision, Reason and ImageBuildVersionARN are the pipeline trigger's
// Result; ErrorMessage and ErrorType its error, for a failed invocation.
type destinationRecord struct {
	Timestamp            string
	FunctionARN          string
	Condition            string
	InvokeCount          string
	Decision             string
	Reason               string
	ImageBuildVersionARN string
	ErrorMessage         string
	ErrorType            string
}

// alarmMessage is a CloudWatch alarm's SNS notification.
type alarmMessage struct {
	Name     string
	ARN      string
	Account  string
	Region   string // display name, e.g. "US East (N. Virginia)"
	NewState string
	OldState string
	Reason   string
}

var (
	imageBuildVersionARN = regexp.MustCompile(`^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:[0-9]{12}:image/[a-z0-9_-]+/[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$`)
	regionPattern        = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]+$`)
)

// finalImageStatus reports whether an image status ends a build.
func finalImageStatus(s string) bool {
	return s == contract.ImageStatusAvailable || s == contract.ImageStatusFailed || s == contract.ImageStatusCancelled
}

func skip(kind, reason string) notification { return notification{Kind: kind, Skip: reason} }

// decodeMessage classifies and decodes one SNS message.
//
// A message that is not a JSON object, or an object the notifier does not
// recognise, is KindUnknown with a Skip reason and no error. A message it
// recognises (by source and detail-type, or by its characteristic keys) but
// that lacks a field the notification needs is an error naming the field.
func decodeMessage(msg string) (notification, error) {
	raw := bytes.TrimSpace([]byte(msg))
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return skip(KindUnknown, "the message is not a JSON object: "+quoteShort(raw)), nil
	}
	has := func(k string) bool { _, ok := top[k]; return ok }
	switch {
	case has("source") && (has("detail-type") || has("detailType")):
		return decodeEventBridge(top)
	case has("AlarmName") && has("NewStateValue"):
		return decodeAlarm(raw)
	case has("requestContext") && (has("responsePayload") || has("responseContext")):
		return decodeDestination(raw)
	case has("arn") && has("state"):
		return decodeImageNotification(top, raw)
	}
	return skip(KindUnknown, "the message is not a CodePipeline or Image Builder event, an Image Builder notification, "+
		"a Lambda destination record or a CloudWatch alarm"), nil
}

// stringField returns top[key] as a string; ok is false when it is missing
// or not a string.
func stringField(top map[string]json.RawMessage, key string) (string, bool) {
	var s string
	if err := json.Unmarshal(top[key], &s); err != nil {
		return "", false
	}
	return s, true
}

func decodeEventBridge(top map[string]json.RawMessage) (notification, error) {
	source, ok1 := stringField(top, "source")
	detailType, ok2 := stringField(top, "detail-type")
	if !ok2 {
		// The CodeStar Notifications ("processed event") spelling.
		detailType, ok2 = stringField(top, "detailType")
	}
	if !ok1 || !ok2 {
		return skip(KindUnknown, `the message has "source" and "detail-type" but they are not strings`), nil
	}
	switch {
	case source == contract.SourceCodePipeline && detailType == contract.DetailTypePipelineExecution:
		return decodePipelineExecution(top)
	case source == contract.SourceCodePipeline && detailType == contract.DetailTypeActionExecution:
		return decodePipelineAction(top)
	case source == contract.SourceCodePipeline:
		return skip(KindPipelineOther, fmt.Sprintf("CodePipeline %q events are not notified", detailType)), nil
	case source == contract.SourceImageBuilder && detailType == contract.DetailTypeImageStateChange:
		return decodeImageStateChange(top)
	case source == contract.SourceImageBuilder:
		return skip(KindImageOther, fmt.Sprintf("Image Builder %q events are not notified", detailType)), nil
	}
	return skip(KindUnknown, fmt.Sprintf("EventBridge event %s/%q is not one the notifier formats", source, detailType)), nil
}

// pipelineDetail is the detail of CodePipeline execution and action state
// changes. Its numeric fields ("version" is 1, "1" or 3.0 depending on the
// event's age; "pipeline-execution-attempt" is 1.0) are deliberately not
// decoded.
type pipelineDetail struct {
	Pipeline    string `json:"pipeline"`
	ExecutionID string `json:"execution-id"`
	State       string `json:"state"`
	Stage       string `json:"stage"`
	Action      string `json:"action"`
	Type        struct {
		Category string `json:"category"`
		Provider string `json:"provider"`
	} `json:"type"`
	ExecutionTrigger struct {
		CommitID      string `json:"commit-id"`
		CommitMessage string `json:"commit-message"`
	} `json:"execution-trigger"`
}

func decodeDetail(top map[string]json.RawMessage, v any) error {
	d := bytes.TrimSpace(top["detail"])
	if len(d) == 0 || bytes.Equal(d, []byte("null")) {
		return errors.New(`field "detail" is missing`)
	}
	if d[0] != '{' {
		return fmt.Errorf(`field "detail" is not a JSON object: %s`, quoteShort(d))
	}
	if err := json.Unmarshal(d, v); err != nil {
		return fmt.Errorf(`field "detail": %w`, err)
	}
	return nil
}

// pipelineFromDetail builds the event from the envelope and its decoded
// detail, checking the fields every CodePipeline notification needs.
func pipelineFromDetail(top map[string]json.RawMessage, d pipelineDetail) (pipelineEvent, error) {
	e := pipelineEvent{
		Pipeline:             d.Pipeline,
		ExecutionID:          d.ExecutionID,
		State:                d.State,
		Stage:                d.Stage,
		Action:               d.Action,
		TriggerCommitID:      d.ExecutionTrigger.CommitID,
		TriggerCommitMessage: d.ExecutionTrigger.CommitMessage,
	}
	e.Account, _ = stringField(top, "account")
	e.Region, _ = stringField(top, "region")
	for _, f := range []struct{ name, value string }{
		{`"account"`, e.Account},
		{`"region"`, e.Region},
		{`"detail.pipeline"`, e.Pipeline},
		{`"detail.execution-id"`, e.ExecutionID},
		{`"detail.state"`, e.State},
	} {
		if f.value == "" {
			return pipelineEvent{}, fmt.Errorf("field %s is empty or not a string", f.name)
		}
	}
	return e, nil
}

func decodePipelineExecution(top map[string]json.RawMessage) (notification, error) {
	const kind = KindPipelineExecution
	var d pipelineDetail
	if err := decodeDetail(top, &d); err != nil {
		return notification{Kind: kind}, err
	}
	e, err := pipelineFromDetail(top, d)
	if err != nil {
		return notification{Kind: kind}, err
	}
	return notification{Kind: kind, Pipeline: &e}, nil
}

func decodePipelineAction(top map[string]json.RawMessage) (notification, error) {
	var d pipelineDetail
	if err := decodeDetail(top, &d); err != nil {
		return notification{Kind: KindPipelineOther}, err
	}
	if d.Type.Category != contract.ActionCategoryApproval {
		return skip(KindPipelineOther, fmt.Sprintf("action %q (category %q) is not an approval", d.Action, d.Type.Category)), nil
	}
	const kind = KindApproval
	e, err := pipelineFromDetail(top, d)
	if err != nil {
		return notification{Kind: kind}, err
	}
	if e.Stage == "" {
		return notification{Kind: kind}, errors.New(`field "detail.stage" is empty`)
	}
	if e.Action == "" {
		return notification{Kind: kind}, errors.New(`field "detail.action" is empty`)
	}
	return notification{Kind: kind, Pipeline: &e}, nil
}

// imageState is the state object of Image Builder images and events.
type imageState struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func decodeImageStateChange(top map[string]json.RawMessage) (notification, error) {
	const kind = KindImageStateChange
	var d struct {
		State imageState `json:"state"`
	}
	if err := decodeDetail(top, &d); err != nil {
		return notification{Kind: kind}, err
	}
	if d.State.Status == "" {
		return notification{Kind: kind}, errors.New(`field "detail.state.status" is empty`)
	}
	if err := contract.CheckImageStatus("detail.state.status", d.State.Status); err != nil {
		return notification{Kind: kind}, err
	}
	var resources []string
	if err := json.Unmarshal(top["resources"], &resources); err != nil || len(resources) == 0 {
		return notification{Kind: kind}, errors.New(`field "resources" is empty or not a list of strings`)
	}
	img, ok := imageFromARN(resources[0])
	if !ok {
		return notification{Kind: kind}, fmt.Errorf(`field "resources[0]" = %s is not an image build version ARN`, quoteShort([]byte(resources[0])))
	}
	if !finalImageStatus(d.State.Status) {
		return skip(kind, fmt.Sprintf("image %s is %s, not a final state (AVAILABLE, FAILED or CANCELLED)", img.ARN, d.State.Status)), nil
	}
	img.Status, img.Reason = d.State.Status, d.State.Reason
	return notification{Kind: kind, Image: &img}, nil
}

// snsImage is the Image Builder SNS message: an Image object. Its "semver"
// field is an integer wider than int64 (e.g. 1237940039285380274899124227);
// it is deliberately not decoded.
type snsImage struct {
	ARN             string     `json:"arn"`
	State           imageState `json:"state"`
	SourcePipeline  string     `json:"sourcePipelineArn"`
	OutputResources struct {
		AMIs []struct {
			Region    string `json:"region"`
			Image     string `json:"image"`
			AccountID string `json:"accountId"`
		} `json:"amis"`
	} `json:"outputResources"`
}

func decodeImageNotification(top map[string]json.RawMessage, raw []byte) (notification, error) {
	const kind = KindImageNotification
	arn, _ := stringField(top, "arn")
	img, ok := imageFromARN(arn)
	if !ok {
		return skip(KindUnknown, `the message has "arn" and "state" but "arn" is not an Image Builder image build version ARN`), nil
	}
	var m snsImage
	if err := json.Unmarshal(raw, &m); err != nil {
		return notification{Kind: kind}, fmt.Errorf("image %s: %w", arn, err)
	}
	if m.State.Status == "" {
		return notification{Kind: kind}, fmt.Errorf(`field "state.status" is empty (image %s)`, arn)
	}
	if err := contract.CheckImageStatus("state.status", m.State.Status); err != nil {
		return notification{Kind: kind}, fmt.Errorf("%w (image %s)", err, arn)
	}
	if !finalImageStatus(m.State.Status) {
		return skip(kind, fmt.Sprintf("image %s is %s, not a final state (AVAILABLE, FAILED or CANCELLED)", arn, m.State.Status)), nil
	}
	img.Status, img.Reason = m.State.Status, m.State.Reason
	img.PipelineName = pipelineNameFromARN(m.SourcePipeline)
	for _, a := range m.OutputResources.AMIs {
		img.AMIs = append(img.AMIs, outputAMI{Region: a.Region, ImageID: a.Image, AccountID: a.AccountID})
	}
	return notification{Kind: kind, Image: &img}, nil
}

// imageFromARN fills ARN, Name, Version, Account and Region from an image
// build version ARN, arn:<partition>:imagebuilder:<region>:<account>:image/<name>/<x.y.z>/<build>.
func imageFromARN(arn string) (imageInfo, bool) {
	if !imageBuildVersionARN.MatchString(arn) {
		return imageInfo{}, false
	}
	p := strings.SplitN(arn, ":", 6)
	res := strings.Split(p[5], "/") // image, name, x.y.z, build
	return imageInfo{ARN: arn, Region: p[3], Account: p[4], Name: res[1], Version: res[2] + "/" + res[3]}, true
}

// pipelineNameFromARN returns <name> of an image pipeline ARN, or "".
func pipelineNameFromARN(arn string) string {
	_, name, ok := strings.Cut(arn, ":image-pipeline/")
	if !ok || !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	return name
}

func decodeDestination(raw []byte) (notification, error) {
	const kind = KindTriggerDecision
	var m struct {
		Timestamp      string `json:"timestamp"`
		RequestContext *struct {
			FunctionARN string      `json:"functionArn"`
			Condition   string      `json:"condition"`
			InvokeCount json.Number `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		ResponsePayload json.RawMessage `json:"responsePayload"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return notification{Kind: kind}, fmt.Errorf("Lambda destination record: %w", err)
	}
	if m.RequestContext == nil {
		return notification{Kind: kind}, errors.New(`field "requestContext" is not an object`)
	}
	if m.RequestContext.FunctionARN == "" {
		return notification{Kind: kind}, errors.New(`field "requestContext.functionArn" is empty`)
	}
	if m.RequestContext.Condition == "" {
		return notification{Kind: kind}, errors.New(`field "requestContext.condition" is empty`)
	}
	r := destinationRecord{
		Timestamp:   m.Timestamp,
		FunctionARN: m.RequestContext.FunctionARN,
		Condition:   m.RequestContext.Condition,
		InvokeCount: m.RequestContext.InvokeCount.String(),
	}
	// The payload is whatever the function returned: for the trigger its
	// Result, for a failed invocation {"errorMessage","errorType"}. Anything
	// else (a string, null) is shown without detail.
	var p struct {
		Decision             string `json:"decision"`
		Reason               string `json:"reason"`
		ImageBuildVersionARN string `json:"imageBuildVersionArn"`
		ErrorMessage         string `json:"errorMessage"`
		ErrorType            string `json:"errorType"`
	}
	if json.Unmarshal(m.ResponsePayload, &p) == nil {
		r.Decision, r.Reason, r.ImageBuildVersionARN = p.Decision, p.Reason, p.ImageBuildVersionARN
		r.ErrorMessage, r.ErrorType = p.ErrorMessage, p.ErrorType
	}
	return notification{Kind: kind, Trigger: &r}, nil
}

func decodeAlarm(raw []byte) (notification, error) {
	const kind = KindAlarm
	var m struct {
		AlarmName      string `json:"AlarmName"`
		AlarmARN       string `json:"AlarmArn"`
		AWSAccountID   string `json:"AWSAccountId"`
		Region         string `json:"Region"`
		NewStateValue  string `json:"NewStateValue"`
		OldStateValue  string `json:"OldStateValue"`
		NewStateReason string `json:"NewStateReason"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return notification{Kind: kind}, fmt.Errorf("CloudWatch alarm: %w", err)
	}
	if m.AlarmName == "" {
		return notification{Kind: kind}, errors.New(`field "AlarmName" is empty`)
	}
	if m.NewStateValue == "" {
		return notification{Kind: kind}, fmt.Errorf(`field "NewStateValue" is empty (alarm %s)`, quoteShort([]byte(m.AlarmName)))
	}
	return notification{Kind: kind, Alarm: &alarmMessage{
		Name: m.AlarmName, ARN: m.AlarmARN, Account: m.AWSAccountID, Region: m.Region,
		NewState: m.NewStateValue, OldState: m.OldStateValue, Reason: m.NewStateReason,
	}}, nil
}

func quoteShort(b []byte) string {
	const n = 64
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}
