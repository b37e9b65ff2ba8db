package input

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidShard is returned by ParseShard for a spec it cannot use.
var ErrInvalidShard = errors.New("invalid --shard")

// ShardIndexEnv is the variable that "--shard auto/N" reads: the 0-based
// index that a Kubernetes Indexed Job gives each of its pods.
const ShardIndexEnv = "JOB_COMPLETION_INDEX"

// Shard selects one of N shards of the input: an item belongs to shard K
// (1-based) when the FNV-1a 64 hash of its URL string, mod N, is K-1. The
// hash is of the URL as written, except that an http(s) URL is taken as
// the request it makes, as by Seen (no #fragment, scheme and host in lower
// case): so every machine that reads the same list agrees on the split, and
// two spellings of one request, which one run fetches once, fall in one
// shard. The zero value (N == 0) selects everything. K is 1-based: make a
// Shard with ParseShard, or with 1 ≤ K ≤ N (pool.Run refuses any other).
type Shard struct{ K, N int }

// Contains reports whether the item with this URL belongs to the shard.
func (s Shard) Contains(url string) bool {
	if s.N <= 0 {
		return true
	}
	return fnv1a64(sameRequest(url))%uint64(s.N) == uint64(s.K-1)
}

// String returns the shard as "K/N", or "" for the zero value.
func (s Shard) String() string {
	if s.N <= 0 {
		return ""
	}
	return strconv.Itoa(s.K) + "/" + strconv.Itoa(s.N)
}

// fnv1a64 is hash/fnv's New64a without the allocation of a hash.Hash64.
func fnv1a64(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

// ParseShard parses the --shard flag: "K/N" with 1 ≤ K ≤ N, or "auto/N",
// where K is one more than the 0-based index in the JOB_COMPLETION_INDEX
// variable, read through getenv. Errors wrap ErrInvalidShard and are worded
// for the flag.
func ParseShard(spec string, getenv func(string) string) (Shard, error) {
	ks, ns, found := strings.Cut(spec, "/")
	if !found {
		return Shard{}, fmt.Errorf("%w %q: want K/N (this machine's shard K of N, 1 ≤ K ≤ N) or auto/N", ErrInvalidShard, spec)
	}
	n, ok := count(ns)
	if !ok || n < 1 {
		return Shard{}, fmt.Errorf("%w %q: N must be a whole number of shards, at least 1", ErrInvalidShard, spec)
	}
	if ks == "auto" {
		return autoShard(spec, n, getenv)
	}
	k, ok := count(ks)
	if !ok || k < 1 || k > n {
		return Shard{}, fmt.Errorf("%w %q: K must be a whole number from 1 to %d", ErrInvalidShard, spec, n)
	}
	return Shard{K: k, N: n}, nil
}

func autoShard(spec string, n int, getenv func(string) string) (Shard, error) {
	v := getenv(ShardIndexEnv)
	if v == "" {
		return Shard{}, fmt.Errorf("%w %q: %s is not set (a Kubernetes Indexed Job sets it; elsewhere give K/N)",
			ErrInvalidShard, spec, ShardIndexEnv)
	}
	i, ok := count(v)
	if !ok || i >= n {
		return Shard{}, fmt.Errorf("%w %q: %s=%q is not an index from 0 to %d",
			ErrInvalidShard, spec, ShardIndexEnv, v, n-1)
	}
	return Shard{K: i + 1, N: n}, nil
}

// count parses a non-negative decimal number made only of digits.
func count(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
