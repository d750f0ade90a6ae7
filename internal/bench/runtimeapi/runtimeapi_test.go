package runtimeapi_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/golden-ami/internal/bench/runtimeapi"
)

const arn = "arn:aws:lambda:us-east-1:123456789012:function:test"

func start(t *testing.T) *runtimeapi.Server {
	t.Helper()
	srv, err := runtimeapi.Start(runtimeapi.Options{FunctionARN: arn, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func url(srv *runtimeapi.Server, path string) string {
	return "http://" + srv.Addr() + runtimeapi.APIVersion + path
}

// next does what aws-lambda-go's runtime client does: GET next.
func next(t *testing.T, srv *runtimeapi.Server) (http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url(srv, "/runtime/invocation/next"))
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("next: status %d", resp.StatusCode)
	}
	return resp.Header, body
}

// poll sends a next request that stays open until the test ends, like a
// runtime waiting for work; its outcome is ignored.
func poll(t *testing.T, srv *runtimeapi.Server) {
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url(srv, "/runtime/invocation/next"), nil)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
}

func post(t *testing.T, srv *runtimeapi.Server, path string, body string, header http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url(srv, path), strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

var uuid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNextSendsLambdaHeadersAndResponseCompletesInvoke(t *testing.T) {
	srv := start(t)
	runtimeDone := make(chan struct{})
	var header http.Header
	var payload []byte
	var status int
	go func() {
		defer close(runtimeDone)
		header, payload = next(t, srv)
		status = post(t, srv, "/runtime/invocation/"+header.Get(runtimeapi.HeaderRequestID)+"/response", `{"ok":true}`, nil)
	}()

	before := time.Now()
	res, err := srv.Invoke(context.Background(), []byte(`{"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	<-runtimeDone

	if string(payload) != `{"n":1}` {
		t.Errorf("payload = %s", payload)
	}
	id := header.Get(runtimeapi.HeaderRequestID)
	if !uuid.MatchString(id) || res.RequestID != id {
		t.Errorf("request id %q, result id %q; want the same UUID", id, res.RequestID)
	}
	deadline, err := strconv.ParseInt(header.Get(runtimeapi.HeaderDeadlineMS), 10, 64)
	if d := time.UnixMilli(deadline).Sub(before); err != nil || d < 59*time.Second || d > 61*time.Second {
		t.Errorf("deadline header %q is %v after the invoke, want the 1m timeout", header.Get(runtimeapi.HeaderDeadlineMS), d)
	}
	if got := header.Get(runtimeapi.HeaderInvokedFunctionARN); got != arn {
		t.Errorf("function ARN header = %q", got)
	}
	if got := header.Get(runtimeapi.HeaderTraceID); !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`).MatchString(got) {
		t.Errorf("trace header = %q", got)
	}
	if status != http.StatusAccepted {
		t.Errorf("response status = %d, want 202", status)
	}
	if res.Err || string(res.Body) != `{"ok":true}` || res.Duration <= 0 {
		t.Errorf("result = %+v", res)
	}
}

func TestErrorIsReportedAsAnErrorResult(t *testing.T) {
	srv := start(t)
	go func() {
		h, _ := next(t, srv)
		post(t, srv, "/runtime/invocation/"+h.Get(runtimeapi.HeaderRequestID)+"/error",
			`{"errorMessage":"boom","errorType":"errorString"}`, http.Header{runtimeapi.HeaderErrorType: {"errorString"}})
	}()
	res, err := srv.Invoke(context.Background(), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Err || res.ErrorType != "errorString" || !strings.Contains(string(res.Body), "boom") {
		t.Errorf("result = %+v, want the error", res)
	}
}

// aws-lambda-go reports a response body that fails while being read with
// an error-type trailer on /response.
func TestResponseWithAnErrorTrailerIsAnError(t *testing.T) {
	srv := start(t)
	go func() {
		h, _ := next(t, srv)
		body := &trailerReader{r: strings.NewReader("partial"), trailer: http.Header{runtimeapi.HeaderErrorType: nil}}
		req, _ := http.NewRequest(http.MethodPost, url(srv, "/runtime/invocation/"+h.Get(runtimeapi.HeaderRequestID)+"/response"), body)
		req.Trailer = body.trailer
		req.ContentLength = -1
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}()
	res, err := srv.Invoke(context.Background(), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Err || res.ErrorType != "Runtime.TruncatedResponse" {
		t.Errorf("result = %+v, want an error from the trailer", res)
	}
}

type trailerReader struct {
	r       io.Reader
	trailer http.Header
}

func (t *trailerReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if errors.Is(err, io.EOF) {
		t.trailer.Set(runtimeapi.HeaderErrorType, "Runtime.TruncatedResponse")
		t.trailer.Set("Lambda-Runtime-Function-Error-Body", base64.StdEncoding.EncodeToString([]byte(`{}`)))
	}
	return n, err
}

func TestFirstNextIsRecordedOnce(t *testing.T) {
	srv := start(t)
	if _, ok := srv.FirstNext(); ok {
		t.Fatal("FirstNext before any request")
	}
	before := time.Now()
	poll(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	first, err := srv.WaitFirstNext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Before(before) || time.Since(first) > 5*time.Second {
		t.Errorf("first next at %v, started at %v", first, before)
	}
	// A second next (the runtime polling again) keeps the first time.
	poll(t, srv)
	for srv.Nexts() < 2 {
		time.Sleep(time.Millisecond)
	}
	if again, _ := srv.FirstNext(); !again.Equal(first) {
		t.Errorf("first next moved from %v to %v", first, again)
	}
}

func TestInitErrorEndsTheWaitForTheFirstNext(t *testing.T) {
	srv := start(t)
	if got := post(t, srv, "/runtime/init/error", `{"errorMessage":"bad env"}`, http.Header{runtimeapi.HeaderErrorType: {"Runtime.ExitError"}}); got != http.StatusAccepted {
		t.Fatalf("init/error status = %d", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := srv.WaitFirstNext(ctx)
	if !errors.Is(err, runtimeapi.ErrInit) || !strings.Contains(err.Error(), "bad env") {
		t.Errorf("error = %v, want ErrInit naming the message", err)
	}
}

func TestUnknownRequestIDIsRejected(t *testing.T) {
	srv := start(t)
	if got := post(t, srv, "/runtime/invocation/nope/response", `{}`, nil); got != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", got)
	}
}

func TestInvokeFailsWhenNothingAsksForWork(t *testing.T) {
	srv := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := srv.Invoke(ctx, []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want the deadline", err)
	}
}
