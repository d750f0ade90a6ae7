package fakeaws

import (
	"fmt"
	"net/http"
	"strings"
)

// Execution is one image pipeline execution the fake started.
type Execution struct {
	PipelineARN          string
	ClientToken          string
	ImageBuildVersionARN string
}

// Image is an Image Builder image that GetImage returns.
type Image struct {
	ARN         string
	Status      string
	Reason      string
	PipelineARN string
	RecipeARN   string
	DateCreated string
	AMIs        []AMI
}

// AMI is one output AMI of an Image.
type AMI struct {
	Region    string
	ImageID   string
	AccountID string
	Name      string
}

// AddPipeline makes StartImagePipelineExecution accept arn.
func (s *Server) AddPipeline(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pipelines[arn] = true
}

// AddImage makes GetImage return img for img.ARN.
func (s *Server) AddImage(img Image) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images[img.ARN] = img
}

// Executions returns the pipeline executions started so far.
func (s *Server) Executions() []Execution {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Execution(nil), s.executions...)
}

func (s *Server) imageBuilderHandler(method, op string) handlerFunc {
	switch {
	case method == http.MethodPut && op == "StartImagePipelineExecution":
		return s.ibStartImagePipelineExecution
	case method == http.MethodGet && op == "GetImage":
		return s.ibGetImage
	}
	return nil
}

// ibStartImagePipelineExecution honours the client token the way the service
// documents it: a token seen before with the same pipeline returns the
// original execution without starting another; with another pipeline it is
// an IdempotentParameterMismatchException.
func (s *Server) ibStartImagePipelineExecution(req *request) (any, *apiError) {
	var in struct {
		ImagePipelineArn string `json:"imagePipelineArn"`
		ClientToken      string `json:"clientToken"`
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if n := len(in.ClientToken); n < 1 || n > 36 {
		return nil, errorf(http.StatusBadRequest, "InvalidRequestException",
			"clientToken must be 1 to 36 characters, got %d", n)
	}
	for _, e := range s.executions {
		if e.ClientToken != in.ClientToken {
			continue
		}
		if e.PipelineARN != in.ImagePipelineArn {
			return nil, errorf(http.StatusBadRequest, "IdempotentParameterMismatchException",
				"client token %s was used with different parameters", in.ClientToken)
		}
		return ibStartOutput(e), nil
	}
	if !s.pipelines[in.ImagePipelineArn] {
		return nil, errorf(http.StatusNotFound, "ResourceNotFoundException",
			"image pipeline %s not found", in.ImagePipelineArn)
	}
	name := in.ImagePipelineArn[strings.LastIndex(in.ImagePipelineArn, "/")+1:]
	e := Execution{
		PipelineARN: in.ImagePipelineArn,
		ClientToken: in.ClientToken,
		ImageBuildVersionARN: fmt.Sprintf("arn:aws:imagebuilder:%s:%s:image/%s/1.0.0/%d",
			req.region, AccountID, name, len(s.executions)+1),
	}
	s.executions = append(s.executions, e)
	return ibStartOutput(e), nil
}

func ibStartOutput(e Execution) map[string]string {
	return map[string]string{
		"requestId":            "fake-request",
		"clientToken":          e.ClientToken,
		"imageBuildVersionArn": e.ImageBuildVersionARN,
	}
}

func (s *Server) ibGetImage(req *request) (any, *apiError) {
	arn := req.URL.Query().Get("imageBuildVersionArn")
	img, ok := s.images[arn]
	if !ok {
		return nil, errorf(http.StatusNotFound, "ResourceNotFoundException", "image %s not found", arn)
	}
	amis := make([]map[string]string, 0, len(img.AMIs))
	for _, a := range img.AMIs {
		amis = append(amis, map[string]string{
			"region": a.Region, "image": a.ImageID, "accountId": a.AccountID, "name": a.Name,
		})
	}
	image := map[string]any{
		"arn":             img.ARN,
		"type":            "AMI",
		"state":           map[string]string{"status": img.Status, "reason": img.Reason},
		"dateCreated":     img.DateCreated,
		"outputResources": map[string]any{"amis": amis},
	}
	if img.PipelineARN != "" {
		image["sourcePipelineArn"] = img.PipelineARN
	}
	if img.RecipeARN != "" {
		image["imageRecipe"] = map[string]string{"arn": img.RecipeARN}
	}
	return map[string]any{"requestId": "fake-request", "image": image}, nil
}

func init() {
	register(ServiceImageBuilder, service{Protocol: ProtocolRESTJSON,
		Handler: func(s *Server, method, op string) handlerFunc { return s.imageBuilderHandler(method, op) }})
}
