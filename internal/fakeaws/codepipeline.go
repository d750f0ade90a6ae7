package fakeaws

import (
	"net/http"
	"strings"
)

// ServiceCodePipeline is CodePipeline's name in the SigV4 credential scope.
// It speaks awsJson1_1 with X-Amz-Target: CodePipeline_20150709.<Op>.
const ServiceCodePipeline = "codepipeline"

// PipelineExecution is a CodePipeline execution that GetPipelineExecution
// returns.
type PipelineExecution struct {
	PipelineName string
	ExecutionID  string
	// Status is the API's spelling: InProgress, Succeeded, Failed, Stopped,
	// Superseded... Default Succeeded.
	Status    string
	Revisions []ArtifactRevision
}

// ArtifactRevision is one source revision of a PipelineExecution.
type ArtifactRevision struct {
	Name            string
	RevisionID      string
	RevisionSummary string
	RevisionURL     string
}

// PutPipelineExecution makes GetPipelineExecution in region return e.
func (s *Server) PutPipelineExecution(region string, e PipelineExecution) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Status == "" {
		e.Status = "Succeeded"
	}
	e.Revisions = append([]ArtifactRevision(nil), e.Revisions...)
	s.extra().executions[region+"/"+e.PipelineName+"/"+e.ExecutionID] = e
}

func (s *Server) codePipelineHandler(op string) handlerFunc {
	if op == "GetPipelineExecution" {
		return s.cpGetPipelineExecution
	}
	return nil
}

func (s *Server) cpGetPipelineExecution(req *request) (any, *apiError) {
	var in struct {
		PipelineName        string `json:"pipelineName"`
		PipelineExecutionID string `json:"pipelineExecutionId"`
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if in.PipelineName == "" || in.PipelineExecutionID == "" {
		return nil, errorf(http.StatusBadRequest, "ValidationException", "pipelineName and pipelineExecutionId are required")
	}
	execs := s.extra().executions
	e, ok := execs[req.region+"/"+in.PipelineName+"/"+in.PipelineExecutionID]
	if !ok {
		for key := range execs {
			if strings.HasPrefix(key, req.region+"/"+in.PipelineName+"/") {
				return nil, errorf(http.StatusBadRequest, "PipelineExecutionNotFoundException",
					"Pipeline execution with ID %s was not found in pipeline %s", in.PipelineExecutionID, in.PipelineName)
			}
		}
		return nil, errorf(http.StatusBadRequest, "PipelineNotFoundException",
			"Account '%s' does not have a pipeline with name '%s'", AccountID, in.PipelineName)
	}
	revisions := make([]map[string]string, 0, len(e.Revisions))
	for _, r := range e.Revisions {
		rev := map[string]string{"name": r.Name, "revisionId": r.RevisionID}
		if r.RevisionSummary != "" {
			rev["revisionSummary"] = r.RevisionSummary
		}
		if r.RevisionURL != "" {
			rev["revisionUrl"] = r.RevisionURL
		}
		revisions = append(revisions, rev)
	}
	return map[string]any{"pipelineExecution": map[string]any{
		"pipelineName":        e.PipelineName,
		"pipelineVersion":     1,
		"pipelineExecutionId": e.ExecutionID,
		"status":              e.Status,
		"artifactRevisions":   revisions,
		"executionMode":       "SUPERSEDED",
		"executionType":       "STANDARD",
	}}, nil
}

func init() {
	register(ServiceCodePipeline, service{Protocol: ProtocolJSON, TargetPrefix: "CodePipeline_20150709.",
		Handler: func(s *Server, _, op string) handlerFunc { return s.codePipelineHandler(op) }})
}
