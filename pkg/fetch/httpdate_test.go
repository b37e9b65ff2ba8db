package fetch

import (
	"net/http"
	"testing"
	"time"
)

func TestParseHTTPDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC), true},
		{"Mon, 06 Nov 1994 08:49:37 GMT", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC), true}, // weekday not checked, as time.Parse
		{"Wed, 29 Feb 2024 23:59:59 GMT", time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC), true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC), true}, // RFC 850, via http.ParseTime
		{"Sun Nov  6 08:49:37 1994", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC), true},       // asctime
		{"Thu, 29 Feb 2023 00:00:00 GMT", time.Time{}, false},
		{"Sun, 06 Nov 1994 24:00:00 GMT", time.Time{}, false},
		{"Sun, 06 Nov 1994 08:49:60 GMT", time.Time{}, false},
		{"Xyz, 06 Nov 1994 08:49:37 GMT", time.Time{}, false},
		{"Sun, 06 Nox 1994 08:49:37 GMT", time.Time{}, false},
		{"Sun, 0a Nov 1994 08:49:37 GMT", time.Time{}, false},
		{"Sun, 06 Nov 1994 08:49:37 UTC", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseHTTPDate(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseHTTPDate(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseHTTPDate checks that the hand-written fast path agrees with
// http.ParseTime on every input.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Thu, 29 Feb 2023 00:00:00 GMT", "Sat, 31 Dec 9999 23:59:59 GMT", "Sun, 00 Jan 0000 00:00:00 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotErr := parseHTTPDate(s)
		want, wantErr := http.ParseTime(s)
		if (gotErr == nil) != (wantErr == nil) || !got.Equal(want) {
			t.Fatalf("parseHTTPDate(%q) = %v, %v; http.ParseTime = %v, %v", s, got, gotErr, want, wantErr)
		}
	})
}

func BenchmarkParseHTTPDate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"); err != nil {
			b.Fatal(err)
		}
	}
}
