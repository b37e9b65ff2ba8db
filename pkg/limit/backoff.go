package limit

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff returns the wait before retry number attempt, where attempt 1 is
// the wait after the first failed attempt. The ceiling d grows as base,
// 2*base, 4*base ... and stops at maxWait (maxWait <= 0: no cap).
//
// The wait is drawn from [d/2, d] ("equal jitter"): retries from many
// workers still spread out, but unlike full jitter ([0, d]) a retry never
// comes back almost at once to a server that just failed. rnd supplies the
// randomness so tests can be deterministic; nil uses math/rand/v2's
// top-level source.
func Backoff(attempt int, base, maxWait time.Duration, rnd *rand.Rand) time.Duration {
	d := ceiling(attempt, base, maxWait)
	if d <= 0 {
		return 0
	}
	half := d / 2
	span := int64(d-half) + 1
	var j int64
	if rnd != nil {
		j = rnd.Int64N(span)
	} else {
		j = rand.Int64N(span)
	}
	return half + time.Duration(j)
}

// ceiling is base * 2^(attempt-1), capped at maxWait and safe from
// overflow.
func ceiling(attempt int, base, maxWait time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	if maxWait <= 0 {
		maxWait = maxDuration
	}
	d := base
	for i := 1; i < attempt && d < maxWait; i++ {
		if d > maxWait/2 {
			return maxWait
		}
		d *= 2
	}
	return min(d, maxWait)
}

// RetryAfter parses a Retry-After header value, either delta-seconds ("120")
// or an HTTP date taken relative to now. ok is false when the value is
// empty or neither form. A date in the past, or a negative number, gives 0;
// a number too large for a Duration gives the largest Duration.
func RetryAfter(value string, now time.Time) (d time.Duration, ok bool) {
	v := strings.TrimSpace(value)
	if v == "" {
		return 0, false
	}
	if secs, ok := parseSeconds(v); ok {
		return secs, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// parseSeconds reads an optionally signed integer number of seconds.
func parseSeconds(v string) (time.Duration, bool) {
	digits := strings.TrimPrefix(v, "-")
	if digits == "" {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	if digits != v {
		return 0, true
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/int64(time.Second) {
		return maxDuration, true
	}
	return time.Duration(n) * time.Second, true
}

// maxDuration is the longest time.Duration.
const maxDuration = time.Duration(math.MaxInt64)
