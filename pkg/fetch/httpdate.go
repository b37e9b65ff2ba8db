package fetch

import (
	"net/http"
	"time"
)

// parseHTTPDate parses an HTTP date like http.ParseTime. The form every
// current server sends, IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), is
// read by hand: time.Parse costs more than the rest of stamping a small
// file. Anything else goes to http.ParseTime.
func parseHTTPDate(s string) (time.Time, error) {
	if t, ok := parseIMFFixdate(s); ok {
		return t, nil
	}
	return http.ParseTime(s)
}

// parseIMFFixdate reads "Sun, 06 Nov 1994 08:49:37 GMT", or tells it is
// not one.
func parseIMFFixdate(s string) (time.Time, bool) {
	if len(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
		s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25:] != " GMT" {
		return time.Time{}, false
	}
	day, ok1 := digits(s[5:7])
	year, ok2 := digits(s[12:16])
	hour, ok3 := digits(s[17:19])
	minute, ok4 := digits(s[20:22])
	sec, ok5 := digits(s[23:25])
	month := monthOf(s[8:11])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || month == 0 ||
		!weekday(s[:3]) || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // 31 Feb: time.Parse refuses it too
	}
	// Like time.Parse, the weekday must be a name but need not be right.
	return t, true
}

// weekday tells whether s is a three-letter English weekday.
func weekday(s string) bool {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if d.String()[:3] == s {
			return true
		}
	}
	return false
}

// digits reads a run of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// monthOf is the month of a three-letter English abbreviation, or 0.
func monthOf(s string) time.Month {
	for m := time.January; m <= time.December; m++ {
		if m.String()[:3] == s {
			return m
		}
	}
	return 0
}
