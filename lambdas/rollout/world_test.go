package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// The unit tests run the handler against an in-memory world behind
// function-type fakes with the SDK's exact signatures.

const (
	groupName = "web"
	ltID      = "lt-0123456789abcdef0"
	paramName = "/golden-ami/latest"
	amiA      = "ami-0aaaaaaaaaaaaaaa0" // what CloudFormation deployed (version 1)
	amiB      = "ami-0bbbbbbbbbbbbbbb0"
	amiC      = "ami-0ccccccccccccccc0"
)

func testPreferences() Preferences {
	return Preferences{
		MinHealthyPercentage:   90,
		CheckpointPercentages:  []int32{20, 50, 100},
		CheckpointDelaySeconds: 600,
		InstanceWarmupSeconds:  aws.Int32(300),
		AlarmNames:             []string{"web-5xx", "web-latency"},
		SkipMatching:           true,
	}
}

type getParameterFunc func(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)

func (f getParameterFunc) GetParameter(ctx context.Context, in *ssm.GetParameterInput, o ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return f(ctx, in, o...)
}

type describeGroupsFunc func(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)

func (f describeGroupsFunc) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, o ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return f(ctx, in, o...)
}

type describeRefreshesFunc func(context.Context, *autoscaling.DescribeInstanceRefreshesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)

func (f describeRefreshesFunc) DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, o ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	return f(ctx, in, o...)
}

type startRefreshFunc func(context.Context, *autoscaling.StartInstanceRefreshInput, ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)

func (f startRefreshFunc) StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, o ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error) {
	return f(ctx, in, o...)
}

type describeVersionsFunc func(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)

func (f describeVersionsFunc) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, o ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	return f(ctx, in, o...)
}

type createVersionFunc func(context.Context, *ec2.CreateLaunchTemplateVersionInput, ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)

func (f createVersionFunc) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, o ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	return f(ctx, in, o...)
}

func apiErr(service, op, code, msg string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &smithy.GenericAPIError{Code: code, Message: msg}}
}

// ltVersion is one launch template version of the world.
type ltVersion struct{ image, description, instanceType string }

// world is one group, its template and its refreshes, behaving like the
// services as far as the handler can tell.
type world struct {
	// parameter is what the handler is configured with and GetParameter
	// answers for: the name, or the ARN of a parameter shared from
	// another account.
	parameter    string
	param        string
	paramVersion int64

	groupTemplate string // the template the group uses
	groupVersion  string
	mixed         bool
	noGroup       bool

	versions  []ltVersion // versions[i] is version i+1; 1 is the default
	refreshes []astypes.InstanceRefresh
	tokens    map[string]int64

	calls          []string
	describedAfter []string // MinVersion of each DescribeLaunchTemplateVersions
	creates        []*ec2.CreateLaunchTemplateVersionInput
	starts         []*autoscaling.StartInstanceRefreshInput
	// fail answers an operation with an error instead (the call is still
	// recorded).
	fail map[string]error
	// beforeStart runs inside StartInstanceRefresh before it looks for an
	// active refresh: a race with someone else.
	beforeStart func(*world)
	// loseStartResponse starts the refresh but answers
	// InstanceRefreshInProgress, as the SDK's retry of a lost response does.
	loseStartResponse bool
	// refreshPage, when set, answers DescribeInstanceRefreshes in pages of
	// that many; oldestFirst reverses the service's newest-first order, which
	// the handler must not rely on.
	refreshPage int
	oldestFirst bool
	// instances are the group's instances, as DescribeAutoScalingGroups
	// lists them.
	instances []astypes.Instance
	// versionPage, when set, answers DescribeLaunchTemplateVersions in
	// pages of that many.
	versionPage int
}

func newWorld() *world {
	return &world{
		parameter: paramName, param: amiB, paramVersion: 2,
		groupTemplate: ltID, groupVersion: "1",
		versions: []ltVersion{{image: amiA}},
		tokens:   map[string]int64{},
		fail:     map[string]error{},
	}
}

func (w *world) handler() *Handler {
	return &Handler{
		GroupName: groupName, LaunchTemplateID: ltID, ParameterName: w.parameter, Preferences: testPreferences(),
		Params:         getParameterFunc(w.getParameter),
		Groups:         describeGroupsFunc(w.describeGroups),
		Refreshes:      describeRefreshesFunc(w.describeRefreshes),
		Starter:        startRefreshFunc(w.startRefresh),
		Versions:       describeVersionsFunc(w.describeVersions),
		VersionCreator: createVersionFunc(w.createVersion),
	}
}

func (w *world) record(op string) error {
	w.calls = append(w.calls, op)
	return w.fail[op]
}

func (w *world) count(op string) int {
	n := 0
	for _, c := range w.calls {
		if c == op {
			n++
		}
	}
	return n
}

// writes are the calls that change something.
func (w *world) writes() int {
	return w.count("CreateLaunchTemplateVersion") + w.count("StartInstanceRefresh")
}

func (w *world) getParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if err := w.record("GetParameter"); err != nil {
		return nil, err
	}
	if aws.ToString(in.Name) != w.parameter {
		return nil, &ssmtypes.ParameterNotFound{Message: in.Name}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(w.param), Version: w.paramVersion}}, nil
}

func (w *world) describeGroups(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	if err := w.record("DescribeAutoScalingGroups"); err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeAutoScalingGroupsOutput{}
	if w.noGroup || !slices.Equal(in.AutoScalingGroupNames, []string{groupName}) {
		return out, nil
	}
	g := astypes.AutoScalingGroup{AutoScalingGroupName: aws.String(groupName), Instances: w.instances}
	spec := &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(w.groupTemplate), LaunchTemplateName: aws.String("web"), Version: aws.String(w.groupVersion)}
	if w.mixed {
		g.MixedInstancesPolicy = &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{LaunchTemplateSpecification: spec}}
	} else {
		g.LaunchTemplate = spec
	}
	out.AutoScalingGroups = []astypes.AutoScalingGroup{g}
	return out, nil
}

func (w *world) describeRefreshes(_ context.Context, in *autoscaling.DescribeInstanceRefreshesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	if err := w.record("DescribeInstanceRefreshes"); err != nil {
		return nil, err
	}
	if aws.ToString(in.AutoScalingGroupName) != groupName {
		return &autoscaling.DescribeInstanceRefreshesOutput{}, nil
	}
	var all []astypes.InstanceRefresh
	for i := len(w.refreshes) - 1; i >= 0; i-- { // newest first
		all = append(all, w.refreshes[i])
	}
	if w.oldestFirst {
		slices.Reverse(all)
	}
	out := &autoscaling.DescribeInstanceRefreshesOutput{InstanceRefreshes: all}
	if w.refreshPage > 0 {
		start := 0
		if in.NextToken != nil {
			start, _ = strconv.Atoi(*in.NextToken)
		}
		end := min(start+w.refreshPage, len(all))
		out.InstanceRefreshes = all[start:end]
		if end < len(all) {
			out.NextToken = aws.String(strconv.Itoa(end))
		}
	}
	return out, nil
}

func (w *world) describeVersions(_ context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	if err := w.record("DescribeLaunchTemplateVersions"); err != nil {
		return nil, err
	}
	if aws.ToString(in.LaunchTemplateId) != ltID || len(in.Versions) > 0 {
		return nil, apiErr("EC2", "DescribeLaunchTemplateVersions", "InvalidRequest", "the world serves only version ranges of "+ltID)
	}
	w.describedAfter = append(w.describedAfter, aws.ToString(in.MinVersion))
	after, _ := strconv.Atoi(aws.ToString(in.MinVersion))
	out := &ec2.DescribeLaunchTemplateVersionsOutput{}
	for i, v := range w.versions {
		if i+1 <= after {
			continue
		}
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, ec2types.LaunchTemplateVersion{
			LaunchTemplateId: aws.String(ltID), VersionNumber: aws.Int64(int64(i + 1)), DefaultVersion: aws.Bool(i == 0),
			VersionDescription: aws.String(v.description),
			LaunchTemplateData: &ec2types.ResponseLaunchTemplateData{ImageId: aws.String(v.image), InstanceType: ec2types.InstanceType(v.instanceType)},
		})
	}
	if w.versionPage > 0 {
		start := 0
		if in.NextToken != nil {
			start, _ = strconv.Atoi(*in.NextToken)
		}
		end := min(start+w.versionPage, len(out.LaunchTemplateVersions))
		if end < len(out.LaunchTemplateVersions) {
			out.NextToken = aws.String(strconv.Itoa(end))
		}
		out.LaunchTemplateVersions = out.LaunchTemplateVersions[start:end]
	}
	return out, nil
}

func (w *world) createVersion(_ context.Context, in *ec2.CreateLaunchTemplateVersionInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	w.creates = append(w.creates, in)
	if err := w.record("CreateLaunchTemplateVersion"); err != nil {
		return nil, err
	}
	n, ok := w.tokens[aws.ToString(in.ClientToken)]
	if !ok {
		src, err := strconv.Atoi(aws.ToString(in.SourceVersion))
		if err != nil || src < 1 || src > len(w.versions) {
			return nil, apiErr("EC2", "CreateLaunchTemplateVersion", "InvalidLaunchTemplateId.VersionNotFound", "no version "+aws.ToString(in.SourceVersion))
		}
		w.versions = append(w.versions, ltVersion{image: aws.ToString(in.LaunchTemplateData.ImageId), description: aws.ToString(in.VersionDescription),
			instanceType: w.versions[src-1].instanceType})
		n = int64(len(w.versions))
		w.tokens[aws.ToString(in.ClientToken)] = n
	}
	return &ec2.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: &ec2types.LaunchTemplateVersion{LaunchTemplateId: aws.String(ltID), VersionNumber: aws.Int64(n)}}, nil
}

func (w *world) addRefresh(status astypes.InstanceRefreshStatus, desiredVersion string) string {
	id := fmt.Sprintf("r-%d", len(w.refreshes)+1)
	r := astypes.InstanceRefresh{
		InstanceRefreshId: aws.String(id), AutoScalingGroupName: aws.String(groupName), Status: status,
		StartTime: aws.Time(time.Date(2024, 7, 1, 6, len(w.refreshes), 0, 0, time.UTC)),
	}
	if desiredVersion != "" {
		r.DesiredConfiguration = &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String(desiredVersion)}}
	}
	w.refreshes = append(w.refreshes, r)
	return id
}

// complete ends refresh id; a Successful one writes its desired version to
// the group, like Auto Scaling.
func (w *world) complete(id string, status astypes.InstanceRefreshStatus) {
	for i := range w.refreshes {
		r := &w.refreshes[i]
		if aws.ToString(r.InstanceRefreshId) == id {
			r.Status = status
			if status == astypes.InstanceRefreshStatusSuccessful && r.DesiredConfiguration != nil {
				w.groupVersion = aws.ToString(r.DesiredConfiguration.LaunchTemplate.Version)
			}
			return
		}
	}
	panic("no refresh " + id)
}

func (w *world) startRefresh(_ context.Context, in *autoscaling.StartInstanceRefreshInput, _ ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error) {
	w.starts = append(w.starts, in)
	if err := w.record("StartInstanceRefresh"); err != nil {
		return nil, err
	}
	if w.beforeStart != nil {
		w.beforeStart(w)
	}
	inProgress := &smithy.OperationError{ServiceID: "Auto Scaling", OperationName: "StartInstanceRefresh",
		Err: &astypes.InstanceRefreshInProgressFault{Message: aws.String("An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")}}
	for _, r := range w.refreshes {
		if active(r.Status) {
			return nil, inProgress
		}
	}
	id := w.addRefresh(astypes.InstanceRefreshStatusPending, aws.ToString(in.DesiredConfiguration.LaunchTemplate.Version))
	if w.loseStartResponse {
		return nil, inProgress
	}
	return &autoscaling.StartInstanceRefreshOutput{InstanceRefreshId: aws.String(id)}, nil
}

func loadEvent(t testing.TB, name string) events.CloudWatchEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// captureLogs makes slog write JSON into the returned buffer for the rest
// of the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

// logRecords decodes the captured JSON log lines.
func logRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("log line: %v", err)
		}
		out = append(out, m)
	}
	return out
}

func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// instance is an instance of the group on launch template version.
func instance(id, version string, state astypes.LifecycleState, protected bool) astypes.Instance {
	return astypes.Instance{
		InstanceId: aws.String(id), LifecycleState: state, ProtectedFromScaleIn: aws.Bool(protected),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String(version)},
	}
}
