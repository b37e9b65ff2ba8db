// Package decimal parses the plain decimal numbers that flag values are
// made of.
package decimal

import (
	"math"
	"strconv"
)

// Parse accepts only plain decimals ("12", "0.5", ".5", "3."), so that
// strconv's extras (signs, "inf", "nan", hex, exponents, underscores) never
// reach a flag value. It reports false for anything else, and for a number
// too large or too small for a float64: one with a non-zero digit never
// reads as 0, which flags take for "no limit".
func Parse(s string) (float64, bool) {
	digits, dots := 0, 0
	zero := true
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
			zero = zero && c == '0'
		case c == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(n, 0) || n == 0 && !zero {
		return 0, false
	}
	return n, true
}
