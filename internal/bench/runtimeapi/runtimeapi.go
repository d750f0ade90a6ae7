// Package runtimeapi is a fake AWS Lambda Runtime API: the HTTP server a
// custom runtime (a Go "bootstrap" using aws-lambda-go) polls for work. It
// lets a benchmark start a real Lambda binary on a workstation, time how
// long the process takes to ask for its first invocation, and drive it
// through invocations while checking every one got a response.
//
// It implements the parts of the 2018-06-01 API that aws-lambda-go uses:
//
//	GET  /2018-06-01/runtime/invocation/next           blocks until Invoke queues an event
//	POST /2018-06-01/runtime/invocation/{id}/response  the handler's result (202)
//	POST /2018-06-01/runtime/invocation/{id}/error     the handler's error (202)
//	POST /2018-06-01/runtime/init/error                a failure before the first next (202)
//
// next answers with the headers Lambda sends: Lambda-Runtime-Aws-Request-Id,
// Lambda-Runtime-Deadline-Ms, Lambda-Runtime-Invoked-Function-Arn and
// Lambda-Runtime-Trace-Id.
//
// Usage:
//
//	srv, err := runtimeapi.Start(runtimeapi.Options{FunctionARN: arn})
//	if err != nil { ... }
//	defer srv.Close()
//	cmd.Env = append(cmd.Env, "AWS_LAMBDA_RUNTIME_API="+srv.Addr())
//	started := time.Now()
//	cmd.Start()
//	at, err := srv.WaitFirstNext(ctx) // at.Sub(started) is the cold start
//	res, err := srv.Invoke(ctx, []byte(`{}`))
package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Header names of the Runtime API.
const (
	HeaderRequestID          = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMS         = "Lambda-Runtime-Deadline-Ms"
	HeaderInvokedFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID            = "Lambda-Runtime-Trace-Id"
	// HeaderErrorType is sent by the runtime with /error, and as an HTTP
	// trailer of /response when a streamed response fails midway.
	HeaderErrorType = "Lambda-Runtime-Function-Error-Type"
)

// APIVersion is the path prefix of every Runtime API route.
const APIVersion = "/2018-06-01"

// Options configures the server.
type Options struct {
	// FunctionARN is sent as Lambda-Runtime-Invoked-Function-Arn.
	//
	// Default: arn:aws:lambda:us-east-1:123456789012:function:bench.
	FunctionARN string
	// Timeout sets Lambda-Runtime-Deadline-Ms to the time next answers plus
	// Timeout, like a function's configured timeout.
	//
	// Default: 30s.
	Timeout time.Duration
	// Addr is the address to listen on.
	//
	// Default: 127.0.0.1:0, a free loopback port.
	Addr string
}

// Result is what the runtime reported for one invocation.
type Result struct {
	RequestID string
	// Err is true when the runtime posted to /error (or sent an error
	// trailer on /response). Body is then the error document.
	Err bool
	// ErrorType is the Lambda-Runtime-Function-Error-Type of an error.
	ErrorType string
	Body      []byte
	// Duration is from the moment next handed the event to the runtime
	// until its response or error arrived.
	Duration time.Duration
}

// invocation is one queued event and where its result goes.
type invocation struct {
	id      string
	payload []byte
	sent    time.Time
	done    chan Result
}

// Server is a running fake Runtime API. Its zero value is not usable; call
// Start.
type Server struct {
	opts Options
	ln   net.Listener
	http *http.Server

	queue chan *invocation

	mu        sync.Mutex
	firstNext time.Time
	nexts     int
	inflight  map[string]*invocation
	initErr   *Result
	// firstNextCh is closed when the first next arrives, initErrCh when
	// the runtime reports an init error.
	firstNextCh chan struct{}
	initErrCh   chan struct{}
}

// Start listens and serves in the background until Close.
func Start(opts Options) (*Server, error) {
	if opts.FunctionARN == "" {
		opts.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:bench"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: listen on %s: %w", opts.Addr, err)
	}
	s := &Server{
		opts:        opts,
		ln:          ln,
		queue:       make(chan *invocation),
		inflight:    map[string]*invocation{},
		firstNextCh: make(chan struct{}),
		initErrCh:   make(chan struct{}),
	}
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// Addr is host:port, the value of AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server. Pending next requests are dropped.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		return s.http.Close()
	}
	return nil
}

// Handler returns the Runtime API routes, for tests that serve it
// themselves.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+APIVersion+"/runtime/invocation/next", s.next)
	mux.HandleFunc("POST "+APIVersion+"/runtime/invocation/{id}/response", s.response)
	mux.HandleFunc("POST "+APIVersion+"/runtime/invocation/{id}/error", s.errorResponse)
	mux.HandleFunc("POST "+APIVersion+"/runtime/init/error", s.initError)
	return mux
}

// FirstNext returns when the first next request arrived, and whether one
// has.
func (s *Server) FirstNext() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstNext, s.nexts > 0
}

// Nexts is how many next requests have arrived.
func (s *Server) Nexts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nexts
}

// ErrInit is returned (wrapped) by WaitFirstNext when the runtime reported
// an init error instead of asking for work.
var ErrInit = errors.New("runtime reported an init error")

// WaitFirstNext blocks until the first next request arrives and returns
// its arrival time, or fails when ctx ends or the runtime posts
// /runtime/init/error.
func (s *Server) WaitFirstNext(ctx context.Context) (time.Time, error) {
	select {
	case <-s.firstNextCh:
		t, _ := s.FirstNext()
		return t, nil
	case <-s.initErrCh:
		s.mu.Lock()
		e := *s.initErr
		s.mu.Unlock()
		return time.Time{}, fmt.Errorf("%w: %s %s", ErrInit, e.ErrorType, e.Body)
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("waiting for the first next: %w", context.Cause(ctx))
	}
}

// Invoke queues payload, waits for the runtime to fetch it with next and
// returns what the runtime posted back. It fails if ctx ends first, for
// instance because the process died.
func (s *Server) Invoke(ctx context.Context, payload []byte) (Result, error) {
	inv := &invocation{id: newRequestID(), payload: payload, done: make(chan Result, 1)}
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s was never fetched by next: %w", inv.id, context.Cause(ctx))
	}
	select {
	case r := <-inv.done:
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s got no response: %w", inv.id, context.Cause(ctx))
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	s.mu.Lock()
	s.nexts++
	if s.nexts == 1 {
		s.firstNext = arrived
		close(s.firstNextCh)
	}
	s.mu.Unlock()

	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	}
	now := time.Now()
	inv.sent = now
	s.mu.Lock()
	s.inflight[inv.id] = inv
	s.mu.Unlock()

	h := w.Header()
	h.Set(HeaderRequestID, inv.id)
	h.Set(HeaderDeadlineMS, strconv.FormatInt(now.Add(s.opts.Timeout).UnixMilli(), 10))
	h.Set(HeaderInvokedFunctionARN, s.opts.FunctionARN)
	h.Set(HeaderTraceID, traceID(now))
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	s.finish(w, r, false)
}

func (s *Server) errorResponse(w http.ResponseWriter, r *http.Request) {
	s.finish(w, r, true)
}

// finish completes the invocation named in the path with the posted body.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, isErr bool) {
	id := r.PathValue("id")
	s.mu.Lock()
	inv, ok := s.inflight[id]
	delete(s.inflight, id)
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", fmt.Sprintf("invocation %q is not in flight", id))
		return
	}
	body, err := io.ReadAll(r.Body)
	res := Result{RequestID: id, Err: isErr, Body: body, Duration: time.Since(inv.sent)}
	if isErr {
		res.ErrorType = r.Header.Get(HeaderErrorType)
	} else if t := r.Trailer.Get(HeaderErrorType); t != "" {
		// aws-lambda-go reports a response that failed while streaming
		// with trailers on /response.
		res.Err, res.ErrorType = true, t
	}
	if err != nil {
		res.Err, res.ErrorType = true, "Runtime.ReadError"
		res.Body = []byte(err.Error())
	}
	inv.done <- res
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	if s.initErr == nil {
		s.initErr = &Result{Err: true, ErrorType: r.Header.Get(HeaderErrorType), Body: body}
		close(s.initErrCh)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"errorType":%q,"errorMessage":%q}`, typ, msg)
}

// newRequestID returns a random UUID-shaped request id, like Lambda's.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// traceID returns an X-Ray trace header in Lambda's format.
func traceID(now time.Time) string {
	var b [12]byte
	var p [8]byte
	_, _ = rand.Read(b[:])
	_, _ = rand.Read(p[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", now.Unix(), hex.EncodeToString(b[:]), hex.EncodeToString(p[:]))
}
