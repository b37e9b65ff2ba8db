package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/fetchpool/fetchpool/pkg/input"
)

// fetcherFunc adapts a function to Fetcher.
type fetcherFunc func(ctx context.Context, req fetch.Request) (fetch.Result, error)

func (f fetcherFunc) Fetch(ctx context.Context, req fetch.Request) (fetch.Result, error) {
	return f(ctx, req)
}

// TestRunFetcherStoppedOnItsOwn: a Fetcher may end an item as not started
// or not retried for a stop of its own, not Run's: a wrapper that gives
// the Client a Request.Stop of the program's (a shutdown of its own, a
// deadline for the wait at the gate). Run waited for a shutdown of its
// own to be told first, one that never came: the worker, and Run, hung
// for good. Such an item ends canceled, and the run goes on.
func TestRunFetcherStoppedOnItsOwn(t *testing.T) {
	for _, sentinel := range []error{fetch.ErrNotStarted, fetch.ErrStopped} {
		t.Run(sentinel.Error(), func(t *testing.T) {
			own, stopOwn := context.WithCancel(context.Background())
			stopOwn()
			client, err := fetch.New(fetch.Config{})
			if err != nil {
				t.Fatal(err)
			}
			f := fetcherFunc(func(ctx context.Context, req fetch.Request) (fetch.Result, error) {
				if req.URL == "http://example.test/ok" {
					return fetch.Result{Path: req.Path, Attempts: 1, HTTPStatus: 200}, nil
				}
				req.Stop = own
				_, err := client.Fetch(ctx, req)
				if !errors.Is(err, sentinel) {
					// The Client withdraws an item whose Stop is done
					// before it begins (ErrNotStarted); the other is
					// what it says once a request was sent.
					return fetch.Result{}, fmt.Errorf("stopping on its own: %w", sentinel)
				}
				return fetch.Result{}, err
			})
			rec := &recorder{}
			done := make(chan error, 1)
			go func() {
				done <- Run(context.Background(), nil, input.NewReader([]string{"http://example.test/a", "http://example.test/ok"}, nil), f,
					Options{OutputDir: t.TempDir(), Emit: rec.emit})
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run still running after 5s: it waits for a shutdown that never began")
			}
			res := rec.results()
			if len(res[event.StatusCanceled]) != 1 || len(res[event.StatusOK]) != 1 {
				t.Errorf("results %v, want one canceled and one ok", res)
			}
			if n := rec.count(event.Draining); n != 0 {
				t.Errorf("%d Draining events for a run that was not shut down", n)
			}
		})
	}
}

// TestRunCtxStopsRunWithOwnStop: a program that passes Run a stop that is
// not ctx's child (context.Background(), say, for no graceful shutdown)
// and cancels ctx expects Run to end. It went on waiting for the next
// line of an input that stays open (a pipe, standard input), for reading
// stopped only with stop: Run never returned. Cancelling ctx now stops the
// reading too, as it aborts the transfers.
func TestRunCtxStopsRunWithOwnStop(t *testing.T) {
	for _, stop := range []context.Context{context.Background(), nil} {
		pr, pw := io.Pipe()
		defer pw.Close()
		ctx, cancel := context.WithCancel(context.Background())
		f := &fakeFetcher{}
		rec := &recorder{}
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, stop, input.NewReader(nil, []input.Source{{Name: "-", R: pr}}), f,
				Options{OutputDir: t.TempDir(), Emit: rec.emit})
		}()
		if _, err := io.WriteString(pw, "http://example.test/a\n"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the first item to end", func() bool { return rec.count(event.Finished) == 1 })
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("stop %v: Run still running 5s after its ctx was cancelled: it waits for input", stop)
		}
	}
}
