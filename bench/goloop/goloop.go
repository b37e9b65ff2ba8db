// Package goloop is the practical limit of the small-files workload: a
// tight loop of Go HTTP GETs over one keep-alive transport, each body
// discarded. The benchmark runs it in its own process (like every tool it
// measures) and in the benchmark's process (sharing the server's runtime).
package goloop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// Run fetches url(0) … url(count-1) with conc goroutines sharing one
// transport and returns the body bytes received. Any error, or a status
// other than 200 OK, stops the loop and is returned.
func Run(ctx context.Context, url func(n int) string, count, conc int) (int64, error) {
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
			for {
				n := int(next.Add(1) - 1)
				if n >= count || ctx.Err() != nil {
					return
				}
				got, err := get(ctx, client, url(n))
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

func get(ctx context.Context, client *http.Client, url string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, fmt.Errorf("reading %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("fetching %s: status %s", url, resp.Status)
	}
	return n, nil
}
