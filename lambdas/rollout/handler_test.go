package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestMain(m *testing.M) {
	// Tests that look at the log capture it; the rest stay quiet.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

var (
	reads      = []string{"GetParameter", "DescribeAutoScalingGroups", "DescribeInstanceRefreshes", "DescribeLaunchTemplateVersions"}
	readsStart = append(slices.Clone(reads), "CreateLaunchTemplateVersion", "StartInstanceRefresh")
)

// wantStart is the exact StartInstanceRefresh input for version.
func wantStart(version string) *autoscaling.StartInstanceRefreshInput {
	return &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String(groupName),
		Strategy:             astypes.RefreshStrategyRolling,
		DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{
			LaunchTemplateId: aws.String(ltID), Version: aws.String(version),
		}},
		Preferences: &astypes.RefreshPreferences{
			AutoRollback:          aws.Bool(true),
			AlarmSpecification:    &astypes.AlarmSpecification{Alarms: []string{"web-5xx", "web-latency"}},
			MinHealthyPercentage:  aws.Int32(90),
			CheckpointPercentages: []int32{20, 50, 100},
			CheckpointDelay:       aws.Int32(600),
			InstanceWarmup:        aws.Int32(300),
			SkipMatching:          aws.Bool(true),
		},
	}
}

var clientTokenPattern = regexp.MustCompile(`^golden-ami-[0-9a-f]{48}$`)

func TestHandle(t *testing.T) {
	descB2 := versionDescription(amiB, 2)
	for _, tc := range []struct {
		name      string
		event     string
		setup     func(*world)
		want      Result
		wantErr   string
		wantCalls []string
		// wantCreate is the source version and description of the one
		// CreateLaunchTemplateVersion call, when one is expected.
		wantCreate *[2]string
		// wantStart is the desired version of the one StartInstanceRefresh
		// call, when one is expected.
		wantStart string
	}{
		{
			name: "new AMI: one launch template version and one refresh", event: "parameter-update.json",
			want: Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1",
				Reason: "parameter /golden-ami/latest version 2 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 1 with " + amiA},
			wantCalls: readsStart, wantCreate: &[2]string{"1", descB2}, wantStart: "2",
		},
		{
			name: "create event rolls out too", event: "parameter-create.json",
			want:      Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1", Reason: "parameter /golden-ami/latest version 2 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 1 with " + amiA},
			wantCalls: readsStart, wantCreate: &[2]string{"1", descB2}, wantStart: "2",
		},
		{
			name: "the schedule converges the same way", event: "scheduled-event.json",
			want:      Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1", Reason: "parameter /golden-ami/latest version 2 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 1 with " + amiA},
			wantCalls: readsStart, wantCreate: &[2]string{"1", descB2}, wantStart: "2",
		},
		{
			name: "new version inherits from the group's version, not the latest", event: "parameter-update.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiA, description: "CloudFormation"}, ltVersion{image: amiA, description: "someone's experiment"})
				w.groupVersion = "2"
			},
			want:      Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "4", InstanceRefreshID: "r-1", Reason: "parameter /golden-ami/latest version 2 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 2 with " + amiA},
			wantCalls: readsStart, wantCreate: &[2]string{"2", descB2}, wantStart: "4",
		},
		{
			name: "group moved to the AMI by someone else: its instances on other versions are refreshed", event: "scheduled-event.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: "deployed by CloudFormation"})
				w.groupVersion = "2"
				w.instances = []astypes.Instance{
					instance("i-new", "2", astypes.LifecycleStateInService, false),
					instance("i-old", "1", astypes.LifecycleStateInService, false),
					instance("i-kept", "1", astypes.LifecycleStateInService, true), // protected: a refresh leaves it
					instance("i-spare", "1", astypes.LifecycleStateStandby, false),
				}
			},
			want: Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1",
				Reason: "auto scaling group web is on launch template " + ltID + " version 2, which launches " + amiB + ", but 1 in-service instances (i-old) run another version: something other than this function moved the group without replacing them"},
			wantCalls: append(slices.Clone(reads), "StartInstanceRefresh"), wantStart: "2",
		},
		{
			name: "instances a refresh would not replace do not start one", event: "scheduled-event.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.groupVersion = "2"
				w.instances = []astypes.Instance{
					instance("i-kept", "1", astypes.LifecycleStateInService, true),
					instance("i-spare", "1", astypes.LifecycleStateStandby, false),
					instance("i-coming", "1", astypes.LifecycleStatePending, false),
				}
			},
			want:      Result{Decision: DecisionUnchanged, AMI: amiB, LaunchTemplateVersion: "2", Reason: "auto scaling group web is on launch template " + ltID + " version 2, which launches " + amiB},
			wantCalls: reads,
		},
		{
			name: "instances on other versions after a failed refresh to the AMI are reported, not refreshed again", event: "scheduled-event.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusFailed)
				w.groupVersion = "2"
				w.instances = []astypes.Instance{instance("i-old", "1", astypes.LifecycleStateInService, false)}
			},
			want: Result{Decision: DecisionUnchanged, AMI: amiB, LaunchTemplateVersion: "2",
				Reason: "auto scaling group web is on launch template " + ltID + " version 2, which launches " + amiB + "; but the last refresh to " + amiB + ", instance refresh r-1 (Failed, to version 2 with " + amiB + "), did not succeed, so something other than this function (e.g. a CloudFormation deployment) configured the group with it, and 1 in-service instances (i-old) still run another version; they are not refreshed again by this function"},
			wantCalls: reads,
		},
		{
			name: "an earlier attempt's version is not reused when the group moved to a version with other settings", event: "parameter-update.json",
			setup: func(w *world) {
				w.versions = []ltVersion{
					{image: amiA, instanceType: "t3.small"},
					{image: amiA, instanceType: "m7i.large"},
					{image: amiB, description: descB2, instanceType: "t3.small"}, // created from 1 by a start that failed
				}
				w.groupVersion = "2" // then someone moved the group to 2
			},
			want: Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "4", InstanceRefreshID: "r-1",
				Reason: "parameter /golden-ami/latest version 2 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 2 with " + amiA},
			wantCalls: readsStart, wantCreate: &[2]string{"2", descB2}, wantStart: "4",
		},
		{
			name: "same AMI again: unchanged", event: "parameter-update.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusSuccessful, "2"), astypes.InstanceRefreshStatusSuccessful)
				w.groupVersion = "2"
			},
			want:      Result{Decision: DecisionUnchanged, AMI: amiB, LaunchTemplateVersion: "2", Reason: "auto scaling group web is on launch template " + ltID + " version 2, which launches " + amiB},
			wantCalls: reads,
		},
		{
			name: "a refresh to this AMI is running: in progress", event: "parameter-update.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2")
			},
			want:      Result{Decision: DecisionInProgress, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1", Reason: "instance refresh r-1 (InProgress, to version 2 with " + amiB + ") already rolls out " + amiB},
			wantCalls: reads,
		},
		{
			name: "a refresh to another AMI is running: deferred", event: "parameter-update.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.addRefresh(astypes.InstanceRefreshStatusBaking, "2")
				w.param, w.paramVersion = amiC, 3
			},
			want: Result{Decision: DecisionDeferred, AMI: amiC, InstanceRefreshID: "r-1",
				Reason: "instance refresh r-1 (Baking, to version 2 with " + amiB + ") is running; " + amiC + " (parameter /golden-ami/latest version 3) rolls out on the first convergence pass after it ends"},
			wantCalls: reads,
		},
		{
			name: "a refresh without a desired configuration is running: deferred", event: "parameter-update.json",
			setup: func(w *world) { w.addRefresh(astypes.InstanceRefreshStatusRollbackInProgress, "") },
			want: Result{Decision: DecisionDeferred, AMI: amiB, InstanceRefreshID: "r-1",
				Reason: "instance refresh r-1 (RollbackInProgress, not to a version of the launch template) is running; " + amiB + " (parameter /golden-ami/latest version 2) rolls out on the first convergence pass after it ends"},
			wantCalls: reads,
		},
		{
			name: "a rolled-back rollout is not retried", event: "scheduled-event.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusRollbackSuccessful)
			},
			want: Result{Decision: DecisionBlocked, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1",
				Reason: blockedReason("r-1", "RollbackSuccessful")},
			wantCalls: reads,
		},
		{
			name: "an old refresh to $Latest is not taken for a rollout of today's latest version", event: "scheduled-event.json",
			setup: func(w *world) {
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "$Latest"), astypes.InstanceRefreshStatusCancelled)
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2}) // created by a start that failed
			},
			want:      Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-2", Reason: "parameter /golden-ami/latest version 2 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 1 with " + amiA},
			wantCalls: []string{"GetParameter", "DescribeAutoScalingGroups", "DescribeInstanceRefreshes", "DescribeLaunchTemplateVersions", "StartInstanceRefresh"}, wantStart: "2",
		},
		{
			name: "refreshes read across pages, in any order: a running one on the last page blocks", event: "scheduled-event.json",
			setup: func(w *world) {
				w.refreshPage, w.oldestFirst = 1, true
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "1"), astypes.InstanceRefreshStatusSuccessful)
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2")
			},
			want:      Result{Decision: DecisionInProgress, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-2", Reason: "instance refresh r-2 (InProgress, to version 2 with " + amiB + ") already rolls out " + amiB},
			wantCalls: []string{"GetParameter", "DescribeAutoScalingGroups", "DescribeInstanceRefreshes", "DescribeInstanceRefreshes", "DescribeLaunchTemplateVersions"},
		},
		{
			name: "the newest finished refresh decides, whatever order the service lists them in", event: "scheduled-event.json",
			setup: func(w *world) {
				w.oldestFirst = true
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusSuccessful)
				w.groupVersion = "1" // moved back by someone else
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusRollbackSuccessful)
			},
			want: Result{Decision: DecisionBlocked, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-2",
				Reason: blockedReason("r-2", "RollbackSuccessful")},
			wantCalls: reads,
		},
		{
			name: "a refresh without a start time counts as the newest", event: "scheduled-event.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusSuccessful)
				w.groupVersion = "1"
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusPending, "2"), astypes.InstanceRefreshStatusCancelled)
				w.refreshes[1].StartTime = nil // cancelled while pending
			},
			want: Result{Decision: DecisionBlocked, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-2",
				Reason: blockedReason("r-2", "Cancelled")},
			wantCalls: reads,
		},
		{
			name: "a refresh that is cancelling still blocks", event: "scheduled-event.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiC, description: versionDescription(amiC, 1)})
				w.addRefresh(astypes.InstanceRefreshStatusCancelling, "2")
			},
			want: Result{Decision: DecisionDeferred, AMI: amiB, InstanceRefreshID: "r-1",
				Reason: "instance refresh r-1 (Cancelling, to version 2 with " + amiC + ") is running; " + amiB + " (parameter /golden-ami/latest version 2) rolls out on the first convergence pass after it ends"},
			wantCalls: reads,
		},
		{
			name: "writing the same AMI again retries it with a new version", event: "parameter-update.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusFailed)
				w.paramVersion = 3
			},
			want:      Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "3", InstanceRefreshID: "r-2", Reason: "parameter /golden-ami/latest version 3 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 1 with " + amiA},
			wantCalls: readsStart, wantCreate: &[2]string{"1", versionDescription(amiB, 3)}, wantStart: "3",
		},
		{
			name: "a later rollout of the rolled-back AMI is not blocked by an older success", event: "parameter-update.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2})
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusSuccessful)
				w.groupVersion = "1" // something put the group back on amiA
			},
			want:      Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-2", Reason: "parameter /golden-ami/latest version 2 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 1 with " + amiA},
			wantCalls: slices.Concat(reads, []string{"StartInstanceRefresh"}), wantStart: "2",
		},
		{
			name: "an earlier attempt's version is reused", event: "parameter-update.json",
			setup:     func(w *world) { w.versions = append(w.versions, ltVersion{image: amiB, description: descB2}) },
			want:      Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1", Reason: "parameter /golden-ami/latest version 2 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 1 with " + amiA},
			wantCalls: slices.Concat(reads, []string{"StartInstanceRefresh"}), wantStart: "2",
		},
		{
			name: "a lost start response retried into InstanceRefreshInProgress is our refresh", event: "parameter-update.json",
			setup: func(w *world) { w.loseStartResponse = true },
			want: Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1",
				Reason: "instance refresh r-1 to launch template " + ltID + " version 2 with " + amiB + " is running (its start was answered by InstanceRefreshInProgress, so an earlier attempt of this start succeeded)"},
			wantCalls: slices.Concat(readsStart, []string{"DescribeInstanceRefreshes"}), wantCreate: &[2]string{"1", descB2}, wantStart: "2",
		},
		{
			name: "someone else's refresh started first: deferred", event: "parameter-update.json",
			setup: func(w *world) {
				w.beforeStart = func(w *world) { w.addRefresh(astypes.InstanceRefreshStatusPending, "") }
			},
			want: Result{Decision: DecisionDeferred, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1",
				Reason: "instance refresh r-1 (Pending) started before ours; launch template " + ltID + " version 2 with " + amiB + " rolls out on the first convergence pass after it ends"},
			wantCalls: slices.Concat(readsStart, []string{"DescribeInstanceRefreshes"}), wantCreate: &[2]string{"1", descB2}, wantStart: "2",
		},
		{
			// Only a refresh to our very version is ours: one to another
			// version of the same template started by someone else first.
			name: "someone else's refresh to another version of the template started first: deferred", event: "parameter-update.json",
			setup: func(w *world) {
				w.beforeStart = func(w *world) { w.addRefresh(astypes.InstanceRefreshStatusPending, "3") }
			},
			want: Result{Decision: DecisionDeferred, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1",
				Reason: "instance refresh r-1 (Pending) started before ours; launch template " + ltID + " version 2 with " + amiB + " rolls out on the first convergence pass after it ends"},
			wantCalls: slices.Concat(readsStart, []string{"DescribeInstanceRefreshes"}), wantCreate: &[2]string{"1", descB2}, wantStart: "2",
		},
		{
			name: "someone else's refresh to the same version number of another template started first: deferred", event: "parameter-update.json",
			setup: func(w *world) {
				w.beforeStart = func(w *world) {
					w.addRefresh(astypes.InstanceRefreshStatusPending, "2")
					w.refreshes[len(w.refreshes)-1].DesiredConfiguration.LaunchTemplate.LaunchTemplateId = aws.String("lt-0fffffffffffffff0")
				}
			},
			want: Result{Decision: DecisionDeferred, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1",
				Reason: "instance refresh r-1 (Pending) started before ours; launch template " + ltID + " version 2 with " + amiB + " rolls out on the first convergence pass after it ends"},
			wantCalls: slices.Concat(readsStart, []string{"DescribeInstanceRefreshes"}), wantCreate: &[2]string{"1", descB2}, wantStart: "2",
		},
		{
			name: "group configured with a rolled-back AMI from elsewhere: unchanged, and said so", event: "scheduled-event.json",
			setup: func(w *world) {
				w.versions = append(w.versions, ltVersion{image: amiB, description: descB2}, ltVersion{image: amiB, description: "CloudFormation"})
				w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusRollbackSuccessful)
				w.groupVersion = "3"
			},
			want: Result{Decision: DecisionUnchanged, AMI: amiB, LaunchTemplateVersion: "3",
				Reason: "auto scaling group web is on launch template " + ltID + " version 3, which launches " + amiB + "; but the last refresh to " + amiB +
					", instance refresh r-1 (RollbackSuccessful, to version 2 with " + amiB + "), did not succeed, so something other than this function (e.g. a CloudFormation deployment) configured the group with it"},
			wantCalls: reads,
		},
		{
			name: "invalid AMI in the parameter", event: "parameter-update.json",
			setup:     func(w *world) { w.param = "ami-NOTANAMI" },
			wantErr:   `parameter /golden-ami/latest version 2: "ami-NOTANAMI" is not an AMI id (want "ami-" followed by 8 or 17 hex digits); nothing rolled out`,
			wantCalls: []string{"GetParameter"},
		},
		{
			name: "group on $Default cannot roll back", event: "parameter-update.json",
			setup:     func(w *world) { w.groupVersion = "$Default" },
			wantErr:   `auto scaling group web uses launch template ` + ltID + ` version "$Default"; auto rollback needs a numbered version (it is not supported with $Latest or $Default), so nothing rolled out`,
			wantCalls: reads[:2],
		},
		{
			name: "group on $Latest cannot roll back", event: "parameter-update.json",
			setup:     func(w *world) { w.groupVersion = "$Latest" },
			wantErr:   `auto scaling group web uses launch template ` + ltID + ` version "$Latest"; auto rollback needs a numbered version (it is not supported with $Latest or $Default), so nothing rolled out`,
			wantCalls: reads[:2],
		},
		{
			name: "group on another launch template", event: "parameter-update.json",
			setup:     func(w *world) { w.groupTemplate = "lt-0fffffffffffffff0" },
			wantErr:   "auto scaling group web uses launch template lt-0fffffffffffffff0, not " + ltID + "; nothing rolled out",
			wantCalls: reads[:2],
		},
		{
			name: "group not found", event: "parameter-update.json",
			setup:     func(w *world) { w.noGroup = true },
			wantErr:   "auto scaling group web not found",
			wantCalls: reads[:2],
		},
		{
			name: "mixed instances policy", event: "parameter-update.json",
			setup:     func(w *world) { w.mixed = true },
			wantErr:   "auto scaling group web uses a mixed instances policy; this function rolls out only groups with a LaunchTemplate",
			wantCalls: reads[:2],
		},
		{
			name: "current version takes its AMI from SSM at launch", event: "parameter-update.json",
			setup: func(w *world) { w.versions[0].image = "resolve:ssm:/golden-ami/latest" },
			wantErr: `launch template ` + ltID + ` version 1, which auto scaling group web uses, takes its AMI from "resolve:ssm:/golden-ami/latest": ` +
				`an instance refresh cannot roll back to a version whose AMI is a Systems Manager parameter; give the template a concrete AMI id`,
			wantCalls: reads,
		},
		{
			name: "group's version no longer exists", event: "parameter-update.json",
			setup:     func(w *world) { w.groupVersion = "7" },
			wantErr:   "launch template " + ltID + " has no version 7, the version auto scaling group web uses",
			wantCalls: reads,
		},
		{
			name: "another parameter is ignored", event: "other-parameter.json",
			want: Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/upstream is not /golden-ami/latest"},
		},
		{
			name: "delete is ignored", event: "parameter-delete.json",
			want: Result{Decision: DecisionIgnored, Reason: "operation Delete of /golden-ami/latest does not create a new value"},
		},
		{
			name: "label is ignored", event: "parameter-label.json",
			want: Result{Decision: DecisionIgnored, Reason: "operation LabelParameterVersion of /golden-ami/latest does not create a new value"},
		},
		{
			name: "a write that failed validation is ignored", event: "parameter-create-exception.json",
			want: Result{Decision: DecisionIgnored, Reason: "the Create of /golden-ami/latest failed Parameter Store validation: Unable to Describe Resource"},
		},
		{
			name: "missing detail.name is an error", event: "malformed-missing-name.json",
			wantErr: `malformed event "7a8b9c0d-1e2f-4a3b-4c5d-6e7f8091a2b3": field "detail.name" is empty`,
		},
		{
			name: "detail that is not an object is an error", event: "malformed-detail-string.json",
			wantErr: `malformed event "8b9c0d1e-2f3a-4b4c-5d6e-7f8091a2b3c4": field "detail" is not a JSON object: "\"Update /golden-ami/latest\""`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			if tc.setup != nil {
				tc.setup(w)
			}
			refreshesBefore := len(w.refreshes)
			got, err := w.handler().Handle(context.Background(), loadEvent(t, tc.event))
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("Handle error = %v\nwant %s", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("result = %+v\nwant     %+v", got, tc.want)
			}
			if !slices.Equal(w.calls, tc.wantCalls) {
				t.Errorf("calls = %v\nwant    %v", w.calls, tc.wantCalls)
			}
			if tc.wantCreate == nil && len(w.creates) > 0 {
				t.Errorf("CreateLaunchTemplateVersion = %s, want no call", asJSON(w.creates))
			}
			if tc.wantCreate != nil {
				if len(w.creates) != 1 {
					t.Fatalf("CreateLaunchTemplateVersion calls = %d, want 1", len(w.creates))
				}
				in := w.creates[0]
				if aws.ToString(in.LaunchTemplateId) != ltID || aws.ToString(in.SourceVersion) != tc.wantCreate[0] ||
					aws.ToString(in.VersionDescription) != tc.wantCreate[1] || aws.ToString(in.LaunchTemplateData.ImageId) != got.AMI ||
					!clientTokenPattern.MatchString(aws.ToString(in.ClientToken)) || in.LaunchTemplateName != nil {
					t.Errorf("CreateLaunchTemplateVersion input = %s\nwant template %s, source %s, description %q, image %s, a client token",
						asJSON(in), ltID, tc.wantCreate[0], tc.wantCreate[1], got.AMI)
				}
				// Only ImageId is set: everything else comes from the source version.
				if want := (ec2types.RequestLaunchTemplateData{ImageId: aws.String(got.AMI)}); !reflect.DeepEqual(*in.LaunchTemplateData, want) {
					t.Errorf("launch template data = %s, want only ImageId %s", asJSON(in.LaunchTemplateData), got.AMI)
				}
			}
			if tc.wantStart == "" && len(w.starts) > 0 {
				t.Errorf("StartInstanceRefresh = %s, want no call", asJSON(w.starts))
			}
			if tc.wantStart != "" {
				if len(w.starts) != 1 {
					t.Fatalf("StartInstanceRefresh calls = %d, want 1", len(w.starts))
				}
				if !reflect.DeepEqual(w.starts[0], wantStart(tc.wantStart)) {
					t.Errorf("StartInstanceRefresh input = %s\nwant %s", asJSON(w.starts[0]), asJSON(wantStart(tc.wantStart)))
				}
				if n := len(w.refreshes) - refreshesBefore; n > 1 || (tc.want.Decision == DecisionStarted && n != 1) {
					t.Errorf("refreshes started = %d", n)
				}
			}
		})
	}
}

// The refresh preferences are passed through as configured, not assumed:
// MaxHealthyPercentage as set (the construct sets 110 by default, so a
// one-instance group launches its replacement before terminating) or left
// unset when it is not configured; SkipMatching off, so the refresh
// replaces instances that already match the desired version.
func TestRefreshPreferencesArePassedThrough(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure func(*Preferences)
		want      func(*astypes.RefreshPreferences)
	}{
		{"MaxHealthyPercentage 110", func(p *Preferences) { p.MaxHealthyPercentage = aws.Int32(110) },
			func(r *astypes.RefreshPreferences) { r.MaxHealthyPercentage = aws.Int32(110) }},
		{"MaxHealthyPercentage unset", func(p *Preferences) { p.MaxHealthyPercentage = nil },
			func(r *astypes.RefreshPreferences) { r.MaxHealthyPercentage = nil }},
		{"SkipMatching off", func(p *Preferences) { p.SkipMatching = false },
			func(r *astypes.RefreshPreferences) { r.SkipMatching = aws.Bool(false) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			h := w.handler()
			tc.configure(&h.Preferences)
			got, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
			if err != nil || got.Decision != DecisionStarted || got.LaunchTemplateVersion != "2" {
				t.Fatalf("Handle = %+v, %v; want started on version 2", got, err)
			}
			want := wantStart("2")
			tc.want(want.Preferences)
			if len(w.starts) != 1 || !reflect.DeepEqual(w.starts[0], want) {
				t.Errorf("StartInstanceRefresh inputs = %s\nwant one: %s", asJSON(w.starts), asJSON(want))
			}
		})
	}
}

// A refresh without a start time (cancelled while pending) is the newest
// whatever order the service lists refreshes in, so a rollout it cancelled
// is blocked rather than retried on the strength of an older success.
func TestRefreshWithoutStartTimeIsNewestInEitherListingOrder(t *testing.T) {
	for _, oldestFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("oldestFirst=%v", oldestFirst), func(t *testing.T) {
			w := newWorld()
			w.oldestFirst = oldestFirst
			w.versions = append(w.versions, ltVersion{image: amiB, description: versionDescription(amiB, 2)})
			w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusSuccessful)
			w.groupVersion = "1" // moved back by someone else
			w.complete(w.addRefresh(astypes.InstanceRefreshStatusPending, "2"), astypes.InstanceRefreshStatusCancelled)
			w.refreshes[1].StartTime = nil
			got, err := w.handler().Handle(context.Background(), loadEvent(t, "scheduled-event.json"))
			if err != nil {
				t.Fatal(err)
			}
			want := Result{Decision: DecisionBlocked, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-2", Reason: blockedReason("r-2", "Cancelled")}
			if got != want {
				t.Errorf("result = %+v\nwant     %+v", got, want)
			}
			if w.writes() != 0 {
				t.Errorf("calls = %v, want no writes", w.calls)
			}
		})
	}
}

// The client token is a function of what the version rolls out, so a
// retried create replays it and a new rollout gets a new one.
func TestClientTokenIsDeterministic(t *testing.T) {
	token := func(setup func(*world)) string {
		w := newWorld()
		setup(w)
		if _, err := w.handler().Handle(context.Background(), loadEvent(t, "parameter-update.json")); err != nil {
			t.Fatal(err)
		}
		return aws.ToString(w.creates[0].ClientToken)
	}
	same1, same2 := token(func(*world) {}), token(func(*world) {})
	newParamVersion := token(func(w *world) { w.paramVersion = 3 })
	newAMI := token(func(w *world) { w.param = amiC })
	newSource := token(func(w *world) {
		w.versions = append(w.versions, ltVersion{image: amiA})
		w.groupVersion = "2"
	})
	if same1 != same2 {
		t.Errorf("tokens differ for the same rollout: %s, %s", same1, same2)
	}
	for name, tok := range map[string]string{"parameter version": newParamVersion, "AMI": newAMI, "source version": newSource} {
		if tok == same1 {
			t.Errorf("a new %s reuses token %s", name, tok)
		}
	}
}

func TestThrottlingOnEachCallIsAWrappedErrorNamingTheOperation(t *testing.T) {
	for _, tc := range []struct {
		op, service, code string
		want              string
		wantWrites        int
	}{
		{op: "GetParameter", service: "SSM", code: "ThrottlingException",
			want: "get parameter /golden-ami/latest: operation error SSM: GetParameter, api error ThrottlingException: Rate exceeded"},
		{op: "DescribeAutoScalingGroups", service: "Auto Scaling", code: "Throttling",
			want: "describe auto scaling group web: operation error Auto Scaling: DescribeAutoScalingGroups, api error Throttling: Rate exceeded"},
		{op: "DescribeInstanceRefreshes", service: "Auto Scaling", code: "Throttling",
			want: "describe instance refreshes of auto scaling group web: operation error Auto Scaling: DescribeInstanceRefreshes, api error Throttling: Rate exceeded"},
		{op: "DescribeLaunchTemplateVersions", service: "EC2", code: "RequestLimitExceeded",
			want: "describe versions of launch template " + ltID + ": operation error EC2: DescribeLaunchTemplateVersions, api error RequestLimitExceeded: Rate exceeded"},
		{op: "CreateLaunchTemplateVersion", service: "EC2", code: "RequestLimitExceeded", wantWrites: 1,
			want: "create version of launch template " + ltID + " from version 1 with " + amiB + ": operation error EC2: CreateLaunchTemplateVersion, api error RequestLimitExceeded: Rate exceeded"},
		{op: "StartInstanceRefresh", service: "Auto Scaling", code: "Throttling", wantWrites: 2,
			want: "start instance refresh of auto scaling group web to launch template " + ltID + " version 2 (" + amiB + "): operation error Auto Scaling: StartInstanceRefresh, api error Throttling: Rate exceeded"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			w := newWorld()
			w.fail[tc.op] = apiErr(tc.service, tc.op, tc.code, "Rate exceeded")
			got, err := w.handler().Handle(context.Background(), loadEvent(t, "parameter-update.json"))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant %s", err, tc.want)
			}
			if got != (Result{}) {
				t.Errorf("result = %+v, want zero", got)
			}
			if w.calls[len(w.calls)-1] != tc.op {
				t.Errorf("calls = %v, want to stop at %s", w.calls, tc.op)
			}
			if w.writes() != tc.wantWrites {
				t.Errorf("write calls = %d, want %d (nothing after the failure)", w.writes(), tc.wantWrites)
			}
		})
	}
}

// A CreateLaunchTemplateVersion answer without a usable version number is
// an error naming the template, and no refresh starts to a version that
// cannot be named.
func TestCreatedVersionWithoutANumberIsAnError(t *testing.T) {
	for name, answer := range map[string]*ec2.CreateLaunchTemplateVersionOutput{
		"no version":        {},
		"no version number": {LaunchTemplateVersion: &ec2types.LaunchTemplateVersion{LaunchTemplateId: aws.String(ltID)}},
		"version 0":         {LaunchTemplateVersion: &ec2types.LaunchTemplateVersion{LaunchTemplateId: aws.String(ltID), VersionNumber: aws.Int64(0)}},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			h := w.handler()
			h.VersionCreator = createVersionFunc(func(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, o ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
				if _, err := w.createVersion(ctx, in, o...); err != nil {
					return nil, err
				}
				return answer, nil
			})
			got, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
			want := "create version of launch template " + ltID + " from version 1 with " + amiB + ": response has no version number"
			if err == nil || err.Error() != want {
				t.Fatalf("error = %v\nwant %s", err, want)
			}
			if got != (Result{}) {
				t.Errorf("result = %+v, want zero", got)
			}
			if n := w.count("StartInstanceRefresh"); n != 0 || len(w.starts) != 0 {
				t.Errorf("StartInstanceRefresh calls = %d, want none", n)
			}
		})
	}
}

// A start that fails after the version was created, and the redelivery
// that follows, end with exactly one version and one refresh.
// blockedReason is the reason of a blocked rollout of amiB for parameter
// version 2, whose refresh id ended in status, to version 2.
func blockedReason(id, status string) string {
	return "instance refresh " + id + " (" + status + ", to version 2 with " + amiB + ") for parameter /golden-ami/latest version 2 ended " + status +
		"; to retry the same AMI write it to the parameter again (a new parameter version)"
}

func TestPartialFailureThenRedeliveryMakesOneVersionAndOneRefresh(t *testing.T) {
	w := newWorld()
	w.fail["StartInstanceRefresh"] = apiErr("Auto Scaling", "StartInstanceRefresh", "Throttling", "Rate exceeded")
	h := w.handler()
	if _, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json")); err == nil ||
		!strings.Contains(err.Error(), "start instance refresh of auto scaling group ") ||
		!strings.HasSuffix(err.Error(), "operation error Auto Scaling: StartInstanceRefresh, api error Throttling: Rate exceeded") {
		t.Fatalf("first attempt: error = %v; want the throttling error of StartInstanceRefresh, naming the group", err)
	}
	delete(w.fail, "StartInstanceRefresh")
	for i, name := range []string{"parameter-update.json", "parameter-update.json", "scheduled-event.json"} {
		got, err := h.Handle(context.Background(), loadEvent(t, name))
		if err != nil {
			t.Fatalf("redelivery %d: %v", i, err)
		}
		want := DecisionStarted
		if i > 0 {
			want = DecisionInProgress
		}
		if got.Decision != want || got.LaunchTemplateVersion != "2" {
			t.Errorf("redelivery %d = %+v, want %s on version 2", i, got, want)
		}
	}
	if len(w.versions) != 2 || w.count("CreateLaunchTemplateVersion") != 1 {
		t.Errorf("versions = %+v after %d creates; want exactly one new version", w.versions, w.count("CreateLaunchTemplateVersion"))
	}
	if len(w.refreshes) != 1 {
		t.Errorf("refreshes = %d, want 1", len(w.refreshes))
	}
}

// "Nothing is lost": a change that arrives while a refresh to another AMI
// runs is deferred and logged, and the convergence schedule rolls it out
// once that refresh ends, whether it succeeded or rolled back.
func TestDeferredChangeIsRolledOutByTheSchedule(t *testing.T) {
	for _, outcome := range []astypes.InstanceRefreshStatus{astypes.InstanceRefreshStatusSuccessful, astypes.InstanceRefreshStatusRollbackSuccessful} {
		t.Run(string(outcome), func(t *testing.T) {
			logs := captureLogs(t)
			w := newWorld()
			h := w.handler()
			first, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
			if err != nil || first.Decision != DecisionStarted {
				t.Fatalf("rollout of %s = %+v, %v", amiB, first, err)
			}
			// amiC arrives while the refresh to amiB runs.
			w.param, w.paramVersion = amiC, 3
			deferred, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
			if err != nil || deferred.Decision != DecisionDeferred || deferred.InstanceRefreshID != first.InstanceRefreshID {
				t.Fatalf("change during the refresh = %+v, %v; want deferred behind %s", deferred, err, first.InstanceRefreshID)
			}
			if w.writes() != 2 {
				t.Fatalf("writes = %d after the deferred change, want the first rollout's 2 only", w.writes())
			}
			var logged map[string]any
			for _, rec := range logRecords(t, logs) {
				if rec["decision"] == DecisionDeferred {
					logged = rec
				}
			}
			if logged == nil || logged["msg"] != "rollout deferred until the running refresh ends; the convergence schedule will start it" ||
				logged["reason"] != deferred.Reason || logged["ami"] != amiC || logged["instanceRefreshId"] != first.InstanceRefreshID || logged["trigger"] != "parameter-change" {
				t.Errorf("deferred log record = %v\nwant msg, reason %q, ami, refresh id and trigger", logged, deferred.Reason)
			}

			// While it still runs, the schedule changes nothing either.
			if again, err := h.Handle(context.Background(), loadEvent(t, "scheduled-event.json")); err != nil || again.Decision != DecisionDeferred {
				t.Fatalf("schedule during the refresh = %+v, %v; want deferred", again, err)
			}
			w.complete(first.InstanceRefreshID, outcome)
			next, err := h.Handle(context.Background(), loadEvent(t, "scheduled-event.json"))
			if err != nil {
				t.Fatal(err)
			}
			if next.Decision != DecisionStarted || next.AMI != amiC || next.LaunchTemplateVersion != "3" {
				t.Fatalf("schedule after the refresh ended = %+v; want %s started on version 3", next, amiC)
			}
			wantSource := "2" // the group took version 2 when its refresh succeeded
			if outcome != astypes.InstanceRefreshStatusSuccessful {
				wantSource = "1" // rolled back: the group kept version 1
			}
			if src := aws.ToString(w.creates[len(w.creates)-1].SourceVersion); src != wantSource {
				t.Errorf("version 3 was copied from version %s, want %s (the group's)", src, wantSource)
			}
			if len(w.refreshes) != 2 || len(w.versions) != 3 {
				t.Errorf("refreshes = %d, versions = %d; want 2 and 3", len(w.refreshes), len(w.versions))
			}
		})
	}
}

func TestMalformedEnvelope(t *testing.T) {
	good := loadEvent(t, "parameter-update.json")
	const id = "9b2e6f4c-1d3a-4c5e-8f7a-0b1c2d3e4f5a"
	for _, tc := range []struct {
		name    string
		mutate  func(*events.CloudWatchEvent)
		want    Result
		wantErr string
	}{
		{name: "no source", mutate: func(e *events.CloudWatchEvent) { e.Source = "" },
			wantErr: `malformed event "` + id + `": field "source" is empty`},
		{name: "no detail-type", mutate: func(e *events.CloudWatchEvent) { e.DetailType = "" },
			wantErr: `malformed event "` + id + `": field "detail-type" is empty`},
		{name: "no detail", mutate: func(e *events.CloudWatchEvent) { e.Detail = nil },
			wantErr: `malformed event "` + id + `": field "detail" is missing`},
		{name: "null detail", mutate: func(e *events.CloudWatchEvent) { e.Detail = json.RawMessage(" null ") },
			wantErr: `malformed event "` + id + `": field "detail" is missing`},
		{name: "wrongly typed field", mutate: func(e *events.CloudWatchEvent) { e.Detail = json.RawMessage(`{"name":["/golden-ami/latest"]}`) },
			wantErr: `malformed event "` + id + `": field "detail": json: cannot unmarshal array into Go struct field parameterChange.name of type string`},
		{name: "no operation", mutate: func(e *events.CloudWatchEvent) { e.Detail = json.RawMessage(`{"name":"/golden-ami/latest"}`) },
			wantErr: `malformed event "` + id + `": field "detail.operation" is empty (detail.name "/golden-ami/latest")`},
		{name: "another source is ignored", mutate: func(e *events.CloudWatchEvent) { e.Source = "aws.autoscaling" },
			want: Result{Decision: DecisionIgnored, Reason: `event aws.autoscaling/"Parameter Store Change" is neither an aws.ssm "Parameter Store Change" nor an aws.events "Scheduled Event" event`}},
		{name: "another detail-type is ignored", mutate: func(e *events.CloudWatchEvent) { e.DetailType = "Parameter Store Policy Action" },
			want: Result{Decision: DecisionIgnored, Reason: `event aws.ssm/"Parameter Store Policy Action" is neither an aws.ssm "Parameter Store Change" nor an aws.events "Scheduled Event" event`}},
		{name: "a scheduled event's detail is not read", mutate: func(e *events.CloudWatchEvent) {
			e.Source, e.DetailType, e.Detail = "aws.events", "Scheduled Event", json.RawMessage(`"anything"`)
		}, want: Result{Decision: DecisionStarted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			ev := good
			tc.mutate(&ev)
			got, err := w.handler().Handle(context.Background(), ev)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
				}
				if len(w.calls) != 0 {
					t.Errorf("calls = %v, want none", w.calls)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.Decision == DecisionStarted {
				if got.Decision != DecisionStarted {
					t.Errorf("result = %+v, want started", got)
				}
				return
			}
			if got != tc.want || len(w.calls) != 0 {
				t.Errorf("result = %+v, calls %v\nwant %+v and no calls", got, w.calls, tc.want)
			}
		})
	}
}

// Ignored events are logged at info with the reason.
func TestIgnoredEventIsLogged(t *testing.T) {
	logs := captureLogs(t)
	w := newWorld()
	if _, err := w.handler().Handle(context.Background(), loadEvent(t, "other-parameter.json")); err != nil {
		t.Fatal(err)
	}
	recs := logRecords(t, logs)
	if len(recs) != 1 || recs[0]["level"] != "INFO" || recs[0]["decision"] != DecisionIgnored ||
		recs[0]["reason"] != "parameter /golden-ami/upstream is not /golden-ami/latest" || recs[0]["eventId"] != "5e6f7a8b-9c0d-4e1f-2a3b-4c5d6e7f8091" {
		t.Errorf("log = %v", recs)
	}
}

// A blocked rollout is logged at warn: someone has to look at it.
func TestBlockedRolloutIsLoggedAtWarn(t *testing.T) {
	logs := captureLogs(t)
	w := newWorld()
	w.versions = append(w.versions, ltVersion{image: amiB, description: versionDescription(amiB, 2)})
	w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusRollbackFailed)
	got, err := w.handler().Handle(context.Background(), loadEvent(t, "scheduled-event.json"))
	if err != nil || got.Decision != DecisionBlocked {
		t.Fatalf("Handle = %+v, %v; want blocked", got, err)
	}
	recs := logRecords(t, logs)
	if len(recs) != 1 || recs[0]["level"] != "WARN" || recs[0]["decision"] != DecisionBlocked || recs[0]["reason"] != got.Reason || recs[0]["trigger"] != "schedule" {
		t.Errorf("log = %v", recs)
	}
}

// Versions are read as a range from the lowest one of interest, so old
// versions are not read, and a deleted one cannot fail the call.
func TestVersionsAreReadFromTheLowestOfInterest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		setup     func(*world)
		wantAfter string
	}{
		{name: "group on version 1", setup: func(*world) {}, wantAfter: ""},
		{name: "group on version 4", setup: func(w *world) {
			w.versions = append(w.versions, ltVersion{image: amiA}, ltVersion{image: amiA}, ltVersion{image: amiA})
			w.groupVersion = "4"
		}, wantAfter: "3"},
		{name: "a refresh to an older version", setup: func(w *world) {
			w.versions = append(w.versions, ltVersion{image: amiA}, ltVersion{image: amiA}, ltVersion{image: amiA})
			w.groupVersion = "4"
			w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusCancelled)
		}, wantAfter: "1"},
		// Whether an instance lags depends on what its version launches.
		{name: "an instance on an older version", setup: func(w *world) {
			w.versions = append(w.versions, ltVersion{image: amiA}, ltVersion{image: amiA}, ltVersion{image: amiA})
			w.groupVersion = "4"
			w.instances = []astypes.Instance{instance("i-old", "3", astypes.LifecycleStateInService, false)}
		}, wantAfter: "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			tc.setup(w)
			if _, err := w.handler().Handle(context.Background(), loadEvent(t, "scheduled-event.json")); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(w.describedAfter, []string{tc.wantAfter}) {
				t.Errorf("MinVersion = %q, want [%q]", w.describedAfter, tc.wantAfter)
			}
		})
	}
}

// A group configured, from elsewhere, with an AMI whose rollout rolled back
// is logged at warn too.
func TestRolledBackAMIOnTheGroupIsLoggedAtWarn(t *testing.T) {
	logs := captureLogs(t)
	w := newWorld()
	w.versions = append(w.versions, ltVersion{image: amiB, description: versionDescription(amiB, 2)}, ltVersion{image: amiB, description: "CloudFormation"})
	w.complete(w.addRefresh(astypes.InstanceRefreshStatusInProgress, "2"), astypes.InstanceRefreshStatusRollbackSuccessful)
	w.groupVersion = "3"
	got, err := w.handler().Handle(context.Background(), loadEvent(t, "scheduled-event.json"))
	if err != nil || got.Decision != DecisionUnchanged {
		t.Fatalf("Handle = %+v, %v; want unchanged", got, err)
	}
	recs := logRecords(t, logs)
	if len(recs) != 1 || recs[0]["level"] != "WARN" || recs[0]["msg"] != "nothing to roll out, but the group runs an AMI whose rollout failed" || recs[0]["reason"] != got.Reason {
		t.Errorf("log = %v", recs)
	}
	// Without the failed refresh, the same state is an ordinary info.
	logs.Reset()
	w.refreshes = nil
	if _, err := w.handler().Handle(context.Background(), loadEvent(t, "scheduled-event.json")); err != nil {
		t.Fatal(err)
	}
	if recs := logRecords(t, logs); len(recs) != 1 || recs[0]["level"] != "INFO" || recs[0]["msg"] != "nothing to roll out" {
		t.Errorf("log = %v", recs)
	}
}

// A parameter shared from another account is configured by ARN: it is read
// by ARN, and the Parameter Store Change events its owner forwards, which
// carry its name and the owner's account and region, roll it out.
func TestSharedParameterByARN(t *testing.T) {
	const (
		owner     = "444455556666"
		sharedARN = "arn:aws:ssm:us-east-1:" + owner + ":parameter/golden-ami/latest"
	)
	started := func(ref string) Result {
		return Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "2", InstanceRefreshID: "r-1",
			Reason: "parameter " + ref + " version 2 is " + amiB + "; auto scaling group web was on launch template " + ltID + " version 1 with " + amiA}
	}
	for _, tc := range []struct {
		name      string
		parameter string
		mutate    func(*events.CloudWatchEvent)
		want      Result
	}{
		{name: "the owner's forwarded event rolls out", parameter: sharedARN, want: started(sharedARN)},
		{name: "an event without account and region is matched by name", parameter: sharedARN,
			mutate: func(e *events.CloudWatchEvent) { e.AccountID, e.Region = "", "" }, want: started(sharedARN)},
		{name: "the same name in another account is ignored", parameter: sharedARN,
			mutate: func(e *events.CloudWatchEvent) { e.AccountID = "123456789012" },
			want:   Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/latest of account 123456789012 in us-east-1 is not " + sharedARN}},
		{name: "the same name in another region is ignored", parameter: sharedARN,
			mutate: func(e *events.CloudWatchEvent) { e.Region = "eu-west-1" },
			want:   Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/latest of account " + owner + " in eu-west-1 is not " + sharedARN}},
		{name: "another parameter of the owner is ignored", parameter: sharedARN,
			mutate: func(e *events.CloudWatchEvent) {
				e.Detail = json.RawMessage(`{"name":"/golden-ami/upstream","operation":"Update"}`)
			},
			want: Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/upstream of account " + owner + " in us-east-1 is not " + sharedARN}},
		{name: "a name without a slash", parameter: "arn:aws:ssm:us-east-1:" + owner + ":parameter/golden-ami-latest",
			mutate: func(e *events.CloudWatchEvent) {
				e.Detail = json.RawMessage(`{"name":"golden-ami-latest","operation":"Update"}`)
			},
			want: started("arn:aws:ssm:us-east-1:" + owner + ":parameter/golden-ami-latest")},
		// Its ARN is the same with a leading slash, which is how
		// latestami.LatestAMIFromParameterARN names it.
		{name: "a one-level name with a leading slash", parameter: "arn:aws:ssm:us-east-1:" + owner + ":parameter/golden-ami-latest",
			mutate: func(e *events.CloudWatchEvent) {
				e.Detail = json.RawMessage(`{"name":"/golden-ami-latest","operation":"Update"}`)
			},
			want: started("arn:aws:ssm:us-east-1:" + owner + ":parameter/golden-ami-latest")},
		{name: "a name in this account is not matched against the event's account", parameter: paramName,
			mutate: func(e *events.CloudWatchEvent) { e.AccountID = "123456789012" }, want: started(paramName)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			w.parameter = tc.parameter
			ev := loadEvent(t, "parameter-update-shared.json")
			if tc.mutate != nil {
				tc.mutate(&ev)
			}
			got, err := w.handler().Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got != tc.want {
				t.Errorf("result = %+v\nwant     %+v", got, tc.want)
			}
			if tc.want.Decision == DecisionIgnored && len(w.calls) != 0 {
				t.Errorf("calls = %v, want none", w.calls)
			}
		})
	}
}

// An operation Parameter Store does not send (a new one, a typo, a
// mis-cased one) is a malformed event, not a change to ignore: it is an
// error naming the field and value, and nothing is read or changed. The
// documented operations the function does not act on are still ignored.
func TestUnknownOperationIsAnError(t *testing.T) {
	const id = "9b2e6f4c-1d3a-4c5e-8f7a-0b1c2d3e4f5a"
	for _, tc := range []struct {
		name, detail, wantErr string
		want                  Result
	}{
		{name: "unknown", detail: `{"name":"/golden-ami/latest","operation":"Frobnicate"}`,
			wantErr: `malformed event "` + id + `": field "detail.operation" = "Frobnicate" is not one of Create, Update, Delete, LabelParameterVersion (detail.name "/golden-ami/latest")`},
		{name: "mis-cased", detail: `{"name":"/golden-ami/latest","operation":"update"}`,
			wantErr: `malformed event "` + id + `": field "detail.operation" = "update" is not one of Create, Update, Delete, LabelParameterVersion (detail.name "/golden-ami/latest")`},
		{name: "unknown, of another parameter", detail: `{"name":"/golden-ami/upstream","operation":"Frobnicate"}`,
			wantErr: `malformed event "` + id + `": field "detail.operation" = "Frobnicate" is not one of Create, Update, Delete, LabelParameterVersion (detail.name "/golden-ami/upstream")`},
		{name: "Delete is ignored", detail: `{"name":"/golden-ami/latest","operation":"Delete"}`,
			want: Result{Decision: DecisionIgnored, Reason: "operation Delete of /golden-ami/latest does not create a new value"}},
		{name: "LabelParameterVersion is ignored", detail: `{"name":"/golden-ami/latest","operation":"LabelParameterVersion"}`,
			want: Result{Decision: DecisionIgnored, Reason: "operation LabelParameterVersion of /golden-ami/latest does not create a new value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			ev := loadEvent(t, "parameter-update.json")
			ev.Detail = json.RawMessage(tc.detail)
			got, err := w.handler().Handle(context.Background(), ev)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
				}
			} else if err != nil || got != tc.want {
				t.Fatalf("Handle = %+v, %v\nwant %+v", got, err, tc.want)
			}
			if len(w.calls) != 0 {
				t.Errorf("calls = %v, want none", w.calls)
			}
		})
	}
}

// A deployment after a rollout moves the group sideways: CloudFormation
// re-resolves the parameter, writes a version with the AMI the instances
// already run and points the group at it. Instances on the rollout's
// version launch the same AMI with the same settings, so the next
// convergence pass must not refresh them all again onto an identical
// configuration, and it says why.
func TestDeploymentAfterARolloutMovesTheGroupSideways(t *testing.T) {
	for _, tc := range []struct {
		name string
		// deployed is the version the deployment writes (version 3).
		deployed ltVersion
		// onVersion1 are instances still on the first version (amiA);
		// the others run the rollout's version 2.
		onVersion1 []string
		want       Result
		wantStart  string
	}{
		{
			name:     "same AMI, same settings: nothing to refresh",
			deployed: ltVersion{image: amiB, description: "CloudFormation"},
			want: Result{Decision: DecisionUnchanged, AMI: amiB, LaunchTemplateVersion: "3",
				Reason: "auto scaling group web is on launch template " + ltID + " version 3, which launches " + amiB +
					"; 2 in-service instances (i-1, i-2) run another version that launches " + amiB + " with the same settings, so they are not refreshed"},
		},
		{
			name:     "same AMI, another instance type: the instances are refreshed",
			deployed: ltVersion{image: amiB, description: "CloudFormation", instanceType: "m7i.large"},
			want: Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "3", InstanceRefreshID: "r-2",
				Reason: "auto scaling group web is on launch template " + ltID + " version 3, which launches " + amiB +
					", but 2 in-service instances (i-1, i-2) run another version: something other than this function moved the group without replacing them"},
			wantStart: "3",
		},
		{
			// One instance lags on amiA: the refresh to version 3 replaces
			// it, and the sideways one too (its version number differs).
			name:       "one instance lagging, one sideways: the reason says the refresh replaces both",
			deployed:   ltVersion{image: amiB, description: "CloudFormation"},
			onVersion1: []string{"i-2"},
			want: Result{Decision: DecisionStarted, AMI: amiB, LaunchTemplateVersion: "3", InstanceRefreshID: "r-2",
				Reason: "auto scaling group web is on launch template " + ltID + " version 3, which launches " + amiB +
					", but 1 in-service instances (i-2) run another version: something other than this function moved the group without replacing them" +
					" (the refresh also replaces 1 on another version with the same AMI and settings: i-1)"},
			wantStart: "3",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := captureLogs(t)
			w := newWorld() // parameter version 2 is amiB; the group runs amiA on version 1
			h := w.handler()
			first, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
			if err != nil || first.Decision != DecisionStarted || first.LaunchTemplateVersion != "2" {
				t.Fatalf("rollout of %s = %+v, %v; want started on version 2", amiB, first, err)
			}
			w.complete(first.InstanceRefreshID, astypes.InstanceRefreshStatusSuccessful)
			w.instances = nil
			for _, id := range []string{"i-1", "i-2"} {
				version := "2"
				if slices.Contains(tc.onVersion1, id) {
					version = "1"
				}
				w.instances = append(w.instances, instance(id, version, astypes.LifecycleStateInService, false))
			}
			// A routine deployment: version 3, and the group on it.
			w.versions = append(w.versions, tc.deployed)
			w.groupVersion = "3"
			startsBefore := len(w.starts)
			logs.Reset()

			got, err := h.Handle(context.Background(), loadEvent(t, "scheduled-event.json"))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("result = %+v\nwant     %+v", got, tc.want)
			}
			starts := w.starts[startsBefore:]
			switch {
			case tc.wantStart == "" && len(starts) > 0:
				t.Errorf("StartInstanceRefresh = %s, want no call", asJSON(starts))
			case tc.wantStart != "" && (len(starts) != 1 || !reflect.DeepEqual(starts[0], wantStart(tc.wantStart))):
				t.Errorf("StartInstanceRefresh = %s, want one to version %s", asJSON(starts), tc.wantStart)
			}
			if w.count("CreateLaunchTemplateVersion") != 1 {
				t.Errorf("CreateLaunchTemplateVersion calls = %d, want the first rollout's only", w.count("CreateLaunchTemplateVersion"))
			}
			if recs := logRecords(t, logs); len(recs) != 1 || recs[0]["decision"] != tc.want.Decision || recs[0]["reason"] != tc.want.Reason {
				t.Errorf("log = %v, want one record with decision %s and the reason", recs, tc.want.Decision)
			}
		})
	}
}

// The versions an instance runs are read across every page of
// DescribeLaunchTemplateVersions: an instance on a version of the first
// page that launches the same AMI with the same settings is not lagging.
func TestSidewaysVersionOnAnEarlierPage(t *testing.T) {
	w := newWorld()
	w.param, w.paramVersion = amiB, 2
	w.versions = []ltVersion{{image: amiA}, {image: amiB, description: versionDescription(amiB, 2)}, {image: amiA}, {image: amiA}, {image: amiB, description: "CloudFormation"}}
	w.groupVersion = "5"
	w.instances = []astypes.Instance{instance("i-1", "2", astypes.LifecycleStateInService, false), instance("i-2", "5", astypes.LifecycleStateInService, false)}
	w.versionPage = 2
	got, err := w.handler().Handle(context.Background(), loadEvent(t, "scheduled-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Decision: DecisionUnchanged, AMI: amiB, LaunchTemplateVersion: "5",
		Reason: "auto scaling group web is on launch template " + ltID + " version 5, which launches " + amiB +
			"; 1 in-service instances (i-1) run another version that launches " + amiB + " with the same settings, so they are not refreshed"}
	if got != want {
		t.Errorf("result = %+v\nwant     %+v", got, want)
	}
	if n := w.count("DescribeLaunchTemplateVersions"); n != 2 || !slices.Equal(w.describedAfter, []string{"1", "1"}) {
		t.Errorf("DescribeLaunchTemplateVersions: %d calls after %q; want 2 pages after version 1", n, w.describedAfter)
	}
	if w.writes() != 0 {
		t.Errorf("writes = %d, want none", w.writes())
	}
}

// A service that repeats a NextToken would have the refreshes or versions
// read again and again until the function times out; each listing stops
// with an error naming the token, and no refresh starts.
func TestRepeatedPageTokenStopsTheListing(t *testing.T) {
	const tail = `the service returned NextToken "same" a second time (after 2 pages); stopping rather than reading the same pages again`
	for _, tc := range []struct {
		name, want string
		set        func(*Handler, *int)
	}{
		{"refreshes", "describe instance refreshes of auto scaling group " + groupName + ": " + tail, func(h *Handler, calls *int) {
			h.Refreshes = describeRefreshesFunc(func(context.Context, *autoscaling.DescribeInstanceRefreshesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
				if *calls++; *calls > 10 {
					return nil, errors.New("listed 10 times")
				}
				return &autoscaling.DescribeInstanceRefreshesOutput{NextToken: aws.String("same")}, nil
			})
		}},
		{"versions", "describe versions of launch template " + ltID + ": " + tail, func(h *Handler, calls *int) {
			h.Versions = describeVersionsFunc(func(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
				if *calls++; *calls > 10 {
					return nil, errors.New("listed 10 times")
				}
				return &ec2.DescribeLaunchTemplateVersionsOutput{NextToken: aws.String("same")}, nil
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			h := w.handler()
			calls := 0
			tc.set(h, &calls)
			_, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
			if err == nil || !strings.Contains(err.Error(), tc.want) || calls != 2 || w.count("StartInstanceRefresh")+w.count("CreateLaunchTemplateVersion") != 0 {
				t.Errorf("err = %v after %d calls, calls %v; want an error containing %q after 2 calls and no write", err, calls, w.calls, tc.want)
			}
		})
	}
}
