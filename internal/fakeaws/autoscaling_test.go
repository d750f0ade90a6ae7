package fakeaws_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

const (
	ltID = "lt-0123456789abcdef0"
	amiA = "ami-0aaaaaaaaaaaaaaa0"
	amiB = "ami-0bbbbbbbbbbbbbbb0"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestEC2LaunchTemplateVersions(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := ec2.NewFromConfig(cfg)
	srv.AddLaunchTemplate("us-east-1", ltID, "web", amiA, "t4g.small")

	_, err := client.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String("lt-0000000000000000f")})
	if apiCode(err) != "InvalidLaunchTemplateId.NotFound" {
		t.Fatalf("describe unknown template: %v, want InvalidLaunchTemplateId.NotFound", err)
	}

	in := &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   aws.String(ltID),
		SourceVersion:      aws.String("1"),
		VersionDescription: aws.String("golden-ami rollout"),
		ClientToken:        aws.String("token-1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(amiB)},
	}
	out, err := client.CreateLaunchTemplateVersion(ctx, in)
	if err != nil {
		t.Fatalf("CreateLaunchTemplateVersion: %v", err)
	}
	v := out.LaunchTemplateVersion
	if aws.ToInt64(v.VersionNumber) != 2 || aws.ToString(v.LaunchTemplateData.ImageId) != amiB ||
		v.LaunchTemplateData.InstanceType != "t4g.small" || aws.ToString(v.VersionDescription) != "golden-ami rollout" ||
		aws.ToBool(v.DefaultVersion) || aws.ToString(v.LaunchTemplateName) != "web" || v.CreateTime == nil {
		t.Errorf("created version = %+v (data %+v); want version 2, %s on the source's t4g.small, not default", v, v.LaunchTemplateData, amiB)
	}

	// The same client token replays the version instead of creating another.
	again, err := client.CreateLaunchTemplateVersion(ctx, in)
	if err != nil || aws.ToInt64(again.LaunchTemplateVersion.VersionNumber) != 2 {
		t.Fatalf("replay = %+v, %v; want version 2 again", again, err)
	}
	other := *in
	other.VersionDescription = aws.String("something else")
	if _, err := client.CreateLaunchTemplateVersion(ctx, &other); apiCode(err) != "IdempotentParameterMismatch" {
		t.Errorf("token reuse with other parameters: %v, want IdempotentParameterMismatch", err)
	}
	bad := &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-NOPE")}}
	if _, err := client.CreateLaunchTemplateVersion(ctx, bad); apiCode(err) != "InvalidAMIID.Malformed" {
		t.Errorf("malformed AMI: %v, want InvalidAMIID.Malformed", err)
	}
	unmodelled := &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{UserData: aws.String("IyEvYmluL3No")}}
	if _, err := client.CreateLaunchTemplateVersion(ctx, unmodelled); err == nil || !strings.Contains(err.Error(), "LaunchTemplateData.UserData") {
		t.Errorf("unmodelled launch parameter: %v, want a rejection naming it", err)
	}

	desc, err := client.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(ltID), Versions: []string{"$Default", "$Latest", "1"},
	})
	if err != nil {
		t.Fatalf("DescribeLaunchTemplateVersions: %v", err)
	}
	var got []string
	for _, v := range desc.LaunchTemplateVersions {
		got = append(got, aws.ToString(v.LaunchTemplateData.ImageId))
	}
	if want := []string{amiA, amiB}; !reflect.DeepEqual(got, want) {
		t.Errorf("$Default, $Latest, 1 = %v, want %v (deduplicated)", got, want)
	}
	if _, err := client.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(ltID), Versions: []string{"9"},
	}); apiCode(err) != "InvalidLaunchTemplateId.VersionNotFound" {
		t.Errorf("unknown version: %v, want InvalidLaunchTemplateId.VersionNotFound", err)
	}

	lt, ok := srv.LaunchTemplate("us-east-1", ltID)
	if !ok || len(lt.Versions) != 2 || lt.Versions[1].SourceVersion != "1" || lt.Versions[1].ClientToken != "token-1" {
		t.Errorf("LaunchTemplate = %+v, want 2 versions, the second from source 1 with token-1", lt)
	}
	if n := srv.CountOK("CreateLaunchTemplateVersion"); n != 2 {
		t.Errorf("successful CreateLaunchTemplateVersion calls = %d, want 2 (create and replay)", n)
	}
}

func TestEC2LaunchTemplateVersionsPaging(t *testing.T) {
	srv, cfg := setup(t)
	srv.EC2PageSize = 1
	srv.AddLaunchTemplate("us-east-1", ltID, "web", amiA, "t4g.small")
	client := ec2.NewFromConfig(cfg)
	if _, err := client.CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("$Latest"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(amiB)},
	}); err != nil {
		t.Fatal(err)
	}
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(client, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(ltID)})
	var n int
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.LaunchTemplateVersions)
	}
	if n != 2 || srv.Count("DescribeLaunchTemplateVersions") != 2 {
		t.Errorf("paged versions = %d in %d calls, want 2 in 2", n, srv.Count("DescribeLaunchTemplateVersions"))
	}
	// MinVersion is exclusive, MaxVersion inclusive; versions that do not
	// exist are simply not in the range.
	srv.EC2PageSize = 0
	for _, tc := range []struct {
		min, max string
		want     []int64
	}{{"1", "", []int64{2}}, {"", "1", []int64{1}}, {"0", "9", []int64{1, 2}}, {"2", "", nil}} {
		opt := func(s string) *string {
			if s == "" {
				return nil
			}
			return &s
		}
		out, err := client.DescribeLaunchTemplateVersions(context.Background(), &ec2.DescribeLaunchTemplateVersionsInput{
			LaunchTemplateId: aws.String(ltID), MinVersion: opt(tc.min), MaxVersion: opt(tc.max), MaxResults: aws.Int32(10),
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, v := range out.LaunchTemplateVersions {
			got = append(got, aws.ToInt64(v.VersionNumber))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("MinVersion %q MaxVersion %q: versions %v, want %v", tc.min, tc.max, got, tc.want)
		}
	}
}

func seedGroup(srv *fakeaws.Server, version string, image string) {
	srv.AddLaunchTemplate("us-east-1", ltID, "web", image, "t4g.small")
	srv.AddAutoScalingGroup("us-east-1", fakeaws.AutoScalingGroup{Name: "web", LaunchTemplateID: ltID, LaunchTemplateName: "web",
		LaunchTemplateVersion: version, MinSize: 2, MaxSize: 4, DesiredCapacity: 2})
}

func TestAutoScalingQueryProtocol(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := autoscaling.NewFromConfig(cfg)
	seedGroup(srv, "1", amiA)

	groups, err := client.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web", "missing"}})
	if err != nil {
		t.Fatalf("DescribeAutoScalingGroups: %v", err)
	}
	if len(groups.AutoScalingGroups) != 1 {
		t.Fatalf("groups = %+v, want only web", groups.AutoScalingGroups)
	}
	g := groups.AutoScalingGroups[0]
	if lt := g.LaunchTemplate; lt == nil || aws.ToString(lt.LaunchTemplateId) != ltID || aws.ToString(lt.LaunchTemplateName) != "web" ||
		aws.ToString(lt.Version) != "1" || aws.ToInt32(g.DesiredCapacity) != 2 {
		t.Errorf("group = %+v (launch template %+v)", g, g.LaunchTemplate)
	}

	ec2c := ec2.NewFromConfig(cfg)
	if _, err := ec2c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(amiB)},
	}); err != nil {
		t.Fatal(err)
	}
	prefs := &astypes.RefreshPreferences{
		MinHealthyPercentage:  aws.Int32(90),
		MaxHealthyPercentage:  aws.Int32(110),
		InstanceWarmup:        aws.Int32(300),
		CheckpointPercentages: []int32{20, 50, 100},
		CheckpointDelay:       aws.Int32(600),
		SkipMatching:          aws.Bool(true),
		AutoRollback:          aws.Bool(true),
		AlarmSpecification:    &astypes.AlarmSpecification{Alarms: []string{"web-5xx", "web-latency"}},
	}
	start := &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String("web"),
		Strategy:             astypes.RefreshStrategyRolling,
		DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("2")}},
		Preferences:          prefs,
	}
	started, err := client.StartInstanceRefresh(ctx, start)
	if err != nil {
		t.Fatalf("StartInstanceRefresh: %v", err)
	}
	id := aws.ToString(started.InstanceRefreshId)
	var inProgress *astypes.InstanceRefreshInProgressFault
	if _, err := client.StartInstanceRefresh(ctx, start); !errors.As(err, &inProgress) {
		t.Fatalf("second StartInstanceRefresh: %v, want *types.InstanceRefreshInProgressFault", err)
	}

	recorded := srv.InstanceRefreshes("us-east-1", "web")
	wantPrefs := fakeaws.RefreshPreferences{
		MinHealthyPercentage: aws.Int32(90), MaxHealthyPercentage: aws.Int32(110), InstanceWarmup: aws.Int32(300), CheckpointPercentages: []int32{20, 50, 100},
		CheckpointDelay: aws.Int32(600), SkipMatching: aws.Bool(true), AutoRollback: aws.Bool(true), AlarmNames: []string{"web-5xx", "web-latency"},
	}
	if len(recorded) != 1 || recorded[0].ID != id || recorded[0].DesiredLaunchTemplateVersion != "2" || !reflect.DeepEqual(recorded[0].Preferences, wantPrefs) {
		t.Fatalf("recorded refreshes = %+v\nwant one with version 2 and preferences %+v", recorded, wantPrefs)
	}

	desc, err := client.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")})
	if err != nil {
		t.Fatalf("DescribeInstanceRefreshes: %v", err)
	}
	if len(desc.InstanceRefreshes) != 1 {
		t.Fatalf("refreshes = %+v", desc.InstanceRefreshes)
	}
	r := desc.InstanceRefreshes[0]
	if aws.ToString(r.InstanceRefreshId) != id || r.Status != astypes.InstanceRefreshStatusInProgress || r.StartTime == nil ||
		aws.ToString(r.DesiredConfiguration.LaunchTemplate.Version) != "2" || !reflect.DeepEqual(r.Preferences.CheckpointPercentages, []int32{20, 50, 100}) ||
		!reflect.DeepEqual(r.Preferences.AlarmSpecification.Alarms, []string{"web-5xx", "web-latency"}) || !aws.ToBool(r.Preferences.AutoRollback) {
		t.Errorf("described refresh = %+v (prefs %+v)", r, r.Preferences)
	}

	// A successful refresh writes its desired configuration to the group.
	if err := srv.CompleteInstanceRefresh("us-east-1", id, fakeaws.RefreshSuccessful); err != nil {
		t.Fatal(err)
	}
	if g, _ := srv.AutoScalingGroup("us-east-1", "web"); g.LaunchTemplateVersion != "2" {
		t.Errorf("after success the group is on version %s, want 2", g.LaunchTemplateVersion)
	}
	// A finished refresh stays as it ended.
	err = srv.CompleteInstanceRefresh("us-east-1", id, fakeaws.RefreshFailed)
	if want := "fakeaws: instance refresh " + id + " is already Successful"; err == nil || err.Error() != want {
		t.Errorf("completing a finished refresh: error = %v, want %s", err, want)
	}
	if rs := srv.InstanceRefreshes("us-east-1", "web"); len(rs) != 1 || rs[0].Status != fakeaws.RefreshSuccessful {
		t.Errorf("after completing it again, refreshes = %+v, want the one Successful", rs)
	}
	// Only a final status completes a refresh, and only a known one.
	err = srv.CompleteInstanceRefresh("us-east-1", id, "InProgress")
	if want := `fakeaws: "InProgress" is not a final instance refresh status`; err == nil || err.Error() != want {
		t.Errorf("completing with InProgress: error = %v, want %s", err, want)
	}
	err = srv.CompleteInstanceRefresh("eu-west-1", id, fakeaws.RefreshFailed)
	if want := "fakeaws: no instance refresh " + id + " in eu-west-1"; err == nil || err.Error() != want {
		t.Errorf("completing a refresh of another region: error = %v, want %s", err, want)
	}
}

func TestAutoScalingRollbackLeavesTheGroupAlone(t *testing.T) {
	srv, _ := setup(t)
	seedGroup(srv, "1", amiA)
	id := srv.AddInstanceRefresh("us-east-1", fakeaws.InstanceRefresh{GroupName: "web", DesiredLaunchTemplateID: ltID, DesiredLaunchTemplateVersion: "1"})
	if err := srv.CompleteInstanceRefresh("us-east-1", id, fakeaws.RefreshRollbackSuccessful); err != nil {
		t.Fatal(err)
	}
	g, _ := srv.AutoScalingGroup("us-east-1", "web")
	if g.LaunchTemplateVersion != "1" {
		t.Errorf("group version = %s after a rollback, want 1", g.LaunchTemplateVersion)
	}
	if rs := srv.InstanceRefreshes("us-east-1", "web"); len(rs) != 1 || rs[0].Status != fakeaws.RefreshRollbackSuccessful || rs[0].EndTime.IsZero() {
		t.Errorf("refreshes = %+v", rs)
	}
}

// Auto rollback is refused when there would be nothing sound to roll back
// to. StartInstanceRefresh's model has no typed error for it, so it is a
// ValidationError naming the reason.
func TestAutoScalingRefusesIrreversibleRefreshes(t *testing.T) {
	for _, tc := range []struct {
		name, version, image, want string
		desired                    *astypes.DesiredConfiguration
	}{
		{name: "group on $Default", version: "$Default", image: amiA, want: "uses the launch template's $Default version"},
		{name: "group on $Latest", version: "$Latest", image: amiA, want: "uses the launch template's $Latest version"},
		{name: "AMI from an SSM parameter", version: "1", image: "resolve:ssm:/golden-ami/latest", want: "uses a Systems Manager parameter (resolve:ssm:/golden-ami/latest)"},
		{name: "no desired configuration", version: "1", image: amiA, desired: &astypes.DesiredConfiguration{}, want: "Auto rollback requires a desired configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, cfg := setup(t)
			seedGroup(srv, tc.version, tc.image)
			desired := &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("1")}}
			if tc.desired != nil {
				desired = nil
			}
			_, err := autoscaling.NewFromConfig(cfg).StartInstanceRefresh(context.Background(), &autoscaling.StartInstanceRefreshInput{
				AutoScalingGroupName: aws.String("web"), DesiredConfiguration: desired,
				Preferences: &astypes.RefreshPreferences{AutoRollback: aws.Bool(true)},
			})
			if apiCode(err) != "ValidationError" || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want a ValidationError containing %q", err, tc.want)
			}
			if n := len(srv.InstanceRefreshes("us-east-1", "web")); n != 0 {
				t.Errorf("refreshes = %d, want 0", n)
			}
		})
	}
}

func TestAutoScalingValidatesPreferences(t *testing.T) {
	for _, tc := range []struct {
		name  string
		prefs astypes.RefreshPreferences
		want  string
	}{
		{name: "delay without checkpoints", prefs: astypes.RefreshPreferences{CheckpointDelay: aws.Int32(60)}, want: "CheckpointDelay requires CheckpointPercentages"},
		{name: "descending checkpoints", prefs: astypes.RefreshPreferences{CheckpointPercentages: []int32{50, 20}}, want: `got "20"`},
		{name: "min healthy over 100", prefs: astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(101)}, want: "MinHealthyPercentage"},
		{name: "max healthy over 200", prefs: astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(100), MaxHealthyPercentage: aws.Int32(201)}, want: "MaxHealthyPercentage"},
		{name: "max healthy without min healthy", prefs: astypes.RefreshPreferences{MaxHealthyPercentage: aws.Int32(110)}, want: "MaxHealthyPercentage requires MinHealthyPercentage"},
		{name: "max healthy more than 100 above min", prefs: astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), MaxHealthyPercentage: aws.Int32(160)},
			want: "The difference between MaxHealthyPercentage (160) and MinHealthyPercentage (50) cannot be greater than 100"},
		{name: "eleven alarms", prefs: astypes.RefreshPreferences{AlarmSpecification: &astypes.AlarmSpecification{Alarms: strings.Split("a b c d e f g h i j k", " ")}}, want: "at most 10 alarms"},
		{name: "unmodelled bake time", prefs: astypes.RefreshPreferences{BakeTime: aws.Int32(60)}, want: "Preferences.BakeTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, cfg := setup(t)
			seedGroup(srv, "1", amiA)
			_, err := autoscaling.NewFromConfig(cfg).StartInstanceRefresh(context.Background(), &autoscaling.StartInstanceRefreshInput{
				AutoScalingGroupName: aws.String("web"), Preferences: &tc.prefs,
			})
			if apiCode(err) != "ValidationError" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want a ValidationError containing %q", err, tc.want)
			}
		})
	}
}

func TestAutoScalingRefreshesNewestFirstAndPaged(t *testing.T) {
	srv, cfg := setup(t)
	seedGroup(srv, "1", amiA)
	var ids []string
	for _, status := range []string{fakeaws.RefreshSuccessful, fakeaws.RefreshRollbackSuccessful, fakeaws.RefreshInProgress} {
		ids = append(ids, srv.AddInstanceRefresh("us-east-1", fakeaws.InstanceRefresh{GroupName: "web", Status: status}))
	}
	srv.AddInstanceRefresh("us-east-1", fakeaws.InstanceRefresh{GroupName: "other"})
	p := autoscaling.NewDescribeInstanceRefreshesPaginator(autoscaling.NewFromConfig(cfg),
		&autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web"), MaxRecords: aws.Int32(2)})
	var got []string
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.InstanceRefreshes {
			got = append(got, aws.ToString(r.InstanceRefreshId))
		}
	}
	if want := []string{ids[2], ids[1], ids[0]}; !reflect.DeepEqual(got, want) {
		t.Errorf("refresh ids = %v, want newest first %v", got, want)
	}
	if n := srv.Count("DescribeInstanceRefreshes"); n != 2 {
		t.Errorf("DescribeInstanceRefreshes calls = %d, want 2 pages", n)
	}
}

// Auto Scaling's throttling error travels as an awsQuery ErrorResponse and
// the standard retryer retries it.
func TestAutoScalingThrottlingIsRetried(t *testing.T) {
	srv, cfg := setup(t)
	seedGroup(srv, "1", amiA)
	srv.Inject(fakeaws.Fault{Operation: "DescribeAutoScalingGroups", Code: "Throttling", Message: "Rate exceeded", Times: 2})
	out, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("DescribeAutoScalingGroups = %+v, %v", out, err)
	}
	if n := srv.Count("DescribeAutoScalingGroups"); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
	calls := srv.Calls()
	if calls[0].Service != fakeaws.ServiceAutoScaling || calls[0].Status != 400 || !calls[0].Injected {
		t.Errorf("first call = %+v", calls[0])
	}
}
