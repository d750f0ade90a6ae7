package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/platform-eng/golden-ami/internal/contract"
)

// image is what the recorder needs from an Image Builder image, as GetImage
// reports it (or, for an image that is ignored without reading it, as the
// event names it).
type image struct {
	ARN         string
	Status      string
	Reason      string
	PipelineARN string
	RecipeARN   string
	DateCreated string
	AMIs        []outputAMI
}

// outputAMI is one distributed AMI of an image.
type outputAMI struct {
	Region    string
	ImageID   string
	AccountID string
	Name      string
}

// imageRef is what the recorder takes from an event: the image build
// version and the status the event reports. Everything it records (AMIs,
// accounts, pipeline, recipe, date, and the status it acts on) comes from
// GetImage, because anyone allowed to publish to the SNS topic can send any
// message.
type imageRef struct {
	ARN    string
	Status string
	Reason string
	// ClaimedPipelineARN is the pipeline an SNS message says built the
	// image. It is not trusted: it only lets the handler ignore another
	// pipeline's image without asking Image Builder, whose answer decides
	// for an image the message says is this pipeline's.
	ClaimedPipelineARN string
}

// notification is a decoded invocation: the images an SNS notification's
// records or an EventBridge state change name. Ignore is set instead for a
// well-formed event the recorder does not act on.
type notification struct {
	Refs   []imageRef
	Ignore string
}

// snsImage is the part of Image Builder's SNS message (an Image object) the
// recorder reads. The rest, its output AMIs included, is deliberately not
// decoded: GetImage answers for it. Its "semver" field is an integer wider
// than int64 (e.g. 1237940039285380274899124227).
type snsImage struct {
	ARN               string `json:"arn"`
	SourcePipelineARN string `json:"sourcePipelineArn"`
	State             struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"state"`
}

// stateChangeDetail is the detail of "EC2 Image Builder Image State Change".
type stateChangeDetail struct {
	State struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"state"`
}

var imageBuildVersionARN = regexp.MustCompile(`^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:[0-9]{12}:image/[a-z0-9_-]+/[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$`)

// decodeEvent tells an SNS notification (Records[].Sns) from an EventBridge
// event (detail-type) and decodes it. Errors name the offending field.
func decodeEvent(raw []byte) (notification, error) {
	var probe struct {
		Records    json.RawMessage `json:"Records"`
		DetailType *string         `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return notification{}, fmt.Errorf("event is not a JSON object: %w", err)
	}
	switch {
	case probe.Records != nil:
		return decodeSNS(raw)
	case probe.DetailType != nil:
		return decodeEventBridge(raw)
	}
	return notification{}, errors.New(`event has neither "Records" (SNS) nor "detail-type" (EventBridge)`)
}

func decodeSNS(raw []byte) (notification, error) {
	var ev events.SNSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return notification{}, fmt.Errorf(`field "Records": %w`, err)
	}
	if len(ev.Records) == 0 {
		return notification{}, errors.New(`field "Records" is empty`)
	}
	var n notification
	for i, r := range ev.Records {
		ref, err := decodeImageMessage(r.SNS.Message)
		if err != nil {
			return notification{}, fmt.Errorf("Records[%d].Sns.Message: %w", i, err)
		}
		n.Refs = append(n.Refs, ref)
	}
	return n, nil
}

// decodeImageMessage takes the image build version ARN and the status from
// an Image Builder SNS message, checked as strictly as the EventBridge
// event's.
func decodeImageMessage(msg string) (imageRef, error) {
	trimmed := bytes.TrimSpace([]byte(msg))
	if len(trimmed) == 0 {
		return imageRef{}, errors.New("is empty")
	}
	if trimmed[0] != '{' {
		return imageRef{}, fmt.Errorf("is not an Image Builder image JSON object: %s", quoteShort(trimmed))
	}
	var m snsImage
	if err := json.Unmarshal(trimmed, &m); err != nil {
		return imageRef{}, fmt.Errorf("is not an Image Builder image: %w", err)
	}
	if m.ARN == "" {
		return imageRef{}, errors.New(`field "arn" is empty`)
	}
	if !imageBuildVersionARN.MatchString(m.ARN) {
		return imageRef{}, fmt.Errorf(`field "arn" = %q is not an image build version ARN`, m.ARN)
	}
	if m.State.Status == "" {
		return imageRef{}, fmt.Errorf(`field "state.status" is empty (image %s)`, m.ARN)
	}
	if err := contract.CheckImageStatus("state.status", m.State.Status); err != nil {
		return imageRef{}, fmt.Errorf("%w (image %s)", err, m.ARN)
	}
	return imageRef{ARN: m.ARN, Status: m.State.Status, Reason: m.State.Reason, ClaimedPipelineARN: m.SourcePipelineARN}, nil
}

func decodeEventBridge(raw []byte) (notification, error) {
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return notification{}, fmt.Errorf("EventBridge event: %w", err)
	}
	if ev.Source == "" {
		return notification{}, errors.New(`field "source" is empty`)
	}
	if ev.DetailType == "" {
		return notification{}, errors.New(`field "detail-type" is empty`)
	}
	if ev.Source != contract.SourceImageBuilder || ev.DetailType != contract.DetailTypeImageStateChange {
		return notification{Ignore: fmt.Sprintf("event %s/%q is not an %s %q event",
			ev.Source, ev.DetailType, contract.SourceImageBuilder, contract.DetailTypeImageStateChange)}, nil
	}
	trimmed := bytes.TrimSpace(ev.Detail)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return notification{}, errors.New(`field "detail" is missing`)
	}
	var d stateChangeDetail
	if err := json.Unmarshal(trimmed, &d); err != nil {
		return notification{}, fmt.Errorf(`field "detail": %w`, err)
	}
	if d.State.Status == "" {
		return notification{}, errors.New(`field "detail.state.status" is empty`)
	}
	if err := contract.CheckImageStatus("detail.state.status", d.State.Status); err != nil {
		return notification{}, err
	}
	if len(ev.Resources) == 0 {
		return notification{}, errors.New(`field "resources" is empty`)
	}
	if !imageBuildVersionARN.MatchString(ev.Resources[0]) {
		return notification{}, fmt.Errorf(`field "resources[0]" = %q is not an image build version ARN`, ev.Resources[0])
	}
	return notification{Refs: []imageRef{{ARN: ev.Resources[0], Status: d.State.Status, Reason: d.State.Reason}}}, nil
}

func quoteShort(b []byte) string {
	const n = 64
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}

// arnParts splits an ARN into partition, service, region, account, resource.
func arnParts(arn string) (region, account, resource string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return "", "", "", false
	}
	return p[3], p[4], p[5], true
}

// imageVersion returns the image name and its (major, minor, patch, build)
// from an image build version ARN, for ordering builds of one image.
func imageVersion(arn string) (string, [4]int, bool) {
	_, _, res, ok := arnParts(arn)
	if !ok {
		return "", [4]int{}, false
	}
	p := strings.Split(res, "/") // image/<name>/<x.y.z>/<build>
	if len(p) != 4 || p[0] != "image" {
		return "", [4]int{}, false
	}
	var v [4]int
	xyz := strings.Split(p[2], ".")
	if len(xyz) != 3 {
		return "", [4]int{}, false
	}
	for i, s := range append(xyz, p[3]) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return "", [4]int{}, false
		}
		v[i] = n
	}
	return p[1], v, true
}
