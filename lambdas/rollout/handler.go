package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/contract"
)

// Decisions reported in Result.Decision.
const (
	// DecisionStarted: a launch template version with the AMI exists (created
	// now, or by an earlier attempt) and an instance refresh to it started.
	DecisionStarted = "started"
	// DecisionInProgress: a refresh to this AMI is already running.
	DecisionInProgress = "in-progress"
	// DecisionDeferred: a refresh to another AMI (or without a desired
	// configuration) is running. Nothing started; the next convergence pass
	// after it ends rolls this AMI out.
	DecisionDeferred = "deferred"
	// DecisionUnchanged: the group's launch template version already
	// launches this AMI.
	DecisionUnchanged = "unchanged"
	// DecisionBlocked: this exact rollout (AMI and parameter version) was
	// tried and its refresh failed, was rolled back or was cancelled. It is
	// not retried automatically.
	DecisionBlocked = "blocked"
	// DecisionIgnored: the event is not one the function acts on.
	DecisionIgnored = "ignored"
)

// Result is what one invocation returns.
type Result struct {
	Decision              string `json:"decision"`
	Reason                string `json:"reason,omitempty"`
	AMI                   string `json:"ami,omitempty"`
	LaunchTemplateVersion string `json:"launchTemplateVersion,omitempty"`
	InstanceRefreshID     string `json:"instanceRefreshId,omitempty"`
}

// Preferences are the instance refresh preferences every refresh starts
// with. AutoRollback is always on and not configurable.
type Preferences struct {
	MinHealthyPercentage int32
	// MaxHealthyPercentage nil leaves MaxHealthyPercentage unset: Auto
	// Scaling then uses 100 (or the group's instance maintenance policy)
	// and terminates each instance as it launches its replacement. Set,
	// Auto Scaling launches a replacement before terminating whenever the
	// two bounds leave no room to terminate first, as in a one-instance
	// group.
	MaxHealthyPercentage   *int32
	CheckpointPercentages  []int32
	CheckpointDelaySeconds int32
	// InstanceWarmupSeconds nil leaves InstanceWarmup unset, so the group's
	// DefaultInstanceWarmup (or health check grace period) applies.
	InstanceWarmupSeconds *int32
	AlarmNames            []string
	SkipMatching          bool
}

// parameterReader reads the latest-AMI parameter.
type parameterReader interface {
	GetParameter(ctx context.Context, params *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// groupDescriber reads the group's launch template and version.
type groupDescriber interface {
	DescribeAutoScalingGroups(ctx context.Context, params *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// refreshDescriber reads the group's instance refreshes (six weeks of them).
type refreshDescriber interface {
	DescribeInstanceRefreshes(ctx context.Context, params *autoscaling.DescribeInstanceRefreshesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
}

// refreshStarter is the only Auto Scaling write. The function never calls
// UpdateAutoScalingGroup: the group's own configuration changes only when a
// refresh succeeds, which is what makes auto rollback restore it.
type refreshStarter interface {
	StartInstanceRefresh(ctx context.Context, params *autoscaling.StartInstanceRefreshInput, optFns ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
}

// versionDescriber reads launch template versions.
type versionDescriber interface {
	DescribeLaunchTemplateVersions(ctx context.Context, params *ec2.DescribeLaunchTemplateVersionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
}

// versionCreator is the only EC2 write. The function never changes the
// template's default version, which stays CloudFormation's.
type versionCreator interface {
	CreateLaunchTemplateVersion(ctx context.Context, params *ec2.CreateLaunchTemplateVersionInput, optFns ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)
}

// Handler rolls one Auto Scaling group onto the AMI in the latest-AMI
// parameter. See the package documentation for the design.
type Handler struct {
	GroupName        string
	LaunchTemplateID string
	// ParameterName is the latest-AMI parameter as GetParameter is called
	// with it: its name or, for a parameter shared from another account,
	// its ARN. Parameter Store Change events are matched against the name
	// (derived from the ARN) and, for an ARN, its account and region.
	ParameterName string
	Preferences   Preferences

	Params         parameterReader
	Groups         groupDescriber
	Refreshes      refreshDescriber
	Starter        refreshStarter
	Versions       versionDescriber
	VersionCreator versionCreator
}

// Handle converges the group on a change of the latest-AMI parameter or on
// the convergence schedule. Both run the same comparison of the parameter
// with the group, so a redelivered or late event, or a change that arrived
// while another refresh ran, ends in the same state.
//
// A malformed event (no source or detail-type; a Parameter Store Change
// without detail, detail.name or detail.operation, with an operation other
// than Create, Update, Delete and LabelParameterVersion, or whose detail is
// not a JSON object) is an error naming the field. A well-formed event the
// function does not act on (another source or parameter, Delete or
// LabelParameterVersion, a write that failed validation) is logged at info
// and returns nil.
func (h *Handler) Handle(ctx context.Context, ev events.CloudWatchEvent) (Result, error) {
	trigger, reason, err := h.decide(ev)
	if err != nil {
		return Result{}, fmt.Errorf("malformed event %q: %w", ev.ID, err)
	}
	if reason != "" {
		slog.InfoContext(ctx, "event ignored; nothing rolled out", "decision", DecisionIgnored, "reason", reason,
			"eventId", ev.ID, "source", ev.Source, "detailType", ev.DetailType)
		return Result{Decision: DecisionIgnored, Reason: reason}, nil
	}
	res, warn, err := h.converge(ctx)
	if err != nil {
		return Result{}, err
	}
	attrs := []any{"decision", res.Decision, "reason", res.Reason, "trigger", trigger, "eventId", ev.ID,
		"group", h.GroupName, "launchTemplate", h.LaunchTemplateID, "ami", res.AMI,
		"launchTemplateVersion", res.LaunchTemplateVersion, "instanceRefreshId", res.InstanceRefreshID}
	switch {
	case res.Decision == DecisionStarted:
		slog.InfoContext(ctx, "instance refresh started", attrs...)
	case res.Decision == DecisionBlocked:
		slog.WarnContext(ctx, "rollout not retried: this exact rollout already failed", attrs...)
	case warn:
		slog.WarnContext(ctx, "nothing to roll out, but the group runs an AMI whose rollout failed", attrs...)
	case res.Decision == DecisionDeferred:
		slog.InfoContext(ctx, "rollout deferred until the running refresh ends; the convergence schedule will start it", attrs...)
	default:
		slog.InfoContext(ctx, "nothing to roll out", attrs...)
	}
	return res, nil
}

// target is what one launch template version launches.
type target struct {
	version     string // number
	image       string
	description string
	// rest is the version's launch template data without its AMI, to tell
	// whether two versions differ in more than the AMI.
	rest string
}

// refreshView is one instance refresh with what it rolls out, when that is
// one of our template's versions.
type refreshView struct {
	id     string
	status astypes.InstanceRefreshStatus
	start  time.Time
	target *target // nil: no desired configuration, or another template
}

func (r refreshView) describe() string {
	if r.target == nil {
		return fmt.Sprintf("instance refresh %s (%s, not to a version of the launch template)", r.id, r.status)
	}
	return fmt.Sprintf("instance refresh %s (%s, to version %s with %s)", r.id, r.status, r.target.version, r.target.image)
}

// converge compares the parameter with the group and starts at most one
// refresh. warn reports a result someone should look at.
func (h *Handler) converge(ctx context.Context) (res Result, warn bool, err error) {
	ami, paramVersion, err := h.latestAMI(ctx)
	if err != nil {
		return Result{}, false, err
	}
	res.AMI = ami

	current, others, err := h.groupVersion(ctx)
	if err != nil {
		return Result{}, false, err
	}
	rawRefreshes, err := h.describeRefreshes(ctx)
	if err != nil {
		return Result{}, false, err
	}
	versions, latest, err := h.describeVersions(ctx, current, rawRefreshes, others)
	if err != nil {
		return Result{}, false, err
	}
	cur, ok := versions[current]
	if !ok {
		return Result{}, false, fmt.Errorf("launch template %s has no version %s, the version auto scaling group %s uses", h.LaunchTemplateID, current, h.GroupName)
	}
	lagging, sideways := splitLagging(others, versions, cur)
	if strings.HasPrefix(cur.image, "resolve:") {
		return Result{}, false, fmt.Errorf("launch template %s version %s, which auto scaling group %s uses, takes its AMI from %q: "+
			"an instance refresh cannot roll back to a version whose AMI is a Systems Manager parameter; give the template a concrete AMI id", h.LaunchTemplateID, current, h.GroupName, cur.image)
	}
	refreshes := h.viewRefreshes(rawRefreshes, versions)

	// 1. A running refresh blocks any other.
	if i := slices.IndexFunc(refreshes, func(r refreshView) bool { return active(r.status) }); i >= 0 {
		r := refreshes[i]
		res.InstanceRefreshID = r.id
		if r.target != nil && r.target.image == ami {
			res.Decision, res.LaunchTemplateVersion = DecisionInProgress, r.target.version
			res.Reason = fmt.Sprintf("%s already rolls out %s", r.describe(), ami)
			return res, false, nil
		}
		res.Decision = DecisionDeferred
		res.Reason = fmt.Sprintf("%s is running; %s (parameter %s version %d) rolls out on the first convergence pass after it ends",
			r.describe(), ami, h.ParameterName, paramVersion)
		return res, false, nil
	}

	// 2. Nothing to do when the group already launches the AMI, unless
	// some of its instances do not: something other than this function (a
	// CloudFormation deployment, say) moved the group's version without
	// replacing them. Then refresh them onto the group's version, once.
	if cur.image == ami {
		res.Decision, res.LaunchTemplateVersion = DecisionUnchanged, current
		res.Reason = fmt.Sprintf("auto scaling group %s is on launch template %s version %s, which launches %s", h.GroupName, h.LaunchTemplateID, current, ami)
		if last, ok := lastFinished(refreshes, func(t *target) bool { return t.image == ami }); ok && failed(last.status) {
			res.Reason += fmt.Sprintf("; but the last refresh to %s, %s, did not succeed, so something other than this function (e.g. a CloudFormation deployment) configured the group with it", ami, last.describe())
			if len(lagging) > 0 {
				res.Reason += fmt.Sprintf(", and %d in-service instances (%s) still run another version; they are not refreshed again by this function", len(lagging), strings.Join(lagging, ", "))
			}
			return res, true, nil
		}
		if len(lagging) == 0 {
			if len(sideways) > 0 {
				res.Reason += fmt.Sprintf("; %d in-service instances (%s) run another version that launches %s with the same settings, so they are not refreshed",
					len(sideways), strings.Join(sideways, ", "), ami)
			}
			return res, false, nil
		}
		res.Reason += fmt.Sprintf(", but %d in-service instances (%s) run another version: something other than this function moved the group without replacing them",
			len(lagging), strings.Join(lagging, ", "))
		if len(sideways) > 0 {
			// SkipMatching compares version numbers, so the refresh
			// replaces these too.
			res.Reason += fmt.Sprintf(" (the refresh also replaces %d on another version with the same AMI and settings: %s)",
				len(sideways), strings.Join(sideways, ", "))
		}
		res, err := h.startRefresh(ctx, res, current, ami)
		return res, false, err
	}

	// 3. Never retry, by itself, a rollout that already failed.
	want := versionDescription(ami, paramVersion)
	if last, ok := lastFinished(refreshes, func(t *target) bool { return t.image == ami && t.description == want }); ok && failed(last.status) {
		res.Decision, res.LaunchTemplateVersion, res.InstanceRefreshID = DecisionBlocked, last.target.version, last.id
		res.Reason = fmt.Sprintf("%s for parameter %s version %d ended %s; to retry the same AMI write it to the parameter again (a new parameter version)",
			last.describe(), h.ParameterName, paramVersion, last.status)
		return res, true, nil
	}

	// 4. Roll out: one launch template version, one refresh.
	version, err := h.ensureVersion(ctx, cur, latest, ami, paramVersion)
	if err != nil {
		return Result{}, false, err
	}
	res.LaunchTemplateVersion = version
	res.Reason = fmt.Sprintf("parameter %s version %d is %s; auto scaling group %s was on launch template %s version %s with %s",
		h.ParameterName, paramVersion, ami, h.GroupName, h.LaunchTemplateID, current, cur.image)
	res, err = h.startRefresh(ctx, res, version, ami)
	return res, false, err
}

// startRefresh starts one refresh to version, which launches ami, and
// returns res as started (its Reason already set by the caller), or as
// afterConflict finds things when another refresh got there first.
func (h *Handler) startRefresh(ctx context.Context, res Result, version, ami string) (Result, error) {
	id, err := h.start(ctx, version)
	var inProgress *astypes.InstanceRefreshInProgressFault
	switch {
	case errors.As(err, &inProgress):
		// Someone started a refresh since we looked, or our own start
		// succeeded and its response was lost and retried. Look again.
		return h.afterConflict(ctx, res, version, err)
	case err != nil:
		return Result{}, fmt.Errorf("start instance refresh of auto scaling group %s to launch template %s version %s (%s): %w",
			h.GroupName, h.LaunchTemplateID, version, ami, err)
	}
	res.Decision, res.InstanceRefreshID = DecisionStarted, id
	return res, nil
}

func (h *Handler) latestAMI(ctx context.Context) (string, int64, error) {
	out, err := h.Params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(h.ParameterName)})
	if err != nil {
		return "", 0, fmt.Errorf("get parameter %s: %w", h.ParameterName, err)
	}
	if out.Parameter == nil {
		return "", 0, fmt.Errorf("get parameter %s: response has no Parameter", h.ParameterName)
	}
	ami, version := aws.ToString(out.Parameter.Value), out.Parameter.Version
	if err := contract.ValidateAMIID(ami); err != nil {
		return "", 0, fmt.Errorf("parameter %s version %d: %w; nothing rolled out", h.ParameterName, version, err)
	}
	return ami, version, nil
}

// member is an in-service instance of the group that runs another launch
// template version than the group's.
type member struct {
	id string
	// version is the number of the version of our template it runs; empty
	// for another template, no template, or $Latest or $Default.
	version string
}

// groupVersion returns the numbered launch template version the group uses,
// after checking the group is one this function can roll back, and its
// in-service instances that run another version (or another template).
// Instances protected from scale-in, in standby or not yet in service are
// left out: a refresh with the default preferences does not replace them,
// so counting them would start refreshes that never end the difference.
func (h *Handler) groupVersion(ctx context.Context) (string, []member, error) {
	out, err := h.Groups.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{h.GroupName}})
	if err != nil {
		return "", nil, fmt.Errorf("describe auto scaling group %s: %w", h.GroupName, err)
	}
	i := slices.IndexFunc(out.AutoScalingGroups, func(g astypes.AutoScalingGroup) bool { return aws.ToString(g.AutoScalingGroupName) == h.GroupName })
	if i < 0 {
		return "", nil, fmt.Errorf("auto scaling group %s not found", h.GroupName)
	}
	g := out.AutoScalingGroups[i]
	switch {
	case g.MixedInstancesPolicy != nil:
		return "", nil, fmt.Errorf("auto scaling group %s uses a mixed instances policy; this function rolls out only groups with a LaunchTemplate", h.GroupName)
	case g.LaunchTemplate == nil:
		return "", nil, fmt.Errorf("auto scaling group %s does not use a launch template", h.GroupName)
	case aws.ToString(g.LaunchTemplate.LaunchTemplateId) != h.LaunchTemplateID:
		return "", nil, fmt.Errorf("auto scaling group %s uses launch template %s, not %s; nothing rolled out",
			h.GroupName, aws.ToString(g.LaunchTemplate.LaunchTemplateId), h.LaunchTemplateID)
	}
	version := aws.ToString(g.LaunchTemplate.Version)
	if n, err := strconv.ParseInt(version, 10, 64); err != nil || n < 1 {
		return "", nil, fmt.Errorf("auto scaling group %s uses launch template %s version %q; auto rollback needs a numbered version "+
			"(it is not supported with $Latest or $Default), so nothing rolled out", h.GroupName, h.LaunchTemplateID, version)
	}
	var others []member
	for _, in := range g.Instances {
		if in.LifecycleState != astypes.LifecycleStateInService || aws.ToBool(in.ProtectedFromScaleIn) {
			continue
		}
		lt := in.LaunchTemplate
		if lt == nil || aws.ToString(lt.LaunchTemplateId) != h.LaunchTemplateID {
			others = append(others, member{id: aws.ToString(in.InstanceId)})
			continue
		}
		if v := aws.ToString(lt.Version); v != version {
			m := member{id: aws.ToString(in.InstanceId)}
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				m.version = strconv.FormatInt(n, 10)
			}
			others = append(others, m)
		}
	}
	return version, others, nil
}

// splitLagging sorts the instances on other versions than the group's
// (cur) into those a refresh would change (lagging) and those whose version
// launches the same AMI with the same launch template data (sideways). A
// deployment that re-resolves the latest-AMI parameter after a rollout
// writes such a version and moves the group to it: refreshing the
// instances onto it would replace every instance with an identical one.
// An instance whose version is unknown (another template, an alias, a
// deleted version) counts as lagging.
func splitLagging(others []member, versions map[string]target, cur target) (lagging, sideways []string) {
	for _, m := range others {
		if t, ok := versions[m.version]; ok && m.version != "" && t.image == cur.image && t.rest == cur.rest {
			sideways = append(sideways, m.id)
		} else {
			lagging = append(lagging, m.id)
		}
	}
	return lagging, sideways
}

func (h *Handler) describeRefreshes(ctx context.Context) ([]astypes.InstanceRefresh, error) {
	var all []astypes.InstanceRefresh
	in := &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(h.GroupName), MaxRecords: aws.Int32(100)}
	var tokens awsconfig.PageTokens
	for {
		out, err := h.Refreshes.DescribeInstanceRefreshes(ctx, in)
		if err == nil {
			err = tokens.Check(out.NextToken)
		}
		if err != nil {
			return nil, fmt.Errorf("describe instance refreshes of auto scaling group %s: %w", h.GroupName, err)
		}
		all = append(all, out.InstanceRefreshes...)
		if aws.ToString(out.NextToken) == "" {
			return all, nil
		}
		next := *in
		next.NextToken = out.NextToken
		in = &next
	}
}

// describeVersions reads, in one paged range query, every version of the
// template from the lowest one of interest (the group's, those the
// refreshes target and those the group's instances run) to the latest. A
// range, unlike a list of versions, does not fail when someone deleted an
// old version. It returns the versions by number and the latest one.
func (h *Handler) describeVersions(ctx context.Context, current string, refreshes []astypes.InstanceRefresh, others []member) (map[string]target, target, error) {
	lowest, _ := strconv.ParseInt(current, 10, 64)
	lower := func(v string) {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < lowest {
			lowest = n
		}
	}
	for _, r := range refreshes {
		if lt := desiredTemplate(r); lt != nil && aws.ToString(lt.LaunchTemplateId) == h.LaunchTemplateID {
			lower(aws.ToString(lt.Version))
		}
	}
	for _, m := range others {
		lower(m.version)
	}
	in := &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(h.LaunchTemplateID), MaxResults: aws.Int32(200)}
	if lowest > 1 {
		in.MinVersion = aws.String(strconv.FormatInt(lowest-1, 10)) // exclusive
	}
	versions := map[string]target{}
	var latest target
	var latestN int64
	var tokens awsconfig.PageTokens
	for {
		out, err := h.Versions.DescribeLaunchTemplateVersions(ctx, in)
		if err == nil {
			err = tokens.Check(out.NextToken)
		}
		if err != nil {
			return nil, target{}, fmt.Errorf("describe versions of launch template %s: %w", h.LaunchTemplateID, err)
		}
		for _, v := range out.LaunchTemplateVersions {
			n := aws.ToInt64(v.VersionNumber)
			t := target{version: strconv.FormatInt(n, 10), description: aws.ToString(v.VersionDescription)}
			if v.LaunchTemplateData != nil {
				t.image = aws.ToString(v.LaunchTemplateData.ImageId)
				data := *v.LaunchTemplateData
				data.ImageId = nil
				if b, err := json.Marshal(data); err == nil {
					t.rest = string(b)
				}
			}
			versions[t.version] = t
			if n > latestN {
				latest, latestN = t, n
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		next := *in
		next.NextToken = out.NextToken
		in = &next
	}
	return versions, latest, nil
}

func desiredTemplate(r astypes.InstanceRefresh) *astypes.LaunchTemplateSpecification {
	if r.DesiredConfiguration == nil {
		return nil
	}
	return r.DesiredConfiguration.LaunchTemplate
}

// viewRefreshes pairs each refresh with the version it rolls out, newest
// first.
func (h *Handler) viewRefreshes(raw []astypes.InstanceRefresh, versions map[string]target) []refreshView {
	out := make([]refreshView, 0, len(raw))
	for _, r := range raw {
		v := refreshView{id: aws.ToString(r.InstanceRefreshId), status: r.Status, start: aws.ToTime(r.StartTime)}
		// Only a numbered version says what the refresh rolled out: a
		// version is immutable, while $Latest and $Default (or no version)
		// name whatever the template holds today, not what it held when the
		// refresh ran. This function starts refreshes to numbered versions
		// only, so an alias is someone else's refresh: it still blocks while
		// it runs, but it is attributed to no AMI.
		if lt := desiredTemplate(r); lt != nil && aws.ToString(lt.LaunchTemplateId) == h.LaunchTemplateID {
			if t, ok := versions[aws.ToString(lt.Version)]; ok {
				v.target = &t
			}
		}
		out = append(out, v)
	}
	// Newest first. A refresh without a start time (one cancelled while
	// pending, say) counts as the newest, so an older finished refresh is
	// never taken for the latest outcome in its place.
	slices.SortStableFunc(out, func(a, b refreshView) int {
		switch {
		case a.start.IsZero() && b.start.IsZero():
			return 0
		case a.start.IsZero():
			return -1
		case b.start.IsZero():
			return 1
		}
		return b.start.Compare(a.start)
	})
	return out
}

// active reports whether a refresh in status blocks starting another one.
func active(s astypes.InstanceRefreshStatus) bool {
	switch s {
	case astypes.InstanceRefreshStatusSuccessful, astypes.InstanceRefreshStatusFailed, astypes.InstanceRefreshStatusCancelled,
		astypes.InstanceRefreshStatusRollbackSuccessful, astypes.InstanceRefreshStatusRollbackFailed:
		return false
	}
	// Pending, InProgress, Cancelling, RollbackInProgress, Baking, and any
	// status added later: assume it blocks, so nothing is started over it.
	return true
}

// failed reports whether a finished refresh did not leave its desired
// configuration on the group.
func failed(s astypes.InstanceRefreshStatus) bool {
	return !active(s) && s != astypes.InstanceRefreshStatusSuccessful
}

// lastFinished returns the newest finished refresh whose target matches.
func lastFinished(refreshes []refreshView, match func(*target) bool) (refreshView, bool) {
	for _, r := range refreshes {
		if !active(r.status) && r.target != nil && match(r.target) {
			return r, true
		}
	}
	return refreshView{}, false
}

// versionDescription is the description of the launch template version
// that rolls out ami for one version of the parameter. It is how a refresh
// is labelled with its AMI: StartInstanceRefresh takes no tags, but a
// refresh records its desired launch template version, and a version is
// immutable. Comparing it also tells this function which versions and
// refreshes it made for which parameter version.
func versionDescription(ami string, paramVersion int64) string {
	return fmt.Sprintf("golden-ami rollout of %s (latest-AMI parameter version %d)", ami, paramVersion)
}

// ensureVersion returns the version that launches ami for paramVersion:
// the latest version when an earlier attempt already created it from a
// version like the group's current one (the same data but the AMI), else a
// new version copied from the group's current one with only the AMI
// replaced. (If someone moved the group to another version since, with a
// new instance type say, reusing the earlier version would undo that.)
// The client token makes the SDK's retries of a lost response return the
// same version.
func (h *Handler) ensureVersion(ctx context.Context, current target, latest target, ami string, paramVersion int64) (string, error) {
	desc := versionDescription(ami, paramVersion)
	if latest.image == ami && latest.description == desc && latest.version != current.version && latest.rest == current.rest {
		return latest.version, nil
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{h.GroupName, h.LaunchTemplateID, current.version, ami, strconv.FormatInt(paramVersion, 10)}, "\n")))
	out, err := h.VersionCreator.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   aws.String(h.LaunchTemplateID),
		SourceVersion:      aws.String(current.version),
		VersionDescription: aws.String(desc),
		ClientToken:        aws.String("golden-ami-" + hex.EncodeToString(sum[:24])),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(ami)},
	})
	if err != nil {
		return "", fmt.Errorf("create version of launch template %s from version %s with %s: %w", h.LaunchTemplateID, current.version, ami, err)
	}
	if out.LaunchTemplateVersion == nil || aws.ToInt64(out.LaunchTemplateVersion.VersionNumber) < 1 {
		return "", fmt.Errorf("create version of launch template %s from version %s with %s: response has no version number", h.LaunchTemplateID, current.version, ami)
	}
	return strconv.FormatInt(aws.ToInt64(out.LaunchTemplateVersion.VersionNumber), 10), nil
}

func (h *Handler) start(ctx context.Context, version string) (string, error) {
	p := h.Preferences
	out, err := h.Starter.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String(h.GroupName),
		Strategy:             astypes.RefreshStrategyRolling,
		DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{
			LaunchTemplateId: aws.String(h.LaunchTemplateID),
			Version:          aws.String(version),
		}},
		Preferences: &astypes.RefreshPreferences{
			AutoRollback:          aws.Bool(true),
			AlarmSpecification:    &astypes.AlarmSpecification{Alarms: slices.Clone(p.AlarmNames)},
			MinHealthyPercentage:  aws.Int32(p.MinHealthyPercentage),
			MaxHealthyPercentage:  p.MaxHealthyPercentage,
			CheckpointPercentages: slices.Clone(p.CheckpointPercentages),
			CheckpointDelay:       aws.Int32(p.CheckpointDelaySeconds),
			InstanceWarmup:        p.InstanceWarmupSeconds,
			SkipMatching:          aws.Bool(p.SkipMatching),
		},
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.InstanceRefreshId), nil
}

// afterConflict handles InstanceRefreshInProgress from StartInstanceRefresh.
func (h *Handler) afterConflict(ctx context.Context, res Result, version string, conflict error) (Result, error) {
	raw, err := h.describeRefreshes(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("after %w: %w", conflict, err)
	}
	for _, r := range raw {
		if !active(r.Status) {
			continue
		}
		res.InstanceRefreshID = aws.ToString(r.InstanceRefreshId)
		if lt := desiredTemplate(r); lt != nil && aws.ToString(lt.LaunchTemplateId) == h.LaunchTemplateID && aws.ToString(lt.Version) == version {
			res.Decision = DecisionStarted
			res.Reason = fmt.Sprintf("instance refresh %s to launch template %s version %s with %s is running (its start was answered by InstanceRefreshInProgress, so an earlier attempt of this start succeeded)",
				res.InstanceRefreshID, h.LaunchTemplateID, version, res.AMI)
			return res, nil
		}
		res.Decision = DecisionDeferred
		res.Reason = fmt.Sprintf("instance refresh %s (%s) started before ours; launch template %s version %s with %s rolls out on the first convergence pass after it ends",
			res.InstanceRefreshID, r.Status, h.LaunchTemplateID, version, res.AMI)
		return res, nil
	}
	return Result{}, fmt.Errorf("start instance refresh of auto scaling group %s to launch template %s version %s (%s): %w, but no refresh is active now",
		h.GroupName, h.LaunchTemplateID, version, res.AMI, conflict)
}
