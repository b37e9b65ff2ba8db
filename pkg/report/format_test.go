package report

import (
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
)

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{-5, "0 B"},
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1048575, "1.0 MiB"}, // rounds up into the next unit, not "1024.0 KiB"
		{14889779, "14.2 MiB"},
		{3 << 30, "3.0 GiB"},
		{5 << 40, "5.0 TiB"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := humanRate(4.6 * (1 << 20)); got != "4.6 MiB/s" {
		t.Errorf("humanRate = %q", got)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0ms"},
		{0, "0ms"},
		{42 * time.Millisecond, "42ms"},
		{400 * time.Millisecond, "0.4s"},
		{3140 * time.Millisecond, "3.1s"},
		{9960 * time.Millisecond, "10.0s"},
		{42 * time.Second, "42s"},
		{59600 * time.Millisecond, "60s"},
		{185 * time.Second, "3m05s"},
		{3720 * time.Second, "1h02m"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestTruncMiddle(t *testing.T) {
	tests := []struct {
		s    string
		w    int
		want string
	}{
		{"short.bin", 20, "short.bin"},
		{"a-very-long-file-name.tar.gz", 12, "a-ver…tar.gz"},
		{"abcdef", 1, "…"},
		{"abcdef", 0, ""},
		{"日本語のファイル名.txt", 10, "日本….txt"}, // wide runes count two columns
	}
	for _, tt := range tests {
		got := truncMiddle(tt.s, tt.w)
		if got != tt.want {
			t.Errorf("truncMiddle(%q, %d) = %q, want %q", tt.s, tt.w, got, tt.want)
		}
		if width(got) > max(tt.w, 0) {
			t.Errorf("truncMiddle(%q, %d) = %q is %d columns wide", tt.s, tt.w, got, width(got))
		}
	}
	if got := truncEnd("status line that is long", 10); got != "status li…" {
		t.Errorf("truncEnd = %q", got)
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://x/ok", "https://x/ok"},
		{"evil\x1b[2Jname", "evil?[2Jname"},
		// A TAB shown as "?" made "a.txt<TAB>x" look like a query "a.txt?x".
		{"tab\there", `tab\there`},
		{"a.txt\tx\ty", `a.txt\tx\ty`},
		{"\t\x1b[2J\t", `\t?[2J\t`},
		{"c1\u009bx", "c1?x"},
		{"bad\xffutf8", "bad?utf8"},
		{"café", "café"},
		// A server's reason phrase or a list's URL must not reorder the
		// line it is shown in (a FAIL line reading "...exe.txt") nor start
		// a new one in a log viewer: bidi controls and line separators go
		// as in names (naming.Sanitize).
		{"HTTP 503 Busy \u202egpj.exe", "HTTP 503 Busy ?gpj.exe"},
		{"a\u2066b\u2069c\u200fd\u061ce", "a?b?c?d?e"},
		{"one\u2028ok   fake line\u2029", "one?ok   fake line?"},
		{"日本\u200d👩", "日本\u200d👩"}, // a joiner is text, not a control
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVisibleWidth(t *testing.T) {
	if got := visibleWidth("\x1b[1;31mFAIL\x1b[0m x"); got != 6 {
		t.Errorf("visibleWidth = %d, want 6", got)
	}
	if got := visibleWidth("\r\x1b[2K日本"); got != 4 {
		t.Errorf("visibleWidth = %d, want 4", got)
	}
}

func TestItemRef(t *testing.T) {
	tests := []struct {
		name string
		item input.Item
		want string
	}{
		{"from a list", item(3, "https://x/y"), "urls.txt:3 https://x/y"},
		{"argument", input.Item{URL: "https://x/y", Source: "arg", Line: 1}, "arg 1 https://x/y"},
		{"no source", input.Item{URL: "https://x/y"}, "https://x/y"},
		{"empty argument", input.Item{Source: "arg", Line: 2, Err: input.ErrEmptyItem}, "arg 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := itemRef(&event.Result{Item: tt.item}); got != tt.want {
				t.Errorf("itemRef = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestShownURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://user:secret@h/x", "http://user:xxxxx@h/x"},
		{"http://user@h/x", "http://user@h/x"},            // no password
		{"http://h/x?to=a@b", "http://h/x?to=a@b"},        // an @ elsewhere
		{"docs/a@b.txt", "docs/a@b.txt"},                  // a local path
		{"http://u:p@h/\x1b[2J", "http://u:xxxxx@h/?[2J"}, // cleaned too
		{"http://h/plain", "http://h/plain"},
	}
	for _, tt := range tests {
		if got := shownURL(tt.in); got != tt.want {
			t.Errorf("shownURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestVerboseAttemptSaysWhatItAsks: an attempt that asks for less than the
// whole file the usual way says what, after the URL.
func TestVerboseAttemptSaysWhatItAsks(t *testing.T) {
	it := item(1, "https://user:pw@example.com/big.iso")
	tests := []struct {
		ev   event.Event
		want string
	}{
		{event.Event{Kind: event.Attempt, Item: it, Attempt: 1}, "try 1 https://user:xxxxx@example.com/big.iso"},
		{event.Event{Kind: event.Attempt, Item: it, Attempt: 2, Message: "bytes 0-1023"}, "try 2 https://user:xxxxx@example.com/big.iso (bytes 0-1023)"},
		{event.Event{Kind: event.Attempt, Item: it, Attempt: 1, Message: "one stream\x1b[2J"}, "try 1 https://user:xxxxx@example.com/big.iso (one stream?[2J)"},
	}
	for _, tt := range tests {
		if got := verboseLine(tt.ev); got != tt.want {
			t.Errorf("verboseLine(%+v)\n= %q\nwant %q", tt.ev, got, tt.want)
		}
	}
}
