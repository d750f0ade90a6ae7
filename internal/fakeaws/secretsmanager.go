package fakeaws

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
	"weak"
)

// ServiceSecretsManager is Secrets Manager's name in the SigV4 credential
// scope. It speaks awsJson1_1 with X-Amz-Target: secretsmanager.<Op>.
const ServiceSecretsManager = "secretsmanager"

// Secret is a Secrets Manager secret held by the fake. It has one version,
// labelled AWSCURRENT.
type Secret struct {
	ARN          string
	Name         string
	Region       string
	SecretString string
	SecretBinary []byte
	VersionID    string

	version int
}

// extraState holds the state of the services whose files add it without
// touching Server (Secrets Manager, CodePipeline), one per Server. Its fields
// are guarded by the Server's mutex, like the rest of its state; extras.mu
// guards only the map, which holds its Servers weakly so that a finished
// test's state is collected with its Server.
type extraState struct {
	secrets    map[string]*Secret           // ARN -> secret
	executions map[string]PipelineExecution // pipeline name + "/" + execution id -> execution
}

var extras = struct {
	mu sync.Mutex
	m  map[weak.Pointer[Server]]*extraState
}{m: map[weak.Pointer[Server]]*extraState{}}

// extra returns the Server's extra state, creating it on first use.
func (s *Server) extra() *extraState {
	key := weak.Make(s)
	extras.mu.Lock()
	defer extras.mu.Unlock()
	e, ok := extras.m[key]
	if !ok {
		e = &extraState{secrets: map[string]*Secret{}, executions: map[string]PipelineExecution{}}
		extras.m[key] = e
		runtime.AddCleanup(s, func(k weak.Pointer[Server]) {
			extras.mu.Lock()
			defer extras.mu.Unlock()
			delete(extras.m, k)
		}, key)
	}
	return e
}

// SecretARN is the ARN the fake gives the secret name in region: like the
// real service, the name plus a hyphen and six characters.
func SecretARN(region, name string) string {
	sum := sha256.Sum256([]byte(region + "/" + name))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	suffix := make([]byte, 6)
	for i := range suffix {
		suffix[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, AccountID, name, suffix)
}

// PutSecret creates or replaces a string secret in region as a test fixture
// (it records no call) and returns its ARN.
func (s *Server) PutSecret(region, name, value string) string {
	return s.putSecret(&Secret{Region: region, Name: name, SecretString: value})
}

// PutBinarySecret creates or replaces a secret that has only SecretBinary
// and returns its ARN.
func (s *Server) PutBinarySecret(region, name string, value []byte) string {
	return s.putSecret(&Secret{Region: region, Name: name, SecretBinary: append([]byte(nil), value...)})
}

func (s *Server) putSecret(sec *Secret) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.extra()
	sec.ARN = SecretARN(sec.Region, sec.Name)
	sec.version = 1
	if old, ok := e.secrets[sec.ARN]; ok {
		sec.version = old.version + 1
	}
	sec.VersionID = fmt.Sprintf("00000000-0000-4000-8000-%012d", sec.version)
	e.secrets[sec.ARN] = sec
	return sec.ARN
}

func (s *Server) secretsManagerHandler(op string) handlerFunc {
	if op == "GetSecretValue" {
		return s.smGetSecretValue
	}
	return nil
}

// smGetSecretValue finds the secret by full ARN or by name in the request's
// region, as the service does (partial ARNs are not supported).
func (s *Server) smGetSecretValue(req *request) (any, *apiError) {
	var in struct {
		SecretId     string
		VersionId    string
		VersionStage string
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if in.SecretId == "" {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterException", "SecretId is required")
	}
	e := s.extra()
	sec, ok := e.secrets[in.SecretId]
	if !ok && !strings.HasPrefix(in.SecretId, "arn:") {
		sec, ok = e.secrets[SecretARN(req.region, in.SecretId)]
	}
	if !ok || sec.Region != req.region {
		return nil, errorf(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	if (in.VersionId != "" && in.VersionId != sec.VersionID) || (in.VersionStage != "" && in.VersionStage != "AWSCURRENT") {
		return nil, errorf(http.StatusBadRequest, "ResourceNotFoundException",
			"Secrets Manager can't find the specified secret value for VersionId: %s, VersionStage: %s", in.VersionId, in.VersionStage)
	}
	out := map[string]any{
		"ARN":           sec.ARN,
		"Name":          sec.Name,
		"VersionId":     sec.VersionID,
		"VersionStages": []string{"AWSCURRENT"},
		"CreatedDate":   float64(time.Now().UnixMilli()) / 1000,
	}
	if sec.SecretBinary != nil {
		out["SecretBinary"] = sec.SecretBinary // encoding/json writes []byte as base64, like the service
	} else {
		out["SecretString"] = sec.SecretString
	}
	return out, nil
}

func init() {
	register(ServiceSecretsManager, service{Protocol: ProtocolJSON, TargetPrefix: "secretsmanager.",
		Handler: func(s *Server, _, op string) handlerFunc { return s.secretsManagerHandler(op) }})
}
