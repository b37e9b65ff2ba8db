package pool

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/report"
)

// TestRunLeavesNothingBehind is a program that embeds the packages: a run
// with a real fetch.Client (split ranges, a bandwidth cap, a gate) and a
// report.Dispatcher, aborted while transfers are in flight. Once Run has
// returned, the Dispatcher is closed and the Client's idle connections
// too, no goroutine of theirs is left (nor of the server's side of the
// connections), and no file is left open.
func TestRunLeavesNothingBehind(t *testing.T) {
	openFiles := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			return -1 // no /proc: not counted
		}
		return len(ents)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // 256 KiB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/slow") {
			fmt.Fprintf(w, "small %s\n", r.URL.Path)
			return
		}
		// Ranges, for the split; slowly, so the abort finds it in flight.
		http.ServeContent(w, r, "", time.Unix(0, 0), &slowReader{r: bytes.NewReader(big), ctx: r.Context()})
	}))
	defer srv.Close()
	beforeGoroutines, beforeFiles := runtime.NumGoroutine(), openFiles()

	client, err := fetch.New(fetch.Config{Concurrency: 3, Split: 2, SplitMin: 64 << 10, StallTimeout: 10 * time.Second,
		Throttle: limitless{}, Hash: true})
	if err != nil {
		t.Fatal(err)
	}
	summary := report.NewSummary(time.Now())
	events := report.NewDispatcher(10*time.Millisecond, summary, report.NewPlain(&bytes.Buffer{}, report.PlainOptions{Verbose: true}))
	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	stop, stopNow := context.WithCancel(ctx)
	defer stopNow()
	var slowStarted atomic.Int64
	emit := func(ev event.Event) {
		events.Emit(ev)
		if ev.Kind == event.Attempt && strings.Contains(ev.Item.URL, "/slow") && slowStarted.Add(1) == 2 {
			stopNow()
			abort()
		}
	}
	list := ""
	for i := range 4 {
		list += fmt.Sprintf("%s/small%d.txt\n%s/slow%d.bin\n", srv.URL, i, srv.URL, i)
	}
	items := input.NewReader(nil, []input.Source{{Name: "list.txt", R: strings.NewReader(list)}})
	if err := Run(ctx, stop, items, client, Options{Concurrency: 3, OutputDir: t.TempDir(), Emit: emit, PerHost: 2}); err != nil {
		t.Fatal(err)
	}
	if err := events.Close(); err != nil {
		t.Fatal(err)
	}
	if c := summary.Counts(); c.Canceled+c.NotStarted == 0 {
		t.Fatalf("counts %+v: the run was not aborted midway", c)
	}
	client.CloseIdleConnections()

	// The server's goroutines of its connections end once the client closed
	// them: the server is left open, so that they count too.
	waitFor(t, "the run's goroutines to end", func() bool { return runtime.NumGoroutine() <= beforeGoroutines })
	// A connection may be closed a moment after the goroutine that used
	// it is gone: on a busy machine the count is looked at until it is
	// back, or a file is left open for good.
	waitFor(t, "the run's files to be closed", func() bool { return openFiles() <= beforeFiles })
}

// slowReader yields its bytes 16 KiB at a time, 20ms apart, until ctx is
// done.
type slowReader struct {
	r   *bytes.Reader
	ctx context.Context
}

func (s *slowReader) Read(p []byte) (int, error) {
	select {
	case <-s.ctx.Done():
		return 0, s.ctx.Err()
	case <-time.After(20 * time.Millisecond):
	}
	return s.r.Read(p[:min(len(p), 16<<10)])
}

func (s *slowReader) Seek(off int64, whence int) (int64, error) { return s.r.Seek(off, whence) }

// limitless is a fetch.Throttle that lets everything through, so that the
// run takes the throttled path of a transfer.
type limitless struct{}

func (limitless) Reader(_ context.Context, r io.Reader) io.Reader { return r }
