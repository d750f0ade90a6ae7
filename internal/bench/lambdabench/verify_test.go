package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/fakeaws"
	"github.com/platform-eng/golden-ami/internal/gobuild"
)

// These tests drive each scenario's fake the way its function would, with
// the real SDK clients, through n invocations, so that Verify passes; then,
// for each of Verify's checks, the same run with one deviation that only
// that check sees. Every check must fail on its own, with its message:
// were it removed, a function that got just that part wrong would pass.

// driver plays a function against one fake: SDK clients without retries,
// so every call is one request the fake records, and the deviation mut.
type driver struct {
	t       *testing.T
	f       *fakeaws.Server
	cfg     aws.Config
	mut     string
	applied bool // the deviation has been made
}

func newDriver(t *testing.T, f *fakeaws.Server, mut string) *driver {
	return &driver{t: t, f: f, mut: mut, cfg: aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(f.URL()),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDFAKEAWSEXAMPLE", SecretAccessKey: "fake-secret-access-key"}, nil
		}),
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}}
}

// call makes a call of operation op. Under the deviation "extra <op>" the
// first such call is made twice; under "quiet <op>" the first takes effect
// but answers an error, as a response lost on the way back, so the fake
// does not count it as a success.
func (d *driver) call(op string, fn func(ctx context.Context) error) {
	d.t.Helper()
	ctx := context.Background()
	if !d.applied && d.mut == "quiet "+op {
		d.applied = true
		d.quiet(op, fn)
		return
	}
	if err := fn(ctx); err != nil {
		d.t.Fatalf("%s: %v", op, err)
	}
	if !d.applied && d.mut == "extra "+op {
		d.applied = true
		if err := fn(ctx); err != nil {
			d.t.Fatalf("extra %s: %v", op, err)
		}
	}
}

// quiet makes a call of op that takes effect but answers an error.
func (d *driver) quiet(op string, fn func(ctx context.Context) error) {
	d.t.Helper()
	d.f.Inject(fakeaws.Fault{Operation: op, AfterApply: true})
	if err := fn(context.Background()); err == nil {
		d.t.Fatalf("%s: the injected fault did not fail the call", op)
	}
}

// verifyCase is one deviation and the error Verify must return for it (a
// "*" in want stands for any text); "" for the run without deviation,
// which Verify must accept.
type verifyCase struct{ mut, want string }

func matches(want, got string) bool {
	prefix, suffix, wild := strings.Cut(want, "*")
	if !wild {
		return got == want
	}
	return strings.HasPrefix(got, prefix) && strings.HasSuffix(got, suffix) && len(got) >= len(prefix)+len(suffix)
}

func runVerifyCases(t *testing.T, n int, cases []verifyCase, run func(t *testing.T, mut string) (*fakeaws.Server, scenario)) {
	t.Helper()
	for _, tc := range cases {
		name := tc.mut
		if name == "" {
			name = "as the function does it"
		}
		t.Run(name, func(t *testing.T) {
			f, s := run(t, tc.mut)
			err := s.Verify(f, n)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Verify = %v, want nil", err)
			case tc.want != "" && (err == nil || !matches(tc.want, err.Error())):
				t.Errorf("Verify = %v\nwant      %s", err, tc.want)
			}
		})
	}
}

func TestAmimonitorVerifyChecksEachFailAlone(t *testing.T) {
	const n = 5 // three of them change the source
	tags := fmt.Sprintf("map[%s:%s]", contract.TagUpstreamSource, sourceParameter)
	runVerifyCases(t, n, []verifyCase{
		{"", ""},
		{"the last change written twice", upstreamParameter + ": 4 writes, tags " + tags + "; want 3 writes and tags"},
		{"tag another parameter", upstreamParameter + ": 3 writes, tags map[]; want 3 writes and tags"},
		{"extra GetParameter", "GetParameter calls = 11, want 10"},
		{"quiet AddTagsToResource", "AddTagsToResource calls = 2, want 3"},
	}, func(t *testing.T, mut string) (*fakeaws.Server, scenario) {
		s := amimonitorScenario()
		f := startFake(s)
		t.Cleanup(f.close)
		d := newDriver(t, f.Server, mut)
		c := ssm.NewFromConfig(d.cfg)
		f.SetParameter(region, "/golden-ami/other", amiID(99))
		for i := range n {
			s.Event(f.Server, i)
			var source string
			d.call("GetParameter", func(ctx context.Context) error {
				out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(sourceParameter)})
				if err == nil {
					source = aws.ToString(out.Parameter.Value)
				}
				return err
			})
			var current string
			d.call("GetParameter", func(ctx context.Context) error {
				out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(upstreamParameter)})
				var notFound *ssmtypes.ParameterNotFound
				if i == 0 && errors.As(err, &notFound) {
					return nil // the first read: not written yet
				}
				if err == nil {
					current = aws.ToString(out.Parameter.Value)
				}
				return err
			})
			if source == current {
				continue
			}
			writes := 1
			if i == n-1 && mut == "the last change written twice" {
				writes = 2
			}
			for range writes {
				d.call("PutParameter", func(ctx context.Context) error {
					_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(upstreamParameter), Value: aws.String(source),
						Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true)})
					return err
				})
			}
			tagged := upstreamParameter
			if mut == "tag another parameter" {
				tagged = "/golden-ami/other"
			}
			d.call("AddTagsToResource", func(ctx context.Context) error {
				_, err := c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter,
					ResourceId: aws.String(tagged), Tags: []ssmtypes.Tag{{Key: aws.String(contract.TagUpstreamSource), Value: aws.String(sourceParameter)}}})
				return err
			})
		}
		return f.Server, s
	})
}

func TestImagebuildertriggerVerifyChecksEachFailAlone(t *testing.T) {
	const n = 3
	runVerifyCases(t, n, []verifyCase{
		{"", ""},
		{"no execution for the last version", "pipeline executions = 2, want 3 (one per parameter version)"},
		{"quiet GetParameterHistory", "GetParameterHistory calls = 2, want at least 3 (every page of the history, once per invocation)"},
	}, func(t *testing.T, mut string) (*fakeaws.Server, scenario) {
		s := imagebuildertriggerScenario()
		f := startFake(s)
		t.Cleanup(f.close)
		d := newDriver(t, f.Server, mut)
		sc, ib := ssm.NewFromConfig(d.cfg), imagebuilder.NewFromConfig(d.cfg)
		for i := range n {
			s.Event(f.Server, i)
			d.call("GetParameterHistory", func(ctx context.Context) error {
				_, err := sc.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String(upstreamParameter)})
				return err
			})
			if i == n-1 && mut == "no execution for the last version" {
				continue
			}
			d.call("StartImagePipelineExecution", func(ctx context.Context) error {
				_, err := ib.StartImagePipelineExecution(ctx, &imagebuilder.StartImagePipelineExecutionInput{
					ImagePipelineArn: aws.String(pipelineARN), ClientToken: aws.String(eventID(i))})
				return err
			})
		}
		return f.Server, s
	})
}

func TestLatestamiVerifyChecksEachFailAlone(t *testing.T) {
	const n = 3
	last := func(r int) string { return amiID((n-1)*len(distributionRegions) + r) }
	runVerifyCases(t, n, []verifyCase{
		{"", ""},
		{"an old AMI last in eu-west-1", fmt.Sprintf("%s in eu-west-1: 3 writes, value %q; want 3 writes ending with %s", latestParameter, amiID(1), last(1))},
		{"a quiet extra write in eu-west-1", fmt.Sprintf("%s in eu-west-1: 4 writes, value %q; want 3 writes ending with %s", latestParameter, last(1), last(1))},
		{"quiet PutParameter", "PutParameter calls = 8, want 9"},
		{"extra GetImage", "GetImage calls = 4, want 3"},
	}, func(t *testing.T, mut string) (*fakeaws.Server, scenario) {
		s := latestamiScenario()
		f := startFake(s)
		t.Cleanup(f.close)
		d := newDriver(t, f.Server, mut)
		ib := imagebuilder.NewFromConfig(d.cfg)
		for i := range n {
			payload, _ := s.Event(f.Server, i)
			var ev struct{ Resources []string }
			if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Resources) != 1 {
				t.Fatalf("event %s: %v", payload, err)
			}
			var img *imagebuilder.GetImageOutput
			d.call("GetImage", func(ctx context.Context) (err error) {
				img, err = ib.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(ev.Resources[0])})
				return err
			})
			for _, ami := range img.Image.OutputResources.Amis {
				reg, value := aws.ToString(ami.Region), aws.ToString(ami.Image)
				if i == n-1 && reg == "eu-west-1" && mut == "an old AMI last in eu-west-1" {
					value = amiID(1) // invocation 0's
				}
				c := ssm.NewFromConfig(d.cfg, func(o *ssm.Options) { o.Region = reg })
				put := func(ctx context.Context) error {
					_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(latestParameter), Value: aws.String(value),
						Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true)})
					return err
				}
				d.call("PutParameter", put)
				if i == n-1 && reg == "eu-west-1" && mut == "a quiet extra write in eu-west-1" {
					d.quiet("PutParameter", put)
				}
			}
		}
		return f.Server, s
	})
}

func TestRolloutVerifyChecksEachFailAlone(t *testing.T) {
	const n = 3
	runVerifyCases(t, n, []verifyCase{
		{"", ""},
		{"a quiet extra launch template version", "launch template " + fleetLaunchTemplate + ": 5 versions, default 1; want 4 (one per invocation), default still 1"},
		{"the old AMI in version 3", fmt.Sprintf("launch template version 3 launches %s, copied from \"2\"; want %s, copied from 2", fleetAMI(0), fleetAMI(1))},
		{"version 4 copied from version 1", fmt.Sprintf("launch template version 4 launches %s, copied from \"1\"; want %s, copied from 3", fleetAMI(2), fleetAMI(2))},
		{"a refresh someone else started", "instance refreshes = 4, want 3 (one per invocation)"},
		{"refresh 2 without auto rollback", "instance refresh 2 = {ID:*; want Successful to version 3 with auto rollback"},
		{"the group back on version 1", "group " + fleetGroup + " is on launch template version 1, want 3"},
		{"extra GetParameter", "GetParameter calls = 4, want 3"},
		{"extra DescribeAutoScalingGroups", "DescribeAutoScalingGroups calls = 4, want 3"},
		{"quiet CreateLaunchTemplateVersion", "CreateLaunchTemplateVersion calls = 2, want 3"},
		{"quiet StartInstanceRefresh", "StartInstanceRefresh calls = 2, want 3"},
		{"quiet DescribeInstanceRefreshes", "DescribeInstanceRefreshes calls = 2, want at least 3"},
		{"quiet DescribeLaunchTemplateVersions", "DescribeLaunchTemplateVersions calls = 2, want at least 3"},
	}, func(t *testing.T, mut string) (*fakeaws.Server, scenario) {
		s := rolloutScenario()
		f := startFake(s)
		t.Cleanup(f.close)
		d := newDriver(t, f.Server, mut)
		sc, as, ec := ssm.NewFromConfig(d.cfg), autoscaling.NewFromConfig(d.cfg), ec2.NewFromConfig(d.cfg)
		// createVersion copies version source of the fleet's launch
		// template with ami.
		createVersion := func(source, ami string) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				_, err := ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(fleetLaunchTemplate),
					SourceVersion: aws.String(source), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(ami)}})
				return err
			}
		}
		for i := range n {
			s.Event(f.Server, i)
			// The group is on version i+1 (the refresh to it has just
			// finished); the function copies it to version i+2 with the
			// parameter's AMI and refreshes the group onto that.
			current, next, ami := strconv.Itoa(i+1), strconv.Itoa(i+2), fleetAMI(i)
			d.call("GetParameter", func(ctx context.Context) error {
				_, err := sc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(latestParameter)})
				return err
			})
			d.call("DescribeAutoScalingGroups", func(ctx context.Context) error {
				_, err := as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{fleetGroup}})
				return err
			})
			d.call("DescribeInstanceRefreshes", func(ctx context.Context) error {
				_, err := as.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(fleetGroup)})
				return err
			})
			d.call("DescribeLaunchTemplateVersions", func(ctx context.Context) error {
				_, err := ec.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
					LaunchTemplateId: aws.String(fleetLaunchTemplate), Versions: []string{current}})
				return err
			})
			source := current
			switch {
			case i == 1 && mut == "the old AMI in version 3":
				ami = fleetAMI(0)
			case i == 2 && mut == "version 4 copied from version 1":
				source = "1"
			}
			d.call("CreateLaunchTemplateVersion", createVersion(source, ami))
			rollback := !(i == 1 && mut == "refresh 2 without auto rollback")
			d.call("StartInstanceRefresh", func(ctx context.Context) error {
				_, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String(fleetGroup),
					DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{
						LaunchTemplateId: aws.String(fleetLaunchTemplate), Version: aws.String(next)}},
					Preferences: &astypes.RefreshPreferences{AutoRollback: aws.Bool(rollback), SkipMatching: aws.Bool(true)}})
				return err
			})
		}
		switch mut {
		case "a quiet extra launch template version":
			// Version n+2, as the next invocation would create it, but
			// answered with an error.
			d.quiet("CreateLaunchTemplateVersion", createVersion(strconv.Itoa(n+1), fleetAMI(n)))
		case "a refresh someone else started":
			// After the function's, and as the next one would be once
			// finished, so only the count is off.
			f.AddInstanceRefresh(region, fakeaws.InstanceRefresh{GroupName: fleetGroup, Status: fakeaws.RefreshSuccessful,
				DesiredLaunchTemplateID: fleetLaunchTemplate, DesiredLaunchTemplateVersion: strconv.Itoa(n + 2),
				Preferences: fakeaws.RefreshPreferences{AutoRollback: aws.Bool(true)}})
		case "the group back on version 1":
			g, _ := f.AutoScalingGroup(region, fleetGroup)
			g.LaunchTemplateVersion = "1"
			f.AddAutoScalingGroup(region, g)
		}
		return f.Server, s
	})
}

func TestNotifierVerifyChecksEachFailAlone(t *testing.T) {
	const n = 5 // every kind of message, the first twice
	runVerifyCases(t, n, []verifyCase{
		{"", ""},
		{"no post for the last message", "Slack webhook accepted 4 posts and rejected 0; want 5 (one per invocation) and 0"},
		{"a rejected post", "Slack webhook accepted 5 posts and rejected 1; want 5 (one per invocation) and 0"},
		{"no secret read", "GetSecretValue calls = 0, want 1 to 5 (once per process)"},
		{"extra GetSecretValue", "GetSecretValue calls = 6, want 1 to 5 (once per process)"},
		{"extra GetPipelineExecution", "GetPipelineExecution calls = 3, want 2"},
		{"extra GetImage", "GetImage calls = 2, want 1"},
	}, func(t *testing.T, mut string) (*fakeaws.Server, scenario) {
		hooks := newWebhooks()
		s := notifierScenario(hooks)
		f := startFake(s)
		t.Cleanup(f.close)
		d := newDriver(t, f.Server, mut)
		sm, cp, ib := secretsmanager.NewFromConfig(d.cfg), codepipeline.NewFromConfig(d.cfg), imagebuilder.NewFromConfig(d.cfg)
		h, err := hooks.of(f.Server)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			payload, _ := s.Event(f.Server, i)
			var ev struct {
				Records []struct{ Sns struct{ Message string } }
			}
			var msg struct {
				Resources []string
				Detail    struct {
					Pipeline    string `json:"pipeline"`
					ExecutionID string `json:"execution-id"`
				}
			}
			if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) != 1 {
				t.Fatalf("event %s: %v", payload, err)
			}
			if err := json.Unmarshal([]byte(ev.Records[0].Sns.Message), &msg); err != nil {
				t.Fatal(err)
			}
			// Every invocation a cold start: the secret is read each time.
			if mut != "no secret read" {
				d.call("GetSecretValue", func(ctx context.Context) error {
					_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(fakeaws.SecretARN(region, slackSecretName))})
					return err
				})
			}
			switch i % notifierKinds {
			case 0:
				d.call("GetPipelineExecution", func(ctx context.Context) error {
					_, err := cp.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{
						PipelineName: aws.String(msg.Detail.Pipeline), PipelineExecutionId: aws.String(msg.Detail.ExecutionID)})
					return err
				})
			case 1:
				d.call("GetImage", func(ctx context.Context) error {
					_, err := ib.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(msg.Resources[0])})
					return err
				})
			}
			if i == n-1 && mut == "no post for the last message" {
				continue
			}
			resp, err := http.Post(h.URL(), "application/json", strings.NewReader(`{"text":"message `+strconv.Itoa(i)+`"}`))
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("post: %v %v", resp, err)
			}
			resp.Body.Close()
		}
		if mut == "a rejected post" {
			resp, err := http.Get(h.URL())
			if err != nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("GET webhook: %v %v, want a 400", resp, err)
			}
			resp.Body.Close()
		}
		return f.Server, s
	})
}

// The benchmark measures the binaries the constructs deploy: it builds with
// gobuild.Flags, and reports that command.
func TestBuildCommandIsTheProductionBuild(t *testing.T) {
	got := buildCommand("arm64", "bootstrap", "example.com/m/lambdas/x")
	want := `CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -buildvcs=false -ldflags "-s -w" -o bootstrap example.com/m/lambdas/x`
	if got != want {
		t.Errorf("buildCommand =\n%s\nwant\n%s", got, want)
	}
	if !slices.Equal(buildFlags[1:], gobuild.Flags) {
		t.Errorf("buildFlags = %q, want build followed by gobuild.Flags %q", buildFlags, gobuild.Flags)
	}
}
