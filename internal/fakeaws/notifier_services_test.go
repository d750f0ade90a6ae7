package fakeaws_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/platform-eng/golden-ami/internal/fakeaws"
)

func TestSecretsManagerJSONProtocol(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := secretsmanager.NewFromConfig(cfg)

	arn := srv.PutSecret("us-east-1", "golden-ami/slack", "https://hooks.example.com/T0/B0/x")
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:123456789012:secret:golden-ami/slack-") || len(arn) != len("arn:aws:secretsmanager:us-east-1:123456789012:secret:golden-ami/slack-")+6 {
		t.Fatalf("ARN = %q, want the name plus a hyphen and 6 characters", arn)
	}
	for _, id := range []string{arn, "golden-ami/slack"} {
		out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetSecretValue(%s): %v", id, err)
		}
		if aws.ToString(out.SecretString) != "https://hooks.example.com/T0/B0/x" || aws.ToString(out.ARN) != arn ||
			aws.ToString(out.Name) != "golden-ami/slack" || len(out.VersionStages) != 1 || out.VersionStages[0] != "AWSCURRENT" ||
			out.CreatedDate == nil || out.SecretBinary != nil {
			t.Errorf("GetSecretValue(%s) = %+v", id, out)
		}
	}

	// A new value is a new version.
	first, _ := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	srv.PutSecret("us-east-1", "golden-ami/slack", "{\"webhookUrl\":\"https://hooks.example.com/T0/B0/y\"}")
	second, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil || aws.ToString(second.SecretString) != "{\"webhookUrl\":\"https://hooks.example.com/T0/B0/y\"}" ||
		aws.ToString(second.VersionId) == aws.ToString(first.VersionId) {
		t.Errorf("after PutSecret: %+v, %v; want the new value under a new version", second, err)
	}

	bin := srv.PutBinarySecret("us-east-1", "binary", []byte{0, 1, 2})
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(bin)})
	if err != nil || out.SecretString != nil || string(out.SecretBinary) != "\x00\x01\x02" {
		t.Errorf("binary secret = %+v, %v; want SecretBinary only", out, err)
	}

	for _, id := range []string{"missing", fakeaws.SecretARN("us-east-1", "missing"), fakeaws.SecretARN("eu-west-1", "golden-ami/slack")} {
		_, err = client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		var nf *smtypes.ResourceNotFoundException
		if !errors.As(err, &nf) || !strings.Contains(err.Error(), "Secrets Manager can't find the specified secret.") {
			t.Errorf("GetSecretValue(%s) error = %v, want ResourceNotFoundException", id, err)
		}
	}
	// Secrets are regional.
	_, err = client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("golden-ami/slack")},
		func(o *secretsmanager.Options) { o.Region = "eu-west-1" })
	var nf *smtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("GetSecretValue in another region error = %v, want ResourceNotFoundException", err)
	}
	if got := srv.CountOK("GetSecretValue"); got != 5 {
		t.Errorf("successful GetSecretValue calls = %d, want 5 (by ARN, by name, two versions, binary)", got)
	}
}

func TestSecretsManagerFaultIsRetried(t *testing.T) {
	srv, cfg := setup(t)
	arn := srv.PutSecret("us-east-1", "s", "v")
	srv.Inject(fakeaws.Fault{Operation: "GetSecretValue", Status: 500, Code: "InternalServiceError"})
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil || aws.ToString(out.SecretString) != "v" {
		t.Fatalf("GetSecretValue = %+v, %v", out, err)
	}
	if got := srv.Count("GetSecretValue"); got != 2 {
		t.Errorf("attempts = %d, want 2 (500, then success)", got)
	}
}

func TestCodePipelineJSONProtocol(t *testing.T) {
	srv, cfg := setup(t)
	ctx := context.Background()
	client := codepipeline.NewFromConfig(cfg)
	srv.PutPipelineExecution("us-east-1", fakeaws.PipelineExecution{
		PipelineName: "golden-ami-delivery", ExecutionID: "0b6a7c9e-1d2f-4e3a-8b5c-6d7e8f9a0b1c", Status: "Failed",
		Revisions: []fakeaws.ArtifactRevision{{
			Name: "Source", RevisionID: "9f3c1e2d4b5a69788766554433221100ffeeddcc",
			RevisionSummary: `{"ProviderType":"GitHub","CommitMessage":"Pin the STIG component"}`,
			RevisionURL:     "https://github.com/platform-eng/golden-ami/commit/9f3c1e2d4b5a69788766554433221100ffeeddcc",
		}},
	})

	out, err := client.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{
		PipelineName: aws.String("golden-ami-delivery"), PipelineExecutionId: aws.String("0b6a7c9e-1d2f-4e3a-8b5c-6d7e8f9a0b1c"),
	})
	if err != nil {
		t.Fatalf("GetPipelineExecution: %v", err)
	}
	e := out.PipelineExecution
	if e == nil || aws.ToString(e.PipelineName) != "golden-ami-delivery" || e.Status != cptypes.PipelineExecutionStatusFailed ||
		len(e.ArtifactRevisions) != 1 {
		t.Fatalf("PipelineExecution = %+v", e)
	}
	r := e.ArtifactRevisions[0]
	if aws.ToString(r.Name) != "Source" || aws.ToString(r.RevisionId) != "9f3c1e2d4b5a69788766554433221100ffeeddcc" ||
		aws.ToString(r.RevisionSummary) != `{"ProviderType":"GitHub","CommitMessage":"Pin the STIG component"}` ||
		aws.ToString(r.RevisionUrl) != "https://github.com/platform-eng/golden-ami/commit/9f3c1e2d4b5a69788766554433221100ffeeddcc" {
		t.Errorf("ArtifactRevisions[0] = %+v", r)
	}

	_, err = client.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{
		PipelineName: aws.String("golden-ami-delivery"), PipelineExecutionId: aws.String("00000000-0000-0000-0000-000000000000"),
	})
	var enf *cptypes.PipelineExecutionNotFoundException
	if !errors.As(err, &enf) {
		t.Errorf("unknown execution error = %v, want PipelineExecutionNotFoundException", err)
	}
	_, err = client.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{
		PipelineName: aws.String("other"), PipelineExecutionId: aws.String("0b6a7c9e-1d2f-4e3a-8b5c-6d7e8f9a0b1c"),
	})
	var pnf *cptypes.PipelineNotFoundException
	if !errors.As(err, &pnf) {
		t.Errorf("unknown pipeline error = %v, want PipelineNotFoundException", err)
	}
	// Executions are regional.
	_, err = client.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{
		PipelineName: aws.String("golden-ami-delivery"), PipelineExecutionId: aws.String("0b6a7c9e-1d2f-4e3a-8b5c-6d7e8f9a0b1c"),
	}, func(o *codepipeline.Options) { o.Region = "eu-west-1" })
	if !errors.As(err, &pnf) {
		t.Errorf("other region error = %v, want PipelineNotFoundException", err)
	}

	srv.Inject(fakeaws.Fault{Operation: "GetPipelineExecution", Code: "ThrottlingException", Message: "Rate exceeded"})
	if _, err := client.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{
		PipelineName: aws.String("golden-ami-delivery"), PipelineExecutionId: aws.String("0b6a7c9e-1d2f-4e3a-8b5c-6d7e8f9a0b1c"),
	}); err != nil {
		t.Errorf("throttled once: %v, want the SDK to retry", err)
	}
	if calls := srv.Calls(); calls[len(calls)-1].Service != fakeaws.ServiceCodePipeline || calls[len(calls)-1].Operation != "GetPipelineExecution" {
		t.Errorf("last call = %+v", calls[len(calls)-1])
	}
}

// Each server keeps its own secrets and executions.
func TestNotifierServicesStateIsPerServer(t *testing.T) {
	a := fakeaws.New(t)
	a.PutSecret("us-east-1", "only-in-a", "v")
	a.PutPipelineExecution("us-east-1", fakeaws.PipelineExecution{PipelineName: "p", ExecutionID: "e"})
	_, cfg := setup(t) // a second server, which the SDK now talks to
	_, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("only-in-a")})
	var nf *smtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("server b found server a's secret: %v", err)
	}
	_, err = codepipeline.NewFromConfig(cfg).GetPipelineExecution(context.Background(), &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("p"), PipelineExecutionId: aws.String("e")})
	var pnf *cptypes.PipelineNotFoundException
	if !errors.As(err, &pnf) {
		t.Errorf("server b found server a's execution: %v", err)
	}
}
