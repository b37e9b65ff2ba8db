// Package limit keeps a run polite: request-rate and per-host gates, and a shared bandwidth cap.
//
// A Gate (NewGate) goes in fetch.Config.Gate, where every request attempt
// passes it; a Bandwidth (NewBandwidth) goes in fetch.Config.Throttle, where
// every transfer's reads draw from it. ParseRate and ParseSize read the
// command line's --rate and byte sizes; Backoff and RetryAfter time retries.
package limit

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/fetchpool/fetchpool/internal/decimal"
	"golang.org/x/time/rate"
)

// ErrRate is wrapped by every error of ParseRate; its text tells the user
// what a valid --rate looks like.
var ErrRate = errors.New("want a number of requests per second, minute or hour, like 10/s, 600/m or 2/h")

// ErrSize is wrapped by every error of ParseSize; its text tells the user
// what a valid byte count looks like.
var ErrSize = errors.New("want bytes like 500K, 2M or 1G")

// ParseRate parses a request-rate spec for --rate: a non-negative decimal
// number of requests, optionally followed by "/s", "/m" or "/h" (per second
// when no unit is given): "10", "10/s", "600/m", "2/h", "0.5/s".
// "unlimited" and any spelling of zero ("0", "0/m") mean no limit and give
// rate.Inf. Errors wrap ErrRate and quote the spec.
func ParseRate(spec string) (rate.Limit, error) {
	s := strings.TrimSpace(spec)
	if strings.EqualFold(s, "unlimited") {
		return rate.Inf, nil
	}
	num, unit, hasUnit := strings.Cut(s, "/")
	per := 1.0
	if hasUnit {
		switch strings.ToLower(unit) {
		case "s":
			per = 1
		case "m":
			per = 60
		case "h":
			per = 3600
		default:
			return 0, rateError(spec)
		}
	}
	n, ok := decimal.Parse(num)
	if !ok {
		return 0, rateError(spec)
	}
	if n == 0 {
		return rate.Inf, nil
	}
	return rate.Limit(n / per), nil
}

func rateError(spec string) error {
	return fmt.Errorf("invalid --rate %q: %w", spec, ErrRate)
}

// ParseSize parses a byte count such as "100", "500K", "2M", "1.5G" or
// "2MiB": a non-negative decimal number and an optional suffix K, M or G
// (powers of 1024, any case), which may be followed by "B" or "iB"; a bare
// "B" means bytes. Fractions of a byte are dropped. flag names the flag in
// the error ("--limit-rate" or "limit-rate"); errors wrap ErrSize.
func ParseSize(flag, spec string) (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(spec))
	// "iB" is only valid after a multiplier: "2MiB", not "2iB".
	needMult := strings.HasSuffix(s, "IB")
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	mult := 1.0
	if s != "" {
		switch s[len(s)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
	}
	if mult != 1 {
		s = s[:len(s)-1]
	} else if needMult {
		return 0, sizeError(flag, spec, "")
	}
	n, ok := decimal.Parse(s)
	if !ok {
		return 0, sizeError(flag, spec, "")
	}
	v := math.Floor(n * mult)
	if v >= math.MaxInt64 {
		return 0, sizeError(flag, spec, "too large: ")
	}
	return int64(v), nil
}

// sizeError is the error of ParseSize; why, when not "", says what is
// wrong with a spec of the right form ("too large: ").
func sizeError(flag, spec, why string) error {
	if !strings.HasPrefix(flag, "-") {
		flag = "--" + flag
	}
	return fmt.Errorf("invalid %s %q: %s%w", flag, spec, why, ErrSize)
}
