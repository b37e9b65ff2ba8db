package report_test

import (
	"errors"
	"os"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/input"
	"github.com/fetchpool/fetchpool/pkg/report"
)

// A Dispatcher hands every event, in order, to each of its sinks from one
// goroutine; here plain log lines and JSON lines, both on standard output.
// A run emits the events (pool.Options.Emit); Close delivers the rest.
func ExampleDispatcher() {
	d := report.NewDispatcher(0, report.NewPlain(os.Stdout, report.PlainOptions{}), report.NewJSON(os.Stdout))

	ok := input.Item{URL: "https://example.com/a.bin", Source: "urls.txt", Line: 1}
	d.Emit(event.Event{Kind: event.Finished, Item: ok, Result: &event.Result{
		Item: ok, Seq: 1, Output: "out/a.bin", Status: event.StatusOK,
		Bytes: 2048, Size: 2048, HTTPStatus: 200, Attempts: 1, Duration: 1500 * time.Millisecond,
	}})
	bad := input.Item{URL: "https://example.com/b.bin", Source: "urls.txt", Line: 2}
	d.Emit(event.Event{Kind: event.Finished, Item: bad, Result: &event.Result{
		Item: bad, Seq: 2, Output: "out/b.bin", Status: event.StatusFailed,
		HTTPStatus: 404, Attempts: 1, Err: errors.New("HTTP 404 Not Found"),
	}})
	if err := d.Close(); err != nil {
		panic(err)
	}
	// Output:
	// ok   out/a.bin  2.0 KiB  1.5s
	// {"url":"https://example.com/a.bin","output":"out/a.bin","status":"ok","bytes":2048,"size":2048,"sha256":"","http_status":200,"attempts":1,"duration_ms":1500,"error":""}
	// FAIL urls.txt:2 https://example.com/b.bin: HTTP 404 Not Found
	// {"url":"https://example.com/b.bin","output":"out/b.bin","status":"failed","bytes":0,"size":0,"sha256":"","http_status":404,"attempts":1,"duration_ms":0,"error":"HTTP 404 Not Found"}
}
