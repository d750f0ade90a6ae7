package main

import "testing"

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		value   string
		want    config
		wantErr string
	}{
		{name: "valid", value: secretARN, want: config{SecretARN: secretARN}},
		{name: "valid in another partition", value: "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:slack-Ab12Cd",
			want: config{SecretARN: "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:slack-Ab12Cd"}},
		{name: "missing", value: "",
			wantErr: `notifier: SLACK_WEBHOOK_SECRET_ARN="" is not a Secrets Manager secret ARN (want arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)`},
		{name: "a name, not an ARN", value: "golden-ami/slack-webhook",
			wantErr: `notifier: SLACK_WEBHOOK_SECRET_ARN=(24 characters, not shown) is not a Secrets Manager secret ARN (want arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)`},
		{name: "an SSM parameter ARN", value: "arn:aws:ssm:us-east-1:123456789012:parameter/slack",
			wantErr: `notifier: SLACK_WEBHOOK_SECRET_ARN="arn:aws:ssm:us-east-1:123456789012:parameter/slack" is not a Secrets Manager secret ARN (want arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)`},
		{name: "the webhook itself", value: "https://hooks.slack.com/services/T0/B0/x",
			wantErr: `notifier: SLACK_WEBHOOK_SECRET_ARN=(40 characters, not shown) is not a Secrets Manager secret ARN (want arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := configFromEnv(func(k string) string {
				if k == "SLACK_WEBHOOK_SECRET_ARN" {
					return tc.value
				}
				return ""
			})
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
