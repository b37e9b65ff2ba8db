package fetch

import (
	"math"
	"strconv"
	"strings"
)

// contentRange is a parsed Content-Range header: "bytes FIRST-LAST/TOTAL"
// or, on a 416, "bytes */TOTAL". TOTAL may be "*" (unknown).
type contentRange struct {
	first, last int64 // inclusive; both -1 for "*/TOTAL"
	total       int64 // -1 when unknown
}

// parseContentRange parses a Content-Range value; ok is false for anything
// malformed or inconsistent (last before first, last beyond total).
func parseContentRange(v string) (cr contentRange, ok bool) {
	unit, rest, found := strings.Cut(strings.TrimSpace(v), " ")
	if !found || !strings.EqualFold(unit, "bytes") {
		return cr, false
	}
	span, total, found := strings.Cut(strings.TrimSpace(rest), "/")
	if !found {
		return cr, false
	}
	cr.total = -1
	if total != "*" {
		n, ok := parseUint(total)
		if !ok {
			return cr, false
		}
		cr.total = n
	}
	if span == "*" {
		if cr.total < 0 {
			return cr, false
		}
		cr.first, cr.last = -1, -1
		return cr, true
	}
	a, b, found := strings.Cut(span, "-")
	if !found {
		return cr, false
	}
	first, ok1 := parseUint(a)
	last, ok2 := parseUint(b)
	// last+1, the end of the range, must fit an int64 too: a hostile
	// "bytes 0-9223372036854775807/*" would overflow it and lose the
	// length check.
	if !ok1 || !ok2 || last < first || last == math.MaxInt64 || (cr.total >= 0 && last >= cr.total) {
		return cr, false
	}
	cr.first, cr.last = first, last
	return cr, true
}

// parseUint parses a non-empty string of ASCII digits that fits an int64.
func parseUint(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
