package main

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/platform-eng/golden-ami/internal/contract"
)

const (
	paramName = "/golden-ami/upstream"
	amiOld    = "ami-0aaaaaaaaaaaaaaa0"
	amiNew    = "ami-0bbbbbbbbbbbbbbb0"
)

// apiErr builds an error shaped like the SDK's: an OperationError wrapping
// an API error with a code.
func apiErr(service, op, code, msg string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &smithy.GenericAPIError{Code: code, Message: msg}}
}

// fakeSSM is a function-field fake with the SDK's method signatures. Nil
// functions answer with a plain success; every write is recorded.
type fakeSSM struct {
	getParameter      func(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	putParameter      func(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	addTagsToResource func(ctx context.Context, in *ssm.AddTagsToResourceInput, optFns ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
	// listTagsForResource nil answers with no tags, like a parameter that
	// was never tagged.
	listTagsForResource func(ctx context.Context, in *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	// getParameterHistory nil answers with the one version getParameter
	// returns, written by the monitor (its description has the marker).
	getParameterHistory func(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error)

	gets      []string
	histories []*ssm.GetParameterHistoryInput
	puts      []*ssm.PutParameterInput
	tags      []*ssm.AddTagsToResourceInput
	lists     []*ssm.ListTagsForResourceInput
}

func (f *fakeSSM) GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
	f.histories = append(f.histories, in)
	if f.getParameterHistory != nil {
		return f.getParameterHistory(ctx, in, optFns...)
	}
	if f.getParameter == nil {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("not found")}
	}
	out, err := f.getParameter(ctx, &ssm.GetParameterInput{Name: in.Name})
	if err != nil {
		return nil, err
	}
	p := out.Parameter
	return &ssm.GetParameterHistoryOutput{Parameters: []ssmtypes.ParameterHistory{{Name: p.Name, Value: p.Value, Version: p.Version,
		Description: aws.String(contract.UpstreamDescriptionPrefix + "elasticbeanstalk:an earlier run"), LastModifiedDate: p.LastModifiedDate}}}, nil
}

// seedDescription is how CloudFormation describes the parameter it creates
// (constructs/amimonitor).
const seedDescription = "Upstream AMI seed; the upstream monitor replaces it"

// versions answers GetParameterHistory with value@version pairs described
// as given, in one page.
func versions(vs ...ssmtypes.ParameterHistory) func(context.Context, *ssm.GetParameterHistoryInput, ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
	return func(_ context.Context, in *ssm.GetParameterHistoryInput, _ ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
		return &ssm.GetParameterHistoryOutput{Parameters: vs}, nil
	}
}

func version(n int64, value, description string) ssmtypes.ParameterHistory {
	return ssmtypes.ParameterHistory{Name: aws.String(paramName), Version: n, Value: aws.String(value), Description: aws.String(description)}
}

func (f *fakeSSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.gets = append(f.gets, aws.ToString(in.Name))
	if f.getParameter == nil {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("not found")}
	}
	return f.getParameter(ctx, in, optFns...)
}

func (f *fakeSSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	f.puts = append(f.puts, in)
	if f.putParameter == nil {
		return &ssm.PutParameterOutput{Version: 2}, nil
	}
	return f.putParameter(ctx, in, optFns...)
}

func (f *fakeSSM) AddTagsToResource(ctx context.Context, in *ssm.AddTagsToResourceInput, optFns ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
	f.tags = append(f.tags, in)
	if f.addTagsToResource == nil {
		return &ssm.AddTagsToResourceOutput{}, nil
	}
	return f.addTagsToResource(ctx, in, optFns...)
}

func (f *fakeSSM) ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
	f.lists = append(f.lists, in)
	if f.listTagsForResource == nil {
		return &ssm.ListTagsForResourceOutput{}, nil
	}
	return f.listTagsForResource(ctx, in, optFns...)
}

// taggedWith answers ListTagsForResource with key, value pairs.
func taggedWith(kv ...string) func(context.Context, *ssm.ListTagsForResourceInput, ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
	return func(context.Context, *ssm.ListTagsForResourceInput, ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
		out := &ssm.ListTagsForResourceOutput{}
		for i := 0; i < len(kv); i += 2 {
			out.TagList = append(out.TagList, ssmtypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return out, nil
	}
}

// holdingSince is holding with the LastModifiedDate of the value's write.
func holdingSince(value string, written time.Time) func(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return func(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(value), Version: 7, LastModifiedDate: aws.Time(written)}}, nil
	}
}

func holding(value string) func(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return func(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(value), Version: 7}}, nil
	}
}

type upstreamFunc func(ctx context.Context) (upstreamAMI, error)

func (f upstreamFunc) Resolve(ctx context.Context) (upstreamAMI, error) { return f(ctx) }

func upstreamOf(id string) upstreamFunc {
	return func(context.Context) (upstreamAMI, error) {
		return upstreamAMI{ImageID: id, Source: "elasticbeanstalk:arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.10.0"}, nil
	}
}

var (
	fixedNow = time.Date(2024, 7, 1, 6, 0, 3, 0, time.UTC)
	// writtenAt is when an earlier run wrote the value it then failed to tag.
	writtenAt = time.Date(2024, 6, 30, 6, 0, 2, 0, time.FixedZone("CEST", 2*60*60))
)

func TestHandle(t *testing.T) {
	wantSource := "elasticbeanstalk:arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.10.0"
	for _, tc := range []struct {
		name     string
		upstream upstreamFunc
		ssm      *fakeSSM
		want     Result
		wantErr  string
		wantPuts int
		wantTags int
		// wantLists is how many times the tags are read: only when the
		// value is already current.
		wantLists int
		// wantTagSet is what each AddTagsToResource writes; nil means the
		// upstream source and observed-at fixedNow.
		wantTagSet map[string]string
		// wantHistories is how many times the history is read: only when
		// the value is already current, to see who wrote it.
		wantHistories int
	}{
		{
			name:     "missing parameter is created",
			upstream: upstreamOf(amiNew),
			ssm:      &fakeSSM{},
			want:     Result{Changed: true, Previous: "", Current: amiNew, Source: wantSource},
			wantPuts: 1, wantTags: 1,
		},
		{
			name:     "changed upstream overwrites and tags",
			upstream: upstreamOf(amiNew),
			ssm:      &fakeSSM{getParameter: holding(amiOld)},
			want:     Result{Changed: true, Previous: amiOld, Current: amiNew, Source: wantSource},
			wantPuts: 1, wantTags: 1,
		},
		{
			name:     "unchanged upstream with its tags writes nothing",
			upstream: upstreamOf(amiOld),
			ssm: &fakeSSM{getParameter: holdingSince(amiOld, writtenAt),
				listTagsForResource: taggedWith(contract.TagObservedAt, "2024-06-30T04:00:02Z", contract.TagUpstreamSource, wantSource, "team", "platform")},
			want:      Result{Changed: false, Previous: amiOld, Current: amiOld, Source: wantSource},
			wantLists: 1, wantHistories: 1,
		},
		{
			// The tag holds tagValue(source), not the source itself.
			name: "unchanged upstream whose source needed escaping writes nothing",
			upstream: func(context.Context) (upstreamAMI, error) {
				return upstreamAMI{ImageID: amiOld, Source: "ec2-image:amazon/al2023 (minimal)*"}, nil
			},
			ssm: &fakeSSM{getParameter: holding(amiOld),
				listTagsForResource: taggedWith(contract.TagUpstreamSource, "ec2-image:amazon/al2023 _minimal__", contract.TagObservedAt, "2024-06-30T04:00:02Z")},
			want:      Result{Previous: amiOld, Current: amiOld, Source: "ec2-image:amazon/al2023 (minimal)*"},
			wantLists: 1, wantHistories: 1,
		},
		{
			// A previous run wrote the value, then failed to tag it; its
			// retry must not report "unchanged" and leave the tags missing.
			name:     "tags lost to a failed tag write are re-applied without writing the value",
			upstream: upstreamOf(amiNew),
			ssm:      &fakeSSM{getParameter: holdingSince(amiNew, writtenAt), listTagsForResource: taggedWith("team", "platform")},
			want:     Result{Changed: false, Retagged: true, Previous: amiNew, Current: amiNew, Source: wantSource},
			wantTags: 1, wantLists: 1, wantHistories: 1,
			// observed-at is when the value was written, not now.
			wantTagSet: map[string]string{contract.TagUpstreamSource: wantSource, contract.TagObservedAt: "2024-06-30T04:00:02Z"},
		},
		{
			name:     "a stale upstream-source tag is corrected without writing the value",
			upstream: upstreamOf(amiNew),
			ssm: &fakeSSM{getParameter: holdingSince(amiNew, writtenAt),
				listTagsForResource: taggedWith(contract.TagUpstreamSource, "ssm-parameter:/somewhere/else", contract.TagObservedAt, "2024-06-30T04:00:02Z")},
			want:     Result{Changed: false, Retagged: true, Previous: amiNew, Current: amiNew, Source: wantSource},
			wantTags: 1, wantLists: 1, wantHistories: 1,
			wantTagSet: map[string]string{contract.TagUpstreamSource: wantSource, contract.TagObservedAt: "2024-06-30T04:00:02Z"},
		},
		{
			// Without the write time the monitor does not know when the
			// AMI was first observed, so it does not claim a time.
			name:     "a retag without the value's write time leaves observed-at alone",
			upstream: upstreamOf(amiNew),
			ssm:      &fakeSSM{getParameter: holding(amiNew)},
			want:     Result{Changed: false, Retagged: true, Previous: amiNew, Current: amiNew, Source: wantSource},
			wantTags: 1, wantLists: 1, wantHistories: 1,
			wantTagSet: map[string]string{contract.TagUpstreamSource: wantSource},
		},
		{
			name:      "throttled ListTagsForResource is an error naming the call and writes nothing",
			upstream:  upstreamOf(amiNew),
			ssm:       &fakeSSM{getParameter: holding(amiNew), listTagsForResource: listTagsFails("ThrottlingException", "Rate exceeded")},
			wantErr:   "list tags of parameter /golden-ami/upstream: operation error SSM: ListTagsForResource, api error ThrottlingException: Rate exceeded",
			wantLists: 1, wantHistories: 1,
		},
		{
			name:      "denied ListTagsForResource is an error naming the call and writes nothing",
			upstream:  upstreamOf(amiNew),
			ssm:       &fakeSSM{getParameter: holding(amiNew), listTagsForResource: listTagsFails("AccessDeniedException", "not authorized to perform: ssm:ListTagsForResource")},
			wantErr:   "list tags of parameter /golden-ami/upstream: operation error SSM: ListTagsForResource, api error AccessDeniedException: not authorized to perform: ssm:ListTagsForResource",
			wantLists: 1, wantHistories: 1,
		},
		{
			name:     "failed retag is an error naming the call",
			upstream: upstreamOf(amiNew),
			ssm: &fakeSSM{getParameter: holdingSince(amiNew, writtenAt), addTagsToResource: func(context.Context, *ssm.AddTagsToResourceInput, ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
				return nil, apiErr("SSM", "AddTagsToResource", "ThrottlingException", "Rate exceeded")
			}},
			wantErr:  "retag parameter /golden-ami/upstream, which already holds " + amiNew + ": operation error SSM: AddTagsToResource, api error ThrottlingException: Rate exceeded",
			wantTags: 1, wantLists: 1, wantHistories: 1,
			wantTagSet: map[string]string{contract.TagUpstreamSource: wantSource, contract.TagObservedAt: "2024-06-30T04:00:02Z"},
		},
		{
			// CloudFormation wrote the value (the seed of an SSM upstream
			// resolves to the upstream's AMI): the monitor writes it again
			// with its description, so the trigger builds it once.
			name:     "a value the monitor did not write is claimed",
			upstream: upstreamOf(amiNew),
			ssm: &fakeSSM{getParameter: holdingSince(amiNew, writtenAt),
				getParameterHistory: versions(version(6, amiOld, contract.UpstreamDescriptionPrefix+wantSource), version(7, amiNew, seedDescription))},
			want:     Result{Claimed: true, Previous: amiNew, Current: amiNew, Source: wantSource},
			wantPuts: 1, wantTags: 1, wantHistories: 1,
			// observed-at is when the value was written, as for a retag.
			wantTagSet: map[string]string{contract.TagUpstreamSource: wantSource, contract.TagObservedAt: "2024-06-30T04:00:02Z"},
		},
		{
			name:     "a claim without the value's write time observes the AMI now",
			upstream: upstreamOf(amiNew),
			ssm:      &fakeSSM{getParameter: holding(amiNew), getParameterHistory: versions(version(7, amiNew, ""))},
			want:     Result{Claimed: true, Previous: amiNew, Current: amiNew, Source: wantSource},
			wantPuts: 1, wantTags: 1, wantHistories: 1,
		},
		{
			// Only the version GetParameter returned counts: an older
			// monitor write of the same value does not make it the monitor's.
			name:     "the claimed version is the current one",
			upstream: upstreamOf(amiNew),
			ssm: &fakeSSM{getParameter: holding(amiNew),
				getParameterHistory: versions(version(7, amiNew, seedDescription), version(5, amiNew, contract.UpstreamDescriptionPrefix+wantSource))},
			want:     Result{Claimed: true, Previous: amiNew, Current: amiNew, Source: wantSource},
			wantPuts: 1, wantTags: 1, wantHistories: 1,
		},
		{
			name:     "a value the monitor did not write is overwritten when it differs",
			upstream: upstreamOf(amiNew),
			ssm:      &fakeSSM{getParameter: holding(amiOld), getParameterHistory: versions(version(7, amiOld, seedDescription))},
			want:     Result{Changed: true, Previous: amiOld, Current: amiNew, Source: wantSource},
			wantPuts: 1, wantTags: 1,
		},
		{
			name:     "throttled history read is an error naming the call and writes nothing",
			upstream: upstreamOf(amiNew),
			ssm: &fakeSSM{getParameter: holding(amiNew), getParameterHistory: func(context.Context, *ssm.GetParameterHistoryInput, ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
				return nil, apiErr("SSM", "GetParameterHistory", "ThrottlingException", "Rate exceeded")
			}},
			wantErr:       "get parameter history of /golden-ami/upstream: operation error SSM: GetParameterHistory, api error ThrottlingException: Rate exceeded",
			wantHistories: 1,
		},
		{
			name:          "a current version missing from the history is an error and writes nothing",
			upstream:      upstreamOf(amiNew),
			ssm:           &fakeSSM{getParameter: holding(amiNew), getParameterHistory: versions(version(6, amiNew, seedDescription))},
			wantErr:       "get parameter history of /golden-ami/upstream: version 7, which holds " + amiNew + ", is not in it; nothing written",
			wantHistories: 1,
		},
		{
			name:     "a failed claim is an error naming the call",
			upstream: upstreamOf(amiNew),
			ssm: &fakeSSM{getParameter: holding(amiNew), getParameterHistory: versions(version(7, amiNew, seedDescription)),
				putParameter: func(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
					return nil, apiErr("SSM", "PutParameter", "TooManyUpdates", "Too many updates")
				}},
			wantErr:  "claim parameter /golden-ami/upstream, which already holds " + amiNew + " written by another writer: operation error SSM: PutParameter, api error TooManyUpdates: Too many updates",
			wantPuts: 1, wantHistories: 1,
		},
		{
			name: "upstream failure is an error and touches nothing",
			upstream: func(context.Context) (upstreamAMI, error) {
				return upstreamAMI{}, errors.New("platform version arn:x has no hvm AMI in CustomAmiList")
			},
			ssm:     &fakeSSM{getParameter: holding(amiOld)},
			wantErr: "resolve upstream AMI: platform version arn:x has no hvm AMI in CustomAmiList",
		},
		{
			name:     "invalid upstream AMI id is an error and touches nothing",
			upstream: upstreamOf("ami-XYZ"),
			ssm:      &fakeSSM{getParameter: holding(amiOld)},
			wantErr:  `upstream ` + wantSource + `: "ami-XYZ" is not an AMI id (want "ami-" followed by 8 or 17 hex digits); parameter /golden-ami/upstream left unchanged`,
		},
		{
			name:     "throttled read is a wrapped error naming the operation",
			upstream: upstreamOf(amiNew),
			ssm: &fakeSSM{getParameter: func(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
				return nil, apiErr("SSM", "GetParameter", "ThrottlingException", "Rate exceeded")
			}},
			wantErr: "get parameter /golden-ami/upstream: operation error SSM: GetParameter, api error ThrottlingException: Rate exceeded",
		},
		{
			name:     "throttled write is a wrapped error and nothing is tagged",
			upstream: upstreamOf(amiNew),
			ssm: &fakeSSM{getParameter: holding(amiOld), putParameter: func(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
				return nil, apiErr("SSM", "PutParameter", "TooManyUpdates", "Too many updates")
			}},
			wantErr:  "put parameter /golden-ami/upstream = " + amiNew + ": operation error SSM: PutParameter, api error TooManyUpdates: Too many updates",
			wantPuts: 1,
		},
		{
			name:     "failed tagging is an error after the write",
			upstream: upstreamOf(amiNew),
			ssm: &fakeSSM{getParameter: holding(amiOld), addTagsToResource: func(context.Context, *ssm.AddTagsToResourceInput, ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
				return nil, apiErr("SSM", "AddTagsToResource", "ThrottlingException", "Rate exceeded")
			}},
			want:     Result{Changed: true, Previous: amiOld, Current: amiNew, Source: wantSource},
			wantErr:  "tag parameter /golden-ami/upstream after writing " + amiNew + ": operation error SSM: AddTagsToResource, api error ThrottlingException: Rate exceeded",
			wantPuts: 1, wantTags: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{ParameterName: paramName, Upstream: tc.upstream, Params: tc.ssm, Now: func() time.Time { return fixedNow }}
			got, err := h.Handle(context.Background())
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("Handle error = %v\nwant %s", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("result = %+v, want %+v", got, tc.want)
			}
			if len(tc.ssm.puts) != tc.wantPuts {
				t.Errorf("PutParameter calls = %d, want %d", len(tc.ssm.puts), tc.wantPuts)
			}
			if len(tc.ssm.tags) != tc.wantTags {
				t.Errorf("AddTagsToResource calls = %d, want %d", len(tc.ssm.tags), tc.wantTags)
			}
			if len(tc.ssm.lists) != tc.wantLists {
				t.Errorf("ListTagsForResource calls = %d, want %d", len(tc.ssm.lists), tc.wantLists)
			}
			if len(tc.ssm.histories) != tc.wantHistories {
				t.Errorf("GetParameterHistory calls = %d, want %d", len(tc.ssm.histories), tc.wantHistories)
			}
			for _, in := range tc.ssm.histories {
				if aws.ToString(in.Name) != paramName {
					t.Errorf("GetParameterHistory input = %+v", in)
				}
			}
			for _, in := range tc.ssm.lists {
				if in.ResourceType != ssmtypes.ResourceTypeForTaggingParameter || aws.ToString(in.ResourceId) != paramName {
					t.Errorf("ListTagsForResource input = %+v", in)
				}
			}
			for _, in := range tc.ssm.puts {
				if aws.ToString(in.Name) != paramName || aws.ToString(in.Value) != amiNew ||
					in.Type != ssmtypes.ParameterTypeString || aws.ToString(in.DataType) != contract.DataTypeEC2Image ||
					!aws.ToBool(in.Overwrite) || len(in.Tags) != 0 {
					t.Errorf("PutParameter input = %+v", in)
				}
				// Every write carries the marker the trigger builds on.
				if got, want := aws.ToString(in.Description), contract.UpstreamDescriptionPrefix+wantSource; got != want {
					t.Errorf("PutParameter description = %q, want %q", got, want)
				}
			}
			for _, in := range tc.ssm.tags {
				if in.ResourceType != ssmtypes.ResourceTypeForTaggingParameter || aws.ToString(in.ResourceId) != paramName {
					t.Errorf("AddTagsToResource input = %+v", in)
				}
				got := map[string]string{}
				for _, tag := range in.Tags {
					got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
				}
				want := tc.wantTagSet
				if want == nil {
					want = map[string]string{contract.TagUpstreamSource: wantSource, contract.TagObservedAt: "2024-07-01T06:00:03Z"}
				}
				if !maps.Equal(got, want) {
					t.Errorf("tags = %v, want %v", got, want)
				}
			}
		})
	}
}

// The description marks the monitor's writes and stays within Parameter
// Store's 1,024-character limit, whatever the source.
func TestDescriptionStartsWithTheMarkerAndFitsParameterStore(t *testing.T) {
	for _, source := range []string{
		"ssm-parameter:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
		"ec2-image:amazon/" + strings.Repeat("x", 2000),
		"ec2-image:amazon/" + strings.Repeat("é", 2000), // 2 bytes each
	} {
		d := description(source)
		if !strings.HasPrefix(d, contract.UpstreamDescriptionPrefix) {
			t.Errorf("description(%.40q...) = %.80q, want the marker first", source, d)
		}
		if n := len([]rune(d)); n > 1024 {
			t.Errorf("description(%.40q...) has %d characters, want at most 1024", source, n)
		}
		if want := []rune(contract.UpstreamDescriptionPrefix + source); len(want) <= 1024 && d != string(want) {
			t.Errorf("description(%q) = %q, want %q", source, d, string(want))
		}
		if !utf8.ValidString(d) {
			t.Errorf("description(%.40q...) is not valid UTF-8", source)
		}
	}
}

// The handler ignores its payload: the scheduled event, an empty object, no
// payload at all and garbage all lead to the same decision.
func TestHandleAcceptsAnyPayload(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("testdata", "scheduled-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, payload := range []string{string(sample), "{}", "", "null", "[1,2", "\x00"} {
		f := &fakeSSM{getParameter: holding(amiOld)}
		h := &Handler{ParameterName: paramName, Upstream: upstreamOf(amiNew), Params: f, Now: func() time.Time { return fixedNow }}
		out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), []byte(payload))
		if err != nil {
			t.Fatalf("Invoke(%q): %v", payload, err)
		}
		want := `{"changed":true,"previous":"` + amiOld + `","current":"` + amiNew + `","source":"elasticbeanstalk:arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.10.0"}`
		if strings.TrimSpace(string(out)) != want {
			t.Errorf("Invoke(%q) = %s\nwant %s", payload, out, want)
		}
	}
}

// fakeEB is a function-field fake of the Elastic Beanstalk client.
type fakeEB struct {
	listPlatformVersions    func(ctx context.Context, in *elasticbeanstalk.ListPlatformVersionsInput, optFns ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.ListPlatformVersionsOutput, error)
	describePlatformVersion func(ctx context.Context, in *elasticbeanstalk.DescribePlatformVersionInput, optFns ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.DescribePlatformVersionOutput, error)
	described               []string
	lists                   []*elasticbeanstalk.ListPlatformVersionsInput
}

func (f *fakeEB) ListPlatformVersions(ctx context.Context, in *elasticbeanstalk.ListPlatformVersionsInput, optFns ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.ListPlatformVersionsOutput, error) {
	f.lists = append(f.lists, in)
	return f.listPlatformVersions(ctx, in, optFns...)
}

func (f *fakeEB) DescribePlatformVersion(ctx context.Context, in *elasticbeanstalk.DescribePlatformVersionInput, optFns ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.DescribePlatformVersionOutput, error) {
	f.described = append(f.described, aws.ToString(in.PlatformArn))
	return f.describePlatformVersion(ctx, in, optFns...)
}

const branch = "Docker running on 64bit Amazon Linux 2023"

func platformARN(v string) string {
	return "arn:aws:elasticbeanstalk:us-east-1::platform/" + branch + "/" + v
}

func summary(version string, status ebtypes.PlatformStatus) ebtypes.PlatformSummary {
	return ebtypes.PlatformSummary{PlatformArn: aws.String(platformARN(version)), PlatformVersion: aws.String(version),
		PlatformStatus: status, PlatformBranchName: aws.String(branch)}
}

// pagesOf serves the summaries in the given pages, following NextToken.
func pagesOf(pages ...[]ebtypes.PlatformSummary) func(context.Context, *elasticbeanstalk.ListPlatformVersionsInput, ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.ListPlatformVersionsOutput, error) {
	return func(_ context.Context, in *elasticbeanstalk.ListPlatformVersionsInput, _ ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.ListPlatformVersionsOutput, error) {
		i := 0
		if in.NextToken != nil {
			i = int(aws.ToString(in.NextToken)[0] - '0')
		}
		out := &elasticbeanstalk.ListPlatformVersionsOutput{PlatformSummaryList: pages[i]}
		if i+1 < len(pages) {
			out.NextToken = aws.String(string(rune('0' + i + 1)))
		}
		return out, nil
	}
}

func describing(amis map[string][]ebtypes.CustomAmi) func(context.Context, *elasticbeanstalk.DescribePlatformVersionInput, ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.DescribePlatformVersionOutput, error) {
	return func(_ context.Context, in *elasticbeanstalk.DescribePlatformVersionInput, _ ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.DescribePlatformVersionOutput, error) {
		return &elasticbeanstalk.DescribePlatformVersionOutput{PlatformDescription: &ebtypes.PlatformDescription{
			PlatformArn: in.PlatformArn, PlatformStatus: ebtypes.PlatformStatusReady, CustomAmiList: amis[aws.ToString(in.PlatformArn)],
		}}, nil
	}
}

func hvm(id string) []ebtypes.CustomAmi {
	return []ebtypes.CustomAmi{
		{VirtualizationType: aws.String("pv"), ImageId: aws.String("ami-0ccccccccccccccc0")},
		{VirtualizationType: aws.String("hvm"), ImageId: aws.String(id)},
	}
}

func TestPlatformBranchPicksNewestReadyVersionNumerically(t *testing.T) {
	eb := &fakeEB{
		listPlatformVersions: pagesOf(
			[]ebtypes.PlatformSummary{summary("4.9.1", ebtypes.PlatformStatusReady), summary("4.11.0", ebtypes.PlatformStatusCreating)},
			[]ebtypes.PlatformSummary{summary("4.10.0", ebtypes.PlatformStatusReady), summary("4.12.0", ebtypes.PlatformStatusFailed), summary("4.2.15", ebtypes.PlatformStatusReady)},
		),
		describePlatformVersion: describing(map[string][]ebtypes.CustomAmi{
			platformARN("4.10.0"): hvm(amiNew),
			platformARN("4.9.1"):  hvm(amiOld),
		}),
	}
	got, err := platformBranchSource{Branch: branch, EB: eb}.Resolve(context.Background())
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	want := upstreamAMI{ImageID: amiNew, Source: "elasticbeanstalk:" + platformARN("4.10.0")}
	if got != want {
		t.Errorf("Resolve = %+v, want %+v", got, want)
	}
	if len(eb.lists) != 2 {
		t.Errorf("ListPlatformVersions calls = %d, want 2 (both pages)", len(eb.lists))
	}
	f := eb.lists[0].Filters
	if len(f) != 1 || aws.ToString(f[0].Type) != "PlatformBranchName" || aws.ToString(f[0].Operator) != "=" || len(f[0].Values) != 1 || f[0].Values[0] != branch {
		t.Errorf("filters = %+v, want PlatformBranchName = %q", f, branch)
	}
	if len(eb.described) != 1 || eb.described[0] != platformARN("4.10.0") {
		t.Errorf("described = %v, want only 4.10.0", eb.described)
	}
}

// A version of another branch is never picked, however new, even when the
// service's filter lets it through; a summary without a branch name is
// taken to be of the filtered branch.
func TestPlatformBranchSkipsOtherBranches(t *testing.T) {
	const otherBranch = "Docker running on 64bit Amazon Linux 2"
	other := ebtypes.PlatformSummary{
		PlatformArn:     aws.String("arn:aws:elasticbeanstalk:us-east-1::platform/" + otherBranch + "/9.0.0"),
		PlatformVersion: aws.String("9.0.0"), PlatformStatus: ebtypes.PlatformStatusReady, PlatformBranchName: aws.String(otherBranch),
	}
	unnamed := summary("4.10.0", ebtypes.PlatformStatusReady)
	unnamed.PlatformBranchName = nil
	eb := &fakeEB{
		listPlatformVersions: pagesOf([]ebtypes.PlatformSummary{summary("4.9.1", ebtypes.PlatformStatusReady), other, unnamed}),
		describePlatformVersion: describing(map[string][]ebtypes.CustomAmi{
			aws.ToString(other.PlatformArn): hvm("ami-0999999999999999f"),
			platformARN("4.10.0"):           hvm(amiNew),
			platformARN("4.9.1"):            hvm(amiOld),
		}),
	}
	got, err := platformBranchSource{Branch: branch, EB: eb}.Resolve(context.Background())
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if want := (upstreamAMI{ImageID: amiNew, Source: "elasticbeanstalk:" + platformARN("4.10.0")}); got != want {
		t.Errorf("Resolve = %+v, want %+v", got, want)
	}
	if len(eb.described) != 1 || eb.described[0] != platformARN("4.10.0") {
		t.Errorf("described = %v, want only %s", eb.described, platformARN("4.10.0"))
	}
}

func TestPlatformBranchErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		eb      *fakeEB
		wantErr string
	}{
		{
			name: "no Ready version",
			eb: &fakeEB{listPlatformVersions: pagesOf([]ebtypes.PlatformSummary{
				summary("4.11.0", ebtypes.PlatformStatusCreating), summary("4.12.0", ebtypes.PlatformStatusFailed), summary("bogus", ebtypes.PlatformStatusReady),
			})},
			wantErr: `platform branch "` + branch + `" has no platform version in status Ready`,
		},
		{
			name: "throttled list",
			eb: &fakeEB{listPlatformVersions: func(context.Context, *elasticbeanstalk.ListPlatformVersionsInput, ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.ListPlatformVersionsOutput, error) {
				return nil, apiErr("Elastic Beanstalk", "ListPlatformVersions", "Throttling", "Rate exceeded")
			}},
			wantErr: `list versions of platform branch "` + branch + `": operation error Elastic Beanstalk: ListPlatformVersions, api error Throttling: Rate exceeded`,
		},
		{
			name: "newest Ready version has no hvm AMI",
			eb: &fakeEB{
				listPlatformVersions: pagesOf([]ebtypes.PlatformSummary{summary("4.10.0", ebtypes.PlatformStatusReady)}),
				describePlatformVersion: describing(map[string][]ebtypes.CustomAmi{platformARN("4.10.0"): {
					{VirtualizationType: aws.String("pv"), ImageId: aws.String("ami-0ccccccccccccccc0")},
					{VirtualizationType: aws.String("hvm"), ImageId: aws.String("")},
				}}),
			},
			wantErr: "platform version " + platformARN("4.10.0") + " has no hvm AMI in CustomAmiList",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := platformBranchSource{Branch: branch, EB: tc.eb}.Resolve(context.Background())
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("Resolve error = %v\nwant %s", err, tc.wantErr)
			}
		})
	}
}

func TestPlatformVersionSource(t *testing.T) {
	arn := platformARN("4.10.0")
	for _, tc := range []struct {
		name     string
		describe func(context.Context, *elasticbeanstalk.DescribePlatformVersionInput, ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.DescribePlatformVersionOutput, error)
		want     upstreamAMI
		wantErr  string
	}{
		{name: "hvm entry wins over pv", describe: describing(map[string][]ebtypes.CustomAmi{arn: hvm(amiNew)}),
			want: upstreamAMI{ImageID: amiNew, Source: "elasticbeanstalk:" + arn}},
		{name: "no hvm entry", describe: describing(map[string][]ebtypes.CustomAmi{arn: {{VirtualizationType: aws.String("pv"), ImageId: aws.String(amiOld)}}}),
			wantErr: "platform version " + arn + " has no hvm AMI in CustomAmiList"},
		{name: "empty CustomAmiList", describe: describing(nil),
			wantErr: "platform version " + arn + " has no hvm AMI in CustomAmiList"},
		{name: "not Ready", describe: func(context.Context, *elasticbeanstalk.DescribePlatformVersionInput, ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.DescribePlatformVersionOutput, error) {
			return &elasticbeanstalk.DescribePlatformVersionOutput{PlatformDescription: &ebtypes.PlatformDescription{PlatformStatus: ebtypes.PlatformStatusDeleted, CustomAmiList: hvm(amiNew)}}, nil
		}, wantErr: "platform version " + arn + " is in status Deleted, want Ready"},
		{name: "throttled", describe: func(context.Context, *elasticbeanstalk.DescribePlatformVersionInput, ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.DescribePlatformVersionOutput, error) {
			return nil, apiErr("Elastic Beanstalk", "DescribePlatformVersion", "Throttling", "Rate exceeded")
		}, wantErr: "describe platform version " + arn + ": operation error Elastic Beanstalk: DescribePlatformVersion, api error Throttling: Rate exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := platformVersionSource{ARN: arn, EB: &fakeEB{describePlatformVersion: tc.describe}}.Resolve(context.Background())
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Resolve error = %v\nwant %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Resolve = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"4.10.0", "4.9.1", 1},
		{"4.9.1", "4.10.0", -1},
		{"4.10", "4.10.0", 0},
		{"10.0.0", "9.99.99", 1},
		{"4.2.15", "4.10.0", -1},
		{"1.0.0.1", "1.0.0", 1},
	} {
		a, err := parseVersion(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := parseVersion(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := compareVersions(a, b); got != tc.want {
			t.Errorf("compareVersions(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for in, wantErr := range map[string]string{
		"":        `version "" is empty`,
		"4.x.0":   `version "4.x.0": part "x" is not a non-negative integer`,
		"4..0":    `version "4..0": part "" is not a non-negative integer`,
		"4.-1.0":  `version "4.-1.0": part "-1" is not a non-negative integer`,
		"4.+1.0":  `version "4.+1.0": part "+1" is not a non-negative integer`,
		"4.10.0 ": `version "4.10.0 ": part "0 " is not a non-negative integer`,
	} {
		if _, err := parseVersion(in); err == nil || err.Error() != wantErr {
			t.Errorf("parseVersion(%q) error = %v, want %s", in, err, wantErr)
		}
	}
}

func TestParameterSource(t *testing.T) {
	name := "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	got, err := parameterSource{Name: name, SSM: &fakeSSM{getParameter: holding(amiNew)}}.Resolve(context.Background())
	if err != nil || got != (upstreamAMI{ImageID: amiNew, Source: "ssm-parameter:" + name}) {
		t.Errorf("Resolve = %+v, %v", got, err)
	}
	_, err = parameterSource{Name: name, SSM: &fakeSSM{}}.Resolve(context.Background())
	if want := "get source parameter " + name + ": ParameterNotFound: not found"; err == nil || err.Error() != want {
		t.Errorf("Resolve(missing) error = %v, want %s", err, want)
	}
}

type describeImagesFunc func(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)

func (f describeImagesFunc) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	return f(ctx, in, optFns...)
}

func image(id, name, created string) ec2types.Image {
	return ec2types.Image{ImageId: aws.String(id), Name: aws.String(name), CreationDate: aws.String(created), State: ec2types.ImageStateAvailable}
}

func TestImageSourcePicksNewestByCreationDate(t *testing.T) {
	var inputs []*ec2.DescribeImagesInput
	pages := [][]ec2types.Image{
		{image("ami-11111111", "al2023-ami-2023.5.20240601.0-kernel-6.1-x86_64", "2024-06-01T10:00:00.000Z"),
			image("ami-22222222", "al2023-ami-2023.5.20240701.0-kernel-6.1-x86_64", "2024-07-01T10:00:00.000Z")},
		{image("ami-33333333", "al2023-ami-2023.5.20240615.0-kernel-6.1-x86_64", "2024-06-15T10:00:00.000Z"),
			image("ami-44444444", "broken-date", "yesterday")},
	}
	ec2c := describeImagesFunc(func(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
		inputs = append(inputs, in)
		if in.NextToken == nil {
			return &ec2.DescribeImagesOutput{Images: pages[0], NextToken: aws.String("p2")}, nil
		}
		return &ec2.DescribeImagesOutput{Images: pages[1]}, nil
	})
	got, err := imageSource{Owner: "amazon", NamePattern: "al2023-ami-2023.*-kernel-6.1-x86_64", EC2: ec2c}.Resolve(context.Background())
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if want := (upstreamAMI{ImageID: "ami-22222222", Source: "ec2-image:amazon/al2023-ami-2023.5.20240701.0-kernel-6.1-x86_64"}); got != want {
		t.Errorf("Resolve = %+v, want %+v", got, want)
	}
	in := inputs[0]
	if len(in.Owners) != 1 || in.Owners[0] != "amazon" || len(in.Filters) != 2 ||
		aws.ToString(in.Filters[0].Name) != "name" || in.Filters[0].Values[0] != "al2023-ami-2023.*-kernel-6.1-x86_64" ||
		aws.ToString(in.Filters[1].Name) != "state" || in.Filters[1].Values[0] != "available" {
		t.Errorf("DescribeImages input = %+v", in)
	}
}

// Only available images count, whatever the service's state filter lets
// through, and equal creation dates are broken by the greater image id, in
// whatever order the images are listed.
func TestImageSourceSkipsUnavailableAndBreaksTies(t *testing.T) {
	const name = "al2023-ami-2023.5.20240701.0-kernel-6.1-x86_64"
	withState := func(img ec2types.Image, state ec2types.ImageState) ec2types.Image {
		img.State = state
		return img
	}
	older := image("ami-11111111", "al2023-ami-2023.5.20240601.0-kernel-6.1-x86_64", "2024-06-01T10:00:00.000Z")
	lo := image("ami-0aaaaaaaaaaaaaaa0", name, "2024-07-01T10:00:00.000Z")
	hi := image("ami-0bbbbbbbbbbbbbbb0", name+"-b", "2024-07-01T10:00:00.000Z")
	for _, tc := range []struct {
		name   string
		images []ec2types.Image
		want   upstreamAMI
	}{
		{name: "a newer pending image is skipped",
			images: []ec2types.Image{older, withState(image("ami-22222222", name, "2024-07-01T10:00:00.000Z"), ec2types.ImageStatePending)},
			want:   upstreamAMI{ImageID: "ami-11111111", Source: "ec2-image:amazon/al2023-ami-2023.5.20240601.0-kernel-6.1-x86_64"}},
		{name: "a newer failed image is skipped",
			images: []ec2types.Image{withState(image("ami-22222222", name, "2024-07-01T10:00:00.000Z"), ec2types.ImageStateFailed), older},
			want:   upstreamAMI{ImageID: "ami-11111111", Source: "ec2-image:amazon/al2023-ami-2023.5.20240601.0-kernel-6.1-x86_64"}},
		{name: "a tie goes to the greater id, listed first",
			images: []ec2types.Image{hi, lo, older},
			want:   upstreamAMI{ImageID: "ami-0bbbbbbbbbbbbbbb0", Source: "ec2-image:amazon/" + name + "-b"}},
		{name: "a tie goes to the greater id, listed last",
			images: []ec2types.Image{older, lo, hi},
			want:   upstreamAMI{ImageID: "ami-0bbbbbbbbbbbbbbb0", Source: "ec2-image:amazon/" + name + "-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ec2c := describeImagesFunc(func(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
				return &ec2.DescribeImagesOutput{Images: tc.images}, nil
			})
			got, err := imageSource{Owner: "amazon", NamePattern: "al2023-ami-2023.*-kernel-6.1-x86_64", EC2: ec2c}.Resolve(context.Background())
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got != tc.want {
				t.Errorf("Resolve = %+v, want %+v", got, tc.want)
			}
		})
	}
	// Nothing available at all is the same error as no image.
	ec2c := describeImagesFunc(func(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
		return &ec2.DescribeImagesOutput{Images: []ec2types.Image{withState(older, ec2types.ImageStateDeregistered)}}, nil
	})
	_, err := imageSource{Owner: "amazon", NamePattern: "al2023-*", EC2: ec2c}.Resolve(context.Background())
	if want := `no available image owned by "amazon" matches name pattern "al2023-*"`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestImageSourceErrors(t *testing.T) {
	none := describeImagesFunc(func(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
		return &ec2.DescribeImagesOutput{}, nil
	})
	_, err := imageSource{Owner: "amazon", NamePattern: "nothing-*", EC2: none}.Resolve(context.Background())
	if want := `no available image owned by "amazon" matches name pattern "nothing-*"`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	throttled := describeImagesFunc(func(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
		return nil, apiErr("EC2", "DescribeImages", "RequestLimitExceeded", "Request limit exceeded.")
	})
	_, err = imageSource{Owner: "amazon", NamePattern: "al2023-*", EC2: throttled}.Resolve(context.Background())
	if want := `describe images owned by "amazon" named "al2023-*": operation error EC2: DescribeImages, api error RequestLimitExceeded: Request limit exceeded.`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestTagValue(t *testing.T) {
	for in, want := range map[string]string{
		"ec2-image:amazon/al2023-ami-2023.5":                        "ec2-image:amazon/al2023-ami-2023.5",
		"elasticbeanstalk:arn:aws:...:platform/Docker (AL2023)/4.0": "elasticbeanstalk:arn:aws:...:platform/Docker _AL2023_/4.0",
		"a*b,c":                  "a_b_c",
		strings.Repeat("x", 300): strings.Repeat("x", 256),
	} {
		if got := tagValue(in); got != want {
			t.Errorf("tagValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// listTagsFails answers ListTagsForResource with the API error code.
func listTagsFails(code, msg string) func(context.Context, *ssm.ListTagsForResourceInput, ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
	return func(context.Context, *ssm.ListTagsForResourceInput, ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
		return nil, apiErr("SSM", "ListTagsForResource", code, msg)
	}
}

// A service that repeats a NextToken would have each listing read again and
// again until the function times out; every pagination stops with an error
// naming the token, and nothing is written.
func TestRepeatedPageTokenStopsTheListing(t *testing.T) {
	const tail = `the service returned NextToken "same" a second time (after 2 pages); stopping rather than reading the same pages again`
	ctx := context.Background()

	calls := 0
	_, err := imageSource{Owner: "amazon", NamePattern: "al2023-*", EC2: describeImagesFunc(func(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
		if calls++; calls > 10 {
			return nil, errors.New("listed 10 times")
		}
		return &ec2.DescribeImagesOutput{NextToken: aws.String("same")}, nil
	})}.Resolve(ctx)
	if want := `describe images owned by "amazon" named "al2023-*": ` + tail; err == nil || err.Error() != want || calls != 2 {
		t.Errorf("images: %v after %d calls, want %q after 2", err, calls, want)
	}

	eb := &fakeEB{}
	eb.listPlatformVersions = func(context.Context, *elasticbeanstalk.ListPlatformVersionsInput, ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.ListPlatformVersionsOutput, error) {
		if len(eb.lists) > 10 {
			return nil, errors.New("listed 10 times")
		}
		return &elasticbeanstalk.ListPlatformVersionsOutput{NextToken: aws.String("same")}, nil
	}
	_, err = platformBranchSource{Branch: branch, EB: eb}.Resolve(ctx)
	if want := "list versions of platform branch " + strconv.Quote(branch) + ": " + tail; err == nil || err.Error() != want || len(eb.lists) != 2 {
		t.Errorf("platform branch: %v after %d calls, want %q after 2", err, len(eb.lists), want)
	}

	puts, histories := 0, 0
	f := &fakeSSM{
		getParameter: holding(amiNew),
		getParameterHistory: func(_ context.Context, in *ssm.GetParameterHistoryInput, _ ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
			if histories++; histories > 10 {
				return nil, errors.New("read 10 times")
			}
			return &ssm.GetParameterHistoryOutput{NextToken: aws.String("same"), Parameters: []ssmtypes.ParameterHistory{
				{Name: in.Name, Value: aws.String(amiOld), Version: 1}}}, nil
		},
		putParameter: func(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
			puts++
			return &ssm.PutParameterOutput{Version: 9}, nil
		},
	}
	h := &Handler{ParameterName: paramName, Upstream: upstreamOf(amiNew), Params: f, Now: func() time.Time { return fixedNow }}
	_, err = h.Handle(ctx)
	if want := "get parameter history of " + paramName + ": " + tail; err == nil || !strings.Contains(err.Error(), want) || puts != 0 {
		t.Errorf("history: %v with %d writes, want an error containing %q and no write", err, puts, want)
	}
}
