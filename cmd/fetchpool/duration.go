package main

import (
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/fetchpool/fetchpool/internal/decimal"
)

// durationValue is a duration flag that also takes a plain number of
// seconds ("5", "0.5"), as curl's --max-time and wget's --timeout do, so
// that --timeout 5 means five seconds instead of an error.
type durationValue time.Duration

// newDuration sets *p to def and returns the flag value that sets it.
func newDuration(p *time.Duration, def time.Duration) *durationValue {
	*p = def
	return (*durationValue)(p)
}

// errDuration is the reason pflag prints after the flag's name.
var errDuration = errors.New("want a duration such as 30s, 1m30s or 500ms, or a number of seconds")

// errDurationTooLong is the reason for a duration written as it should be
// but past the longest one (about 292 years): errDuration's "want a
// duration such as 30s" read as if the form were wrong.
var errDurationTooLong = errors.New("too long: want at most 2562047h (about 292 years)")

// errDurationTooShort is the reason for a duration above 0 but below a
// nanosecond, which would count as 0.
var errDurationTooShort = errors.New("too short: want 1ns or more (0 is written 0)")

// errDurationNegative is the reason for a negative number of seconds
// ("-5"), worded as config's check of a negative duration ("-5s"):
// errDuration's "want a duration such as 30s" read as if the form were
// wrong.
var errDurationNegative = errors.New("want a duration of 0 or more, like 30s or 2m")

// durationForm is the syntax time.ParseDuration accepts, after its sign: a
// string of this form that it refuses is too long.
var durationForm = regexp.MustCompile(`^(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

func (d *durationValue) Set(s string) error {
	if secs, ok := decimal.Parse(s); ok {
		// float64(1<<63-1) rounds up to 2^63, which is past the largest
		// duration: converted, it would wrap around to a negative one.
		if secs*float64(time.Second) >= 1<<63 {
			return errDurationTooLong
		}
		v := time.Duration(secs * float64(time.Second))
		if v == 0 && secs > 0 {
			return errDurationTooShort // 0 would mean no limit
		}
		*d = durationValue(v)
		return nil
	}
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		if secs, ok := decimal.Parse(rest); ok {
			if secs > 0 {
				return errDurationNegative
			}
			*d = 0 // "-0"
			return nil
		}
	}
	v, err := time.ParseDuration(s)
	switch {
	case err != nil && durationForm.MatchString(unsigned(s)):
		return errDurationTooLong
	case err != nil:
		return errDuration
	case v == 0 && strings.ContainsAny(s, "123456789"):
		return errDurationTooShort // "0.1ns": 0 would mean no limit
	}
	*d = durationValue(v)
	return nil
}

// String is the value as --help shows its default: "0" for none, which
// pflag leaves out of the help, as it does for its own duration flags;
// else as it would be typed, "1m" rather than time.Duration's "1m0s".
func (d *durationValue) String() string {
	if *d == 0 {
		return "0"
	}
	s := time.Duration(*d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Type is the placeholder --help shows for a flag whose usage names none.
func (d *durationValue) Type() string { return "DURATION" }

// unsigned is s without the one sign that time.ParseDuration takes before
// a duration.
func unsigned(s string) string {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		return s[1:]
	}
	return s
}
