package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/contract"
)

// Decisions and per-region outcomes reported in the result.
const (
	DecisionRecorded = "recorded"
	DecisionIgnored  = "ignored"

	OutcomeWritten   = "written"   // the parameter now holds the AMI
	OutcomeUnchanged = "unchanged" // it already did, with this image's tags
	OutcomeRetagged  = "retagged"  // it already did; the provenance tags were repaired
	OutcomeStale     = "stale"     // it holds a newer build of the same image; left alone
)

// Result is what one invocation returns, one entry per image.
type Result struct {
	Images []ImageResult `json:"images"`
}

// ImageResult is the decision for one image. Regions maps each region to
// its outcome.
type ImageResult struct {
	ImageARN string            `json:"imageArn,omitempty"`
	Decision string            `json:"decision"`
	Reason   string            `json:"reason,omitempty"`
	Regions  map[string]string `json:"regions,omitempty"`
}

// parameterStore is the part of an SSM client the recorder uses, in one
// region.
type parameterStore interface {
	GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	AddTagsToResource(ctx context.Context, in *ssm.AddTagsToResourceInput, optFns ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
	ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
}

// imageGetter reads an AVAILABLE image's status, pipeline and output AMIs.
// The recorder records only what it returns: EventBridge events carry no
// AMI ids, and an SNS message's are not trusted (anyone allowed to publish
// to the topic could send any).
type imageGetter interface {
	GetImage(ctx context.Context, in *imagebuilder.GetImageInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.GetImageOutput, error)
}

// Handler records the AMIs of a finished image in the latest-AMI parameter
// of every distribution region.
type Handler struct {
	ParameterName string
	// PipelineARN, when set, restricts recording to images built by it.
	PipelineARN string
	// ParameterTier, when set, is the tier every write asks for (Advanced
	// for a parameter shared through AWS RAM).
	ParameterTier ssmtypes.ParameterTier
	Images        imageGetter
	// ParamsIn returns the SSM client of a region; main caches one per
	// region.
	ParamsIn func(region string) parameterStore
	// Retryer decides whether and when PutParameter is tried again. The
	// handler retries it itself, not the SDK, so that it can look whether a
	// failed attempt was applied after all before writing again (see put).
	// Nil: no retries.
	Retryer aws.Retryer
	// ConfirmTimeout bounds how long put waits for a write to show in the
	// parameter's history. Parameter Store answers PutParameter of an
	// aws:ec2:image value before validating it, and the version appears
	// only once the AMI is validated. Zero: DefaultConfirmTimeout.
	ConfirmTimeout time.Duration
	// sleep waits between confirmation reads; nil sleeps on a timer. Tests
	// replace it to run without waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

// DefaultConfirmTimeout is Handler.ConfirmTimeout's default.
const DefaultConfirmTimeout = 10 * time.Second

// Handle accepts an Image Builder SNS notification or an EventBridge "EC2
// Image Builder Image State Change" event.
//
// Either one only names the image: for one the event says is AVAILABLE,
// Handle reads it with GetImage and records what GetImage reports (the SNS
// message's AMIs and accounts are not trusted). For an image GetImage
// reports AVAILABLE it writes, in each region the image was distributed to,
// that region's AMI (owned by this account) into the parameter, then tags
// it with the image's provenance. A region whose parameter already holds
// the AMI is skipped, so a redelivered event writes nothing. A region that
// fails does not stop the others; the joined error names the failed
// regions, and a retry redoes only those.
//
// Images in any other documented status (FAILED, CANCELLED, still
// building, DEPRECATED and so on), other pipelines' images and events that
// are not Image Builder's are logged and return nil. A malformed event (an
// unknown status included), an AVAILABLE event whose GetImage lags behind,
// an AVAILABLE image without an AMI of this account, an invalid AMI id or
// region is an error and writes nothing.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	n, err := decodeEvent(raw)
	if err != nil {
		return Result{}, fmt.Errorf("malformed event: %w", err)
	}
	if n.Ignore != "" {
		slog.InfoContext(ctx, "event ignored; nothing written", "decision", DecisionIgnored, "reason", n.Ignore)
		return Result{Images: []ImageResult{{Decision: DecisionIgnored, Reason: n.Ignore}}}, nil
	}

	var res Result
	var errs []error
	for _, ref := range n.Refs {
		if ref.Status != contract.ImageStatusAvailable {
			res.Images = append(res.Images, h.ignore(ctx, image{ARN: ref.ARN, Status: ref.Status, Reason: ref.Reason}))
			continue
		}
		if h.PipelineARN != "" && ref.ClaimedPipelineARN != "" && ref.ClaimedPipelineARN != h.PipelineARN {
			// Another recipe's image built on this infrastructure: not ours,
			// and the role may not read it. Ignoring on the message's word
			// writes nothing, so a forged claim gains nothing.
			reason := fmt.Sprintf("the notification names pipeline %q, not %s", ref.ClaimedPipelineARN, h.PipelineARN)
			slog.InfoContext(ctx, "image ignored; nothing written", "decision", DecisionIgnored, "reason", reason, "image", ref.ARN)
			res.Images = append(res.Images, ImageResult{ImageARN: ref.ARN, Decision: DecisionIgnored, Reason: reason})
			continue
		}
		img, err := h.availableImage(ctx, ref.ARN)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r, err := h.record(ctx, img)
		res.Images = append(res.Images, r)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// availableImage reads the image an event reports AVAILABLE. A status
// before AVAILABLE means GetImage is behind the event: ignoring the image
// would lose it, so that is an error, and Lambda retries the event later.
// A later status (DEPRECATED, say) is a final answer that record ignores; an
// undocumented one is an error.
func (h *Handler) availableImage(ctx context.Context, arn string) (image, error) {
	img, err := h.getImage(ctx, arn)
	if err != nil {
		return image{}, err
	}
	if inProgress(img.Status) {
		return image{}, fmt.Errorf("get image %s: the event says %s but GetImage reports status %q; nothing written, retry later",
			arn, contract.ImageStatusAvailable, img.Status)
	}
	if err := contract.CheckImageStatus("image.state.status", img.Status); err != nil {
		return image{}, fmt.Errorf("get image %s: %w; nothing written", arn, err)
	}
	return img, nil
}

func (h *Handler) getImage(ctx context.Context, arn string) (image, error) {
	var opts []func(*imagebuilder.Options)
	if region, _, _, ok := arnParts(arn); ok && region != "" {
		opts = append(opts, func(o *imagebuilder.Options) { o.Region = region })
	}
	out, err := h.Images.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: aws.String(arn)}, opts...)
	if err != nil {
		return image{}, fmt.Errorf("get image %s: %w", arn, err)
	}
	if out.Image == nil {
		return image{}, fmt.Errorf("get image %s: response has no image", arn)
	}
	i := out.Image
	img := image{
		ARN:         aws.ToString(i.Arn),
		PipelineARN: aws.ToString(i.SourcePipelineArn),
		DateCreated: aws.ToString(i.DateCreated),
	}
	if img.ARN == "" {
		img.ARN = arn
	}
	if i.State != nil {
		img.Status, img.Reason = string(i.State.Status), aws.ToString(i.State.Reason)
	}
	if i.ImageRecipe != nil {
		img.RecipeARN = aws.ToString(i.ImageRecipe.Arn)
	}
	if i.OutputResources != nil {
		for _, a := range i.OutputResources.Amis {
			img.AMIs = append(img.AMIs, outputAMI{Region: aws.ToString(a.Region), ImageID: aws.ToString(a.Image),
				AccountID: aws.ToString(a.AccountId), Name: aws.ToString(a.Name)})
		}
	}
	return img, nil
}

// checkRegion checks the shape of an AWS region name such as "eu-central-1"
// exactly as validate.Region does (^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$, the
// regions the goldenimage construct accepts for distribution), with the
// same error. It is written out rather than imported because
// internal/validate compiles eight regular expressions and embeds the time
// zone database at init, about 0.2 ms of every cold start; a test keeps the
// two in step.
func checkRegion(s string) error {
	if !isRegion(s) {
		return fmt.Errorf("%q is not an AWS region (want e.g. \"us-east-1\")", s)
	}
	return nil
}

// isRegion matches ^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$ (validate.Region's
// pattern, without loading regexp): two to four letters (us, eusc), one or
// more dash-separated words of letters, and a number of one or two digits.
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) < 2 || len(parts[0]) > 4 || !lowerLetters(parts[0]) {
		return false
	}
	for _, p := range parts[1 : len(parts)-1] {
		if p == "" || !lowerLetters(p) {
			return false
		}
	}
	last := parts[len(parts)-1]
	return len(last) >= 1 && len(last) <= 2 && strings.Trim(last, "0123456789") == ""
}

func lowerLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// inProgress reports whether an image status comes before AVAILABLE (or is
// missing). DEPRECATED, DISABLED and DELETED come after it, and FAILED and
// CANCELLED end a build; those are final answers, not a lagging read.
func inProgress(status string) bool {
	switch status {
	case "", "PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING":
		return true
	}
	return false
}

// ignore logs why an image is not recorded.
func (h *Handler) ignore(ctx context.Context, img image) ImageResult {
	var reason string
	switch img.Status {
	case contract.ImageStatusFailed, contract.ImageStatusCancelled:
		reason = fmt.Sprintf("image is %s", img.Status)
		if img.Reason != "" {
			reason += ": " + img.Reason
		}
	default:
		reason = fmt.Sprintf("image status %s is not %s", img.Status, contract.ImageStatusAvailable)
	}
	slog.InfoContext(ctx, "image ignored; nothing written", "decision", DecisionIgnored, "reason", reason, "image", img.ARN)
	return ImageResult{ImageARN: img.ARN, Decision: DecisionIgnored, Reason: reason}
}

func (h *Handler) record(ctx context.Context, img image) (ImageResult, error) {
	if img.Status != contract.ImageStatusAvailable {
		return h.ignore(ctx, img), nil
	}
	if h.PipelineARN != "" && img.PipelineARN != h.PipelineARN {
		reason := fmt.Sprintf("image comes from pipeline %q, not %s", img.PipelineARN, h.PipelineARN)
		slog.InfoContext(ctx, "image ignored; nothing written", "decision", DecisionIgnored, "reason", reason, "image", img.ARN)
		return ImageResult{ImageARN: img.ARN, Decision: DecisionIgnored, Reason: reason}, nil
	}
	amis, err := ownAMIs(img)
	if err != nil {
		return ImageResult{ImageARN: img.ARN, Decision: DecisionIgnored, Reason: err.Error()}, fmt.Errorf("record image %s: %w; nothing written", img.ARN, err)
	}

	res := ImageResult{ImageARN: img.ARN, Decision: DecisionRecorded, Regions: map[string]string{}}
	regions := make([]string, 0, len(amis))
	for r := range amis {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var failed []string
	var errs []error
	for _, region := range regions {
		outcome, err := h.recordIn(ctx, region, amis[region], img)
		if err != nil {
			failed = append(failed, region)
			errs = append(errs, fmt.Errorf("record %s in %s: %w", amis[region], region, err))
			res.Regions[region] = "failed"
			continue
		}
		res.Regions[region] = outcome
		slog.InfoContext(ctx, "latest-AMI parameter decided", "decision", outcome, "region", region, "ami", amis[region],
			"parameter", h.ParameterName, "image", img.ARN)
	}
	if len(failed) > 0 {
		return res, fmt.Errorf("record image %s: failed in %d of %d regions (%s): %w",
			img.ARN, len(failed), len(regions), strings.Join(failed, ", "), errors.Join(errs...))
	}
	return res, nil
}

// ownAMIs returns region -> AMI id for the AMIs the image's own account
// owns, after validating every one of them, and the region of every output
// AMI, so nothing is written when any is bad.
func ownAMIs(img image) (map[string]string, error) {
	_, account, _, ok := arnParts(img.ARN)
	if !ok || account == "" {
		return nil, fmt.Errorf("image ARN %q has no account", img.ARN)
	}
	for i, a := range img.AMIs {
		own := a.AccountID == "" || a.AccountID == account
		if own && a.Region == "" {
			return nil, fmt.Errorf("AMI %q has no region", a.ImageID)
		}
		if err := checkRegion(a.Region); err != nil {
			return nil, fmt.Errorf("outputResources.amis[%d].region %w", i, err)
		}
	}
	amis := map[string]string{}
	for _, a := range img.AMIs {
		if a.AccountID != "" && a.AccountID != account {
			continue // shared with or copied to another account
		}
		if err := contract.ValidateAMIID(a.ImageID); err != nil {
			return nil, fmt.Errorf("AMI in %s: %w", a.Region, err)
		}
		if prev, dup := amis[a.Region]; dup && prev != a.ImageID {
			return nil, fmt.Errorf("two AMIs in %s for account %s: %s and %s", a.Region, account, prev, a.ImageID)
		}
		amis[a.Region] = a.ImageID
	}
	if len(amis) == 0 {
		return nil, fmt.Errorf("image is %s but has no AMI owned by account %s", img.Status, account)
	}
	return amis, nil
}

// recordIn makes the parameter in region hold ami with img's provenance
// tags, writing only what is missing.
func (h *Handler) recordIn(ctx context.Context, region, ami string, img image) (string, error) {
	params := h.ParamsIn(region)
	name := aws.String(h.ParameterName)

	current, description, _, err := h.currentVersion(ctx, params)
	if err != nil {
		return "", err
	}

	var taggedImage, taggedDate string
	if current != "" {
		tags, err := params.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{
			ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: name,
		})
		if err != nil {
			return "", fmt.Errorf("list tags of parameter %s: %w", h.ParameterName, err)
		}
		for _, t := range tags.TagList {
			switch aws.ToString(t.Key) {
			case contract.TagImageARN:
				taggedImage = aws.ToString(t.Value)
			case contract.TagBuildDate:
				taggedDate = aws.ToString(t.Value)
			}
		}
	}
	// The description is written with the value, in one PutParameter, so
	// it names the build of the current value even when the tags, written
	// afterwards, lag behind. Parameters written before descriptions were
	// used have only the tags, and those written before descriptions named
	// the build's date take it from the tags when they name the same build.
	recorded, ok := parseDescription(description)
	if !ok {
		recorded = build{ARN: taggedImage}
	}
	if recorded.Created.IsZero() && recorded.ARN != "" && recorded.ARN == taggedImage {
		recorded.Created, _ = buildTime(taggedDate)
	}
	candidate := build{ARN: img.ARN}
	candidate.Created, _ = buildTime(img.DateCreated)

	outcome := OutcomeWritten
	switch {
	case current == ami && recorded.ARN == img.ARN && taggedImage == tagValue(img.ARN):
		return OutcomeUnchanged, nil
	case current == ami:
		// A previous attempt wrote the value but not the tags.
		outcome = OutcomeRetagged
	case newerBuild(recorded, candidate):
		// A late or redelivered notification of an older build must not
		// roll the parameter back.
		return OutcomeStale, nil
	default:
		if err := h.put(ctx, params, ami, candidate.description()); err != nil {
			return "", fmt.Errorf("put parameter %s: %w", h.ParameterName, err)
		}
	}

	// PutParameter rejects Tags together with Overwrite, so tag afterwards.
	if _, err := params.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter,
		ResourceId:   name,
		Tags:         provenanceTags(img),
	}); err != nil {
		return "", fmt.Errorf("tag parameter %s: %w", h.ParameterName, err)
	}
	return outcome, nil
}

// put writes ami with description (which names the build), and returns
// once the parameter's history shows it.
//
// PutParameter has no idempotency token: when an attempt fails with a 5xx
// or its response is lost after SSM applied it, the SDK's own retry would
// write the same value again as a new version, and every new version is a
// change event for the consumers (GoldenFleet's rollout takes a new version
// of the same AMI as a deliberate retry). So the SDK does not retry this
// call; put retries the errors Retryer deems retryable, after the same
// delays, but first looks whether the failed attempt was applied after all.
//
// And an answer is not a write: Parameter Store validates aws:ec2:image
// values after answering, the new version appears only once validation
// passes, and a version that fails it never appears (the change event then
// carries an exception). So after a 200, and after a failure that may have
// reached SSM, put reads the history until the value is there, for up to
// ConfirmTimeout. A 200 whose version does not appear is an error, so the
// event is retried rather than recorded as written.
func (h *Handler) put(ctx context.Context, params parameterStore, ami, description string) error {
	in := &ssm.PutParameterInput{
		Name:        aws.String(h.ParameterName),
		Value:       aws.String(ami),
		Description: aws.String(description),
		Type:        ssmtypes.ParameterTypeString,
		DataType:    aws.String(contract.DataTypeEC2Image),
		Overwrite:   aws.Bool(true),
		Tier:        h.ParameterTier,
	}
	noSDKRetry := func(o *ssm.Options) { o.RetryMaxAttempts = 1 }
	for attempt := 1; ; attempt++ {
		out, err := params.PutParameter(ctx, in, noSDKRetry)
		if err == nil {
			shown, cerr := h.confirm(ctx, params, ami, *in.Description, out.Version)
			switch {
			case cerr != nil:
				return fmt.Errorf("PutParameter answered version %d, then: %w", out.Version, cerr)
			case !shown:
				return fmt.Errorf("PutParameter answered version %d, but the history did not show %s within %s: "+
					"Parameter Store's asynchronous aws:ec2:image validation failed or has not finished; not recorded, retry later",
					out.Version, ami, h.confirmTimeout())
			}
			return nil
		}
		if h.Retryer == nil || attempt >= h.Retryer.MaxAttempts() || !h.Retryer.IsErrorRetryable(err) {
			return err
		}
		delay, derr := h.Retryer.RetryDelay(attempt, err)
		if derr != nil {
			return errors.Join(err, derr)
		}
		if werr := h.wait(ctx, delay); werr != nil {
			return errors.Join(err, werr)
		}
		if rejected(err) {
			continue // SSM refused the request (throttled); nothing to look for
		}
		shown, rerr := h.confirm(ctx, params, ami, *in.Description, 0)
		if rerr != nil {
			return errors.Join(err, rerr)
		}
		if shown {
			slog.InfoContext(ctx, "a failed PutParameter was applied after all; not writing again",
				"parameter", h.ParameterName, "ami", ami, "attempt", attempt, "error", err.Error())
			return nil
		}
	}
}

// rejected reports whether err is an answer with a 4xx status: SSM refused
// the request (throttling, TooManyUpdates), so it wrote nothing. A 5xx, or
// no answer at all, may follow a write.
func rejected(err error) bool {
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500
}

// confirm reads the parameter's history until its latest version holds ami
// with description, and is at least version (0: any), waiting between the
// reads from 100 ms up to 2 s, at most ConfirmTimeout in all.
func (h *Handler) confirm(ctx context.Context, params parameterStore, ami, description string, version int64) (bool, error) {
	var waited time.Duration
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		value, desc, latest, err := h.currentVersion(ctx, params)
		if err != nil {
			return false, err
		}
		if value == ami && desc == description && latest >= version {
			return true, nil
		}
		if waited+delay > h.confirmTimeout() {
			return false, nil
		}
		if err := h.wait(ctx, delay); err != nil {
			return false, err
		}
		waited += delay
	}
}

func (h *Handler) confirmTimeout() time.Duration {
	if h.ConfirmTimeout > 0 {
		return h.ConfirmTimeout
	}
	return DefaultConfirmTimeout
}

func (h *Handler) wait(ctx context.Context, d time.Duration) error {
	if h.sleep != nil {
		return h.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// descriptionPrefix and descriptionBuilt frame the description the
// recorder writes with every value (build.description).
const (
	descriptionPrefix = contract.LatestDescriptionPrefix
	descriptionBuilt  = ", built "
)

// currentVersion returns the value, description and number of the
// parameter's latest version, or empty strings and 0 when it does not
// exist. It reads the history because GetParameter returns no description;
// the history is at most 100 versions, two pages.
func (h *Handler) currentVersion(ctx context.Context, params parameterStore) (value, description string, version int64, err error) {
	var latest *ssmtypes.ParameterHistory
	pages := ssm.NewGetParameterHistoryPaginator(params, &ssm.GetParameterHistoryInput{
		Name: aws.String(h.ParameterName), MaxResults: aws.Int32(50),
	})
	var tokens awsconfig.PageTokens
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		var notFound *ssmtypes.ParameterNotFound
		if errors.As(err, &notFound) {
			return "", "", 0, nil
		}
		if err == nil {
			err = tokens.Check(page.NextToken)
		}
		if err != nil {
			return "", "", 0, fmt.Errorf("get parameter history of %s: %w", h.ParameterName, err)
		}
		for i := range page.Parameters {
			if latest == nil || page.Parameters[i].Version > latest.Version {
				latest = &page.Parameters[i]
			}
		}
	}
	if latest == nil {
		return "", "", 0, nil
	}
	return aws.ToString(latest.Value), aws.ToString(latest.Description), latest.Version, nil
}

// build is an image build version as a parameter's description names it.
type build struct {
	ARN     string
	Created time.Time // zero when not known
}

// description is what the recorder writes with a value of b:
// "Golden AMI from <image build version ARN>, built <RFC 3339 time>".
func (b build) description() string {
	if b.Created.IsZero() {
		return descriptionPrefix + b.ARN
	}
	return descriptionPrefix + b.ARN + descriptionBuilt + b.Created.Format(time.RFC3339Nano)
}

// parseDescription reads the build from a description the recorder wrote,
// with or without its date (the date was added later).
func parseDescription(s string) (build, bool) {
	rest, ok := strings.CutPrefix(s, descriptionPrefix)
	if !ok {
		return build{}, false
	}
	arn, date, dated := strings.Cut(rest, descriptionBuilt)
	b := build{ARN: arn}
	if dated {
		b.Created, _ = buildTime(date)
	}
	return b, true
}

// newerBuild reports whether recorded is a later build than candidate, so
// that writing candidate would roll the parameter back.
//
// Builds are ordered by when Image Builder created them. Their recipe
// versions do not order them: goldenimage derives a recipe's version from a
// hash of its content, so a changed recipe's version is as likely lower as
// higher. Without both creation times, only builds of one recipe version
// are ordered, by build number; other pairs are not, and candidate is
// written.
func newerBuild(recorded, candidate build) bool {
	if recorded.ARN == "" || recorded.ARN == candidate.ARN {
		return false
	}
	if !recorded.Created.IsZero() && !candidate.Created.IsZero() && !recorded.Created.Equal(candidate.Created) {
		return recorded.Created.After(candidate.Created)
	}
	rn, rv, ok1 := imageVersion(recorded.ARN)
	cn, cv, ok2 := imageVersion(candidate.ARN)
	if !ok1 || !ok2 || rn != cn || [3]int(rv[:3]) != [3]int(cv[:3]) {
		return false
	}
	return rv[3] > cv[3]
}

func provenanceTags(img image) []ssmtypes.Tag {
	tags := []ssmtypes.Tag{{Key: aws.String(contract.TagImageARN), Value: aws.String(tagValue(img.ARN))}}
	if img.PipelineARN != "" {
		tags = append(tags, ssmtypes.Tag{Key: aws.String(contract.TagPipelineARN), Value: aws.String(tagValue(img.PipelineARN))})
	}
	if img.RecipeARN != "" {
		tags = append(tags, ssmtypes.Tag{Key: aws.String(contract.TagRecipeARN), Value: aws.String(tagValue(img.RecipeARN))})
	}
	if img.DateCreated != "" {
		tags = append(tags, ssmtypes.Tag{Key: aws.String(contract.TagBuildDate), Value: aws.String(buildDate(img.DateCreated))})
	}
	return tags
}

// buildDate normalises Image Builder's dates to RFC 3339 in UTC, to the
// second, for the build-date tag; a date it cannot read is kept as a tag
// value.
func buildDate(s string) string {
	if t, ok := buildTime(s); ok {
		return t.Truncate(time.Second).Format(time.RFC3339)
	}
	return tagValue(s)
}

// buildTime reads Image Builder's dates: GetImage, which the dates come
// from, returns ISO 8601; the "Jul 28, 2022 1:13:45 AM" (UTC) form of Image
// Builder's SNS message is accepted too.
func buildTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "Jan 2, 2006 3:04:05 PM"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
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
