package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/platform-eng/golden-ami/internal/contract"
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

// historyFunc is a function-type fake with the SDK's signature.
type historyFunc func(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error)

func (f historyFunc) GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
	return f(ctx, in, optFns...)
}

// Descriptions of versions: the upstream monitor's (its marker, then the
// source) and CloudFormation's seeds (the amimonitor and goldenimage
// constructs' parameter descriptions).
const (
	monitorDescription = contract.UpstreamDescriptionPrefix + "ssm-parameter:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	seedDescription    = "Upstream AMI seed; the upstream monitor replaces it"
	stackDescription   = "Upstream AMI that golden image al2023 is built on; maintained by the upstream monitor"
	amiSeed            = "ami-0eeeeeeeeeeeeeee0" // the public AL2023 AMI an EB upstream's parameter is seeded with
)

// paramVersion is one version of the parameter: its value and description.
// paramVersion is one version of the parameter. at is when it was written;
// zero means writtenAt of its version number.
type paramVersion struct {
	value, description string
	at                 time.Time
}

// writtenAt is when the histories here wrote version v unless told
// otherwise: a minute apart, at a time with milliseconds.
func writtenAt(v int64) time.Time {
	return time.Date(2024, 7, 1, 6, 10, 42, 519e6, time.UTC).Add(time.Duration(v) * time.Minute)
}

func byMonitor(value string) paramVersion {
	return paramVersion{value: value, description: monitorDescription}
}

// byRecorder is a version the latest-AMI recorder wrote: the parameter is
// another pipeline's latest-AMI parameter (a team's image built on the
// golden one).
func byRecorder(value, build string) paramVersion {
	return paramVersion{value: value, description: contract.LatestDescriptionPrefix +
		"arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami-recipe/" + build + ", built 2024-07-01T06:10:42.519Z"}
}
func seeded(value string) paramVersion {
	return paramVersion{value: value, description: seedDescription}
}

// historyOf serves our parameter with one version per value (version 1 is
// values[0]), each written by the monitor.
func historyOf(reads *int, values ...string) historyFunc {
	versions := make([]paramVersion, len(values))
	for i, v := range values {
		versions[i] = byMonitor(v)
	}
	return historyOfVersions(reads, versions...)
}

// historyOfVersions serves our parameter with these versions (version 1 is
// versions[0]), in pages of MaxResults like the service, and counts reads.
func historyOfVersions(reads *int, versions ...paramVersion) historyFunc {
	return historyInOrder(reads, nil, versions...)
}

// historyInOrder is historyOfVersions listing the versions in order: order[k]
// is the index in versions of the k-th version listed (nil: oldest first).
// The service documents no order, so the handler must not rely on one.
func historyInOrder(reads *int, order []int, versions ...paramVersion) historyFunc {
	return func(_ context.Context, in *ssm.GetParameterHistoryInput, _ ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
		*reads++
		if aws.ToString(in.Name) != paramName {
			return nil, &ssmtypes.ParameterNotFound{Message: aws.String(aws.ToString(in.Name))}
		}
		start := 0
		if in.NextToken != nil {
			fmt.Sscan(*in.NextToken, &start)
		}
		end := min(start+int(aws.ToInt32(in.MaxResults)), len(versions))
		out := &ssm.GetParameterHistoryOutput{}
		for k := start; k < end; k++ {
			i := k
			if order != nil {
				i = order[k]
			}
			at := versions[i].at
			if at.IsZero() {
				at = writtenAt(int64(i + 1))
			}
			out.Parameters = append(out.Parameters, ssmtypes.ParameterHistory{Name: in.Name, Value: aws.String(versions[i].value),
				Description: aws.String(versions[i].description), Version: int64(i + 1), LastModifiedDate: aws.Time(at)})
		}
		if end < len(versions) {
			out.NextToken = aws.String(fmt.Sprint(end))
		}
		return out, nil
	}
}

// parameterAt serves a history whose current version holds value and whose
// earlier versions hold other values.
func parameterAt(value string, version int64, reads *int) historyFunc {
	values := make([]string, version)
	for i := range values {
		values[i] = fmt.Sprintf("ami-%017x", i+1)
	}
	values[version-1] = value
	return historyOf(reads, values...)
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

// started is the result of a start of the fake's first build: the reason
// as given, the client token of value since the version since.
func started(reason string, since int64, value string) Result {
	return Result{Decision: DecisionStarted, Reason: reason,
		ImageBuildVersionARN: "arn:aws:imagebuilder:us-east-1:123456789012:image/golden-ami/1.0.0/1", ClientToken: clientToken(pipelineARN, paramName, since, writtenAt(since), value)}
}

func TestHandle(t *testing.T) {
	tokV3 := clientToken(pipelineARN, paramName, 3, writtenAt(3), amiV3)
	for _, tc := range []struct {
		name       string
		event      string
		params     func(reads *int) historyFunc
		starter    *imageBuilder
		want       Result
		wantErr    string
		wantReads  int
		wantStarts int
	}{
		{
			name: "update starts the pipeline", event: "parameter-update.json",
			want:      started("parameter /golden-ami/upstream version 3 is "+amiV3+" (its value since version 3)", 3, amiV3),
			wantReads: 1, wantStarts: 1,
		},
		{
			name: "create starts the pipeline", event: "parameter-create.json",
			want:      started("parameter /golden-ami/upstream version 3 is "+amiV3+" (its value since version 3)", 3, amiV3),
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
			name: "another parameter's failed validation is ignored", event: "other-parameter-exception.json",
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
			params: func(reads *int) historyFunc {
				return func(context.Context, *ssm.GetParameterHistoryInput, ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
					*reads++
					return nil, apiErr("SSM", "GetParameterHistory", "ThrottlingException", "Rate exceeded")
				}
			},
			wantErr:   "get parameter history of /golden-ami/upstream: operation error SSM: GetParameterHistory, api error ThrottlingException: Rate exceeded",
			wantReads: 1,
		},
		{
			name: "missing parameter is an error", event: "parameter-update.json",
			params: func(reads *int) historyFunc {
				return func(context.Context, *ssm.GetParameterHistoryInput, ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
					*reads++
					return nil, &ssmtypes.ParameterNotFound{Message: aws.String("Parameter /golden-ami/upstream not found.")}
				}
			},
			wantErr:   "get parameter history of /golden-ami/upstream: ParameterNotFound: Parameter /golden-ami/upstream not found.",
			wantReads: 1,
		},
		{
			name: "invalid AMI id starts nothing", event: "parameter-update.json",
			params:    func(reads *int) historyFunc { return parameterAt("ami-nope", 5, reads) },
			wantErr:   `parameter /golden-ami/upstream version 5: "ami-nope" is not an AMI id (want "ami-" followed by 8 or 17 hex digits); no build started`,
			wantReads: 1,
		},
		{
			name: "empty history is an error", event: "parameter-update.json",
			params:    func(reads *int) historyFunc { return historyOf(reads) },
			wantErr:   "get parameter history of /golden-ami/upstream: the response lists no versions",
			wantReads: 1,
		},
		{
			name: "the same value written again keeps the token of its first version", event: "parameter-update.json",
			params:    func(reads *int) historyFunc { return historyOf(reads, amiV4, amiV3, amiV3) },
			want:      started("parameter /golden-ami/upstream version 3 is "+amiV3+" (its value since version 2)", 2, amiV3),
			wantReads: 1, wantStarts: 1,
		},
		{
			// CloudFormation re-writes the seed when it updates the
			// parameter resource (here an EB upstream's AL2023 seed).
			name: "an update not written by the monitor is ignored", event: "parameter-update.json",
			params: func(reads *int) historyFunc {
				return historyOfVersions(reads, seeded(amiSeed), byMonitor(amiV3), seeded(amiSeed))
			},
			want:      Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/upstream version 3 was not written by the upstream monitor or the latest-AMI recorder (e.g. a CloudFormation seed); no build started"},
			wantReads: 1,
		},
		{
			name: "the create of a seed is ignored", event: "parameter-create.json",
			params:    func(reads *int) historyFunc { return historyOfVersions(reads, seeded(amiSeed)) },
			want:      Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/upstream version 1 was not written by the upstream monitor or the latest-AMI recorder (e.g. a CloudFormation seed); no build started"},
			wantReads: 1,
		},
		{
			// The goldenimage construct's description: any description
			// without the marker is not the monitor's.
			name: "a stack's own description is not the monitor's", event: "parameter-update.json",
			params: func(reads *int) historyFunc {
				return historyOfVersions(reads, byMonitor(amiV3), paramVersion{value: amiV3, description: stackDescription})
			},
			want:      Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/upstream version 2 was not written by the upstream monitor or the latest-AMI recorder (e.g. a CloudFormation seed); no build started"},
			wantReads: 1,
		},
		{
			name: "an invalid value the monitor did not write is ignored, not an error", event: "parameter-update.json",
			params:    func(reads *int) historyFunc { return historyOfVersions(reads, seeded("{{resolve:ssm:/nope}}")) },
			want:      Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/upstream version 1 was not written by the upstream monitor or the latest-AMI recorder (e.g. a CloudFormation seed); no build started"},
			wantReads: 1,
		},
		{
			name: "the monitor's first write after the seed starts a build", event: "parameter-update.json",
			params:    func(reads *int) historyFunc { return historyOfVersions(reads, seeded(amiSeed), byMonitor(amiV3)) },
			want:      started("parameter /golden-ami/upstream version 2 is "+amiV3+" (its value since version 2)", 2, amiV3),
			wantReads: 1, wantStarts: 1,
		},
		{
			// An SSM upstream's seed resolves to the upstream's own AMI; the
			// monitor claims it by writing it again with its description.
			name: "the monitor's claim of the seeded value starts a build", event: "parameter-update.json",
			params:    func(reads *int) historyFunc { return historyOfVersions(reads, seeded(amiV3), byMonitor(amiV3)) },
			want:      started("parameter /golden-ami/upstream version 2 is "+amiV3+" (its value since version 2)", 2, amiV3),
			wantReads: 1, wantStarts: 1,
		},
		{
			name: "the monitor restoring its value after a seed rewrite reuses the earlier token", event: "parameter-update.json",
			params: func(reads *int) historyFunc {
				return historyOfVersions(reads, byMonitor(amiV4), byMonitor(amiV3), seeded(amiSeed), seeded(amiSeed), byMonitor(amiV3))
			},
			want:      started("parameter /golden-ami/upstream version 5 is "+amiV3+" (its value since version 2, skipping 2 versions not written by the upstream monitor or the latest-AMI recorder)", 2, amiV3),
			wantReads: 1, wantStarts: 1,
		},
		{
			name: "a new value after a seed rewrite starts a new build", event: "parameter-update.json",
			params: func(reads *int) historyFunc {
				return historyOfVersions(reads, byMonitor(amiV3), seeded(amiSeed), byMonitor(amiV4))
			},
			want:      started("parameter /golden-ami/upstream version 3 is "+amiV4+" (its value since version 3)", 3, amiV4),
			wantReads: 1, wantStarts: 1,
		},
		{
			// The seed held amiV4 before the monitor did, but no build ran
			// for the seed: the monitor's amiV4 is new.
			name: "a seed holding the monitor's next value does not lend it its version", event: "parameter-update.json",
			params: func(reads *int) historyFunc {
				return historyOfVersions(reads, byMonitor(amiV3), seeded(amiV4), byMonitor(amiV4))
			},
			want:      started("parameter /golden-ami/upstream version 3 is "+amiV4+" (its value since version 3)", 3, amiV4),
			wantReads: 1, wantStarts: 1,
		},
		{
			// A team's pipeline built on the golden image: its upstream is
			// the platform's latest-AMI parameter, which the recorder writes.
			name: "a golden AMI the recorder wrote starts a build", event: "parameter-update.json",
			params: func(reads *int) historyFunc {
				return historyOfVersions(reads, byRecorder(amiV3, "1.2.0/4"), byRecorder(amiV4, "1.905723114.33219876/1"))
			},
			want:      started("parameter /golden-ami/upstream version 2 is "+amiV4+" (its value since version 2)", 2, amiV4),
			wantReads: 1, wantStarts: 1,
		},
		{
			name: "a value written by hand after the recorder's is ignored", event: "parameter-update.json",
			params: func(reads *int) historyFunc {
				return historyOfVersions(reads, byRecorder(amiV3, "1.2.0/4"), paramVersion{value: amiV4, description: "pinned by hand during INC-4211"})
			},
			want:      Result{Decision: DecisionIgnored, Reason: "parameter /golden-ami/upstream version 2 was not written by the upstream monitor or the latest-AMI recorder (e.g. a CloudFormation seed); no build started"},
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
			want:      Result{Decision: DecisionAlreadyStarted, Reason: "client token " + tokV3 + " was already used for parameter /golden-ami/upstream value " + amiV3 + " (version 3, since version 3)", ClientToken: tokV3},
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
				t.Errorf("GetParameterHistory calls = %d, want %d", reads, tc.wantReads)
			}
			if len(starter.calls) != tc.wantStarts {
				t.Errorf("StartImagePipelineExecution calls = %d, want %d", len(starter.calls), tc.wantStarts)
			}
			for _, in := range starter.calls {
				if want := cmp.Or(tc.want.ClientToken, tokV3); aws.ToString(in.ImagePipelineArn) != pipelineARN || aws.ToString(in.ClientToken) != want {
					t.Errorf("start input = %+v, want pipeline %s token %s", in, pipelineARN, want)
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

// A redelivered event, a second event for the same version, and a new
// version that writes the same AMI again (a retried PutParameter whose first
// response was lost, overlapping monitor runs) start one execution; a new
// value starts another, and so does a return to an earlier value.
func TestRedeliveryStartsOneExecutionPerChange(t *testing.T) {
	var reads int
	values := []string{amiV3}
	params := historyFunc(func(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
		return historyOf(&reads, values...)(ctx, in, optFns...)
	})
	ib := &imageBuilder{}
	h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: params, Pipelines: ib}
	ev := loadEvent(t, "parameter-update.json")
	handle := func(ev events.CloudWatchEvent) Result {
		t.Helper()
		res, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	first := handle(ev)
	again := handle(ev)
	third := handle(loadEvent(t, "parameter-create.json"))
	values = append(values, amiV3) // version 2: the same AMI written again
	rewritten := handle(ev)
	if first.ClientToken != again.ClientToken || first.ClientToken != third.ClientToken || first.ClientToken != rewritten.ClientToken ||
		first.ImageBuildVersionARN != rewritten.ImageBuildVersionARN {
		t.Errorf("results differ for one change:\n%+v\n%+v\n%+v\n%+v", first, again, third, rewritten)
	}
	if len(ib.byToken) != 1 {
		t.Fatalf("executions = %d, want 1", len(ib.byToken))
	}

	values = append(values, amiV4) // version 3: a new AMI
	next := handle(ev)
	if len(ib.byToken) != 2 || next.ImageBuildVersionARN == first.ImageBuildVersionARN {
		t.Errorf("new value: executions = %d, result %+v; want a second execution", len(ib.byToken), next)
	}
	values = append(values, amiV3) // version 4: back to the first AMI
	back := handle(ev)
	if len(ib.byToken) != 3 || back.ClientToken == first.ClientToken {
		t.Errorf("return to an earlier value: executions = %d, result %+v; want a third execution", len(ib.byToken), back)
	}
}

// The defect this guards against: CloudFormation re-writes the seed
// whenever it updates the parameter resource, and the monitor writes the
// upstream back. Neither may build the same base twice, nor build the seed.
func TestSeedRewritesStartNoBuild(t *testing.T) {
	var reads int
	var versions []paramVersion
	params := historyFunc(func(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
		return historyOfVersions(&reads, versions...)(ctx, in, optFns...)
	})
	ib := &imageBuilder{}
	h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: params, Pipelines: ib}
	write := func(v paramVersion, event string) Result {
		t.Helper()
		versions = append(versions, v)
		res, err := h.Handle(context.Background(), loadEvent(t, event))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	if res := write(seeded(amiSeed), "parameter-create.json"); res.Decision != DecisionIgnored || len(ib.calls) != 0 {
		t.Fatalf("first deploy's seed: %+v, %d starts; want ignored and none", res, len(ib.calls))
	}
	built := write(byMonitor(amiV3), "parameter-update.json")
	if built.Decision != DecisionStarted || len(ib.byToken) != 1 {
		t.Fatalf("monitor's first write: %+v, %d executions; want started, 1", built, len(ib.byToken))
	}
	if res := write(seeded(amiSeed), "parameter-update.json"); res.Decision != DecisionIgnored {
		t.Fatalf("seed rewrite on a stack update: %+v, want ignored", res)
	}
	restored := write(byMonitor(amiV3), "parameter-update.json")
	if restored.ClientToken != built.ClientToken || restored.ImageBuildVersionARN != built.ImageBuildVersionARN || len(ib.byToken) != 1 {
		t.Errorf("monitor's restore: %+v, %d executions; want the original execution %s (token %s)", restored, len(ib.byToken), built.ImageBuildVersionARN, built.ClientToken)
	}
	next := write(byMonitor(amiV4), "parameter-update.json")
	if len(ib.byToken) != 2 || next.ImageBuildVersionARN == built.ImageBuildVersionARN {
		t.Errorf("a new upstream AMI: %+v, %d executions; want a second execution", next, len(ib.byToken))
	}
}

// A history longer than one page is read to its end, and the run of equal
// values is found across page boundaries.
func TestHistoryIsReadAcrossPages(t *testing.T) {
	var reads int
	values := make([]string, 120)
	for i := range values {
		values[i] = amiV4
		if i >= 45 {
			values[i] = amiV3
		}
	}
	ib := &imageBuilder{}
	h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: historyOf(&reads, values...), Pipelines: ib}
	got, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := clientToken(pipelineARN, paramName, 46, writtenAt(46), amiV3); got.ClientToken != want || reads != 3 {
		t.Errorf("token %s after %d reads, want %s (since version 46) after 3 pages of 50", got.ClientToken, reads, want)
	}
	if want := "parameter /golden-ami/upstream version 120 is " + amiV3 + " (its value since version 46)"; got.Reason != want {
		t.Errorf("reason = %q, want %q", got.Reason, want)
	}
}

// GetParameterHistory documents no order: a history listed newest first,
// with its pages in reverse, or shuffled gives the same decision and
// client token as one listed oldest first.
func TestHistoryInAnyOrderGivesTheSameDecision(t *testing.T) {
	long := make([]paramVersion, 120) // three pages: the run of amiV3 starts on the first
	for i := range long {
		long[i] = byMonitor(amiV4)
		if i >= 45 {
			long[i] = byMonitor(amiV3)
		}
	}
	restored := []paramVersion{byMonitor(amiV4), byMonitor(amiV3), seeded(amiSeed), seeded(amiSeed), byMonitor(amiV3)}
	newestFirst := func(n int) []int {
		order := make([]int, n)
		for k := range order {
			order[k] = n - 1 - k
		}
		return order
	}
	pagesReversed := func(n int) []int { // the newest page first, each page oldest first
		var order []int
		for end := n; end > 0; end -= 50 {
			for i := max(end-50, 0); i < end; i++ {
				order = append(order, i)
			}
		}
		return order
	}
	shuffled := func(n int) []int { return rand.New(rand.NewPCG(1, 2)).Perm(n) }

	for _, h := range []struct {
		name     string
		versions []paramVersion
		want     Result
	}{
		{"120 versions, the value since version 46", long,
			started("parameter /golden-ami/upstream version 120 is "+amiV3+" (its value since version 46)", 46, amiV3)},
		{"the monitor restoring its value after a seed rewrite", restored,
			started("parameter /golden-ami/upstream version 5 is "+amiV3+" (its value since version 2, skipping 2 versions not written by the upstream monitor or the latest-AMI recorder)", 2, amiV3)},
	} {
		for _, o := range []struct {
			name  string
			order []int
		}{
			{"oldest first", nil},
			{"newest first", newestFirst(len(h.versions))},
			{"newest page first", pagesReversed(len(h.versions))},
			{"shuffled", shuffled(len(h.versions))},
		} {
			t.Run(h.name+"/"+o.name, func(t *testing.T) {
				var reads int
				ib := &imageBuilder{}
				handler := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: historyInOrder(&reads, o.order, h.versions...), Pipelines: ib}
				got, err := handler.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
				if err != nil {
					t.Fatal(err)
				}
				if got != h.want {
					t.Errorf("result = %+v\nwant %+v", got, h.want)
				}
				if len(ib.calls) != 1 || aws.ToString(ib.calls[0].ClientToken) != h.want.ClientToken {
					t.Errorf("start inputs = %+v, want one with client token %s", ib.calls, h.want.ClientToken)
				}
			})
		}
	}
}

// pinnedToken is clientToken(pipelineARN, paramName, 3, writtenAt(3),
// amiV3), computed outside the code under test: the first 32 hex digits of
// the SHA-256 of pipelineARN + "\n" + paramName + "\n3\n1719814422519\n" +
// amiV3 (writtenAt(3) in Unix milliseconds). A change to the derivation
// changes the token of every change already built, so Image Builder would
// build them all again (while it remembers their tokens): it must fail here.
const pinnedToken = "ac63e2b104ad6f6de6ce34329bb65e2b"

func TestClientToken(t *testing.T) {
	at := writtenAt(3)
	base := clientToken(pipelineARN, paramName, 3, at, amiV3)
	if base != pinnedToken {
		t.Errorf("clientToken(%s, %s, 3, %v, %s) = %s, want %s", pipelineARN, paramName, at, amiV3, base, pinnedToken)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(base) {
		t.Fatalf("clientToken = %q, want 32 hex digits (Image Builder allows 1-36 characters)", base)
	}
	if again := clientToken(pipelineARN, paramName, 3, at, amiV3); again != base {
		t.Errorf("clientToken is not deterministic: %s vs %s", base, again)
	}
	// Parameter Store reports milliseconds; what a float decoding adds
	// below them does not change the token, in any time zone.
	if jitter := clientToken(pipelineARN, paramName, 3, at.Add(300*time.Microsecond).In(time.FixedZone("x", 3600)), amiV3); jitter != base {
		t.Errorf("clientToken changes below the millisecond: %s vs %s", jitter, base)
	}
	for name, other := range map[string]string{
		"version":      clientToken(pipelineARN, paramName, 4, at, amiV3),
		"write time":   clientToken(pipelineARN, paramName, 3, at.Add(time.Millisecond), amiV3),
		"unknown time": clientToken(pipelineARN, paramName, 3, time.Time{}, amiV3),
		"value":        clientToken(pipelineARN, paramName, 3, at, amiV4),
		"parameter":    clientToken(pipelineARN, paramName+"2", 3, at, amiV3),
		"pipeline":     clientToken(pipelineARN+"2", paramName, 3, at, amiV3),
		// The separator keeps field boundaries apart.
		"boundary": clientToken(pipelineARN, paramName+"\n3", 0, at, amiV3),
	} {
		if other == base {
			t.Errorf("changing the %s does not change the token", name)
		}
	}
}

// A parameter deleted and created again (its stack deleted and deployed
// again) restarts at version 1 and can hold a value at a version number the
// old one held it at. The write time tells them apart: the new parameter's
// value is built, not answered with the old parameter's execution.
func TestRecreatedParameterBuildsAgain(t *testing.T) {
	ib := &imageBuilder{}
	handle := func(versions ...paramVersion) Result {
		t.Helper()
		h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: historyOfVersions(new(int), versions...), Pipelines: ib}
		res, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	old := handle(seeded(amiSeed), byMonitor(amiV4))
	if again := handle(seeded(amiSeed), byMonitor(amiV4)); again != old {
		t.Fatalf("the same history twice: %+v then %+v, want the same result", old, again)
	}
	// Re-created a day later: seed at version 1, the same upstream at 2.
	later := func(v paramVersion, n int64) paramVersion { v.at = writtenAt(n).Add(24 * time.Hour); return v }
	got := handle(later(seeded(amiSeed), 1), later(byMonitor(amiV4), 2))
	if got.Decision != DecisionStarted || got.ClientToken == old.ClientToken || got.ImageBuildVersionARN == old.ImageBuildVersionARN {
		t.Errorf("after re-creation: %+v; want a new build (the old one was %s, token %s)", got, old.ImageBuildVersionARN, old.ClientToken)
	}
	if len(ib.byToken) != 2 {
		t.Errorf("executions = %d, want 2", len(ib.byToken))
	}
}

// The token the handler sends is the pinned one, not merely one that
// clientToken agrees with.
func TestStartSendsThePinnedClientToken(t *testing.T) {
	ib := &imageBuilder{}
	h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: parameterAt(amiV3, 3, new(int)), Pipelines: ib}
	got, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Decision != DecisionStarted || got.ClientToken != pinnedToken {
		t.Errorf("result = %+v, want started with client token %s", got, pinnedToken)
	}
	if len(ib.calls) != 1 || aws.ToString(ib.calls[0].ClientToken) != pinnedToken || aws.ToString(ib.calls[0].ImagePipelineArn) != pipelineARN {
		t.Errorf("start inputs = %+v, want one with pipeline %s and client token %s", ib.calls, pipelineARN, pinnedToken)
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

// A failed validation of our own parameter is logged at warn level; the same
// failure of another parameter, and other ignored events, at info.
func TestExceptionOfOurParameterIsAWarning(t *testing.T) {
	var buf strings.Builder
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: parameterAt(amiV3, 3, new(int)), Pipelines: &imageBuilder{}}
	for _, tc := range []struct{ event, level, reason, parameter string }{
		{"parameter-update-exception.json", "WARN", "the Update of /golden-ami/upstream failed Parameter Store validation: Unable to Describe Resource", paramName},
		{"parameter-delete.json", "INFO", "operation Delete does not create a new value", paramName},
		{"other-parameter.json", "INFO", "parameter /golden-ami/latest is not /golden-ami/upstream", "/golden-ami/latest"},
		// The same validation failure as the first, of another parameter:
		// not ours to look at.
		{"other-parameter-exception.json", "INFO", "parameter /golden-ami/latest is not /golden-ami/upstream", "/golden-ami/latest"},
	} {
		buf.Reset()
		if _, err := h.Handle(context.Background(), loadEvent(t, tc.event)); err != nil {
			t.Fatalf("%s: %v", tc.event, err)
		}
		var rec struct{ Level, Msg, Decision, Reason, Parameter string }
		if err := json.Unmarshal([]byte(buf.String()), &rec); err != nil || rec.Level != tc.level || rec.Msg != "event ignored; no build started" ||
			rec.Decision != DecisionIgnored || rec.Reason != tc.reason || rec.Parameter != tc.parameter {
			t.Errorf("%s: log %q (%v)\nwant level %s, decision ignored, reason %q, parameter %s", tc.event, buf.String(), err, tc.level, tc.reason, tc.parameter)
		}
	}
}

// An operation Parameter Store does not send (a new one, a typo, a
// mis-cased one) is a malformed event, not a change to ignore: it is an
// error naming the field and value, and nothing is read or started. The
// documented operations the trigger does not act on are still ignored.
func TestUnknownOperationIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name, detail, wantErr string
		want                  Result
	}{
		{name: "unknown", detail: `{"name":"/golden-ami/upstream","operation":"Frobnicate"}`,
			wantErr: `malformed Parameter Store Change event "6a7e8feb-b491-4cf7-a9f1-bf3703467718": field "detail.operation" = "Frobnicate" is not one of Create, Update, Delete, LabelParameterVersion (detail.name "/golden-ami/upstream")`},
		{name: "mis-cased", detail: `{"name":"/golden-ami/upstream","operation":"update"}`,
			wantErr: `malformed Parameter Store Change event "6a7e8feb-b491-4cf7-a9f1-bf3703467718": field "detail.operation" = "update" is not one of Create, Update, Delete, LabelParameterVersion (detail.name "/golden-ami/upstream")`},
		{name: "unknown, of another parameter", detail: `{"name":"/golden-ami/latest","operation":"Frobnicate"}`,
			wantErr: `malformed Parameter Store Change event "6a7e8feb-b491-4cf7-a9f1-bf3703467718": field "detail.operation" = "Frobnicate" is not one of Create, Update, Delete, LabelParameterVersion (detail.name "/golden-ami/latest")`},
		{name: "Delete is ignored", detail: `{"name":"/golden-ami/upstream","operation":"Delete"}`,
			want: Result{Decision: DecisionIgnored, Reason: "operation Delete does not create a new value"}},
		{name: "LabelParameterVersion is ignored", detail: `{"name":"/golden-ami/upstream","operation":"LabelParameterVersion"}`,
			want: Result{Decision: DecisionIgnored, Reason: "operation LabelParameterVersion does not create a new value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reads int
			ib := &imageBuilder{}
			h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Params: parameterAt(amiV3, 3, &reads), Pipelines: ib}
			ev := loadEvent(t, "parameter-update.json")
			ev.Detail = json.RawMessage(tc.detail)
			got, err := h.Handle(context.Background(), ev)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
				}
			} else if err != nil || got != tc.want {
				t.Fatalf("Handle = %+v, %v\nwant %+v", got, err, tc.want)
			}
			if reads != 0 || len(ib.calls) != 0 {
				t.Errorf("history reads = %d, starts = %d; want none", reads, len(ib.calls))
			}
		})
	}
}

// A service that repeats a NextToken would have the history read again and
// again until the function times out; the read stops with an error naming
// the token, and nothing is started.
func TestRepeatedHistoryTokenStopsTheRead(t *testing.T) {
	reads := 0
	ib := &imageBuilder{}
	h := &Handler{PipelineARN: pipelineARN, ParameterName: paramName, Pipelines: ib,
		Params: historyFunc(func(_ context.Context, in *ssm.GetParameterHistoryInput, _ ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
			if reads++; reads > 10 {
				return nil, errors.New("read 10 times")
			}
			return &ssm.GetParameterHistoryOutput{NextToken: aws.String("same"), Parameters: []ssmtypes.ParameterHistory{
				{Name: in.Name, Value: aws.String(amiV3), Description: aws.String(monitorDescription), Version: int64(reads)}}}, nil
		})}
	_, err := h.Handle(context.Background(), loadEvent(t, "parameter-update.json"))
	want := `get parameter history of /golden-ami/upstream: the service returned NextToken "same" a second time (after 2 pages); stopping rather than reading the same pages again`
	if err == nil || err.Error() != want || reads != 2 || len(ib.calls) != 0 {
		t.Errorf("err = %v after %d reads and %d starts; want %q after 2 reads and none", err, reads, len(ib.calls), want)
	}
}
