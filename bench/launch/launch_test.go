package launch

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestReportRoundTrip(t *testing.T) {
	tests := []Report{
		{Start: time.Unix(0, 1700000000123456789), Wall: 1500 * time.Millisecond, MaxRSS: 11 << 20, CPU: 90 * time.Millisecond},
		{Start: time.Unix(0, 1), Wall: 1, MaxRSS: -1, CPU: -1, Exit: `exit status 22 "quoted" and spaces`},
	}
	for _, want := range tests {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		if code := write(w, want, 3); code != 3 {
			t.Errorf("write returned %d, want the exit code 3", code)
		}
		w.Close()
		buf := make([]byte, 4096)
		n, _ := r.Read(buf)
		r.Close()
		got, err := Parse(string(buf[:n]))
		if err != nil {
			t.Fatalf("Parse(%q): %v", buf[:n], err)
		}
		if !got.Start.Equal(want.Start) || got.Wall != want.Wall || got.MaxRSS != want.MaxRSS || got.CPU != want.CPU || got.Exit != want.Exit {
			t.Errorf("round trip: got %+v, want %+v", got, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, line := range []string{"", "1 2 3", "1 2 3 4 unquoted", "x 2 3 4 \"\""} {
		if _, err := Parse(line); !errors.Is(err, ErrNoReport) {
			t.Errorf("Parse(%q) = %v, want ErrNoReport", line, err)
		}
	}
}
