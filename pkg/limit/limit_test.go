package limit

import (
	"errors"
	"testing"

	"golang.org/x/time/rate"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		spec string
		want rate.Limit
	}{
		{"10", 10},
		{"10/s", 10},
		{"10/S", 10},
		{"600/m", 10},
		{"2/h", 2.0 / 3600},
		{"0.5/s", 0.5},
		{".5", 0.5},
		{"3.", 3},
		{" 7/m ", 7.0 / 60},
		{"unlimited", rate.Inf},
		{"Unlimited", rate.Inf},
		{"0", rate.Inf},
		{"0/m", rate.Inf},
		{"0.0/h", rate.Inf},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.spec)
		if err != nil {
			t.Errorf("ParseRate(%q): %v", tt.spec, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseRate(%q) = %v, want %v", tt.spec, got, tt.want)
		}
	}
}

func TestParseRateErrors(t *testing.T) {
	for _, spec := range []string{
		"", "abc", "-1", "+5", "10/", "/s", "10/x", "10/sec", "10/s/s",
		"1e3", "inf", "NaN", "0x10", "1_000", "1.2.3", ".", "10 /s",
	} {
		_, err := ParseRate(spec)
		if !errors.Is(err, ErrRate) {
			t.Errorf("ParseRate(%q) error = %v, want ErrRate", spec, err)
		}
	}
	_, err := ParseRate("abc")
	const want = `invalid --rate "abc": want a number of requests per second, minute or hour, like 10/s, 600/m or 2/h`
	if err == nil || err.Error() != want {
		t.Errorf("ParseRate(abc) error = %v, want %s", err, want)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		spec string
		want int64
	}{
		{"100", 100},
		{"100B", 100},
		{"0", 0},
		{"500K", 500 << 10},
		{"500k", 500 << 10},
		{"2M", 2 << 20},
		{"2m", 2 << 20},
		{"1.5G", 3 << 29},
		{"2MiB", 2 << 20},
		{"2mib", 2 << 20},
		{"2MB", 2 << 20},
		{"1KB", 1024},
		{"1KiB", 1024},
		{"0.5K", 512},
		{".5M", 512 << 10},
		{"1.0001", 1},
		{" 1K ", 1024},
		{"8191G", 8191 << 30},
	}
	for _, tt := range tests {
		got, err := ParseSize("--limit-rate", tt.spec)
		if err != nil {
			t.Errorf("ParseSize(%q): %v", tt.spec, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseSize(%q) = %d, want %d", tt.spec, got, tt.want)
		}
	}
}

func TestParseSizeErrors(t *testing.T) {
	for _, spec := range []string{
		"", "x", "K", "B", "iB", "2iB", "2IB", "-1", "+1", "1T", "1e3", "1KK",
		"1.5.5M", "1 K", "0x10", "inf", "8589934592G", "99999999999999999999",
	} {
		_, err := ParseSize("--split-min", spec)
		if !errors.Is(err, ErrSize) {
			t.Errorf("ParseSize(%q) error = %v, want ErrSize", spec, err)
		}
	}
	const want = `invalid --limit-rate "x": want bytes like 500K, 2M or 1G`
	for _, flag := range []string{"--limit-rate", "limit-rate"} {
		_, err := ParseSize(flag, "x")
		if err == nil || err.Error() != want {
			t.Errorf("ParseSize(%q, x) error = %v, want %s", flag, err, want)
		}
	}
}
