package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/validate"
)

const (
	account     = "123456789012"
	paramName   = "/golden-ami/latest"
	pipelineARN = "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden-ami"
	imageARN    = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/4"
	// ourDescription is what the recorder writes with imageARN's AMIs:
	// the build and its creation time as GetImage reports it.
	ourDescription = "Golden AMI from " + imageARN + ", built 2024-07-01T06:10:42.519Z"
	recipeARN      = "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/golden-ami-recipe/1.2.0"
	amiUSEast1     = "ami-0123456789abcdef0"
	amiEUWest1     = "ami-0a1b2c3d4e5f60718"
	amiPrevious    = "ami-0aaaaaaaaaaaaaaa0"
)

func apiErr(service, op, code, msg string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &smithy.GenericAPIError{Code: code, Message: msg}}
}

func sample(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// regionParams is one region's parameter, with the SDK's method signatures.
// The optional function fields replace a method (to inject faults); every
// call is recorded.
type regionParams struct {
	exists      bool
	value       string
	description string
	tags        map[string]string
	calls       []string

	getParameterHistory func(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error)
	putParameter        func(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	addTagsToResource   func(ctx context.Context, in *ssm.AddTagsToResourceInput, optFns ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
}

// GetParameterHistory answers with the current version only, as if older
// versions had expired.
func (p *regionParams) GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
	p.calls = append(p.calls, "GetParameterHistory")
	if p.getParameterHistory != nil {
		return p.getParameterHistory(ctx, in, optFns...)
	}
	if !p.exists {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("Parameter " + aws.ToString(in.Name) + " not found.")}
	}
	return &ssm.GetParameterHistoryOutput{Parameters: []ssmtypes.ParameterHistory{
		{Name: in.Name, Value: aws.String(p.value), Description: aws.String(p.description), Version: 7},
	}}, nil
}

func (p *regionParams) PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	p.calls = append(p.calls, "PutParameter")
	if p.putParameter != nil {
		return p.putParameter(ctx, in, optFns...)
	}
	if aws.ToString(in.Name) != paramName || in.Type != ssmtypes.ParameterTypeString ||
		aws.ToString(in.DataType) != contract.DataTypeEC2Image || !aws.ToBool(in.Overwrite) || len(in.Tags) != 0 ||
		!strings.HasPrefix(aws.ToString(in.Description), descriptionPrefix+"arn:aws:imagebuilder:") {
		return nil, fmt.Errorf("unexpected PutParameter input %+v", in)
	}
	p.exists, p.value, p.description = true, aws.ToString(in.Value), aws.ToString(in.Description)
	return &ssm.PutParameterOutput{Version: 2}, nil
}

func (p *regionParams) AddTagsToResource(ctx context.Context, in *ssm.AddTagsToResourceInput, optFns ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
	p.calls = append(p.calls, "AddTagsToResource")
	if p.addTagsToResource != nil {
		return p.addTagsToResource(ctx, in, optFns...)
	}
	if in.ResourceType != ssmtypes.ResourceTypeForTaggingParameter || aws.ToString(in.ResourceId) != paramName {
		return nil, fmt.Errorf("unexpected AddTagsToResource input %+v", in)
	}
	if p.tags == nil {
		p.tags = map[string]string{}
	}
	for _, tag := range in.Tags {
		p.tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return &ssm.AddTagsToResourceOutput{}, nil
}

func (p *regionParams) ListTagsForResource(_ context.Context, in *ssm.ListTagsForResourceInput, _ ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
	p.calls = append(p.calls, "ListTagsForResource")
	out := &ssm.ListTagsForResourceOutput{}
	for k, v := range p.tags {
		out.TagList = append(out.TagList, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (p *regionParams) writes() int {
	n := 0
	for _, c := range p.calls {
		if c == "PutParameter" || c == "AddTagsToResource" {
			n++
		}
	}
	return n
}

type getImageFunc func(ctx context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error)

func (f getImageFunc) GetImage(ctx context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error) {
	return f(ctx, in, optFns...)
}

// availableImage is what GetImage returns for imageARN.
func availableImage(calls *[]string) getImageFunc {
	return func(_ context.Context, in *imagebuilder.GetImageInput, _ ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error) {
		*calls = append(*calls, aws.ToString(in.ImageBuildVersionArn))
		return &imagebuilder.GetImageOutput{Image: &ibtypes.Image{
			Arn:               in.ImageBuildVersionArn,
			State:             &ibtypes.ImageState{Status: ibtypes.ImageStatusAvailable},
			SourcePipelineArn: aws.String(pipelineARN),
			ImageRecipe:       &ibtypes.ImageRecipe{Arn: aws.String(recipeARN)},
			DateCreated:       aws.String("2024-07-01T06:10:42.519Z"),
			OutputResources: &ibtypes.OutputResources{Amis: []ibtypes.Ami{
				{Region: aws.String("us-east-1"), Image: aws.String(amiUSEast1), AccountId: aws.String(account)},
				{Region: aws.String("us-east-1"), Image: aws.String("ami-0fedcba9876543210"), AccountId: aws.String("210987654321")},
				{Region: aws.String("eu-west-1"), Image: aws.String(amiEUWest1), AccountId: aws.String(account)},
			}},
		}}, nil
	}
}

type world struct {
	regions   map[string]*regionParams
	getImages []string
	h         *Handler
}

func newWorld(pipeline string) *world {
	w := &world{regions: map[string]*regionParams{"us-east-1": {}, "eu-west-1": {}}}
	w.h = &Handler{
		ParameterName: paramName,
		PipelineARN:   pipeline,
		Images:        availableImage(&w.getImages),
		ParamsIn: func(region string) parameterStore {
			p, ok := w.regions[region]
			if !ok {
				p = &regionParams{}
				w.regions[region] = p
			}
			return p
		},
	}
	return w
}

func (w *world) totalCalls() int {
	n := 0
	for _, p := range w.regions {
		n += len(p.calls)
	}
	return n
}

var wantTags = map[string]string{
	contract.TagImageARN:    imageARN,
	contract.TagPipelineARN: pipelineARN,
	contract.TagRecipeARN:   recipeARN,
	contract.TagBuildDate:   "2024-07-01T06:10:42Z",
}

func TestRecordsEveryRegionAndRedeliveryWritesNothing(t *testing.T) {
	for _, event := range []string{"sns-available.json", "eventbridge-available.json"} {
		t.Run(event, func(t *testing.T) {
			w := newWorld(pipelineARN)
			w.regions["us-east-1"] = &regionParams{exists: true, value: amiPrevious, tags: map[string]string{contract.TagImageARN: "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/3"}}

			got, err := w.h.Handle(context.Background(), sample(t, event))
			recordedWhatGetImageReports(t, w, got, err)

			// Redelivery: nothing is written anywhere.
			before := map[string]int{}
			for r, p := range w.regions {
				before[r] = p.writes()
			}
			again, err := w.h.Handle(context.Background(), sample(t, event))
			if err != nil {
				t.Fatalf("redelivery: %v", err)
			}
			wantAgain := Result{Images: []ImageResult{{ImageARN: imageARN, Decision: DecisionRecorded,
				Regions: map[string]string{"us-east-1": OutcomeUnchanged, "eu-west-1": OutcomeUnchanged}}}}
			if !reflect.DeepEqual(again, wantAgain) {
				t.Errorf("redelivery result = %+v\nwant %+v", again, wantAgain)
			}
			for r, p := range w.regions {
				if p.writes() != before[r] {
					t.Errorf("redelivery wrote in %s: %v", r, p.calls)
				}
			}
		})
	}
}

func TestIgnoredEventsTouchNothing(t *testing.T) {
	for _, tc := range []struct {
		event, pipeline string
		want            Result
	}{
		{event: "sns-failed.json", pipeline: pipelineARN, want: Result{Images: []ImageResult{{
			ImageARN: "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/5", Decision: DecisionIgnored,
			Reason: "image is FAILED: Image Failure reason: component golden-ami-hardening failed in step harden."}}}},
		{event: "eventbridge-failed.json", pipeline: pipelineARN, want: Result{Images: []ImageResult{{
			ImageARN: "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/5", Decision: DecisionIgnored,
			Reason: "image is FAILED: Image Failure reason: component golden-ami-hardening failed."}}}},
		{event: "eventbridge-cancelled.json", pipeline: pipelineARN, want: Result{Images: []ImageResult{{
			ImageARN: "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/6", Decision: DecisionIgnored,
			Reason: "image is CANCELLED"}}}},
		{event: "eventbridge-testing.json", pipeline: pipelineARN, want: Result{Images: []ImageResult{{
			ImageARN: imageARN, Decision: DecisionIgnored, Reason: "image status TESTING is not AVAILABLE"}}}},
	} {
		t.Run(tc.event, func(t *testing.T) {
			w := newWorld(tc.pipeline)
			got, err := w.h.Handle(context.Background(), sample(t, tc.event))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("result = %+v\nwant %+v", got, tc.want)
			}
			if w.totalCalls() != 0 || len(w.getImages) != 0 {
				t.Errorf("calls: SSM %d, GetImage %v; want none", w.totalCalls(), w.getImages)
			}
		})
	}
}

const otherPipelineARN = "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/someone-else"

// Whether an image comes from the pipeline is GetImage's answer, not the
// SNS message's.
// Image Builder's answer decides: an event or a message that names this
// pipeline's image is ignored when GetImage says another pipeline built it.
// A message that itself names another pipeline is ignored without asking.
func TestOtherPipelinesImagesAreIgnored(t *testing.T) {
	for event, tc := range map[string]struct {
		reason    string
		getImages int
	}{
		"eventbridge-available.json": {`image comes from pipeline "` + otherPipelineARN + `", not ` + pipelineARN, 1},
		"sns-available.json":         {`image comes from pipeline "` + otherPipelineARN + `", not ` + pipelineARN, 1},
		"sns-other-pipeline.json":    {`the notification names pipeline "` + otherPipelineARN + `", not ` + pipelineARN, 0},
	} {
		t.Run(event, func(t *testing.T) {
			w := newWorld(pipelineARN)
			w.h.Images = imageWith(&w.getImages, func(img *ibtypes.Image) { img.SourcePipelineArn = aws.String(otherPipelineARN) })
			got, err := w.h.Handle(context.Background(), sample(t, event))
			want := Result{Images: []ImageResult{{ImageARN: imageARN, Decision: DecisionIgnored, Reason: tc.reason}}}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("Handle = %+v, %v\nwant %+v", got, err, want)
			}
			if w.totalCalls() != 0 || len(w.getImages) != tc.getImages {
				t.Errorf("calls: SSM %d, GetImage %v; want none and %d", w.totalCalls(), w.getImages, tc.getImages)
			}
		})
	}
}

// Another recipe's image built with this pipeline's infrastructure (so on
// its topic) is not this pipeline's, and the role may not GetImage it: the
// notification's own sourcePipelineArn rules it out before any call. Only
// for ignoring: a message claiming this pipeline is still checked with
// GetImage.
func TestSNSNotificationOfAnotherPipelineIsIgnoredBeforeGetImage(t *testing.T) {
	w := newWorld(pipelineARN)
	w.h.Images = imageWith(&w.getImages, func(img *ibtypes.Image) {})
	foreign := "arn:aws:imagebuilder:us-east-1:123456789012:image/another-recipe/1.0.0/1"
	msg := `{"arn":"` + foreign + `","sourcePipelineArn":"` + otherPipelineARN + `","state":{"status":"AVAILABLE"}}`
	raw, _ := json.Marshal(map[string]interface{}{"Records": []interface{}{map[string]interface{}{"Sns": map[string]interface{}{"Message": msg}}}})
	got, err := w.h.Handle(context.Background(), raw)
	want := Result{Images: []ImageResult{{ImageARN: foreign, Decision: DecisionIgnored,
		Reason: `the notification names pipeline "` + otherPipelineARN + `", not ` + pipelineARN}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Handle = %+v, %v\nwant %+v", got, err, want)
	}
	if w.totalCalls() != 0 || len(w.getImages) != 0 {
		t.Errorf("calls: SSM %d, GetImage %v; want none", w.totalCalls(), w.getImages)
	}
}

func TestAnyPipelineWhenUnset(t *testing.T) {
	for _, event := range []string{"eventbridge-available.json", "sns-other-pipeline.json"} {
		w := newWorld("")
		w.h.Images = imageWith(&w.getImages, func(img *ibtypes.Image) { img.SourcePipelineArn = aws.String(otherPipelineARN) })
		got, err := w.h.Handle(context.Background(), sample(t, event))
		if err != nil || got.Images[0].Decision != DecisionRecorded {
			t.Errorf("%s: Handle = %+v, %v; want recorded", event, got, err)
		}
	}
}

func TestIgnoresOtherEventBridgeSources(t *testing.T) {
	w := newWorld(pipelineARN)
	got, err := w.h.Handle(context.Background(), json.RawMessage(`{"source":"aws.ec2","detail-type":"EC2 AMI State Change","detail":{"ImageId":"ami-0123456789abcdef0","State":"available"}}`))
	want := Result{Images: []ImageResult{{Decision: DecisionIgnored, Reason: `event aws.ec2/"EC2 AMI State Change" is not an aws.imagebuilder "EC2 Image Builder Image State Change" event`}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Handle = %+v, %v\nwant %+v", got, err, want)
	}
}

// The SNS message's semver does not fit in an int64; decoding must not
// depend on it.
func TestSemverOverflowIsTolerated(t *testing.T) {
	var ev struct {
		Records []struct {
			Sns struct{ Message string }
		}
	}
	if err := json.Unmarshal(sample(t, "sns-available.json"), &ev); err != nil {
		t.Fatal(err)
	}
	var asInt struct {
		Semver int64 `json:"semver"`
	}
	if err := json.Unmarshal([]byte(ev.Records[0].Sns.Message), &asInt); err == nil {
		t.Fatal("the sample's semver fits in an int64; it should be real-sized (e.g. 1237940039285380274899124227)")
	}
	var asNumber struct {
		Semver json.Number `json:"semver"`
	}
	if err := json.Unmarshal([]byte(ev.Records[0].Sns.Message), &asNumber); err != nil || asNumber.Semver != "1237940039285380274899124227" {
		t.Fatalf("semver = %q, %v", asNumber.Semver, err)
	}
	n, err := decodeEvent(sample(t, "sns-available.json"))
	if err != nil {
		t.Fatalf("decodeEvent: %v", err)
	}
	if want := []imageRef{{ARN: imageARN, Status: contract.ImageStatusAvailable, ClaimedPipelineARN: pipelineARN}}; !reflect.DeepEqual(n.Refs, want) {
		t.Errorf("decoded = %+v, want %+v", n.Refs, want)
	}
}

func TestMalformedEventsAreErrorsAndWriteNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		event   json.RawMessage
		wantErr string
	}{
		{name: "message is not JSON", event: sample(t, "sns-message-not-json.json"),
			wantErr: `malformed event: Records[0].Sns.Message: is not an Image Builder image JSON object: "Image golden-ami-recipe 1.2.0/4 is AVAILABLE"`},
		{name: "message without arn", event: sample(t, "sns-message-missing-arn.json"),
			wantErr: `malformed event: Records[0].Sns.Message: field "arn" is empty`},
		{name: "message without status", event: json.RawMessage(`{"Records":[{"Sns":{"Message":"{\"arn\":\"` + imageARN + `\"}"}}]}`),
			wantErr: `malformed event: Records[0].Sns.Message: field "state.status" is empty (image ` + imageARN + `)`},
		{name: "empty message", event: json.RawMessage(`{"Records":[{"Sns":{"Message":""}}]}`),
			wantErr: `malformed event: Records[0].Sns.Message: is empty`},
		{name: "no records", event: json.RawMessage(`{"Records":[]}`),
			wantErr: `malformed event: field "Records" is empty`},
		{name: "records not a list", event: json.RawMessage(`{"Records":{}}`),
			wantErr: `malformed event: field "Records": json: cannot unmarshal object into Go struct field SNSEvent.Records of type []events.SNSEventRecord`},
		{name: "no resources", event: sample(t, "eventbridge-missing-resources.json"),
			wantErr: `malformed event: field "resources" is empty`},
		{name: "resource is not an image", event: json.RawMessage(`{"source":"aws.imagebuilder","detail-type":"EC2 Image Builder Image State Change","resources":["arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden-ami"],"detail":{"state":{"status":"AVAILABLE"}}}`),
			wantErr: `malformed event: field "resources[0]" = "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden-ami" is not an image build version ARN`},
		{name: "no status", event: json.RawMessage(`{"source":"aws.imagebuilder","detail-type":"EC2 Image Builder Image State Change","resources":["` + imageARN + `"],"detail":{"state":{}}}`),
			wantErr: `malformed event: field "detail.state.status" is empty`},
		{name: "no detail", event: json.RawMessage(`{"source":"aws.imagebuilder","detail-type":"EC2 Image Builder Image State Change","resources":["` + imageARN + `"]}`),
			wantErr: `malformed event: field "detail" is missing`},
		{name: "no source", event: json.RawMessage(`{"detail-type":"EC2 Image Builder Image State Change"}`),
			wantErr: `malformed event: field "source" is empty`},
		{name: "empty detail-type", event: json.RawMessage(`{"source":"aws.imagebuilder","detail-type":"","resources":["` + imageARN + `"],"detail":{"state":{"status":"AVAILABLE"}}}`),
			wantErr: `malformed event: field "detail-type" is empty`},
		{name: "neither shape", event: json.RawMessage(`{}`),
			wantErr: `malformed event: event has neither "Records" (SNS) nor "detail-type" (EventBridge)`},
		{name: "not an object", event: json.RawMessage(`[1]`),
			wantErr: `malformed event: event is not a JSON object: json: cannot unmarshal array into Go value of type struct { Records json.RawMessage "json:\"Records\""; DetailType *string "json:\"detail-type\"" }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(pipelineARN)
			_, err := w.h.Handle(context.Background(), tc.event)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
			}
			if w.totalCalls() != 0 || len(w.getImages) != 0 {
				t.Errorf("calls: SSM %d, GetImage %v; want none", w.totalCalls(), w.getImages)
			}
		})
	}
}

// The output AMIs GetImage reports are all checked before anything is
// written: one bad entry (of this account's AMIs or another's) is an error
// naming it, and no region is written, not even the good ones.
func TestInvalidOrMissingAMIsWriteNothing(t *testing.T) {
	const noAccount = "arn:aws:imagebuilder:us-east-1::image/golden-ami-recipe/1.2.0/4"
	for _, tc := range []struct {
		name    string
		amis    []ibtypes.Ami
		arn     string // GetImage's ARN of the image; empty: imageARN
		wantErr string
	}{
		{name: "one invalid AMI id", amis: []ibtypes.Ami{ami("us-east-1", amiUSEast1, account), ami("eu-west-1", "ami-BAD", account)},
			wantErr: `record image ` + imageARN + `: AMI in eu-west-1: "ami-BAD" is not an AMI id (want "ami-" followed by 8 or 17 hex digits); nothing written`},
		{name: "no AMI at all", amis: []ibtypes.Ami{},
			wantErr: `record image ` + imageARN + `: image is AVAILABLE but has no AMI owned by account 123456789012; nothing written`},
		{name: "only other accounts' AMIs", amis: []ibtypes.Ami{ami("us-east-1", amiUSEast1, "210987654321")},
			wantErr: `record image ` + imageARN + `: image is AVAILABLE but has no AMI owned by account 123456789012; nothing written`},
		{name: "AMI without region", amis: []ibtypes.Ami{{Image: aws.String(amiUSEast1)}},
			wantErr: `record image ` + imageARN + `: AMI "` + amiUSEast1 + `" has no region; nothing written`},
		{name: "two own AMIs in one region", amis: []ibtypes.Ami{{Region: aws.String("us-east-1"), Image: aws.String(amiUSEast1)}, {Region: aws.String("us-east-1"), Image: aws.String(amiEUWest1)}},
			wantErr: `record image ` + imageARN + `: two AMIs in us-east-1 for account 123456789012: ` + amiUSEast1 + ` and ` + amiEUWest1 + `; nothing written`},
		{name: "a malformed region after a good one", amis: []ibtypes.Ami{ami("us-east-1", amiUSEast1, account), ami("not a region", amiEUWest1, account)},
			wantErr: `record image ` + imageARN + `: outputResources.amis[1].region "not a region" is not an AWS region (want e.g. "us-east-1"); nothing written`},
		{name: "a malformed region before a good one", amis: []ibtypes.Ami{ami("US-EAST-1", amiEUWest1, account), ami("us-east-1", amiUSEast1, account)},
			wantErr: `record image ` + imageARN + `: outputResources.amis[0].region "US-EAST-1" is not an AWS region (want e.g. "us-east-1"); nothing written`},
		{name: "another account's AMI in a malformed region", amis: []ibtypes.Ami{ami("us-east-1", amiUSEast1, account), ami("eu-west-1", amiEUWest1, account), ami("eu-west-1/../x", "ami-0fedcba9876543210", "210987654321")},
			wantErr: `record image ` + imageARN + `: outputResources.amis[2].region "eu-west-1/../x" is not an AWS region (want e.g. "us-east-1"); nothing written`},
		{name: "an image ARN without an account", arn: noAccount,
			amis:    []ibtypes.Ami{ami("us-east-1", amiUSEast1, account), {Region: aws.String("eu-west-1"), Image: aws.String(amiEUWest1)}},
			wantErr: `record image ` + noAccount + `: image ARN "` + noAccount + `" has no account; nothing written`},
	} {
		for _, event := range []string{"sns-available.json", "eventbridge-available.json"} {
			t.Run(tc.name+"/"+event, func(t *testing.T) {
				w := newWorld(pipelineARN)
				w.h.Images = imageWith(&w.getImages, func(img *ibtypes.Image) {
					img.OutputResources.Amis = tc.amis
					if tc.arn != "" {
						img.Arn = aws.String(tc.arn)
					}
				})
				_, err := w.h.Handle(context.Background(), sample(t, event))
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
				}
				for r, p := range w.regions {
					if len(p.calls) != 0 {
						t.Errorf("%s: SSM calls %v, want none", r, p.calls)
					}
				}
			})
		}
	}
}

func TestPartialFailureNamesTheRegionAndRetryRedoesOnlyIt(t *testing.T) {
	w := newWorld(pipelineARN)
	eu := w.regions["eu-west-1"]
	eu.putParameter = func(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
		return nil, apiErr("SSM", "PutParameter", "TooManyUpdates", "Too many updates")
	}
	got, err := w.h.Handle(context.Background(), sample(t, "sns-available.json"))
	wantErr := "record image " + imageARN + ": failed in 1 of 2 regions (eu-west-1): record " + amiEUWest1 +
		" in eu-west-1: put parameter /golden-ami/latest: operation error SSM: PutParameter, api error TooManyUpdates: Too many updates"
	if err == nil || err.Error() != wantErr {
		t.Fatalf("error = %v\nwant %s", err, wantErr)
	}
	if got.Images[0].Regions["us-east-1"] != OutcomeWritten || got.Images[0].Regions["eu-west-1"] != "failed" {
		t.Errorf("regions = %v", got.Images[0].Regions)
	}
	if w.regions["us-east-1"].value != amiUSEast1 || eu.exists {
		t.Fatalf("after partial failure: us-east-1 %q, eu-west-1 exists=%v", w.regions["us-east-1"].value, eu.exists)
	}

	// The retry (Lambda's, or a redelivery) writes only what is missing.
	eu.putParameter = nil
	usWrites := w.regions["us-east-1"].writes()
	got, err = w.h.Handle(context.Background(), sample(t, "sns-available.json"))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got.Images[0].Regions["us-east-1"] != OutcomeUnchanged || got.Images[0].Regions["eu-west-1"] != OutcomeWritten {
		t.Errorf("retry regions = %v", got.Images[0].Regions)
	}
	if w.regions["us-east-1"].writes() != usWrites {
		t.Errorf("retry rewrote us-east-1: %v", w.regions["us-east-1"].calls)
	}
}

func TestThrottlingIsAWrappedErrorNamingTheOperation(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		w := newWorld(pipelineARN)
		w.regions["us-east-1"].getParameterHistory = func(context.Context, *ssm.GetParameterHistoryInput, ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
			return nil, apiErr("SSM", "GetParameterHistory", "ThrottlingException", "Rate exceeded")
		}
		_, err := w.h.Handle(context.Background(), sample(t, "sns-available.json"))
		want := "record image " + imageARN + ": failed in 1 of 2 regions (us-east-1): record " + amiUSEast1 +
			" in us-east-1: get parameter history of /golden-ami/latest: operation error SSM: GetParameterHistory, api error ThrottlingException: Rate exceeded"
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant %s", err, want)
		}
		if w.regions["eu-west-1"].value != amiEUWest1 {
			t.Error("the other region was not recorded")
		}
	})
	t.Run("GetImage", func(t *testing.T) {
		w := newWorld(pipelineARN)
		w.h.Images = getImageFunc(func(context.Context, *imagebuilder.GetImageInput, ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error) {
			return nil, apiErr("imagebuilder", "GetImage", "CallRateLimitExceededException", "Rate exceeded")
		})
		_, err := w.h.Handle(context.Background(), sample(t, "eventbridge-available.json"))
		want := "get image " + imageARN + ": operation error imagebuilder: GetImage, api error CallRateLimitExceededException: Rate exceeded"
		failedWithoutWriting(t, w, err, want)
	})
	t.Run("tagging", func(t *testing.T) {
		w := newWorld(pipelineARN)
		us := w.regions["us-east-1"]
		us.addTagsToResource = func(context.Context, *ssm.AddTagsToResourceInput, ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
			return nil, apiErr("SSM", "AddTagsToResource", "TooManyUpdates", "Too many updates")
		}
		_, err := w.h.Handle(context.Background(), sample(t, "sns-available.json"))
		want := "record image " + imageARN + ": failed in 1 of 2 regions (us-east-1): record " + amiUSEast1 +
			" in us-east-1: tag parameter /golden-ami/latest: operation error SSM: AddTagsToResource, api error TooManyUpdates: Too many updates"
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant %s", err, want)
		}
		// The value landed but not the tags: the retry repairs only the tags.
		us.addTagsToResource = nil
		got, err := w.h.Handle(context.Background(), sample(t, "sns-available.json"))
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if got.Images[0].Regions["us-east-1"] != OutcomeRetagged || !reflect.DeepEqual(us.tags, wantTags) {
			t.Errorf("retry: outcome %s, tags %v", got.Images[0].Regions["us-east-1"], us.tags)
		}
		puts := 0
		for _, c := range us.calls {
			if c == "PutParameter" {
				puts++
			}
		}
		if puts != 1 {
			t.Errorf("PutParameter calls = %d, want 1", puts)
		}
	})
}

// A late notification of an older build must not roll the parameter back,
// and a build of a changed recipe must be recorded even though its version
// is lower: goldenimage versions recipes 1.<hash>.<hash>, so versions do not
// order builds, creation times do. The event's build is imageARN
// (1.2.0/4), created 2024-07-01T06:10:42.519Z. The recorded build is known
// from the description PutParameter wrote with the value (with its
// creation time since descriptions carry it), or from the tags when the
// description is older or missing, even when tagging failed after the
// value landed.
func TestOnlyALaterBuildKeepsTheParameter(t *testing.T) {
	const recipe = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/"
	sameVersionLater := recipe + "1.2.0/5"
	higherHash := recipe + "1.905723114.33219876/6"
	lowerHash := recipe + "1.1.0/9"
	for _, tc := range []struct {
		name   string
		recent regionParams
		want   string
	}{
		{"tagged with a later build of the same version, no date", regionParams{tags: map[string]string{contract.TagImageARN: sameVersionLater}}, OutcomeStale},
		{"described as a later build of the same version, tags lagging", regionParams{description: descriptionPrefix + sameVersionLater, tags: map[string]string{contract.TagImageARN: recipe + "1.2.0/2"}}, OutcomeStale},
		{"described as built later by a recipe with a lower version", regionParams{description: descriptionPrefix + lowerHash + ", built 2024-07-02T00:00:00Z"}, OutcomeStale},
		{"described as built earlier by a recipe with a higher version", regionParams{description: descriptionPrefix + higherHash + ", built 2024-06-01T00:00:00Z"}, OutcomeWritten},
		{"described without a date, tagged as built later", regionParams{description: descriptionPrefix + higherHash, tags: map[string]string{contract.TagImageARN: higherHash, contract.TagBuildDate: "2024-07-02T00:00:00Z"}}, OutcomeStale},
		{"described without a date, tagged as built earlier", regionParams{description: descriptionPrefix + higherHash, tags: map[string]string{contract.TagImageARN: higherHash, contract.TagBuildDate: "2024-06-01T00:00:00Z"}}, OutcomeWritten},
		{"described without a date, the tags' date of another build", regionParams{description: descriptionPrefix + higherHash, tags: map[string]string{contract.TagImageARN: lowerHash, contract.TagBuildDate: "2024-08-01T00:00:00Z"}}, OutcomeWritten},
		{"another recipe version, no date anywhere", regionParams{description: descriptionPrefix + higherHash}, OutcomeWritten},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(pipelineARN)
			for _, r := range []string{"us-east-1", "eu-west-1"} {
				p := tc.recent
				p.exists, p.value = true, amiPrevious
				w.regions[r] = &p
			}
			got, err := w.h.Handle(context.Background(), sample(t, "sns-available.json"))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if r := got.Images[0].Regions; r["us-east-1"] != tc.want || r["eu-west-1"] != tc.want {
				t.Errorf("regions = %v, want %s", r, tc.want)
			}
			for name, p := range w.regions {
				switch {
				case tc.want == OutcomeStale && (p.writes() != 0 || p.value != amiPrevious):
					t.Errorf("%s was written: %v", name, p.calls)
				case tc.want == OutcomeWritten && (p.value == amiPrevious || p.description != ourDescription):
					t.Errorf("%s = %s (%q), want the event's build recorded", name, p.value, p.description)
				}
			}
		})
	}
}

// Writing a value sets the description that names its build, in the same
// PutParameter.
func TestWriteSetsTheDescription(t *testing.T) {
	w := newWorld(pipelineARN)
	if _, err := w.h.Handle(context.Background(), sample(t, "sns-available.json")); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	for name, p := range w.regions {
		if want := ourDescription; p.description != want {
			t.Errorf("%s description = %q, want %q", name, p.description, want)
		}
	}
}

// An AVAILABLE event (EventBridge's or the SNS message) whose GetImage still
// reports an earlier status (or none) is an error, so Lambda retries it; a
// later status such as DEPRECATED is a final answer and is ignored.
func TestGetImageBehindTheEvent(t *testing.T) {
	for _, tc := range []struct {
		state   *ibtypes.ImageState
		wantErr string
		want    string
	}{
		{state: &ibtypes.ImageState{Status: ibtypes.ImageStatusDistributing},
			wantErr: "get image " + imageARN + `: the event says AVAILABLE but GetImage reports status "DISTRIBUTING"; nothing written, retry later`},
		{state: &ibtypes.ImageState{Status: ibtypes.ImageStatusPending},
			wantErr: "get image " + imageARN + `: the event says AVAILABLE but GetImage reports status "PENDING"; nothing written, retry later`},
		{state: nil,
			wantErr: "get image " + imageARN + `: the event says AVAILABLE but GetImage reports status ""; nothing written, retry later`},
		{state: &ibtypes.ImageState{Status: ibtypes.ImageStatusDeprecated}, want: "image status DEPRECATED is not AVAILABLE"},
		{state: &ibtypes.ImageState{Status: ibtypes.ImageStatusDisabled}, want: "image status DISABLED is not AVAILABLE"},
		{state: &ibtypes.ImageState{Status: ibtypes.ImageStatusDeleted}, want: "image status DELETED is not AVAILABLE"},
		{state: &ibtypes.ImageState{Status: ibtypes.ImageStatusFailed, Reason: aws.String("distribution failed")}, want: "image is FAILED: distribution failed"},
	} {
		for _, event := range []string{"eventbridge-available.json", "sns-available.json"} {
			w := newWorld(pipelineARN)
			w.h.Images = imageWith(&w.getImages, func(img *ibtypes.Image) { img.State = tc.state })
			got, err := w.h.Handle(context.Background(), sample(t, event))
			switch {
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Errorf("%s, state %v: error = %v\nwant %s", event, tc.state, err, tc.wantErr)
			case tc.wantErr == "" && (err != nil || len(got.Images) != 1 || got.Images[0].Reason != tc.want):
				t.Errorf("%s, state %v: %+v, %v; want ignored with %q", event, tc.state, got, err, tc.want)
			}
			if w.totalCalls() != 0 || len(w.getImages) != 1 {
				t.Errorf("%s, state %v: SSM calls = %d, GetImage calls %v; want none and one", event, tc.state, w.totalCalls(), w.getImages)
			}
		}
	}
}

// A GetImage answer without an image is an error naming the image, and
// nothing is written.
func TestGetImageWithoutAnImageIsAnError(t *testing.T) {
	for _, event := range []string{"eventbridge-available.json", "sns-available.json"} {
		t.Run(event, func(t *testing.T) {
			w := newWorld(pipelineARN)
			w.h.Images = getImageFunc(func(_ context.Context, in *imagebuilder.GetImageInput, _ ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error) {
				w.getImages = append(w.getImages, aws.ToString(in.ImageBuildVersionArn))
				return &imagebuilder.GetImageOutput{}, nil
			})
			got, err := w.h.Handle(context.Background(), sample(t, event))
			if want := "get image " + imageARN + ": response has no image"; err == nil || err.Error() != want {
				t.Errorf("error = %v\nwant %s", err, want)
			}
			if len(got.Images) != 0 {
				t.Errorf("result = %+v, want no image decided", got)
			}
			if w.totalCalls() != 0 || len(w.getImages) != 1 {
				t.Errorf("SSM calls = %d, GetImage calls %v; want none and one", w.totalCalls(), w.getImages)
			}
		})
	}
}

func TestNewerBuild(t *testing.T) {
	base := "arn:aws:imagebuilder:us-east-1:123456789012:image/golden/"
	at := func(arn, date string) build {
		b := build{ARN: arn}
		if date != "" {
			var ok bool
			if b.Created, ok = buildTime(date); !ok {
				t.Fatalf("buildTime(%q) failed", date)
			}
		}
		return b
	}
	for _, tc := range []struct {
		name                string
		recorded, candidate build
		want                bool
	}{
		{"created later, lower recipe version", at(base+"1.2.0/1", "2024-07-02T00:00:00Z"), at(base+"1.905723114.33219876/6", "2024-07-01T00:00:00Z"), true},
		{"created earlier, higher recipe version", at(base+"1.905723114.33219876/6", "2024-07-01T00:00:00Z"), at(base+"1.2.0/1", "2024-07-02T00:00:00Z"), false},
		{"created earlier, higher build number", at(base+"1.2.0/5", "2024-07-01T00:00:00Z"), at(base+"1.2.0/4", "2024-07-01T00:00:01Z"), false},
		{"dates to the millisecond", at(base+"1.2.0/4", "2024-07-01T06:10:42.520Z"), at(base+"1.3.0/1", "2024-07-01T06:10:42.519Z"), true},
		{"another image, created later", at("arn:aws:imagebuilder:us-east-1:123456789012:image/other/1.0.0/1", "2024-07-02T00:00:00Z"), at(base+"1.0.0/1", "2024-07-01T00:00:00Z"), true},
		{"undated, same version, higher build", at(base+"1.2.0/5", ""), at(base+"1.2.0/4", "2024-07-01T00:00:00Z"), true},
		{"undated, same version, lower build", at(base+"1.2.0/4", ""), at(base+"1.2.0/10", "2024-07-01T00:00:00Z"), false},
		{"same date, same version, higher build", at(base+"1.2.0/5", "2024-07-01T00:00:00Z"), at(base+"1.2.0/4", "2024-07-01T00:00:00Z"), true},
		{"undated, another recipe version", at(base+"1.10.0/1", ""), at(base+"1.9.0/7", "2024-07-01T00:00:00Z"), false},
		{"undated candidate, another recipe version", at(base+"1.10.0/1", "2024-07-02T00:00:00Z"), at(base+"1.9.0/7", ""), false},
		{"undated, another image", at("arn:aws:imagebuilder:us-east-1:123456789012:image/other/9.0.0/1", ""), at(base+"1.0.0/1", ""), false},
		{"the same build", at(base+"1.2.0/4", "2024-07-02T00:00:00Z"), at(base+"1.2.0/4", "2024-07-01T00:00:00Z"), false},
		{"nothing recorded", at("", ""), at(base+"1.0.0/1", ""), false},
		{"not an ARN", at("not-an-arn", ""), at(base+"1.0.0/1", ""), false},
	} {
		if got := newerBuild(tc.recorded, tc.candidate); got != tc.want {
			t.Errorf("%s: newerBuild(%+v, %+v) = %v, want %v", tc.name, tc.recorded, tc.candidate, got, tc.want)
		}
	}
}

// A description reads back as the build it was written for; one without a
// date (written before descriptions named it) reads as an undated build.
func TestDescriptionRoundTrip(t *testing.T) {
	created, _ := buildTime("2024-07-01T06:10:42.519Z")
	for _, b := range []build{{ARN: imageARN, Created: created}, {ARN: imageARN}} {
		d := b.description()
		got, ok := parseDescription(d)
		if !ok || got.ARN != b.ARN || !got.Created.Equal(b.Created) {
			t.Errorf("parseDescription(%q) = %+v, %v; want %+v", d, got, ok, b)
		}
	}
	if want := "Golden AMI from " + imageARN + ", built 2024-07-01T06:10:42.519Z"; (build{ARN: imageARN, Created: created}).description() != want {
		t.Errorf("description = %q, want %q", (build{ARN: imageARN, Created: created}).description(), want)
	}
	if b, ok := parseDescription("pinned by hand"); ok {
		t.Errorf("parseDescription of another writer's description = %+v, true", b)
	}
}

func TestBuildDateAndTagValue(t *testing.T) {
	for in, want := range map[string]string{
		"Jul 1, 2024 6:10:42 AM":   "2024-07-01T06:10:42Z",
		"Jul 28, 2022 1:13:45 PM":  "2022-07-28T13:13:45Z",
		"2024-07-01T06:10:42.519Z": "2024-07-01T06:10:42Z",
		// Another offset is the same instant in UTC.
		"2024-07-01T08:10:42+02:00":     "2024-07-01T06:10:42Z",
		"2024-06-30T23:40:42.999-06:30": "2024-07-01T06:10:42Z",
		"sometime (soon)":               "sometime _soon_",
	} {
		if got := buildDate(in); got != want {
			t.Errorf("buildDate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		want    config
		wantErr string
	}{
		{env: map[string]string{"SSM_PARAMETER_NAME": paramName}, want: config{ParameterName: paramName}},
		{env: map[string]string{"SSM_PARAMETER_NAME": paramName, "IMAGE_PIPELINE_ARN": pipelineARN}, want: config{ParameterName: paramName, PipelineARN: pipelineARN}},
		{env: map[string]string{}, wantErr: `latestami: SSM_PARAMETER_NAME="" is not an SSM parameter name (want e.g. /golden-ami/latest)`},
		{env: map[string]string{"SSM_PARAMETER_NAME": paramName, "SSM_PARAMETER_TIER": "Advanced"}, want: config{ParameterName: paramName, ParameterTier: ssmtypes.ParameterTierAdvanced}},
		{env: map[string]string{"SSM_PARAMETER_NAME": paramName, "SSM_PARAMETER_TIER": "advanced"},
			wantErr: `latestami: SSM_PARAMETER_TIER="advanced" is not a parameter tier (want Standard, Advanced or Intelligent-Tiering, or unset for Parameter Store's default)`},
		{env: map[string]string{"SSM_PARAMETER_NAME": paramName, "IMAGE_PIPELINE_ARN": "golden-ami"},
			wantErr: `latestami: IMAGE_PIPELINE_ARN="golden-ami" is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>, or unset to accept every pipeline)`},
	} {
		got, err := configFromEnv(func(k string) string { return tc.env[k] })
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("configFromEnv(%v) error = %v\nwant %s", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("configFromEnv(%v) = %+v, %v", tc.env, got, err)
		}
	}
}

// Every sample in testdata decodes to the expected shape.
func TestSamplesDecode(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	sort.Strings(files)
	if len(files) < 8 {
		t.Fatalf("only %d samples", len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		_, err := decodeEvent(b)
		malformed := strings.Contains(f, "not-json") || strings.Contains(f, "missing")
		if malformed != (err != nil) {
			t.Errorf("%s: decodeEvent error = %v", f, err)
		}
	}
}

// put retries what the retryer deems retryable, reading the parameter before
// each retry, and nothing else.
// The configured tier goes with every write (Advanced, so the parameter can
// be shared through AWS RAM); without one, no tier is sent.
func TestWritesTheConfiguredTier(t *testing.T) {
	for _, tier := range []ssmtypes.ParameterTier{"", ssmtypes.ParameterTierAdvanced} {
		w := newWorld(pipelineARN)
		w.h.ParameterTier = tier
		var got []ssmtypes.ParameterTier
		for _, p := range w.regions {
			p.putParameter = func(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
				got = append(got, in.Tier)
				p.exists, p.value, p.description = true, aws.ToString(in.Value), aws.ToString(in.Description)
				return &ssm.PutParameterOutput{Version: 2}, nil
			}
		}
		if _, err := w.h.Handle(context.Background(), sample(t, "sns-available.json")); err != nil {
			t.Fatalf("tier %q: %v", tier, err)
		}
		if len(got) != 2 || got[0] != tier || got[1] != tier {
			t.Errorf("tier %q: PutParameter tiers = %q, want %q in both regions", tier, got, tier)
		}
	}
}

// httpErr is an SSM error as the SDK returns it: an API error inside the
// HTTP response error that carries the status.
func httpErr(status int, code, msg string) error {
	return &smithy.OperationError{ServiceID: "SSM", OperationName: "PutParameter", Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: &smithy.GenericAPIError{Code: code, Message: msg},
	}}}
}

func TestPutRetriesAndConfirms(t *testing.T) {
	const never = -1
	for _, tc := range []struct {
		name string
		errs []error // answers to PutParameter attempts, then success
		// failedApplied: the first failed attempt reached SSM anyway.
		failedApplied bool
		// shownAfter: reads of the history that still show the old version
		// after a write SSM applied (validation running); never: it fails.
		shownAfter int
		wantPuts   int
		wantReads  int
		wantWaits  []time.Duration // confirmation waits, after Retryer's delays
		// historyErr answers every read of the history; delayErr answers
		// the Retryer's RetryDelay.
		historyErr, delayErr error
		wantErr              string
	}{
		{name: "written and shown at once", wantPuts: 1, wantReads: 1},
		{name: "a 200 is confirmed once validation lets the version show", shownAfter: 2,
			wantPuts: 1, wantReads: 3, wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{name: "a 200 whose version never shows is an error", shownAfter: never,
			wantPuts: 1, wantReads: 4, wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond},
			wantErr: "PutParameter answered version 8, but the history did not show " + amiUSEast1 + " within 1s: " +
				"Parameter Store's asynchronous aws:ec2:image validation failed or has not finished; not recorded, retry later"},
		{name: "throttled twice, then written: refused requests are not looked for", errs: []error{
			httpErr(400, "TooManyUpdates", "slow down"), httpErr(400, "ThrottlingException", "Rate exceeded"),
		}, wantPuts: 3, wantReads: 1},
		{name: "a 500 that was applied is not written again", errs: []error{httpErr(500, "InternalServerError", "internal error")},
			failedApplied: true, wantPuts: 1, wantReads: 1},
		{name: "a 500 whose write is still being validated is not written again", errs: []error{httpErr(500, "InternalServerError", "internal error")},
			failedApplied: true, shownAfter: 2, wantPuts: 1, wantReads: 3, wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{name: "a 500 that was not applied is written again after the confirmation wait", errs: []error{httpErr(500, "InternalServerError", "internal error")},
			wantPuts: 2, wantReads: 5, wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}},
		{name: "access denied is not retried", errs: []error{apiErr("SSM", "PutParameter", "AccessDeniedException", "not allowed")},
			wantPuts: 1, wantErr: "operation error SSM: PutParameter, api error AccessDeniedException: not allowed"},
		{name: "a 200 whose confirmation read fails is an error naming the answered version",
			historyErr: apiErr("SSM", "GetParameterHistory", "ThrottlingException", "Rate exceeded"), wantPuts: 1, wantReads: 1,
			wantErr: "PutParameter answered version 8, then: get parameter history of /golden-ami/latest: operation error SSM: GetParameterHistory, api error ThrottlingException: Rate exceeded"},
		{name: "a 500 whose confirmation read fails is an error naming both", errs: []error{httpErr(500, "InternalServerError", "internal error")},
			historyErr: apiErr("SSM", "GetParameterHistory", "ThrottlingException", "Rate exceeded"), wantPuts: 1, wantReads: 1,
			wantErr: httpErr(500, "InternalServerError", "internal error").Error() + "\n" +
				"get parameter history of /golden-ami/latest: operation error SSM: GetParameterHistory, api error ThrottlingException: Rate exceeded"},
		{name: "a retry delay that fails is an error naming both", errs: []error{httpErr(500, "InternalServerError", "internal error")},
			delayErr: errors.New("failed to get rate limit token, retry quota exceeded, 0 available, 10 requested"), wantPuts: 1,
			wantErr: httpErr(500, "InternalServerError", "internal error").Error() + "\n" +
				"failed to get rate limit token, retry quota exceeded, 0 available, 10 requested"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &regionParams{}
			puts, reads := 0, 0
			var pending *ssm.PutParameterInput
			pendingReads := 0
			write := func(in *ssm.PutParameterInput) {
				if tc.shownAfter != never {
					pending, pendingReads = in, tc.shownAfter
				}
			}
			p.putParameter = func(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
				puts++
				if puts <= len(tc.errs) {
					if puts == 1 && tc.failedApplied {
						write(in)
					}
					return nil, tc.errs[puts-1]
				}
				write(in)
				return &ssm.PutParameterOutput{Version: 8}, nil
			}
			p.getParameterHistory = func(ctx context.Context, in *ssm.GetParameterHistoryInput, _ ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
				reads++
				if tc.historyErr != nil {
					return nil, tc.historyErr
				}
				if pending != nil {
					if pendingReads == 0 {
						p.exists, p.value, p.description = true, aws.ToString(pending.Value), aws.ToString(pending.Description)
						pending = nil
					} else {
						pendingReads--
					}
				}
				if !p.exists {
					return nil, &ssmtypes.ParameterNotFound{Message: aws.String("not found")}
				}
				return &ssm.GetParameterHistoryOutput{Parameters: []ssmtypes.ParameterHistory{{Name: in.Name, Value: aws.String(p.value), Description: aws.String(p.description), Version: 8}}}, nil
			}
			var waits []time.Duration
			h := &Handler{ParameterName: paramName, Retryer: awsconfig.NewRetryer(time.Millisecond), ConfirmTimeout: time.Second,
				sleep: func(_ context.Context, d time.Duration) error {
					if d >= 100*time.Millisecond { // the Retryer's own delays are at most 1 ms here
						waits = append(waits, d)
					}
					return nil
				}}
			if tc.delayErr != nil {
				h.Retryer = failingDelay{Retryer: h.Retryer, err: tc.delayErr}
			}
			err := h.put(context.Background(), p, amiUSEast1, ourDescription)
			if (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr)) {
				t.Fatalf("put error = %v, want %q", err, tc.wantErr)
			}
			if puts != tc.wantPuts || reads != tc.wantReads {
				t.Errorf("PutParameter %d times, history read %d times; want %d and %d", puts, reads, tc.wantPuts, tc.wantReads)
			}
			if !slices.Equal(waits, tc.wantWaits) {
				t.Errorf("confirmation waits = %v, want %v", waits, tc.wantWaits)
			}
			if tc.wantErr == "" && (p.value != amiUSEast1 || p.description != ourDescription) {
				t.Errorf("parameter = %q (%q)", p.value, p.description)
			}
		})
	}
}

// failingDelay is a Retryer whose RetryDelay fails, as the SDK's does when
// its retry quota is spent.
type failingDelay struct {
	aws.Retryer
	err error
}

func (r failingDelay) RetryDelay(int, error) (time.Duration, error) { return 0, r.err }

// A write is confirmed only by a version at least the one PutParameter
// answered that holds the AMI with this write's description: the same AMI
// written by someone else, or left by an earlier write below the answered
// version, is not this write showing, so put waits it out and fails.
func TestConfirmNeedsOurDescriptionAtTheAnsweredVersion(t *testing.T) {
	ours := ourDescription
	notShown := "PutParameter answered version 8, but the history did not show " + amiUSEast1 + " within 1s: " +
		"Parameter Store's asynchronous aws:ec2:image validation failed or has not finished; not recorded, retry later"
	allWaits := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	for _, tc := range []struct {
		name      string
		history   []ssmtypes.ParameterHistory // what every read shows; PutParameter answers version 8
		wantErr   string
		wantReads int
		wantWaits []time.Duration
	}{
		{name: "the AMI with another writer's description is not this write",
			history: []ssmtypes.ParameterHistory{
				{Value: aws.String(amiPrevious), Description: aws.String(ours), Version: 7},
				{Value: aws.String(amiUSEast1), Description: aws.String("pinned by hand during INC-4211"), Version: 8},
			},
			wantErr: notShown, wantReads: 4, wantWaits: allWaits},
		{name: "the AMI with another build's description is not this write",
			history: []ssmtypes.ParameterHistory{
				{Value: aws.String(amiUSEast1), Description: aws.String(descriptionPrefix + "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/3"), Version: 8},
			},
			wantErr: notShown, wantReads: 4, wantWaits: allWaits},
		{name: "the AMI only below the answered version is not this write",
			history: []ssmtypes.ParameterHistory{
				{Value: aws.String(amiPrevious), Description: aws.String("seed"), Version: 6},
				{Value: aws.String(amiUSEast1), Description: aws.String(ours), Version: 7},
			},
			wantErr: notShown, wantReads: 4, wantWaits: allWaits},
		{name: "the answered version with the AMI and this description confirms",
			history: []ssmtypes.ParameterHistory{
				{Value: aws.String(amiPrevious), Description: aws.String("seed"), Version: 7},
				{Value: aws.String(amiUSEast1), Description: aws.String(ours), Version: 8},
			},
			wantReads: 1},
		{name: "a later version with the AMI and this description confirms",
			history: []ssmtypes.ParameterHistory{
				{Value: aws.String(amiUSEast1), Description: aws.String(ours), Version: 9},
			},
			wantReads: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &regionParams{}
			puts, reads := 0, 0
			p.putParameter = func(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
				puts++
				return &ssm.PutParameterOutput{Version: 8}, nil
			}
			p.getParameterHistory = func(_ context.Context, in *ssm.GetParameterHistoryInput, _ ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
				reads++
				return &ssm.GetParameterHistoryOutput{Parameters: tc.history}, nil
			}
			var waits []time.Duration
			h := &Handler{ParameterName: paramName, Retryer: awsconfig.NewRetryer(time.Millisecond), ConfirmTimeout: time.Second,
				sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			err := h.put(context.Background(), p, amiUSEast1, ourDescription)
			if (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr)) {
				t.Fatalf("put error = %v\nwant %q", err, tc.wantErr)
			}
			if puts != 1 || reads != tc.wantReads {
				t.Errorf("PutParameter %d times, history read %d times; want 1 and %d", puts, reads, tc.wantReads)
			}
			if !slices.Equal(waits, tc.wantWaits) {
				t.Errorf("confirmation waits = %v, want %v", waits, tc.wantWaits)
			}
		})
	}
}

// imageWith is availableImage with change applied to the image GetImage
// returns.
func imageWith(calls *[]string, change func(*ibtypes.Image)) getImageFunc {
	inner := availableImage(calls)
	return func(ctx context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error) {
		out, err := inner(ctx, in, optFns...)
		if err == nil {
			change(out.Image)
		}
		return out, err
	}
}

// snsEvent is an SNS event whose one record's message is message.
func snsEvent(t *testing.T, message string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"EventSource": "aws:sns", "Sns": map[string]any{"MessageId": "0a1b2c3d-0000-4000-8000-00000000000f", "Message": message},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ami(region, id, accountID string) ibtypes.Ami {
	return ibtypes.Ami{Region: aws.String(region), Image: aws.String(id), AccountId: aws.String(accountID)}
}

// The SNS message's "arn" must be an image build version ARN, as the
// EventBridge event's resources[0] must: anything else is an error naming
// the field and value, and nothing is read or written.
func TestSNSMessageARNMustBeAnImageBuildVersion(t *testing.T) {
	for _, arn := range []string{
		"arn:aws:s3:us-east-1:123456789012:bucket/x",
		"arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden-ami",
		"arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0",
		"golden-ami-recipe/1.2.0/4",
	} {
		t.Run(arn, func(t *testing.T) {
			w := newWorld(pipelineARN)
			msg := `{"arn":"` + arn + `","state":{"status":"AVAILABLE"},"outputResources":{"amis":[{"region":"us-east-1","image":"` + amiUSEast1 + `"}]}}`
			_, err := w.h.Handle(context.Background(), snsEvent(t, msg))
			want := `malformed event: Records[0].Sns.Message: field "arn" = "` + arn + `" is not an image build version ARN`
			if err == nil || err.Error() != want {
				t.Fatalf("error = %v\nwant %s", err, want)
			}
			if w.totalCalls() != 0 || len(w.getImages) != 0 {
				t.Errorf("calls: SSM %d, GetImage %v; want none", w.totalCalls(), w.getImages)
			}
		})
	}
}

// Anyone allowed to publish to the topic can send any message, so the SNS
// path, like the EventBridge one, takes only the image ARN (and its status,
// to skip images that are not AVAILABLE) from the message and records what
// GetImage reports: its AMIs, account, pipeline and status.
func TestSNSRecordsWhatGetImageReportsNotTheMessage(t *testing.T) {
	forged := `{"arn":"` + imageARN + `","state":{"status":"AVAILABLE"},"sourcePipelineArn":"` + pipelineARN + `",` +
		`"outputResources":{"amis":[` +
		`{"region":"us-east-1","image":"ami-0badbadbadbadbad0","accountId":"` + account + `"},` +
		`{"region":"us-west-2","image":"ami-0badbadbadbadbad1","accountId":"` + account + `"}]}}`
	t.Run("forged AMIs", func(t *testing.T) {
		w := newWorld(pipelineARN)
		got, err := w.h.Handle(context.Background(), snsEvent(t, forged))
		recordedWhatGetImageReports(t, w, got, err)
		if _, ok := w.regions["us-west-2"]; ok {
			t.Errorf("us-west-2, named only by the message, was touched: %v", w.regions["us-west-2"].calls)
		}
	})
	t.Run("a message without AMIs", func(t *testing.T) {
		w := newWorld(pipelineARN)
		got, err := w.h.Handle(context.Background(), snsEvent(t, `{"arn":"`+imageARN+`","state":{"status":"AVAILABLE"}}`))
		if err != nil || len(got.Images) != 1 || got.Images[0].Decision != DecisionRecorded || w.regions["us-east-1"].value != amiUSEast1 {
			t.Fatalf("Handle = %+v, %v; want recorded from GetImage", got, err)
		}
	})
	t.Run("GetImage names another pipeline", func(t *testing.T) {
		w := newWorld(pipelineARN)
		other := "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/someone-else"
		w.h.Images = imageWith(&w.getImages, func(img *ibtypes.Image) { img.SourcePipelineArn = aws.String(other) })
		got, err := w.h.Handle(context.Background(), snsEvent(t, forged))
		want := Result{Images: []ImageResult{{ImageARN: imageARN, Decision: DecisionIgnored,
			Reason: `image comes from pipeline "` + other + `", not ` + pipelineARN}}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Handle = %+v, %v\nwant %+v", got, err, want)
		}
		if w.totalCalls() != 0 {
			t.Errorf("SSM calls = %d, want 0", w.totalCalls())
		}
	})
	t.Run("GetImage names another account's AMIs only", func(t *testing.T) {
		w := newWorld(pipelineARN)
		w.h.Images = imageWith(&w.getImages, func(img *ibtypes.Image) {
			img.OutputResources.Amis = []ibtypes.Ami{ami("us-east-1", amiUSEast1, "210987654321")}
		})
		_, err := w.h.Handle(context.Background(), snsEvent(t, forged))
		want := `record image ` + imageARN + `: image is AVAILABLE but has no AMI owned by account 123456789012; nothing written`
		failedWithoutWriting(t, w, err, want)
	})
	t.Run("GetImage fails", func(t *testing.T) {
		w := newWorld(pipelineARN)
		w.h.Images = getImageFunc(func(context.Context, *imagebuilder.GetImageInput, ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error) {
			return nil, apiErr("imagebuilder", "GetImage", "AccessDeniedException", "not authorized to perform imagebuilder:GetImage")
		})
		_, err := w.h.Handle(context.Background(), snsEvent(t, forged))
		want := "get image " + imageARN + ": operation error imagebuilder: GetImage, api error AccessDeniedException: not authorized to perform imagebuilder:GetImage"
		failedWithoutWriting(t, w, err, want)
	})
}

// statusDecisions are every status Image Builder documents for an image
// (ImageState.status), with the decision for an event that reports it.
var statusDecisions = map[string]string{
	"PENDING": "image status PENDING is not AVAILABLE", "CREATING": "image status CREATING is not AVAILABLE",
	"BUILDING": "image status BUILDING is not AVAILABLE", "TESTING": "image status TESTING is not AVAILABLE",
	"DISTRIBUTING": "image status DISTRIBUTING is not AVAILABLE", "INTEGRATING": "image status INTEGRATING is not AVAILABLE",
	"AVAILABLE": DecisionRecorded,
	"CANCELLED": "image is CANCELLED", "FAILED": "image is FAILED",
	"DEPRECATED": "image status DEPRECATED is not AVAILABLE", "DELETED": "image status DELETED is not AVAILABLE",
	"DISABLED": "image status DISABLED is not AVAILABLE",
}

// Every documented status is decided: AVAILABLE is recorded, the others are
// ignored without reading or writing anything.
func TestEveryImageStatusIsDecided(t *testing.T) {
	if len(statusDecisions) != len(ibtypes.ImageStatus("").Values()) {
		t.Fatalf("the SDK knows %d image statuses, the test %d: %v", len(ibtypes.ImageStatus("").Values()), len(statusDecisions), ibtypes.ImageStatus("").Values())
	}
	for status, want := range statusDecisions {
		for _, kind := range []string{"sns", "eventbridge"} {
			t.Run(status+"/"+kind, func(t *testing.T) {
				w := newWorld(pipelineARN)
				raw := snsEvent(t, `{"arn":"`+imageARN+`","state":{"status":"`+status+`"}}`)
				if kind == "eventbridge" {
					raw = json.RawMessage(`{"source":"aws.imagebuilder","detail-type":"EC2 Image Builder Image State Change","resources":["` + imageARN + `"],"detail":{"state":{"status":"` + status + `"}}}`)
				}
				got, err := w.h.Handle(context.Background(), raw)
				if err != nil {
					t.Fatalf("Handle: %v", err)
				}
				if want == DecisionRecorded {
					if len(got.Images) != 1 || got.Images[0].Decision != DecisionRecorded {
						t.Errorf("result = %+v, want recorded", got)
					}
					return
				}
				wantRes := Result{Images: []ImageResult{{ImageARN: imageARN, Decision: DecisionIgnored, Reason: want}}}
				if !reflect.DeepEqual(got, wantRes) {
					t.Errorf("result = %+v\nwant %+v", got, wantRes)
				}
				if w.totalCalls() != 0 || len(w.getImages) != 0 {
					t.Errorf("calls: SSM %d, GetImage %v; want none", w.totalCalls(), w.getImages)
				}
			})
		}
	}
}

// A status Image Builder does not document (a new one, or "available" in
// lower case) is not taken for one of the statuses that are ignored: it is
// an error naming the field and value, and nothing is written.
func TestUnknownImageStatusIsAnError(t *testing.T) {
	const want = "(want one of PENDING, CREATING, BUILDING, TESTING, DISTRIBUTING, INTEGRATING, AVAILABLE, CANCELLED, FAILED, DEPRECATED, DELETED, DISABLED)"
	for _, tc := range []struct {
		name     string
		event    json.RawMessage
		getImage string // the status GetImage reports; "" leaves AVAILABLE
		wantErr  string
	}{
		{name: "EventBridge BOGUS",
			event:   json.RawMessage(`{"source":"aws.imagebuilder","detail-type":"EC2 Image Builder Image State Change","resources":["` + imageARN + `"],"detail":{"state":{"status":"BOGUS"}}}`),
			wantErr: `malformed event: field "detail.state.status" = "BOGUS" is not an Image Builder image status ` + want},
		{name: "EventBridge lower case",
			event:   json.RawMessage(`{"source":"aws.imagebuilder","detail-type":"EC2 Image Builder Image State Change","resources":["` + imageARN + `"],"detail":{"state":{"status":"available"}}}`),
			wantErr: `malformed event: field "detail.state.status" = "available" is not an Image Builder image status ` + want},
		{name: "SNS lower case", event: snsEvent(t, `{"arn":"`+imageARN+`","state":{"status":"available"}}`),
			wantErr: `malformed event: Records[0].Sns.Message: field "state.status" = "available" is not an Image Builder image status ` + want + ` (image ` + imageARN + `)`},
		{name: "SNS BOGUS", event: snsEvent(t, `{"arn":"`+imageARN+`","state":{"status":"BOGUS"}}`),
			wantErr: `malformed event: Records[0].Sns.Message: field "state.status" = "BOGUS" is not an Image Builder image status ` + want + ` (image ` + imageARN + `)`},
		{name: "GetImage BOGUS after an EventBridge event", event: sample(t, "eventbridge-available.json"), getImage: "BOGUS",
			wantErr: `get image ` + imageARN + `: field "image.state.status" = "BOGUS" is not an Image Builder image status ` + want + `; nothing written`},
		{name: "GetImage lower case after an SNS message", event: sample(t, "sns-available.json"), getImage: "available",
			wantErr: `get image ` + imageARN + `: field "image.state.status" = "available" is not an Image Builder image status ` + want + `; nothing written`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(pipelineARN)
			if tc.getImage != "" {
				w.h.Images = imageWith(&w.getImages, func(img *ibtypes.Image) { img.State.Status = ibtypes.ImageStatus(tc.getImage) })
			}
			_, err := w.h.Handle(context.Background(), tc.event)
			failedWithoutWriting(t, w, err, tc.wantErr)
		})
	}
}

// checkRegion is validate.Region written out (see its comment): the same
// verdict and the same error for every input.
func TestCheckRegionAgreesWithValidateRegion(t *testing.T) {
	for _, s := range []string{
		"us-east-1", "eu-central-1", "us-gov-west-1", "us-iso-east-1", "cn-northwest-1", "ap-southeast-7", "il-central-1", "xx-abc-def-99",
		"", "-", "--", "us", "us-east", "us-east-", "-us-east-1", "us--east-1", "us-east-1-", "us-east-100", "us-east-01", "us-east-1a",
		"US-EAST-1", "u-east-1", "usa-east-1", "us-1", "us-e4st-1", "us_east_1", "us-east-1\n", " us-east-1", "not a region",
		"eu-west-1/../x", "eusc-de-east-1", "eusco-de-east-1", "us-east-١",
	} {
		got, want := checkRegion(s), validate.Region(s)
		if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
			t.Errorf("checkRegion(%q) = %v, validate.Region = %v", s, got, want)
		}
	}
}

// The statuses the recorder knows are exactly those the SDK enumerates, so
// an SDK that learns a new one makes this test, not an event, say so.
func TestImageStatusesAreTheSDKs(t *testing.T) {
	var sdk []string
	for _, v := range ibtypes.ImageStatus("").Values() {
		sdk = append(sdk, string(v))
	}
	if !reflect.DeepEqual(contract.ImageStatuses, sdk) {
		t.Errorf("contract.ImageStatuses = %v\nthe SDK's ImageStatus values = %v", contract.ImageStatuses, sdk)
	}
}

// failedWithoutWriting checks that Handle failed with exactly want and made
// no SSM call.
func failedWithoutWriting(t *testing.T, w *world, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	if w.totalCalls() != 0 {
		t.Errorf("SSM calls = %d, want 0", w.totalCalls())
	}
}

// recordedWhatGetImageReports checks that Handle read the image once and
// wrote the AMIs GetImage reports for this account, with the provenance
// tags, in exactly the two distribution regions.
func recordedWhatGetImageReports(t *testing.T, w *world, got Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	want := Result{Images: []ImageResult{{ImageARN: imageARN, Decision: DecisionRecorded,
		Regions: map[string]string{"us-east-1": OutcomeWritten, "eu-west-1": OutcomeWritten}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result = %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(w.getImages, []string{imageARN}) {
		t.Errorf("GetImage calls = %v, want [%s]", w.getImages, imageARN)
	}
	for region, ami := range map[string]string{"us-east-1": amiUSEast1, "eu-west-1": amiEUWest1} {
		if p := w.regions[region]; p == nil || p.value != ami || !reflect.DeepEqual(p.tags, wantTags) {
			t.Errorf("%s = %+v; want GetImage's %s (this account's AMI only), tags %v", region, p, ami, wantTags)
		}
	}
	if len(w.regions) != 2 {
		t.Errorf("regions touched = %d, want 2", len(w.regions))
	}
}

// A service that repeats a NextToken would have the history read again and
// again until the function times out; the read stops with an error naming
// the token, and nothing is written in that region.
func TestRepeatedHistoryTokenStopsTheRead(t *testing.T) {
	w := newWorld(pipelineARN)
	reads := 0
	w.regions["eu-west-1"].getParameterHistory = func(_ context.Context, in *ssm.GetParameterHistoryInput, _ ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
		if reads++; reads > 10 {
			return nil, errors.New("read 10 times")
		}
		return &ssm.GetParameterHistoryOutput{NextToken: aws.String("same"), Parameters: []ssmtypes.ParameterHistory{
			{Name: in.Name, Value: aws.String(amiPrevious), Version: int64(reads)}}}, nil
	}
	_, err := w.h.Handle(context.Background(), sample(t, "sns-available.json"))
	want := `get parameter history of ` + paramName + `: the service returned NextToken "same" a second time (after 2 pages); stopping rather than reading the same pages again`
	if err == nil || !strings.Contains(err.Error(), want) || reads != 2 || w.regions["eu-west-1"].writes() != 0 {
		t.Errorf("err = %v after %d reads, %d writes in eu-west-1; want an error containing %q after 2 reads and no write", err, reads, w.regions["eu-west-1"].writes(), want)
	}
}
