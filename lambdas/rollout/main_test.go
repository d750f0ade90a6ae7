package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func validEnv() map[string]string {
	return map[string]string{
		"AUTO_SCALING_GROUP_NAME":          "web",
		"LAUNCH_TEMPLATE_ID":               ltID,
		"SSM_PARAMETER_NAME":               paramName,
		"REFRESH_MIN_HEALTHY_PERCENTAGE":   "90",
		"REFRESH_CHECKPOINT_PERCENTAGES":   "20,50,100",
		"REFRESH_CHECKPOINT_DELAY_SECONDS": "600",
		"REFRESH_INSTANCE_WARMUP_SECONDS":  "300",
		"REFRESH_ALARM_NAMES":              "web-5xx,web-latency",
		"REFRESH_SKIP_MATCHING":            "true",
	}
}

const sharedARN = "arn:aws:ssm:us-east-1:444455556666:parameter/golden-ami/latest"

func TestConfigFromEnv(t *testing.T) {
	valid := config{GroupName: groupName, LaunchTemplateID: ltID, ParameterName: paramName, Preferences: testPreferences()}
	for _, tc := range []struct {
		name    string
		set     map[string]string
		want    func(*config)
		wantErr string
	}{
		{name: "valid"},
		{name: "warmup unset uses the group's default", set: map[string]string{"REFRESH_INSTANCE_WARMUP_SECONDS": ""},
			want: func(c *config) { c.Preferences.InstanceWarmupSeconds = nil }},
		{name: "zero warmup is kept", set: map[string]string{"REFRESH_INSTANCE_WARMUP_SECONDS": "0"},
			want: func(c *config) { c.Preferences.InstanceWarmupSeconds = aws.Int32(0) }},
		{name: "one checkpoint at 100 and no skip matching", set: map[string]string{"REFRESH_CHECKPOINT_PERCENTAGES": "100", "REFRESH_SKIP_MATCHING": "false", "REFRESH_ALARM_NAMES": "one"},
			want: func(c *config) {
				c.Preferences.CheckpointPercentages, c.Preferences.SkipMatching, c.Preferences.AlarmNames = []int32{100}, false, []string{"one"}
			}},
		{name: "short launch template id", set: map[string]string{"LAUNCH_TEMPLATE_ID": "lt-0123abcd"}, want: func(c *config) { c.LaunchTemplateID = "lt-0123abcd" }},
		{name: "missing group", set: map[string]string{"AUTO_SCALING_GROUP_NAME": ""},
			wantErr: `rollout: AUTO_SCALING_GROUP_NAME="" is not an Auto Scaling group name (want 1 to 255 printable characters)`},
		{name: "group name with a newline", set: map[string]string{"AUTO_SCALING_GROUP_NAME": "web\n"},
			wantErr: `rollout: AUTO_SCALING_GROUP_NAME="web\n" is not an Auto Scaling group name (want 1 to 255 printable characters)`},
		{name: "group name too long", set: map[string]string{"AUTO_SCALING_GROUP_NAME": strings.Repeat("g", 256)},
			wantErr: `rollout: AUTO_SCALING_GROUP_NAME="` + strings.Repeat("g", 256) + `" is not an Auto Scaling group name (want 1 to 255 printable characters)`},
		{name: "launch template name instead of id", set: map[string]string{"LAUNCH_TEMPLATE_ID": "web"},
			wantErr: `rollout: LAUNCH_TEMPLATE_ID="web" is not a launch template id (want "lt-" followed by 17 hex digits)`},
		{name: "parameter shared by ARN", set: map[string]string{"SSM_PARAMETER_NAME": sharedARN},
			want: func(c *config) { c.ParameterName = sharedARN }},
		{name: "parameter shared by ARN in another partition, named without a slash", set: map[string]string{"SSM_PARAMETER_NAME": "arn:aws-us-gov:ssm:us-gov-west-1:444455556666:parameter/golden-ami-latest"},
			want: func(c *config) {
				c.ParameterName = "arn:aws-us-gov:ssm:us-gov-west-1:444455556666:parameter/golden-ami-latest"
			}},
		{name: "missing parameter", set: map[string]string{"SSM_PARAMETER_NAME": ""},
			wantErr: `rollout: SSM_PARAMETER_NAME="" is not an SSM parameter name or ARN (want e.g. /golden-ami/latest or arn:aws:ssm:us-east-1:111122223333:parameter/golden-ami/latest)`},
		{name: "parameter name with a space", set: map[string]string{"SSM_PARAMETER_NAME": "/golden ami/latest"},
			wantErr: `rollout: SSM_PARAMETER_NAME="/golden ami/latest" is not an SSM parameter name or ARN (want e.g. /golden-ami/latest or arn:aws:ssm:us-east-1:111122223333:parameter/golden-ami/latest)`},
		{name: "ARN with an 11-digit account", set: map[string]string{"SSM_PARAMETER_NAME": "arn:aws:ssm:us-east-1:44445555666:parameter/golden-ami/latest"},
			wantErr: `rollout: SSM_PARAMETER_NAME="arn:aws:ssm:us-east-1:44445555666:parameter/golden-ami/latest" is not an SSM parameter ARN (want arn:<partition>:ssm:<region>:<12-digit account>:parameter/<name>)`},
		{name: "ARN of another service", set: map[string]string{"SSM_PARAMETER_NAME": "arn:aws:s3:::golden-ami/latest"},
			wantErr: `rollout: SSM_PARAMETER_NAME="arn:aws:s3:::golden-ami/latest" is not an SSM parameter ARN (want arn:<partition>:ssm:<region>:<12-digit account>:parameter/<name>)`},
		{name: "ARN without a name", set: map[string]string{"SSM_PARAMETER_NAME": "arn:aws:ssm:us-east-1:444455556666:parameter/"},
			wantErr: `rollout: SSM_PARAMETER_NAME="arn:aws:ssm:us-east-1:444455556666:parameter/" is not an SSM parameter ARN (want arn:<partition>:ssm:<region>:<12-digit account>:parameter/<name>)`},
		{name: "ARN without a region", set: map[string]string{"SSM_PARAMETER_NAME": "arn:aws:ssm::444455556666:parameter/golden-ami/latest"},
			wantErr: `rollout: SSM_PARAMETER_NAME="arn:aws:ssm::444455556666:parameter/golden-ami/latest" is not an SSM parameter ARN (want arn:<partition>:ssm:<region>:<12-digit account>:parameter/<name>)`},
		{name: "min healthy over 100", set: map[string]string{"REFRESH_MIN_HEALTHY_PERCENTAGE": "101"},
			wantErr: `rollout: REFRESH_MIN_HEALTHY_PERCENTAGE="101" is not a percentage (want an integer from 0 to 100)`},
		{name: "min healthy missing", set: map[string]string{"REFRESH_MIN_HEALTHY_PERCENTAGE": ""},
			wantErr: `rollout: REFRESH_MIN_HEALTHY_PERCENTAGE="" is not a percentage (want an integer from 0 to 100)`},
		{name: "max healthy unset is left to Auto Scaling", set: map[string]string{"REFRESH_MAX_HEALTHY_PERCENTAGE": ""}},
		{name: "max healthy launches before terminating", set: map[string]string{"REFRESH_MAX_HEALTHY_PERCENTAGE": "110"},
			want: func(c *config) { c.Preferences.MaxHealthyPercentage = aws.Int32(110) }},
		{name: "max healthy 100 above min healthy", set: map[string]string{"REFRESH_MIN_HEALTHY_PERCENTAGE": "100", "REFRESH_MAX_HEALTHY_PERCENTAGE": "200"},
			want: func(c *config) {
				c.Preferences.MinHealthyPercentage, c.Preferences.MaxHealthyPercentage = 100, aws.Int32(200)
			}},
		{name: "max healthy below 100", set: map[string]string{"REFRESH_MAX_HEALTHY_PERCENTAGE": "90"},
			wantErr: `rollout: REFRESH_MAX_HEALTHY_PERCENTAGE="90" is not a maximum healthy percentage (want an integer from 100 to 200, or unset to leave it to Auto Scaling)`},
		{name: "max healthy over 200", set: map[string]string{"REFRESH_MAX_HEALTHY_PERCENTAGE": "201"},
			wantErr: `rollout: REFRESH_MAX_HEALTHY_PERCENTAGE="201" is not a maximum healthy percentage (want an integer from 100 to 200, or unset to leave it to Auto Scaling)`},
		{name: "max healthy more than 100 above min healthy", set: map[string]string{"REFRESH_MIN_HEALTHY_PERCENTAGE": "50", "REFRESH_MAX_HEALTHY_PERCENTAGE": "160"},
			wantErr: `rollout: REFRESH_MAX_HEALTHY_PERCENTAGE="160" is not within 100 of REFRESH_MIN_HEALTHY_PERCENTAGE=50 (want at most 150: Auto Scaling allows a difference of at most 100)`},
		{name: "checkpoints not ending at 100", set: map[string]string{"REFRESH_CHECKPOINT_PERCENTAGES": "20,50"},
			wantErr: `rollout: REFRESH_CHECKPOINT_PERCENTAGES="20,50" is not a list of checkpoint percentages (want ascending integers from 1 to 100 separated by commas, ending with 100, e.g. "20,50,100")`},
		{name: "checkpoints not ascending", set: map[string]string{"REFRESH_CHECKPOINT_PERCENTAGES": "50,20,100"},
			wantErr: `rollout: REFRESH_CHECKPOINT_PERCENTAGES="50,20,100" is not a list of checkpoint percentages (want ascending integers from 1 to 100 separated by commas, ending with 100, e.g. "20,50,100")`},
		{name: "checkpoints repeated", set: map[string]string{"REFRESH_CHECKPOINT_PERCENTAGES": "50,50,100"},
			wantErr: `rollout: REFRESH_CHECKPOINT_PERCENTAGES="50,50,100" is not a list of checkpoint percentages (want ascending integers from 1 to 100 separated by commas, ending with 100, e.g. "20,50,100")`},
		{name: "checkpoints with spaces", set: map[string]string{"REFRESH_CHECKPOINT_PERCENTAGES": "20, 100"},
			wantErr: `rollout: REFRESH_CHECKPOINT_PERCENTAGES="20, 100" is not a list of checkpoint percentages (want ascending integers from 1 to 100 separated by commas, ending with 100, e.g. "20,50,100")`},
		{name: "checkpoints missing", set: map[string]string{"REFRESH_CHECKPOINT_PERCENTAGES": ""},
			wantErr: `rollout: REFRESH_CHECKPOINT_PERCENTAGES="" is not a list of checkpoint percentages (want ascending integers from 1 to 100 separated by commas, ending with 100, e.g. "20,50,100")`},
		{name: "delay over two days", set: map[string]string{"REFRESH_CHECKPOINT_DELAY_SECONDS": "172801"},
			wantErr: `rollout: REFRESH_CHECKPOINT_DELAY_SECONDS="172801" is not a checkpoint delay (want whole seconds from 0 to 172800)`},
		{name: "delay as a duration", set: map[string]string{"REFRESH_CHECKPOINT_DELAY_SECONDS": "10m"},
			wantErr: `rollout: REFRESH_CHECKPOINT_DELAY_SECONDS="10m" is not a checkpoint delay (want whole seconds from 0 to 172800)`},
		{name: "negative warmup", set: map[string]string{"REFRESH_INSTANCE_WARMUP_SECONDS": "-1"},
			wantErr: `rollout: REFRESH_INSTANCE_WARMUP_SECONDS="-1" is not an instance warmup (want whole seconds, at least 0, or unset to use the group's default instance warmup)`},
		{name: "no alarms", set: map[string]string{"REFRESH_ALARM_NAMES": ""},
			wantErr: `rollout: REFRESH_ALARM_NAMES="" is not a list of CloudWatch alarm names (want 1 to 10 names of 1 to 255 characters, separated by commas)`},
		{name: "empty alarm name", set: map[string]string{"REFRESH_ALARM_NAMES": "a,,b"},
			wantErr: `rollout: REFRESH_ALARM_NAMES="a,,b" is not a list of CloudWatch alarm names (want 1 to 10 names of 1 to 255 characters, separated by commas)`},
		{name: "eleven alarms", set: map[string]string{"REFRESH_ALARM_NAMES": "a,b,c,d,e,f,g,h,i,j,k"},
			wantErr: `rollout: REFRESH_ALARM_NAMES="a,b,c,d,e,f,g,h,i,j,k" is not a list of CloudWatch alarm names (want 1 to 10 names of 1 to 255 characters, separated by commas)`},
		{name: "skip matching yes", set: map[string]string{"REFRESH_SKIP_MATCHING": "yes"},
			wantErr: `rollout: REFRESH_SKIP_MATCHING="yes" is not a boolean (want "true" or "false")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			for k, v := range tc.set {
				env[k] = v
			}
			got, err := configFromEnv(func(k string) string { return env[k] })
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := valid
			want.Preferences.CheckpointPercentages = slices.Clone(valid.Preferences.CheckpointPercentages)
			if tc.want != nil {
				tc.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config = %s\nwant %s", asJSON(got), asJSON(want))
			}
		})
	}
}
