package input

import (
	"errors"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestFNV1a64MatchesHashFNV(t *testing.T) {
	for _, s := range []string{"", "a", "https://example.com/x", "é\x00\xff"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := fnv1a64(s), h.Sum64(); got != want {
			t.Errorf("fnv1a64(%q) = %x, want %x", s, got, want)
		}
	}
}

// TestShardStable pins the split: machines running different builds must
// agree on which shard a URL belongs to.
func TestShardStable(t *testing.T) {
	tests := []struct {
		url string
		n   int
		k   int
	}{
		// fnv1a64("") = 0xcbf29ce484222325: mod 3 = 2, mod 7 = 2.
		{"", 3, 3},
		{"", 7, 3},
		// fnv1a64("a") = 0xaf63dc4c8601ec8c: mod 5 = 1.
		{"a", 5, 2},
		// fnv1a64("https://example.com/x") = 0x046a4034057f4284: mod 4 = 0, mod 7 = 0.
		{"https://example.com/x", 4, 1},
		{"https://example.com/x", 7, 1},
	}
	for _, tt := range tests {
		for k := 1; k <= tt.n; k++ {
			if got := (Shard{K: k, N: tt.n}).Contains(tt.url); got != (k == tt.k) {
				t.Errorf("Shard{%d, %d}.Contains(%q) = %v, want %v", k, tt.n, tt.url, got, k == tt.k)
			}
		}
	}
}

// TestShardSameRequest: spellings of one request, which de-duplication
// fetches once, are in one shard, whatever N.
func TestShardSameRequest(t *testing.T) {
	for _, spellings := range [][]string{
		{"http://example.com/a.txt", "http://example.com/a.txt#frag", "HTTP://Example.COM/a.txt"},
		{"https://example.com/x", "HTTPS://EXAMPLE.com/x#top"},
	} {
		for n := 2; n <= 7; n++ {
			var shards []int
			for _, u := range spellings {
				for k := 1; k <= n; k++ {
					if (Shard{K: k, N: n}).Contains(u) {
						shards = append(shards, k)
					}
				}
			}
			if len(shards) != len(spellings) || slices.Min(shards) != slices.Max(shards) {
				t.Errorf("N=%d: %q fall in shards %v, want one shard each, the same", n, spellings, shards)
			}
		}
	}
}

func TestShardPartition(t *testing.T) {
	const total = 100000
	urls := make([]string, total)
	for i := range urls {
		urls[i] = "https://cdn" + strconv.Itoa(i%13) + ".example.com/data/part-" + strconv.Itoa(i) + ".bin"
	}
	for n := 1; n <= 7; n++ {
		sizes := make([]int, n)
		for _, u := range urls {
			in := 0
			for k := 1; k <= n; k++ {
				if (Shard{K: k, N: n}).Contains(u) {
					in++
					sizes[k-1]++
				}
			}
			if in != 1 {
				t.Fatalf("N=%d: %q is in %d shards, want 1", n, u, in)
			}
		}
		mean := float64(total) / float64(n)
		for k, size := range sizes {
			if d := float64(size) - mean; d > mean*0.05 || d < -mean*0.05 {
				t.Errorf("N=%d: shard %d has %d items, more than 5%% off the mean %.0f", n, k+1, size, mean)
			}
		}
	}
}

func TestShardZeroContainsAll(t *testing.T) {
	for _, u := range []string{"", "x", "https://example.com/"} {
		if !(Shard{}).Contains(u) {
			t.Errorf("Shard{}.Contains(%q) = false", u)
		}
	}
}

func TestParseShard(t *testing.T) {
	env := func(v string, set bool) func(string) string {
		return func(k string) string {
			if k == ShardIndexEnv && set {
				return v
			}
			return ""
		}
	}
	unset := env("", false)
	tests := []struct {
		spec   string
		getenv func(string) string
		want   Shard
		msg    string // substring of the error, "" for none
	}{
		{"1/1", unset, Shard{1, 1}, ""},
		{"1/4", unset, Shard{1, 4}, ""},
		{"4/4", unset, Shard{4, 4}, ""},
		{"12/100", unset, Shard{12, 100}, ""},
		{"auto/4", env("0", true), Shard{1, 4}, ""},
		{"auto/4", env("3", true), Shard{4, 4}, ""},
		{"0/4", unset, Shard{}, "K must be a whole number from 1 to 4"},
		{"5/4", unset, Shard{}, "K must be a whole number from 1 to 4"},
		{"-1/4", unset, Shard{}, "K must"},
		{"+1/4", unset, Shard{}, "K must"},
		{"1/0", unset, Shard{}, "N must be a whole number of shards, at least 1"},
		{"1/x", unset, Shard{}, "N must"},
		{"1/", unset, Shard{}, "N must"},
		{"1/99999999999999999999", unset, Shard{}, "N must"},
		{"", unset, Shard{}, "want K/N"},
		{"3", unset, Shard{}, "want K/N"},
		{" 1/2", unset, Shard{}, "K must"},
		{"1/2/3", unset, Shard{}, "N must"},
		{"AUTO/4", env("0", true), Shard{}, "K must"},
		{"auto/4", unset, Shard{}, "JOB_COMPLETION_INDEX is not set"},
		{"auto/4", env("4", true), Shard{}, `JOB_COMPLETION_INDEX="4" is not an index from 0 to 3`},
		{"auto/4", env("-1", true), Shard{}, "JOB_COMPLETION_INDEX"},
		{"auto/4", env("one", true), Shard{}, "JOB_COMPLETION_INDEX"},
		{"auto/0", env("0", true), Shard{}, "N must"},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.spec, tt.getenv)
		if tt.msg == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseShard(%q) = %v, %v, want %v", tt.spec, got, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseShard(%q) = %v, want an error", tt.spec, got)
			continue
		}
		if !errors.Is(err, ErrInvalidShard) || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "--shard") {
			t.Errorf("ParseShard(%q) error %q, want ErrInvalidShard mentioning --shard and %q", tt.spec, err, tt.msg)
		}
	}
}

func TestShardString(t *testing.T) {
	if s := (Shard{2, 5}).String(); s != "2/5" {
		t.Errorf("String() = %q", s)
	}
	if s := (Shard{}).String(); s != "" {
		t.Errorf("zero String() = %q", s)
	}
}
