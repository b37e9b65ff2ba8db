package fetch

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// benchServer serves body at every path, with a Content-Length.
func benchServer(b *testing.B, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkFetch64MiB is one large transfer over loopback: the copy loop's
// throughput and its allocations (which should not grow with the size).
func BenchmarkFetch64MiB(b *testing.B) {
	for _, hashing := range []bool{false, true} {
		name := "plain"
		if hashing {
			name = "sha256"
		}
		b.Run(name, func(b *testing.B) {
			body := payload(64<<20, 40)
			srv := benchServer(b, body)
			cfg := testConfig()
			cfg.Hash = hashing
			c := newClient(b, cfg)
			dir := b.TempDir()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				path := filepath.Join(dir, "big"+strconv.Itoa(i))
				if _, err := c.Fetch(context.Background(), request(srv.URL, path, nil)); err != nil {
					b.Fatal(err)
				}
				// Gone before the next one: at -benchtime 2000x, 64 MiB a
				// file filled the disk.
				b.StopTimer()
				if err := os.Remove(path); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkFetchSmall is many 16 KiB files through one Client: the fixed
// cost per item (request, part, sidecar, rename) with keep-alive reuse.
func BenchmarkFetchSmall(b *testing.B) { benchmarkFetchSmall(b, false) }

// BenchmarkFetchSmallFresh is BenchmarkFetchSmall on the path the pool
// takes into an output directory that held nothing before the run: no
// part, sidecar or file to look for (NoPart, NoFile), a file without a
// name until it is whole, on Linux.
func BenchmarkFetchSmallFresh(b *testing.B) { benchmarkFetchSmall(b, true) }

func benchmarkFetchSmall(b *testing.B, fresh bool) {
	body := payload(16<<10, 41)
	srv := benchServer(b, body)
	c := newClient(b, testConfig())
	dir := b.TempDir()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		path := filepath.Join(dir, "f"+strconv.Itoa(i))
		req := request(srv.URL+"/f"+strconv.Itoa(i), path, nil)
		req.NoPart, req.NoFile = fresh, fresh
		if _, err := c.Fetch(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopyBody is the hot loop alone, from memory to a file: it must
// not allocate per read.
func BenchmarkCopyBody(b *testing.B) {
	c := newClient(b, testConfig())
	data := payload(8<<20, 42)
	f, err := openPart(filepath.Join(b.TempDir(), "x.part"), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	p := request("", "", nil).Progress
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.copyBody(context.Background(), f, 0, bytes.NewReader(data), -1, nil, p); err != nil {
			b.Fatal(err)
		}
	}
}
