package fakeaws_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// apiErr returns the code and message of an API error, or "", "".
func apiErr(err error) (code, message string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// PutParameter answers an aws:ec2:image write with its version number
// before validation; the write is stored under that number, and a rejected
// write leaves a gap, as in Parameter Store.
func TestImageValidationKeepsAnsweredVersions(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := ssm.NewFromConfig(cfg)
	srv.SetParameter("us-east-1", "/p", "ami-11111111")
	srv.SetImageValidation(1, func(ami string) bool { return ami == "ami-99999999" })
	put := func(value string) int64 {
		t.Helper()
		out, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/p"), Value: aws.String(value),
			Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true)})
		if err != nil {
			t.Fatalf("PutParameter(%s): %v", value, err)
		}
		return out.Version
	}
	if v := put("ami-99999999"); v != 2 {
		t.Errorf("rejected write answered version %d, want 2", v)
	}
	if v := put("ami-33333333"); v != 3 {
		t.Errorf("valid write answered version %d, want 3", v)
	}
	var got *ssmtypes.Parameter
	for i := 0; i < 3; i++ {
		out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")})
		if err != nil {
			t.Fatalf("GetParameter: %v", err)
		}
		got = out.Parameter
	}
	if aws.ToString(got.Value) != "ami-33333333" || got.Version != 3 {
		t.Errorf("GetParameter = %s v%d, want ami-33333333 v3", aws.ToString(got.Value), got.Version)
	}
	hist, err := client.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/p")})
	if err != nil {
		t.Fatalf("GetParameterHistory: %v", err)
	}
	var versions []int64
	for _, h := range hist.Parameters {
		versions = append(versions, h.Version)
	}
	if want := []int64{1, 3}; !reflect.DeepEqual(versions, want) {
		t.Errorf("history versions = %v, want %v (the rejected v2 leaves a gap)", versions, want)
	}
	if p, _ := srv.Parameter("us-east-1", "/p"); p.Version != 3 {
		t.Errorf("stored version = %d, want 3", p.Version)
	}
	// The next write continues after the highest number handed out.
	srv.SetImageValidation(0, nil)
	if v := put("ami-44444444"); v != 4 {
		t.Errorf("next write answered version %d, want 4", v)
	}
}

// A parameter can't be changed to or from aws:ec2:image on overwrite.
func TestSSMDataTypeCannotChangeToOrFromImage(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := ssm.NewFromConfig(cfg)
	srv.SetParameter("us-east-1", "/image", "ami-11111111")
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/text"), Value: aws.String("x"),
		Type: ssmtypes.ParameterTypeString, DataType: aws.String("text")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, dataType, from, to string }{
		{"/image", "text", "aws:ec2:image", "text"},
		{"/image", "", "aws:ec2:image", "text"}, // DataType defaults to text
		{"/text", "aws:ec2:image", "text", "aws:ec2:image"},
	} {
		in := &ssm.PutParameterInput{Name: aws.String(tc.name), Value: aws.String("ami-22222222"),
			Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)}
		if tc.dataType != "" {
			in.DataType = aws.String(tc.dataType)
		}
		_, err := client.PutParameter(ctx, in)
		want := "Cannot change the data type of parameter " + tc.name + " from " + tc.from + " to " + tc.to +
			": a parameter can't be changed to or from the aws:ec2:image or aws:ssm:integration data type."
		if code, msg := apiErr(err); code != "ValidationException" || msg != want {
			t.Errorf("PutParameter(%s, DataType %q) error = %v; want ValidationException %q", tc.name, tc.dataType, err, want)
		}
	}
	if p, _ := srv.Parameter("us-east-1", "/image"); p.Value != "ami-11111111" || p.DataType != "aws:ec2:image" {
		t.Errorf("/image = %+v, want unchanged", p)
	}
	if p, _ := srv.Parameter("us-east-1", "/text"); p.Value != "x" || p.DataType != "text" {
		t.Errorf("/text = %+v, want unchanged", p)
	}
	// Same data type is fine.
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/image"), Value: aws.String("ami-33333333"),
		Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true)}); err != nil {
		t.Errorf("PutParameter(same data type): %v", err)
	}
}

// Descriptions and tags are held to Parameter Store's limits.
func TestSSMTagAndDescriptionLimits(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := ssm.NewFromConfig(cfg)
	tags := func(n int, prefix string) []ssmtypes.Tag {
		var out []ssmtypes.Tag
		for i := 0; i < n; i++ {
			out = append(out, ssmtypes.Tag{Key: aws.String(fmt.Sprintf("%s%d", prefix, i)), Value: aws.String("v")})
		}
		return out
	}
	const tooMany = "The Targets parameter includes too many tags. Remove one or more tags and try the command again."
	long := strings.Repeat("d", 1025)
	for _, tc := range []struct {
		name      string
		in        *ssm.PutParameterInput
		code, msg string
	}{
		{"description", &ssm.PutParameterInput{Description: aws.String(long)}, "ValidationException",
			"1 validation error detected: Value '" + long + "' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024"},
		{"51 tags", &ssm.PutParameterInput{Tags: tags(51, "k")}, "TooManyTagsError", tooMany},
		{"long key", &ssm.PutParameterInput{Tags: []ssmtypes.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}}, "ValidationException",
			"1 validation error detected: Value '" + strings.Repeat("k", 129) + "' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"empty key", &ssm.PutParameterInput{Tags: []ssmtypes.Tag{{Key: aws.String(""), Value: aws.String("v")}}}, "ValidationException",
			"1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long value", &ssm.PutParameterInput{Tags: []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}}, "ValidationException",
			"1 validation error detected: Value '" + strings.Repeat("v", 257) + "' at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"aws: key", &ssm.PutParameterInput{Tags: []ssmtypes.Tag{{Key: aws.String("AWS:owner"), Value: aws.String("v")}}}, "ValidationException",
			"Invalid tag key AWS:owner: tag keys can't start with the reserved prefix aws:"},
	} {
		tc.in.Name, tc.in.Value = aws.String("/p"), aws.String("x")
		_, err := client.PutParameter(ctx, tc.in)
		if code, msg := apiErr(err); code != tc.code || msg != tc.msg {
			t.Errorf("PutParameter(%s) error = %v; want %s %q", tc.name, err, tc.code, tc.msg)
		}
	}
	if _, ok := srv.Parameter("us-east-1", "/p"); ok {
		t.Fatalf("a rejected PutParameter created /p")
	}
	// At the limits, all is accepted.
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/p"), Value: aws.String("x"),
		Description: aws.String(strings.Repeat("d", 1024)), Tags: append(tags(49, "k"),
			ssmtypes.Tag{Key: aws.String(strings.Repeat("k", 128)), Value: aws.String(strings.Repeat("v", 256))})}); err != nil {
		t.Fatalf("PutParameter at the limits: %v", err)
	}
	add := func(tags []ssmtypes.Tag) error {
		_, err := client.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
			ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String("/p"), Tags: tags})
		return err
	}
	// Overwriting existing keys keeps the count at 50; one more key is too many.
	if err := add(tags(10, "k")); err != nil {
		t.Errorf("AddTagsToResource(existing keys): %v", err)
	}
	// The SDK models AddTagsToResource's TooManyTagsError without a
	// message member, so the client sees the code only.
	if code, msg := apiErr(add(tags(1, "new"))); code != "TooManyTagsError" || msg != "" {
		t.Errorf("AddTagsToResource(51st tag) error = %s %q; want TooManyTagsError", code, msg)
	}
	if code, msg := apiErr(add([]ssmtypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}})); code != "ValidationException" ||
		msg != "Invalid tag key aws:x: tag keys can't start with the reserved prefix aws:" {
		t.Errorf("AddTagsToResource(aws: key) error = %s %q", code, msg)
	}
	if code, _ := apiErr(add([]ssmtypes.Tag{{Key: aws.String("k0"), Value: aws.String(strings.Repeat("v", 257))}})); code != "ValidationException" {
		t.Errorf("AddTagsToResource(long value) error = %s, want ValidationException", code)
	}
	if p, _ := srv.Parameter("us-east-1", "/p"); len(p.Tags) != 50 {
		t.Errorf("tags = %d, want 50", len(p.Tags))
	}
}

// An injected fault without Status answers with the status the real
// service uses for its code.
func TestInjectedFaultDefaultStatus(t *testing.T) {
	srv, cfg := setup(t)
	client := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.RetryMaxAttempts = 1 })
	for _, tc := range []struct {
		code string
		want int
	}{
		{"", 500}, // InternalFailure
		{"InternalFailure", 500},
		{"InternalServerError", 500},
		{"ServiceUnavailable", 503},
		{"RequestLimitExceeded", 503},
		{"CallRateLimitExceededException", 429},
		{"ThrottlingException", 400},
		{"TooManyUpdates", 400},
	} {
		srv.Inject(fakeaws.Fault{Operation: "GetParameter", Code: tc.code})
		_, err := client.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/p")})
		wantCode := tc.code
		if wantCode == "" {
			wantCode = "InternalFailure"
		}
		calls := srv.Calls()
		last := calls[len(calls)-1]
		if code, msg := apiErr(err); code != wantCode || msg != "injected by fakeaws" || last.Status != tc.want || !last.Injected {
			t.Errorf("fault %q: error %v, status %d; want %s with status %d", tc.code, err, last.Status, wantCode, tc.want)
		}
	}
}

// LastModifiedDate is when that version was written, not when it is read.
func TestSSMLastModifiedDateIsTheWriteTime(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := ssm.NewFromConfig(cfg)
	srv.SetParameter("us-east-1", "/p", "ami-11111111")
	time.Sleep(50 * time.Millisecond)
	srv.SetParameter("us-east-1", "/p", "ami-22222222")
	time.Sleep(50 * time.Millisecond)
	hist, err := client.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/p")})
	if err != nil || len(hist.Parameters) != 2 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	first, second := aws.ToTime(hist.Parameters[0].LastModifiedDate), aws.ToTime(hist.Parameters[1].LastModifiedDate)
	if gap := second.Sub(first); gap < 40*time.Millisecond {
		t.Errorf("versions written 50 ms apart report %v and %v", first, second)
	}
	got, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")})
	if err != nil {
		t.Fatal(err)
	}
	if read := aws.ToTime(got.Parameter.LastModifiedDate); !read.Equal(second) || time.Since(read) < 40*time.Millisecond {
		t.Errorf("GetParameter reports %v, want the second write's time %v", read, second)
	}

	// The fixture's WrittenAt agrees with the history, to the millisecond.
	p, _ := srv.Parameter("us-east-1", "/p")
	for i, h := range hist.Parameters {
		if at, ok := p.WrittenAt(h.Version); !ok || !at.Equal(aws.ToTime(h.LastModifiedDate)) {
			t.Errorf("WrittenAt(%d) = %v, %v; history says %v", h.Version, at, ok, aws.ToTime(h.LastModifiedDate))
		} else if i == 1 && at.Equal(first) {
			t.Errorf("WrittenAt(%d) = the first version's time", h.Version)
		}
	}
	if _, ok := p.WrittenAt(3); ok {
		t.Error("WrittenAt(3) found a version that was never written")
	}
}

// A parameter deleted and created again starts at version 1, with only its
// new versions in the history.
func TestSSMRemovedParameterStartsAgainAtVersionOne(t *testing.T) {
	srv, cfg := setup(t)
	client := ssm.NewFromConfig(cfg)
	srv.SetParameter("us-east-1", "/p", "ami-11111111")
	srv.SetParameter("us-east-1", "/p", "ami-22222222")
	srv.RemoveParameter("us-east-1", "/p")
	if _, err := client.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/p")}); !strings.Contains(fmt.Sprint(err), "ParameterNotFound") {
		t.Fatalf("GetParameter of a removed parameter: %v, want ParameterNotFound", err)
	}
	srv.SetParameter("us-east-1", "/p", "ami-33333333")
	hist, err := client.GetParameterHistory(context.Background(), &ssm.GetParameterHistoryInput{Name: aws.String("/p")})
	if err != nil || len(hist.Parameters) != 1 || hist.Parameters[0].Version != 1 || aws.ToString(hist.Parameters[0].Value) != "ami-33333333" {
		t.Fatalf("history after re-creation = %+v, %v; want version 1 = ami-33333333 alone", hist, err)
	}
}

// Parameter Store keeps the 100 newest versions of a parameter.
func TestSSMKeepsTheNewestHundredVersions(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := ssm.NewFromConfig(cfg)
	for i := 1; i <= 130; i++ {
		srv.SetParameter("us-east-1", "/p", fmt.Sprintf("ami-%08x", i))
	}
	var versions []int64
	for p := ssm.NewGetParameterHistoryPaginator(client, &ssm.GetParameterHistoryInput{Name: aws.String("/p"), MaxResults: aws.Int32(50)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Parameters {
			versions = append(versions, v.Version)
		}
	}
	if len(versions) != 100 || versions[0] != 31 || versions[99] != 130 {
		t.Errorf("history holds %d versions, %v to %v; want the 100 newest, 31 to 130", len(versions), versions[0], versions[len(versions)-1])
	}
}
