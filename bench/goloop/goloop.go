// Package goloop is the practical limit of the small-files workload: a
// tight loop of Go HTTP GETs over one keep-alive transport, each body
// discarded or written to a file. The benchmark runs it in its own process
// (like every tool it measures) and in the benchmark's process (sharing the
// server's runtime).
package goloop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Run fetches url(0) … url(count-1) with conc goroutines sharing one
// transport and returns the body bytes received. Any error, or a status
// other than 200 OK, stops the loop and is returned.
//
// With dir "" each body is discarded. Otherwise it is written to a file in
// dir named after the last segment of its URL, in the fewest system calls
// a downloader can make: created (or truncated) under that name, written
// and closed, with no temporary name and no timestamps.
func Run(ctx context.Context, url func(n int) string, count, conc int, dir string) (int64, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var next, bytes atomic.Int64
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			buf := make([]byte, 32<<10) // one copy buffer per goroutine
			for {
				n := int(next.Add(1) - 1)
				if n >= count || ctx.Err() != nil {
					return
				}
				got, err := get(ctx, client, url(n), dir, buf)
				bytes.Add(got)
				if err != nil {
					once.Do(func() { firstErr = err })
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return bytes.Load(), firstErr
	}
	return bytes.Load(), ctx.Err()
}

func get(ctx context.Context, client *http.Client, url, dir string, buf []byte) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("fetching %s: status %s", url, resp.Status)
	}
	if dir == "" {
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil {
			return n, fmt.Errorf("reading %s: %w", url, err)
		}
		return n, nil
	}
	f, err := os.Create(filepath.Join(dir, path.Base(req.URL.Path)))
	if err != nil {
		return 0, err
	}
	// Hiding the file's ReadFrom makes the copy use buf: os.File's
	// ReadFrom would allocate 32 KiB per file.
	n, err := io.CopyBuffer(struct{ io.Writer }{f}, resp.Body, buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("saving %s: %w", url, err)
	}
	return n, nil
}
