// Package cdkduration checks the awscdk.Duration props of the constructs
// before they define anything.
//
// CDK converts a Duration with ToSeconds or ToMinutes (and Schedule_Rate),
// which throw a raw jsii CannotConvertedIntoWhole error for a fraction of
// the unit, often after children were defined. These checks find the same
// values first. Each returns an error that starts with the duration in words
// (Human) and says what is allowed; callers prefix it with the field name, as in
// `amimonitor: CheckInterval 1 minute 30 seconds is not a whole number of minutes (...)`.
// A nil Duration and an unresolved token pass: their value is known only at
// deploy time.
//
// Unlike internal/validate, this package imports the CDK: it is for
// construct code, never for a Lambda function.
package cdkduration

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// Millis returns d in milliseconds, and false when d is nil or an
// unresolved token. It never throws: the conversion allows fractions.
func Millis(d awscdk.Duration) (float64, bool) {
	if d == nil || *d.IsUnresolved() {
		return 0, false
	}
	return *d.ToMilliseconds(fractions()), true
}

// Human is d in words with every component, as in "1 minute 30 seconds
// 500 millis". ToHumanString, which it otherwise follows, shows only the two
// largest components ("1 minute 30 seconds"), hiding the fraction a check
// reports. A token is "<token> minutes".
func Human(d awscdk.Duration) string {
	ms, ok := Millis(d)
	if !ok || ms == 0 {
		return *d.ToHumanString()
	}
	var parts []string
	for _, u := range []struct {
		unit  time.Duration
		label string
	}{{24 * time.Hour, "days"}, {time.Hour, "hours"}, {time.Minute, "minutes"}, {time.Second, "seconds"}} {
		if n := math.Floor(ms / float64(u.unit.Milliseconds())); n > 0 {
			parts = append(parts, count(n, u.label))
			ms -= n * float64(u.unit.Milliseconds())
		}
	}
	if ms > 1e-4 { // CDK's threshold for a rounding remainder
		parts = append(parts, count(ms, "millis"))
	}
	return strings.Join(parts, " ")
}

// count is n label, singular for 1 the way CDK makes it (dropping the "s").
func count(n float64, label string) string {
	if n == 1 {
		label = strings.TrimSuffix(label, "s")
	}
	return strconv.FormatFloat(n, 'f', -1, 64) + " " + label
}

// Whole checks that d is a whole number of unit (time.Second, time.Minute,
// time.Hour or 24*time.Hour), with the conversion CDK makes later, so
// exactly the values CDK would reject fail. want, when not empty, says what
// is allowed: "e.g. 10 minutes" gives "(want e.g. 10 minutes)". It panics on
// any other unit.
func Whole(d awscdk.Duration, unit time.Duration, want string) error {
	convert, name := converter(unit)
	if d == nil || *d.IsUnresolved() {
		return nil
	}
	if v := *convert(d); v == math.Trunc(v) {
		return nil
	}
	if want != "" {
		want = " (want " + want + ")"
	}
	return fmt.Errorf("%s is not a whole number of %s%s", Human(d), name, want)
}

// Rate checks d as the rate of an EventBridge schedule
// (awsevents.Schedule_Rate): at least 1 minute, in whole minutes.
func Rate(d awscdk.Duration) error {
	ms, ok := Millis(d)
	if !ok {
		return nil
	}
	if ms < float64(time.Minute/time.Millisecond) {
		return fmt.Errorf("%s is shorter than EventBridge's 1 minute minimum", Human(d))
	}
	return Whole(d, time.Minute, "e.g. 2 minutes: EventBridge schedules run at whole-minute rates")
}

// converter returns the CDK conversion to unit, allowing fractions, and
// the unit's plural name.
func converter(unit time.Duration) (func(awscdk.Duration) *float64, string) {
	switch unit {
	case time.Second:
		return func(d awscdk.Duration) *float64 { return d.ToSeconds(fractions()) }, "seconds"
	case time.Minute:
		return func(d awscdk.Duration) *float64 { return d.ToMinutes(fractions()) }, "minutes"
	case time.Hour:
		return func(d awscdk.Duration) *float64 { return d.ToHours(fractions()) }, "hours"
	case 24 * time.Hour:
		return func(d awscdk.Duration) *float64 { return d.ToDays(fractions()) }, "days"
	}
	panic(fmt.Errorf("cdkduration: unit %v is not a second, minute, hour or day", unit))
}

func fractions() *awscdk.TimeConversionOptions {
	integral := false
	return &awscdk.TimeConversionOptions{Integral: &integral}
}
