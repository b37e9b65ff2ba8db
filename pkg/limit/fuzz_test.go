package limit

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10", "10/s", "600/m", "2/h", "0.5/s", "unlimited", "0", "abc", "-1", "1e3/s", "inf", "0." + strings.Repeat("0", 400) + "1/h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		r, err := ParseRate(spec)
		if err != nil {
			if !errors.Is(err, ErrRate) {
				t.Fatalf("ParseRate(%q) error %v does not wrap ErrRate", spec, err)
			}
			if !strings.HasPrefix(err.Error(), "invalid --rate ") {
				t.Fatalf("ParseRate(%q) error %q does not name the flag", spec, err)
			}
			return
		}
		if !(r > 0) {
			t.Fatalf("ParseRate(%q) = %v, want a positive rate", spec, r)
		}
		// No limit only for "unlimited" or a zero: never for a rate too
		// slow to write as a float64.
		if r == rate.Inf && !strings.EqualFold(strings.TrimSpace(spec), "unlimited") && strings.ContainsAny(spec, "123456789") {
			t.Fatalf("ParseRate(%q) = no limit", spec)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"100", "500K", "2M", "1.5G", "2MiB", "1kb", "x", "-1", "iB", "8589934592G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		n, err := ParseSize("--limit-rate", spec)
		if err != nil {
			if !errors.Is(err, ErrSize) {
				t.Fatalf("ParseSize(%q) error %v does not wrap ErrSize", spec, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d, want >= 0", spec, n)
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "-5", "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "soon", ""} {
		f.Add(s)
	}
	now := time.Date(1994, 11, 6, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value string) {
		d, ok := RetryAfter(value, now)
		if d < 0 {
			t.Fatalf("RetryAfter(%q) = %v, want >= 0", value, d)
		}
		if !ok && d != 0 {
			t.Fatalf("RetryAfter(%q) = %v with ok=false", value, d)
		}
	})
}
