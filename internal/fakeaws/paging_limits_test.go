package fakeaws_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

// MaxResults / MaxRecords out of range are rejected like the services do;
// in range, a page holds at most the smaller of the request's size and the
// fake's page size; omitted, the documented default applies.
func TestPagingLimits(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	ec2c := ec2.NewFromConfig(cfg)
	asc := autoscaling.NewFromConfig(cfg)
	for i := 0; i < 12; i++ {
		srv.AddEC2Image("us-east-1", fakeaws.EC2Image{ImageID: fmt.Sprintf("ami-%08d", i), OwnerAlias: "amazon", OwnerID: "137112412989",
			Name: fmt.Sprintf("img-%02d", i), State: "available", CreationDate: "2024-01-01T00:00:00.000Z"})
	}
	srv.AddLaunchTemplate("us-east-1", ltID, "web", amiA, "t4g.small")
	for i := 0; i < 3; i++ {
		if _, err := ec2c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(ltID),
			SourceVersion: aws.String("1"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(amiB)}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 60; i++ {
		srv.AddAutoScalingGroup("us-east-1", fakeaws.AutoScalingGroup{Name: fmt.Sprintf("g%02d", i), MinSize: 1, MaxSize: 1, DesiredCapacity: 1})
	}

	images := func(maxResults *int32) (int, error) {
		out, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, MaxResults: maxResults})
		if err != nil {
			return 0, err
		}
		return len(out.Images), nil
	}
	versions := func(maxResults *int32) (int, error) {
		out, err := ec2c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(ltID), MaxResults: maxResults})
		if err != nil {
			return 0, err
		}
		return len(out.LaunchTemplateVersions), nil
	}
	groups := func(maxRecords *int32) (int, error) {
		out, err := asc.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: maxRecords})
		if err != nil {
			return 0, err
		}
		return len(out.AutoScalingGroups), nil
	}
	for _, tc := range []struct {
		name      string
		call      func(*int32) (int, error)
		max       *int32
		pageSize  int
		wantN     int
		code, msg string
	}{
		{"DescribeImages 4", images, aws.Int32(4), 0, 0, "InvalidParameterValue", "Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5."},
		{"DescribeImages 1001", images, aws.Int32(1001), 0, 0, "InvalidParameterValue", "Value ( 1001 ) for parameter maxResults is invalid. Expecting a value less than or equal to 1000."},
		{"DescribeImages 5 under page size 8", images, aws.Int32(5), 8, 5, "", ""},
		{"DescribeImages 10 over page size 3", images, aws.Int32(10), 3, 3, "", ""},
		{"DescribeImages omitted", images, nil, 0, 12, "", ""},
		{"DescribeLaunchTemplateVersions 0", versions, aws.Int32(0), 0, 0, "InvalidParameterValue", "Maximum results allowed are between 1 and 200"},
		{"DescribeLaunchTemplateVersions 201", versions, aws.Int32(201), 0, 0, "InvalidParameterValue", "Maximum results allowed are between 1 and 200"},
		{"DescribeLaunchTemplateVersions 3 over page size 2", versions, aws.Int32(3), 2, 2, "", ""},
		{"DescribeLaunchTemplateVersions omitted", versions, nil, 0, 4, "", ""},
		{"DescribeAutoScalingGroups 0", groups, aws.Int32(0), 0, 0, "ValidationError",
			"1 validation error detected: Value '0' at 'maxRecords' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"DescribeAutoScalingGroups 101", groups, aws.Int32(101), 0, 0, "ValidationError",
			"1 validation error detected: Value '101' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100"},
		{"DescribeAutoScalingGroups omitted", groups, nil, 0, 50, "", ""},
		{"DescribeAutoScalingGroups 100", groups, aws.Int32(100), 0, 60, "", ""},
	} {
		srv.EC2PageSize = tc.pageSize
		n, err := tc.call(tc.max)
		if code, msg := apiErr(err); code != tc.code || msg != tc.msg {
			t.Errorf("%s: error = %v; want %q %q", tc.name, err, tc.code, tc.msg)
		} else if err == nil && n != tc.wantN {
			t.Errorf("%s: first page has %d items, want %d", tc.name, n, tc.wantN)
		}
	}
}
