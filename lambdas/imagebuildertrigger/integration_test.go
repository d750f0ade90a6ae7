package main

import (
	"context"
	"testing"
	"time"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// These tests run the production wiring (newHandler: awsconfig.Load, the
// real SDK clients and retryer) against fakeaws through AWS_ENDPOINT_URL.

const region = "us-east-1"

func setupIntegration(t *testing.T) (*fakeaws.Server, *Handler) {
	t.Helper()
	srv := fakeaws.New(t)
	srv.Setenv(t, region)
	srv.AddPipeline(pipelineARN)
	h, err := newHandler(context.Background(), config{PipelineARN: pipelineARN, ParameterName: paramName}, awsconfig.WithMaxBackoff(time.Millisecond))
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	return srv, h
}

// monitorWrites writes value as the upstream monitor does: with its marker
// description.
func monitorWrites(srv *fakeaws.Server, value string) {
	srv.SetParameterDescribed(region, paramName, value, monitorDescription)
}

// tokenOf is the client token of value since version since of the fake's
// parameter, with the write time the fake reports for that version.
func tokenOf(t *testing.T, srv *fakeaws.Server, since int64, value string) string {
	t.Helper()
	p, ok := srv.Parameter(region, paramName)
	if !ok {
		t.Fatalf("no parameter %s", paramName)
	}
	at, ok := p.WrittenAt(since)
	if !ok {
		t.Fatalf("parameter %s has no version %d", paramName, since)
	}
	return clientToken(pipelineARN, paramName, since, at, value)
}

// seedWrites writes value as CloudFormation does when it creates or updates
// the parameter resource: with the resource's description.
func seedWrites(srv *fakeaws.Server, value string) {
	srv.SetParameterDescribed(region, paramName, value, seedDescription)
}

// CloudFormation writes the seed at the first deploy and again on every
// update of the parameter resource; only the monitor's writes start builds,
// and the monitor restoring the value it wrote before a seed rewrite gets the
// original build back.
func TestIntegrationSeedWritesStartNothing(t *testing.T) {
	srv, h := setupIntegration(t)
	handle := func(event string) Result {
		t.Helper()
		res, err := h.Handle(context.Background(), loadEvent(t, event))
		if err != nil {
			t.Fatalf("Handle %s: %v", event, err)
		}
		return res
	}

	// First deploy of an SSM upstream: the seed resolves to the upstream's AMI.
	seedWrites(srv, amiV3)
	if res := handle("parameter-create.json"); res != (Result{Decision: DecisionIgnored,
		Reason: "parameter /golden-ami/upstream version 1 was not written by the upstream monitor or the latest-AMI recorder (e.g. a CloudFormation seed); no build started"}) {
		t.Errorf("seed: %+v, want ignored", res)
	}
	if n := srv.Count("StartImagePipelineExecution"); n != 0 {
		t.Fatalf("StartImagePipelineExecution calls after the seed = %d, want 0", n)
	}

	// The monitor claims the same value.
	monitorWrites(srv, amiV3)
	claimed := handle("parameter-update.json")
	if claimed.Decision != DecisionStarted || claimed.ClientToken != tokenOf(t, srv, 2, amiV3) {
		t.Errorf("claim: %+v, want started with the token of version 2", claimed)
	}
	if ex := srv.Executions(); len(ex) != 1 || ex[0].ImageBuildVersionARN != claimed.ImageBuildVersionARN {
		t.Fatalf("executions after the claim = %+v, want exactly the claim's", ex)
	}

	// A stack update re-writes a seed (an EB upstream's AL2023 here), then
	// the monitor writes its value back.
	seedWrites(srv, amiSeed)
	if res := handle("parameter-update.json"); res.Decision != DecisionIgnored ||
		res.Reason != "parameter /golden-ami/upstream version 3 was not written by the upstream monitor or the latest-AMI recorder (e.g. a CloudFormation seed); no build started" {
		t.Errorf("seed rewrite: %+v, want ignored", res)
	}
	monitorWrites(srv, amiV3)
	restored := handle("parameter-update.json")
	if restored.ClientToken != claimed.ClientToken || restored.ImageBuildVersionARN != claimed.ImageBuildVersionARN {
		t.Errorf("restore: %+v, want the claim's execution %s", restored, claimed.ImageBuildVersionARN)
	}
	if n := len(srv.Executions()); n != 1 {
		t.Errorf("executions after the seed rewrite and restore = %d, want 1", n)
	}

	// A genuinely new upstream AMI still builds.
	monitorWrites(srv, amiV4)
	if res := handle("parameter-update.json"); res.Decision != DecisionStarted || len(srv.Executions()) != 2 {
		t.Errorf("new value: %+v, %d executions; want a second execution", res, len(srv.Executions()))
	}
}

func TestIntegration429ThenRedeliveryStartsExactlyOneExecution(t *testing.T) {
	srv, h := setupIntegration(t)
	monitorWrites(srv, amiV3)
	srv.Inject(fakeaws.Fault{Operation: "GetParameterHistory", Code: "ThrottlingException", Message: "Rate exceeded"})
	srv.Inject(fakeaws.Fault{Operation: "StartImagePipelineExecution", Status: 429, Code: "CallRateLimitExceededException", Message: "Rate exceeded"})
	srv.Inject(fakeaws.Fault{Operation: "StartImagePipelineExecution", Status: 500, Code: "ServiceException"})
	ev := loadEvent(t, "parameter-update.json")

	first, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if first.Decision != DecisionStarted || first.ImageBuildVersionARN == "" {
		t.Fatalf("first = %+v, want started", first)
	}
	// EventBridge delivers at least once: the same event again, and the
	// Create event of the same version, change nothing.
	for _, name := range []string{"parameter-update.json", "parameter-create.json"} {
		again, err := h.Handle(context.Background(), loadEvent(t, name))
		if err != nil {
			t.Fatalf("redelivery %s: %v", name, err)
		}
		if again != first {
			t.Errorf("redelivery %s = %+v, want %+v", name, again, first)
		}
	}
	ex := srv.Executions()
	if len(ex) != 1 {
		t.Fatalf("executions = %+v, want exactly 1", ex)
	}
	if ex[0].ClientToken != tokenOf(t, srv, 1, amiV3) || ex[0].PipelineARN != pipelineARN {
		t.Errorf("execution = %+v", ex[0])
	}
	if got := srv.Count("GetParameterHistory"); got != 4 {
		t.Errorf("GetParameterHistory attempts = %d, want 4 (throttled, then one per event)", got)
	}
	if got := srv.Count("StartImagePipelineExecution"); got != 5 {
		t.Errorf("StartImagePipelineExecution attempts = %d, want 5 (429, 500, success, 2 replays)", got)
	}

	// The next change is a new version and starts a second build.
	monitorWrites(srv, amiV4)
	next, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("next version: %v", err)
	}
	if n := len(srv.Executions()); n != 2 || next.ImageBuildVersionARN == first.ImageBuildVersionARN {
		t.Errorf("after a new version: executions = %d, result %+v; want 2 distinct", n, next)
	}
}

// The same AMI written again as a new version (a PutParameter retried after
// its response was lost, or two overlapping monitor runs) sends a second
// change event; it must not start a second build. A new AMI after that does.
func TestIntegrationSameValueNewVersionStartsNoSecondBuild(t *testing.T) {
	srv, h := setupIntegration(t)
	monitorWrites(srv, amiV4)
	monitorWrites(srv, amiV3)
	ev := loadEvent(t, "parameter-update.json")
	first, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	monitorWrites(srv, amiV3) // version 3, same value
	second, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle after the same value was written again: %v", err)
	}
	if ex := srv.Executions(); len(ex) != 1 || second.ImageBuildVersionARN != first.ImageBuildVersionARN {
		t.Fatalf("executions = %+v, results %+v and %+v; want exactly one", ex, first, second)
	}
	if want := tokenOf(t, srv, 2, amiV3); first.ClientToken != want || second.ClientToken != want {
		t.Errorf("tokens %s, %s; want %s (the value's first version, 2)", first.ClientToken, second.ClientToken, want)
	}
	monitorWrites(srv, amiV4)
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle after a new value: %v", err)
	}
	if n := len(srv.Executions()); n != 2 {
		t.Errorf("executions after a new value = %d, want 2", n)
	}
}

// A response lost after the execution started is retried by the SDK with
// the same token, and Image Builder replays the original execution.
func TestIntegrationLostResponseDoesNotDoubleTheBuild(t *testing.T) {
	srv, h := setupIntegration(t)
	monitorWrites(srv, amiV3)
	srv.Inject(fakeaws.Fault{Operation: "StartImagePipelineExecution", Status: 503, Code: "ServiceUnavailableException", AfterApply: true})
	srv.Inject(fakeaws.Fault{Operation: "StartImagePipelineExecution", Code: "ResourceInUseException"})

	res, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if ex := srv.Executions(); len(ex) != 1 || ex[0].ImageBuildVersionARN != res.ImageBuildVersionARN {
		t.Errorf("executions = %+v, result %+v; want exactly the one reported", ex, res)
	}
}

func TestIntegrationIgnoredEventsCallNothing(t *testing.T) {
	srv, h := setupIntegration(t)
	monitorWrites(srv, amiV3)
	for _, name := range []string{"parameter-create-exception.json", "parameter-delete.json", "parameter-label.json", "other-parameter.json"} {
		res, err := h.Handle(context.Background(), loadEvent(t, name))
		if err != nil || res.Decision != DecisionIgnored {
			t.Errorf("%s: %+v, %v; want ignored", name, res, err)
		}
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("AWS calls = %+v, want none", srv.Calls())
	}
}

func TestIntegrationInvalidValueStartsNothing(t *testing.T) {
	srv, h := setupIntegration(t)
	monitorWrites(srv, "ami-NOTVALID")
	_, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
	want := `parameter /golden-ami/upstream version 1: "ami-NOTVALID" is not an AMI id (want "ami-" followed by 8 or 17 hex digits); no build started`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	if srv.Count("StartImagePipelineExecution") != 0 {
		t.Error("a build was started for an invalid value")
	}
}

// The stack deleted and deployed again within Image Builder's token window
// (a failed dev deployment cleaned up, say): the parameter is created again,
// seeded at version 1, and the monitor writes the same upstream at version 2
// as it did before. The old parameter's token would make Image Builder
// answer with the old execution and build nothing; the new parameter's
// version 2 was written at another time, so its image is built.
func TestIntegrationRecreatedParameterBuildsAgain(t *testing.T) {
	srv, h := setupIntegration(t)
	ev := loadEvent(t, "parameter-update.json")
	seedWrites(srv, amiV3)
	monitorWrites(srv, amiV4)
	first, err := h.Handle(context.Background(), ev)
	if err != nil || first.Decision != DecisionStarted {
		t.Fatalf("first deployment: %+v, %v", first, err)
	}
	time.Sleep(2 * time.Millisecond) // Parameter Store's times are in milliseconds
	srv.RemoveParameter(region, paramName)
	seedWrites(srv, amiV3)
	monitorWrites(srv, amiV4)
	second, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("after re-creation: %v", err)
	}
	if ex := srv.Executions(); len(ex) != 2 || second.ImageBuildVersionARN == first.ImageBuildVersionARN || second.ClientToken != tokenOf(t, srv, 2, amiV4) {
		t.Errorf("after re-creation: %+v (first %+v), executions %+v; want a second build with the new version 2's token", second, first, ex)
	}
}
