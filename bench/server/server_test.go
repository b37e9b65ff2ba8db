package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// get fetches url with an optional Range header on a fresh connection.
func get(t *testing.T, url, rng string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func content(size int64, n int) []byte {
	b, _ := io.ReadAll(NewReader(size, n))
	return b
}

func TestContentMatchesSum(t *testing.T) {
	s := start(t, Options{})
	tests := []struct {
		size int64
		n    int
	}{
		{0, 0}, {1, 0}, {16 << 10, 7}, {16 << 10, 8}, {patternLen + 12345, 3}, {3 << 20, 99},
	}
	seen := map[[32]byte]bool{}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size, "/", tt.n), func(t *testing.T) {
			resp, body := get(t, s.URL(tt.size, tt.n), "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if int64(len(body)) != tt.size || resp.ContentLength != tt.size {
				t.Fatalf("got %d bytes (Content-Length %d), want %d", len(body), resp.ContentLength, tt.size)
			}
			sum := Sum(tt.size, tt.n)
			if sha256.Sum256(body) != sum {
				t.Fatal("body does not hash to Sum")
			}
			if !bytes.Equal(body, content(tt.size, tt.n)) {
				t.Fatal("body differs from NewReader")
			}
			if tt.size > 0 && seen[sum] {
				t.Fatal("two files have the same content")
			}
			seen[sum] = true
		})
	}
}

func TestRange(t *testing.T) {
	s := start(t, Options{})
	const size = 1000
	whole := content(size, 5)
	tests := []struct {
		rng          string
		status       int
		contentRange string
		body         []byte
	}{
		{"bytes=0-9", 206, "bytes 0-9/1000", whole[:10]},
		{"bytes=990-", 206, "bytes 990-999/1000", whole[990:]},
		{"bytes=-5", 206, "bytes 995-999/1000", whole[995:]},
		{"bytes=500-5000", 206, "bytes 500-999/1000", whole[500:]},
		{"bytes=-5000", 206, "bytes 0-999/1000", whole},
		{"bytes=1000-", 416, "bytes */1000", nil},
		{"bytes=-0", 416, "bytes */1000", nil},
		{"bytes=9-2", 200, "", whole},
		{"bytes=0-1,5-6", 200, "", whole},
		{"items=0-1", 200, "", whole},
		{"bytes=x-1", 200, "", whole},
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			resp, body := get(t, s.URL(size, 5), tt.rng)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Content-Range"); got != tt.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tt.contentRange)
			}
			if tt.body != nil && !bytes.Equal(body, tt.body) {
				t.Errorf("body of %d bytes differs from the expected %d bytes", len(body), len(tt.body))
			}
		})
	}
}

func TestHeadAndNotFound(t *testing.T) {
	s := start(t, Options{})
	resp, err := http.Head(s.URL(1<<20, 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != 1<<20 || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("HEAD: status %d, length %d, Accept-Ranges %q", resp.StatusCode, resp.ContentLength, resp.Header.Get("Accept-Ranges"))
	}
	for _, path := range []string{"/", "/f/10", "/f/10/x.bin", "/f/-1/1.bin", "/f/10/01.bin", "/g/10/1.bin"} {
		resp, _ := get(t, "http://"+s.Addr()+path, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestLatency(t *testing.T) {
	const latency = 150 * time.Millisecond
	s := start(t, Options{Latency: latency})
	begin := time.Now()
	resp, _ := get(t, s.URL(16, 1), "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if took := time.Since(begin); took < latency {
		t.Errorf("request took %v, want at least the latency %v", took, latency)
	}
}

// TestConnRate checks that the cap slows one connection down, and that it is
// per connection: four connections at once finish sooner than any cap shared
// by the four could allow.
func TestConnRate(t *testing.T) {
	const (
		rate = 4 << 20
		size = 2 << 20
	)
	nominal := time.Duration(float64(size) / rate * float64(time.Second))
	// A chunk and pacerLag's worth of catching up may go out early.
	floor := nominal - time.Duration(float64(throttledChunk)/rate*float64(time.Second)) - pacerLag
	s := start(t, Options{ConnRate: rate})

	begin := time.Now()
	if _, body := get(t, s.URL(size, 1), ""); len(body) != size {
		t.Fatalf("got %d bytes", len(body))
	}
	if took := time.Since(begin); took < floor {
		t.Errorf("one connection took %v, want at least %v", took, floor)
	}

	begin = time.Now()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, body := get(t, s.URL(size, i), "bytes=0-"); len(body) != size {
				t.Errorf("got %d bytes", len(body))
			}
		}()
	}
	wg.Wait()
	took := time.Since(begin)
	if took < floor {
		t.Errorf("four connections took %v, want at least %v", took, floor)
	}
	if shared := 4*nominal - pacerLag; took >= shared {
		t.Errorf("four connections took %v; a cap shared by them would take %v, a per-connection cap about %v", took, shared, nominal)
	}
	if st := s.Stats(); st.MaxConns < 4 || st.Accepted != 5 {
		t.Errorf("MaxConns = %d, Accepted = %d; want at least 4 and 5", st.MaxConns, st.Accepted)
	}
}

func TestStats(t *testing.T) {
	s := start(t, Options{})
	if st := s.Stats(); !st.First.IsZero() || st.Requests != 0 {
		t.Fatalf("fresh server: %+v", st)
	}
	before := time.Now()
	get(t, s.URL(100, 1), "")
	get(t, s.URL(100, 2), "bytes=0-9")
	st := s.Stats()
	if st.Requests != 2 || st.Bytes != 110 || st.First.Before(before) {
		t.Errorf("stats %+v, want 2 requests, 110 bytes, first after %v", st, before)
	}
	s.Reset()
	if st := s.Stats(); !st.First.IsZero() || st.Requests != 0 || st.Bytes != 0 {
		t.Errorf("after Reset: %+v", st)
	}
}

func TestParseName(t *testing.T) {
	tests := []struct {
		name string
		n    int
		ok   bool
	}{
		{"0.bin", 0, true}, {"123.bin", 123, true}, {Name(42), 42, true},
		{"01.bin", 0, false}, {"1.bin.part", 0, false}, {"1.bin.aria2", 0, false},
		{".bin", 0, false}, {"-1.bin", 0, false}, {"x.bin", 0, false}, {"12345678901.bin", 0, false},
	}
	for _, tt := range tests {
		n, ok := ParseName(tt.name)
		if n != tt.n || ok != tt.ok {
			t.Errorf("ParseName(%q) = %d, %v; want %d, %v", tt.name, n, ok, tt.n, tt.ok)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=10-", "bytes=0-1,2-3", "bytes=9-2", "bytes= 1-2"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, spec string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		start, length, res := ParseRange(spec, size)
		if res != RangeOK {
			if start != 0 || length != 0 {
				t.Fatalf("%q: result %d with start %d length %d", spec, res, start, length)
			}
			return
		}
		if start < 0 || length <= 0 || start+length > size || start+length < start {
			t.Fatalf("%q on %d bytes: start %d length %d outside the file", spec, size, start, length)
		}
	})
}

func BenchmarkServe16K(b *testing.B) {
	s, err := Start(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	url := s.URL(16<<10, 1)
	b.ReportAllocs()
	b.SetBytes(16 << 10)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
