package input

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseShard: a --shard spec either fails with ErrInvalidShard, naming
// the spec and the flag, or gives 1 ≤ K ≤ N that String writes back as a
// spec that parses to the same shard; and the URL falls in exactly that
// one of the N shards that its hash picks, whichever spelling of the
// request it is written in.
func FuzzParseShard(f *testing.F) {
	for _, s := range []struct{ spec, index, url string }{
		{"1/1", "", "https://example.com/a"},
		{"3/4", "", "HTTP://Example.COM:80/a#f"},
		{"auto/4", "3", "http://h/x"},
		{"auto/4", "4", "http://h/x"},
		{"auto/2", "01", "./local"},
		{"007/010", "", ""},
		{"0/0", "", "x"},
		{"999999999/999999999", "", "https://h:443/"},
		{"1/2/3", "", "file:///x"},
		{" 1/2", "-1", "https://u:p@H/"},
	} {
		f.Add(s.spec, s.index, s.url)
	}
	f.Fuzz(func(t *testing.T, spec, index, u string) {
		getenv := func(k string) string {
			if k == ShardIndexEnv {
				return index
			}
			return ""
		}
		s, err := ParseShard(spec, getenv)
		if err != nil {
			if !errors.Is(err, ErrInvalidShard) || !strings.Contains(err.Error(), "--shard") ||
				!strings.Contains(err.Error(), strconv.Quote(spec)) {
				t.Fatalf("ParseShard(%q) error %q: want ErrInvalidShard naming --shard and the spec", spec, err)
			}
			if s != (Shard{}) {
				t.Fatalf("ParseShard(%q) = %v with an error", spec, s)
			}
			return
		}
		if s.K < 1 || s.K > s.N {
			t.Fatalf("ParseShard(%q) = %+v: K not in 1..N", spec, s)
		}
		if back, err := ParseShard(s.String(), getenv); err != nil || back != s {
			t.Fatalf("ParseShard(%q) = %v; its String %q parses as %v, %v", spec, s, s.String(), back, err)
		}
		k := int(fnv1a64(sameRequest(u))%uint64(s.N)) + 1
		if !(Shard{K: k, N: s.N}).Contains(u) {
			t.Fatalf("%q is not in shard %d/%d, the one its hash picks", u, k, s.N)
		}
		if s.N > 1 {
			if other := k%s.N + 1; (Shard{K: other, N: s.N}).Contains(u) {
				t.Fatalf("%q is in shards %d/%d and %d/%d", u, k, s.N, other, s.N)
			}
		}
		if it, ok := ParseLine(u); ok && it.Err == nil && isHTTP(scheme(it.URL)) {
			if alt := respelled(it.URL); (Shard{K: k, N: s.N}).Contains(alt) != true {
				t.Fatalf("%q is in shard %d/%d but %q, the same request, is not", it.URL, k, s.N, alt)
			}
		}
	})
}

// respelled is another spelling of the same request as the http(s) URL
// u: scheme and host in upper case, a fragment added.
func respelled(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User != nil || p.Opaque != "" {
		return u
	}
	i := strings.Index(u, "://") + 3
	end := len(u)
	if j := strings.IndexAny(u[i:], "/?#"); j >= 0 {
		end = i + j
	}
	out := strings.ToUpper(u[:end]) + u[end:]
	if !strings.Contains(out, "#") {
		out += "#frag"
	}
	return out
}

// FuzzSameRequest: the de-duplication key of an http(s) URL that the input
// accepts is a URL for the same request (scheme, host and port, path and
// query), so that two different requests never collapse into one, and it
// is its own key.
func FuzzSameRequest(f *testing.F) {
	for _, s := range []string{
		"http://example.com/a", "HTTP://EXAMPLE.COM:80/a?b#c", "https://h:443", "https://h:/x",
		"http://u:P@H:8080/p", "http://[::1]:80/x", "http://[::1]/#", "https://H:0443/",
		"http://h?q=@x", "http://h#frag@x/", "http://%41/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		it, ok := ParseLine(line)
		if !ok || it.Err != nil || !isHTTP(scheme(it.URL)) {
			return
		}
		key := sameRequest(it.URL)
		if again := sameRequest(key); again != key {
			t.Fatalf("sameRequest(%q) = %q, whose own key is %q", it.URL, key, again)
		}
		a, errA := url.Parse(it.URL)
		b, errB := url.Parse(key)
		if errA != nil || errB != nil {
			t.Fatalf("%q (%v) -> %q (%v): no longer a URL", it.URL, errA, key, errB)
		}
		if !strings.EqualFold(a.Scheme, b.Scheme) || !strings.EqualFold(a.Hostname(), b.Hostname()) ||
			port(a) != port(b) || a.EscapedPath() != b.EscapedPath() || a.RawQuery != b.RawQuery ||
			a.User.String() != b.User.String() {
			t.Fatalf("sameRequest(%q) = %q: another request", it.URL, key)
		}
	})
}

// port is the port that u's request goes to.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return strings.TrimLeft(p, "0")
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
