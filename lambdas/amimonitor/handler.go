package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/contract"
)

// Result is what one run of the monitor returns.
type Result struct {
	Changed bool `json:"changed"`
	// Retagged reports that the parameter already held the AMI but lacked
	// this run's provenance tags (a previous run wrote the value and then
	// failed to tag it), so the tags were written and the value was not.
	Retagged bool `json:"retagged,omitempty"`
	// Claimed reports that the parameter already held the AMI, but in a
	// version the monitor did not write (a CloudFormation seed), so the
	// same value was written again with the monitor's description, and
	// tagged. That write is what starts the build (see contract.UpstreamDescriptionPrefix).
	Claimed  bool   `json:"claimed,omitempty"`
	Previous string `json:"previous"`
	Current  string `json:"current"`
	Source   string `json:"source"`
}

// Decisions logged with each run ("decision"). DecisionRetagged and
// DecisionClaimed are also reported as Result.Retagged and Result.Claimed;
// the first three names match lambdas/latestami's outcomes.
const (
	DecisionChanged   = "changed"   // the parameter now holds the new AMI, tagged
	DecisionUnchanged = "unchanged" // it already did, written by the monitor, with this run's tags; nothing written
	DecisionRetagged  = "retagged"  // it already did, written by the monitor; the provenance tags were repaired, the value not written
	DecisionClaimed   = "claimed"   // it already did, written by someone else (a seed); the value was written again as the monitor's, and tagged
)

// maxDescription is Parameter Store's limit on a description, in characters.
const maxDescription = 1024

// parameterStore is the part of the SSM client the monitor writes with. It
// reads the history only for the description of the current version, which
// GetParameter does not return.
type parameterStore interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	AddTagsToResource(ctx context.Context, in *ssm.AddTagsToResourceInput, optFns ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
	ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
}

// upstream finds the AMI the golden recipe should currently build on.
type upstream interface {
	Resolve(ctx context.Context) (upstreamAMI, error)
}

// upstreamAMI is a resolved upstream image and a description of where it
// came from, used in the result, the logs and the parameter's tags.
type upstreamAMI struct {
	ImageID string
	Source  string
}

// Handler keeps the upstream-AMI parameter equal to the upstream's AMI.
type Handler struct {
	ParameterName string
	Upstream      upstream
	Params        parameterStore
	Now           func() time.Time
}

// Handle resolves the upstream AMI and writes it to the parameter when it
// differs. It ignores its input: the scheduled event carries nothing the
// monitor needs, so any payload (or none) is accepted.
//
// Every value it writes carries a description starting with
// contract.UpstreamDescriptionPrefix; the trigger builds only such versions.
// An unchanged AMI that the monitor wrote is never written again, so the
// Parameter Store Change event that starts a build fires only for a real
// change. It writes the tags only when the upstream-source tag is missing or
// differs (a previous run wrote the value and then failed to tag it, or the
// source was reconfigured); otherwise it writes nothing. An unchanged AMI in
// a version someone else wrote (CloudFormation's seed, which for an SSM
// upstream resolves to the same AMI) is claimed: written once more with the
// monitor's description, then tagged. An upstream without a usable AMI is an
// error and leaves the parameter untouched.
func (h *Handler) Handle(ctx context.Context) (Result, error) {
	up, err := h.Upstream.Resolve(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("resolve upstream AMI: %w", err)
	}
	if err := contract.ValidateAMIID(up.ImageID); err != nil {
		return Result{}, fmt.Errorf("upstream %s: %w; parameter %s left unchanged", up.Source, err, h.ParameterName)
	}
	res := Result{Current: up.ImageID, Source: up.Source}

	out, err := h.Params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(h.ParameterName)})
	var notFound *ssmtypes.ParameterNotFound
	var written *time.Time // when the current value was written
	var version int64      // the current version
	switch {
	case errors.As(err, &notFound):
		// First run, or someone deleted it: create it.
	case err != nil:
		return Result{}, fmt.Errorf("get parameter %s: %w", h.ParameterName, err)
	case out.Parameter != nil:
		res.Previous = aws.ToString(out.Parameter.Value)
		written = out.Parameter.LastModifiedDate
		version = out.Parameter.Version
	}

	if res.Previous == res.Current {
		ours, err := h.writtenByMonitor(ctx, version, res.Current)
		if err != nil {
			return Result{}, err
		}
		if ours {
			return h.keep(ctx, res, written)
		}
		return h.claim(ctx, res, written)
	}

	if err := h.put(ctx, res); err != nil {
		return Result{}, fmt.Errorf("put parameter %s = %s: %w", h.ParameterName, res.Current, err)
	}
	res.Changed = true
	if err := h.tag(ctx, res, h.now()); err != nil {
		return res, fmt.Errorf("tag parameter %s after writing %s: %w", h.ParameterName, res.Current, err)
	}
	slog.InfoContext(ctx, "upstream AMI changed; parameter updated",
		"decision", DecisionChanged, "parameter", h.ParameterName, "previous", res.Previous, "ami", res.Current, "source", res.Source)
	return res, nil
}

// put writes res.Current as the monitor's: with its description.
// PutParameter rejects Tags together with Overwrite, so tags come afterwards.
func (h *Handler) put(ctx context.Context, res Result) error {
	_, err := h.Params.PutParameter(ctx, &ssm.PutParameterInput{
		Name:        aws.String(h.ParameterName),
		Value:       aws.String(res.Current),
		Type:        ssmtypes.ParameterTypeString,
		DataType:    aws.String(contract.DataTypeEC2Image),
		Description: aws.String(description(res.Source)),
		Overwrite:   aws.Bool(true),
	})
	return err
}

// tag writes both provenance tags, observed-at being observed.
func (h *Handler) tag(ctx context.Context, res Result, observed time.Time) error {
	_, err := h.Params.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter,
		ResourceId:   aws.String(h.ParameterName),
		Tags: []ssmtypes.Tag{
			{Key: aws.String(contract.TagUpstreamSource), Value: aws.String(tagValue(res.Source))},
			{Key: aws.String(contract.TagObservedAt), Value: aws.String(observed.UTC().Format(time.RFC3339))},
		},
	})
	return err
}

// writtenByMonitor reports whether the monitor wrote version (which holds
// value) of the parameter: whether its description starts with
// contract.UpstreamDescriptionPrefix. GetParameter returns no description,
// so it reads the history (every page: it is listed oldest first, and
// Parameter Store keeps the last 100 versions).
func (h *Handler) writtenByMonitor(ctx context.Context, version int64, value string) (bool, error) {
	pages := ssm.NewGetParameterHistoryPaginator(h.Params, &ssm.GetParameterHistoryInput{
		Name: aws.String(h.ParameterName), MaxResults: aws.Int32(50),
	})
	var tokens awsconfig.PageTokens
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Check(page.NextToken)
		}
		if err != nil {
			return false, fmt.Errorf("get parameter history of %s: %w", h.ParameterName, err)
		}
		for _, v := range page.Parameters {
			if v.Version == version {
				return strings.HasPrefix(aws.ToString(v.Description), contract.UpstreamDescriptionPrefix), nil
			}
		}
	}
	return false, fmt.Errorf("get parameter history of %s: version %d, which holds %s, is not in it; nothing written", h.ParameterName, version, value)
}

// claim handles a parameter that already holds the upstream AMI in a
// version the monitor did not write: CloudFormation's seed (for an SSM
// upstream it resolves to the same AMI), at the first deploy or re-written
// by a stack update. The trigger ignores such versions, so the monitor
// writes the value once more as its own; the trigger then builds it, or,
// after a seed re-write, replays the build of the monitor's earlier write.
// observed-at is the seed's write time, as in keep, or now without it.
func (h *Handler) claim(ctx context.Context, res Result, written *time.Time) (Result, error) {
	if err := h.put(ctx, res); err != nil {
		return Result{}, fmt.Errorf("claim parameter %s, which already holds %s written by another writer: %w", h.ParameterName, res.Current, err)
	}
	res.Claimed = true
	observed := h.now()
	if written != nil {
		observed = *written
	}
	if err := h.tag(ctx, res, observed); err != nil {
		return res, fmt.Errorf("tag parameter %s after writing %s: %w", h.ParameterName, res.Current, err)
	}
	slog.InfoContext(ctx, "upstream AMI unchanged but not written by the monitor (e.g. a CloudFormation seed); value written again as the monitor's, and tagged",
		"decision", DecisionClaimed, "parameter", h.ParameterName, "ami", res.Current, "source", res.Source)
	return res, nil
}

// description is the description of every value the monitor writes: the
// marker, then the source, cut to Parameter Store's limit.
func description(source string) string {
	d := []rune(contract.UpstreamDescriptionPrefix + source)
	if len(d) > maxDescription {
		d = d[:maxDescription]
	}
	return string(d)
}

// keep handles a parameter that already holds the upstream AMI. It never
// writes the value. It re-applies the provenance tags when the
// upstream-source tag is missing or differs from what this run would
// write: otherwise a run whose tag write failed after its PutParameter
// would leave the parameter untagged for good, since its retry finds the
// value current.
func (h *Handler) keep(ctx context.Context, res Result, written *time.Time) (Result, error) {
	name := aws.String(h.ParameterName)
	out, err := h.Params.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: name,
	})
	if err != nil {
		return Result{}, fmt.Errorf("list tags of parameter %s: %w", h.ParameterName, err)
	}
	source := tagValue(res.Source)
	recorded, found := "", false
	for _, t := range out.TagList {
		if aws.ToString(t.Key) == contract.TagUpstreamSource {
			recorded, found = aws.ToString(t.Value), true
		}
	}
	if found && recorded == source {
		slog.InfoContext(ctx, "upstream AMI unchanged; nothing written",
			"decision", DecisionUnchanged, "parameter", h.ParameterName, "ami", res.Current, "source", res.Source)
		return res, nil
	}

	tags := []ssmtypes.Tag{{Key: aws.String(contract.TagUpstreamSource), Value: aws.String(source)}}
	// observed-at is when the monitor first saw the AMI. That is not now: the
	// value was written when it was first seen, by the run whose tag write
	// failed. The value's
	// LastModifiedDate is that write, so it is the closest honest answer.
	// Without it the tag is left as it is (absent or not) rather than
	// claiming a time the monitor does not know.
	if written != nil {
		tags = append(tags, ssmtypes.Tag{Key: aws.String(contract.TagObservedAt), Value: aws.String(written.UTC().Format(time.RFC3339))})
	}
	if _, err := h.Params.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter,
		ResourceId:   name,
		Tags:         tags,
	}); err != nil {
		return Result{}, fmt.Errorf("retag parameter %s, which already holds %s: %w", h.ParameterName, res.Current, err)
	}
	res.Retagged = true
	slog.InfoContext(ctx, "upstream AMI unchanged but its provenance tags were missing or stale; tags re-applied, value not written",
		"decision", DecisionRetagged, "parameter", h.ParameterName, "ami", res.Current, "source", res.Source,
		"previousSourceTag", recorded)
	return res, nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// tagValue makes s a valid SSM tag value: at most 256 characters from
// letters, digits, spaces and _.:/=+-@ (others become '_').
func tagValue(s string) string {
	r := []rune(s)
	if len(r) > 256 {
		r = r[:256]
	}
	for i, c := range r {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && !unicode.IsSpace(c) && !strings.ContainsRune("_.:/=+-@", c) {
			r[i] = '_'
		}
	}
	return string(r)
}

// Elastic Beanstalk sources.

type platformVersionDescriber interface {
	DescribePlatformVersion(ctx context.Context, in *elasticbeanstalk.DescribePlatformVersionInput, optFns ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.DescribePlatformVersionOutput, error)
}

type platformVersionLister interface {
	ListPlatformVersions(ctx context.Context, in *elasticbeanstalk.ListPlatformVersionsInput, optFns ...func(*elasticbeanstalk.Options)) (*elasticbeanstalk.ListPlatformVersionsOutput, error)
}

// platformVersionSource is one pinned Elastic Beanstalk platform version.
type platformVersionSource struct {
	ARN string
	EB  platformVersionDescriber
}

func (s platformVersionSource) Resolve(ctx context.Context) (upstreamAMI, error) {
	return describePlatformAMI(ctx, s.EB, s.ARN)
}

// platformBranchSource is the newest Ready version of a platform branch.
type platformBranchSource struct {
	Branch string
	EB     interface {
		platformVersionLister
		platformVersionDescriber
	}
}

func (s platformBranchSource) Resolve(ctx context.Context) (upstreamAMI, error) {
	pages := elasticbeanstalk.NewListPlatformVersionsPaginator(s.EB, &elasticbeanstalk.ListPlatformVersionsInput{
		Filters: []ebtypes.PlatformFilter{{
			Type:     aws.String("PlatformBranchName"),
			Operator: aws.String("="),
			Values:   []string{s.Branch},
		}},
	})
	var (
		bestARN     string
		bestVersion []int
		bestRaw     string
	)
	var tokens awsconfig.PageTokens
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Check(page.NextToken)
		}
		if err != nil {
			return upstreamAMI{}, fmt.Errorf("list versions of platform branch %q: %w", s.Branch, err)
		}
		for _, p := range page.PlatformSummaryList {
			if b := aws.ToString(p.PlatformBranchName); b != "" && b != s.Branch {
				continue // the filter should have excluded it; be sure
			}
			if p.PlatformStatus != ebtypes.PlatformStatusReady {
				continue
			}
			raw := aws.ToString(p.PlatformVersion)
			v, err := parseVersion(raw)
			if err != nil {
				slog.WarnContext(ctx, "skipping platform version with an unparsable version",
					"platformArn", aws.ToString(p.PlatformArn), "error", err)
				continue
			}
			if bestARN == "" || compareVersions(v, bestVersion) > 0 {
				bestARN, bestVersion, bestRaw = aws.ToString(p.PlatformArn), v, raw
			}
		}
	}
	if bestARN == "" {
		return upstreamAMI{}, fmt.Errorf("platform branch %q has no platform version in status Ready", s.Branch)
	}
	slog.InfoContext(ctx, "newest Ready platform version of branch",
		"branch", s.Branch, "version", bestRaw, "platformArn", bestARN)
	return describePlatformAMI(ctx, s.EB, bestARN)
}

func describePlatformAMI(ctx context.Context, eb platformVersionDescriber, arn string) (upstreamAMI, error) {
	out, err := eb.DescribePlatformVersion(ctx, &elasticbeanstalk.DescribePlatformVersionInput{PlatformArn: aws.String(arn)})
	if err != nil {
		return upstreamAMI{}, fmt.Errorf("describe platform version %s: %w", arn, err)
	}
	d := out.PlatformDescription
	if d == nil {
		return upstreamAMI{}, fmt.Errorf("describe platform version %s: empty PlatformDescription", arn)
	}
	if d.PlatformStatus != "" && d.PlatformStatus != ebtypes.PlatformStatusReady {
		return upstreamAMI{}, fmt.Errorf("platform version %s is in status %s, want Ready", arn, d.PlatformStatus)
	}
	for _, a := range d.CustomAmiList {
		if aws.ToString(a.VirtualizationType) == "hvm" && aws.ToString(a.ImageId) != "" {
			return upstreamAMI{ImageID: aws.ToString(a.ImageId), Source: "elasticbeanstalk:" + arn}, nil
		}
	}
	return upstreamAMI{}, fmt.Errorf("platform version %s has no hvm AMI in CustomAmiList", arn)
}

// parseVersion parses a dotted numeric version such as "4.10.0".
func parseVersion(s string) ([]int, error) {
	if s == "" {
		return nil, errors.New(`version "" is empty`)
	}
	parts := strings.Split(s, ".")
	v := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || (p[0] == '+' || p[0] == '-') {
			return nil, fmt.Errorf("version %q: part %q is not a non-negative integer", s, p)
		}
		v[i] = n
	}
	return v, nil
}

// compareVersions compares numerically, part by part; missing parts count
// as 0, so 4.10 == 4.10.0 and 4.10.0 > 4.9.1.
func compareVersions(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// SSM parameter source.

type parameterReader interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// parameterSource is an SSM parameter that holds an AMI id, such as the
// public /aws/service/ami-amazon-linux-latest/... parameters.
type parameterSource struct {
	Name string
	SSM  parameterReader
}

func (s parameterSource) Resolve(ctx context.Context) (upstreamAMI, error) {
	out, err := s.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.Name)})
	if err != nil {
		return upstreamAMI{}, fmt.Errorf("get source parameter %s: %w", s.Name, err)
	}
	if out.Parameter == nil || aws.ToString(out.Parameter.Value) == "" {
		return upstreamAMI{}, fmt.Errorf("source parameter %s has no value", s.Name)
	}
	return upstreamAMI{ImageID: aws.ToString(out.Parameter.Value), Source: "ssm-parameter:" + s.Name}, nil
}

// EC2 image source.

type imageDescriber interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// imageSource is the newest available EC2 image of an owner whose name
// matches a pattern.
type imageSource struct {
	Owner       string
	NamePattern string
	EC2         imageDescriber
}

func (s imageSource) Resolve(ctx context.Context) (upstreamAMI, error) {
	pages := ec2.NewDescribeImagesPaginator(s.EC2, &ec2.DescribeImagesInput{
		Owners: []string{s.Owner},
		Filters: []ec2types.Filter{
			{Name: aws.String("name"), Values: []string{s.NamePattern}},
			{Name: aws.String("state"), Values: []string{string(ec2types.ImageStateAvailable)}},
		},
	})
	type candidate struct {
		id, name string
		created  time.Time
	}
	var all []candidate
	var tokens awsconfig.PageTokens
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err == nil {
			err = tokens.Check(page.NextToken)
		}
		if err != nil {
			return upstreamAMI{}, fmt.Errorf("describe images owned by %q named %q: %w", s.Owner, s.NamePattern, err)
		}
		for _, img := range page.Images {
			if img.State != "" && img.State != ec2types.ImageStateAvailable {
				continue
			}
			created, err := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
			if err != nil {
				slog.WarnContext(ctx, "skipping image with an unparsable CreationDate",
					"imageId", aws.ToString(img.ImageId), "creationDate", aws.ToString(img.CreationDate))
				continue
			}
			all = append(all, candidate{aws.ToString(img.ImageId), aws.ToString(img.Name), created})
		}
	}
	if len(all) == 0 {
		return upstreamAMI{}, fmt.Errorf("no available image owned by %q matches name pattern %q", s.Owner, s.NamePattern)
	}
	newest := slices.MaxFunc(all, func(a, b candidate) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id) // deterministic on ties
	})
	return upstreamAMI{ImageID: newest.id, Source: "ec2-image:" + s.Owner + "/" + newest.name}, nil
}
