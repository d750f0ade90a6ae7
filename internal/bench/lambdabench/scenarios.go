package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	return []scenario{amimonitorScenario(), imagebuildertriggerScenario(), latestamiScenario(), baselineScenario()}
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
// parameter after every new version, and starts one execution per version.
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
			f.SetParameter(region, upstreamParameter, amiID(i))
			ev := mustJSON(map[string]any{
				"version": "0", "id": eventID(i), "detail-type": contract.DetailTypeParameterChange, "source": contract.SourceSSM,
				"account": account, "time": "2024-07-01T06:00:04Z", "region": region,
				"resources": []string{"arn:aws:ssm:us-east-1:123456789012:parameter/golden-ami/upstream"},
				"detail": map[string]string{
					"operation": contract.OperationUpdate, "name": upstreamParameter, "type": "String",
					"dataType": contract.DataTypeEC2Image, "description": "Upstream AMI the golden recipe builds on",
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
			if got := f.CountOK("GetParameter"); got != n {
				return fmt.Errorf("GetParameter calls = %d, want %d", got, n)
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
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
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
	for k, v := range s.Env {
		env[k] = v
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
