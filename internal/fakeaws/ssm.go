package fakeaws

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
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
	Tags         map[string]string
}

// SetParameter creates or overwrites a String parameter of data type
// aws:ec2:image in region, as a test fixture (it records no call).
func (s *Server) SetParameter(region, name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putParameter(region, name, value, "String", "aws:ec2:image", "")
}

// SetParameterDescribed is SetParameter for a writer that sends a
// description with the value, as the upstream monitor and CloudFormation do:
// the new version carries description.
func (s *Server) SetParameterDescribed(region, name, value, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putParameter(region, name, value, "String", "aws:ec2:image", description)
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
	c.Tags = make(map[string]string, len(p.Tags))
	for k, v := range p.Tags {
		c.Tags[k] = v
	}
	return c, true
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
	readsLeft                         int
	rejected                          bool
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
			p := s.putParameter(region, name, w.value, w.typ, w.dataType, w.description)
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

func (s *Server) putParameter(region, name, value, typ, dataType, description string) *Parameter {
	if s.params[region] == nil {
		s.params[region] = map[string]*Parameter{}
	}
	p, ok := s.params[region][name]
	if !ok {
		p = &Parameter{Name: name, Tags: map[string]string{}}
		s.params[region][name] = p
	}
	p.Value, p.Type, p.DataType = value, typ, dataType
	p.Version++
	p.History = append(p.History, value)
	if description != "" {
		p.Description = description
	}
	p.descriptions = append(p.descriptions, p.Description)
	return p
}

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
		"LastModifiedDate": float64(time.Now().UnixMilli()) / 1000,
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
	if v := s.imageValidation; in.DataType == "aws:ec2:image" && (v.pendingReads > 0 || v.reject != nil) {
		// Answered now, applied (or dropped) once validation finishes.
		key := req.region + "\x00" + in.Name
		if s.pending == nil {
			s.pending = map[string][]*pendingWrite{}
		}
		var version int64
		if exists {
			version = existing.Version
		}
		version += int64(len(s.pending[key])) + 1
		s.pending[key] = append(s.pending[key], &pendingWrite{
			value: in.Value, typ: in.Type, dataType: in.DataType, description: in.Description, tags: in.Tags,
			readsLeft: v.pendingReads, rejected: v.reject != nil && v.reject(in.Value),
		})
		return map[string]any{"Version": version, "Tier": "Standard"}, nil
	}
	p := s.putParameter(req.region, in.Name, in.Value, in.Type, in.DataType, in.Description)
	for _, t := range in.Tags {
		p.Tags[t.Key] = t.Value
	}
	return map[string]any{"Version": p.Version, "Tier": "Standard"}, nil
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
	p, err := s.ssmParameterResource(req, in.ResourceType, in.ResourceId)
	if err != nil {
		return nil, err
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
			"Version":          int64(i + 1),
			"DataType":         p.DataType,
			"Description":      p.descriptions[i],
			"Labels":           []string{},
			"LastModifiedDate": float64(time.Now().UnixMilli()) / 1000,
		})
	}
	out := map[string]any{"Parameters": versions}
	if end < len(p.History) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}
