package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// These tests run the production wiring (newHandler: awsconfig.Load, the
// real SDK clients and retryer, one SSM client per region) against fakeaws
// through AWS_ENDPOINT_URL. The fake tells regions apart by the SigV4
// credential scope, so each region's parameter is separate.

func setupIntegration(t *testing.T, pipeline string) (*fakeaws.Server, *Handler) {
	t.Helper()
	srv := fakeaws.New(t)
	srv.Setenv(t, "us-east-1")
	h, err := newHandler(context.Background(), config{ParameterName: paramName, PipelineARN: pipeline}, awsconfig.WithMaxBackoff(time.Millisecond))
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	h.ConfirmTimeout = time.Second // reads at 0, 0.1, 0.3 and 0.7 s
	return srv, h
}

var imageAMIs = map[string]string{"us-east-1": amiUSEast1, "eu-west-1": amiEUWest1, "ap-southeast-2": "ami-0b2c3d4e5f6071829"}

func addImage(srv *fakeaws.Server) {
	img := fakeaws.Image{ARN: imageARN, Status: "AVAILABLE", PipelineARN: pipelineARN, RecipeARN: recipeARN, DateCreated: "2024-07-01T06:10:42.519Z"}
	for region, ami := range imageAMIs {
		img.AMIs = append(img.AMIs, fakeaws.AMI{Region: region, ImageID: ami, AccountID: account})
	}
	img.AMIs = append(img.AMIs, fakeaws.AMI{Region: "eu-west-1", ImageID: "ami-0fedcba9876543210", AccountID: "210987654321"})
	srv.AddImage(img)
}

func TestIntegrationEveryRegionExactlyOnceThroughFaults(t *testing.T) {
	srv, h := setupIntegration(t, pipelineARN)
	addImage(srv)
	srv.SetParameter("us-east-1", paramName, amiPrevious)
	srv.Inject(fakeaws.Fault{Operation: "GetImage", Status: 429, Code: "CallRateLimitExceededException", Message: "Rate exceeded"})
	srv.Inject(fakeaws.Fault{Operation: "GetParameterHistory", Region: "us-east-1", Code: "ThrottlingException"})
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Region: "eu-west-1", Code: "TooManyUpdates", Times: 2})
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Region: "us-east-1", Status: 500, Code: "InternalServerError"})
	srv.Inject(fakeaws.Fault{Operation: "AddTagsToResource", Region: "ap-southeast-2", Status: 503, Code: "ServiceUnavailable"})

	res, err := h.Handle(context.Background(), sample(t, "eventbridge-available.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	for region, ami := range imageAMIs {
		if res.Images[0].Regions[region] != OutcomeWritten {
			t.Errorf("%s outcome = %s, want written", region, res.Images[0].Regions[region])
		}
		p, ok := srv.Parameter(region, paramName)
		if !ok || p.Value != ami || p.DataType != contract.DataTypeEC2Image {
			t.Errorf("%s parameter = %+v, want %s as aws:ec2:image", region, p, ami)
		}
		if got := p.History[len(p.History)-1]; got != ami || strings.Count(strings.Join(p.History, ","), ami) != 1 {
			t.Errorf("%s history = %v, want %s written exactly once", region, p.History, ami)
		}
		if n := srv.CountOKIn(region, "PutParameter"); n != 1 {
			t.Errorf("%s successful PutParameter = %d, want 1", region, n)
		}
		if p.Tags[contract.TagImageARN] != imageARN || p.Tags[contract.TagPipelineARN] != pipelineARN ||
			p.Tags[contract.TagRecipeARN] != recipeARN || p.Tags[contract.TagBuildDate] != "2024-07-01T06:10:42Z" {
			t.Errorf("%s tags = %v", region, p.Tags)
		}
	}
	if got := srv.Count("GetImage"); got != 2 {
		t.Errorf("GetImage attempts = %d, want 2 (429, success)", got)
	}

	// Redelivery through the other channel: nothing more is written.
	puts, tags := srv.Count("PutParameter"), srv.Count("AddTagsToResource")
	res, err = h.Handle(context.Background(), sample(t, "sns-available.json"))
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if srv.Count("PutParameter") != puts || srv.Count("AddTagsToResource") != tags {
		t.Errorf("redelivery wrote: PutParameter %d -> %d, AddTagsToResource %d -> %d",
			puts, srv.Count("PutParameter"), tags, srv.Count("AddTagsToResource"))
	}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		if res.Images[0].Regions[region] != OutcomeUnchanged {
			t.Errorf("redelivery %s outcome = %s, want unchanged", region, res.Images[0].Regions[region])
		}
	}
}

func TestIntegrationExhaustedRetriesFailOneRegionAndTheRetryFinishesIt(t *testing.T) {
	srv, h := setupIntegration(t, pipelineARN)
	addImage(srv)
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Region: "eu-west-1", Code: "TooManyUpdates", Message: "Too many updates", Times: awsconfig.MaxAttempts})

	_, err := h.Handle(context.Background(), sample(t, "eventbridge-available.json"))
	if err == nil || !strings.HasPrefix(err.Error(), "record image "+imageARN+": failed in 1 of 3 regions (eu-west-1): record "+amiEUWest1+" in eu-west-1: put parameter "+paramName+": operation error SSM: PutParameter") ||
		!strings.Contains(err.Error(), "TooManyUpdates: Too many updates") {
		t.Fatalf("error = %v", err)
	}
	if _, ok := srv.Parameter("eu-west-1", paramName); ok {
		t.Error("eu-west-1 was written although every attempt failed")
	}
	for _, region := range []string{"us-east-1", "ap-southeast-2"} {
		if p, _ := srv.Parameter(region, paramName); p.Value != imageAMIs[region] {
			t.Errorf("%s = %q, want %s despite the other region failing", region, p.Value, imageAMIs[region])
		}
	}

	// Lambda retries the event: only eu-west-1 is written.
	if _, err := h.Handle(context.Background(), sample(t, "eventbridge-available.json")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	for region, ami := range imageAMIs {
		p, _ := srv.Parameter(region, paramName)
		if p.Value != ami || len(p.History) != 1 || srv.CountOKIn(region, "PutParameter") != 1 {
			t.Errorf("%s after retry: %+v, successful puts %d; want one write", region, p, srv.CountOKIn(region, "PutParameter"))
		}
	}
}

func TestIntegrationIgnoredEventsCallNothing(t *testing.T) {
	srv, h := setupIntegration(t, pipelineARN)
	addImage(srv)
	for _, name := range []string{"sns-failed.json", "eventbridge-failed.json", "eventbridge-cancelled.json", "eventbridge-testing.json"} {
		res, err := h.Handle(context.Background(), sample(t, name))
		if err != nil || res.Images[0].Decision != DecisionIgnored {
			t.Errorf("%s: %+v, %v; want ignored", name, res, err)
		}
	}
	if calls := srv.Calls(); len(calls) != 0 {
		t.Errorf("AWS calls = %+v, want none", calls)
	}
}

// A PutParameter that SSM applied but answered with a 500 (or whose response
// was lost) is not written again: the handler reads the parameter before
// retrying and finds its value there, so the parameter gets one version, and
// consumers one change event, per image.
func TestIntegrationAppliedWriteIsNotRepeated(t *testing.T) {
	srv, h := setupIntegration(t, pipelineARN)
	addImage(srv)
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Region: "eu-west-1", Status: 500, Code: "InternalServerError", AfterApply: true})
	res, err := h.Handle(context.Background(), sample(t, "eventbridge-available.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got := res.Images[0].Regions["eu-west-1"]; got != OutcomeWritten {
		t.Errorf("eu-west-1 outcome = %s, want written", got)
	}
	p, _ := srv.Parameter("eu-west-1", paramName)
	if len(p.History) != 1 || p.Value != amiEUWest1 || p.Tags[contract.TagImageARN] != imageARN {
		t.Errorf("eu-west-1 history %v, tags %v; want %s written once, then tagged", p.History, p.Tags, amiEUWest1)
	}
	if got := srv.CountIn("eu-west-1", "PutParameter"); got != 1 {
		t.Errorf("eu-west-1 PutParameter attempts = %d, want 1 (the applied one, not repeated)", got)
	}
}

// Parameter Store answers PutParameter of an aws:ec2:image value before it
// validates the AMI. A write still being validated when its response is
// lost is not repeated, and a write that fails validation is an error, not
// "written": its region is retried, and its tags are not moved onto the old
// value.
func TestIntegrationAsynchronousValidation(t *testing.T) {
	srv, h := setupIntegration(t, pipelineARN)
	addImage(srv)
	srv.SetParameter("ap-southeast-2", paramName, amiPrevious)
	srv.SetImageValidation(2, func(ami string) bool { return ami == imageAMIs["ap-southeast-2"] })
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Region: "eu-west-1", Status: 500, Code: "InternalServerError", AfterApply: true})

	_, err := h.Handle(context.Background(), sample(t, "eventbridge-available.json"))
	want := "record image " + imageARN + ": failed in 1 of 3 regions (ap-southeast-2): record " + imageAMIs["ap-southeast-2"] +
		" in ap-southeast-2: put parameter " + paramName + ": PutParameter answered version 2, but the history did not show " +
		imageAMIs["ap-southeast-2"] + " within 1s: Parameter Store's asynchronous aws:ec2:image validation failed or has not finished; not recorded, retry later"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		p, _ := srv.Parameter(region, paramName)
		if len(p.History) != 1 || p.Value != imageAMIs[region] || p.Tags[contract.TagImageARN] != imageARN {
			t.Errorf("%s: history %v, tags %v; want %s written once, after validation, then tagged", region, p.History, p.Tags, imageAMIs[region])
		}
		if got := srv.CountIn(region, "PutParameter"); got != 1 {
			t.Errorf("%s PutParameter = %d, want 1", region, got)
		}
	}
	if p, _ := srv.Parameter("ap-southeast-2", paramName); p.Value != amiPrevious || len(p.Tags) != 0 {
		t.Errorf("ap-southeast-2 = %q, tags %v; want the previous AMI, untagged", p.Value, p.Tags)
	}

	// Lambda retries the event once the AMI validates: only ap-southeast-2 is written.
	srv.SetImageValidation(0, nil)
	res, err := h.Handle(context.Background(), sample(t, "eventbridge-available.json"))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := res.Images[0].Regions; got["ap-southeast-2"] != OutcomeWritten || got["us-east-1"] != OutcomeUnchanged || got["eu-west-1"] != OutcomeUnchanged {
		t.Errorf("retry outcomes = %v", got)
	}
	if p, _ := srv.Parameter("ap-southeast-2", paramName); p.Value != imageAMIs["ap-southeast-2"] || p.Tags[contract.TagImageARN] != imageARN {
		t.Errorf("ap-southeast-2 after retry = %+v", p)
	}
}

// The SNS path records what GetImage reports, through the production
// wiring, whatever AMIs the message claims; and GetImage, not the message,
// says which pipeline built the image.
func TestIntegrationSNSRecordsWhatGetImageReports(t *testing.T) {
	forged := snsEvent(t, `{"arn":"`+imageARN+`","state":{"status":"AVAILABLE"},"sourcePipelineArn":"`+pipelineARN+`",`+
		`"outputResources":{"amis":[{"region":"us-east-1","image":"ami-0badbadbadbadbad0","accountId":"`+account+`"},`+
		`{"region":"us-west-2","image":"ami-0badbadbadbadbad1","accountId":"`+account+`"}]}}`)
	t.Run("forged AMIs", func(t *testing.T) {
		srv, h := setupIntegration(t, pipelineARN)
		addImage(srv)
		if _, err := h.Handle(context.Background(), forged); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		for region, ami := range imageAMIs {
			if p, _ := srv.Parameter(region, paramName); p.Value != ami || len(p.History) != 1 {
				t.Errorf("%s = %+v, want GetImage's %s written once", region, p, ami)
			}
		}
		if _, ok := srv.Parameter("us-west-2", paramName); ok || srv.CountIn("us-west-2", "GetParameterHistory") != 0 {
			t.Error("us-west-2, named only by the message, was touched")
		}
		if n := srv.CountIn("us-east-1", "GetImage"); n != 1 {
			t.Errorf("GetImage in us-east-1 = %d, want 1", n)
		}
	})
	t.Run("another pipeline's image", func(t *testing.T) {
		srv, h := setupIntegration(t, pipelineARN)
		srv.AddImage(fakeaws.Image{ARN: imageARN, Status: "AVAILABLE", PipelineARN: otherPipelineARN,
			AMIs: []fakeaws.AMI{{Region: "us-east-1", ImageID: amiUSEast1, AccountID: account}}})
		for _, event := range []json.RawMessage{forged, sample(t, "eventbridge-available.json")} {
			res, err := h.Handle(context.Background(), event)
			if err != nil || res.Images[0].Decision != DecisionIgnored {
				t.Errorf("Handle = %+v, %v; want ignored", res, err)
			}
		}
		for _, c := range srv.Calls() {
			if c.Operation != "GetImage" {
				t.Errorf("AWS call %+v, want GetImage only", c)
			}
		}
	})
}
