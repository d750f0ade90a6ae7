package cdkduration_test

import (
	"os"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/golden-ami/internal/cdkduration"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// token is a duration known only at deploy time.
func token(t *testing.T) awscdk.Duration {
	stack := awscdk.NewStack(awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())}), jsii.String("Test"), nil)
	p := awscdk.NewCfnParameter(stack, jsii.String("Minutes"), &awscdk.CfnParameterProps{Type: jsii.String("Number")})
	return awscdk.Duration_Minutes(p.ValueAsNumber())
}

func TestMillis(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    awscdk.Duration
		ms   float64
		ok   bool
	}{
		{"nil", nil, 0, false},
		{"token", token(t), 0, false},
		{"fraction of a second", awscdk.Duration_Seconds(jsii.Number(1.5)), 1500, true},
		{"fraction of a millisecond", awscdk.Duration_Millis(jsii.Number(0.5)), 0.5, true},
		{"hours", awscdk.Duration_Hours(jsii.Number(2)), 7200000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ms, ok := cdkduration.Millis(tc.d); ms != tc.ms || ok != tc.ok {
				t.Errorf("Millis = %v, %v; want %v, %v", ms, ok, tc.ms, tc.ok)
			}
		})
	}
}

func TestWhole(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    awscdk.Duration
		unit time.Duration
		want string
		err  string // "" for no error
	}{
		{"nil passes", nil, time.Second, "", ""},
		{"a token passes", token(t), time.Second, "", ""},
		{"whole seconds in minutes", awscdk.Duration_Minutes(jsii.Number(1.5)), time.Second, "", ""},
		{"whole minutes in seconds", awscdk.Duration_Seconds(jsii.Number(120)), time.Minute, "", ""},
		{"milliseconds", awscdk.Duration_Millis(jsii.Number(1500)), time.Second, "e.g. 10 minutes",
			"1 second 500 millis is not a whole number of seconds (want e.g. 10 minutes)"},
		{"seconds", awscdk.Duration_Seconds(jsii.Number(90)), time.Minute, "",
			"1 minute 30 seconds is not a whole number of minutes"},
		{"every component", awscdk.Duration_Millis(jsii.Number(90500)), time.Second, "",
			"1 minute 30 seconds 500 millis is not a whole number of seconds"},
		{"hours", awscdk.Duration_Minutes(jsii.Number(90)), time.Hour, "whole hours",
			"1 hour 30 minutes is not a whole number of hours (want whole hours)"},
		{"days", awscdk.Duration_Hours(jsii.Number(36)), 24 * time.Hour, "",
			"1 day 12 hours is not a whole number of days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cdkduration.Whole(tc.d, tc.unit, tc.want)
			if got := errString(err); got != tc.err {
				t.Errorf("Whole = %q, want %q", got, tc.err)
			}
		})
	}
}

func TestHuman(t *testing.T) {
	for _, tc := range []struct {
		d    awscdk.Duration
		want string
	}{
		{awscdk.Duration_Millis(jsii.Number(90500)), "1 minute 30 seconds 500 millis"}, // ToHumanString: "1 minute 30 seconds"
		{awscdk.Duration_Hours(jsii.Number(49)), "2 days 1 hour"},
		{awscdk.Duration_Seconds(jsii.Number(1.5)), "1 second 500 millis"},
		{awscdk.Duration_Millis(jsii.Number(0.5)), "0.5 millis"},
		{awscdk.Duration_Minutes(jsii.Number(0)), "0 minutes"},
		{token(t), "<token> minutes"},
	} {
		if got := cdkduration.Human(tc.d); got != tc.want {
			t.Errorf("Human(%s) = %q, want %q", *tc.d.ToString(), got, tc.want)
		}
	}
}

func TestRate(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    awscdk.Duration
		err  string
	}{
		{"nil passes", nil, ""},
		{"a token passes", token(t), ""},
		{"one minute", awscdk.Duration_Minutes(jsii.Number(1)), ""},
		{"whole minutes in seconds", awscdk.Duration_Seconds(jsii.Number(180)), ""},
		{"a day and a half", awscdk.Duration_Hours(jsii.Number(36)), ""},
		{"zero", awscdk.Duration_Seconds(jsii.Number(0)), "0 seconds is shorter than EventBridge's 1 minute minimum"},
		{"under a minute", awscdk.Duration_Millis(jsii.Number(1500)), "1 second 500 millis is shorter than EventBridge's 1 minute minimum"},
		{"not whole minutes", awscdk.Duration_Seconds(jsii.Number(90)),
			"1 minute 30 seconds is not a whole number of minutes (want e.g. 2 minutes: EventBridge schedules run at whole-minute rates)"},
		{"not whole seconds either", awscdk.Duration_Millis(jsii.Number(60500)),
			"1 minute 500 millis is not a whole number of minutes (want e.g. 2 minutes: EventBridge schedules run at whole-minute rates)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errString(cdkduration.Rate(tc.d)); got != tc.err {
				t.Errorf("Rate = %q, want %q", got, tc.err)
			}
		})
	}
}

// A unit the package does not convert is a programmer error.
func TestWholePanicsOnAnUnknownUnit(t *testing.T) {
	defer func() {
		r := recover()
		err, _ := r.(error)
		if want := "cdkduration: unit 1m30s is not a second, minute, hour or day"; errString(err) != want {
			t.Errorf("panic %v, want %s", r, want)
		}
	}()
	_ = cdkduration.Whole(awscdk.Duration_Seconds(jsii.Number(1)), 90*time.Second, "")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
