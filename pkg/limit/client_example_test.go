package limit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/limit"
)

// A run's limits go into the fetch.Config of its Client, which every
// transfer passes through: here at most one request at a time to a host,
// at most 100 requests a second, and 1 MiB/s over all the bodies. The
// limits belong to the Client: another Client, with its own, is not held
// back by these.
func Example() {
	var inFlight, most atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		fmt.Fprintf(w, "contents of %s\n", r.URL.Path)
	}))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)

	client, err := fetch.New(fetch.Config{
		Concurrency: 3,
		Gate:        limit.NewGate(rate.Limit(100), 1, 1),
		Throttle:    limit.NewBandwidth(1 << 20), // nil, no cap, for 0
	})
	if err != nil {
		panic(err)
	}
	defer client.CloseIdleConnections()

	var wg sync.WaitGroup
	for _, name := range []string{"a.txt", "b.txt", "c.txt"} {
		wg.Go(func() {
			req := fetch.Request{URL: srv.URL + "/" + name, Path: filepath.Join(dir, name)}
			if _, err := client.Fetch(context.Background(), req); err != nil {
				fmt.Println(err)
			}
		})
	}
	wg.Wait()
	fmt.Println("most requests at once to the host:", most.Load())
	b, _ := os.ReadFile(filepath.Join(dir, "c.txt"))
	fmt.Print(string(b))
	// Output:
	// most requests at once to the host: 1
	// contents of /c.txt
}
