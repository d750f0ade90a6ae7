package main

import "testing"

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    config
		wantErr string
	}{
		{name: "valid", env: map[string]string{"IMAGE_PIPELINE_ARN": pipelineARN, "SSM_PARAMETER_NAME": paramName},
			want: config{PipelineARN: pipelineARN, ParameterName: paramName}},
		{name: "valid in another partition", env: map[string]string{"IMAGE_PIPELINE_ARN": "arn:aws-us-gov:imagebuilder:us-gov-west-1:123456789012:image-pipeline/golden_ami-2", "SSM_PARAMETER_NAME": paramName},
			want: config{PipelineARN: "arn:aws-us-gov:imagebuilder:us-gov-west-1:123456789012:image-pipeline/golden_ami-2", ParameterName: paramName}},
		{name: "missing ARN", env: map[string]string{"SSM_PARAMETER_NAME": paramName},
			wantErr: `imagebuildertrigger: IMAGE_PIPELINE_ARN="" is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>)`},
		{name: "recipe ARN", env: map[string]string{"IMAGE_PIPELINE_ARN": "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/golden/1.0.0", "SSM_PARAMETER_NAME": paramName},
			wantErr: `imagebuildertrigger: IMAGE_PIPELINE_ARN="arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/golden/1.0.0" is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>)`},
		{name: "uppercase pipeline name", env: map[string]string{"IMAGE_PIPELINE_ARN": "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/Golden", "SSM_PARAMETER_NAME": paramName},
			wantErr: `imagebuildertrigger: IMAGE_PIPELINE_ARN="arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/Golden" is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>)`},
		{name: "short account", env: map[string]string{"IMAGE_PIPELINE_ARN": "arn:aws:imagebuilder:us-east-1:1234:image-pipeline/golden", "SSM_PARAMETER_NAME": paramName},
			wantErr: `imagebuildertrigger: IMAGE_PIPELINE_ARN="arn:aws:imagebuilder:us-east-1:1234:image-pipeline/golden" is not an image pipeline ARN (want arn:<partition>:imagebuilder:<region>:<account>:image-pipeline/<name>)`},
		{name: "missing parameter", env: map[string]string{"IMAGE_PIPELINE_ARN": pipelineARN},
			wantErr: `imagebuildertrigger: SSM_PARAMETER_NAME="" is not an SSM parameter name (want e.g. /golden-ami/upstream)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := configFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("configFromEnv = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
