package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
)

// A split transfer (--split N) fetches a large file as N ranges at once
// into one pre-allocated part. It starts from the answer to the probe, the
// first GET sent with "Range: bytes=0-": a 206 for the whole file, large
// enough and not content-coded. The probe's body becomes the first range;
// the others are requested alongside. Each range passes the gate, is
// retried and resumed on its own, and records its progress in the sidecar,
// so an interrupted split resumes where each range stopped. A shutdown
// (Request.Stop) lets the ranges that are streaming finish and sends no
// other: the item ends stopped, and the next run asks for what is left.
// The item stays one item: hashed from the file once complete, verified,
// renamed.
//
// Some servers honour the probe's "bytes=0-" (the whole file anyway) but
// answer other ranges with the whole file and a 200. When that 200 is the
// file of the probe, the item goes on as one stream (errNoRanges); when it
// is another file, the file changed, and the item starts over.

// errNoRanges ends a split whose server answered a range request with the
// whole, unchanged file, or with a 206 for other bytes than those asked
// for (wrapped, with what it sent): it does not serve ranges. The split's part is
// discarded and, with transfer.noSplit set, the same attempt fetches the
// file as one stream, with a GET without Range.
var errNoRanges = errors.New("the server does not serve ranges")

// errNoPrealloc ends a split whose part the file system refused to make
// its full size at once: fusefat (a USB stick mounted in user space) has
// no fallocate, and refuses (EPERM) to extend a file with ftruncate. The
// split's part is discarded and, with transfer.noSplit set, the same
// attempt fetches the file as one stream, which only appends.
var errNoPrealloc = errors.New("the file system cannot make the part its full size at once")

// errRangeNotNewer ends a split resumed with Request.IfNewer whose server
// has no copy newer than the file: it answered a range's conditions with
// 304, or ignored them and sent a range of a copy that is not newer. The
// item is skipped, and its part removed, as for one stream.
var errRangeNotNewer = errors.New("the server's copy is not newer than the file")

// splittable tells whether a response to the probe can start a split.
func (t *transfer) splittable(resp *http.Response, p plan) bool {
	if t.c.cfg.Split < 2 || t.noSplit || !p.ranged || p.start != 0 || p.total < max(t.c.cfg.SplitMin, int64(t.c.cfg.Split)) {
		return false
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return false
	}
	// The probe must carry the whole file, or its body cannot be the first
	// range.
	return p.end == p.total
}

// makeSpans cuts [0, total) into n ranges of nearly equal size. No sum
// may overflow: a server can claim any size up to 2^63-1.
func makeSpans(total int64, n int) []Span {
	chunk := total / int64(n)
	if total%int64(n) != 0 {
		chunk++
	}
	spans := make([]Span, 0, n)
	for start := int64(0); start < total; {
		end := start + min(chunk, total-start)
		spans = append(spans, Span{Start: start, End: end, Next: start})
		start = end
	}
	return spans
}

// validSpans reports whether spans tile [0, total) in order, with each
// range's progress inside it, and are no more than a split makes: a
// damaged or foreign sidecar could otherwise have thousands of range
// requests sent at once.
func validSpans(spans []Span, total int64) bool {
	if len(spans) > MaxSplit {
		return false
	}
	at := int64(0)
	for _, s := range spans {
		if s.Start != at || s.End <= s.Start || s.Next < s.Start || s.Next > s.End {
			return false
		}
		at = s.End
	}
	return at == total && total > 0
}

// probe is the probe's response, handed to the first range.
type probe struct {
	g       *guard
	resp    *http.Response
	release func()
}

// splitFrom starts a split from the probe's response: record the ranges,
// pre-allocate the part, then fetch them. The record comes first: a crash
// in between leaves a record whose part has the wrong size, which the next
// run discards, and never a large part without a sidecar, which is not
// fetchpool's to touch (MaxPartWithoutSidecar).
func (t *transfer) splitFrom(ctx context.Context, g *guard, f *partFile, resp *http.Response, release func()) (outcome, error) {
	total := t.meta.Length
	t.meta.Spans = makeSpans(total, t.c.cfg.Split)
	t.split = true
	if err := writeMeta(t.part, t.meta); err != nil {
		f.Close() // before the part is removed: see runSplit
		return 0, t.removeIfFull(err)
	}
	t.metaOnDisk = true
	if err := t.c.alloc(f, total); err != nil {
		f.Close() // before the part is removed: see runSplit
		if errors.Is(err, syscall.EPERM) {
			if derr := t.discard(); derr != nil {
				return 0, derr
			}
			t.noSplit = true
			return 0, fmt.Errorf("%w (%w)", errNoPrealloc, err)
		}
		err = classifyWrite(t.part, err)
		var full *diskFullError
		if errors.As(err, &full) {
			full.need = total
		}
		return 0, t.removeIfFull(err)
	}
	return t.runSplit(ctx, f, &probe{g: g, resp: resp, release: release})
}

// resumeSplit continues a split part recorded in the sidecar. A part that
// does not match its record is discarded and the attempt starts over.
func (t *transfer) resumeSplit(ctx context.Context) (outcome, error) {
	fi, err := os.Stat(t.part)
	if err != nil || fi.Size() != t.meta.Length || !validSpans(t.meta.Spans, t.meta.Length) {
		if err := t.discard(); err != nil {
			return 0, err
		}
		return t.attempt(ctx) // from zero: the part and its spans are gone
	}
	var have int64
	for _, s := range t.meta.Spans {
		have += s.Next - s.Start
	}
	if have == t.meta.Length {
		// Every range is in (the run that fetched them was stopped while
		// it verified or renamed the file): no range is left to ask the
		// server whether the file is still this one. It is a whole part
		// of one stream then, resumed from its end with If-Range (and the
		// conditions of Request.IfNewer): a 416 says it is complete, a 200
		// brings the file the server has now.
		t.meta.Spans = nil
		return t.attempt(ctx)
	}
	f, err := openPartFile(t.part, os.O_RDWR, 0)
	if err != nil {
		return 0, classifyWrite(t.part, err)
	}
	defer f.Close()
	t.split = true
	t.req.Progress.SetDone(have)
	t.req.Progress.SetTotal(t.meta.Length)
	out, err := t.runSplit(ctx, f, nil)
	f.Close() // before the part is made again; closing twice is harmless
	if errors.Is(err, errNoRanges) {
		t.sayOneStream(err)
		t.fellBack = err
		return t.attempt(ctx) // as one stream, from zero: the part is gone
	}
	return out, err
}

// splitRun is one run of the ranges of a split part.
type splitRun struct {
	t *transfer
	f *partFile

	mu        sync.Mutex // guards t.meta.Spans, the sidecar, t.res, t.begun, t.dest, t.consulted, t.ifNewer, withdrawn
	withdrawn bool       // Request.Stop withdrew the item before any range began it (pass)
}

// runSplit fetches every unfinished range at once. The first range to
// fail for good stops the others; every range's progress is saved either
// way. A resource that changed discards the part (the caller starts over);
// a disk-full part is removed; any other part is kept to resume.
func (t *transfer) runSplit(ctx context.Context, f *partFile, first *probe) (outcome, error) {
	s := &splitRun{t: t, f: f}
	sctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	if first != nil {
		// The probe was sent under the item's context; a failing range
		// must stop it too.
		g := first.g
		defer context.AfterFunc(sctx, func() { g.cancel(context.Canceled) })()
	}
	spans := append([]Span(nil), t.meta.Spans...) // the goroutines update the original
	errs := make([]error, len(spans))
	var wg sync.WaitGroup
	for i, sp := range spans {
		var p *probe
		if i == 0 {
			p, first = first, nil
		}
		if sp.Next >= sp.End {
			p.close()
			continue
		}
		wg.Go(func() {
			if err := s.fetchSpan(sctx, i, p); err != nil {
				errs[i] = err
				if !errors.Is(err, ErrStopped) {
					stop(err)
				}
				// Else the shutdown (Request.Stop) kept this range from
				// being requested, or retried: the ranges that are
				// streaming finish, as any transfer in flight does, and
				// their bytes are saved for a resume.
			}
		})
	}
	first.close()
	stopSaving := s.saveWhileRunning()
	wg.Wait()
	stopSaving()
	saveErr := s.save()

	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := firstCause(sctx, errs); err != nil {
		// Closed before the part is removed or made again (discard,
		// removeIfFull): Windows does neither to an open file, and the
		// item failed with a sharing violation instead of starting over.
		// The callers' own Close then does nothing.
		f.Close()
		if errors.Is(err, errRangeNotNewer) {
			return notModified, nil // run removes the part
		}
		if errors.As(err, new(*unsentError)) {
			err = allUnsent(errs)
		}
		if errors.Is(err, errNoRanges) {
			if derr := t.discard(); derr != nil {
				return 0, derr
			}
			t.noSplit = true
			return 0, err
		}
		if errors.As(err, new(changedError)) || errors.As(err, new(*partCutError)) {
			// The next attempt starts over: the part's bytes are not
			// the file's any more, or are in doubt.
			if derr := t.discard(); derr != nil {
				return 0, derr
			}
			return 0, err
		}
		return 0, t.removeIfFull(err)
	}
	if saveErr != nil {
		return 0, saveErr
	}
	if err := checkPart(f, t.part, t.meta.Length); err != nil { // cut after the last write
		f.Close() // before discard, as above: Windows removes no open file
		if derr := t.discard(); derr != nil {
			return 0, derr
		}
		return 0, err
	}
	if err := closePart(f); err != nil {
		return 0, t.removeIfFull(err)
	}
	t.size = t.meta.Length
	return complete, nil
}

// firstCause is the error that stopped a split: the range failure that
// cancelled the others, not the cancellations it caused.
func firstCause(sctx context.Context, errs []error) error {
	cause := context.Cause(sctx)
	if cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return nil
}

// close hands back a probe that will not be read.
func (p *probe) close() {
	if p == nil {
		return
	}
	p.resp.Body.Close()
	p.g.stop()
	p.release()
}

// fetchSpan brings range i to its end: the probe's body first when given,
// then range requests, each failure retried with backoff on its own count.
func (s *splitRun) fetchSpan(ctx context.Context, i int, p *probe) error {
	t := s.t
	var errs []error
	for failures := 0; ; {
		var err error
		before := s.next(i)
		if p != nil {
			err = s.readProbe(ctx, i, p)
			p = nil
		} else {
			err = s.request(ctx, i, len(errs)+1)
		}
		if saveErr := s.save(); err == nil {
			err = saveErr
		}
		next, end := s.next(i), t.meta.Spans[i].End
		switch {
		case next >= end:
			return nil
		case err == nil && next > before:
			continue // the server sent part of the range; ask for the rest
		case err == nil:
			err = &shortBodyError{got: next, want: end}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		stopped := func() error {
			return &stoppedError{err: &spentError{span: t.meta.Spans[i], err: &attemptsError{errs: errs}}}
		}
		if errors.Is(err, ErrStopped) && len(errs) == 0 { // a shutdown began before the range was requested
			return &stoppedError{err: &unsentError{spans: []Span{{Start: next, End: end}}}}
		}
		if errors.Is(err, ErrStopped) { // the retry gave way at the gate: nothing was sent
			return stopped()
		}
		if errors.Is(err, ErrNotStarted) { // the item had not begun: withdrawn at the gate
			return err
		}
		if errors.Is(err, errAskAgain) {
			continue // the item moved to another file: asked again with its conditions, once
		}
		errs = append(errs, err)
		failures++
		if errors.As(err, new(changedError)) || errors.As(err, new(*partCutError)) || errors.Is(err, errNoRanges) || errors.Is(err, errRangeNotNewer) || errors.Is(err, ErrSkip) {
			return err // the whole split stops
		}
		if permanent(err) {
			return err // not the range's fault: no need to say which
		}
		if failures > t.c.cfg.Retries || !shouldRetry(ctx, 0, err) {
			return &spentError{span: t.meta.Spans[i], err: &attemptsError{errs: errs}}
		}
		if t.stopped() {
			return stopped()
		}
		wait, werr := t.c.retryWait(failures, err)
		if werr != nil {
			errs[len(errs)-1] = werr
			return &spentError{span: t.meta.Spans[i], err: &attemptsError{errs: errs}}
		}
		t.c.pauseFor(t.host, err)
		t.emit.send(event.Event{Kind: event.Retry, Attempt: failures, Wait: wait,
			Err: fmt.Errorf("bytes %d-%d: %w", next, end-1, &describedError{err: err})})
		if err := t.backoff(ctx, wait); errors.Is(err, ErrStopped) {
			return stopped()
		} else if err != nil {
			return err
		}
	}
}

// next is how far range i got.
func (s *splitRun) next(i int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t.meta.Spans[i].Next
}

// advance records n more bytes of range i.
func (s *splitRun) advance(i int, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t.meta.Spans[i].Next += n
	s.t.res.Bytes += n
}

// pass gets a request of a range through the gate. Once the item began,
// a request that waits there (for the request rate, or a slot of its
// host), or comes after, gives way to Request.Stop, with ErrStopped: a
// shutdown lets the ranges that are streaming finish, but sends no new
// one, first request or retry, as it starts no new attempt of an item (at
// --rate 6/m, the ranges of a split would go out one every ten seconds
// after the Ctrl-C). A split resumed from an earlier run sends no request
// of its own (transfer.pass), only its ranges': the first range through
// the gate begins the item (Request.Began, on the range's goroutine, while
// the one that called Fetch waits for the ranges), and until one does,
// the item has not begun, and a Request.Stop withdraws it, with
// ErrNotStarted.
//
// A request through the gate tells Request.Between that the item no
// longer waits for its next attempt: after a retry of the whole item, a
// split resumed sends its ranges' requests, not one of its own.
func (s *splitRun) pass(ctx context.Context, attempt int) (func(), error) {
	release, err := s.passRange(ctx, attempt)
	if err == nil {
		s.t.between(false, false)
	}
	return release, err
}

// passRange is pass before Request.Between is told.
func (s *splitRun) passRange(ctx context.Context, attempt int) (func(), error) {
	t := s.t
	if attempt > 1 {
		return t.passUnlessStopped(ctx, ErrStopped)
	}
	s.mu.Lock()
	begun := t.begun
	s.mu.Unlock()
	if begun {
		return t.passUnlessStopped(ctx, ErrStopped)
	}
	release, err := t.passUnlessStopped(ctx, ErrNotStarted)
	s.mu.Lock()
	first := !t.begun && !s.withdrawn
	switch {
	case err == nil && s.withdrawn:
		// Another range gave way to Stop first: the item is withdrawn,
		// and this request is not sent.
		s.mu.Unlock()
		release()
		return nil, ErrNotStarted
	case err == nil:
		t.begun = true
	case errors.Is(err, ErrNotStarted) && t.begun:
		// Another range began the item meanwhile, and the shutdown
		// (Request.Stop) came before this one was sent: it is not sent,
		// and the item ends stopped, not withdrawn.
		s.mu.Unlock()
		return nil, ErrStopped
	case errors.Is(err, ErrNotStarted):
		s.withdrawn = true
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if first {
		if t.c.cfg.Gate != nil {
			t.req.Progress.SetWaiting(false)
		}
		if t.req.Began != nil {
			t.req.Began()
		}
	}
	return release, nil
}

// tried counts the attempt-th attempt of a range in the item's Attempts,
// which for a split item is the most attempts any one range took (or the
// item as a whole, after a restart): a range that gives up after N
// attempts fails the item with "after N attempts", and the item then says
// N attempts too, not the one attempt of the item that ran the ranges.
// The probe's body is the first range's first attempt.
func (s *splitRun) tried(attempt int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t.res.Attempts = max(s.t.res.Attempts, attempt)
}

// splitSaveEvery is how often the progress of ranges in flight is saved.
var splitSaveEvery = time.Second

// saveWhileRunning saves the ranges' progress every splitSaveEvery until
// the returned func is called, so that a run killed outright (SIGKILL, a
// crash, the OOM killer) resumes each range about where it was, not from
// its start: a range of a large file may take hours. Best effort: a failed
// save leaves the older record, which describes bytes that are there.
func (s *splitRun) saveWhileRunning() (stop func()) {
	tick := time.NewTicker(splitSaveEvery)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				_ = s.save()
			}
		}
	}()
	return func() {
		tick.Stop()
		close(quit)
		<-done
	}
}

// save writes the ranges' progress to the sidecar.
func (s *splitRun) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.t.meta
	m.Spans = append([]Span(nil), m.Spans...)
	return writeMeta(s.t.part, m)
}

// readProbe copies the first range out of the probe's body, then lets the
// probe's connection and gate slot go.
func (s *splitRun) readProbe(ctx context.Context, i int, p *probe) error {
	defer p.close()
	sp := s.t.meta.Spans[i]
	_, err := s.copy(ctx, p.g, i, sp.Next, p.resp.Body, sp.End-sp.Next)
	return err
}

// request asks for the rest of range i: one GET with Range and If-Range,
// through the gate (pass), under the attempt's timeout and the stall guard.
// With Request.IfNewer it carries the conditions too, as the resume of one
// stream does (transfer.request): the part may be of a copy that is not
// newer than the file.
func (s *splitRun) request(ctx context.Context, i int, attempt int) error {
	t := s.t
	release, err := s.pass(ctx, attempt)
	if err != nil {
		return err
	}
	slot := t.c.newHostSlot(t.host, release)
	slot.stop = t.req.Stop
	defer slot.free()
	g := t.c.newGuard(ctx)
	defer g.stop()

	s.tried(attempt)
	next, end := s.next(i), t.meta.Spans[i].End
	t.emit.send(event.Event{Kind: event.Attempt, Attempt: attempt,
		Message: fmt.Sprintf("bytes %d-%d", next, end-1)})
	req := t.c.newRequest(g.ctx, t.u)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", next, end-1))
	if v := t.meta.ifRange(); v != "" {
		req.Header.Set("If-Range", v)
	}
	s.mu.Lock() // the first range's response may change t.dest meanwhile (consultRename)
	conditional, from := t.ifNewer && t.setConditions(req), t.dest
	s.mu.Unlock()
	resp, err := t.c.do(req, t.emit, g, slot.hop(g))
	if err != nil {
		return g.whyRequest(ctx, err)
	}
	defer resp.Body.Close()
	last, err := s.checkSpan(resp, next, end, conditional, from)
	if err != nil {
		drain(resp)
		return statusAt(resp, req.URL, err)
	}
	_, err = s.copy(ctx, g, i, next, resp.Body, last+1-next)
	return err
}

// checkSpan accepts a 206 for the same resource starting exactly at next
// and ending by end; it returns the last byte the response carries. A 200
// for the file of the probe means the server does not serve ranges
// (errNoRanges); a 200 for another file, or a 416, means the file changed
// (If-Range failed). A 304 to a conditional request, or a 206 that is not
// newer than the file (Request.IfNewer), is errRangeNotNewer; but a 304 to
// conditions taken from the file at from, when the item is saved as
// another file now, is errAskAgain (transfer.movedBy304).
func (s *splitRun) checkSpan(resp *http.Response, next, end int64, conditional bool, from string) (int64, error) {
	t := s.t
	s.mu.Lock()
	t.res.HTTPStatus = resp.StatusCode
	s.mu.Unlock()
	switch resp.StatusCode {
	case http.StatusNotModified:
		if !conditional {
			return 0, newHTTPError(resp)
		}
		s.mu.Lock()
		err := t.movedBy304(resp, from)
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}
		return 0, errRangeNotNewer
	case http.StatusPartialContent:
		if notNewer, err := s.notNewer(resp); err != nil {
			return 0, err
		} else if notNewer {
			return 0, errRangeNotNewer
		}
	case http.StatusOK:
		if s.sameFile(resp) {
			return 0, errNoRanges
		}
		return 0, changedError{}
	case http.StatusRequestedRangeNotSatisfiable:
		return 0, changedError{}
	default:
		return 0, newHTTPError(resp)
	}
	if t.meta.contradictedBy(resp) {
		return 0, changedError{}
	}
	// A 206 that is not the range asked for comes again when asked again:
	// the server cannot serve ranges, and the file is read as one stream.
	cr, ok := parseContentRange(resp.Header.Get("Content-Range"))
	switch {
	case !ok || cr.first < 0:
		return 0, fmt.Errorf("%w: it sent a 206 with a bad Content-Range %q", errNoRanges, resp.Header.Get("Content-Range"))
	case cr.total >= 0 && cr.total != t.meta.Length:
		return 0, changedError{}
	case cr.first != next:
		return 0, fmt.Errorf("%w: asked for bytes %d-%d, it sent %d-%d", errNoRanges, next, end-1, cr.first, cr.last)
	}
	if err := s.consultRename(resp); err != nil {
		return 0, err
	}
	// A server may send more than the range asked for; only the range is
	// read.
	return min(cr.last, end-1), nil
}

// consultRename asks Request.Rename for the destination, once, as
// transfer.consultRename does with the first response of one stream or
// the probe of a split. A split resumed from an earlier run sends neither:
// the first of its ranges to be answered asks, under the lock, since the
// ranges run at once.
func (s *splitRun) consultRename(resp *http.Response) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t.consultRename(resp)
}

// notNewer is transfer.notNewer for the response to a range, when the
// file at dest is kept unless a response is newer; under the lock, since
// the ranges run at once.
func (s *splitRun) notNewer(resp *http.Response) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.t.ifNewer {
		return false, nil
	}
	return s.t.notNewer(resp)
}

// sameFile tells whether a 200 to a range request carries the file of the
// probe: each of ETag, Last-Modified and length that both the response and
// the sidecar know is the same. A response that tells none of them cannot
// be told from the file; taking it for the same is safe, for the stream
// that follows fetches whatever the file is now.
func (s *splitRun) sameFile(resp *http.Response) bool {
	m := s.t.meta
	if m.contradictedBy(resp) {
		return false
	}
	return resp.ContentLength < 0 || resp.ContentLength == m.Length
}

// sameDate tells whether two HTTP dates name the same second, however each
// is written.
func sameDate(a, b string) bool {
	ta, errA := parseHTTPDate(a)
	tb, errB := parseHTTPDate(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return ta.Equal(tb)
}

// copy copies at most limit bytes of body into range i of the part at
// off, through the stall watch and the throttle, and records them in the
// range's progress a buffer at a time, so that the sidecar saved while the
// ranges run (saveWhileRunning) counts what is already written.
func (s *splitRun) copy(ctx context.Context, g *guard, i int, off int64, body io.Reader, limit int64) (int64, error) {
	t := s.t
	r := g.throttled(body, t.c.cfg.Throttle)
	var n int64
	var err error
	for n < limit && err == nil {
		// The part was made as long as the file: shorter, another
		// program cut it (see copyBody), and the bytes of every range
		// written before are in doubt.
		if err = checkPart(s.f, t.part, t.meta.Length); err != nil {
			break
		}
		want := min(limit-n, bufSize)
		var m int64
		m, err = t.c.copyBody(g.ctx, s.f, off+n, r, want, nil, t.req.Progress)
		s.advance(i, m)
		n += m
		if m < want {
			break // the body ended
		}
	}
	var re *readError
	if errors.As(err, &re) {
		if why := g.why(ctx, re.err); why != re.err {
			err = why
		}
	}
	if err == nil && n < limit {
		// copyBody stops at EOF; fewer bytes than the range is a short body.
		err = &shortBodyError{got: off + n, want: off + limit}
	}
	return n, err
}

// unsentError is the bytes that a shutdown (Request.Stop) kept from being
// requested: ranges of a split, or what was left of them, or the rest of
// a file that the server sends in pieces (restUnsent). They are missing
// from the part, which a later run resumes. It ends the item as
// ErrStopped does.
type unsentError struct {
	spans []Span // the bytes not requested, [Start, End) each
	// what, when set, says what was not requested instead of spans: the
	// file as one stream, after its split fell through (errNoRanges).
	what string
}

func (e *unsentError) Error() string {
	if e.what != "" {
		return e.what + " not requested"
	}
	var b strings.Builder
	b.WriteString("bytes ")
	for i, s := range e.spans {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d-%d", s.Start, s.End-1)
	}
	b.WriteString(" not requested")
	return b.String()
}

func (e *unsentError) Is(target error) bool { return target == ErrStopped }

// allUnsent gathers the ranges of errs that were not requested into one
// unsentError, adjacent ones merged, so that the item's reason tells all
// the bytes a shutdown left out, not those of the first range only.
func allUnsent(errs []error) error {
	all := &unsentError{}
	for _, err := range errs {
		var u *unsentError
		if !errors.As(err, &u) {
			continue
		}
		for _, sp := range u.spans {
			if n := len(all.spans); n > 0 && all.spans[n-1].End == sp.Start {
				all.spans[n-1].End = sp.End
				continue
			}
			all.spans = append(all.spans, sp)
		}
	}
	return &stoppedError{err: all}
}

// spentError is a range that used up its retries; the item is not tried
// again as a whole, which would multiply the attempts.
type spentError struct {
	span Span
	err  error
}

func (e *spentError) Error() string {
	return fmt.Sprintf("bytes %d-%d: %v", e.span.Start, e.span.End-1, e.err)
}

func (e *spentError) Unwrap() error { return e.err }
