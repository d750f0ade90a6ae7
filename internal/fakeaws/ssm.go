package fakeaws

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Parameter is an SSM parameter held by the fake.
type Parameter struct {
	Name     string
	Value    string
	Type     string
	DataType string
	Version  int64
	// History holds the value of every version, oldest first, so tests can
	// see that nothing was written twice.
	History []string
	// Description is the current version's description. The fake keeps the
	// previous description when PutParameter sends none; the functions
	// that use descriptions always send one, so nothing relies on that.
	Description string
	// descriptions holds the description of every version, like History.
	descriptions []string
	// versions holds the number of every version, like History. Numbers
	// may have gaps: an aws:ec2:image write that failed validation used up
	// its number (see SetImageValidation).
	versions []int64
	// modified holds when every version was written, like History: the
	// LastModifiedDate Parameter Store reports for it.
	modified []time.Time
	Tags     map[string]string
}

// SetParameter creates or overwrites a String parameter of data type
// aws:ec2:image in region, as a test fixture (it records no call).
func (s *Server) SetParameter(region, name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putParameter(region, name, value, "String", "aws:ec2:image", "", s.nextVersion(region, name))
}

// SetParameterDescribed is SetParameter for a writer that sends a
// description with the value, as the upstream monitor and CloudFormation do:
// the new version carries description.
func (s *Server) SetParameterDescribed(region, name, value, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putParameter(region, name, value, "String", "aws:ec2:image", description, s.nextVersion(region, name))
}

// Parameter returns a copy of the parameter name in region.
func (s *Server) Parameter(region, name string) (Parameter, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.params[region][name]
	if !ok {
		return Parameter{}, false
	}
	c := *p
	c.History = append([]string(nil), p.History...)
	c.descriptions = append([]string(nil), p.descriptions...)
	c.versions = append([]int64(nil), p.versions...)
	c.modified = append([]time.Time(nil), p.modified...)
	c.Tags = make(map[string]string, len(p.Tags))
	for k, v := range p.Tags {
		c.Tags[k] = v
	}
	return c, true
}

// RemoveParameter deletes name in region, as DeleteParameter (or
// CloudFormation deleting the resource) does, as a test fixture: a parameter
// created again under the name starts at version 1.
func (s *Server) RemoveParameter(region, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.params[region], name)
	delete(s.lastVersion, region+"\x00"+name)
}

// WrittenAt is when version was written, the LastModifiedDate
// GetParameterHistory reports for it (to the millisecond), and whether the
// history holds that version.
func (p Parameter) WrittenAt(version int64) (time.Time, bool) {
	for i, v := range p.versions {
		if v == version {
			return time.UnixMilli(p.modified[i].UnixMilli()), true
		}
	}
	return time.Time{}, false
}

// SetImageValidation makes PutParameter of data type aws:ec2:image behave
// like Parameter Store, which validates those values asynchronously: it
// answers at once with the new version number, but the version appears only
// after the parameter has been read pendingReads more times in that region
// (GetParameter and GetParameterHistory count), and a value for which
// reject returns true never appears, as when validation fails. The default,
// pendingReads 0 and reject nil, applies every write at once.
func (s *Server) SetImageValidation(pendingReads int, reject func(ami string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.imageValidation = imageValidation{pendingReads: pendingReads, reject: reject}
}

type imageValidation struct {
	pendingReads int
	reject       func(ami string) bool
}

// pendingWrite is an aws:ec2:image write that Parameter Store is still
// validating.
type pendingWrite struct {
	value, typ, dataType, description string
	tags                              []ssmTag
	// version is the number PutParameter answered; the write is stored
	// under it, or the number is lost if validation fails.
	version   int64
	readsLeft int
	rejected  bool
}

// settle applies or drops the writes to name in region whose validation has
// finished, and counts one read against the others. Callers hold s.mu and
// call it before every read of the parameter.
func (s *Server) settle(region, name string) {
	key := region + "\x00" + name
	writes := s.pending[key]
	for len(writes) > 0 && writes[0].readsLeft == 0 {
		w := writes[0]
		writes = writes[1:]
		if !w.rejected {
			p := s.putParameter(region, name, w.value, w.typ, w.dataType, w.description, w.version)
			for _, t := range w.tags {
				p.Tags[t.Key] = t.Value
			}
		}
	}
	for _, w := range writes {
		w.readsLeft--
	}
	if len(writes) == 0 {
		delete(s.pending, key)
	} else {
		s.pending[key] = writes
	}
}

// nextVersion hands out the next version number of name in region, as
// Parameter Store does when PutParameter is accepted: one more than the
// last number handed out, whether that write was applied, is still being
// validated, or failed validation. Callers hold s.mu.
func (s *Server) nextVersion(region, name string) int64 {
	key := region + "\x00" + name
	if s.lastVersion == nil {
		s.lastVersion = map[string]int64{}
	}
	v := s.lastVersion[key]
	if p, ok := s.params[region][name]; ok && p.Version > v {
		v = p.Version
	}
	v++
	s.lastVersion[key] = v
	return v
}

// putParameter stores version (from nextVersion) of name in region.
func (s *Server) putParameter(region, name, value, typ, dataType, description string, version int64) *Parameter {
	if s.params[region] == nil {
		s.params[region] = map[string]*Parameter{}
	}
	p, ok := s.params[region][name]
	if !ok {
		p = &Parameter{Name: name, Tags: map[string]string{}}
		s.params[region][name] = p
	}
	p.Value, p.Type, p.DataType = value, typ, dataType
	p.Version = version
	p.versions = append(p.versions, version)
	p.modified = append(p.modified, time.Now())
	p.History = append(p.History, value)
	if description != "" {
		p.Description = description
	}
	p.descriptions = append(p.descriptions, p.Description)
	// Parameter Store keeps the 100 newest versions and deletes the oldest
	// (the fake has no labels, which would refuse the write instead).
	if drop := len(p.versions) - maxParameterVersions; drop > 0 {
		p.versions, p.modified = p.versions[drop:], p.modified[drop:]
		p.History, p.descriptions = p.History[drop:], p.descriptions[drop:]
	}
	return p
}

// maxParameterVersions is how many versions of a parameter Parameter Store
// keeps ("Parameter Store retains up to 100 versions", Working with
// parameter versions).
const maxParameterVersions = 100

func (s *Server) ssmHandler(op string) handlerFunc {
	switch op {
	case "GetParameter":
		return s.ssmGetParameter
	case "PutParameter":
		return s.ssmPutParameter
	case "GetParameterHistory":
		return s.ssmGetParameterHistory
	case "AddTagsToResource":
		return s.ssmAddTagsToResource
	case "ListTagsForResource":
		return s.ssmListTagsForResource
	}
	return nil
}

type ssmTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func decodeJSON(req *request, v any) *apiError {
	if err := json.Unmarshal(req.body, v); err != nil {
		return errorf(http.StatusBadRequest, "SerializationException", "cannot decode request body: %v", err)
	}
	return nil
}

func parameterARN(region, name string) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", region, AccountID, strings.TrimPrefix(name, "/"))
}

func (s *Server) ssmGetParameter(req *request) (any, *apiError) {
	var in struct{ Name string }
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	s.settle(req.region, in.Name)
	p, ok := s.params[req.region][in.Name]
	if !ok {
		return nil, errorf(http.StatusBadRequest, "ParameterNotFound", "Parameter %s not found.", in.Name)
	}
	return map[string]any{"Parameter": map[string]any{
		"Name":             p.Name,
		"Type":             p.Type,
		"Value":            p.Value,
		"Version":          p.Version,
		"DataType":         p.DataType,
		"ARN":              parameterARN(req.region, p.Name),
		"LastModifiedDate": epochSeconds(p.modified[len(p.modified)-1]),
	}}, nil
}

func (s *Server) ssmPutParameter(req *request) (any, *apiError) {
	var in struct {
		Name, Value, Type, DataType, Description string
		Overwrite                                bool
		Tags                                     []ssmTag
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if in.Name == "" || in.Value == "" {
		return nil, errorf(http.StatusBadRequest, "ValidationException", "Name and Value are required")
	}
	if in.Overwrite && len(in.Tags) > 0 {
		// The real service rejects this combination the same way.
		return nil, errorf(http.StatusBadRequest, "ValidationException",
			"Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if utf8.RuneCountInString(in.Description) > maxDescriptionLen {
		return nil, errorf(http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value '%s' at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", in.Description, maxDescriptionLen)
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if countTags(nil, in.Tags) > maxTags {
		return nil, tooManyTags()
	}
	existing, exists := s.params[req.region][in.Name]
	if exists && !in.Overwrite {
		return nil, errorf(http.StatusBadRequest, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	if in.Type == "" {
		in.Type = "String"
	}
	if in.DataType == "" {
		in.DataType = "text"
	}
	if exists {
		if cur := s.currentDataType(req.region, in.Name, existing); cur != in.DataType && (fixedDataType(cur) || fixedDataType(in.DataType)) {
			// Parameter Store documents that a parameter can't be changed to
			// or from aws:ec2:image or aws:ssm:integration, but not the exact
			// error message; this message is provisional (the code,
			// ValidationException, is the one the service uses for invalid
			// input).
			return nil, errorf(http.StatusBadRequest, "ValidationException",
				"Cannot change the data type of parameter %s from %s to %s: a parameter can't be changed to or from the aws:ec2:image or aws:ssm:integration data type.", in.Name, cur, in.DataType)
		}
	}
	if v := s.imageValidation; in.DataType == "aws:ec2:image" && (v.pendingReads > 0 || v.reject != nil) {
		// Answered now, applied (or dropped) once validation finishes.
		key := req.region + "\x00" + in.Name
		if s.pending == nil {
			s.pending = map[string][]*pendingWrite{}
		}
		version := s.nextVersion(req.region, in.Name)
		s.pending[key] = append(s.pending[key], &pendingWrite{
			value: in.Value, typ: in.Type, dataType: in.DataType, description: in.Description, tags: in.Tags, version: version,
			readsLeft: v.pendingReads, rejected: v.reject != nil && v.reject(in.Value),
		})
		return map[string]any{"Version": version, "Tier": "Standard"}, nil
	}
	p := s.putParameter(req.region, in.Name, in.Value, in.Type, in.DataType, in.Description, s.nextVersion(req.region, in.Name))
	for _, t := range in.Tags {
		p.Tags[t.Key] = t.Value
	}
	return map[string]any{"Version": p.Version, "Tier": "Standard"}, nil
}

// fixedDataType reports whether a parameter can't be changed to or from
// dataType.
func fixedDataType(dataType string) bool {
	return dataType == "aws:ec2:image" || dataType == "aws:ssm:integration"
}

// currentDataType is the data type of the latest write to name in region:
// a write still being validated, or else the stored parameter p.
func (s *Server) currentDataType(region, name string, p *Parameter) string {
	if w := s.pending[region+"\x00"+name]; len(w) > 0 {
		return w[len(w)-1].dataType
	}
	return p.DataType
}

// Limits of Parameter Store on descriptions and tags.
const (
	maxDescriptionLen = 1024
	maxTags           = 50 // per resource
	maxTagKeyLen      = 128
	maxTagValueLen    = 256
)

// validateTags checks tags against the constraints of the SSM API model
// (key 1-128 characters, value at most 256) and rejects keys with the
// reserved "aws:" prefix, in any case.
func validateTags(tags []ssmTag) *apiError {
	for i, t := range tags {
		n := utf8.RuneCountInString(t.Key)
		switch {
		case n < 1:
			return errorf(http.StatusBadRequest, "ValidationException",
				"1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1", t.Key, i+1)
		case n > maxTagKeyLen:
			return errorf(http.StatusBadRequest, "ValidationException",
				"1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length less than or equal to %d", t.Key, i+1, maxTagKeyLen)
		case utf8.RuneCountInString(t.Value) > maxTagValueLen:
			return errorf(http.StatusBadRequest, "ValidationException",
				"1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to %d", t.Value, i+1, maxTagValueLen)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			// The prefix is reserved for AWS; the service's exact error for
			// it is not documented, so this code and message are
			// provisional.
			return errorf(http.StatusBadRequest, "ValidationException",
				"Invalid tag key %s: tag keys can't start with the reserved prefix aws:", t.Key)
		}
	}
	return nil
}

// countTags is how many tags a resource with tags has after adding add.
func countTags(tags map[string]string, add []ssmTag) int {
	n := len(tags)
	seen := map[string]bool{}
	for _, t := range add {
		if _, ok := tags[t.Key]; !ok && !seen[t.Key] {
			seen[t.Key] = true
			n++
		}
	}
	return n
}

// tooManyTags is the error for a resource that would have more than
// maxTags tags. The message is the service's documented description of
// TooManyTagsError.
func tooManyTags() *apiError {
	return errorf(http.StatusBadRequest, "TooManyTagsError",
		"The Targets parameter includes too many tags. Remove one or more tags and try the command again.")
}

func (s *Server) ssmParameterResource(req *request, resourceType, id string) (*Parameter, *apiError) {
	if resourceType != "Parameter" {
		return nil, errorf(http.StatusBadRequest, "InvalidResourceType", "resource type %q is not supported by fakeaws", resourceType)
	}
	p, ok := s.params[req.region][id]
	if !ok {
		return nil, errorf(http.StatusBadRequest, "InvalidResourceId", "The resource ID %q is not valid. Verify the ID and try again.", id)
	}
	return p, nil
}

func (s *Server) ssmAddTagsToResource(req *request) (any, *apiError) {
	var in struct {
		ResourceType, ResourceId string
		Tags                     []ssmTag
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	p, err := s.ssmParameterResource(req, in.ResourceType, in.ResourceId)
	if err != nil {
		return nil, err
	}
	if countTags(p.Tags, in.Tags) > maxTags {
		return nil, tooManyTags()
	}
	for _, t := range in.Tags {
		p.Tags[t.Key] = t.Value
	}
	return map[string]any{}, nil
}

func (s *Server) ssmListTagsForResource(req *request) (any, *apiError) {
	var in struct{ ResourceType, ResourceId string }
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	p, err := s.ssmParameterResource(req, in.ResourceType, in.ResourceId)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(p.Tags))
	for k := range p.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tags := make([]ssmTag, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, ssmTag{Key: k, Value: p.Tags[k]})
	}
	return map[string]any{"TagList": tags}, nil
}

func init() {
	register(ServiceSSM, service{Protocol: ProtocolJSON, TargetPrefix: "AmazonSSM.",
		Handler: func(s *Server, _, op string) handlerFunc { return s.ssmHandler(op) }})
}

// ssmGetParameterHistory pages through every version, oldest first, like the
// service: at most MaxResults (default and maximum 50) per page.
func (s *Server) ssmGetParameterHistory(req *request) (any, *apiError) {
	var in struct {
		Name       string
		MaxResults int
		NextToken  string
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if in.NextToken == "" { // a new read; its later pages see the same versions
		s.settle(req.region, in.Name)
	}
	p, ok := s.params[req.region][in.Name]
	if !ok {
		return nil, errorf(http.StatusBadRequest, "ParameterNotFound", "Parameter %s not found.", in.Name)
	}
	if in.MaxResults == 0 {
		in.MaxResults = 50
	}
	if in.MaxResults < 1 || in.MaxResults > 50 {
		return nil, errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50", in.MaxResults)
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(p.History) {
			return nil, errorf(http.StatusBadRequest, "InvalidNextToken", "The specified token is not valid.")
		}
		start = n
	}
	end := min(start+in.MaxResults, len(p.History))
	versions := make([]map[string]any, 0, end-start)
	for i := start; i < end; i++ {
		versions = append(versions, map[string]any{
			"Name":             p.Name,
			"Type":             p.Type,
			"Value":            p.History[i],
			"Version":          p.versions[i],
			"DataType":         p.DataType,
			"Description":      p.descriptions[i],
			"Labels":           []string{},
			"LastModifiedDate": epochSeconds(p.modified[i]),
		})
	}
	out := map[string]any{"Parameters": versions}
	if end < len(p.History) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

// epochSeconds is t as the JSON protocol's timestamps: seconds since the
// epoch, with milliseconds.
func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
