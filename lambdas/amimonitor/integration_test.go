package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// These tests run the production wiring (newHandler: awsconfig.Load, the
// real SDK clients and retryer) against fakeaws through AWS_ENDPOINT_URL.

const region = "us-east-1"

func startFake(t *testing.T) *fakeaws.Server {
	t.Helper()
	srv := fakeaws.New(t)
	srv.Setenv(t, region)
	return srv
}

func run(t *testing.T, c config) (Result, error) {
	t.Helper()
	h, err := newHandler(context.Background(), c, awsconfig.WithMaxBackoff(time.Millisecond))
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	return h.Handle(context.Background())
}

func TestIntegrationPlatformBranchThroughFaults(t *testing.T) {
	srv := startFake(t)
	srv.EBPageSize = 2 // force NextToken paging
	for _, p := range []struct {
		version, status, ami string
	}{
		{"4.9.1", "Ready", amiOld},
		{"4.11.0", "Creating", "ami-0ddddddddddddddd0"},
		{"4.10.0", "Ready", amiNew},
		{"4.2.15", "Ready", "ami-0eeeeeeeeeeeeeee0"},
		{"4.12.0", "Failed", "ami-0fffffffffffffff0"},
	} {
		srv.AddPlatform(fakeaws.Platform{ARN: platformARN(p.version), Branch: branch, Version: p.version, Status: p.status,
			AMIs: []fakeaws.CustomAMI{{VirtualizationType: "pv", ImageID: "ami-0ccccccccccccccc0"}, {VirtualizationType: "hvm", ImageID: p.ami}}})
	}
	srv.SetParameter(region, paramName, amiOld)

	srv.Inject(fakeaws.Fault{Operation: "ListPlatformVersions", Code: "Throttling", Message: "Rate exceeded"})
	srv.Inject(fakeaws.Fault{Operation: "DescribePlatformVersion", Status: 500, Code: "InternalFailure"})
	srv.Inject(fakeaws.Fault{Operation: "GetParameter", Code: "ThrottlingException", Message: "Rate exceeded"})
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Code: "TooManyUpdates", Times: 2})
	srv.Inject(fakeaws.Fault{Operation: "AddTagsToResource", Status: 503, Code: "ServiceUnavailable"})

	got, err := run(t, config{ParameterName: paramName, PlatformBranch: branch})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	want := Result{Changed: true, Previous: amiOld, Current: amiNew, Source: "elasticbeanstalk:" + platformARN("4.10.0")}
	if got != want {
		t.Errorf("result = %+v, want %+v", got, want)
	}
	p, _ := srv.Parameter(region, paramName)
	if strings.Join(p.History, ",") != amiOld+","+amiNew {
		t.Errorf("parameter history = %v, want exactly one new write", p.History)
	}
	if want := contract.UpstreamDescriptionPrefix + "elasticbeanstalk:" + platformARN("4.10.0"); p.Description != want {
		t.Errorf("parameter description = %q, want %q", p.Description, want)
	}
	if p.DataType != contract.DataTypeEC2Image || p.Type != "String" {
		t.Errorf("parameter type = %s/%s, want String/aws:ec2:image", p.Type, p.DataType)
	}
	if p.Tags[contract.TagUpstreamSource] != "elasticbeanstalk:"+platformARN("4.10.0") || p.Tags[contract.TagObservedAt] == "" {
		t.Errorf("tags = %v", p.Tags)
	}
	for op, want := range map[string]int{"PutParameter": 3, "AddTagsToResource": 2, "ListPlatformVersions": 4, "DescribePlatformVersion": 2, "GetParameter": 2} {
		if got := srv.Count(op); got != want {
			t.Errorf("%s attempts = %d, want %d", op, got, want)
		}
	}
	if got := srv.CountOK("PutParameter"); got != 1 {
		t.Errorf("successful PutParameter = %d, want 1", got)
	}

	// A second run finds the value current and writes nothing.
	got, err = run(t, config{ParameterName: paramName, PlatformBranch: branch})
	if err != nil {
		t.Fatalf("second Handle: %v", err)
	}
	if got.Changed || got.Previous != amiNew {
		t.Errorf("second result = %+v, want unchanged", got)
	}
	if srv.Count("PutParameter") != 3 || srv.Count("AddTagsToResource") != 2 {
		t.Errorf("second run wrote: PutParameter=%d AddTagsToResource=%d", srv.Count("PutParameter"), srv.Count("AddTagsToResource"))
	}
}

func TestIntegrationPlatformARNWithoutHVMLeavesParameterAlone(t *testing.T) {
	srv := startFake(t)
	arn := platformARN("4.10.0")
	srv.AddPlatform(fakeaws.Platform{ARN: arn, Branch: branch, Version: "4.10.0", Status: "Ready",
		AMIs: []fakeaws.CustomAMI{{VirtualizationType: "pv", ImageID: amiNew}}})
	srv.SetParameter(region, paramName, amiOld)

	_, err := run(t, config{ParameterName: paramName, PlatformARN: arn})
	if want := "resolve upstream AMI: platform version " + arn + " has no hvm AMI in CustomAmiList"; err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	if n := srv.Count("PutParameter") + srv.Count("AddTagsToResource") + srv.Count("GetParameter"); n != 0 {
		t.Errorf("SSM calls = %d, want 0", n)
	}
	if p, _ := srv.Parameter(region, paramName); p.Value != amiOld || p.Version != 1 {
		t.Errorf("parameter = %+v, want untouched", p)
	}
}

func TestIntegrationImageSourceCreatesMissingParameter(t *testing.T) {
	srv := startFake(t)
	srv.EC2PageSize = 1
	srv.AddEC2Image(region, fakeaws.EC2Image{ImageID: "ami-11111111", OwnerAlias: "amazon", OwnerID: "137112412989", Name: "al2023-ami-2023.5.20240601.0-x86_64", CreationDate: "2024-06-01T10:00:00.000Z"})
	srv.AddEC2Image(region, fakeaws.EC2Image{ImageID: "ami-22222222", OwnerAlias: "amazon", OwnerID: "137112412989", Name: "al2023-ami-2023.5.20240701.0-x86_64", CreationDate: "2024-07-01T10:00:00.000Z"})
	srv.AddEC2Image(region, fakeaws.EC2Image{ImageID: "ami-33333333", OwnerAlias: "amazon", OwnerID: "137112412989", Name: "al2023-ami-2023.5.20240801.0-x86_64", CreationDate: "2024-08-01T10:00:00.000Z", State: "pending"})
	srv.AddEC2Image(region, fakeaws.EC2Image{ImageID: "ami-44444444", OwnerAlias: "amazon", OwnerID: "137112412989", Name: "al2023-ami-2023.5.20240901.0-arm64", CreationDate: "2024-09-01T10:00:00.000Z"})
	srv.Inject(fakeaws.Fault{Operation: "DescribeImages", Status: 503, Code: "RequestLimitExceeded"})
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Status: 500, Code: "InternalServerError"})

	got, err := run(t, config{ParameterName: paramName, ImageOwner: "amazon", ImageNamePattern: "al2023-ami-2023.*-x86_64"})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	want := Result{Changed: true, Previous: "", Current: "ami-22222222", Source: "ec2-image:amazon/al2023-ami-2023.5.20240701.0-x86_64"}
	if got != want {
		t.Errorf("result = %+v, want %+v", got, want)
	}
	if p, ok := srv.Parameter(region, paramName); !ok || len(p.History) != 1 || p.Value != "ami-22222222" ||
		p.Description != contract.UpstreamDescriptionPrefix+"ec2-image:amazon/al2023-ami-2023.5.20240701.0-x86_64" {
		t.Errorf("parameter = %+v, want created once with ami-22222222, described as the monitor's", p)
	}
}

// The construct seeds the parameter with the source's value, untagged and
// with CloudFormation's description. The first run claims it: it writes the
// same value once more with the monitor's description (the trigger builds
// only the monitor's writes) and tags it; later runs write nothing. A stack
// update that re-writes the seed is claimed again.
func TestIntegrationSourceParameterSeedIsClaimedOnce(t *testing.T) {
	srv := startFake(t)
	source := "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	wantDescription := contract.UpstreamDescriptionPrefix + "ssm-parameter:" + source
	srv.SetParameter(region, source, amiNew)
	srv.SetParameterDescribed(region, paramName, amiNew, seedDescription)

	got, err := run(t, config{ParameterName: paramName, SourceParameterName: source})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if want := (Result{Claimed: true, Previous: amiNew, Current: amiNew, Source: "ssm-parameter:" + source}); got != want {
		t.Errorf("result = %+v, want %+v", got, want)
	}
	p, _ := srv.Parameter(region, paramName)
	if strings.Join(p.History, ",") != amiNew+","+amiNew || p.Description != wantDescription {
		t.Errorf("parameter history %v, description %q; want the seed and one claim described %q", p.History, p.Description, wantDescription)
	}
	if p.Tags[contract.TagUpstreamSource] != "ssm-parameter:"+source || p.Tags[contract.TagObservedAt] == "" {
		t.Errorf("tags = %v", p.Tags)
	}

	got, err = run(t, config{ParameterName: paramName, SourceParameterName: source})
	if err != nil {
		t.Fatalf("second Handle: %v", err)
	}
	if got != (Result{Changed: false, Previous: amiNew, Current: amiNew, Source: "ssm-parameter:" + source}) {
		t.Errorf("second result = %+v", got)
	}
	if srv.CountOK("PutParameter") != 1 || srv.CountOK("AddTagsToResource") != 1 {
		t.Errorf("an unchanged, claimed value was written: PutParameter=%d AddTagsToResource=%d, want 1 and 1 (the claim)",
			srv.CountOK("PutParameter"), srv.CountOK("AddTagsToResource"))
	}

	// A stack update writes the seed again; the next run claims it again.
	srv.SetParameterDescribed(region, paramName, amiNew, seedDescription)
	got, err = run(t, config{ParameterName: paramName, SourceParameterName: source})
	if err != nil || !got.Claimed {
		t.Fatalf("after a seed rewrite: %+v, %v; want claimed", got, err)
	}
	if p, _ := srv.Parameter(region, paramName); len(p.History) != 4 || p.Description != wantDescription {
		t.Errorf("after a seed rewrite: history %v, description %q; want a second claim", p.History, p.Description)
	}
}

// An Elastic Beanstalk upstream's seed is another AMI (public AL2023): the
// monitor overwrites it with the upstream's, described as its own.
func TestIntegrationSeedOfAnotherAMIIsOverwritten(t *testing.T) {
	srv := startFake(t)
	arn := platformARN("4.10.0")
	srv.AddPlatform(fakeaws.Platform{ARN: arn, Branch: branch, Version: "4.10.0", Status: "Ready",
		AMIs: []fakeaws.CustomAMI{{VirtualizationType: "hvm", ImageID: amiNew}}})
	srv.SetParameterDescribed(region, paramName, amiOld, seedDescription)

	got, err := run(t, config{ParameterName: paramName, PlatformARN: arn})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if want := (Result{Changed: true, Previous: amiOld, Current: amiNew, Source: "elasticbeanstalk:" + arn}); got != want {
		t.Errorf("result = %+v, want %+v", got, want)
	}
	if p, _ := srv.Parameter(region, paramName); p.Value != amiNew || p.Description != contract.UpstreamDescriptionPrefix+"elasticbeanstalk:"+arn {
		t.Errorf("parameter = %s described %q, want %s with the monitor's description", p.Value, p.Description, amiNew)
	}
	if n := srv.Count("GetParameterHistory"); n != 0 {
		t.Errorf("GetParameterHistory calls = %d, want 0 (a different value is written whoever wrote it)", n)
	}
}

// A run that writes the value and then cannot tag it fails; Lambda's retry
// finds the value current and must still write the tags, once, without
// writing the value again.
func TestIntegrationTagsLostToAFailedTagWriteAreRepaired(t *testing.T) {
	srv := startFake(t)
	source := "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	srv.SetParameter(region, source, amiNew)
	srv.SetParameter(region, paramName, amiOld)
	srv.Inject(fakeaws.Fault{Operation: "AddTagsToResource", Code: "ThrottlingException", Message: "Rate exceeded", Times: awsconfig.MaxAttempts})

	_, err := run(t, config{ParameterName: paramName, SourceParameterName: source})
	if err == nil || !strings.HasPrefix(err.Error(), "tag parameter "+paramName+" after writing "+amiNew+": operation error SSM: AddTagsToResource") {
		t.Fatalf("first run error = %v, want the failed tag write", err)
	}
	if p, _ := srv.Parameter(region, paramName); p.Value != amiNew || len(p.Tags) != 0 {
		t.Fatalf("after the first run parameter = %+v, want the new value without tags", p)
	}

	// The retry; its first tag read is throttled and retried by the SDK.
	srv.Inject(fakeaws.Fault{Operation: "ListTagsForResource", Code: "ThrottlingException", Message: "Rate exceeded"})
	got, err := run(t, config{ParameterName: paramName, SourceParameterName: source})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if want := (Result{Retagged: true, Previous: amiNew, Current: amiNew, Source: "ssm-parameter:" + source}); got != want {
		t.Errorf("retry result = %+v, want %+v", got, want)
	}
	p, _ := srv.Parameter(region, paramName)
	if strings.Join(p.History, ",") != amiOld+","+amiNew {
		t.Errorf("parameter history = %v, want the value written once", p.History)
	}
	if p.Tags[contract.TagUpstreamSource] != "ssm-parameter:"+source {
		t.Errorf("tags = %v, want the upstream source", p.Tags)
	}
	if _, err := time.Parse(time.RFC3339, p.Tags[contract.TagObservedAt]); err != nil {
		t.Errorf("observed-at tag = %q, want an RFC 3339 time", p.Tags[contract.TagObservedAt])
	}
	if srv.CountOK("PutParameter") != 1 || srv.CountOK("AddTagsToResource") != 1 {
		t.Errorf("successful PutParameter = %d, AddTagsToResource = %d; want 1 and 1",
			srv.CountOK("PutParameter"), srv.CountOK("AddTagsToResource"))
	}

	// Repaired: the next run writes nothing.
	got, err = run(t, config{ParameterName: paramName, SourceParameterName: source})
	if err != nil {
		t.Fatalf("third run: %v", err)
	}
	if got.Changed || got.Retagged {
		t.Errorf("third result = %+v, want unchanged", got)
	}
	if srv.CountOK("PutParameter") != 1 || srv.CountOK("AddTagsToResource") != 1 {
		t.Errorf("third run wrote: PutParameter=%d AddTagsToResource=%d", srv.CountOK("PutParameter"), srv.CountOK("AddTagsToResource"))
	}
}

func TestIntegrationRetriesAreBoundedAndTheErrorNamesTheOperation(t *testing.T) {
	srv := startFake(t)
	source := "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	srv.SetParameter(region, source, amiNew)
	srv.SetParameter(region, paramName, amiOld)
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Code: "TooManyUpdates", Message: "Too many updates", Times: 100})

	_, err := run(t, config{ParameterName: paramName, SourceParameterName: source})
	if err == nil || !strings.HasPrefix(err.Error(), "put parameter "+paramName+" = "+amiNew+": operation error SSM: PutParameter") ||
		!strings.Contains(err.Error(), "TooManyUpdates: Too many updates") {
		t.Fatalf("error = %v", err)
	}
	if got := srv.Count("PutParameter"); got != awsconfig.MaxAttempts {
		t.Errorf("PutParameter attempts = %d, want %d", got, awsconfig.MaxAttempts)
	}
	if p, _ := srv.Parameter(region, paramName); p.Value != amiOld || srv.Count("AddTagsToResource") != 0 {
		t.Errorf("parameter = %+v after failed writes, want untouched", p)
	}
}
