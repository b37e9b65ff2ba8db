package main

import (
	"errors"
	"strconv"
)

// countValue is an integer flag (-j, --per-host, --burst, --split,
// --retries) whose error for a value that is not a whole number says what
// the flag wants, in the words of its range check in configure, as the
// duration and size flags do, instead of strconv's
// `parsing "abc": invalid syntax`.
type countValue struct {
	p    *int
	want string // the range, as configure words it: "at least 1"
}

// newCount sets *p to def and returns the flag value that sets it; want
// is the range the flag takes, for its error.
func newCount(p *int, def int, want string) *countValue {
	*p = def
	return &countValue{p: p, want: want}
}

func (c *countValue) Set(s string) error {
	// As pflag's own int flags read it: 0x10 and 0o17 too.
	n, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if errors.Is(err, strconv.ErrRange) {
		if n < 0 {
			return errors.New("too small: want a whole number, " + c.want)
		}
		return errors.New("too large: want a whole number, " + c.want)
	}
	if err != nil {
		return errors.New("want a whole number, " + c.want)
	}
	*c.p = int(n)
	return nil
}

// String is the value as --help shows its default.
func (c *countValue) String() string { return strconv.Itoa(*c.p) }

// Type is "int", as for pflag's own int flags, so that --help leaves out
// a default of 0 as it did ("--per-host N"), and completions are as before.
func (c *countValue) Type() string { return "int" }
