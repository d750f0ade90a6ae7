// Package fakeaws is a local HTTP server that speaks the wire protocols the
// real aws-sdk-go-v2 clients use for the handful of operations the golden-AMI
// functions call, keeps just enough state to answer them, injects faults, and
// records every call so tests can assert exact counts.
//
// Services register themselves (see register), one file each. Protocols:
// SSM (awsJson1_1, X-Amz-Target: AmazonSSM.<Op>), Image Builder
// (REST-JSON: PUT /StartImagePipelineExecution, GET /GetImage), Elastic
// Beanstalk (awsQuery: form Action=..., XML) and EC2 (ec2Query, XML). The
// service and region of each request come from the SigV4 credential scope of
// its Authorization header, so one server plays every region.
//
// Tests point the SDK at it through the environment, exactly as production
// resolves endpoints:
//
//	srv := fakeaws.New(t)
//	srv.Setenv(t, "us-east-1") // AWS_ENDPOINT_URL, dummy credentials, region
//	srv.Inject(fakeaws.Fault{Operation: "PutParameter", Code: "TooManyUpdates"})
//	cfg, _ := awsconfig.Load(ctx, awsconfig.WithMaxBackoff(time.Millisecond))
//	... run the handler ...
//	if got := srv.CountOK("PutParameter"); got != 1 { ... }
package fakeaws

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// AccountID is the account every resource of the fake belongs to, and what
// EC2 resolves the "self" owner to.
const AccountID = "123456789012"

// Service names as they appear in the SigV4 credential scope.
const (
	ServiceSSM              = "ssm"
	ServiceImageBuilder     = "imagebuilder"
	ServiceElasticBeanstalk = "elasticbeanstalk"
	ServiceEC2              = "ec2"
)

// Call is one request the server received.
type Call struct {
	Seq       int
	Service   string
	Region    string
	Operation string
	Status    int  // HTTP status answered
	Injected  bool // the answer came from an injected fault
}

// Fault makes the next Times calls that match Service, Operation and Region
// fail. Empty Service or Region match any.
type Fault struct {
	Service   string
	Operation string
	Region    string
	// Times is how many matching calls fail. Default 1.
	Times int
	// Status is the HTTP status. Default: the status the real services
	// answer Code with (see defaultFaultStatus), 400 for other codes.
	Status int
	// Code is the AWS error code, e.g. ThrottlingException. Default
	// InternalFailure.
	Code    string
	Message string
	// AfterApply applies the operation before failing, like a response lost
	// on the way back: the caller sees an error although the change happened.
	AfterApply bool
}

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	srv *httptest.Server

	mu     sync.Mutex
	calls  []Call
	faults []*Fault

	params map[string]map[string]*Parameter // region -> name -> parameter
	// imageValidation and pending model Parameter Store's asynchronous
	// validation of aws:ec2:image values (SetImageValidation).
	imageValidation imageValidation
	pending         map[string][]*pendingWrite // region + "\x00" + name -> writes, oldest first
	// lastVersion is the last SSM version number handed out per region +
	// "\x00" + name, so numbers of rejected writes are never reused.
	lastVersion map[string]int64

	pipelines  map[string]bool
	executions []Execution
	images     map[string]Image

	platforms []Platform
	// EBPageSize and EC2PageSize, when positive, split list results into
	// pages of that size so callers must follow NextToken.
	EBPageSize  int
	EC2PageSize int

	ec2Images map[string][]EC2Image // region -> images
}

// New starts a server and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		params:    map[string]map[string]*Parameter{},
		pipelines: map[string]bool{},
		images:    map[string]Image{},
		ec2Images: map[string][]EC2Image{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's base URL, for AWS_ENDPOINT_URL.
func (s *Server) URL() string { return s.srv.URL }

// Setenv points the SDK's default configuration chain at the server for the
// rest of the test: AWS_ENDPOINT_URL, static dummy credentials, the region,
// no IMDS, no shared config files, and no other endpoint or retry overrides.
func (s *Server) Setenv(t testing.TB, region string) {
	t.Helper()
	dir := t.TempDir()
	set := map[string]string{
		"AWS_ENDPOINT_URL":            s.URL(),
		"AWS_REGION":                  region,
		"AWS_ACCESS_KEY_ID":           "AKIDFAKEAWSEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "fake-secret-access-key",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
	}
	for k, v := range set {
		t.Setenv(k, v)
	}
	for _, k := range []string{
		"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION",
		"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_IMAGEBUILDER", "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK",
		"AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_STS",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	} {
		t.Setenv(k, "") // registers the old value for restore
		os.Unsetenv(k)
	}
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.Code == "" {
		f.Code = "InternalFailure"
	}
	if f.Status == 0 {
		f.Status = defaultFaultStatus(f.Code)
	}
	if f.Message == "" {
		f.Message = "injected by fakeaws"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// defaultFaultStatus is the HTTP status the real services answer code
// with: server errors 500, unavailability 503 (EC2's RequestLimitExceeded
// too), Image Builder's CallRateLimitExceededException 429; client errors,
// including SSM's ThrottlingException, the query services' Throttling and
// SSM's TooManyUpdates, 400.
func defaultFaultStatus(code string) int {
	switch code {
	case "InternalFailure", "InternalServerError", "InternalError", "ServiceException", "InternalServiceError", "InternalServiceException":
		return http.StatusInternalServerError
	case "ServiceUnavailable", "ServiceUnavailableException", "Unavailable", "RequestLimitExceeded":
		return http.StatusServiceUnavailable
	case "CallRateLimitExceededException":
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

// Calls returns a copy of every call received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Count is how many calls of operation were received (every attempt,
// failed or not), in any region.
func (s *Server) Count(operation string) int {
	return s.count(func(c Call) bool { return c.Operation == operation })
}

// CountOK is how many calls of operation succeeded, in any region.
func (s *Server) CountOK(operation string) int {
	return s.count(func(c Call) bool { return c.Operation == operation && c.Status == http.StatusOK })
}

// CountIn is how many calls of operation were received in region (every
// attempt, failed or not).
func (s *Server) CountIn(region, operation string) int {
	return s.count(func(c Call) bool { return c.Region == region && c.Operation == operation })
}

// CountOKIn is how many calls of operation succeeded in region.
func (s *Server) CountOKIn(region, operation string) int {
	return s.count(func(c Call) bool {
		return c.Region == region && c.Operation == operation && c.Status == http.StatusOK
	})
}

func (s *Server) count(match func(Call) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if match(c) {
			n++
		}
	}
	return n
}

// request is one decoded incoming request.
type request struct {
	*http.Request
	service, region, operation string
	protocol                   Protocol
	body                       []byte
}

// Protocol is an AWS wire protocol.
type Protocol int

// The protocols the fake speaks.
const (
	// ProtocolJSON is awsJson1_0/1_1: POST /, X-Amz-Target: <prefix><Op>, JSON both ways.
	ProtocolJSON Protocol = iota
	// ProtocolRESTJSON is restJson1: the operation is the URL path; errors in X-Amzn-ErrorType.
	ProtocolRESTJSON
	// ProtocolQuery is awsQuery: form-encoded Action=<Op>, XML responses and ErrorResponse errors.
	ProtocolQuery
	// ProtocolEC2Query is ec2Query: like awsQuery, with Response/Errors errors.
	ProtocolEC2Query
)

// service is one AWS service the fake implements.
type service struct {
	Protocol Protocol
	// TargetPrefix is stripped from X-Amz-Target (ProtocolJSON), e.g. "AmazonSSM.".
	TargetPrefix string
	// Handler returns the handler of an operation, or nil when it is not implemented.
	Handler func(s *Server, method, operation string) handlerFunc
}

// services by the name in the SigV4 credential scope. Each service's file
// registers itself in init, so adding a service never edits this file.
var services = map[string]service{}

func register(name string, svc service) {
	if _, dup := services[name]; dup {
		panic("fakeaws: service " + name + " registered twice")
	}
	services[name] = svc
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request`)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		writeJSONError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "request is not SigV4-signed")
		return
	}
	req := &request{Request: r, region: m[1], service: m[2]}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	req.body = body

	svc, ok := services[req.service]
	if !ok {
		writeJSONError(w, http.StatusBadRequest, "UnknownService", "fakeaws does not implement "+req.service)
		return
	}
	req.protocol = svc.Protocol
	switch svc.Protocol {
	case ProtocolJSON:
		req.operation = strings.TrimPrefix(r.Header.Get("X-Amz-Target"), svc.TargetPrefix)
	case ProtocolRESTJSON:
		req.operation = strings.TrimPrefix(r.URL.Path, "/")
	case ProtocolQuery, ProtocolEC2Query:
		form, err := url.ParseQuery(string(req.body))
		if err != nil {
			writeXMLError(w, svc.Protocol, http.StatusBadRequest, "MalformedQueryString", err.Error())
			return
		}
		req.Form = form
		req.operation = form.Get("Action")
	}
	h := svc.Handler(s, r.Method, req.operation)

	s.mu.Lock()
	defer s.mu.Unlock()
	call := Call{Seq: len(s.calls) + 1, Service: req.service, Region: req.region, Operation: req.operation}
	if h == nil {
		call.Status = http.StatusBadRequest
		s.calls = append(s.calls, call)
		s.writeError(w, req, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException",
			message: fmt.Sprintf("fakeaws does not implement %s %s", req.service, req.operation)})
		return
	}
	f := s.takeFault(req)
	if f != nil && !f.AfterApply {
		call.Status, call.Injected = f.Status, true
		s.calls = append(s.calls, call)
		s.writeError(w, req, &apiError{status: f.Status, code: f.Code, message: f.Message})
		return
	}
	resp, aerr := h(req)
	if f != nil {
		call.Status, call.Injected = f.Status, true
		s.calls = append(s.calls, call)
		s.writeError(w, req, &apiError{status: f.Status, code: f.Code, message: f.Message})
		return
	}
	if aerr != nil {
		call.Status = aerr.status
		s.calls = append(s.calls, call)
		s.writeError(w, req, aerr)
		return
	}
	call.Status = http.StatusOK
	s.calls = append(s.calls, call)
	s.writeOK(w, req, resp)
}

// takeFault returns the first matching fault and uses up one of its times.
func (s *Server) takeFault(req *request) *Fault {
	for i, f := range s.faults {
		if f.Operation != req.operation ||
			(f.Service != "" && f.Service != req.service) ||
			(f.Region != "" && f.Region != req.region) {
			continue
		}
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

type handlerFunc func(*request) (any, *apiError)

type apiError struct {
	status        int
	code, message string
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func (s *Server) writeOK(w http.ResponseWriter, req *request, resp any) {
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("fake-%d", len(s.calls)))
	switch req.protocol {
	case ProtocolJSON, ProtocolRESTJSON:
		w.Header().Set("Content-Type", "application/json")
		if req.protocol == ProtocolJSON {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		}
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(resp)
	default:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(xml.Header))
		_ = xml.NewEncoder(w).Encode(resp)
	}
}

func (s *Server) writeError(w http.ResponseWriter, req *request, e *apiError) {
	switch req.protocol {
	case ProtocolJSON:
		writeJSONError(w, e.status, e.code, e.message)
	case ProtocolRESTJSON:
		// REST-JSON: the code travels in X-Amzn-ErrorType.
		w.Header().Set("X-Amzn-ErrorType", e.code)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": e.message})
	default:
		writeXMLError(w, req.protocol, e.status, e.code, e.message)
	}
}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}

func writeXMLError(w http.ResponseWriter, protocol Protocol, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	if protocol == ProtocolEC2Query {
		// ec2Query: <Response><Errors><Error>...</Error></Errors><RequestID/></Response>
		_ = xml.NewEncoder(w).Encode(struct {
			XMLName   xml.Name `xml:"Response"`
			Code      string   `xml:"Errors>Error>Code"`
			Message   string   `xml:"Errors>Error>Message"`
			RequestID string   `xml:"RequestID"`
		}{Code: code, Message: message, RequestID: "fake-error"})
		return
	}
	// awsQuery: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Type      string   `xml:"Error>Type"`
		Code      string   `xml:"Error>Code"`
		Message   string   `xml:"Error>Message"`
		RequestID string   `xml:"RequestId"`
	}{Type: typ, Code: code, Message: message, RequestID: "fake-error"})
}
