//go:build unix

package pool

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/report"
)

// smallFileServer serves size bytes at every path with the headers of a
// typical static file server (Content-Length, ETag, Last-Modified), and
// counts the connections it accepts.
func smallFileServer(b *testing.B, size int) (*httptest.Server, *atomic.Int64) {
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i * 7)
	}
	length := strconv.Itoa(size)
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Length"] = []string{length}
		h["Last-Modified"] = []string{"Mon, 02 Jan 2006 15:04:05 GMT"}
		h["Etag"] = []string{`"` + r.URL.Path + `"`}
		_, _ = w.Write(body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	b.Cleanup(srv.Close)
	return srv, &conns
}

// cpuTime is the user and system time of the process so far: the client's
// and the server's, which is steadier than wall time on a busy machine.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// listSource yields a fixed list of URLs as stdin items.
type listSource struct {
	urls []string
	next int
}

func (s *listSource) Next() (input.Item, error) {
	if s.next == len(s.urls) {
		return input.Item{}, io.EOF
	}
	s.next++
	return input.Item{URL: s.urls[s.next-1], Source: "-", Line: s.next}, nil
}

// BenchmarkRunSmallFiles is the per-item path of the binary on many small
// files, as in workload (a) of ./bench: pool.Run with 16 workers, a real
// fetch.Client and the sinks of `fetchpool -q` behind a Dispatcher, against
// a loopback server. One op is one 16 KiB file fetched into place; the
// whole of b.N is one run, and conns/run is how many connections it opened
// (ideally 16), and cpu-µs/op the CPU time of the process per file, server
// included. -benchtime=20000x is workload (a); run it with TMPDIR on a
// tmpfs to leave the disk out.
func BenchmarkRunSmallFiles(b *testing.B) {
	const size = 16 << 10
	srv, conns := smallFileServer(b, size)
	for _, hashing := range []bool{false, true} {
		name := "plain"
		if hashing {
			name = "sha256" // --json or --report
		}
		b.Run(name, func(b *testing.B) {
			urls := make([]string, b.N)
			for i := range urls {
				urls[i] = srv.URL + "/f/" + strconv.Itoa(size) + "/" + strconv.Itoa(i) + ".bin"
			}
			client, err := fetch.New(fetch.Config{
				Concurrency:  benchWorkers,
				UserAgent:    "fetchpool/bench",
				StallTimeout: time.Minute,
				Retries:      3,
				Hash:         hashing,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer client.CloseIdleConnections()
			dir := b.TempDir()
			before, cpu0 := conns.Load(), cpuTime(b)
			b.SetBytes(size)
			b.ReportAllocs()
			runQuiet(b, urls, client, dir)
			b.ReportMetric(float64(conns.Load()-before), "conns/run")
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			client.CloseIdleConnections()
		})
	}
}

// BenchmarkRunEngine is the pool's own cost per item, with the sinks of
// `fetchpool -q`: admission, naming, the queue, the workers and the events,
// around a fetcher that does nothing.
func BenchmarkRunEngine(b *testing.B) {
	urls := make([]string, b.N)
	for i := range urls {
		urls[i] = "http://127.0.0.1:1/f/16384/" + strconv.Itoa(i) + ".bin"
	}
	cpu0 := cpuTime(b)
	b.ReportAllocs()
	runQuiet(b, urls, nopFetcher{}, b.TempDir())
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// benchWorkers is -j of the benchmarks: workload (a) of ./bench.
const benchWorkers = 16

// runQuiet runs urls through f with benchWorkers workers and the sinks of
// `fetchpool -q`, timing only the run, and fails b unless every item is
// done.
func runQuiet(b *testing.B, urls []string, f Fetcher, dir string) {
	summary := report.NewSummary(time.Now())
	d := report.NewDispatcher(100*time.Millisecond, summary, report.NewPlain(io.Discard, report.PlainOptions{Quiet: true}))
	b.ResetTimer()
	err := Run(context.Background(), context.Background(), &listSource{urls: urls}, f,
		Options{Concurrency: benchWorkers, OutputDir: dir, Emit: d.Emit})
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if c := summary.Counts(); c.Done != b.N {
		b.Fatalf("%d of %d items done: %+v", c.Done, b.N, c)
	}
}
