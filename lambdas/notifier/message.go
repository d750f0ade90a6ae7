package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/platform-eng/golden-ami/internal/contract"
)

// message is one Slack notification before rendering: a headline (also the
// notification's fallback text), short facts shown two per row, an optional
// longer detail (AMIs, a failure reason) and a small context line (links).
type message struct {
	Text    string
	Fields  []field
	Detail  string
	Context string
}

// field is one short fact of a message.
type field struct {
	Title string
	Value string
}

// commit is one source revision of a pipeline execution.
type commit struct {
	ID      string
	Message string
	URL     string
}

// Slack's limits (https://api.slack.com/reference/block-kit/blocks): section
// text 3000 characters, at most 10 fields of 2000. Values are cut well below.
const (
	maxTextRunes   = 2900
	maxFieldRunes  = 1900
	maxFields      = 10
	maxReasonRunes = 1500
	maxLineRunes   = 120
)

// esc escapes the three characters Slack's mrkdwn treats as control
// characters. Every value that comes from an event goes through it.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to at most n runes, marking the cut with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// firstLine is the first non-empty line of s, trimmed and cut.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return cut(l, maxLineRunes)
		}
	}
	return ""
}

// link renders a Slack link, or just the label when the URL is not one we
// can embed safely (or there is none).
func link(u, label string) string {
	if !strings.HasPrefix(u, "https://") || strings.ContainsAny(u, "|<> \n") {
		return esc(label)
	}
	return "<" + u + "|" + strings.NewReplacer("|", "¦").Replace(esc(label)) + ">"
}

// consoleLink is a link to u, or nothing when there is no console URL: a
// bare "Open in the console" would point nowhere.
func consoleLink(u, label string) string {
	if u == "" {
		return ""
	}
	return link(u, label)
}

// consoleHost is the AWS console's address for a region, or "" when region
// is not a region code or its partition's console address is not known here.
// The region comes from the event, so it is checked before it becomes part of
// a host name.
func consoleHost(region string) string {
	if !regionPattern.MatchString(region) {
		return ""
	}
	switch {
	// China's and GovCloud's consoles have one address; every URL below
	// names its region in the query.
	case strings.HasPrefix(region, "cn-"):
		return "https://console.amazonaws.cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "https://console.amazonaws-us-gov.com"
	case strings.HasPrefix(region, "us-iso"), strings.HasPrefix(region, "eu-isoe-"), strings.HasPrefix(region, "eusc-"):
		return ""
	}
	return "https://" + region + ".console.aws.amazon.com"
}

// consoleURL is consoleHost(region) followed by the formatted path, or ""
// when the region has no console address.
func consoleURL(region, format string, args ...any) string {
	h := consoleHost(region)
	if h == "" {
		return ""
	}
	return h + fmt.Sprintf(format, args...)
}

// executionURL is the CodePipeline console's timeline of one execution.
func executionURL(region, pipeline, executionID string) string {
	return consoleURL(region, "/codesuite/codepipeline/pipelines/%s/executions/%s/timeline?region=%s",
		url.PathEscape(pipeline), url.PathEscape(executionID), url.QueryEscape(region))
}

// pipelineViewURL is the CodePipeline console's pipeline view, where an
// approval is reviewed.
func pipelineViewURL(region, pipeline string) string {
	return consoleURL(region, "/codesuite/codepipeline/pipelines/%s/view?region=%s",
		url.PathEscape(pipeline), url.QueryEscape(region))
}

// alarmURL is the CloudWatch console page of an alarm.
func alarmURL(region, name string) string {
	return consoleURL(region, "/cloudwatch/home?region=%s#alarmsV2:alarm/%s",
		url.QueryEscape(region), url.PathEscape(name))
}

var hexSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// commitFromRevision builds a commit from an artifact revision. CodeStar
// connections (GitHub, GitLab, Bitbucket) put a JSON object with
// "CommitMessage" in revisionSummary; CodeCommit puts the message itself.
func commitFromRevision(id, summary, revisionURL string) commit {
	c := commit{ID: id, Message: summary, URL: revisionURL}
	if strings.HasPrefix(strings.TrimSpace(summary), "{") {
		var s struct {
			CommitMessage string `json:"CommitMessage"`
		}
		if json.Unmarshal([]byte(summary), &s) == nil {
			c.Message = s.CommitMessage
		}
	}
	return c
}

func (c commit) String() string {
	id := c.ID
	if hexSHA.MatchString(id) {
		id = id[:7]
	}
	id = cut(id, 40)
	s := "`" + esc(id) + "`"
	if c.URL != "" {
		s = link(c.URL, id)
	}
	if m := firstLine(c.Message); m != "" {
		s += " " + esc(m)
	}
	return s
}

func commitsValue(commits []commit) string {
	lines := make([]string, 0, len(commits))
	for _, c := range commits {
		lines = append(lines, c.String())
	}
	return strings.Join(lines, "\n")
}

// pipelineStateWords returns the icon and the words after "CodePipeline
// *name*" for an execution state.
func pipelineStateWords(state string) (icon, words string) {
	switch state {
	case "SUCCEEDED":
		return ":white_check_mark:", "succeeded"
	case "FAILED":
		return ":x:", "failed"
	case "STARTED":
		return ":arrow_forward:", "started"
	case "RESUMED":
		return ":arrow_forward:", "resumed"
	case "STOPPING":
		return ":octagonal_sign:", "is stopping"
	case "STOPPED":
		return ":octagonal_sign:", "was stopped"
	case "SUPERSEDED":
		return ":fast_forward:", "was superseded by a newer execution"
	case "CANCELED":
		return ":no_entry_sign:", "was canceled"
	}
	return ":information_source:", "is " + esc(state)
}

// pipelineMessage formats a CodePipeline Pipeline Execution State Change.
func pipelineMessage(e pipelineEvent, commits []commit) message {
	icon, words := pipelineStateWords(e.State)
	u := executionURL(e.Region, e.Pipeline, e.ExecutionID)
	m := message{
		Text: fmt.Sprintf("%s CodePipeline *%s* %s", icon, esc(e.Pipeline), words),
		Fields: []field{
			{"Pipeline", esc(e.Pipeline)},
			{"State", esc(e.State)},
			{"Account", esc(e.Account)},
			{"Region", esc(e.Region)},
			{"Execution", link(u, e.ExecutionID)},
		},
		Context: consoleLink(u, "Open this execution in the CodePipeline console"),
	}
	if len(commits) > 0 {
		m.Fields = append(m.Fields, field{"Commit", commitsValue(commits)})
	}
	return m
}

// approvalMessage formats the state change of a manual approval action.
func approvalMessage(e pipelineEvent, commits []commit) message {
	var icon, words string
	switch e.State {
	case "STARTED":
		icon, words = ":raised_hand:", "is waiting for approval"
	case "SUCCEEDED":
		icon, words = ":white_check_mark:", "was approved"
	case "FAILED":
		icon, words = ":x:", "was rejected"
	default:
		icon, words = ":information_source:", "approval is "+esc(e.State)
	}
	u := executionURL(e.Region, e.Pipeline, e.ExecutionID)
	m := message{
		Text: fmt.Sprintf("%s CodePipeline *%s* %s (stage %s, action %s)",
			icon, esc(e.Pipeline), words, esc(e.Stage), esc(e.Action)),
		Fields: []field{
			{"Pipeline", esc(e.Pipeline)},
			{"Stage", esc(e.Stage)},
			{"Action", esc(e.Action)},
			{"State", esc(e.State)},
			{"Account", esc(e.Account)},
			{"Region", esc(e.Region)},
			{"Execution", link(u, e.ExecutionID)},
		},
		Context: consoleLink(pipelineViewURL(e.Region, e.Pipeline), "Review it in the CodePipeline console"),
	}
	if len(commits) > 0 {
		m.Fields = append(m.Fields, field{"Commit", commitsValue(commits)})
	}
	return m
}

// imageMessage formats a finished Image Builder image.
func imageMessage(img imageInfo) message {
	var icon, words string
	switch img.Status {
	case contract.ImageStatusAvailable:
		icon, words = ":white_check_mark:", "is available"
	case contract.ImageStatusFailed:
		icon, words = ":x:", "failed"
	case contract.ImageStatusCancelled:
		icon, words = ":no_entry_sign:", "was cancelled"
	default:
		icon, words = ":information_source:", "is "+esc(img.Status)
	}
	m := message{
		Text: fmt.Sprintf("%s Image *%s %s* %s", icon, esc(img.Name), esc(img.Version), words),
		Fields: []field{
			{"Image", esc(img.Name)},
			{"Version", esc(img.Version)},
			{"State", esc(img.Status)},
		},
		Context: "Image " + esc(img.ARN),
	}
	if img.PipelineName != "" {
		m.Fields = append(m.Fields, field{"Pipeline", esc(img.PipelineName)})
	}
	m.Fields = append(m.Fields, field{"Account", esc(img.Account)}, field{"Region", esc(img.Region)})
	switch {
	case img.Status == contract.ImageStatusAvailable && img.AMIsUnknown:
		m.Detail = "*AMIs*\nunknown: Image Builder's GetImage failed (see the notifier's log)"
	case img.Status == contract.ImageStatusAvailable && len(img.AMIs) == 0:
		m.Detail = "*AMIs*\nnone reported"
	case img.Status == contract.ImageStatusAvailable:
		lines := []string{"*AMIs*"}
		for _, a := range img.AMIs {
			l := fmt.Sprintf("• %s: `%s`", esc(a.Region), esc(a.ImageID))
			if a.AccountID != "" && a.AccountID != img.Account {
				l += " (account " + esc(a.AccountID) + ")"
			}
			lines = append(lines, l)
		}
		m.Detail = strings.Join(lines, "\n")
	case img.Reason != "":
		m.Detail = "*Reason*\n" + esc(cut(img.Reason, maxReasonRunes))
	default:
		m.Detail = "*Reason*\nnone given"
	}
	return m
}

// lambdaFunction returns the name, account and region of a function ARN
// (arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]).
func lambdaFunction(arn string) (name, account, region string) {
	p := strings.Split(arn, ":")
	if len(p) < 7 || p[0] != "arn" || p[5] != "function" {
		return arn, "", ""
	}
	return p[6], p[4], p[3]
}

// triggerMessage formats a Lambda destination record, in particular the
// pipeline trigger's decisions.
func triggerMessage(r destinationRecord) message {
	name, account, region := lambdaFunction(r.FunctionARN)
	fn := "*" + esc(name) + "*"
	reason := esc(cut(r.Reason, maxReasonRunes))
	var text string
	switch {
	case r.Condition != "Success":
		text = fmt.Sprintf(":x: %s failed (%s", fn, esc(r.Condition))
		if r.InvokeCount != "" {
			text += fmt.Sprintf(", %s attempts", esc(r.InvokeCount))
		}
		text += ")"
		if r.ErrorMessage != "" {
			text += ": " + esc(cut(r.ErrorMessage, maxReasonRunes))
		}
	case r.Decision == "started":
		build := esc(r.ImageBuildVersionARN)
		if img, ok := imageFromARN(r.ImageBuildVersionARN); ok {
			build = esc(img.Name + " " + img.Version)
		}
		text = fmt.Sprintf(":rocket: %s started image build *%s*: %s", fn, build, reason)
	case r.Decision == "already-started":
		text = fmt.Sprintf(":repeat: %s found the build already started: %s", fn, reason)
	case r.Decision == "ignored":
		text = fmt.Sprintf(":information_source: %s ignored an event: %s", fn, reason)
	case r.Decision != "":
		text = fmt.Sprintf(":information_source: %s decided %s: %s", fn, esc(r.Decision), reason)
	default:
		text = fmt.Sprintf(":information_source: %s succeeded", fn)
	}
	ctx := "Lambda function " + esc(name)
	if account != "" {
		ctx += " in " + esc(account) + "/" + esc(region)
	}
	if r.Timestamp != "" {
		ctx += " at " + esc(r.Timestamp)
	}
	return message{Text: strings.TrimSuffix(text, ": "), Context: ctx}
}

// alarmMessageFor formats a CloudWatch alarm notification.
func alarmMessageFor(a alarmMessage) message {
	var icon string
	switch a.NewState {
	case "ALARM":
		icon = ":rotating_light:"
	case "OK":
		icon = ":white_check_mark:"
	default:
		icon = ":grey_question:"
	}
	text := fmt.Sprintf("%s Alarm *%s* is %s", icon, esc(a.Name), esc(a.NewState))
	if a.OldState != "" {
		text += " (was " + esc(a.OldState) + ")"
	}
	m := message{Text: text}
	if a.Reason != "" {
		m.Detail = esc(cut(a.Reason, maxReasonRunes))
	}
	// The message's Region is a display name ("US East (N. Virginia)");
	// the ARN has the code the console link needs.
	region := a.Region
	if p := strings.Split(a.ARN, ":"); len(p) >= 7 && p[0] == "arn" && regionPattern.MatchString(p[3]) {
		region = p[3]
	}
	parts := []string{}
	if a.Account != "" {
		parts = append(parts, "Account "+esc(a.Account))
	}
	if region != "" {
		parts = append(parts, esc(region))
	}
	if u := alarmURL(region, a.Name); u != "" {
		parts = append(parts, link(u, "Open in the CloudWatch console"))
	}
	m.Context = strings.Join(parts, " · ")
	return m
}

// Slack incoming-webhook payload (Block Kit).
type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func mrkdwn(s string) slackText { return slackText{Type: "mrkdwn", Text: s} }

// render turns a message into the webhook's JSON body, within Slack's
// limits.
func render(m message) ([]byte, error) {
	p := slackPayload{Text: cut(m.Text, maxTextRunes)}
	p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: p.Text}})
	if len(m.Fields) > 0 {
		b := slackBlock{Type: "section"}
		for i, f := range m.Fields {
			if i == maxFields {
				break
			}
			b.Fields = append(b.Fields, mrkdwn(cut("*"+f.Title+"*\n"+f.Value, maxFieldRunes)))
		}
		p.Blocks = append(p.Blocks, b)
	}
	if m.Detail != "" {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: cut(m.Detail, maxTextRunes)}})
	}
	if m.Context != "" {
		p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: []slackText{mrkdwn(cut(m.Context, maxTextRunes))}})
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("render Slack message: %w", err)
	}
	return b, nil
}
