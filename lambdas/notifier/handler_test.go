package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

const (
	secretARN   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:golden-ami/slack-webhook-AbCdEf"
	webhookPath = "/services/T0GOLDEN1/B0AMI0001/Zx9sQ2vN7kLm4PqR8tYw3HcJ"
	webhookTok  = "Zx9sQ2vN7kLm4PqR8tYw3HcJ"
	pipeline    = "golden-ami-delivery"
	executionID = "0b6a7c9e-1d2f-4e3a-8b5c-6d7e8f9a0b1c"
	imageARN4   = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/4"
	imageARN5   = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/5"
	commitSHA   = "9f3c1e2d4b5a69788766554433221100ffeeddcc"
	commitURL   = "https://github.com/platform-eng/golden-ami/commit/9f3c1e2d4b5a69788766554433221100ffeeddcc"
	execURL     = "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/golden-ami-delivery/executions/0b6a7c9e-1d2f-4e3a-8b5c-6d7e8f9a0b1c/timeline?region=us-east-1"
)

func apiErr(service, op, code, msg string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &smithy.GenericAPIError{Code: code, Message: msg}}
}

func loadEvent(t testing.TB, name string) events.SNSEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// Function-type fakes with the SDK's signatures.

type getSecretValueFunc func(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)

func (f getSecretValueFunc) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(ctx, in, optFns...)
}

type getImageFunc func(ctx context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error)

func (f getImageFunc) GetImage(ctx context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error) {
	return f(ctx, in, optFns...)
}

type getPipelineExecutionFunc func(ctx context.Context, in *codepipeline.GetPipelineExecutionInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineExecutionOutput, error)

func (f getPipelineExecutionFunc) GetPipelineExecution(ctx context.Context, in *codepipeline.GetPipelineExecutionInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineExecutionOutput, error) {
	return f(ctx, in, optFns...)
}

// calls counts the AWS calls the fakes answered.
type calls struct {
	mu                                         sync.Mutex
	secret, image, execution                   int
	imageARN, imageRegion                      string
	executionPipeline, executionID, execRegion string
}

func secretIs(value string, c *calls) getSecretValueFunc {
	return func(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.secret++
		if aws.ToString(in.SecretId) != secretARN {
			return nil, apiErr("Secrets Manager", "GetSecretValue", "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		}
		return &secretsmanager.GetSecretValueOutput{ARN: in.SecretId, SecretString: aws.String(value), VersionId: aws.String("v1")}, nil
	}
}

// imageAvailable4 is what GetImage says of build 4, as in
// testdata/imagebuilder-notification-available.json.
func imageAvailable4() *ibtypes.Image {
	return &ibtypes.Image{
		Arn: aws.String(imageARN4), Name: aws.String("golden-ami-recipe"), Version: aws.String("1.2.0"),
		State:              &ibtypes.ImageState{Status: ibtypes.ImageStatusAvailable},
		SourcePipelineArn:  aws.String("arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden-ami"),
		SourcePipelineName: aws.String("golden-ami"),
		OutputResources: &ibtypes.OutputResources{Amis: []ibtypes.Ami{
			{Region: aws.String("us-east-1"), Image: aws.String("ami-0123456789abcdef0"), AccountId: aws.String("123456789012")},
			{Region: aws.String("us-east-1"), Image: aws.String("ami-0fedcba9876543210"), AccountId: aws.String("210987654321")},
			{Region: aws.String("eu-west-1"), Image: aws.String("ami-0a1b2c3d4e5f60718"), AccountId: aws.String("123456789012")},
		}},
	}
}

func imagesAre(c *calls, byARN map[string]*ibtypes.Image) getImageFunc {
	return func(_ context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error) {
		var o imagebuilder.Options
		for _, f := range optFns {
			f(&o)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.image++
		c.imageARN, c.imageRegion = aws.ToString(in.ImageBuildVersionArn), o.Region
		img, ok := byARN[c.imageARN]
		if !ok {
			return nil, apiErr("imagebuilder", "GetImage", "ResourceNotFoundException", "image not found")
		}
		return &imagebuilder.GetImageOutput{Image: img}, nil
	}
}

func executionIs(c *calls, e *cptypes.PipelineExecution, err error) getPipelineExecutionFunc {
	return func(_ context.Context, in *codepipeline.GetPipelineExecutionInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineExecutionOutput, error) {
		var o codepipeline.Options
		for _, f := range optFns {
			f(&o)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.execution++
		c.executionPipeline, c.executionID, c.execRegion = aws.ToString(in.PipelineName), aws.ToString(in.PipelineExecutionId), o.Region
		if err != nil {
			return nil, err
		}
		return &codepipeline.GetPipelineExecutionOutput{PipelineExecution: e}, nil
	}
}

func failedExecution() *cptypes.PipelineExecution {
	return &cptypes.PipelineExecution{
		PipelineName: aws.String(pipeline), PipelineExecutionId: aws.String(executionID), Status: cptypes.PipelineExecutionStatusFailed,
		ArtifactRevisions: []cptypes.ArtifactRevision{{
			Name: aws.String("Source"), RevisionId: aws.String(commitSHA),
			RevisionSummary: aws.String(`{"ProviderType":"GitHub","CommitMessage":"Pin the STIG component to 2.1.0\n\nThe 2.2.0 release breaks sshd."}`),
			RevisionUrl:     aws.String(commitURL),
		}},
	}
}

// slackServer stands in for Slack: it answers each POST with the next
// scripted response (then 200 "ok") and records every body it accepted.
type slackServer struct {
	*httptest.Server
	mu        sync.Mutex
	script    []slackResponse
	attempts  int
	delivered []slackPayload
	paths     []string
}

type slackResponse struct {
	status     int
	body       string
	retryAfter string
	location   string
}

func newSlack(t testing.TB, script ...slackResponse) *slackServer {
	t.Helper()
	s := &slackServer{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.attempts++
		s.paths = append(s.paths, r.URL.Path)
		resp := slackResponse{status: http.StatusOK, body: "ok"}
		if len(s.script) > 0 {
			resp, s.script = s.script[0], s.script[1:]
		}
		if resp.status/100 == 2 {
			var p slackPayload
			if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &p) != nil {
				http.Error(w, "invalid_payload", http.StatusBadRequest)
				return
			}
			s.delivered = append(s.delivered, p)
		}
		if resp.retryAfter != "" {
			w.Header().Set("Retry-After", resp.retryAfter)
		}
		if resp.location != "" {
			w.Header().Set("Location", resp.location)
		}
		w.WriteHeader(resp.status)
		_, _ = io.WriteString(w, resp.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *slackServer) webhook() string { return s.URL + webhookPath }

// postedPaths are the URL paths of every POST the server received, in order.
func (s *slackServer) postedPaths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

func (s *slackServer) counts() (attempts int, delivered []slackPayload) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts, append([]slackPayload(nil), s.delivered...)
}

func fastPoster() *SlackPoster {
	p := newSlackPoster()
	p.Backoff = time.Millisecond
	p.MaxRetryAfter = 20 * time.Millisecond
	return p
}

// shown is a delivered message reduced to what a person reads.
type shown struct {
	Text    string
	Fields  []string // "Title: value"
	Detail  string
	Context string
}

func show(t testing.TB, p slackPayload) shown {
	t.Helper()
	var s shown
	s.Text = p.Text
	for i, b := range p.Blocks {
		switch {
		case i == 0:
			if b.Type != "section" || b.Text == nil || b.Text.Type != "mrkdwn" || b.Text.Text != p.Text {
				t.Errorf("block 0 = %+v, want a mrkdwn section repeating the text", b)
			}
		case b.Type == "section" && b.Fields != nil:
			for _, f := range b.Fields {
				title, value, _ := strings.Cut(f.Text, "\n")
				s.Fields = append(s.Fields, strings.Trim(title, "*")+": "+value)
			}
		case b.Type == "section" && b.Text != nil:
			s.Detail = b.Text.Text
		case b.Type == "context" && len(b.Elements) == 1:
			s.Context = b.Elements[0].Text
		default:
			t.Errorf("unexpected block %+v", b)
		}
	}
	return s
}

func TestMessagesFromRealSamples(t *testing.T) {
	trigger := "Lambda function golden-ami-dev-trigger in 123456789012/us-east-1 at "
	amis := "*AMIs*\n• us-east-1: `ami-0123456789abcdef0`\n• us-east-1: `ami-0fedcba9876543210` (account 210987654321)\n• eu-west-1: `ami-0a1b2c3d4e5f60718`"
	imageFields := func(version, state string, extra ...string) []string {
		f := []string{"Image: golden-ami-recipe", "Version: " + version, "State: " + state}
		return append(append(f, extra...), "Account: 123456789012", "Region: us-east-1")
	}
	for _, tc := range []struct {
		event         string
		execution     *cptypes.PipelineExecution
		executionErr  error
		images        map[string]*ibtypes.Image
		kind          string
		want          shown
		wantImageCall bool
		wantExecCall  bool
	}{
		{
			event: "codepipeline-execution-failed.json", execution: failedExecution(), kind: KindPipelineExecution, wantExecCall: true,
			want: shown{
				Text: ":x: CodePipeline *golden-ami-delivery* failed",
				Fields: []string{"Pipeline: golden-ami-delivery", "State: FAILED", "Account: 123456789012", "Region: us-east-1",
					"Execution: <" + execURL + "|" + executionID + ">",
					"Commit: <" + commitURL + "|9f3c1e2> Pin the STIG component to 2.1.0"},
				Context: "<" + execURL + "|Open this execution in the CodePipeline console>",
			},
		},
		{
			// GetPipelineExecution is denied: the commit comes from the
			// event's Git trigger, escaped for Slack.
			event: "codepipeline-execution-succeeded-git-tag.json", kind: KindPipelineExecution, wantExecCall: true,
			executionErr: apiErr("CodePipeline", "GetPipelineExecution", "AccessDeniedException", "not authorized"),
			want: shown{
				Text: ":white_check_mark: CodePipeline *golden-ami-delivery* succeeded",
				Fields: []string{"Pipeline: golden-ami-delivery", "State: SUCCEEDED", "Account: 123456789012", "Region: us-east-1",
					"Execution: <https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/golden-ami-delivery/executions/e17b5773-cc0d-4db2-9ad7-594c73888de8/timeline?region=us-east-1|e17b5773-cc0d-4db2-9ad7-594c73888de8>",
					"Commit: `4c2a7e9` Release 1.3.0: CIS level 2 &lt;hardening&gt; &amp; SSM agent pin"},
				Context: "<https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/golden-ami-delivery/executions/e17b5773-cc0d-4db2-9ad7-594c73888de8/timeline?region=us-east-1|Open this execution in the CodePipeline console>",
			},
		},
		{
			event: "codepipeline-approval-waiting.json", execution: failedExecution(), kind: KindApproval, wantExecCall: true,
			want: shown{
				Text: ":raised_hand: CodePipeline *golden-ami-delivery* is waiting for approval (stage Approve, action ApproveProduction)",
				Fields: []string{"Pipeline: golden-ami-delivery", "Stage: Approve", "Action: ApproveProduction", "State: STARTED",
					"Account: 123456789012", "Region: us-east-1", "Execution: <" + execURL + "|" + executionID + ">",
					"Commit: <" + commitURL + "|9f3c1e2> Pin the STIG component to 2.1.0"},
				Context: "<https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/golden-ami-delivery/view?region=us-east-1|Review it in the CodePipeline console>",
			},
		},
		{
			event: "imagebuilder-state-available.json", images: map[string]*ibtypes.Image{imageARN4: imageAvailable4()}, kind: KindImageStateChange, wantImageCall: true,
			want: shown{
				Text:    ":white_check_mark: Image *golden-ami-recipe 1.2.0/4* is available",
				Fields:  imageFields("1.2.0/4", "AVAILABLE", "Pipeline: golden-ami"),
				Detail:  amis,
				Context: "Image " + imageARN4,
			},
		},
		{
			// GetImage fails: the message still goes out, saying the AMIs
			// are unknown.
			event: "imagebuilder-state-available.json", images: map[string]*ibtypes.Image{}, kind: KindImageStateChange, wantImageCall: true,
			want: shown{
				Text:    ":white_check_mark: Image *golden-ami-recipe 1.2.0/4* is available",
				Fields:  imageFields("1.2.0/4", "AVAILABLE"),
				Detail:  "*AMIs*\nunknown: Image Builder's GetImage failed (see the notifier's log)",
				Context: "Image " + imageARN4,
			},
		},
		{
			event: "imagebuilder-state-failed.json", kind: KindImageStateChange, wantImageCall: true,
			images: map[string]*ibtypes.Image{imageARN5: {Arn: aws.String(imageARN5), SourcePipelineName: aws.String("golden-ami"),
				State: &ibtypes.ImageState{Status: ibtypes.ImageStatusFailed, Reason: aws.String("from GetImage, not shown: the event has a reason")}}},
			want: shown{
				Text:    ":x: Image *golden-ami-recipe 1.2.0/5* failed",
				Fields:  imageFields("1.2.0/5", "FAILED", "Pipeline: golden-ami"),
				Detail:  "*Reason*\nImage Failure reason: component golden-ami-hardening failed in step harden: exit status 1 (see &lt;log group&gt; &amp; stream).",
				Context: "Image " + imageARN5,
			},
		},
		{
			event: "imagebuilder-notification-available.json", kind: KindImageNotification,
			want: shown{
				Text:    ":white_check_mark: Image *golden-ami-recipe 1.2.0/4* is available",
				Fields:  imageFields("1.2.0/4", "AVAILABLE", "Pipeline: golden-ami"),
				Detail:  amis,
				Context: "Image " + imageARN4,
			},
		},
		{
			event: "imagebuilder-notification-failed.json", kind: KindImageNotification,
			want: shown{
				Text:    ":x: Image *golden-ami-recipe 1.2.0/5* failed",
				Fields:  imageFields("1.2.0/5", "FAILED", "Pipeline: golden-ami"),
				Detail:  "*Reason*\nImage Failure reason: component golden-ami-hardening failed in step harden.",
				Context: "Image " + imageARN5,
			},
		},
		{
			event: "trigger-started.json", kind: KindTriggerDecision,
			want: shown{
				Text:    ":rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/7*: parameter /golden-ami/upstream version 3 is ami-0bbbbbbbbbbbbbbb0",
				Context: trigger + "2024-07-01T06:00:09.312Z",
			},
		},
		{
			event: "trigger-already-started.json", kind: KindTriggerDecision,
			want: shown{
				Text:    ":repeat: *golden-ami-dev-trigger* found the build already started: client token 5f0c7d1e9a2b4c3d8e6f7a1b2c3d4e5f was already used for parameter /golden-ami/upstream version 3",
				Context: trigger + "2024-07-01T06:00:09.312Z",
			},
		},
		{
			event: "trigger-ignored.json", kind: KindTriggerDecision,
			want: shown{
				Text:    ":information_source: *golden-ami-dev-trigger* ignored an event: operation Delete does not create a new value",
				Context: trigger + "2024-07-01T06:00:09.312Z",
			},
		},
		{
			event: "trigger-retries-exhausted.json", kind: KindTriggerDecision,
			want: shown{
				Text: ":x: *golden-ami-dev-trigger* failed (RetriesExhausted, 3 attempts): start image pipeline arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden-ami " +
					"for parameter /golden-ami/upstream version 3 (client token 5f0c7d1e9a2b4c3d8e6f7a1b2c3d4e5f): operation error imagebuilder: StartImagePipelineExecution, " +
					"exceeded maximum number of attempts, 5, https response error StatusCode: 429, RequestID: 8b1f5c2e-0d3a-4e6b-9c7d-1a2b3c4d5e6f, CallRateLimitExceededException: Rate exceeded",
				Context: trigger + "2024-07-01T06:03:12.018Z",
			},
		},
		{
			event: "alarm-dlq-alarm.json", kind: KindAlarm,
			want: shown{
				Text:    ":rotating_light: Alarm *golden-ami-dev-trigger-dlq-not-empty* is ALARM (was OK)",
				Detail:  "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (01/07/24 07:15:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -&gt; ALARM transition).",
				Context: "Account 123456789012 · us-east-1 · <https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/golden-ami-dev-trigger-dlq-not-empty|Open in the CloudWatch console>",
			},
		},
		{
			event: "alarm-dlq-ok.json", kind: KindAlarm,
			want: shown{
				Text:    ":white_check_mark: Alarm *golden-ami-dev-trigger-dlq-not-empty* is OK (was ALARM)",
				Detail:  "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (01/07/24 08:15:00)] was not greater than or equal to the threshold (1.0) (minimum 1 datapoint for ALARM -&gt; OK transition).",
				Context: "Account 123456789012 · us-east-1 · <https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/golden-ami-dev-trigger-dlq-not-empty|Open in the CloudWatch console>",
			},
		},
	} {
		t.Run(tc.event, func(t *testing.T) {
			slack := newSlack(t)
			var c calls
			h := &Handler{
				SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c),
				Images: imagesAre(&c, tc.images), Executions: executionIs(&c, tc.execution, tc.executionErr),
				Slack: fastPoster(),
			}
			ev := loadEvent(t, tc.event)
			res, err := h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			want := []RecordResult{{MessageID: ev.Records[0].SNS.MessageID, Kind: tc.kind, Outcome: OutcomePosted, Reason: tc.want.Text}}
			if !reflect.DeepEqual(res.Records, want) {
				t.Errorf("result = %+v\nwant %+v", res.Records, want)
			}
			attempts, delivered := slack.counts()
			if attempts != 1 || len(delivered) != 1 {
				t.Fatalf("Slack attempts = %d, delivered = %d; want 1 and 1", attempts, len(delivered))
			}
			got := show(t, delivered[0])
			if got.Text != tc.want.Text {
				t.Errorf("text\n got %q\nwant %q", got.Text, tc.want.Text)
			}
			if !reflect.DeepEqual(got.Fields, tc.want.Fields) {
				t.Errorf("fields\n got %q\nwant %q", got.Fields, tc.want.Fields)
			}
			if got.Detail != tc.want.Detail {
				t.Errorf("detail\n got %q\nwant %q", got.Detail, tc.want.Detail)
			}
			if got.Context != tc.want.Context {
				t.Errorf("context\n got %q\nwant %q", got.Context, tc.want.Context)
			}
			if c.secret != 1 {
				t.Errorf("GetSecretValue calls = %d, want 1", c.secret)
			}
			if (c.image == 1) != tc.wantImageCall || c.image > 1 {
				t.Errorf("GetImage calls = %d, want call: %v", c.image, tc.wantImageCall)
			}
			if tc.wantImageCall && (c.imageRegion != "us-east-1" || !strings.HasPrefix(c.imageARN, "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/1.2.0/")) {
				t.Errorf("GetImage(%s) in %q; want the event's image in us-east-1", c.imageARN, c.imageRegion)
			}
			if (c.execution == 1) != tc.wantExecCall || c.execution > 1 {
				t.Errorf("GetPipelineExecution calls = %d, want call: %v", c.execution, tc.wantExecCall)
			}
			if tc.wantExecCall && (c.executionPipeline != pipeline || c.execRegion != "us-east-1" || c.executionID == "") {
				t.Errorf("GetPipelineExecution(%s, %s) in %q", c.executionPipeline, c.executionID, c.execRegion)
			}
		})
	}
}

// The rendered payload has the exact Block Kit structure Slack expects.
func TestRenderBlockKit(t *testing.T) {
	body, err := render(message{Text: "head", Fields: []field{{"A", "1"}, {"B", "2"}}, Detail: "more", Context: "ctx"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"text":"head","blocks":[` +
		`{"type":"section","text":{"type":"mrkdwn","text":"head"}},` +
		`{"type":"section","fields":[{"type":"mrkdwn","text":"*A*\n1"},{"type":"mrkdwn","text":"*B*\n2"}]},` +
		`{"type":"section","text":{"type":"mrkdwn","text":"more"}},` +
		`{"type":"context","elements":[{"type":"mrkdwn","text":"ctx"}]}]}`
	if string(body) != want {
		t.Errorf("render =\n%s\nwant\n%s", body, want)
	}
	// A headline alone is one block; long values are cut to Slack's limits.
	long := strings.Repeat("é", 5000)
	body, _ = render(message{Text: long, Fields: make([]field, 12)})
	var p slackPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(p.Text)); n != maxTextRunes || !strings.HasSuffix(p.Text, "…") {
		t.Errorf("text has %d runes, want %d ending in an ellipsis", n, maxTextRunes)
	}
	if len(p.Blocks) != 2 || len(p.Blocks[1].Fields) != maxFields {
		t.Errorf("blocks = %d, fields = %d; want 2 blocks and %d fields", len(p.Blocks), len(p.Blocks[1].Fields), maxFields)
	}
}

func TestSkippedMessagesPostNothingAndReadNothing(t *testing.T) {
	for _, tc := range []struct {
		event, kind, reason string
	}{
		{"unknown-not-json.json", KindUnknown, `the message is not a JSON object: "Hello from the SNS console: testing the golden AMI notifications"...`},
		{"unknown-s3-test-event.json", KindUnknown, "the message is not a CodePipeline or Image Builder event, an Image Builder notification, a Lambda destination record or a CloudWatch alarm"},
		{"unknown-ec2-state-change.json", KindUnknown, `EventBridge event aws.ec2/"EC2 Instance State-change Notification" is not one the notifier formats`},
		{"codepipeline-stage-started.json", KindPipelineOther, `CodePipeline "CodePipeline Stage Execution State Change" events are not notified`},
		{"codepipeline-action-build-failed.json", KindPipelineOther, `action "Synth" (category "Build") is not an approval`},
		{"imagebuilder-state-building.json", KindImageStateChange, "image " + imageARN5 + " is BUILDING, not a final state (AVAILABLE, FAILED or CANCELLED)"},
	} {
		t.Run(tc.event, func(t *testing.T) {
			slack := newSlack(t)
			var c calls
			h := &Handler{SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c), Images: imagesAre(&c, nil),
				Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
			ev := loadEvent(t, tc.event)
			res, err := h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			want := []RecordResult{{MessageID: ev.Records[0].SNS.MessageID, Kind: tc.kind, Outcome: OutcomeSkipped, Reason: tc.reason}}
			if !reflect.DeepEqual(res.Records, want) {
				t.Errorf("result = %+v\nwant %+v", res.Records, want)
			}
			if attempts, _ := slack.counts(); attempts != 0 || c.secret+c.image+c.execution != 0 {
				t.Errorf("Slack attempts = %d, AWS calls = %d secret, %d image, %d execution; want none", attempts, c.secret, c.image, c.execution)
			}
		})
	}
}

func TestMalformedEventsAreErrorsNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		event, wantErr string
	}{
		{"malformed-no-records.json", `malformed SNS event: field "Records" is empty`},
		{"malformed-empty-message.json", `malformed SNS event: field "Records[0].Sns.Message" is empty (message 5a1b2c15-3c1d-5e2f-9a4b-6d7e8f9a0b15)`},
		{"malformed-sqs-record.json", `malformed SNS event: field "Records[0].EventSource" is "aws:sqs", want "aws:sns"`},
		{"codepipeline-missing-execution-id.json", `Records[0] (SNS message 5a1b2c06-3c1d-5e2f-9a4b-6d7e8f9a0b06, codepipeline-execution): field "detail.execution-id" is empty or not a string`},
	} {
		t.Run(tc.event, func(t *testing.T) {
			slack := newSlack(t)
			var c calls
			h := &Handler{SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c), Images: imagesAre(&c, nil),
				Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
			_, err := h.Handle(context.Background(), loadEvent(t, tc.event))
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
			}
			if attempts, _ := slack.counts(); attempts != 0 || c.secret+c.image+c.execution != 0 {
				t.Errorf("Slack attempts = %d, AWS calls = %d secret, %d image, %d execution; want none", attempts, c.secret, c.image, c.execution)
			}
		})
	}
}

// Two records, the second undeliverable: the first is posted, the error
// names the second, and a redelivery of the whole event (Lambda's retry)
// does not post the first again.
func TestPartialFailureThenRedelivery(t *testing.T) {
	slack := newSlack(t, slackResponse{status: 200, body: "ok"}, slackResponse{status: 404, body: "no_service"})
	var c calls
	h := &Handler{SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c), Images: imagesAre(&c, nil),
		Executions: executionIs(&c, failedExecution(), nil), Slack: fastPoster()}
	ev := loadEvent(t, "alarm-dlq-alarm.json")
	ev.Records = append(ev.Records, loadEvent(t, "trigger-started.json").Records...)
	alarmID, triggerID := ev.Records[0].SNS.MessageID, ev.Records[1].SNS.MessageID

	res, err := h.Handle(context.Background(), ev)
	wantErr := "Records[1] (SNS message " + triggerID + `, trigger-decision): slack webhook: HTTP 404 Not Found: "no_service"; not retried; re-read webhook secret ` + secretARN + ": its URL is unchanged"
	if err == nil || err.Error() != wantErr {
		t.Fatalf("error = %v\nwant %s", err, wantErr)
	}
	if len(res.Records) != 2 || res.Records[0].Outcome != OutcomePosted || res.Records[1].Outcome != OutcomeFailed {
		t.Errorf("result = %+v, want posted then failed", res.Records)
	}

	res, err = h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	want := []RecordResult{
		{MessageID: alarmID, Kind: KindAlarm, Outcome: OutcomeSkipped, Reason: "SNS message " + alarmID + " was already posted by this execution environment (a redelivery)"},
		{MessageID: triggerID, Kind: KindTriggerDecision, Outcome: OutcomePosted, Reason: ":rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/7*: parameter /golden-ami/upstream version 3 is ami-0bbbbbbbbbbbbbbb0"},
	}
	if !reflect.DeepEqual(res.Records, want) {
		t.Errorf("redelivery result = %+v\nwant %+v", res.Records, want)
	}
	attempts, delivered := slack.counts()
	if attempts != 3 || len(delivered) != 2 || !strings.HasPrefix(delivered[0].Text, ":rotating_light:") || !strings.HasPrefix(delivered[1].Text, ":rocket:") {
		t.Errorf("Slack attempts = %d, delivered = %+v; want 3 attempts delivering the alarm, then the trigger line once", attempts, delivered)
	}
	if c.secret != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2 (the first read, and a re-read after the 404)", c.secret)
	}
}

func TestWebhookSecretProblemsFailWithoutEchoingIt(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
		binary       bool
		readErr      error
		wantErr      string
	}{
		{name: "empty", secret: "  ", wantErr: "webhook secret " + secretARN + ": the secret is empty"},
		{name: "plain http to a real host", secret: "http://hooks.example.com" + webhookPath,
			wantErr: "webhook secret " + secretARN + ": the webhook URL uses plain http to a host that is not loopback (want https)"},
		{name: "not a URL", secret: "xoxb-" + webhookTok, wantErr: "webhook secret " + secretARN + ": the webhook URL is not an https URL"},
		{name: "broken JSON", secret: `{"webhookUrl": "https://hooks.example.com` + webhookPath + `"`,
			wantErr: "webhook secret " + secretARN + `: the secret starts with "{" but is not a JSON object whose "webhookUrl" is a string`},
		{name: "JSON without webhookUrl", secret: `{"url": "https://hooks.example.com` + webhookPath + `"}`,
			wantErr: "webhook secret " + secretARN + `: the secret is a JSON object without a "webhookUrl"`},
		{name: "user info", secret: "https://user:" + webhookTok + "@hooks.example.com/x",
			wantErr: "webhook secret " + secretARN + ": the webhook URL carries user info (want https://hooks.slack.com/services/...)"},
		{name: "binary", binary: true, wantErr: "webhook secret " + secretARN + " has no SecretString (a binary secret is not supported)"},
		{name: "access denied", readErr: apiErr("Secrets Manager", "GetSecretValue", "AccessDeniedException", "not authorized to perform secretsmanager:GetSecretValue"),
			wantErr: "read webhook secret " + secretARN + ": operation error Secrets Manager: GetSecretValue, api error AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reads := 0
			h := &Handler{SecretARN: secretARN, Slack: fastPoster(),
				Secrets: getSecretValueFunc(func(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
					reads++
					if tc.readErr != nil {
						return nil, tc.readErr
					}
					if tc.binary {
						return &secretsmanager.GetSecretValueOutput{SecretBinary: []byte(tc.secret)}, nil
					}
					return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(tc.secret)}, nil
				})}
			for i := 1; i <= 2; i++ {
				_, err := h.Handle(context.Background(), loadEvent(t, "alarm-dlq-alarm.json"))
				want := "Records[0] (SNS message 5a1b2c10-3c1d-5e2f-9a4b-6d7e8f9a0b10, alarm): " + tc.wantErr
				if err == nil || err.Error() != want {
					t.Fatalf("invocation %d: error = %v\nwant %s", i, err, want)
				}
				if strings.Contains(err.Error(), webhookTok) || strings.Contains(err.Error(), "hooks.example.com") {
					t.Errorf("error echoes the secret: %v", err)
				}
			}
			if reads != 2 {
				t.Errorf("secret reads = %d, want 2 (a failed read is not cached)", reads)
			}
		})
	}
}

func TestParseWebhookSecret(t *testing.T) {
	for _, tc := range []struct{ secret, want string }{
		{"https://hooks.slack.com/services/T0/B0/x", "https://hooks.slack.com/services/T0/B0/x"},
		{"  https://hooks.slack.com/services/T0/B0/x\n", "https://hooks.slack.com/services/T0/B0/x"},
		{`{"webhookUrl":"https://hooks.slack.com/services/T0/B0/x","channel":"#golden-ami"}`, "https://hooks.slack.com/services/T0/B0/x"},
		{"http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"},
		{"http://localhost/hook", "http://localhost/hook"},
		{"http://[::1]:9/hook", "http://[::1]:9/hook"},
	} {
		got, err := parseWebhookSecret(tc.secret)
		if err != nil || got != tc.want {
			t.Errorf("parseWebhookSecret(%q) = %q, %v; want %q", tc.secret, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		secret string
		want   error
	}{
		{"", errSecretEmpty},
		{"http://10.0.0.1/hook", errURLPlainHTTP},
		{"ftp://hooks.slack.com/x", errURLScheme},
		{"hooks.slack.com/services/T0/B0/x", errURLScheme},
		{"https:///services/x", errURLNoHost},
		{"https://%zz", errURLParse},
		{`{"webhookUrl": 42}`, errSecretJSON},
		{`{"webhookUrl": ""}`, errSecretNoWebhookURL},
		{`{}`, errSecretNoWebhookURL},
	} {
		if _, err := parseWebhookSecret(tc.secret); !errors.Is(err, tc.want) {
			t.Errorf("parseWebhookSecret(%q) error = %v, want %v", tc.secret, err, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		h    string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"-3", 0}, {"soon", 0}, {"2", 2 * time.Second}, {"30", 5 * time.Second},
		{"99999999999999999999", 0}, {"9223372036", 5 * time.Second},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0},
		{time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 5 * time.Second},
	} {
		if got := retryAfter(tc.h, 5*time.Second); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	u := "https://hooks.slack.com" + webhookPath + "?x=secretquery"
	for _, s := range []string{
		`Post "` + u + `": EOF`,
		"path " + webhookPath + " and token " + webhookTok + " and query x=secretquery",
	} {
		got := redact(s, u)
		if strings.Contains(got, webhookTok) || strings.Contains(got, "secretquery") || strings.Contains(got, webhookPath) {
			t.Errorf("redact(%q) = %q still has the secret", s, got)
		}
	}
	if got := redact(`Post "`+u+`": EOF`, u); got != `Post "[webhook URL]": EOF` {
		t.Errorf("redact = %q", got)
	}
}

// secretsInTurn answers GetSecretValue with the given results in turn (the
// last one repeats) and counts the reads in c.secret. A result is a secret
// value or an error.
func secretsInTurn(c *calls, results ...any) getSecretValueFunc {
	return func(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		r := results[min(c.secret, len(results)-1)]
		c.secret++
		if err, ok := r.(error); ok {
			return nil, err
		}
		return &secretsmanager.GetSecretValueOutput{ARN: in.SecretId, SecretString: aws.String(r.(string)), VersionId: aws.String("v" + string(rune('0'+c.secret)))}, nil
	}
}

// Slack answering 403, 404 or 410 means the cached webhook was revoked or
// rotated: the secret is read again, once, and a new URL gets the message
// once. Slack accepted nothing in those answers, so nothing is posted twice.
func TestRejectedWebhookRereadsTheSecretOnce(t *testing.T) {
	const rotatedPath = "/services/T0GOLDEN1/B0AMI0002/Rt5uV6wX7yZ8aB9cD0eF1gH2"
	rejected := `slack webhook: HTTP 404 Not Found: "no_service"; not retried`
	for _, tc := range []struct {
		name    string
		rotated bool  // whether the second read finds a new URL
		readErr error // the second read's error, if any
		script  []slackResponse
		wantErr string // after "Records[0] (SNS message ..., alarm): "; "" when posted
		// wantPaths are the webhook paths POSTed to, in order.
		wantPaths []string
	}{
		{
			name: "404 no_service, rotated secret", rotated: true,
			script:    []slackResponse{{status: 404, body: "no_service"}},
			wantPaths: []string{webhookPath, rotatedPath},
		},
		{
			name: "403 invalid_token, rotated secret", rotated: true,
			script:    []slackResponse{{status: 403, body: "invalid_token"}},
			wantPaths: []string{webhookPath, rotatedPath},
		},
		{
			name: "410 channel archived, rotated secret", rotated: true,
			script:    []slackResponse{{status: 410, body: "channel_is_archived"}},
			wantPaths: []string{webhookPath, rotatedPath},
		},
		{
			// The new URL gets the usual bounded retries.
			name: "rotated secret, new URL answers 500 then accepts", rotated: true,
			script:    []slackResponse{{status: 404, body: "no_service"}, {status: 500, body: "rollup_error"}},
			wantPaths: []string{webhookPath, rotatedPath, rotatedPath},
		},
		{
			name:      "same URL still 404",
			script:    []slackResponse{{status: 404, body: "no_service"}},
			wantErr:   rejected + "; re-read webhook secret " + secretARN + ": its URL is unchanged",
			wantPaths: []string{webhookPath},
		},
		{
			name: "rotated secret, new URL rejected too", rotated: true,
			script:    []slackResponse{{status: 404, body: "no_service"}, {status: 410, body: "channel_is_archived"}},
			wantErr:   rejected + "; re-read webhook secret " + secretARN + `: its new URL failed too: slack webhook: HTTP 410 Gone: "channel_is_archived"; not retried`,
			wantPaths: []string{webhookPath, rotatedPath},
		},
		{
			name:    "re-read denied",
			readErr: apiErr("Secrets Manager", "GetSecretValue", "AccessDeniedException", "not authorized"),
			script:  []slackResponse{{status: 404, body: "no_service"}},
			wantErr: rejected + "; re-reading the webhook secret failed: read webhook secret " + secretARN +
				": operation error Secrets Manager: GetSecretValue, api error AccessDeniedException: not authorized",
			wantPaths: []string{webhookPath},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slack := newSlack(t, tc.script...)
			var second any = slack.webhook()
			switch {
			case tc.readErr != nil:
				second = tc.readErr
			case tc.rotated:
				second = slack.URL + rotatedPath
			}
			var c calls
			h := &Handler{SecretARN: secretARN, Secrets: secretsInTurn(&c, slack.webhook(), second),
				Images: imagesAre(&c, nil), Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
			ev := loadEvent(t, "alarm-dlq-alarm.json")

			res, err := h.Handle(context.Background(), ev)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Handle: %v", err)
				}
				if res.Records[0].Outcome != OutcomePosted {
					t.Errorf("result = %+v, want posted", res.Records)
				}
			} else {
				want := "Records[0] (SNS message " + ev.Records[0].SNS.MessageID + ", alarm): " + tc.wantErr
				if err == nil || err.Error() != want {
					t.Fatalf("error = %v\nwant %s", err, want)
				}
				if strings.Contains(err.Error(), slack.URL) || strings.Contains(err.Error(), webhookTok) || strings.Contains(err.Error(), "Rt5uV6wX7yZ8aB9cD0eF1gH2") {
					t.Errorf("error names a webhook: %v", err)
				}
				if res.Records[0].Outcome != OutcomeFailed {
					t.Errorf("result = %+v, want failed", res.Records)
				}
			}
			paths := slack.postedPaths()
			if !reflect.DeepEqual(paths, tc.wantPaths) {
				t.Errorf("POSTed to %q, want %q", paths, tc.wantPaths)
			}
			_, delivered := slack.counts()
			if wantDelivered := map[bool]int{true: 1, false: 0}[tc.wantErr == ""]; len(delivered) != wantDelivered {
				t.Errorf("delivered = %d, want %d", len(delivered), wantDelivered)
			}
			if c.secret != 2 {
				t.Errorf("GetSecretValue calls = %d, want 2 (the first read, one re-read)", c.secret)
			}

			if tc.wantErr != "" {
				return
			}
			// The new URL is cached: the next message goes there without
			// another read.
			if _, err := h.Handle(context.Background(), loadEvent(t, "alarm-dlq-ok.json")); err != nil {
				t.Fatalf("next message: %v", err)
			}
			paths = slack.postedPaths()
			last := paths[len(paths)-1]
			if last != rotatedPath || c.secret != 2 {
				t.Errorf("next message POSTed to %q after %d secret reads, want %q after 2", last, c.secret, rotatedPath)
			}
		})
	}
}

// A rejected webhook that a concurrent post already replaced (it re-read
// the secret and cached the new URL while this post waited for Slack) is
// not forgotten: the new URL gets the message, and the secret is not read
// again.
func TestRejectedWebhookAlreadyReplacedIsNotReadAgain(t *testing.T) {
	const rotatedPath = "/services/T0GOLDEN1/B0AMI0002/Rt5uV6wX7yZ8aB9cD0eF1gH2"
	slack := newSlack(t, slackResponse{status: 404, body: "no_service"})
	var c calls
	// A further read would find yet another URL.
	h := &Handler{SecretARN: secretARN, Secrets: secretsInTurn(&c, slack.webhook(), slack.URL+"/services/T0GOLDEN1/B0AMI0003/other"),
		Images: imagesAre(&c, nil), Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
	base := http.DefaultTransport
	first := true
	h.Slack.Client.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if first { // the concurrent post replaces the URL while this one is in flight
			first = false
			h.mu.Lock()
			h.webhook = slack.URL + rotatedPath
			h.mu.Unlock()
		}
		return base.RoundTrip(req)
	})

	res, err := h.Handle(context.Background(), loadEvent(t, "alarm-dlq-alarm.json"))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if res.Records[0].Outcome != OutcomePosted {
		t.Errorf("result = %+v, want posted", res.Records)
	}
	paths := slack.postedPaths()
	if want := []string{webhookPath, rotatedPath}; !reflect.DeepEqual(paths, want) {
		t.Errorf("POSTed to %q, want %q", paths, want)
	}
	if c.secret != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1 (the concurrent post's URL is used, not read again)", c.secret)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Only an answer that rejects the webhook itself makes the secret be read
// again; a delivery cut short by the deadline never does, whatever the last
// status was, since the invocation has no time left to post anywhere.
func TestWebhookGone(t *testing.T) {
	for _, tc := range []struct {
		d    deliveryError
		want bool
	}{
		{deliveryError{status: http.StatusForbidden}, true},
		{deliveryError{status: http.StatusNotFound}, true},
		{deliveryError{status: http.StatusGone}, true},
		{deliveryError{status: http.StatusNotFound, stopped: context.DeadlineExceeded}, false},
		{deliveryError{status: http.StatusGone, stopped: context.Canceled}, false},
		{deliveryError{status: http.StatusBadRequest}, false},
		{deliveryError{status: http.StatusTooManyRequests}, false},
		{deliveryError{status: http.StatusInternalServerError}, false},
		{deliveryError{status: 0}, false},
	} {
		if got := webhookGone(&tc.d); got != tc.want {
			t.Errorf("webhookGone(status %d, stopped %v) = %v, want %v", tc.d.status, tc.d.stopped, got, tc.want)
		}
	}
}

// Other failures keep their behaviour: 5xx are retried with the same URL,
// other 4xx fail at once, and neither reads the secret again.
func TestOtherFailuresDoNotRereadTheSecret(t *testing.T) {
	for _, tc := range []struct {
		name         string
		script       []slackResponse
		wantAttempts int
		wantErr      string
	}{
		{
			name:         "5xx every time",
			script:       []slackResponse{{status: 500, body: "rollup_error"}, {status: 503, body: "service unavailable"}, {status: 500, body: "rollup_error"}},
			wantAttempts: 3,
			wantErr:      `slack webhook: 3 attempts failed; last: HTTP 500 Internal Server Error: "rollup_error"`,
		},
		{
			name:         "5xx then accepted",
			script:       []slackResponse{{status: 502, body: "bad gateway"}},
			wantAttempts: 2,
		},
		{
			name:         "400 invalid_payload",
			script:       []slackResponse{{status: 400, body: "invalid_payload"}},
			wantAttempts: 1,
			wantErr:      `slack webhook: HTTP 400 Bad Request: "invalid_payload"; not retried`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slack := newSlack(t, tc.script...)
			var c calls
			h := &Handler{SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c), Images: imagesAre(&c, nil),
				Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
			ev := loadEvent(t, "alarm-dlq-alarm.json")
			_, err := h.Handle(context.Background(), ev)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Handle: %v", err)
			case tc.wantErr != "":
				if want := "Records[0] (SNS message " + ev.Records[0].SNS.MessageID + ", alarm): " + tc.wantErr; err == nil || err.Error() != want {
					t.Fatalf("error = %v\nwant %s", err, want)
				}
			}
			if attempts, _ := slack.counts(); attempts != tc.wantAttempts {
				t.Errorf("Slack POSTs = %d, want %d", attempts, tc.wantAttempts)
			}
			if c.secret != 1 {
				t.Errorf("GetSecretValue calls = %d, want 1", c.secret)
			}
		})
	}
}

// triggerEvent is the sample name with its SNS MessageId replaced by
// messageID and its image build number by build, when they are set.
func triggerEvent(t testing.TB, name, messageID, build string) events.SNSEvent {
	t.Helper()
	ev := loadEvent(t, name)
	for i := range ev.Records {
		if messageID != "" {
			ev.Records[i].SNS.MessageID = messageID
		}
		if build != "" {
			ev.Records[i].SNS.Message = strings.ReplaceAll(ev.Records[i].SNS.Message, "image/golden-ami/1.0.0/7", "image/golden-ami/1.0.0/"+build)
		}
	}
	return ev
}

// The trigger's client token is idempotent: for a redelivered Parameter
// Store event, or the same AMI written again as a new version, Image Builder
// hands back the original build, so the trigger says "started" again with
// the same image build, in a new SNS message. That build is posted as
// started once; a failed post is not remembered, so it is posted later.
func TestTriggerStartedIsPostedOncePerImageBuild(t *testing.T) {
	const (
		startedID  = "5a1b2c0c-3c1d-5e2f-9a4b-6d7e8f9a0b0c" // trigger-started.json
		replayedID = "5a1b2c16-3c1d-5e2f-9a4b-6d7e8f9a0b16" // trigger-started-replayed.json
		alreadyID  = "5a1b2c0d-3c1d-5e2f-9a4b-6d7e8f9a0b0d" // trigger-already-started.json
		build7     = "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami/1.0.0/7"
		started7   = ":rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/7*: parameter /golden-ami/upstream version 3 is ami-0bbbbbbbbbbbbbbb0"
		replayed7  = ":rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/7*: parameter /golden-ami/upstream version 4 is ami-0bbbbbbbbbbbbbbb0 (its value since version 3)"
		replayed8  = ":rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/8*: parameter /golden-ami/upstream version 4 is ami-0bbbbbbbbbbbbbbb0 (its value since version 3)"
		already    = ":repeat: *golden-ami-dev-trigger* found the build already started: client token 5f0c7d1e9a2b4c3d8e6f7a1b2c3d4e5f was already used for parameter /golden-ami/upstream version 3"
		duplicate7 = "image build " + build7 + " was already posted as started by this execution environment (a duplicate trigger record)"
		failed500  = `slack webhook: 3 attempts failed; last: HTTP 500 Internal Server Error: "rollup_error"`
	)
	posted := func(id, text string) RecordResult {
		return RecordResult{MessageID: id, Kind: KindTriggerDecision, Outcome: OutcomePosted, Reason: text}
	}
	type invocation struct {
		event, messageID, build string // see triggerEvent
		want                    RecordResult
		wantErr                 string // after "Records[0] (SNS message ..., trigger-decision): "
	}
	for _, tc := range []struct {
		name       string
		script     []slackResponse
		calls      []invocation // one invocation each, in order
		wantPosted []string     // the Slack headlines, in order
	}{
		{
			name: "same build in a new SNS message is posted once",
			calls: []invocation{
				{event: "trigger-started.json", want: posted(startedID, started7)},
				{event: "trigger-started-replayed.json", want: RecordResult{MessageID: replayedID, Kind: KindTriggerDecision, Outcome: OutcomeSkipped, Reason: duplicate7}},
			},
			wantPosted: []string{started7},
		},
		{
			name: "different builds are both posted",
			calls: []invocation{
				{event: "trigger-started.json", want: posted(startedID, started7)},
				{event: "trigger-started-replayed.json", build: "8", want: posted(replayedID, replayed8)},
			},
			wantPosted: []string{started7, replayed8},
		},
		{
			// The first post fails and is not remembered: the replay is
			// posted, and Lambda's retry of the first is then the duplicate.
			name:   "a failed post is posted by the next record",
			script: []slackResponse{{status: 500, body: "rollup_error"}, {status: 503, body: "service unavailable"}, {status: 500, body: "rollup_error"}},
			calls: []invocation{
				{event: "trigger-started.json", want: RecordResult{MessageID: startedID, Kind: KindTriggerDecision, Outcome: OutcomeFailed, Reason: failed500}, wantErr: failed500},
				{event: "trigger-started-replayed.json", want: posted(replayedID, replayed7)},
				{event: "trigger-started.json", want: RecordResult{MessageID: startedID, Kind: KindTriggerDecision, Outcome: OutcomeSkipped, Reason: duplicate7}},
			},
			wantPosted: []string{replayed7},
		},
		{
			// Only "started" is remembered; other decisions post as before.
			name: "other decisions are not de-duplicated",
			calls: []invocation{
				{event: "trigger-started.json", want: posted(startedID, started7)},
				{event: "trigger-already-started.json", want: posted(alreadyID, already)},
				{event: "trigger-already-started.json", messageID: replayedID, want: posted(replayedID, already)},
			},
			wantPosted: []string{started7, already, already},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slack := newSlack(t, tc.script...)
			var c calls
			h := &Handler{SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c), Images: imagesAre(&c, nil),
				Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
			for i, call := range tc.calls {
				ev := triggerEvent(t, call.event, call.messageID, call.build)
				res, err := h.Handle(context.Background(), ev)
				if call.wantErr == "" && err != nil {
					t.Fatalf("invocation %d (%s): %v", i, call.event, err)
				}
				if want := "Records[0] (SNS message " + call.want.MessageID + ", trigger-decision): " + call.wantErr; call.wantErr != "" && (err == nil || err.Error() != want) {
					t.Fatalf("invocation %d (%s): error = %v\nwant %s", i, call.event, err, want)
				}
				if !reflect.DeepEqual(res.Records, []RecordResult{call.want}) {
					t.Errorf("invocation %d (%s): result = %+v\nwant %+v", i, call.event, res.Records, call.want)
				}
			}
			_, delivered := slack.counts()
			var got []string
			for _, p := range delivered {
				got = append(got, p.Text)
			}
			if !reflect.DeepEqual(got, tc.wantPosted) {
				t.Errorf("posted to Slack\n%q\nwant\n%q", got, tc.wantPosted)
			}
		})
	}
}

// Both records of one event name the same build: the second is the
// duplicate.
func TestTriggerStartedTwiceInOneEventIsPostedOnce(t *testing.T) {
	slack := newSlack(t)
	var c calls
	h := &Handler{SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c), Images: imagesAre(&c, nil),
		Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
	ev := loadEvent(t, "trigger-started.json")
	ev.Records = append(ev.Records, loadEvent(t, "trigger-started-replayed.json").Records...)
	res, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	want := []RecordResult{
		{MessageID: ev.Records[0].SNS.MessageID, Kind: KindTriggerDecision, Outcome: OutcomePosted,
			Reason: ":rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/7*: parameter /golden-ami/upstream version 3 is ami-0bbbbbbbbbbbbbbb0"},
		{MessageID: ev.Records[1].SNS.MessageID, Kind: KindTriggerDecision, Outcome: OutcomeSkipped,
			Reason: "image build arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami/1.0.0/7 was already posted as started by this execution environment (a duplicate trigger record)"},
	}
	if !reflect.DeepEqual(res.Records, want) {
		t.Errorf("result = %+v\nwant %+v", res.Records, want)
	}
	if attempts, delivered := slack.counts(); attempts != 1 || len(delivered) != 1 || delivered[0].Text != want[0].Reason {
		t.Errorf("Slack attempts = %d, delivered = %+v; want the started line once", attempts, delivered)
	}
}

// startedPoster is a notifier posting to a local Slack (returned too),
// logging nowhere, and post, which hands it the trigger's "started" record of build under
// messageID.
func startedPoster(t *testing.T) (*Handler, *slackServer, func(build int, messageID string) RecordResult) {
	t.Helper()
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	slack := newSlack(t)
	var c calls
	h := &Handler{SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c), Images: imagesAre(&c, nil),
		Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
	return h, slack, func(build int, messageID string) RecordResult {
		t.Helper()
		res, err := h.Handle(context.Background(), triggerEvent(t, "trigger-started.json", messageID, strconv.Itoa(build)))
		if err != nil {
			t.Fatalf("build %d: %v", build, err)
		}
		return res.Records[0]
	}
}

// The builds remembered as started are bounded like the message ids: after
// recentSize newer builds, the first is forgotten and would be posted again.
func TestRememberedBuildsAreBounded(t *testing.T) {
	h, _, post := startedPoster(t)
	if got := post(1, "first"); got.Outcome != OutcomePosted {
		t.Fatalf("build 1 = %+v, want posted", got)
	}
	if got := post(1, "again"); got.Outcome != OutcomeSkipped || !strings.Contains(got.Reason, "(a duplicate trigger record)") {
		t.Fatalf("build 1 again = %+v, want skipped as a duplicate", got)
	}
	for b := 2; b <= recentSize+1; b++ {
		post(b, "m"+strconv.Itoa(b))
	}
	if n := len(h.started.ids); n != recentSize {
		t.Errorf("remembered builds = %d, want %d", n, recentSize)
	}
	if got := post(1, "forgotten"); got.Outcome != OutcomePosted {
		t.Errorf("build 1 after %d newer builds = %+v, want posted (forgotten)", recentSize, got)
	}
}

// The doc promises the last 256 keys: every one of the 256 most recent
// builds posted as started is still skipped as a duplicate, and only the
// 257th most recent is forgotten. (The bound is written out, not taken from
// recentSize, so shrinking the memory fails here.)
func TestTheLast256BuildsAreRemembered(t *testing.T) {
	const remembered = 256
	_, slack, post := startedPoster(t)
	for b := 1; b <= remembered+1; b++ {
		if got := post(b, "first-"+strconv.Itoa(b)); got.Outcome != OutcomePosted {
			t.Fatalf("build %d = %+v, want posted", b, got)
		}
	}
	// Newest first, so that a wrongly forgotten build, posted again, does
	// not push out one still to be checked before the check fails.
	for b := remembered + 1; b >= 2; b-- {
		id := "again-" + strconv.Itoa(b)
		want := RecordResult{MessageID: id, Kind: KindTriggerDecision, Outcome: OutcomeSkipped,
			Reason: "image build arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami/1.0.0/" + strconv.Itoa(b) +
				" was already posted as started by this execution environment (a duplicate trigger record)"}
		if got := post(b, id); got != want {
			t.Fatalf("build %d, %d builds back = %+v\nwant %+v", b, remembered+1-b, got, want)
		}
	}
	if got := post(1, "again-1"); got.Outcome != OutcomePosted {
		t.Errorf("build 1, %d builds back = %+v, want posted (forgotten)", remembered, got)
	}
	if _, delivered := slack.counts(); len(delivered) != remembered+2 {
		t.Errorf("Slack deliveries = %d, want %d", len(delivered), remembered+2)
	}
}

// A destination record whose condition is not Success is a failure, even
// when its payload says "started": it is posted as the failure, is not
// skipped as a duplicate of a started build, and does not make the real
// "started" of that build a duplicate.
func TestFailedTriggerRecordIsNotAStartedBuild(t *testing.T) {
	const (
		startedID = "5a1b2c0c-3c1d-5e2f-9a4b-6d7e8f9a0b0c" // trigger-started.json
		failedID  = "5a1b2c0f-3c1d-5e2f-9a4b-6d7e8f9a0b0f"
		started7  = ":rocket: *golden-ami-dev-trigger* started image build *golden-ami 1.0.0/7*: parameter /golden-ami/upstream version 3 is ami-0bbbbbbbbbbbbbbb0"
		failed    = ":x: *golden-ami-dev-trigger* failed (RetriesExhausted, 3 attempts)"
	)
	// trigger-started.json, as a record of retries exhausted.
	failedRecord := func() events.SNSEvent {
		ev := triggerEvent(t, "trigger-started.json", failedID, "")
		msg := ev.Records[0].SNS.Message
		for old, repl := range map[string]string{`"condition":"Success"`: `"condition":"RetriesExhausted"`, `"approximateInvokeCount":1`: `"approximateInvokeCount":3`} {
			if !strings.Contains(msg, old) {
				t.Fatalf("trigger-started.json has no %s", old)
			}
			msg = strings.Replace(msg, old, repl, 1)
		}
		ev.Records[0].SNS.Message = msg
		return ev
	}
	for _, tc := range []struct {
		name   string
		events []events.SNSEvent
		want   []RecordResult
	}{
		{
			name:   "failure first, then the build's start",
			events: []events.SNSEvent{failedRecord(), triggerEvent(t, "trigger-started.json", "", "")},
			want: []RecordResult{
				{MessageID: failedID, Kind: KindTriggerDecision, Outcome: OutcomePosted, Reason: failed},
				{MessageID: startedID, Kind: KindTriggerDecision, Outcome: OutcomePosted, Reason: started7},
			},
		},
		{
			name:   "the build's start first, then the failure",
			events: []events.SNSEvent{triggerEvent(t, "trigger-started.json", "", ""), failedRecord()},
			want: []RecordResult{
				{MessageID: startedID, Kind: KindTriggerDecision, Outcome: OutcomePosted, Reason: started7},
				{MessageID: failedID, Kind: KindTriggerDecision, Outcome: OutcomePosted, Reason: failed},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slack := newSlack(t)
			var c calls
			h := &Handler{SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c), Images: imagesAre(&c, nil),
				Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
			var got []RecordResult
			for i, ev := range tc.events {
				res, err := h.Handle(context.Background(), ev)
				if err != nil {
					t.Fatalf("invocation %d: %v", i, err)
				}
				got = append(got, res.Records...)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("results = %+v\nwant %+v", got, tc.want)
			}
			_, delivered := slack.counts()
			var texts []string
			for _, p := range delivered {
				texts = append(texts, p.Text)
			}
			if want := []string{tc.want[0].Reason, tc.want[1].Reason}; !reflect.DeepEqual(texts, want) {
				t.Errorf("posted to Slack\n%q\nwant\n%q", texts, want)
			}
		})
	}
}

// snsOf is an SNS event with one record whose message is msg.
func snsOf(messageID, msg string) events.SNSEvent {
	return events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", SNS: events.SNSEntity{MessageID: messageID, Message: msg}}}}
}

func imageStateChange(arn, status string) string {
	return `{"source":"aws.imagebuilder","detail-type":"EC2 Image Builder Image State Change","account":"123456789012","region":"us-east-1",` +
		`"resources":["` + arn + `"],"detail":{"state":{"status":"` + status + `"}}}`
}

func imageNotification(arn, status string) string {
	return `{"arn":"` + arn + `","state":{"status":"` + status + `"},"outputResources":{"amis":[]}}`
}

// Every status Image Builder documents is decided: the three that end a
// build are notified, the others skipped, whichever way the image arrives.
func TestEveryImageStatusIsDecided(t *testing.T) {
	for _, v := range ibtypes.ImageStatus("").Values() {
		status := string(v)
		final := status == "AVAILABLE" || status == "FAILED" || status == "CANCELLED"
		for kind, msg := range map[string]string{KindImageStateChange: imageStateChange(imageARN5, status), KindImageNotification: imageNotification(imageARN5, status)} {
			n, err := decodeMessage(msg)
			switch {
			case err != nil:
				t.Errorf("%s %s: error %v", kind, status, err)
			case n.Kind != kind:
				t.Errorf("%s %s: kind %s", kind, status, n.Kind)
			case final && (n.Skip != "" || n.Image == nil || n.Image.Status != status):
				t.Errorf("%s %s: %+v, want it notified", kind, status, n)
			case !final && n.Skip != "image "+imageARN5+" is "+status+", not a final state (AVAILABLE, FAILED or CANCELLED)":
				t.Errorf("%s %s: skip %q, want it skipped as not final", kind, status, n.Skip)
			}
		}
	}
}

// A status Image Builder does not document (a new one, or "available" in
// lower case) is not skipped as if it were one still building: it is an
// error naming the field and value, and nothing is read or posted.
func TestUnknownImageStatusIsAnError(t *testing.T) {
	const want = "is not an Image Builder image status (want one of PENDING, CREATING, BUILDING, TESTING, DISTRIBUTING, INTEGRATING, AVAILABLE, CANCELLED, FAILED, DEPRECATED, DELETED, DISABLED)"
	const id = "5a1b2c99-3c1d-5e2f-9a4b-6d7e8f9a0b99"
	for _, tc := range []struct {
		name, msg, wantErr string
	}{
		{"state change BOGUS", imageStateChange(imageARN5, "BOGUS"),
			`Records[0] (SNS message ` + id + `, image-state-change): field "detail.state.status" = "BOGUS" ` + want},
		{"state change lower case", imageStateChange(imageARN4, "available"),
			`Records[0] (SNS message ` + id + `, image-state-change): field "detail.state.status" = "available" ` + want},
		{"notification lower case", imageNotification(imageARN4, "available"),
			`Records[0] (SNS message ` + id + `, image-notification): field "state.status" = "available" ` + want + ` (image ` + imageARN4 + `)`},
		{"notification BOGUS", imageNotification(imageARN5, "BOGUS"),
			`Records[0] (SNS message ` + id + `, image-notification): field "state.status" = "BOGUS" ` + want + ` (image ` + imageARN5 + `)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slack := newSlack(t)
			var c calls
			h := &Handler{SecretARN: secretARN, Secrets: secretIs(slack.webhook(), &c), Images: imagesAre(&c, nil),
				Executions: executionIs(&c, nil, nil), Slack: fastPoster()}
			_, err := h.Handle(context.Background(), snsOf(id, tc.msg))
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
			}
			if attempts, _ := slack.counts(); attempts != 0 || c.secret+c.image+c.execution != 0 {
				t.Errorf("Slack attempts = %d, AWS calls = %d secret, %d image, %d execution; want none", attempts, c.secret, c.image, c.execution)
			}
		})
	}
}

// TestConsoleLinksOnlyForRegionCodes: the region comes from the event and
// becomes part of a host name, so only a region code gets a link, on its
// partition's console. The fuzzer found region "%" making
// https://%.console.aws.amazon.com.
func TestConsoleLinksOnlyForRegionCodes(t *testing.T) {
	for _, tc := range []struct{ region, want string }{
		{"us-east-1", "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/p/executions/e/timeline?region=us-east-1"},
		{"cn-northwest-1", "https://console.amazonaws.cn/codesuite/codepipeline/pipelines/p/executions/e/timeline?region=cn-northwest-1"},
		{"us-gov-west-1", "https://console.amazonaws-us-gov.com/codesuite/codepipeline/pipelines/p/executions/e/timeline?region=us-gov-west-1"},
		{"us-isob-east-1", ""},
		{"eusc-de-east-1", ""},
		{"%", ""},
		{"", ""},
		{"evil.example.com/x", ""},
		{"us-east-1.evil.example", ""},
	} {
		if got := executionURL(tc.region, "p", "e"); got != tc.want {
			t.Errorf("executionURL(%q) = %q, want %q", tc.region, got, tc.want)
		}
	}
	if got, want := alarmURL("cn-north-1", "a b"), "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/a%20b"; got != want {
		t.Errorf("alarmURL = %q, want %q", got, want)
	}
	if got, want := pipelineViewURL("us-gov-east-1", "p"), "https://console.amazonaws-us-gov.com/codesuite/codepipeline/pipelines/p/view?region=us-gov-east-1"; got != want {
		t.Errorf("pipelineViewURL = %q, want %q", got, want)
	}

	// Through decode and compose: the event is still posted, with its
	// region shown as text and no link or dangling "Open in the console".
	msg := `{"detail-type":"CodePipeline Pipeline Execution State Change","source":"aws.codepipeline","account":"0","region":"%",` +
		`"detail":{"pipeline":"0","execution-id":"0","state":"FAILED"}}`
	n, err := decodeMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	var c calls
	h := &Handler{Images: imagesAre(&c, nil), Executions: executionIs(&c, nil, errors.New("AccessDenied"))}
	m := h.compose(context.Background(), n)
	if m.Context != "" {
		t.Errorf("Context = %q, want none", m.Context)
	}
	want := []field{{"Pipeline", "0"}, {"State", "FAILED"}, {"Account", "0"}, {"Region", "%"}, {"Execution", "0"}}
	if !reflect.DeepEqual(m.Fields, want) {
		t.Errorf("Fields = %q, want %q", m.Fields, want)
	}
	body, err := render(m)
	if err != nil {
		t.Fatal(err)
	}
	checkPayload(t, body)
}
