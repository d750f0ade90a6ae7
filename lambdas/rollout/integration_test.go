package main

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// These tests run the production wiring (newHandler: awsconfig.Load, the
// real SSM, EC2 and Auto Scaling clients and the shared retryer) against
// fakeaws through AWS_ENDPOINT_URL, over the awsJson, ec2Query and awsQuery
// protocols.

const region = "us-east-1"

// setupIntegration seeds what the construct deploys: a launch template
// whose version 1 launches amiA, a group on version 1, and the latest-AMI
// parameter at amiB (its version 1).
func setupIntegration(t *testing.T) (*fakeaws.Server, *Handler) {
	t.Helper()
	srv := fakeaws.New(t)
	srv.Setenv(t, region)
	srv.AddLaunchTemplate(region, ltID, "web", amiA, "t4g.small")
	srv.AddAutoScalingGroup(region, fakeaws.AutoScalingGroup{Name: groupName, LaunchTemplateID: ltID, LaunchTemplateName: "web",
		LaunchTemplateVersion: "1", MinSize: 2, MaxSize: 4, DesiredCapacity: 2})
	srv.SetParameter(region, paramName, amiB)
	prefs := testPreferences()
	prefs.MaxHealthyPercentage = aws.Int32(110) // as GoldenFleet's default sends it
	h, err := newHandler(context.Background(), config{GroupName: groupName, LaunchTemplateID: ltID, ParameterName: paramName, Preferences: prefs},
		awsconfig.WithMaxBackoff(time.Millisecond))
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	return srv, h
}

var wantFakePreferences = fakeaws.RefreshPreferences{
	MinHealthyPercentage:  aws.Int32(90),
	MaxHealthyPercentage:  aws.Int32(110),
	InstanceWarmup:        aws.Int32(300),
	CheckpointPercentages: []int32{20, 50, 100},
	CheckpointDelay:       aws.Int32(600),
	SkipMatching:          aws.Bool(true),
	AutoRollback:          aws.Bool(true),
	AlarmNames:            []string{"web-5xx", "web-latency"},
}

// checkOneRollout asserts exactly one new launch template version (2, with
// ami, copied from version 1) and exactly one refresh to it with the exact
// preferences, and returns the refresh.
func checkOneRollout(t *testing.T, srv *fakeaws.Server, ami string, paramVersion int64) fakeaws.InstanceRefresh {
	t.Helper()
	lt, _ := srv.LaunchTemplate(region, ltID)
	if len(lt.Versions) != 2 {
		t.Fatalf("launch template versions = %+v, want exactly one new", lt.Versions)
	}
	v := lt.Versions[1]
	if v.ImageID != ami || v.InstanceType != "t4g.small" || v.SourceVersion != "1" || v.Description != versionDescription(ami, paramVersion) || lt.DefaultVersion != 1 {
		t.Errorf("version 2 = %+v (default %d); want %s on the inherited t4g.small, from version 1, described, default still 1", v, lt.DefaultVersion, ami)
	}
	rs := srv.InstanceRefreshes(region, groupName)
	if len(rs) != 1 {
		t.Fatalf("instance refreshes = %+v, want exactly one", rs)
	}
	r := rs[0]
	if r.DesiredLaunchTemplateID != ltID || r.DesiredLaunchTemplateVersion != "2" || r.Strategy != "Rolling" || !reflect.DeepEqual(r.Preferences, wantFakePreferences) {
		t.Errorf("refresh = %s\nwant to %s version 2 with preferences %s", asJSON(r), ltID, asJSON(wantFakePreferences))
	}
	if n := srv.CountOK("CreateLaunchTemplateVersion"); n != 1 {
		t.Errorf("successful CreateLaunchTemplateVersion calls = %d, want 1", n)
	}
	if n := srv.CountOK("StartInstanceRefresh"); n != 1 {
		t.Errorf("successful StartInstanceRefresh calls = %d, want 1", n)
	}
	return r
}

func TestIntegrationNewAMIThenSameAMIAgain(t *testing.T) {
	srv, h := setupIntegration(t)
	ctx := context.Background()
	first, err := h.Handle(ctx, loadEvent(t, "parameter-update.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	r := checkOneRollout(t, srv, amiB, 1)
	if first.Decision != DecisionStarted || first.InstanceRefreshID != r.ID || first.LaunchTemplateVersion != "2" || first.AMI != amiB {
		t.Errorf("result = %+v, want started on version 2 as refresh %s", first, r.ID)
	}

	// Redeliveries while the refresh runs change nothing.
	for _, name := range []string{"parameter-update.json", "parameter-create.json", "scheduled-event.json"} {
		got, err := h.Handle(ctx, loadEvent(t, name))
		if err != nil || got.Decision != DecisionInProgress || got.InstanceRefreshID != r.ID {
			t.Errorf("%s during the refresh = %+v, %v; want in-progress", name, got, err)
		}
	}
	// Once it succeeded, the group is on version 2 and the same AMI is unchanged.
	if err := srv.CompleteInstanceRefresh(region, r.ID, fakeaws.RefreshSuccessful); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"parameter-update.json", "scheduled-event.json"} {
		got, err := h.Handle(ctx, loadEvent(t, name))
		if err != nil || got.Decision != DecisionUnchanged || got.LaunchTemplateVersion != "2" {
			t.Errorf("%s after the refresh = %+v, %v; want unchanged on version 2", name, got, err)
		}
	}
	checkOneRollout(t, srv, amiB, 1)
}

func TestIntegrationRefreshInProgressStartsNothingAndTheScheduleCatchesUp(t *testing.T) {
	srv, h := setupIntegration(t)
	logs := captureLogs(t)
	ctx := context.Background()
	busy := srv.AddInstanceRefresh(region, fakeaws.InstanceRefresh{GroupName: groupName, Status: fakeaws.RefreshInProgress})

	got, err := h.Handle(ctx, loadEvent(t, "parameter-update.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	wantReason := "instance refresh " + busy + " (InProgress, not to a version of the launch template) is running; " + amiB +
		" (parameter /golden-ami/latest version 1) rolls out on the first convergence pass after it ends"
	if got.Decision != DecisionDeferred || got.Reason != wantReason {
		t.Errorf("result = %+v\nwant deferred: %s", got, wantReason)
	}
	if srv.Count("CreateLaunchTemplateVersion") != 0 || srv.Count("StartInstanceRefresh") != 0 {
		t.Errorf("calls = %+v, want no writes", srv.Calls())
	}
	recs := logRecords(t, logs)
	if len(recs) != 1 || recs[0]["decision"] != DecisionDeferred || recs[0]["reason"] != wantReason || recs[0]["level"] != "INFO" {
		t.Errorf("log = %v, want one info record with the deferral", recs)
	}

	// The change is not lost: after the other refresh ends, the schedule rolls it out.
	if err := srv.CompleteInstanceRefresh(region, busy, fakeaws.RefreshSuccessful); err != nil {
		t.Fatal(err)
	}
	next, err := h.Handle(ctx, loadEvent(t, "scheduled-event.json"))
	if err != nil || next.Decision != DecisionStarted || next.AMI != amiB {
		t.Fatalf("schedule after the refresh = %+v, %v; want started", next, err)
	}
	lt, _ := srv.LaunchTemplate(region, ltID)
	if n := len(srv.InstanceRefreshes(region, groupName)); n != 2 || len(lt.Versions) != 2 || srv.CountOK("StartInstanceRefresh") != 1 {
		t.Errorf("refreshes = %d, versions = %d, starts = %d; want 2 (theirs and ours), 2, 1", n, len(lt.Versions), srv.CountOK("StartInstanceRefresh"))
	}
}

// Auto Scaling's Throttling (HTTP 400, awsQuery) and EC2's
// RequestLimitExceeded (HTTP 503, ec2Query) are retried by the SDK with the
// shared retryer: still exactly one version and one refresh.
func TestIntegrationThrottlingIsRetried(t *testing.T) {
	srv, h := setupIntegration(t)
	faults := []fakeaws.Fault{
		{Operation: "GetParameter", Code: "ThrottlingException", Message: "Rate exceeded"},
		{Operation: "DescribeAutoScalingGroups", Code: "Throttling", Message: "Rate exceeded", Times: 2},
		{Operation: "DescribeInstanceRefreshes", Code: "Throttling", Message: "Rate exceeded"},
		{Operation: "DescribeLaunchTemplateVersions", Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."},
		{Operation: "CreateLaunchTemplateVersion", Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded.", Times: 2},
		{Operation: "StartInstanceRefresh", Code: "Throttling", Message: "Rate exceeded", Times: 2},
	}
	for _, f := range faults {
		srv.Inject(f)
	}
	got, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if got.Decision != DecisionStarted {
		t.Errorf("result = %+v, want started", got)
	}
	checkOneRollout(t, srv, amiB, 1)
	for _, f := range faults {
		if want := max(f.Times, 1) + 1; srv.Count(f.Operation) != want {
			t.Errorf("%s attempts = %d, want %d", f.Operation, srv.Count(f.Operation), want)
		}
	}
}

// Responses lost after the change was made: the SDK retries
// CreateLaunchTemplateVersion with the same ClientToken (EC2 returns the
// same version) and StartInstanceRefresh into InstanceRefreshInProgress
// (the handler finds its own refresh).
func TestIntegrationLostResponsesMakeOneVersionAndOneRefresh(t *testing.T) {
	srv, h := setupIntegration(t)
	srv.Inject(fakeaws.Fault{Operation: "CreateLaunchTemplateVersion", Status: 500, Code: "InternalError", AfterApply: true})
	srv.Inject(fakeaws.Fault{Operation: "StartInstanceRefresh", Status: 500, Code: "InternalFailure", AfterApply: true})
	got, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	lt, _ := srv.LaunchTemplate(region, ltID)
	rs := srv.InstanceRefreshes(region, groupName)
	if len(lt.Versions) != 2 || len(rs) != 1 {
		t.Fatalf("versions = %d, refreshes = %d; want 2 and 1", len(lt.Versions), len(rs))
	}
	if got.Decision != DecisionStarted || got.InstanceRefreshID != rs[0].ID || got.LaunchTemplateVersion != "2" {
		t.Errorf("result = %+v, want started as %s on version 2", got, rs[0].ID)
	}
	if srv.Count("CreateLaunchTemplateVersion") != 2 || srv.Count("StartInstanceRefresh") != 2 || srv.Count("DescribeInstanceRefreshes") != 2 {
		t.Errorf("calls = %+v", srv.Calls())
	}
}

// Launch template versions come in pages, and all of them are read.
func TestIntegrationPagedVersions(t *testing.T) {
	srv, h := setupIntegration(t)
	srv.EC2PageSize = 1
	ctx := context.Background()
	// CloudFormation updated the template twice and the group is on version 2.
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := ec2.NewFromConfig(cfg).CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("1"), VersionDescription: aws.String("CloudFormation"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(amiA)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	srv.AddAutoScalingGroup(region, fakeaws.AutoScalingGroup{Name: groupName, LaunchTemplateID: ltID, LaunchTemplateName: "web", LaunchTemplateVersion: "2"})

	got, err := h.Handle(ctx, loadEvent(t, "scheduled-event.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	lt, _ := srv.LaunchTemplate(region, ltID)
	if got.Decision != DecisionStarted || got.LaunchTemplateVersion != "4" || len(lt.Versions) != 4 || lt.Versions[3].SourceVersion != "2" {
		t.Errorf("result = %+v, versions %+v; want version 4 copied from 2", got, lt.Versions)
	}
	if n := srv.Count("DescribeLaunchTemplateVersions"); n != 2 {
		t.Errorf("DescribeLaunchTemplateVersions calls = %d, want 2 (versions 2 and 3, one per page)", n)
	}
}

func TestIntegrationGroupThatCannotRollBackIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(*fakeaws.Server)
		wantErr string
	}{
		{name: "$Default", setup: func(srv *fakeaws.Server) {
			srv.AddAutoScalingGroup(region, fakeaws.AutoScalingGroup{Name: groupName, LaunchTemplateID: ltID, LaunchTemplateVersion: "$Default"})
		}, wantErr: `auto scaling group web uses launch template ` + ltID + ` version "$Default"; auto rollback needs a numbered version (it is not supported with $Latest or $Default), so nothing rolled out`},
		{name: "SSM alias", setup: func(srv *fakeaws.Server) {
			srv.AddLaunchTemplate(region, ltID, "web", "resolve:ssm:/golden-ami/latest", "t4g.small")
		}, wantErr: `launch template ` + ltID + ` version 1, which auto scaling group web uses, takes its AMI from "resolve:ssm:/golden-ami/latest": an instance refresh cannot roll back to a version whose AMI is a Systems Manager parameter; give the template a concrete AMI id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, h := setupIntegration(t)
			tc.setup(srv)
			_, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
			}
			if srv.Count("CreateLaunchTemplateVersion")+srv.Count("StartInstanceRefresh") != 0 {
				t.Errorf("calls = %+v, want no writes", srv.Calls())
			}
		})
	}
}

func TestIntegrationInvalidAMIRollsOutNothing(t *testing.T) {
	srv, h := setupIntegration(t)
	srv.SetParameter(region, paramName, "ami-NOTVALID")
	_, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
	want := `parameter /golden-ami/latest version 2: "ami-NOTVALID" is not an AMI id (want "ami-" followed by 8 or 17 hex digits); nothing rolled out`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	if calls := srv.Calls(); len(calls) != 1 || calls[0].Operation != "GetParameter" {
		t.Errorf("calls = %+v, want only GetParameter", calls)
	}
}

func TestIntegrationIgnoredEventsCallNothing(t *testing.T) {
	srv, h := setupIntegration(t)
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

// A parameter shared from another account through AWS RAM is named by its
// ARN: the function reads it by ARN over the wire, and the owner's
// forwarded Parameter Store Change event (name, account and region) rolls
// it out.
//
// fakeaws indexes parameters by the Name a request sends, so the fixture
// is stored under the ARN, standing in for the share: GetParameter succeeds
// only if the function sends the ARN.
func TestIntegrationSharedParameterIsReadByARN(t *testing.T) {
	const sharedARN = "arn:aws:ssm:" + region + ":444455556666:parameter" + paramName
	srv := fakeaws.New(t)
	srv.Setenv(t, region)
	srv.AddLaunchTemplate(region, ltID, "web", amiA, "t4g.small")
	srv.AddAutoScalingGroup(region, fakeaws.AutoScalingGroup{Name: groupName, LaunchTemplateID: ltID, LaunchTemplateName: "web",
		LaunchTemplateVersion: "1", MinSize: 2, MaxSize: 4, DesiredCapacity: 2})
	srv.SetParameter(region, sharedARN, amiB)
	env := validEnv()
	env["SSM_PARAMETER_NAME"] = sharedARN
	env["REFRESH_MAX_HEALTHY_PERCENTAGE"] = "110" // from the environment to the request
	cfg, err := configFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("configFromEnv: %v", err)
	}
	h, err := newHandler(context.Background(), cfg, awsconfig.WithMaxBackoff(time.Millisecond))
	if err != nil {
		t.Fatalf("newHandler: %v", err)
	}
	got, err := h.Handle(context.Background(), loadEvent(t, "parameter-update-shared.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	r := checkOneRollout(t, srv, amiB, 1)
	if got.Decision != DecisionStarted || got.InstanceRefreshID != r.ID || got.AMI != amiB {
		t.Errorf("result = %+v, want started as refresh %s", got, r.ID)
	}
	if n := srv.CountOK("GetParameter"); n != 1 {
		t.Errorf("successful GetParameter calls = %d, want 1 (by ARN)", n)
	}
}
