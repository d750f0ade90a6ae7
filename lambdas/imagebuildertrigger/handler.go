package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/platform-eng/golden-ami/internal/awsconfig"
	"github.com/platform-eng/golden-ami/internal/contract"
)

// Decisions reported in Result.Decision.
const (
	DecisionStarted        = "started"
	DecisionAlreadyStarted = "already-started"
	DecisionIgnored        = "ignored"
)

// Result is what one invocation returns.
type Result struct {
	Decision             string `json:"decision"`
	Reason               string `json:"reason,omitempty"`
	ImageBuildVersionARN string `json:"imageBuildVersionArn,omitempty"`
	ClientToken          string `json:"clientToken,omitempty"`
}

// parameterChange is the detail of an EventBridge "Parameter Store Change"
// event. When a write of an aws:ec2:image parameter fails Parameter Store's
// asynchronous validation, Exception carries the reason (e.g. "Unable to
// Describe Resource") and no new version exists.
type parameterChange struct {
	Operation   string `json:"operation"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	DataType    string `json:"dataType"`
	Description string `json:"description"`
	Exception   string `json:"exception"`
}

// parameterReader is the part of the SSM client the trigger reads with. It
// reads the parameter's history, not just its current value, to tell a new
// value from the same value written again (see clientToken).
type parameterReader interface {
	GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error)
}

// pipelineStarter is the only Image Builder call the trigger makes. It never
// creates recipes or updates the pipeline.
type pipelineStarter interface {
	StartImagePipelineExecution(ctx context.Context, in *imagebuilder.StartImagePipelineExecutionInput, optFns ...func(*imagebuilder.Options)) (*imagebuilder.StartImagePipelineExecutionOutput, error)
}

// Handler starts the golden image pipeline when the upstream-AMI parameter
// gets a new version.
type Handler struct {
	PipelineARN   string
	ParameterName string
	Params        parameterReader
	Pipelines     pipelineStarter
}

// Handle decides whether ev is a new version of our parameter written by
// the upstream monitor or the latest-AMI recorder (contract.WrittenByWriter)
// and, if so, starts the pipeline exactly once for the
// value that version holds.
//
// A malformed event (missing source, detail-type, detail, detail.name or
// detail.operation, an operation other than Create, Update, Delete and
// LabelParameterVersion, or a detail that is not a JSON object) is an error
// naming the field, so it lands in the dead-letter queue and nothing starts.
// A well-formed event that is simply not ours (another source or parameter,
// a Delete or LabelParameterVersion, a write that failed validation, a
// latest version written by neither, such as a CloudFormation seed) is
// logged at info and returns nil.
func (h *Handler) Handle(ctx context.Context, ev events.CloudWatchEvent) (Result, error) {
	change, reason, err := h.decide(ev)
	if err != nil {
		return Result{}, fmt.Errorf("malformed Parameter Store Change event %q: %w", ev.ID, err)
	}
	if reason != "" {
		level := slog.LevelInfo
		if change.Exception != "" && change.Name == h.ParameterName {
			// Our own parameter's write failed Parameter Store's validation:
			// nothing to build, but someone should look (the result also
			// reaches the notifications topic).
			level = slog.LevelWarn
		}
		slog.Log(ctx, level, "event ignored; no build started", "decision", DecisionIgnored, "reason", reason,
			"eventId", ev.ID, "parameter", change.Name, "operation", change.Operation)
		return Result{Decision: DecisionIgnored, Reason: reason}, nil
	}

	cur, err := h.currentValue(ctx)
	if err != nil {
		return Result{}, err
	}
	value, version, since := cur.value, cur.version, cur.since
	if !cur.byWriter {
		// CloudFormation writes the seed when it creates the parameter and
		// again whenever it updates the resource; building it would build
		// and publish the wrong base. The monitor writes the upstream back
		// on its next run, and that write starts (or replays) the build.
		reason := fmt.Sprintf("parameter %s version %d was not written by %s (e.g. a CloudFormation seed); no build started", h.ParameterName, version, writers)
		slog.InfoContext(ctx, "event ignored; no build started", "decision", DecisionIgnored, "reason", reason,
			"eventId", ev.ID, "parameter", change.Name, "operation", change.Operation, "version", version, "description", cur.description)
		return Result{Decision: DecisionIgnored, Reason: reason}, nil
	}
	if err := contract.ValidateAMIID(value); err != nil {
		return Result{}, fmt.Errorf("parameter %s version %d: %w; no build started", h.ParameterName, version, err)
	}

	token := clientToken(h.PipelineARN, h.ParameterName, since, cur.sinceWritten, value)
	res := Result{ClientToken: token}
	started, err := h.Pipelines.StartImagePipelineExecution(ctx, &imagebuilder.StartImagePipelineExecutionInput{
		ImagePipelineArn: aws.String(h.PipelineARN),
		ClientToken:      aws.String(token),
	})
	var mismatch *ibtypes.IdempotentParameterMismatchException
	switch {
	case errors.As(err, &mismatch):
		// The token is derived from the pipeline, so a mismatch should only
		// mean the token was already used for this change. Nothing checks
		// that, so it is logged at warn level.
		res.Decision = DecisionAlreadyStarted
		res.Reason = fmt.Sprintf("client token %s was already used for parameter %s value %s (version %d, since version %d)", token, h.ParameterName, value, version, since)
		slog.WarnContext(ctx, "Image Builder reports the client token was used with other parameters; no build started", "decision", res.Decision,
			"reason", res.Reason, "pipeline", h.PipelineARN, "error", err.Error())
		return res, nil
	case err != nil:
		return Result{}, fmt.Errorf("start image pipeline %s for parameter %s version %d (client token %s): %w",
			h.PipelineARN, h.ParameterName, version, token, err)
	}
	// Image Builder answers a reused token with the original execution, so
	// a redelivered event lands here too, with the same ARN.
	res.Decision = DecisionStarted
	res.ImageBuildVersionARN = aws.ToString(started.ImageBuildVersionArn)
	res.Reason = fmt.Sprintf("parameter %s version %d is %s (its value since version %d", h.ParameterName, version, value, since)
	switch cur.skipped {
	case 0:
		res.Reason += ")"
	case 1:
		res.Reason += ", skipping 1 version not written by " + writers + ")"
	default:
		res.Reason += fmt.Sprintf(", skipping %d versions not written by %s)", cur.skipped, writers)
	}
	slog.InfoContext(ctx, "pipeline started (or the start for this version replayed)", "decision", res.Decision,
		"pipeline", h.PipelineARN, "imageBuildVersionArn", res.ImageBuildVersionARN, "clientToken", token,
		"parameter", h.ParameterName, "version", version, "since", since, "skipped", cur.skipped, "ami", value)
	return res, nil
}

// currentVersion is the parameter's latest version as the trigger sees it.
type currentVersion struct {
	value       string
	version     int64
	description string
	// byWriter reports that the upstream monitor or the latest-AMI
	// recorder wrote the version (contract.WrittenByWriter).
	byWriter bool
	// since is the first version of the run of consecutive writer-written
	// versions holding value; skipped counts the versions written by
	// others (seeds) inside that run, which do not break it.
	since   int64
	skipped int
	// sinceWritten is when version since was written (its history
	// entry's LastModifiedDate, which never changes): it tells the same
	// version number of a deleted and re-created parameter apart.
	sinceWritten time.Time
}

// writers names the functions whose writes start builds, for reasons.
const writers = "the upstream monitor or the latest-AMI recorder"

// writtenByWriter reports whether the upstream monitor or the latest-AMI
// recorder wrote version v: the upstream-AMI parameter's writer, or, when
// the parameter is another pipeline's latest-AMI parameter, its recorder.
func writtenByWriter(v ssmtypes.ParameterHistory) bool {
	return contract.WrittenByWriter(aws.ToString(v.Description))
}

// currentValue reads the parameter's history and returns its latest version.
// A Parameter Store Change event names no version, so the latest is the one
// the event is about, or a later one whose own event follows.
//
// For a version the monitor (or the recorder) wrote it also finds since:
// the first version of the run of consecutive versions they wrote that hold
// that same value.
// Versions written by others are skipped, not counted as a change: when a
// stack update re-writes the seed and the monitor then writes its value
// back, since (and so the client token) is that of the monitor's earlier
// write, whose build Image Builder returns. Writing the same AMI again (a
// retried PutParameter whose first response was lost, two overlapping
// monitor runs) adds a version but not a change, so since stays put.
func (h *Handler) currentValue(ctx context.Context) (currentVersion, error) {
	var history []ssmtypes.ParameterHistory
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
			return currentVersion{}, fmt.Errorf("get parameter history of %s: %w", h.ParameterName, err)
		}
		history = append(history, page.Parameters...)
	}
	if len(history) == 0 {
		return currentVersion{}, fmt.Errorf("get parameter history of %s: the response lists no versions", h.ParameterName)
	}
	slices.SortFunc(history, func(a, b ssmtypes.ParameterHistory) int { return cmp.Compare(a.Version, b.Version) })
	current := history[len(history)-1]
	cur := currentVersion{
		value: aws.ToString(current.Value), version: current.Version, description: aws.ToString(current.Description),
		byWriter: writtenByWriter(current), since: current.Version, sinceWritten: aws.ToTime(current.LastModifiedDate),
	}
	if !cur.byWriter {
		return cur, nil
	}
	others := 0 // versions by others since the last monitor version seen
	for i := len(history) - 2; i >= 0; i-- {
		v := history[i]
		if !writtenByWriter(v) {
			others++
			continue
		}
		if aws.ToString(v.Value) != cur.value {
			break
		}
		cur.since, cur.sinceWritten, cur.skipped, others = v.Version, aws.ToTime(v.LastModifiedDate), cur.skipped+others, 0
	}
	return cur, nil
}

// decide returns the decoded detail and, for a well-formed event the trigger
// does not act on, a non-empty reason. A malformed event is an error naming
// the field.
func (h *Handler) decide(ev events.CloudWatchEvent) (parameterChange, string, error) {
	if ev.Source == "" {
		return parameterChange{}, "", errors.New(`field "source" is empty`)
	}
	if ev.DetailType == "" {
		return parameterChange{}, "", errors.New(`field "detail-type" is empty`)
	}
	if ev.Source != contract.SourceSSM || ev.DetailType != contract.DetailTypeParameterChange {
		return parameterChange{}, fmt.Sprintf("event %s/%q is not an %s %q event",
			ev.Source, ev.DetailType, contract.SourceSSM, contract.DetailTypeParameterChange), nil
	}
	change, err := decodeDetail(ev.Detail)
	if err != nil {
		return parameterChange{}, "", err
	}
	switch {
	case change.Name != h.ParameterName:
		return change, fmt.Sprintf("parameter %s is not %s", change.Name, h.ParameterName), nil
	case change.Operation != contract.OperationCreate && change.Operation != contract.OperationUpdate:
		return change, fmt.Sprintf("operation %s does not create a new value", change.Operation), nil
	case change.Exception != "":
		return change, fmt.Sprintf("the %s of %s failed Parameter Store validation: %s", change.Operation, change.Name, change.Exception), nil
	}
	return change, "", nil
}

// decodeDetail decodes and checks the event's detail object.
func decodeDetail(raw json.RawMessage) (parameterChange, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return parameterChange{}, errors.New(`field "detail" is missing`)
	}
	if trimmed[0] != '{' {
		return parameterChange{}, fmt.Errorf(`field "detail" is not a JSON object: %s`, truncate(trimmed))
	}
	var c parameterChange
	if err := json.Unmarshal(trimmed, &c); err != nil {
		return parameterChange{}, fmt.Errorf(`field "detail": %w`, err)
	}
	if c.Name == "" {
		return parameterChange{}, errors.New(`field "detail.name" is empty`)
	}
	if c.Operation == "" {
		return parameterChange{}, fmt.Errorf(`field "detail.operation" is empty (detail.name %q)`, c.Name)
	}
	// Parameter Store sends these four. Anything else (a typo, a mis-cased
	// "update") is malformed rather than a change to ignore, so it is not
	// mistaken for one of those the function deliberately ignores.
	switch c.Operation {
	case contract.OperationCreate, contract.OperationUpdate, contract.OperationDelete, contract.OperationLabelParameterVersion:
	default:
		return parameterChange{}, fmt.Errorf(`field "detail.operation" = %q is not one of %s, %s, %s, %s (detail.name %q)`, c.Operation,
			contract.OperationCreate, contract.OperationUpdate, contract.OperationDelete, contract.OperationLabelParameterVersion, c.Name)
	}
	return c, nil
}

func truncate(b []byte) string {
	const n = 64
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}

// clientToken derives the StartImagePipelineExecution idempotency token from
// what identifies one change: the pipeline, the parameter, its value, the
// version at which the monitor first wrote that value (since, see
// currentValue) and when that version was written. It is the first 32 hex
// digits of their SHA-256 (Image Builder allows 1 to 36 characters).
//
// Redeliveries of an event, several events for the same version, new
// versions that write the same value again, and the monitor writing its
// value back after a seed re-write all give the same token, so Image Builder
// returns the original execution instead of starting another, for as long
// as it remembers the token. A new value gives a new token and a new build,
// including a return to an earlier value (its run starts at a later
// version). A parameter deleted and re-created restarts at version 1, and
// can come to hold a value at a version number the old one had held it at
// (A, B, A, then seed, B): the time that version was written tells them
// apart, so the new parameter's value is built. It is taken to the
// millisecond, as Parameter Store reports it.
func clientToken(pipelineARN, parameterName string, since int64, sinceWritten time.Time, value string) string {
	written := ""
	if !sinceWritten.IsZero() {
		written = strconv.FormatInt(sinceWritten.Round(time.Millisecond).UnixMilli(), 10)
	}
	sum := sha256.Sum256([]byte(pipelineARN + "\n" + parameterName + "\n" + strconv.FormatInt(since, 10) + "\n" + written + "\n" + value))
	return hex.EncodeToString(sum[:])[:32]
}
