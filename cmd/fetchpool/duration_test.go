package main

import (
	"strings"
	"testing"
	"time"
)

// FuzzDurationFlag: a duration flag refuses a value with errDuration (or,
// of the right form, errDurationTooLong, errDurationTooShort or, for a
// negative number of seconds, errDurationNegative), or
// takes it as a duration that is not negative unless it was written with a
// minus sign (a number of seconds too large for a duration must not wrap
// around to a negative one), and that reads back from its String.
func FuzzDurationFlag(f *testing.F) {
	for _, s := range []string{
		"5", "0.5", ".5", "3.", "30s", "1m30s", "-5s", "0", "1e3", "inf", "0x10", "",
		"9223372036.854775807", "9223372036.854775", "9223372037", "2562047h47m16.854775807s",
		"0.0000000001", "0.1ns", "0." + strings.Repeat("0", 400) + "1",
		"-5", "-0", "-0.5", "+5s", "+9999999999h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d time.Duration
		v := newDuration(&d, time.Minute)
		if err := v.Set(s); err != nil {
			if err != errDuration && err != errDurationTooLong && err != errDurationTooShort && err != errDurationNegative {
				t.Fatalf("Set(%q) = %v, want errDuration, errDurationTooLong, errDurationTooShort or errDurationNegative", s, err)
			}
			return
		}
		if d < 0 && !strings.Contains(s, "-") {
			t.Fatalf("Set(%q) = %v: negative", s, d)
		}
		// 0 means no limit: never for a duration too short to count.
		if d == 0 && !strings.Contains(s, "-") && strings.ContainsAny(s, "123456789") {
			t.Fatalf("Set(%q) = 0: no limit", s)
		}
		var back time.Duration
		if err := newDuration(&back, 0).Set(v.String()); err != nil || back != d {
			t.Fatalf("Set(%q) = %v, whose String %q sets %v, %v", s, d, v.String(), back, err)
		}
	})
}
