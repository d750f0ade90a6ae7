package validate

import (
	"fmt"
	"strconv"
	"strings"
)

// cronField describes one field of an Image Builder / EventBridge cron
// expression: cron(minutes hours day-of-month month day-of-week year).
type cronField struct {
	name     string
	min, max int
	names    []string // optional symbolic names; names[i] has value min+i
	special  string   // extra characters allowed beyond , - * /
}

var cronFields = []cronField{
	{name: "minutes", min: 0, max: 59},
	{name: "hours", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31, special: "?LW"},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, special: "?L#"},
	{name: "year", min: 1970, max: 2199},
}

// Cron checks an Image Builder schedule expression such as
// "cron(0 4 ? * MON *)": six fields, and exactly one of day-of-month and
// day-of-week set to "?".
func Cron(expr string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%q is not a valid cron expression: %s (want e.g. \"cron(0 4 ? * MON *)\")", expr, fmt.Sprintf(format, args...))
	}
	if !strings.HasPrefix(expr, "cron(") || !strings.HasSuffix(expr, ")") {
		return bad(`it must be written as "cron(...)"`)
	}
	fields := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	if len(fields) != len(cronFields) {
		return bad("it has %d fields, want 6 (minutes hours day-of-month month day-of-week year)", len(fields))
	}
	for i, f := range cronFields {
		if err := f.check(fields[i]); err != nil {
			return bad("%s field %q %v", f.name, fields[i], err)
		}
	}
	dom, dow := fields[2], fields[4]
	if (dom == "?") == (dow == "?") {
		return bad(`exactly one of day-of-month and day-of-week must be "?"`)
	}
	return nil
}

func (f cronField) check(s string) error {
	if s == "?" {
		if !strings.Contains(f.special, "?") {
			return fmt.Errorf(`does not allow "?"`)
		}
		return nil
	}
	for _, item := range strings.Split(s, ",") {
		if err := f.checkItem(item); err != nil {
			return err
		}
	}
	return nil
}

func (f cronField) checkItem(item string) error {
	if item == "" {
		return fmt.Errorf("has an empty list item")
	}
	// Day-of-month and day-of-week specials.
	switch {
	case strings.Contains(f.special, "L") && item == "L":
		return nil
	case f.name == "day-of-month" && item == "LW":
		return nil
	case f.name == "day-of-month" && strings.HasSuffix(item, "W"):
		_, err := f.value(strings.TrimSuffix(item, "W"))
		return err
	case f.name == "day-of-week" && strings.HasSuffix(item, "L"):
		_, err := f.value(strings.TrimSuffix(item, "L"))
		return err
	case f.name == "day-of-week" && strings.Contains(item, "#"):
		day, nth, _ := strings.Cut(item, "#")
		if _, err := f.value(day); err != nil {
			return err
		}
		if n, err := strconv.Atoi(nth); err != nil || n < 1 || n > 5 {
			return fmt.Errorf("has %q after #, want 1-5", nth)
		}
		return nil
	}
	rng, step, hasStep := strings.Cut(item, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 || n > f.max {
			return fmt.Errorf("has step %q, want 1-%d", step, f.max)
		}
	}
	if rng == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	a, err := f.value(lo)
	if err != nil {
		return err
	}
	if isRange {
		b, err := f.value(hi)
		if err != nil {
			return err
		}
		if b < a && f.name != "day-of-week" && f.name != "month" {
			return fmt.Errorf("has range %q that runs backwards", rng)
		}
	}
	return nil
}

func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		return 0, fmt.Errorf("has %q, want %d-%d%s", s, f.min, f.max, f.nameHint())
	}
	return n, nil
}

func (f cronField) nameHint() string {
	if len(f.names) == 0 {
		return ""
	}
	return " or " + f.names[0] + "-" + f.names[len(f.names)-1]
}
