package input

import (
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	const hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		item Item
		want string
	}{
		{"plain", Item{URL: "https://example.com/a?b=1&c=<d>"}, "https://example.com/a?b=1&c=<d>"},
		{"local", Item{URL: "./dir/a b.txt"}, "./dir/a b.txt"},
		{"name", Item{URL: "https://example.com/a", Name: "dir/b.txt"}, "https://example.com/a\tdir/b.txt"},
		{"sha256", Item{URL: "https://example.com/a", SHA256: hex}, `{"url":"https://example.com/a","sha256":"` + hex + `"}`},
		{"all", Item{URL: "https://example.com/a", Name: "b", SHA256: hex}, `{"url":"https://example.com/a","output":"b","sha256":"` + hex + `"}`},
		{"url like a comment", Item{URL: "#a"}, `{"url":"#a"}`},
		{"url like JSON", Item{URL: "{a}"}, `{"url":"{a}"}`},
		{"name with tab", Item{URL: "./a", Name: "b\tc"}, `{"url":"./a","output":"b\tc"}`},
		{"name with newline", Item{URL: "./a", Name: "b\nc"}, `{"url":"./a","output":"b\nc"}`},
		{"name with spaces around", Item{URL: "./a", Name: " b "}, `{"url":"./a","output":" b "}`},
		{"name like a comment", Item{URL: "./a", Name: "#b"}, "./a\t#b"},
		{"source and line ignored", Item{URL: "./a", Source: "x", Line: 3}, "./a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Format(tt.item)
			if got != tt.want {
				t.Errorf("Format(%+v) = %q, want %q", tt.item, got, tt.want)
			}
			back, ok := ParseLine(got)
			if !ok || back.Err != nil || back.URL != tt.item.URL || back.Name != tt.item.Name || back.SHA256 != tt.item.SHA256 {
				t.Errorf("ParseLine(%q) = %+v, %v, want the item back", got, back, ok)
			}
		})
	}
}

func TestFormatRoundTripsParsedLines(t *testing.T) {
	for _, line := range strings.Split(`https://example.com/a
HTTP://EXAMPLE.COM/b	name
{"url":"file:///x","output":"d/e","sha256":"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"}
{"url":"  {x}  ","output":" o\u2028 "}
./local	 #n`, "\n") {
		it, ok := ParseLine(line)
		if !ok || it.Err != nil {
			t.Fatalf("ParseLine(%q) = %+v", line, it)
		}
		back, _ := ParseLine(Format(it))
		if back != it {
			t.Errorf("%q: Format gives %q, which reads back as %+v, want %+v", line, Format(it), back, it)
		}
	}
}
