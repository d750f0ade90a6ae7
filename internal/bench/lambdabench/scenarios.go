package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/platform-eng/golden-ami/internal/contract"
	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// Fixtures shared by the scenarios. They follow the samples in
// lambdas/*/testdata.
const (
	region            = "us-east-1"
	account           = fakeaws.AccountID
	pipelineARN       = "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden-ami"
	recipeARN         = "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/golden-ami-recipe/1.2.0"
	upstreamParameter = "/golden-ami/upstream"
	latestParameter   = "/golden-ami/latest"
	sourceParameter   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
)

// distributionRegions are the regions latestami's images are distributed
// to; it writes the parameter in each.
var distributionRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}

// scenario is how one function is started and driven.
type scenario struct {
	// Name is the directory under lambdas/ (or the baseline).
	Name string
	// Package is the import path built.
	Package string
	// Env is the function's own environment (its env contract).
	Env map[string]string
	// Setup seeds a new fake before a function starts using it.
	Setup func(f *fakeaws.Server)
	// Teardown, when set, runs when that fake is closed and stops what
	// Setup started besides it (the notifier's Slack webhook).
	Teardown func(f *fakeaws.Server)
	// Event prepares the fake for invocation i (counted from 0 on that
	// fake) and returns the event and a check of the response.
	Event func(f *fakeaws.Server, i int) (payload []byte, check func(body []byte) error)
	// Verify checks the fake after n invocations: the handler must have
	// done its work (reads and writes), not just answered.
	Verify func(f *fakeaws.Server, n int) error
	// Limits applies the acceptance criteria; false for the
	// reference baseline.
	Limits bool
}

const modulePath = "github.com/platform-eng/golden-ami"

// scenarios returns every benchmarked function, the baseline last.
func scenarios() []scenario {
	return []scenario{amimonitorScenario(), imagebuildertriggerScenario(), latestamiScenario(),
		rolloutScenario(), notifierScenario(newWebhooks()), baselineScenario()}
}

// startFake starts a fake for s, seeds it with s.Setup and arranges for
// s.Teardown to run when it is closed.
func startFake(s scenario) *fake {
	f := newFake()
	s.Setup(f.Server)
	if s.Teardown != nil {
		f.tb.Cleanup(func() { s.Teardown(f.Server) })
	}
	return f
}

// amiID returns a distinct valid 17-digit AMI id for n.
func amiID(n int) string { return fmt.Sprintf("ami-%017x", 0xa000000+n) }

// eventID returns a distinct UUID-shaped EventBridge event id.
func eventID(i int) string { return fmt.Sprintf("6a7e8feb-b491-4cf7-a9f1-%012x", i) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// amimonitor runs on a schedule with SOURCE_PARAMETER_NAME as its upstream.
// The source changes before every even invocation, so half the invocations
// write and tag the upstream parameter and half find it unchanged.
func amimonitorScenario() scenario {
	return scenario{
		Name:    "amimonitor",
		Package: modulePath + "/lambdas/amimonitor",
		Env: map[string]string{
			contract.EnvSSMParameterName:    upstreamParameter,
			contract.EnvSourceParameterName: sourceParameter,
		},
		Setup: func(f *fakeaws.Server) {},
		Event: func(f *fakeaws.Server, i int) ([]byte, func([]byte) error) {
			changes := i%2 == 0
			if changes {
				f.SetParameter(region, sourceParameter, amiID(i))
			}
			want := amiID(i - i%2)
			ev := mustJSON(map[string]any{
				"version": "0", "id": eventID(i), "detail-type": "Scheduled Event", "source": "aws.events",
				"account": account, "time": "2024-07-01T06:00:00Z", "region": region,
				"resources": []string{"arn:aws:events:us-east-1:123456789012:rule/golden-ami-upstream-monitor"},
				"detail":    map[string]any{},
			})
			return ev, func(body []byte) error {
				var r struct {
					Changed bool   `json:"changed"`
					Current string `json:"current"`
				}
				if err := json.Unmarshal(body, &r); err != nil {
					return err
				}
				if r.Changed != changes || r.Current != want {
					return fmt.Errorf("want changed=%v current=%s", changes, want)
				}
				return nil
			}
		},
		Verify: func(f *fakeaws.Server, n int) error {
			writes := (n + 1) / 2
			p, ok := f.Parameter(region, upstreamParameter)
			if !ok || len(p.History) != writes || p.Tags[contract.TagUpstreamSource] == "" {
				return fmt.Errorf("%s: %d writes, tags %v; want %d writes and tags", upstreamParameter, len(p.History), p.Tags, writes)
			}
			// The source and the upstream parameter, every time (the
			// first read of the upstream parameter is a ParameterNotFound).
			if got := f.Count("GetParameter"); got != 2*n {
				return fmt.Errorf("GetParameter calls = %d, want %d", got, 2*n)
			}
			if got := f.CountOK("AddTagsToResource"); got != writes {
				return fmt.Errorf("AddTagsToResource calls = %d, want %d", got, writes)
			}
			return nil
		},
		Limits: true,
	}
}

// imagebuildertrigger gets a Parameter Store Change (Update) event for its
// parameter after every new version, each with a new AMI, and starts one
// execution per version.
func imagebuildertriggerScenario() scenario {
	return scenario{
		Name:    "imagebuildertrigger",
		Package: modulePath + "/lambdas/imagebuildertrigger",
		Env: map[string]string{
			contract.EnvImagePipelineARN: pipelineARN,
			contract.EnvSSMParameterName: upstreamParameter,
		},
		Setup: func(f *fakeaws.Server) { f.AddPipeline(pipelineARN) },
		Event: func(f *fakeaws.Server, i int) ([]byte, func([]byte) error) {
			// As the upstream monitor writes it: with its marker description,
			// without which the trigger ignores the version.
			f.SetParameterDescribed(region, upstreamParameter, amiID(i), contract.UpstreamDescriptionPrefix+sourceParameter)
			ev := mustJSON(map[string]any{
				"version": "0", "id": eventID(i), "detail-type": contract.DetailTypeParameterChange, "source": contract.SourceSSM,
				"account": account, "time": "2024-07-01T06:00:04Z", "region": region,
				"resources": []string{"arn:aws:ssm:us-east-1:123456789012:parameter/golden-ami/upstream"},
				"detail": map[string]string{
					"operation": contract.OperationUpdate, "name": upstreamParameter, "type": "String",
					"dataType": contract.DataTypeEC2Image, "description": contract.UpstreamDescriptionPrefix + sourceParameter,
				},
			})
			return ev, func(body []byte) error {
				var r struct {
					Decision string `json:"decision"`
					ARN      string `json:"imageBuildVersionArn"`
				}
				if err := json.Unmarshal(body, &r); err != nil {
					return err
				}
				if r.Decision != "started" || r.ARN == "" {
					return errors.New(`want decision "started" with an imageBuildVersionArn`)
				}
				return nil
			}
		},
		Verify: func(f *fakeaws.Server, n int) error {
			if got := len(f.Executions()); got != n {
				return fmt.Errorf("pipeline executions = %d, want %d (one per parameter version)", got, n)
			}
			// Invocation i reads a history of i versions, in pages of 50.
			// Like rollout's growing reads below, a page of 50 versions is
			// now and then read twice (the SDK fails to read the 200
			// response to the end and retries), so this is a lower bound.
			want := 0
			for v := 1; v <= n; v++ {
				want += (v + 49) / 50
			}
			if got := f.CountOK("GetParameterHistory"); got < want {
				return fmt.Errorf("GetParameterHistory calls = %d, want at least %d (every page of the history, once per invocation)", got, want)
			}
			return nil
		},
		Limits: true,
	}
}

// latestami gets an EventBridge "EC2 Image Builder Image State Change"
// AVAILABLE event for a new build of the image each time; GetImage returns
// its AMIs in three regions and the function writes and tags the latest-AMI
// parameter in each.
func latestamiScenario() scenario {
	imageARN := func(i int) string {
		return fmt.Sprintf("arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/%d", i+1)
	}
	amiIn := func(i, r int) string { return amiID(i*len(distributionRegions) + r) }
	return scenario{
		Name:    "latestami",
		Package: modulePath + "/lambdas/latestami",
		Env: map[string]string{
			contract.EnvSSMParameterName: latestParameter,
			contract.EnvImagePipelineARN: pipelineARN,
		},
		Setup: func(f *fakeaws.Server) {},
		Event: func(f *fakeaws.Server, i int) ([]byte, func([]byte) error) {
			img := fakeaws.Image{ARN: imageARN(i), Status: contract.ImageStatusAvailable, PipelineARN: pipelineARN,
				RecipeARN: recipeARN, DateCreated: "2024-07-01T06:10:42.519Z"}
			for r, reg := range distributionRegions {
				img.AMIs = append(img.AMIs, fakeaws.AMI{Region: reg, ImageID: amiIn(i, r), AccountID: account, Name: "golden-ami"})
			}
			f.AddImage(img)
			ev := mustJSON(map[string]any{
				"version": "0", "id": eventID(i), "detail-type": contract.DetailTypeImageStateChange, "source": contract.SourceImageBuilder,
				"account": account, "time": "2024-07-01T06:41:05Z", "region": region,
				"resources": []string{imageARN(i)},
				"detail": map[string]any{
					"previous-state": map[string]string{"status": "TESTING"},
					"state":          map[string]string{"status": contract.ImageStatusAvailable},
				},
			})
			return ev, func(body []byte) error {
				var r struct {
					Images []struct {
						Decision string            `json:"decision"`
						Regions  map[string]string `json:"regions"`
					} `json:"images"`
				}
				if err := json.Unmarshal(body, &r); err != nil {
					return err
				}
				if len(r.Images) != 1 || r.Images[0].Decision != "recorded" || len(r.Images[0].Regions) != len(distributionRegions) {
					return errors.New("want one recorded image")
				}
				for _, reg := range distributionRegions {
					if r.Images[0].Regions[reg] != "written" {
						return fmt.Errorf("want %s written", reg)
					}
				}
				return nil
			}
		},
		Verify: func(f *fakeaws.Server, n int) error {
			for r, reg := range distributionRegions {
				p, ok := f.Parameter(reg, latestParameter)
				if !ok || len(p.History) != n || p.Value != amiIn(n-1, r) {
					return fmt.Errorf("%s in %s: %d writes, value %q; want %d writes ending with %s", latestParameter, reg, len(p.History), p.Value, n, amiIn(n-1, r))
				}
			}
			if got, want := f.CountOK("PutParameter"), n*len(distributionRegions); got != want {
				return fmt.Errorf("PutParameter calls = %d, want %d", got, want)
			}
			if got := f.CountOK("GetImage"); got != n {
				return fmt.Errorf("GetImage calls = %d, want %d", got, n)
			}
			return nil
		},
		Limits: true,
	}
}

// Rollout fixtures: the group, launch template and alarm a GoldenFleet
// deploys, with the construct's default refresh preferences.
const (
	fleetGroup          = "golden-ami-fleet"
	fleetLaunchTemplate = "lt-0123456789abcdef0"
	fleetAlarm          = "golden-ami-fleet-status-check"
)

// fleetAMI is the AMI the latest-AMI parameter holds for rollout's
// invocation i. It alternates between two AMIs, and the deployed launch
// template (version 1) launches fleetAMI(1), so every invocation finds the
// group on the other AMI.
func fleetAMI(i int) string { return amiID(i % 2) }

// rollout gets a Parameter Store Change (Update) of the latest-AMI
// parameter after every new version. Before each invocation the refresh the
// previous one started succeeds, as Auto Scaling would finish it, which
// moves the group onto that refresh's launch template version; otherwise the
// function would find a refresh in progress and start nothing. So every
// invocation reads the parameter, the group, its refreshes and the template's
// versions, creates one launch template version and starts one refresh.
//
// The history the function reads grows with every invocation (the 100th
// reads 99 refreshes and 99 launch template versions), more than a real
// group collects in the six weeks of refreshes Auto Scaling keeps.
func rolloutScenario() scenario {
	return scenario{
		Name:    "rollout",
		Package: modulePath + "/lambdas/rollout",
		Env: map[string]string{
			contract.EnvSSMParameterName:              latestParameter,
			contract.EnvAutoScalingGroupName:          fleetGroup,
			contract.EnvLaunchTemplateID:              fleetLaunchTemplate,
			contract.EnvRefreshMinHealthyPercentage:   "90",
			contract.EnvRefreshCheckpointPercentages:  "50,100",
			contract.EnvRefreshCheckpointDelaySeconds: "600",
			contract.EnvRefreshAlarmNames:             fleetAlarm,
			contract.EnvRefreshSkipMatching:           "true",
		},
		Setup: func(f *fakeaws.Server) {
			f.AddLaunchTemplate(region, fleetLaunchTemplate, fleetGroup, fleetAMI(1), "t4g.small")
			f.AddAutoScalingGroup(region, fakeaws.AutoScalingGroup{Name: fleetGroup, LaunchTemplateID: fleetLaunchTemplate,
				LaunchTemplateName: fleetGroup, LaunchTemplateVersion: "1", MinSize: 2, MaxSize: 4, DesiredCapacity: 2})
			f.SetParameter(region, latestParameter, fleetAMI(1))
		},
		Event: func(f *fakeaws.Server, i int) ([]byte, func([]byte) error) {
			completed := finishRefreshes(f, fleetGroup)
			f.SetParameter(region, latestParameter, fleetAMI(i))
			ev := mustJSON(map[string]any{
				"version": "0", "id": eventID(i), "detail-type": contract.DetailTypeParameterChange, "source": contract.SourceSSM,
				"account": account, "time": "2024-07-01T06:10:04Z", "region": region,
				"resources": []string{"arn:aws:ssm:us-east-1:123456789012:parameter/golden-ami/latest"},
				"detail": map[string]string{
					"operation": contract.OperationUpdate, "name": latestParameter, "type": "String",
					"dataType": contract.DataTypeEC2Image, "description": "Latest golden AMI",
				},
			})
			wantVersion := strconv.Itoa(i + 2)
			return ev, func(body []byte) error {
				if completed != nil {
					return completed
				}
				var r struct {
					Decision string `json:"decision"`
					AMI      string `json:"ami"`
					Version  string `json:"launchTemplateVersion"`
					Refresh  string `json:"instanceRefreshId"`
				}
				if err := json.Unmarshal(body, &r); err != nil {
					return err
				}
				if r.Decision != "started" || r.AMI != fleetAMI(i) || r.Version != wantVersion || r.Refresh == "" {
					return fmt.Errorf(`want decision "started" of %s on launch template version %s with an instanceRefreshId`, fleetAMI(i), wantVersion)
				}
				return nil
			}
		},
		Verify: func(f *fakeaws.Server, n int) error {
			lt, ok := f.LaunchTemplate(region, fleetLaunchTemplate)
			if !ok || len(lt.Versions) != n+1 || lt.DefaultVersion != 1 {
				return fmt.Errorf("launch template %s: %d versions, default %d; want %d (one per invocation), default still 1", fleetLaunchTemplate, len(lt.Versions), lt.DefaultVersion, n+1)
			}
			for k, v := range lt.Versions[1:] {
				if v.ImageID != fleetAMI(k) || v.SourceVersion != strconv.Itoa(k+1) {
					return fmt.Errorf("launch template version %d launches %s, copied from %q; want %s, copied from %d", v.Number, v.ImageID, v.SourceVersion, fleetAMI(k), k+1)
				}
			}
			rs := f.InstanceRefreshes(region, fleetGroup)
			if len(rs) != n {
				return fmt.Errorf("instance refreshes = %d, want %d (one per invocation)", len(rs), n)
			}
			for k, r := range rs {
				status := fakeaws.RefreshSuccessful
				if k == n-1 {
					status = fakeaws.RefreshInProgress // the last one is still running
				}
				if r.DesiredLaunchTemplateID != fleetLaunchTemplate || r.DesiredLaunchTemplateVersion != strconv.Itoa(k+2) ||
					r.Status != status || r.Preferences.AutoRollback == nil || !*r.Preferences.AutoRollback {
					return fmt.Errorf("instance refresh %d = %+v; want %s to version %d with auto rollback", k+1, r, status, k+2)
				}
			}
			g, _ := f.AutoScalingGroup(region, fleetGroup)
			if want := strconv.Itoa(max(n, 1)); g.LaunchTemplateVersion != want {
				return fmt.Errorf("group %s is on launch template version %s, want %s", fleetGroup, g.LaunchTemplateVersion, want)
			}
			for _, op := range []string{"GetParameter", "DescribeAutoScalingGroups", "CreateLaunchTemplateVersion", "StartInstanceRefresh"} {
				if got := f.CountOK(op); got != n {
					return fmt.Errorf("%s calls = %d, want %d", op, got, n)
				}
			}
			// The two reads whose answers grow with the history: once
			// they hold some 60 items, the SDK now and then fails to read
			// a 200 response to the end ("use of closed network
			// connection") and retries it, so the fake answers some twice.
			for _, op := range []string{"DescribeInstanceRefreshes", "DescribeLaunchTemplateVersions"} {
				if got := f.CountOK(op); got < n {
					return fmt.Errorf("%s calls = %d, want at least %d", op, got, n)
				}
			}
			return nil
		},
		Limits: true,
	}
}

// finishRefreshes ends every running instance refresh of group as
// Successful, which moves the group onto the refresh's desired launch
// template version.
func finishRefreshes(f *fakeaws.Server, group string) error {
	for _, r := range f.InstanceRefreshes(region, group) {
		if r.Status != fakeaws.RefreshInProgress {
			continue
		}
		if err := f.CompleteInstanceRefresh(region, r.ID, fakeaws.RefreshSuccessful); err != nil {
			return err
		}
	}
	return nil
}

// Notifier fixtures.
const (
	slackSecretName   = "golden-ami/slack-webhook"
	notificationTopic = "arn:aws:sns:us-east-1:123456789012:golden-ami-notifications"
	deliveryPipeline  = "golden-ami-delivery"
)

// notification is one SNS message the notifier gets in the benchmark: its
// kind as the notifier reports it, the message, and a string the Slack post
// must contain, which for the first two kinds comes only from the AWS read
// the notifier makes.
type notification struct {
	Kind    string
	Message any
	Marker  string
}

// notifierKinds is how many kinds of message notifierEvent rotates through.
const notifierKinds = 4

// notifierEvent is the message of invocation i and seeds f for it. It
// rotates through the kinds the notifier posts: a CodePipeline execution
// (GetPipelineExecution for the commit), an Image Builder image state change
// (GetImage for the AMIs), a pipeline-trigger decision and a CloudWatch
// alarm (no AWS read).
func notifierEvent(f *fakeaws.Server, i int) notification {
	switch i % notifierKinds {
	case 0:
		execID := fmt.Sprintf("0b6a7c9e-1d2f-4e3a-8b5c-%012x", i)
		commit := fmt.Sprintf("%040x", 0x9f3c1e2d+i)
		marker := fmt.Sprintf("bench commit %d", i)
		f.PutPipelineExecution(region, fakeaws.PipelineExecution{PipelineName: deliveryPipeline, ExecutionID: execID, Status: "Succeeded",
			Revisions: []fakeaws.ArtifactRevision{{Name: "Source", RevisionID: commit,
				RevisionSummary: `{"ProviderType":"GitHub","CommitMessage":"` + marker + `"}`,
				RevisionURL:     "https://github.com/platform-eng/golden-ami/commit/" + commit}}})
		return notification{Kind: "codepipeline-execution", Marker: marker, Message: map[string]any{
			"version": "0", "id": eventID(i), "detail-type": contract.DetailTypePipelineExecution, "source": contract.SourceCodePipeline,
			"account": account, "time": "2024-07-01T07:12:44Z", "region": region,
			"resources": []string{"arn:aws:codepipeline:us-east-1:123456789012:" + deliveryPipeline},
			"detail": map[string]any{
				"pipeline": deliveryPipeline, "execution-id": execID, "start-time": "2024-07-01T06:58:02.418Z",
				"execution-trigger": map[string]string{"trigger-type": "StartPipelineExecution", "trigger-detail": "arn:aws:sts::123456789012:assumed-role/PlatformEngineer/mary.major"},
				"state":             "SUCCEEDED", "version": 3.0, "pipeline-execution-attempt": 1.0,
			},
		}}
	case 1:
		imageARN := fmt.Sprintf("arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/%d", i+1)
		f.AddImage(fakeaws.Image{ARN: imageARN, Status: contract.ImageStatusAvailable, PipelineARN: pipelineARN, RecipeARN: recipeARN,
			DateCreated: "2024-07-01T06:10:42.519Z", AMIs: []fakeaws.AMI{{Region: region, ImageID: amiID(i), AccountID: account, Name: "golden-ami"}}})
		return notification{Kind: "image-state-change", Marker: amiID(i), Message: map[string]any{
			"version": "0", "id": eventID(i), "detail-type": contract.DetailTypeImageStateChange, "source": contract.SourceImageBuilder,
			"account": account, "time": "2024-07-01T06:41:05Z", "region": region,
			"resources": []string{imageARN},
			"detail": map[string]any{
				"previous-state": map[string]string{"status": "INTEGRATING"},
				"state":          map[string]string{"status": contract.ImageStatusAvailable},
			},
		}}
	case 2:
		reason := fmt.Sprintf("parameter %s version %d is %s", upstreamParameter, i+1, amiID(i))
		return notification{Kind: "trigger-decision", Marker: amiID(i), Message: map[string]any{
			"version": "1.0", "timestamp": "2024-07-01T06:00:09.312Z",
			"requestContext": map[string]any{
				"requestId": "c2a6f2ae-7dbb-4d22-8782-d0485c9877e2", "condition": "Success", "approximateInvokeCount": 1,
				"functionArn": "arn:aws:lambda:us-east-1:123456789012:function:golden-ami-imagebuildertrigger:$LATEST",
			},
			"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST"},
			"responsePayload": map[string]string{"decision": "started", "reason": reason,
				"imageBuildVersionArn": fmt.Sprintf("arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/%d", i+1)},
		}}
	default:
		reason := fmt.Sprintf("Threshold Crossed: 1 out of the last 1 datapoints [%d.0 (01/07/24 07:15:00)] was greater than or equal to the threshold (1.0).", i)
		return notification{Kind: "alarm", Marker: fmt.Sprintf("datapoints [%d.0 ", i), Message: map[string]any{
			"AlarmName": "golden-ami-trigger-dlq-not-empty", "AWSAccountId": account,
			"NewStateValue": "ALARM", "OldStateValue": "OK", "NewStateReason": reason,
			"StateChangeTime": "2024-07-01T07:20:14.893+0000", "Region": "US East (N. Virginia)",
			"AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:golden-ami-trigger-dlq-not-empty",
		}}
	}
}

// snsMessageID returns a distinct SNS message id: the notifier does not post
// a message id twice in one execution environment.
func snsMessageID(i int) string { return fmt.Sprintf("5a1b2c00-3c1d-5e2f-9a4b-%012x", i) }

// countMod is how many of the invocations 0..n-1 have i%m == k.
func countMod(n, k, m int) int {
	if n <= k {
		return 0
	}
	return (n-k-1)/m + 1
}

// notifier gets one SNS record per invocation, rotating through four kinds
// of message (see notifierEvent), each with a new message id. Its webhook
// secret points at a local Slack webhook, one per fake. After each
// invocation the webhook must have received exactly one post per invocation
// so far, the last one carrying the invocation's marker. hooks holds the
// webhooks of the scenario's fakes.
func notifierScenario(hooks *webhooks) scenario {
	return scenario{
		Name:    "notifier",
		Package: modulePath + "/lambdas/notifier",
		Env: map[string]string{
			contract.EnvSlackWebhookSecretARN: fakeaws.SecretARN(region, slackSecretName),
		},
		Setup: func(f *fakeaws.Server) {
			h := hooks.start(f)
			f.PutSecret(region, slackSecretName, h.URL())
		},
		Teardown: hooks.stop,
		Event: func(f *fakeaws.Server, i int) ([]byte, func([]byte) error) {
			n := notifierEvent(f, i)
			id := snsMessageID(i)
			ev := mustJSON(map[string]any{"Records": []any{map[string]any{
				"EventSource": "aws:sns", "EventVersion": "1.0",
				"EventSubscriptionArn": notificationTopic + ":4f7c2a1e-9b3d-4c5e-8a6f-1d2e3f4a5b6c",
				"Sns": map[string]any{
					"Type": "Notification", "MessageId": id, "TopicArn": notificationTopic,
					"Message": string(mustJSON(n.Message)), "Timestamp": "2024-07-01T07:20:14.951Z",
					"SignatureVersion": "1", "MessageAttributes": map[string]any{},
				},
			}}})
			return ev, func(body []byte) error {
				var r struct {
					Records []struct {
						MessageID string `json:"messageId"`
						Kind      string `json:"kind"`
						Outcome   string `json:"outcome"`
					} `json:"records"`
				}
				if err := json.Unmarshal(body, &r); err != nil {
					return err
				}
				if len(r.Records) != 1 || r.Records[0].MessageID != id || r.Records[0].Kind != n.Kind || r.Records[0].Outcome != "posted" {
					return fmt.Errorf("want one %s record %s posted", n.Kind, id)
				}
				h, err := hooks.of(f)
				if err != nil {
					return err
				}
				posts, rejected := h.Posts()
				if len(posts) != i+1 || rejected != 0 {
					return fmt.Errorf("Slack webhook accepted %d posts and rejected %d after %d invocations; want %d and 0", len(posts), rejected, i+1, i+1)
				}
				if !strings.Contains(string(posts[i]), n.Marker) {
					return fmt.Errorf("Slack post %s lacks %q", posts[i], n.Marker)
				}
				return nil
			}
		},
		Verify: func(f *fakeaws.Server, n int) error {
			h, err := hooks.of(f)
			if err != nil {
				return err
			}
			if posts, rejected := h.Posts(); len(posts) != n || rejected != 0 {
				return fmt.Errorf("Slack webhook accepted %d posts and rejected %d; want %d (one per invocation) and 0", len(posts), rejected, n)
			}
			// Once per process: n in the cold starts, 1 in the memory run.
			if got := f.CountOK("GetSecretValue"); got < 1 || got > n {
				return fmt.Errorf("GetSecretValue calls = %d, want 1 to %d (once per process)", got, n)
			}
			if got, want := f.CountOK("GetPipelineExecution"), countMod(n, 0, notifierKinds); got != want {
				return fmt.Errorf("GetPipelineExecution calls = %d, want %d", got, want)
			}
			if got, want := f.CountOK("GetImage"), countMod(n, 1, notifierKinds); got != want {
				return fmt.Errorf("GetImage calls = %d, want %d", got, want)
			}
			return nil
		},
		Limits: true,
	}
}

// baseline is the reference floor: aws-lambda-go and nothing else.
func baselineScenario() scenario {
	return scenario{
		Name:    "baseline",
		Package: modulePath + "/internal/bench/lambdabench/baseline",
		Env:     map[string]string{},
		Setup:   func(f *fakeaws.Server) {},
		Event: func(f *fakeaws.Server, i int) ([]byte, func([]byte) error) {
			ev := mustJSON(map[string]int{"n": i})
			return ev, func(body []byte) error {
				if string(body) != string(ev) {
					return errors.New("want the event echoed")
				}
				return nil
			}
		},
		Verify: func(f *fakeaws.Server, n int) error { return nil },
	}
}

// lambdaEnv is the environment Lambda gives a provided.al2023 function,
// with the SDK pointed at the fake. The host environment is not inherited,
// so ~/.aws and AWS_* variables of the machine cannot leak in.
// memoryMiB is the memory the functions are measured at: GoFunction's
// default, and what every function in this repository is deployed with.
const memoryMiB = 128

func lambdaEnv(s scenario, fakeURL, tmp string) []string {
	name := "golden-ami-" + s.Name
	env := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"LAMBDA_TASK_ROOT":                "/var/task",
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"_HANDLER":                        "bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(memoryMiB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2024/07/01/[$LATEST]0123456789abcdef0123456789abcdef",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "INFO",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_ACCESS_KEY_ID":               "AKIDFAKEAWSEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":           "fake-secret-access-key",
		"AWS_SESSION_TOKEN":               "fake-session-token",
		"AWS_ENDPOINT_URL":                fakeURL,
		"AWS_EC2_METADATA_DISABLED":       "true",
		// Lambda has no shared config files; point at files that do not
		// exist so the SDK's lookup costs what it costs there.
		"AWS_CONFIG_FILE":             tmp + "/no-such-config",
		"AWS_SHARED_CREDENTIALS_FILE": tmp + "/no-such-credentials",
	}
	// What constructs/gofunction adds to every function's environment.
	if v, ok := contract.GoMaxProcs(memoryMiB); ok {
		env[contract.EnvGoMaxProcs] = v
	}
	for k, v := range s.Env {
		env[k] = v
		if v == "" { // -env NAME= removes NAME
			delete(env, k)
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func functionARN(s scenario) string {
	return "arn:aws:lambda:us-east-1:123456789012:function:golden-ami-" + s.Name
}

// fake is a fakeaws.Server started outside a test. fakeaws.New only calls
// Helper and Cleanup on its testing.TB; fakeTB provides those and runs the
// cleanups on close.
type fake struct {
	*fakeaws.Server
	tb *fakeTB
}

type fakeTB struct {
	testing.TB // nil: any other method panics, which would be a bug here
	cleanups   []func()
}

func (t *fakeTB) Helper()          {}
func (t *fakeTB) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

func newFake() *fake {
	tb := &fakeTB{}
	return &fake{Server: fakeaws.New(tb), tb: tb}
}

func (f *fake) close() {
	for i := len(f.tb.cleanups) - 1; i >= 0; i-- {
		f.tb.cleanups[i]()
	}
}
