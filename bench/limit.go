package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// goClient is the practical limit of workload a: C goroutines sharing one
// keep-alive transport, each body copied to io.Discard, in this process
// (so it also pays for the server, and writes no files). RSS and CPU are
// not reported: they would include the server's.
func goClient(ctx context.Context, j *job) (measurement, error) {
	m := measurement{MaxRSS: -1, CPU: -1, FirstRequest: -1}
	tr := &http.Transport{MaxIdleConnsPerHost: j.w.Conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var next, bytes atomic.Int64
	var firstErr error
	var once sync.Once
	fail := func(err error) { once.Do(func() { firstErr = err }) }
	j.srv.Reset()
	start := time.Now()
	var wg sync.WaitGroup
	for range j.w.Conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1) - 1)
				if n >= j.w.Count || ctx.Err() != nil {
					return
				}
				got, err := getDiscard(ctx, client, j.srv.URL(j.w.Size, n))
				if err != nil {
					fail(err)
					return
				}
				bytes.Add(got)
			}
		}()
	}
	wg.Wait()
	m.Wall = time.Since(start)
	st := j.srv.Stats()
	m.Requests, m.MaxConns, m.Accepted = st.Requests, st.MaxConns, st.Accepted
	m.FirstRequest = st.First.Sub(start)
	if err := ctx.Err(); err != nil {
		return m, err
	}
	if firstErr != nil {
		return m, firstErr
	}
	if want := j.w.totalBytes(); bytes.Load() != want {
		return m, fmt.Errorf("%w: received %d bytes, want %d", errVerify, bytes.Load(), want)
	}
	return m, nil
}

func getDiscard(ctx context.Context, client *http.Client, url string) (int64, error) {
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
