package fakeaws_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk/types"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

func setup(t *testing.T) (*fakeaws.Server, aws.Config) {
	t.Helper()
	srv := fakeaws.New(t)
	srv.Setenv(t, "us-east-1")
	cfg, err := awsconfig.Load(context.Background(), awsconfig.WithMaxBackoff(time.Millisecond))
	if err != nil {
		t.Fatalf("awsconfig.Load: %v", err)
	}
	return srv, cfg
}

func TestSSMJSONProtocol(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := ssm.NewFromConfig(cfg)

	_, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/missing")})
	var nf *ssmtypes.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Fatalf("GetParameter(missing) error = %v, want *types.ParameterNotFound", err)
	}

	out, err := client.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/p"), Value: aws.String("ami-0123456789abcdef0"),
		Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true),
	})
	if err != nil || out.Version != 1 {
		t.Fatalf("PutParameter = %v, %v; want version 1", out, err)
	}
	_, err = client.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/p"), Value: aws.String("ami-0123456789abcdef1"), Overwrite: aws.Bool(true),
		Tags: []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})
	if err == nil || !strings.Contains(err.Error(), "tags and overwrite can't be used together") {
		t.Fatalf("PutParameter(Tags+Overwrite) error = %v, want the service's rejection", err)
	}
	if _, err := client.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String("/p"),
		Tags: []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	}); err != nil {
		t.Fatalf("AddTagsToResource: %v", err)
	}
	tags, err := client.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String("/p"),
	})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Value) != "v" {
		t.Fatalf("ListTagsForResource = %+v, %v", tags, err)
	}
	got, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")})
	if err != nil {
		t.Fatalf("GetParameter: %v", err)
	}
	if aws.ToString(got.Parameter.Value) != "ami-0123456789abcdef0" || got.Parameter.Version != 1 ||
		aws.ToString(got.Parameter.DataType) != "aws:ec2:image" {
		t.Errorf("GetParameter = %+v", got.Parameter)
	}

	// Regions are told apart by the credential scope.
	_, err = client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")}, func(o *ssm.Options) { o.Region = "eu-west-1" })
	if !errors.As(err, &nf) {
		t.Errorf("GetParameter in eu-west-1 error = %v, want ParameterNotFound", err)
	}
	if n := srv.CountOKIn("us-east-1", "GetParameter"); n != 1 {
		t.Errorf("CountOKIn(us-east-1, GetParameter) = %d, want 1", n)
	}
}

func TestFaultsAreRetriedBySDK(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Code: "TooManyUpdates", Times: 2})
	_, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/p"), Value: aws.String("ami-12345678"), Overwrite: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("PutParameter after 2 TooManyUpdates: %v", err)
	}
	if got, want := srv.Count("PutParameter"), 3; got != want {
		t.Errorf("PutParameter attempts = %d, want %d", got, want)
	}
	p, _ := srv.Parameter("us-east-1", "/p")
	if len(p.History) != 1 {
		t.Errorf("history = %v, want exactly one write", p.History)
	}
}

func TestAfterApplyFaultLosesTheResponseNotTheWrite(t *testing.T) {
	srv, cfg := setup(t)
	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Status: 500, Code: "InternalServerError", AfterApply: true})
	_, err := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.RetryMaxAttempts = 1 }).PutParameter(context.Background(),
		&ssm.PutParameterInput{Name: aws.String("/p"), Value: aws.String("ami-12345678"), Overwrite: aws.Bool(true)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InternalServerError" {
		t.Fatalf("error = %v, want InternalServerError", err)
	}
	if p, ok := srv.Parameter("us-east-1", "/p"); !ok || p.Value != "ami-12345678" {
		t.Errorf("parameter = %+v, %v; want the write applied", p, ok)
	}
}

// aws:ec2:image writes are answered at once and applied after validation:
// pending for the configured number of reads, never when rejected.
func TestImageValidationIsAsynchronous(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := ssm.NewFromConfig(cfg)
	srv.SetParameter("us-east-1", "/p", "ami-11111111")
	srv.SetImageValidation(2, func(ami string) bool { return ami == "ami-99999999" })
	put := func(value, dataType string) int64 {
		t.Helper()
		out, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/p"), Value: aws.String(value),
			Type: ssmtypes.ParameterTypeString, DataType: aws.String(dataType), Overwrite: aws.Bool(true)})
		if err != nil {
			t.Fatalf("PutParameter(%s): %v", value, err)
		}
		return out.Version
	}
	get := func() string {
		t.Helper()
		out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")})
		if err != nil {
			t.Fatalf("GetParameter: %v", err)
		}
		return aws.ToString(out.Parameter.Value)
	}
	if v := put("ami-22222222", "aws:ec2:image"); v != 2 {
		t.Errorf("version = %d, want 2", v)
	}
	for i, want := range []string{"ami-11111111", "ami-11111111", "ami-22222222"} {
		if got := get(); got != want {
			t.Errorf("read %d after the write = %s, want %s", i+1, got, want)
		}
	}
	put("ami-99999999", "aws:ec2:image")
	for i := 0; i < 4; i++ {
		if got := get(); got != "ami-22222222" {
			t.Errorf("read %d after a rejected write = %s, want ami-22222222", i+1, got)
		}
	}
	if p, _ := srv.Parameter("us-east-1", "/p"); len(p.History) != 2 {
		t.Errorf("history = %v, want the rejected write never applied", p.History)
	}
	// Other data types are validated synchronously, as by the service.
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/text"), Value: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/text"), Value: aws.String("y"), Overwrite: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if p, _ := srv.Parameter("us-east-1", "/text"); p.Value != "y" {
		t.Errorf("text parameter = %q, want y at once", p.Value)
	}
}

func TestImageBuilderRESTJSONProtocol(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := imagebuilder.NewFromConfig(cfg)
	pipeline := "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/golden"
	srv.AddPipeline(pipeline)
	srv.Inject(fakeaws.Fault{Operation: "StartImagePipelineExecution", Status: 429, Code: "CallRateLimitExceededException"})

	first, err := client.StartImagePipelineExecution(ctx, &imagebuilder.StartImagePipelineExecutionInput{
		ImagePipelineArn: aws.String(pipeline), ClientToken: aws.String("token-1"),
	})
	if err != nil {
		t.Fatalf("StartImagePipelineExecution: %v", err)
	}
	again, err := client.StartImagePipelineExecution(ctx, &imagebuilder.StartImagePipelineExecutionInput{
		ImagePipelineArn: aws.String(pipeline), ClientToken: aws.String("token-1"),
	})
	if err != nil {
		t.Fatalf("StartImagePipelineExecution (same token): %v", err)
	}
	if aws.ToString(again.ImageBuildVersionArn) != aws.ToString(first.ImageBuildVersionArn) {
		t.Errorf("same token returned %s, want the original %s", aws.ToString(again.ImageBuildVersionArn), aws.ToString(first.ImageBuildVersionArn))
	}
	if n := len(srv.Executions()); n != 1 {
		t.Errorf("executions = %d, want 1", n)
	}
	if n := srv.Count("StartImagePipelineExecution"); n != 3 {
		t.Errorf("attempts = %d, want 3 (429, success, replay)", n)
	}

	_, err = client.StartImagePipelineExecution(ctx, &imagebuilder.StartImagePipelineExecutionInput{
		ImagePipelineArn: aws.String(pipeline + "-other"), ClientToken: aws.String("token-1"),
	})
	var mismatch *ibtypes.IdempotentParameterMismatchException
	if !errors.As(err, &mismatch) {
		t.Errorf("token reuse with another pipeline: error = %v, want IdempotentParameterMismatchException", err)
	}

	imageARN := "arn:aws:imagebuilder:us-east-1:123456789012:image/golden/1.0.0/1"
	srv.AddImage(fakeaws.Image{ARN: imageARN, Status: "AVAILABLE", PipelineARN: pipeline,
		RecipeARN: "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/golden/1.0.0", DateCreated: "2024-07-01T12:00:00.000Z",
		AMIs: []fakeaws.AMI{{Region: "eu-west-1", ImageID: "ami-0123456789abcdef0", AccountID: fakeaws.AccountID}}})
	img, err := client.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(imageARN)})
	if err != nil {
		t.Fatalf("GetImage: %v", err)
	}
	if img.Image.State.Status != ibtypes.ImageStatusAvailable || aws.ToString(img.Image.OutputResources.Amis[0].Image) != "ami-0123456789abcdef0" ||
		aws.ToString(img.Image.SourcePipelineArn) != pipeline {
		t.Errorf("GetImage = %+v", img.Image)
	}
	_, err = client.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(imageARN + "9")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" {
		t.Errorf("GetImage(unknown) error = %v, want ResourceNotFoundException", err)
	}
}

func TestElasticBeanstalkQueryProtocol(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	srv.EBPageSize = 1
	for _, v := range []string{"4.9.1", "4.10.0"} {
		srv.AddPlatform(fakeaws.Platform{ARN: "arn:aws:elasticbeanstalk:us-east-1::platform/Docker/" + v, Branch: "Docker", Version: v, Status: "Ready",
			AMIs: []fakeaws.CustomAMI{{VirtualizationType: "hvm", ImageID: "ami-0000000" + v[2:3]}}})
	}
	srv.AddPlatform(fakeaws.Platform{ARN: "arn:other", Branch: "Other", Version: "1.0.0", Status: "Ready"})
	srv.Inject(fakeaws.Fault{Operation: "ListPlatformVersions", Code: "Throttling"})
	client := elasticbeanstalk.NewFromConfig(cfg)
	p := elasticbeanstalk.NewListPlatformVersionsPaginator(client, &elasticbeanstalk.ListPlatformVersionsInput{
		Filters: []ebtypes.PlatformFilter{{Type: aws.String("PlatformBranchName"), Operator: aws.String("="), Values: []string{"Docker"}}},
	})
	var versions []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListPlatformVersions: %v", err)
		}
		for _, s := range page.PlatformSummaryList {
			versions = append(versions, aws.ToString(s.PlatformVersion))
		}
	}
	if len(versions) != 2 || versions[0] != "4.9.1" || versions[1] != "4.10.0" {
		t.Errorf("versions = %v, want [4.9.1 4.10.0]", versions)
	}
	d, err := client.DescribePlatformVersion(ctx, &elasticbeanstalk.DescribePlatformVersionInput{PlatformArn: aws.String("arn:aws:elasticbeanstalk:us-east-1::platform/Docker/4.10.0")})
	if err != nil {
		t.Fatalf("DescribePlatformVersion: %v", err)
	}
	if len(d.PlatformDescription.CustomAmiList) != 1 || aws.ToString(d.PlatformDescription.CustomAmiList[0].ImageId) != "ami-00000001" {
		t.Errorf("CustomAmiList = %+v", d.PlatformDescription.CustomAmiList)
	}
	_, err = client.DescribePlatformVersion(ctx, &elasticbeanstalk.DescribePlatformVersionInput{PlatformArn: aws.String("arn:nope")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("DescribePlatformVersion(unknown) error = %v, want InvalidParameterValue", err)
	}
}

func TestEC2QueryProtocol(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	srv.EC2PageSize = 1
	srv.AddEC2Image("us-east-1", fakeaws.EC2Image{ImageID: "ami-11111111", OwnerAlias: "amazon", OwnerID: "137112412989", Name: "al2023-ami-2023.1-x86_64", CreationDate: "2024-01-01T00:00:00.000Z"})
	srv.AddEC2Image("us-east-1", fakeaws.EC2Image{ImageID: "ami-22222222", OwnerAlias: "amazon", OwnerID: "137112412989", Name: "al2023-ami-2023.2-x86_64", CreationDate: "2024-02-01T00:00:00.000Z"})
	srv.AddEC2Image("us-east-1", fakeaws.EC2Image{ImageID: "ami-33333333", OwnerAlias: "amazon", OwnerID: "137112412989", Name: "al2023-ami-2023.3-arm64", CreationDate: "2024-03-01T00:00:00.000Z"})
	srv.AddEC2Image("eu-west-1", fakeaws.EC2Image{ImageID: "ami-44444444", OwnerAlias: "amazon", OwnerID: "137112412989", Name: "al2023-ami-2023.4-x86_64", CreationDate: "2024-04-01T00:00:00.000Z"})
	srv.Inject(fakeaws.Fault{Operation: "DescribeImages", Code: "RequestLimitExceeded", Status: 503})
	p := ec2.NewDescribeImagesPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeImagesInput{
		Owners:  []string{"amazon"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-*-x86_64"}}, {Name: aws.String("state"), Values: []string{"available"}}},
	})
	var ids []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeImages: %v", err)
		}
		for _, img := range page.Images {
			ids = append(ids, aws.ToString(img.ImageId))
			if aws.ToString(img.CreationDate) == "" {
				t.Errorf("image %s has no CreationDate", aws.ToString(img.ImageId))
			}
		}
	}
	if len(ids) != 2 || ids[0] != "ami-11111111" || ids[1] != "ami-22222222" {
		t.Errorf("ids = %v, want [ami-11111111 ami-22222222]", ids)
	}
}
