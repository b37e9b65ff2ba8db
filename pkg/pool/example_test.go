package pool_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/pool"
	"github.com/fetchpool/fetchpool/pkg/report"
)

// Another program can run a whole batch with the library: a Reader for the
// items, a fetch.Client for the transfers, and any sinks for the events.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "contents of %s\n", r.URL.Path)
	}))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)

	list := strings.NewReader(srv.URL + "/a.txt\n" + srv.URL + "/b.txt\tnamed/b.txt\n" + srv.URL + "/missing\n")
	items := input.NewReader(nil, []input.Source{{Name: "list.txt", R: list}})
	client, err := fetch.New(fetch.Config{Concurrency: 4})
	if err != nil {
		panic(err)
	}
	// Its keep-alive connections outlive the run unless they are closed.
	defer client.CloseIdleConnections()

	// Sinks are called from one goroutine; Summary counts and prints.
	summary := report.NewSummary(time.Now())
	failures := sinkFunc(func(ev event.Event) {
		if ev.Kind == event.Finished && ev.Result.Status == event.StatusFailed {
			fmt.Printf("%s failed: %v\n", ev.Item.Where(), ev.Result.Err)
		}
	})
	events := report.NewDispatcher(0, summary, failures)

	ctx := context.Background()
	err = pool.Run(ctx, ctx, items, client, pool.Options{Concurrency: 4, OutputDir: dir, Emit: events.Emit})
	events.Close()
	if err != nil {
		panic(err)
	}
	c := summary.Counts()
	fmt.Printf("done %d, failed %d\n", c.Done, c.Failed)
	b, _ := os.ReadFile(filepath.Join(dir, "named", "b.txt"))
	fmt.Print(string(b))
	// Output:
	// list.txt:3 failed: HTTP 404 Not Found
	// done 2, failed 1
	// contents of /b.txt
}

// sinkFunc adapts a function to report.Sink.
type sinkFunc func(event.Event)

func (f sinkFunc) Handle(ev event.Event) { f(ev) }
