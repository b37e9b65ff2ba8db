package main

import (
	"context"
	"fmt"
	"time"

	"github.com/fetchpool/fetchpool/bench/goloop"
)

// goClient is the practical limit of workload a run in this process: the
// loop of package goloop shares the server's runtime, so it pays no
// wake-up of another process, and it writes no files. RSS and CPU are not
// reported: they would include the server's.
func goClient(ctx context.Context, j *job) (measurement, error) {
	m := measurement{MaxRSS: -1, CPU: -1, FirstRequest: -1}
	j.srv.Reset()
	start := time.Now()
	got, err := goloop.Run(ctx, func(n int) string { return j.srv.URL(j.w.Size, n) }, j.w.Count, j.w.Conc, "")
	m.Wall = time.Since(start)
	st := j.srv.Stats()
	m.Requests, m.MaxConns, m.Accepted = st.Requests, st.MaxConns, st.Accepted
	m.FirstRequest = st.First.Sub(start)
	if err != nil {
		return m, err
	}
	if want := j.w.totalBytes(); got != want {
		return m, fmt.Errorf("%w: received %d bytes, want %d", errVerify, got, want)
	}
	return m, nil
}
