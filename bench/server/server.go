// Package server is the benchmark's loopback HTTP server: synthetic files with
// deterministic content, optional per-request latency, an optional bandwidth
// cap per TCP connection, and single-range requests.
//
// File n of size bytes lives at /f/SIZE/N.bin (see Path). Its content is a
// slice of a fixed pseudo-random pattern chosen by (size, n), so a client's
// output can be checked with Sum or NewReader without storing anything.
package server

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// maxSize bounds the size in a URL, so a typo cannot ask for an endless body.
const maxSize = 1 << 40

// lastModified is the fixed Last-Modified date of every file.
var lastModified = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Format(http.TimeFormat)

// Options shape every response of a Server.
type Options struct {
	// Latency is waited before the response headers of every request, to
	// model the round trip to a remote server.
	Latency time.Duration
	// ConnRate caps each TCP connection at this many bytes per second (0 =
	// no cap), to model a CDN that throttles per connection: parallel range
	// requests on separate connections each get the full cap.
	ConnRate int64
}

// Stats are the counters of a Server since its last Reset.
type Stats struct {
	// Requests is the number of file requests received.
	Requests int64
	// Bytes is the number of body bytes written.
	Bytes int64
	// First is when the first file request arrived (zero if none did).
	First time.Time
	// MaxConns is the largest number of connections open at once.
	MaxConns int64
	// Accepted is the number of connections opened; far more than the
	// concurrency means the client does not reuse its connections.
	Accepted int64
}

// Server is a running loopback server. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	ln   net.Listener
	srv  *http.Server
	done chan struct{}

	requests atomic.Int64
	bytes    atomic.Int64
	first    atomic.Int64 // UnixNano of the first request since Reset, 0 if none
	conns    atomic.Int64
	maxConns atomic.Int64
	accepted atomic.Int64
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Latency < 0 || opts.ConnRate < 0 {
		return nil, fmt.Errorf("starting the bench server: latency and rate must not be negative")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the bench server: %w", err)
	}
	return Serve(ln, opts), nil
}

// Serve serves on ln until Close.
func Serve(ln net.Listener, opts Options) *Server {
	s := &Server{opts: opts, ln: ln, done: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnContext:       s.connContext,
		ConnState:         s.connState,
		// Clients killed mid-transfer make the server log broken pipes.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	pattern() // build the table before the first request is timed
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the full URL of synthetic file n of size bytes.
func (s *Server) URL(size int64, n int) string {
	return "http://" + s.Addr() + Path(size, n)
}

// Close stops the server and closes every connection.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// Reset zeroes the counters; MaxConns restarts from the connections open now.
func (s *Server) Reset() {
	s.requests.Store(0)
	s.bytes.Store(0)
	s.first.Store(0)
	s.accepted.Store(0)
	s.maxConns.Store(s.conns.Load())
}

// Stats returns the counters since the last Reset.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests: s.requests.Load(),
		Bytes:    s.bytes.Load(),
		MaxConns: s.maxConns.Load(),
		Accepted: s.accepted.Load(),
	}
	if ns := s.first.Load(); ns != 0 {
		st.First = time.Unix(0, ns)
	}
	return st
}

type pacerKey struct{}

func (s *Server) connContext(ctx context.Context, _ net.Conn) context.Context {
	if s.opts.ConnRate <= 0 {
		return ctx
	}
	p := &pacer{rate: s.opts.ConnRate}
	p.next.Store(time.Now().UnixNano())
	return context.WithValue(ctx, pacerKey{}, p)
}

func (s *Server) connState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.accepted.Add(1)
		n := s.conns.Add(1)
		for {
			m := s.maxConns.Load()
			if n <= m || s.maxConns.CompareAndSwap(m, n) {
				return
			}
		}
	case http.StateClosed, http.StateHijacked:
		s.conns.Add(-1)
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	size, n, ok := parsePath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.requests.Add(1)
	s.first.CompareAndSwap(0, time.Now().UnixNano())
	if err := wait(r.Context(), s.opts.Latency); err != nil {
		return
	}

	h := w.Header()
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Last-Modified", lastModified)
	h.Set("ETag", `"`+strconv.FormatInt(size, 36)+"-"+strconv.Itoa(n)+`"`)

	off, length, status := int64(0), size, http.StatusOK
	if spec := r.Header.Get("Range"); spec != "" {
		start, l, res := ParseRange(spec, size)
		switch res {
		case RangeUnsatisfiable:
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			http.Error(w, "range not satisfiable", http.StatusRequestedRangeNotSatisfiable)
			return
		case RangeOK:
			off, length, status = start, l, http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+l-1, size))
		}
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	p, _ := r.Context().Value(pacerKey{}).(*pacer)
	_ = s.writeBody(r.Context(), w, p, seed(size, n), off, length) // the client went away
}

// throttledChunk is the write size under a bandwidth cap: small enough that a
// 20 MiB/s connection is paced about 600 times a second.
const throttledChunk = 32 << 10

// writeBody writes length bytes of the file whose content starts at seed in
// the pattern, from offset off, straight out of the shared pattern.
func (s *Server) writeBody(ctx context.Context, w io.Writer, p *pacer, seed, off, length int64) error {
	pat := pattern()
	chunk := int64(patternLen)
	if p != nil {
		chunk = throttledChunk
	}
	for length > 0 {
		k := min(length, chunk)
		if p != nil {
			if err := p.wait(ctx, k); err != nil {
				return err
			}
		}
		i := (seed + off) % patternLen
		m, err := w.Write(pat[i : i+k])
		s.bytes.Add(int64(m))
		if err != nil {
			return err
		}
		off += k
		length -= k
	}
	return nil
}

// parsePath parses /f/SIZE/N.bin.
func parsePath(p string) (size int64, n int, ok bool) {
	rest, ok := strings.CutPrefix(p, "/f/")
	if !ok {
		return 0, 0, false
	}
	sizeText, name, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, false
	}
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 0 || size > maxSize {
		return 0, 0, false
	}
	n, ok = ParseName(name)
	return size, n, ok
}

// wait waits d, or until ctx is done.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pacerLag is how far a connection may fall behind its cap and then catch
// up: it absorbs timers that fire late on a busy machine, and it bounds the
// credit that idle time earns (a burst of at most pacerLag × rate bytes,
// 500 KiB at 20 MiB/s). A new connection starts with no credit.
const pacerLag = 25 * time.Millisecond

// pacer spaces the writes on one connection so that it stays within rate
// bytes per second, give or take one chunk and pacerLag. Requests on one
// HTTP/1.1 connection are sequential, so a connection's responses share it.
type pacer struct {
	rate int64
	next atomic.Int64 // UnixNano at which the bytes paid for so far are due
}

// wait blocks until k more bytes may be written.
func (p *pacer) wait(ctx context.Context, k int64) error {
	now := time.Now().UnixNano()
	cost := k * int64(time.Second) / p.rate
	var at int64
	for {
		next := p.next.Load()
		at = max(next, now-int64(pacerLag))
		if p.next.CompareAndSwap(next, at+cost) {
			break
		}
	}
	return wait(ctx, time.Duration(at-now))
}

// RangeResult says how to answer a Range header.
type RangeResult int

// The outcomes of ParseRange.
const (
	// RangeIgnore: the header is not a single byte range; send the whole file (200).
	RangeIgnore RangeResult = iota
	// RangeOK: send the range (206).
	RangeOK
	// RangeUnsatisfiable: the range lies outside the file (416).
	RangeUnsatisfiable
)

// ParseRange parses a Range header for a file of size bytes. Only a single
// range "bytes=A-B", "bytes=A-" or "bytes=-N" is honoured; anything else,
// including several ranges, is ignored and the whole file is sent. For
// RangeOK, start and length (> 0) lie within the file.
func ParseRange(spec string, size int64) (start, length int64, res RangeResult) {
	unit, set, ok := strings.Cut(spec, "=")
	if !ok || strings.TrimSpace(unit) != "bytes" || strings.Contains(set, ",") {
		return 0, 0, RangeIgnore
	}
	first, last, ok := strings.Cut(strings.TrimSpace(set), "-")
	if !ok {
		return 0, 0, RangeIgnore
	}
	if first == "" { // suffix range: the last N bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 || !digitsOnly(last) {
			return 0, 0, RangeIgnore
		}
		if n == 0 || size == 0 {
			return 0, 0, RangeUnsatisfiable
		}
		n = min(n, size)
		return size - n, n, RangeOK
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || !digitsOnly(first) {
		return 0, 0, RangeIgnore
	}
	b := size - 1
	if last != "" {
		b, err = strconv.ParseInt(last, 10, 64)
		if err != nil || !digitsOnly(last) || b < a {
			return 0, 0, RangeIgnore
		}
	}
	if a >= size {
		return 0, 0, RangeUnsatisfiable
	}
	b = min(b, size-1)
	return a, b - a + 1, RangeOK
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
