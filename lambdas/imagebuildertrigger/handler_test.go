package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

const (
	pipelineARN = "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden-ami"
	paramName   = "/golden-ami/upstream"
	amiV3       = "ami-0bbbbbbbbbbbbbbb0"
	amiV4       = "ami-0ddddddddddddddd0"
)

func apiErr(service, op, code, msg string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &smithy.GenericAPIError{Code: code, Message: msg}}
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

// getParameterFunc is a function-type fake with the SDK's signature.
type getParameterFunc func(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)

func (f getParameterFunc) GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return f(ctx, in, optFns...)
}

// parameterAt serves our parameter with a value and version and counts reads.
func parameterAt(value string, version int64, reads *int) getParameterFunc {
	return func(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
		*reads++
		if aws.ToString(in.Name) != paramName {
			return nil, &ssmtypes.ParameterNotFound{Message: aws.String(aws.ToString(in.Name))}
		}
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(value), Version: version}}, nil
	}
}

// imageBuilder behaves like the service: a reused client token returns the
// original execution. fail, when set, answers instead.
type imageBuilder struct {
	byToken map[string]string
	calls   []*imagebuilder.StartImagePipelineExecutionInput
	fail    error
}

func (b *imageBuilder) StartImagePipelineExecution(_ context.Context, in *imagebuilder.StartImagePipelineExecutionInput, _ ...func(*imagebuilder.Options)) (*imagebuilder.StartImagePipelineExecutionOutput, error) {
	b.calls = append(b.calls, in)
	if b.fail != nil {
		return nil, b.fail
	}
	if b.byToken == nil {
		b.byToken = map[string]string{}
	}
	tok := aws.ToString(in.ClientToken)
	arn, ok := b.byToken[tok]
	if !ok {
		arn = fmt.Sprintf("arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami/1.0.0/%d", len(b.byToken)+1)
		b.byToken[tok] = arn
	}
	return &imagebuilder.StartImagePipelineExecutionOutput{ClientToken: in.ClientToken, ImageBuildVersionArn: aws.String(arn)}, nil
}

func TestHandle(t *testing.T) {
	tokV3 := clientToken(pipelineARN, paramName, 3, amiV3)
	for _, tc := range []struct {
		name       string
		event      string
		params     func(reads *int) getParameterFunc
		starter    *imageBuilder
		want       Result
		wantErr    string
		wantReads  int
		wantStarts int
	}{
		{
			name: "update starts the pipeline", event: "parameter-update.json",
			want:      Result{Decision: DecisionStarted, Reason: "parameter /golden-ami/upstream version 3 is " + amiV3, ImageBuildVersionARN: "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami/1.0.0/1", ClientToken: tokV3},
			wantReads: 1, wantStarts: 1,
		},
		{
			name: "create starts the pipeline", event: "parameter-create.json",
			want:      Result{Decision: DecisionStarted, Reason: "parameter /golden-ami/upstream version 3 is " + amiV3, ImageBuildVersionARN: "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami/1.0.0/1", ClientToken: tokV3},
			wantReads: 1, wantStarts: 1,
		},
		{
			name: "create that failed validation is ignored", event: "parameter-create-exception.json",
			want: Result{Decision: DecisionIgnored, Reason: "the Create of /golden-ami/upstream failed Parameter Store validation: Unable to Describe Resource"},
		},
		{
			name: "update that failed validation is ignored", event: "parameter-update-exception.json",
			want: Result{Decision: DecisionIgnored, Reason: "the Update of /golden-ami/upstream failed Parameter Store validation: Unable to Describe Resource"},
		},
		{
			name: "delete is ignored", event: "parameter-delete.json",
			want: Result{Decision: DecisionIgnored, Reason: "operation Delete does not create a new value"},
		},
		{
			name: "label is ignored", event: "parameter-label.json",
			want: Result{Decision: DecisionIgnored, Reason: "operation LabelParameterVersion does not create a new value"},
		},
		{
			name: "another parameter is ignored", event: "other-parameter.json",
			want: Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/latest is not /golden-ami/upstream"},
		},
		{
			name: "missing name is an error", event: "malformed-missing-name.json",
			wantErr: `malformed Parameter Store Change event "7f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0": field "detail.name" is empty`,
		},
		{
			name: "detail that is not an object is an error", event: "malformed-detail-string.json",
			wantErr: `malformed Parameter Store Change event "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f": field "detail" is not a JSON object: "\"Update /golden-ami/upstream\""`,
		},
		{
			name: "throttled read is an error naming the operation", event: "parameter-update.json",
			params: func(reads *int) getParameterFunc {
				return func(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
					*reads++
					return nil, apiErr("SSM", "GetParameter", "ThrottlingException", "Rate exceeded")
				}
			},
			wantErr:   "get parameter /golden-ami/upstream: operation error SSM: GetParameter, api error ThrottlingException: Rate exceeded",
			wantReads: 1,
		},
		{
			name: "missing parameter is an error", event: "parameter-update.json",
			params: func(reads *int) getParameterFunc {
				return func(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
					*reads++
					return nil, &ssmtypes.ParameterNotFound{Message: aws.String("Parameter /golden-ami/upstream not found.")}
				}
			},
			wantErr:   "get parameter /golden-ami/upstream: ParameterNotFound: Parameter /golden-ami/upstream not found.",
			wantReads: 1,
		},
		{
			name: "invalid AMI id starts nothing", event: "parameter-update.json",
			params:    func(reads *int) getParameterFunc { return parameterAt("ami-nope", 5, reads) },
			wantErr:   `parameter /golden-ami/upstream version 5: "ami-nope" is not an AMI id (want "ami-" followed by 8 or 17 hex digits); no build started`,
			wantReads: 1,
		},
		{
			name: "429 on start is an error naming the operation", event: "parameter-update.json",
			starter:   &imageBuilder{fail: apiErr("imagebuilder", "StartImagePipelineExecution", "CallRateLimitExceededException", "Rate exceeded")},
			wantErr:   "start image pipeline " + pipelineARN + " for parameter /golden-ami/upstream version 3 (client token " + tokV3 + "): operation error imagebuilder: StartImagePipelineExecution, api error CallRateLimitExceededException: Rate exceeded",
			wantReads: 1, wantStarts: 1,
		},
		{
			name: "reused token with a mismatch counts as already started", event: "parameter-update.json",
			starter:   &imageBuilder{fail: &smithy.OperationError{ServiceID: "imagebuilder", OperationName: "StartImagePipelineExecution", Err: &ibtypes.IdempotentParameterMismatchException{Message: aws.String("token reused")}}},
			want:      Result{Decision: DecisionAlreadyStarted, Reason: "client token " + tokV3 + " was already used for parameter /golden-ami/upstream version 3", ClientToken: tokV3},
			wantReads: 1, wantStarts: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reads int
			params := parameterAt(amiV3, 3, &reads)
			if tc.params != nil {
				params = tc.params(&reads)
			}
			starter := tc.starter
			if starter == nil {
				starter = &imageBuilder{}
			}
			h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: params, Pipelines: starter}
			got, err := h.Handle(context.Background(), loadEvent(t, tc.event))
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("Handle error = %v\nwant %s", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("result = %+v\nwant %+v", got, tc.want)
			}
			if reads != tc.wantReads {
				t.Errorf("GetParameter calls = %d, want %d", reads, tc.wantReads)
			}
			if len(starter.calls) != tc.wantStarts {
				t.Errorf("StartImagePipelineExecution calls = %d, want %d", len(starter.calls), tc.wantStarts)
			}
			for _, in := range starter.calls {
				if aws.ToString(in.ImagePipelineArn) != pipelineARN || aws.ToString(in.ClientToken) != tokV3 {
					t.Errorf("start input = %+v, want pipeline %s token %s", in, pipelineARN, tokV3)
				}
			}
		})
	}
}

func TestHandleMalformedEnvelope(t *testing.T) {
	h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: parameterAt(amiV3, 3, new(int)), Pipelines: &imageBuilder{}}
	good := loadEvent(t, "parameter-update.json")
	for _, tc := range []struct {
		name    string
		mutate  func(*events.CloudWatchEvent)
		want    Result
		wantErr string
	}{
		{name: "no source", mutate: func(e *events.CloudWatchEvent) { e.Source = "" },
			wantErr: `malformed Parameter Store Change event "6a7e8feb-b491-4cf7-a9f1-bf3703467718": field "source" is empty`},
		{name: "no detail-type", mutate: func(e *events.CloudWatchEvent) { e.DetailType = "" },
			wantErr: `malformed Parameter Store Change event "6a7e8feb-b491-4cf7-a9f1-bf3703467718": field "detail-type" is empty`},
		{name: "no detail", mutate: func(e *events.CloudWatchEvent) { e.Detail = nil },
			wantErr: `malformed Parameter Store Change event "6a7e8feb-b491-4cf7-a9f1-bf3703467718": field "detail" is missing`},
		{name: "null detail", mutate: func(e *events.CloudWatchEvent) { e.Detail = json.RawMessage("null") },
			wantErr: `malformed Parameter Store Change event "6a7e8feb-b491-4cf7-a9f1-bf3703467718": field "detail" is missing`},
		{name: "detail with a wrongly typed field", mutate: func(e *events.CloudWatchEvent) { e.Detail = json.RawMessage(`{"name":7}`) },
			wantErr: `malformed Parameter Store Change event "6a7e8feb-b491-4cf7-a9f1-bf3703467718": field "detail": json: cannot unmarshal number into Go struct field parameterChange.name of type string`},
		{name: "no operation", mutate: func(e *events.CloudWatchEvent) { e.Detail = json.RawMessage(`{"name":"/golden-ami/upstream"}`) },
			wantErr: `malformed Parameter Store Change event "6a7e8feb-b491-4cf7-a9f1-bf3703467718": field "detail.operation" is empty (detail.name "/golden-ami/upstream")`},
		{name: "another source is ignored", mutate: func(e *events.CloudWatchEvent) { e.Source = "aws.ec2" },
			want: Result{Decision: DecisionIgnored, Reason: `event aws.ec2/"Parameter Store Change" is not an aws.ssm "Parameter Store Change" event`}},
		{name: "another detail-type is ignored", mutate: func(e *events.CloudWatchEvent) { e.DetailType = "Parameter Store Policy Action" },
			want: Result{Decision: DecisionIgnored, Reason: `event aws.ssm/"Parameter Store Policy Action" is not an aws.ssm "Parameter Store Change" event`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := good
			tc.mutate(&ev)
			got, err := h.Handle(context.Background(), ev)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Handle = %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

// A redelivered event, and a second event for the same version, start one
// execution; the next version starts another.
func TestRedeliveryStartsOneExecutionPerVersion(t *testing.T) {
	var reads int
	value, version := amiV3, int64(3)
	params := getParameterFunc(func(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
		reads++
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(value), Version: version}}, nil
	})
	ib := &imageBuilder{}
	h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: params, Pipelines: ib}
	ev := loadEvent(t, "parameter-update.json")

	first, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	dup := loadEvent(t, "parameter-create.json")
	third, err := h.Handle(context.Background(), dup)
	if err != nil {
		t.Fatal(err)
	}
	if first != again || first != third {
		t.Errorf("results differ for the same version:\n%+v\n%+v\n%+v", first, again, third)
	}
	if len(ib.byToken) != 1 {
		t.Fatalf("executions = %d, want 1", len(ib.byToken))
	}

	value, version = amiV4, 4
	next, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(ib.byToken) != 2 || next.ImageBuildVersionARN == first.ImageBuildVersionARN || next.ClientToken == first.ClientToken {
		t.Errorf("next version: executions = %d, result %+v; want a second execution", len(ib.byToken), next)
	}
}

func TestClientToken(t *testing.T) {
	base := clientToken(pipelineARN, paramName, 3, amiV3)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(base) {
		t.Fatalf("clientToken = %q, want 32 hex digits (Image Builder allows 1-36 characters)", base)
	}
	if again := clientToken(pipelineARN, paramName, 3, amiV3); again != base {
		t.Errorf("clientToken is not deterministic: %s vs %s", base, again)
	}
	for name, other := range map[string]string{
		"version":   clientToken(pipelineARN, paramName, 4, amiV3),
		"value":     clientToken(pipelineARN, paramName, 3, amiV4),
		"parameter": clientToken(pipelineARN, paramName+"2", 3, amiV3),
		"pipeline":  clientToken(pipelineARN+"2", paramName, 3, amiV3),
		// The separator keeps field boundaries apart.
		"boundary": clientToken(pipelineARN, paramName+"\n3", 0, amiV3),
	} {
		if other == base {
			t.Errorf("changing the %s does not change the token", name)
		}
	}
}

// The trigger may only start executions: recipes and the pipeline itself
// are owned by CloudFormation.
func TestNeverCreatesRecipesOrUpdatesThePipeline(t *testing.T) {
	forbidden := regexp.MustCompile(`\b(Create|Update|Delete)(ImageRecipe|ImagePipeline|Component|DistributionConfiguration|InfrastructureConfiguration)\b`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := forbidden.Find(b); m != nil {
			t.Errorf("%s calls %s", f, m)
		}
	}
}
