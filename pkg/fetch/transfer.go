package fetch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fetchpool/fetchpool/pkg/event"
	"github.com/fetchpool/fetchpool/pkg/limit"
	"github.com/fetchpool/fetchpool/pkg/naming"
)

// transfer is one http(s) item on its way into place. The part on disk is
// the truth about progress; the fields below carry what the part cannot
// tell from one attempt to the next.
type transfer struct {
	c    *Client
	req  Request
	u    *url.URL
	host string // the gate's key, host:port
	part string
	dest string
	emit *emitter

	meta       Meta // the validator of the part, when haveMeta
	haveMeta   bool
	metaOnDisk bool  // the sidecar file exists: read at the start, or written
	resumed    bool  // the part holds bytes of an earlier run (see removeIfFull)
	size       int64 // the part's size once complete
	consulted  bool  // Rename has had its say
	ifNewer    bool  // the file at dest is kept unless a response is newer: Request.IfNewer, or Destination.IfNewer once Rename said so
	h          hash.Hash
	hashed     int64     // bytes of the part fed to h
	split      bool      // the part was filled by a split transfer
	noSplit    bool      // the server does not serve ranges: no split for this item (errNoRanges)
	begun      bool      // a request got through the gate, Began was called: Request.Stop no longer withdraws the item, it only keeps new requests from being sent (pass)
	retrying   bool      // the next request through the gate is a retry's first: it gives way to Request.Stop
	fellBack   error     // why the split fell through: the next request, the file as one stream, gives way to Request.Stop
	stamped    bool      // the whole part has its mtime and ETag (stamp)
	told       bool      // the attempt under way (try) was announced
	try        int       // the attempt under way, which its first request through the gate announces (announce)
	note       string    // what its Attempt event says about the request ("one stream: ...")
	unnamed    *partFile // the whole body, open, in a file without a name yet (openBody)
	partMade   bool      // this transfer has put a part on disk under its name
	openEnd    int64     // where this transfer's last range of a resource of unknown length ended (endsAt); 0 if none
	lock       partLock  // this process's hold on the part (own), until run returns
	res        Result
	errs       []error
}

// outcome is how an attempt ended well.
type outcome uint8

const (
	complete    outcome = iota + 1 // the part holds the whole resource
	notModified                    // 304 to a conditional request
)

func (c *Client) newTransfer(req Request, u *url.URL) *transfer {
	return &transfer{
		c:    c,
		req:  req,
		u:    u,
		host: hostPort(u),
		part: req.Path + ".part",
		dest: req.Path,
		emit: &emitter{emit: req.Emit},
		h:    c.newHash(req),
		res:  Result{Path: req.Path},

		ifNewer: req.IfNewer,
	}
}

// run makes attempts until one succeeds, one fails for good, or the
// retries are spent.
func (t *transfer) run(ctx context.Context) (Result, error) {
	defer t.dropUnnamed()
	defer t.lock.release()
	if err := t.loadPart(); err != nil {
		return t.res, err
	}
	for attempt := 1; ; attempt++ {
		tried := t.res.Attempts
		t.res.Attempts = max(tried, attempt) // a split's ranges may have counted more (splitRun.tried)
		t.try, t.told, t.note = attempt, false, ""
		out, err := t.attempt(ctx)
		switch {
		case err == nil && out == notModified:
			// A part left from an earlier run holds bytes of a copy that
			// is not newer either.
			t.res.StaleRemoved = t.removePart() && !t.partMade
			t.res.Skipped = true
			if t.dest != t.req.Path {
				// The file kept is the one Rename gave: ErrNotNewer, as
				// when the first response was judged (consultName).
				return t.res, ErrNotNewer
			}
			return t.res, nil
		case err == nil:
			res, err := t.finish(ctx)
			if err != nil && ctx.Err() != nil {
				err = &InterruptedError{Part: t.keptPart(), Err: ctx.Err()}
			} else if t.resumed && !t.stopped() && errors.As(err, new(*ChecksumError)) {
				// The part began in an earlier run, and its bytes, or
				// the file under them, may not be the ones the digest is
				// of (a part damaged on disk, a server that changed the
				// file without a new validator): the file is fetched
				// again from the start, once (discard clears resumed).
				t.emit.send(event.Event{Kind: event.Retry, Attempt: attempt,
					Err: fmt.Errorf("%w; fetching it again from the start, without the part of an earlier run", err)})
				if err := t.discard(); err != nil {
					return t.res, err
				}
				continue
			}
			return res, err
		case ctx.Err() != nil:
			return t.res, &InterruptedError{Part: t.keptPart(), Err: ctx.Err()}
		case errors.Is(err, ErrNotStarted):
			t.res.Attempts = tried // none: nothing was sent
			return t.res, err
		case errors.Is(err, ErrSkip):
			if errors.Is(err, ErrNotNewer) {
				t.res.StaleRemoved = t.removePart() && !t.partMade // bytes of a copy that is not newer either
			}
			// Else a file with the server's name is there, and it may be
			// another item's: the bytes of this one, from an earlier run,
			// stay in its part, for --on-exists rename to save them.
			t.res.Skipped = true
			return t.res, err
		}
		var stopped *stoppedError
		if errors.As(err, &stopped) { // a range of a split that was not retried
			t.errs = append(t.errs, stopped.err)
			return t.stop()
		}
		if errors.Is(err, ErrStopped) { // the retry gave way at the gate: nothing was sent
			t.res.Attempts = max(tried, attempt-1)
			return t.stop()
		}
		t.errs = append(t.errs, err)
		if attempt > t.c.cfg.Retries || !shouldRetry(ctx, 0, err) {
			return t.fail()
		}
		if t.stopped() {
			return t.stop()
		}
		wait, werr := t.c.retryWait(attempt, err)
		if werr != nil {
			t.errs[len(t.errs)-1] = werr
			return t.fail()
		}
		t.between(true, t.c.pauseFor(t.host, err))
		t.emit.send(event.Event{Kind: event.Retry, Attempt: attempt, Wait: wait, Err: &describedError{err: err}})
		if err := t.backoff(ctx, wait); errors.Is(err, ErrStopped) {
			return t.stop()
		} else if err != nil {
			return t.res, &InterruptedError{Part: t.keptPart(), Err: err}
		}
		t.retrying = true
	}
}

// between tells Request.Between, if set, that the item waits for its next
// attempt (waiting), or that the attempt's first request is through.
func (t *transfer) between(waiting, hostPaused bool) {
	if t.req.Between != nil {
		t.req.Between(waiting, hostPaused)
	}
}

// stopped tells whether Request.Stop is done: no new attempt may start.
func (t *transfer) stopped() bool {
	return t.req.Stop != nil && t.req.Stop.Err() != nil
}

// backoff waits d before the next attempt. It returns ctx's error when ctx
// is done first, and ErrStopped when Request.Stop is.
func (t *transfer) backoff(ctx context.Context, d time.Duration) error {
	if t.req.Stop == nil {
		return sleep(ctx, d)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(t.req.Stop, cancel)()
	err := sleep(sctx, d)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		return ErrStopped
	}
}

// stop ends the item, after a failed attempt, because a shutdown began
// before the next one; the part is kept for a later resume.
func (t *transfer) stop() (Result, error) {
	return t.res, &stoppedError{part: t.keptPart(), err: &attemptsError{errs: t.errs}}
}

// fail ends the item with the reasons of its attempts. After a full disk,
// removeIfFull decides what becomes of the part; any other part with
// bytes is kept for a later resume, and an empty one removed.
func (t *transfer) fail() (Result, error) {
	if last := t.errs[len(t.errs)-1]; isDiskFull(last) {
		t.removeIfFull(last)
		return t.res, &attemptsError{errs: t.errs}
	}
	if part := t.keptPart(); part != "" {
		if t.resumable() {
			return t.res, &keptError{part: part, err: &attemptsError{errs: t.errs}}
		}
		if fi, err := os.Stat(part); err == nil && fi.Size() == 0 {
			// Failed before the first byte of a body: an empty part and
			// its sidecar hold nothing to resume, and the failure, which
			// names no part, would leave them unexplained.
			t.removePart()
		}
	}
	return t.res, &attemptsError{errs: t.errs}
}

// resumable tells whether the part kept holds bytes that a later run
// resumes: some, and a sidecar that says what they are.
func (t *transfer) resumable() bool {
	fi, err := os.Stat(t.part)
	if err != nil || fi.Size() == 0 {
		return false
	}
	_, err = os.Stat(t.part + metaSuffix)
	return err == nil
}

// keptPart names the part left for a resume, "" when there is none (or it
// is not this transfer's).
func (t *transfer) keptPart() string {
	t.keepPart()
	if !t.lock.held {
		return ""
	}
	if _, err := os.Stat(t.part); err != nil {
		return ""
	}
	return t.part
}

// keepPart gives a part that this run wrote, and leaves for a later resume,
// the sidecar it does not have yet (see needMeta), so the next run resumes
// it instead of starting over. Best effort: without a sidecar the part is
// only restarted.
func (t *transfer) keepPart() {
	if !t.haveMeta || t.metaOnDisk || !t.lock.held {
		return
	}
	if fi, err := os.Stat(t.part); err == nil && fi.Size() > 0 {
		_ = t.saveMeta()
	}
}

// loadPart is the first step: read the sidecar of an existing part. A part
// of another URL is refused and left alone; so is a part that another
// process writes (own). A part that cannot be resumed (a sidecar that does
// not parse, --no-resume) is discarded. A part without a sidecar is left
// as it is, not resumed: the first byte of the body truncates it.
func (t *transfer) loadPart() error {
	if t.req.NoSidecar || t.req.NoPart {
		return nil
	}
	m, err := ReadMeta(t.part)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the common case: no sidecar, nothing to remove
	}
	if err == nil && m.URL != "" && !m.For(t.req.URL) {
		return fmt.Errorf("%s: %w (%s); it is left untouched", t.part, ErrPartInUse, m.shownURL())
	}
	// This item's part: to resume or to discard, once no other process
	// writes it. Its sidecar is read again under the lock: the process
	// that held it may have changed it since (a restart, a split).
	switch lerr := t.own(false); {
	case lerr == nil:
		if m, err = ReadMeta(t.part); errors.Is(err, fs.ErrNotExist) {
			return nil // a part without a sidecar: restarted
		}
	case !errors.Is(lerr, fs.ErrNotExist): // else a sidecar without a part
		return lerr
	}
	t.metaOnDisk = true
	switch {
	case err == nil && m.URL != "" && !m.For(t.req.URL):
		return fmt.Errorf("%s: %w (%s); it is left untouched", t.part, ErrPartInUse, m.shownURL())
	case err == nil && m.URL != "" && !t.c.cfg.NoResume:
		t.meta, t.haveMeta, t.resumed = m, true, true
		return nil
	}
	return t.discard()
}

// discard forgets the part: the next byte written goes at offset 0. The
// part is removed, and with it this transfer's hold on it: the next one
// is taken on the new part (own).
func (t *transfer) discard() error {
	if err := t.own(false); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	defer t.lock.release()
	t.meta, t.haveMeta, t.split, t.resumed = Meta{}, false, false, false
	t.hashed, t.openEnd = 0, 0
	if t.h != nil {
		t.h.Reset()
	}
	for _, p := range []string{t.part, t.part + metaSuffix, t.part + metaTempSuffix} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the old %s: %w", p, err)
		}
	}
	t.metaOnDisk = false
	return nil
}

// own makes this transfer the one writer of its part: it locks the part,
// creating it when create is set, and keeps the lock until run returns, so
// that another process (or another Client) finds the part taken and
// leaves it alone. It is a no-op once the part is held. It fails with an
// error wrapping ErrPartBusy when another process holds the part, and with
// one wrapping fs.ErrNotExist when there is no part and create is not set.
//
// A part that is taken fails the item at once; the item does not take the
// next free name, as it does for a part whose sidecar names another URL.
// Two runs that overlap (cron jobs, CI steps) mostly fetch the same list
// into the same directory: the part taken is this very item, which the
// other run is bringing into place under the name this run wants, so a
// second copy under name.1.ext would only be a duplicate to clean up. The
// failure says which file and why, and a run after the other one ends
// finds the file there (--on-exists) or resumes the part.
func (t *transfer) own(create bool) error {
	if t.lock.held {
		return nil
	}
	l, err := holdPart(t.part, create)
	if err == nil {
		t.lock = l
	}
	return err
}

// holdPart is lockPart with the part's directory made when it is missing
// and create is set, and a failure to open the part worded as one to write
// it.
func holdPart(part string, create bool) (partLock, error) {
	l, err := lockPart(part, create)
	if create && errors.Is(err, fs.ErrNotExist) {
		if merr := os.MkdirAll(filepath.Dir(part), 0o755); merr == nil {
			l, err = lockPart(part, create)
		}
	}
	switch {
	case err == nil:
		return l, nil
	case errors.Is(err, ErrPartBusy), !create && errors.Is(err, fs.ErrNotExist):
		return l, err
	}
	return l, classifyWrite(part, err)
}

// removePart removes the part and its sidecar when they are this
// transfer's to remove: a part it does not hold yet is locked first, and
// one that another process writes is left alone. It reports whether there
// was a part to remove.
func (t *transfer) removePart() bool {
	err := t.own(false)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	removePart(t.part)
	t.lock.release()
	return err == nil
}

// claim is own, and for a part held since an earlier step, a check that
// its name still leads to the file held. It comes before the part is
// opened by its name to be written (create set) and just before it is
// renamed into place, so that no byte goes into, and nothing is moved into
// place from, a file that something else put under the name: a run of a
// version without locks, say. A failed check lets the old file go.
func (t *transfer) claim(create bool) error {
	if !t.lock.held {
		return t.own(create) // checked as it is locked
	}
	if err := t.lock.check(t.part); err != nil {
		t.lock.release()
		return err
	}
	return nil
}

// saveMeta writes the sidecar of the part from t.meta.
func (t *transfer) saveMeta() error {
	if err := createMeta(t.part, t.meta); err != nil {
		return err
	}
	t.metaOnDisk = true
	return nil
}

// errRestart asks attempt to discard the part and ask again from zero.
var errRestart = errors.New("restart from zero")

// errAskAgain asks for the same bytes again: a 304 answered conditions
// taken from a file that the item is no longer saved as (movedBy304).
var errAskAgain = errors.New("ask again")

// errRestStopped is pass's word that the shutdown came before the rest
// of an attempt was asked for; exchange, which knows from which byte,
// makes it a stoppedError.
var errRestStopped = errors.New("the rest not requested")

// restUnsent is the rest of the file, from offset, that a shutdown kept
// from being requested.
func restUnsent(m Meta, offset int64) *unsentError {
	if m.Length > offset {
		return &unsentError{spans: []Span{{Start: offset, End: m.Length}}}
	}
	return &unsentError{what: fmt.Sprintf("bytes %d and on", offset)}
}

// errMore asks attempt to ask for the rest: the server sent a whole range
// response, but less than the file (some servers cap ranges).
var errMore = errors.New("more to fetch")

// errRangesDisagree ends an attempt in which the server could not resume
// even the part it had just sent: its answers to range requests contradict
// each other (a 206 to a request without a range, say). The next attempt
// starts over, after a backoff, as for any error that may pass.
var errRangesDisagree = &rangeError{msg: "the server's answers to range requests do not fit together"}

// attempt is one attempt: resume where the part ends (or the spans of a
// split part), and start over at most once when the server cannot resume.
func (t *transfer) attempt(ctx context.Context) (outcome, error) {
	if t.haveMeta && len(t.meta.Spans) > 0 {
		return t.resumeSplit(ctx)
	}
	offset, err := t.offset()
	if err != nil {
		return 0, err
	}
	restarted := false
	for {
		out, err := t.exchange(ctx, offset)
		switch {
		case errors.Is(err, errRestart) && restarted:
			// errRestart comes only for offset > 0, and offset grows only
			// after errMore: without this bound, a server that answers
			// every request with the same short 206 is asked forever.
			return 0, errRangesDisagree
		case errors.Is(err, errRestart):
			if err := t.discard(); err != nil {
				return 0, err
			}
			offset, restarted = 0, true
		case errors.Is(err, errNoRanges), errors.Is(err, errNoPrealloc):
			offset = 0 // once: noSplit is set, and the part is gone
			t.sayOneStream(err)
			t.fellBack = err
		case errors.Is(err, errMore):
			if offset, err = t.offset(); err != nil { // grew: no loop
				return 0, err
			}
		case errors.Is(err, errAskAgain):
			// Once: Rename is consulted once, so the destination moves
			// once.
		default:
			return out, err
		}
	}
}

// sayOneStream tells -v that a split goes on as one stream, and why: err
// wraps errNoRanges or errNoPrealloc. The stream's request says it when it
// is through the gate (announce).
func (t *transfer) sayOneStream(err error) {
	why := "the server answered a range with the whole file"
	if err != errNoRanges {
		why = err.Error() // a 206 for other bytes, say
	}
	t.try, t.told, t.note = t.res.Attempts, false, "one stream: "+why
}

// announce sends the Attempt event of the attempt under way, once, when its
// first request is through the gate and about to be sent: "try N" with -v
// means a request goes out, not that one waits for its turn (--rate,
// --per-host). The other requests of the same attempt (the rest of a capped
// range, a restart from zero) are not announced again.
func (t *transfer) announce() {
	if t.told {
		return
	}
	t.told = true
	t.emit.send(event.Event{Kind: event.Attempt, Attempt: t.try, Message: t.note})
}

// offset is where the part ends: where the next response should start.
func (t *transfer) offset() (int64, error) {
	if !t.haveMeta {
		return 0, nil // no validator: opened with truncation
	}
	fi, err := os.Stat(t.part)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("reading %s: %w", t.part, err)
	case t.meta.Length >= 0 && fi.Size() > t.meta.Length:
		return 0, t.discard() // longer than the resource
	}
	return fi.Size(), nil
}

// exchange is one request and its response, from the gate to the end of
// the body.
func (t *transfer) exchange(ctx context.Context, offset int64) (outcome, error) {
	release, err := t.pass(ctx)
	if err == errRestStopped {
		err = &stoppedError{err: restUnsent(t.meta, offset)}
	}
	if err != nil {
		return 0, err
	}
	t.announce()
	g := t.c.newGuard(ctx)
	defer g.stop()
	var hop func(*url.URL) error
	if t.c.cfg.Gate != nil {
		// Without a gate there is no slot to move (and nothing to pay
		// for one per request).
		slot := t.c.newHostSlot(t.host, release)
		slot.stop = t.req.Stop
		release = slot.free // a split lets go of the probe early; free is idempotent
		hop = slot.hop(g)
	}
	defer release()

	hreq, conditional := t.request(g.ctx, offset)
	resp, err := t.c.do(hreq, t.emit, g, hop)
	if err != nil {
		return 0, g.whyRequest(ctx, err)
	}
	defer resp.Body.Close()
	t.res.HTTPStatus = resp.StatusCode
	t.res.URL = finalURL(resp, hreq.URL)

	p, err := t.check(resp, offset, conditional)
	if err != nil {
		drain(resp)
		return 0, statusAt(resp, hreq.URL, err)
	}
	switch p.action {
	case actComplete:
		t.size = p.total
		return complete, nil
	case actNotModified:
		return notModified, nil
	}
	return t.receive(ctx, g, resp, p, release)
}

// pass gets the transfer's next request through the gate. The first one
// also gives way to Request.Stop, with ErrNotStarted, and calls
// Request.Began once through. The first request of a retry gives way to
// Request.Stop too, with ErrStopped: a shutdown starts no new attempt, and
// a retry that waits for the request rate or a slot of its host has not
// started yet (at --rate 1/m it could wait a minute). So does the request
// that fetches as one stream a file whose split fell through (fellBack),
// and, under a gate, one that asks for the rest of an attempt (errMore,
// errRestart), with errRestStopped: a shutdown lets the response being
// read finish, and sends no new request that would wait at the gate (at
// --rate 6/m, a server that caps its ranges at 4 MiB had a 1 GiB file
// fetched for 40 minutes after the Ctrl-C). Without a gate the rest goes
// at once, and the transfer in flight finishes.
//
// While a request waits at the gate, the item's Progress says so
// (SetWaiting): a retry that waits for its turn has nothing in flight
// either, and is shown as waiting, not as a transfer at 0 B/s.
func (t *transfer) pass(ctx context.Context) (func(), error) {
	if t.c.cfg.Gate != nil {
		t.req.Progress.SetWaiting(true)
		defer t.req.Progress.SetWaiting(false)
	}
	if t.begun {
		switch {
		case t.retrying:
			t.retrying = false
			release, err := t.passUnlessStopped(ctx, ErrStopped)
			if err == nil {
				t.between(false, false)
			}
			return release, err
		case t.fellBack != nil:
			// A split that fell through sends no new request after a
			// shutdown began, as its ranges do not (splitRun.pass).
			why := t.fellBack
			t.fellBack = nil
			return t.passUnlessStopped(ctx, &stoppedError{err: &unsentError{what: describe(why) + "; the file as one stream"}})
		}
		// The rest of a range that the server capped, or a restart from
		// zero: part of the transfer in flight, which a shutdown lets
		// finish; but not sent after a wait at the gate, which has no
		// bound (exchange says which bytes were not).
		if t.c.cfg.Gate == nil {
			return t.c.acquire(ctx, t.host)
		}
		return t.passUnlessStopped(ctx, errRestStopped)
	}
	release, err := t.passUnlessStopped(ctx, ErrNotStarted)
	if err == nil {
		t.begun = true
		if t.req.Began != nil {
			t.req.Began()
		}
	}
	return release, err
}

// passUnlessStopped gets a request through the gate, unless Request.Stop
// comes first: then it returns stopErr.
func (t *transfer) passUnlessStopped(ctx context.Context, stopErr error) (func(), error) {
	return t.c.acquireUnlessStopped(ctx, t.req.Stop, t.host, stopErr)
}

// acquireUnlessStopped passes the gate for host, unless stop (nil: none)
// is done first, or already: then it returns stopErr.
func (c *Client) acquireUnlessStopped(ctx, stop context.Context, host string, stopErr error) (func(), error) {
	if stop == nil {
		return c.acquire(ctx, host)
	}
	if stop.Err() != nil {
		return nil, stopErr
	}
	if c.cfg.Gate == nil {
		return func() {}, nil // nothing to wait for: no need to watch stop
	}
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(stop, cancel)()
	release, err := c.acquire(gctx, host)
	if err != nil && ctx.Err() == nil && stop.Err() != nil {
		err = stopErr
	}
	return release, err
}

// acquire passes the gate, if any.
func (c *Client) acquire(ctx context.Context, host string) (func(), error) {
	if c.cfg.Gate == nil {
		return func() {}, nil
	}
	return c.cfg.Gate.Acquire(ctx, host)
}

// request builds the GET of one exchange: a Range from offset (with
// If-Range when the part has a validator), or the split probe; and the
// conditions of --on-exists newer, to either. conditional tells whether a
// 304 means "not modified".
func (t *transfer) request(ctx context.Context, offset int64) (req *http.Request, conditional bool) {
	req = t.c.newRequest(ctx, t.u)
	switch {
	case offset > 0:
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		if v := t.meta.ifRange(); v != "" {
			req.Header.Set("If-Range", v)
		}
		if t.ifNewer {
			// A server weighs If-Modified-Since and If-None-Match before
			// If-Range (RFC 9110, 13.2.2): a copy no newer than the file
			// is a 304, not the rest of a part that would be thrown away.
			conditional = t.setConditions(req)
		}
		return req, conditional
	case t.c.cfg.Split > 1 && !t.noSplit:
		req.Header.Set("Range", "bytes=0-") // the split probe
	}
	if t.ifNewer {
		conditional = t.setConditions(req)
	}
	return req, conditional
}

// setConditions makes req conditional on the destination being out of
// date: If-Modified-Since its mtime, If-None-Match its stored ETag.
func (t *transfer) setConditions(req *http.Request) bool {
	fi, err := os.Stat(t.dest)
	if err != nil {
		return false
	}
	req.Header.Set("If-Modified-Since", fi.ModTime().UTC().Format(http.TimeFormat))
	if etag := readETag(t.dest); etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	return true
}

// action is what check decided to do with a response.
type action uint8

const (
	actWrite       action = iota + 1 // copy the body into the part at start
	actComplete                      // the part already holds everything
	actNotModified                   // 304 to a conditional request
)

// plan is check's reading of a response.
type plan struct {
	action action
	start  int64 // where the body goes in the part
	total  int64 // size of the whole resource, -1 if unknown
	ranged bool  // a 206
	end    int64 // of a 206: one past its last byte
}

// check reads a response's status and range against what was asked:
// only a 206 starting exactly at offset is appended; a 200 starts over at
// zero; a 416 saying the resource is as long as the part, which the
// sidecar does not contradict (completeAt), means the part is complete
// (or, with Request.IfNewer, not modified when that copy is not newer);
// a 416 to the split probe sends the item on as one stream (errNoRanges).
// With Request.IfNewer, a 2xx is judged against the file it would replace,
// which may be the one its server names (notNewer). It returns errRestart
// when the part must go and the request be made again from zero, and
// errAskAgain when a 304 names another file (movedBy304).
func (t *transfer) check(resp *http.Response, offset int64, conditional bool) (plan, error) {
	code := resp.StatusCode
	switch {
	case code == http.StatusNotModified && conditional:
		if err := t.movedBy304(resp, t.dest); err != nil {
			return plan{}, err
		}
		return plan{action: actNotModified}, nil
	case code == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		if t.completeAt(resp, offset) || t.endsAt(resp, offset) {
			if err := t.consultRenameWhole(resp); err != nil {
				return plan{}, err
			}
			if t.ifNewer && !newerCopy(t.meta.ETag, t.meta.LastModified, t.dest) {
				// The part is whole, and of a copy no newer than the
				// file: a server that ignored the conditions tells no
				// more than the sidecar, which the 416 did not contradict.
				return plan{action: actNotModified}, nil
			}
			return plan{action: actComplete, total: offset}, nil
		}
		return plan{}, errRestart
	case code == http.StatusRequestedRangeNotSatisfiable && t.c.cfg.Split > 1 && !t.noSplit:
		// The split probe (bytes=0-) refused: some servers (S3 among them)
		// answer any range of an empty file so, since none of its bytes
		// can be sent. The item goes on as one stream, without a Range.
		t.noSplit = true
		return plan{}, fmt.Errorf("%w: it answered the range probe with %s", errNoRanges, resp.Status)
	}
	if code >= 200 && code < 300 && t.ifNewer {
		// A server that ignores the conditions (a resume carries them
		// too, since request sets them beside If-Range) still says what
		// it has.
		if notNewer, err := t.notNewer(resp); err != nil {
			return plan{}, err
		} else if notNewer {
			return plan{action: actNotModified}, nil
		}
	}
	switch {
	case code == http.StatusPartialContent:
		return t.checkRange(resp, offset)
	case code >= 200 && code < 300:
		total := resp.ContentLength
		if code == http.StatusNoContent {
			total = 0
		}
		return plan{action: actWrite, start: 0, total: total}, nil
	}
	e := newHTTPError(resp)
	e.httpsPort = code == http.StatusBadRequest && strings.EqualFold(resp.Request.URL.Scheme, "http") && saysHTTPSPort(resp)
	return plan{}, e
}

// saysHTTPSPort tells whether the start of resp's body is the plain-text
// complaint of a TLS server (Go's, nginx's) that was sent a plain http
// request. It reads at most 512 bytes of the body, which drain reads on,
// and waits for them no longer than drain does: a 400 that promised a
// body and sent none waited out the stall timeout here.
func saysHTTPSPort(resp *http.Response) bool {
	var buf [512]byte
	var n int
	readBriefly(resp, func() { n, _ = io.ReadFull(resp.Body, buf[:]) })
	body := string(buf[:n])
	return strings.Contains(body, "HTTP request to an HTTPS server") ||
		strings.Contains(body, "plain HTTP request was sent to HTTPS port")
}

// completeAt tells whether resp, a 416 to a request for the bytes from
// offset, says that the part, offset bytes long, is the whole resource:
// its Content-Range must be "bytes */offset", and nothing the sidecar
// recorded may say otherwise, neither the length of the resource nor a
// validator the 416 carries. A server that ignores If-Range answers 416
// for a resource that changed or shrank under the part, and a server may
// simply be wrong; trusted on its word alone, a part cut short or stale
// would land under the final name as a success. Anything short of
// agreement restarts the part from zero.
func (t *transfer) completeAt(resp *http.Response, offset int64) bool {
	cr, ok := parseContentRange(resp.Header.Get("Content-Range"))
	if !ok || cr.first >= 0 || cr.total != offset {
		return false
	}
	if t.meta.Length >= 0 && t.meta.Length != offset {
		return false
	}
	return !t.meta.contradictedBy(resp)
}

// endsAt tells whether resp, a 416 to a request for the bytes from
// offset, ends a resource of unknown length whose bytes up to offset this
// transfer has just received: the server sent them as a range without the
// length ("bytes 0-1023/*"), which may have been capped, and now has
// nothing from offset on, so the resource is offset bytes long. Its
// Content-Range can give no length ("bytes */*", or none at all); one
// that gives a length is for completeAt to judge.
func (t *transfer) endsAt(resp *http.Response, offset int64) bool {
	if t.openEnd != offset || t.meta.contradictedBy(resp) {
		return false
	}
	_, ok := parseContentRange(resp.Header.Get("Content-Range"))
	return !ok
}

// contradictedBy tells whether resp carries a validator that differs from
// the one m recorded: another ETag, or another Last-Modified, when both
// sides have one, even when the other matches (a needless download costs
// time; bytes of another file after the part's, a wrong file). ETags are
// compared as strings, dates as instants, whatever their format.
func (m Meta) contradictedBy(resp *http.Response) bool {
	if etag := resp.Header.Get("ETag"); etag != "" && m.ETag != "" && etag != m.ETag {
		return true
	}
	lm := resp.Header.Get("Last-Modified")
	return lm != "" && m.LastModified != "" && !sameDate(lm, m.LastModified)
}

// checkRange accepts a 206 only when it continues the part exactly, with
// the same ETag and Last-Modified when both sides know them.
func (t *transfer) checkRange(resp *http.Response, offset int64) (plan, error) {
	fail := func(msg string) (plan, error) {
		if offset > 0 {
			return plan{}, errRestart
		}
		return plan{}, &rangeError{msg: msg}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
		return fail("the server answered with several ranges (multipart/byteranges), not the one asked for")
	}
	raw := resp.Header.Get("Content-Range")
	cr, ok := parseContentRange(raw)
	switch {
	case raw == "":
		return fail("the server answered 206 Partial Content without a Content-Range: which bytes it sent cannot be told")
	case !ok || cr.first < 0:
		return fail(fmt.Sprintf("the server answered 206 Partial Content with a Content-Range that does not parse: %q", raw))
	case cr.first != offset:
		return fail(fmt.Sprintf("the server sent bytes from %d (%q), not from %d as asked", cr.first, raw, offset))
	}
	if offset > 0 && t.meta.contradictedBy(resp) {
		// A server that ignores If-Range sends the tail of what it has
		// now; another ETag or Last-Modified says that is not the file
		// the part began.
		return plan{}, errRestart
	}
	if offset > 0 && t.meta.Length > 0 && cr.total >= 0 && cr.total != t.meta.Length {
		// Without a validator If-Range cannot tell; a new size says the
		// resource changed, and its tail must not follow the old prefix.
		return plan{}, errRestart
	}
	total := cr.total
	if total < 0 {
		total = -1
	}
	return plan{action: actWrite, start: offset, total: total, ranged: true, end: cr.last + 1}, nil
}

// statusAt is err, the reading of resp to a request for first, made to
// name the URL that answered when it is an unwanted status from a
// redirect's target (see failedAt).
func statusAt(resp *http.Response, first *url.URL, err error) error {
	var he *HTTPError
	if !errors.As(err, &he) {
		return err
	}
	return failedAt(resp.Request.URL, first, err)
}

// newHTTPError is the error of an unwanted status, with the Retry-After
// of a 429 or 503.
func newHTTPError(resp *http.Response) *HTTPError {
	e := &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status}
	e.noLocation = redirects(resp.StatusCode) && resp.Header.Get("Location") == ""
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.retryAfter, e.hasRetryAfter = limit.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// drainWait is how long drain waits for the rest of a small body. Such a
// body nearly always comes with its header; one that has not come by then
// may never come (a server that promises 20 bytes and sends none, keeping
// the connection open), and is not worth more than a new connection.
const drainWait = time.Second

// drain reads what is left of a small error or redirect body so its
// connection can be reused; a large or unsized one is just closed, as is
// one whose rest does not come within drainWait (the stall timeout would
// otherwise end the request, after a minute, for a body nobody reads).
func drain(resp *http.Response) {
	if resp.ContentLength < 0 || resp.ContentLength > 64<<10 {
		return
	}
	readBriefly(resp, func() { _, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) })
}

// readBriefly calls read, which reads resp's body, and closes the body if
// read is still at it after drainWait: closing aborts a read that waits
// (both transports allow it), and drops the connection.
func readBriefly(resp *http.Response, read func()) {
	timer := time.AfterFunc(drainWait, func() { resp.Body.Close() })
	defer timer.Stop()
	read()
}

// receive writes an accepted body into the part: consult Rename, open the
// part, save the validator when needMeta says so, then copy and verify the
// length.
func (t *transfer) receive(ctx context.Context, g *guard, resp *http.Response, p plan, release func()) (outcome, error) {
	if err := t.consultRename(resp); err != nil {
		return 0, err
	}
	// The part first, then its sidecar: a crash in between leaves a part
	// without a sidecar, which is never resumed.
	f, unnamed, err := t.openBody(resp, p)
	if err != nil {
		return 0, err
	}
	defer func() {
		if f != t.unnamed {
			f.Close()
		}
	}()
	if p.start == 0 { // opened with truncation: whatever the part held is gone
		t.meta, t.haveMeta, t.split, t.resumed = metaOf(t.req.URL, resp, p.total), true, false, false
	}
	t.req.Progress.SetDone(p.start)
	t.req.Progress.SetTotal(p.total)
	if t.splittable(resp, p) {
		return t.splitFrom(ctx, g, f, resp, release) // saves the sidecar with the ranges
	}
	if t.needMeta(p) {
		if err := t.saveMeta(); err != nil {
			f.Close() // before removeIfFull removes the part: see below
			return 0, t.removeIfFull(err)
		}
	}
	if err := t.hashPrefix(ctx, f, p.start); err != nil {
		return 0, err
	}
	n, err := t.copy(ctx, g, f, p.start, resp.Body)
	written := p.start + n // known to be in the part
	if err == nil && !unnamed {
		// A part cut by another program after the last write; copy
		// checks before each of the others. A file without a name
		// (unnamed) no other program can open.
		err = checkPart(f, t.part, written)
	}
	if err == nil && !moreToFetch(p, n) && t.verifyLength(p, resp.ContentLength, p.start+n) == nil {
		t.stamp(f) // the part is whole: stamp it while it is open
		if unnamed {
			t.unnamed, t.size = f, n // finish names it
			return complete, nil
		}
	}
	if unnamed {
		// Not whole: the bytes become the part, as if it had had its name
		// from the start, for the next attempt or run to resume.
		if n > 0 && !isDiskFull(err) && t.nameUnnamed(f) == nil {
			t.partMade = true // else the next attempt starts over
		}
	} else if err == nil {
		if err = closePart(f); err != nil {
			written = p.start // a failed close leaves this body's bytes in doubt
		}
	}
	if err != nil {
		if f != t.unnamed {
			// Closed before removeIfFull removes the part, which Windows
			// refuses for an open file: a disk-full part stayed, without
			// its sidecar. The deferred Close then does nothing.
			f.Close()
		}
		if resp.ContentLength >= 0 && errors.Is(err, io.ErrUnexpectedEOF) {
			err = &shortBodyError{got: p.start + n, want: p.start + resp.ContentLength}
		}
		if t.resumed && isDiskFull(err) {
			cutPart(t.part, written) // kept by removeIfFull, for the next run
		}
		return 0, t.removeIfFull(err)
	}
	if moreToFetch(p, n) {
		if p.total < 0 {
			t.openEnd = p.end
		}
		return 0, errMore
	}
	t.size = p.start + n
	return complete, t.verifyLength(p, resp.ContentLength, t.size)
}

// openBody opens the file that the body of p goes into. That is the part,
// unless the caller vouches that no part is on disk (Request.NoPart) and
// the body is small and starts the file: then it is a file without a name,
// which finish names once the body is whole (nameUnnamed), and the part is
// named only if the body is cut short. That spares the part's name and its
// rename: on a tmpfs, 16 KiB files take 14 µs each to write, stamp and name
// this way against 17 µs through a part and a rename.
func (t *transfer) openBody(resp *http.Response, p plan) (f *partFile, unnamed bool, err error) {
	if t.req.NoPart && !t.partMade && p.start == 0 && !t.metaOnDisk && !t.needMeta(p) &&
		!t.splittable(resp, p) && !t.c.noUnnamed.Load() {
		f, err := openUnnamed(t.part)
		if err == nil {
			return f, true, nil
		}
		if errors.Is(err, errNoUnnamed) {
			t.c.noUnnamed.Store(true)
		}
		// Any other error, the part's own open says again, better.
	}
	if err := t.claim(true); err != nil {
		return nil, false, err
	}
	t.partMade = true
	f, err = openPart(t.part, p.start)
	return f, false, err
}

// nameUnnamed gives f, a file without a name, the part's name, which
// should not be taken, and holds the part (own). When linking fails (a
// part is there after all, or the file system cannot), it copies f into
// the part instead, unless another process writes that one. f stays open.
func (t *transfer) nameUnnamed(f *partFile) error {
	path := t.part
	if linkUnnamed(f, path) == nil {
		// Named, but not held yet: another process may take it first, and
		// then it is that one's.
		return t.own(false)
	}
	if err := t.own(true); err != nil {
		return err
	}
	w, err := openPart(path, 0)
	if err != nil {
		return err
	}
	bp := t.c.getBuf()
	defer t.c.putBuf(bp)
	_, err = io.CopyBuffer(io.NewOffsetWriter(w, 0), io.NewSectionReader(f, 0, 1<<62), *bp)
	if cerr := closePart(w); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		t.lock.release()
		return classifyWrite(path, err)
	}
	return nil
}

// dropUnnamed closes a file without a name that was never named: its
// bytes go with it.
func (t *transfer) dropUnnamed() {
	if t.unnamed != nil {
		t.unnamed.Close()
		t.unnamed = nil
	}
}

// moreToFetch tells whether the n bytes received for p were a whole range
// but less than the file (some servers cap ranges), or may be: a range
// whose server did not give the length of the file ("bytes 0-1023/*") is
// followed by a request for the rest, until the server has no more
// (endsAt).
func moreToFetch(p plan, n int64) bool {
	return p.ranged && n > 0 && p.start+n == p.end && (p.total < 0 || p.end < p.total)
}

// stamp gives the whole part, through its open file, what finish would
// give it by path: the mtime of the resource and its ETag. Through the file
// descriptor, the kernel looks no path up.
func (t *transfer) stamp(f *partFile) {
	if lm, err := parseHTTPDate(t.meta.LastModified); err == nil {
		setModTime(f, lm)
	}
	setETag(f, t.meta.ETag)
	t.stamped = true
}

// lazyMetaMax is the largest body whose sidecar waits until the part is
// kept unfinished: one copy buffer.
const lazyMetaMax = bufSize

// MaxPartWithoutSidecar is the most a .part that fetchpool writes holds
// without its sidecar (NAME.part.meta): a larger body gets its sidecar
// before its first byte. A larger part without one was left by another
// program, or is a finished file whose name ends in ".part", and is not
// fetchpool's to truncate.
const MaxPartWithoutSidecar = lazyMetaMax

// needMeta tells whether the sidecar must be on disk before the body is
// written. It must for a body that may be large (of unknown length, or
// longer than lazyMetaMax), so that a crash leaves a part that can be
// resumed; for the rest of a part that this run started without one; and
// when an older sidecar is there but the part starts over, so that it never
// describes bytes it did not see. A small body that starts a part is
// written without one, saving three system calls of the four a small file
// needed: a crash loses at most lazyMetaMax bytes, and a part kept
// unfinished gets its sidecar then (keepPart).
func (t *transfer) needMeta(p plan) bool {
	if t.metaOnDisk {
		return p.start == 0
	}
	return p.start > 0 || p.total < 0 || p.total > lazyMetaMax
}

// copy copies a body into the part at off through the stall watch and the
// throttle, and counts it.
func (t *transfer) copy(ctx context.Context, g *guard, f *partFile, off int64, body io.Reader) (int64, error) {
	if n, done, err := t.writeBuffered(g, f, off, body); done {
		return n, err
	}
	r := g.throttled(body, t.c.cfg.Throttle)
	n, err := t.c.copyBody(g.ctx, f, off, r, -1, t.h, t.req.Progress)
	t.res.Bytes += n
	if t.h != nil {
		t.hashed += n
	}
	var re *readError
	if errors.As(err, &re) {
		if why := g.why(ctx, re.err); why != re.err {
			err = why
		}
	}
	return n, err
}

// bufferedBody is a response body that can hand over its rest from the
// connection's read buffer (http1's).
type bufferedBody interface {
	WriteBuffered(write func([]byte) error) (bool, error)
}

// writeBuffered writes a body that has arrived whole straight from the
// connection's buffer into f at off: for a small file, one copy of its
// bytes fewer than through copyBody, which reads them into its buffer
// first. It reports false, having done nothing, when the body is not all
// there yet, when a --limit-rate throttle must pace it, or when ctx is done.
func (t *transfer) writeBuffered(g *guard, f *partFile, off int64, body io.Reader) (int64, bool, error) {
	b, ok := body.(bufferedBody)
	if !ok || t.c.cfg.Throttle != nil || g.ctx.Err() != nil {
		return 0, false, nil
	}
	var n int64
	done, err := b.WriteBuffered(func(p []byte) error {
		if _, err := f.WriteAt(p, off); err != nil {
			return classifyWrite(f.Name(), err)
		}
		if t.h != nil {
			t.h.Write(p)
			t.hashed += int64(len(p))
		}
		n = int64(len(p))
		t.req.Progress.Add(n)
		return nil
	})
	t.res.Bytes += n
	return n, done, err
}

// verifyLength checks that the part holds what the response promised:
// Content-Length bytes, and the whole resource when its size is known.
func (t *transfer) verifyLength(p plan, contentLength, size int64) error {
	if contentLength >= 0 && size-p.start != contentLength {
		return &shortBodyError{got: size, want: p.start + contentLength}
	}
	if p.total >= 0 && size != p.total {
		if size < p.total {
			return &shortBodyError{got: size, want: p.total}
		}
		return &rangeError{msg: fmt.Sprintf("server sent %d bytes of a %d-byte file", size, p.total)}
	}
	return nil
}

// removeIfFull decides, after a disk-full error (no space, or the file
// size limit), what becomes of the part, and returns err.
//
// A part that holds bytes of an earlier run is kept, with its sidecar, and
// the error says so: those bytes may have taken hours to come, and once
// there is room the next run resumes from them. Its sidecar is consistent
// with it: a single stream's progress is the part's size (receive cuts it
// back to what is known to be written), and a split part's ranges record
// only bytes written (splitRun.save rewrites the record atomically, or
// leaves the older one).
//
// A part that this run started from zero (or restarted, its old bytes
// already discarded) is removed, as it always was, on purpose: the space
// goes to the items after it in the batch, which then fit
// (TestFaultDiskFull), and what is lost is only what this run fetched.
func (t *transfer) removeIfFull(err error) error {
	var full *diskFullError
	if !errors.As(err, &full) {
		return err
	}
	if t.resumed {
		full.kept = t.part
	} else {
		t.removePart()
	}
	return err
}

// cutPart cuts the part back to its first size bytes, those known to be
// written: what a write cut short, or a close that failed, left after them
// is in doubt. Best effort: cutting a file needs no room.
func cutPart(part string, size int64) {
	f, err := openPartFile(part, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	_ = f.Truncate(size)
	_ = f.Close()
}

// consultRename asks Request.Rename, once, for the destination of the
// Content-Disposition file name of the first successful response.
func (t *transfer) consultRename(resp *http.Response) error {
	name, _ := naming.FromContentDisposition(resp.Header.Get("Content-Disposition"))
	return t.consultName(name, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
}

// consultRenameWhole is consultRename for a 416 that finds the part whole:
// the name is the one the 416 gives, else the one the sidecar recorded
// from the response that began the part (few servers repeat it in a 416),
// and the copy is the part's, known by its sidecar.
func (t *transfer) consultRenameWhole(resp *http.Response) error {
	name, ok := naming.FromContentDisposition(resp.Header.Get("Content-Disposition"))
	if !ok {
		name = t.meta.Name
	}
	return t.consultName(name, t.meta.ETag, t.meta.LastModified)
}

// consultName asks Request.Rename, once, for the destination of name, the
// file name its server gives ("" for none) to a copy known by its ETag and
// Last-Modified.
func (t *transfer) consultName(name, etag, lastModified string) error {
	if t.req.Rename == nil || t.consulted {
		return nil
	}
	t.consulted = true
	if name == "" {
		return nil
	}
	dest, err := t.req.Rename(name)
	if err != nil {
		if errors.Is(err, ErrSkip) && dest.Path != "" {
			t.res.Path = dest.Path // the file that is there
		}
		return err
	}
	if dest.IfNewer && !newerCopy(etag, lastModified, dest.Path) {
		t.res.Path = dest.Path
		return ErrNotNewer
	}
	if dest.IfNewer {
		// Every later response is judged against that file too (a
		// retry's may bring an older copy), and later requests are
		// conditional on it.
		t.ifNewer = true
	}
	if dest.Path != "" {
		t.dest = dest.Path
		t.res.Path = dest.Path
	}
	if dest.SHA256 != "" {
		// Checked like any expected digest; hashPrefix catches up on bytes
		// a resumed part already holds.
		t.req.SHA256 = dest.SHA256
		if t.h == nil {
			t.h, t.hashed = sha256.New(), 0
		}
	}
	return nil
}

// movedBy304 consults Request.Rename with resp, a 304 to conditions taken
// from the file at from: a server may name the file in a 304 too (net/http
// does, and nginx's add_header). When that moves the item to another file,
// the 304 said nothing of it, and errAskAgain asks again with the
// conditions of that file (none when it does not exist), unless Rename
// already judged it (ErrNotNewer by the 304's validators). Without that, a
// file under the URL's name that was up to date kept the file the server
// names from ever being fetched.
func (t *transfer) movedBy304(resp *http.Response, from string) error {
	if err := t.consultRename(resp); err != nil {
		return err
	}
	if t.dest != from {
		return errAskAgain
	}
	return nil
}

// notNewer tells whether resp, a 2xx to a request of Request.IfNewer, is
// no newer than the file it would replace. That is the file under the name
// its server gives (Content-Disposition), when it gives one that moves the
// item: Request.Rename is consulted first, and judges that file itself
// (Destination.IfNewer). The file under the URL's name, which the request's
// conditions came from, is then no concern of the response: judged by it,
// a file named so and newer than the server's copy kept the item from ever
// being fetched under the server's name.
func (t *transfer) notNewer(resp *http.Response) (bool, error) {
	if err := t.consultRename(resp); err != nil {
		return false, err
	}
	return !newerThan(resp, t.dest), nil
}

// newerThan tells whether resp is a newer copy of the file at path, as a
// server answers If-None-Match (the ETag stored on path) and
// If-Modified-Since (its mtime, to the second): another ETag is newer, the
// same one is not; without both, a Last-Modified after the mtime is newer;
// and with nothing to compare, the response counts as newer.
func newerThan(resp *http.Response, path string) bool {
	return newerCopy(resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), path)
}

// newerCopy is newerThan for a copy known by its ETag and Last-Modified
// (either may be ""): those a sidecar recorded, say.
func newerCopy(etag, lastModified, path string) bool {
	if stored := readETag(path); etag != "" && stored != "" {
		return etag != stored
	}
	fi, err := os.Stat(path)
	if err != nil {
		return true
	}
	lm, err := parseHTTPDate(lastModified)
	return err != nil || laterThanStored(lm, fi.ModTime(), onFAT(path))
}

// laterThanStored tells whether t is later than stored, the mtime that a
// file was given from an earlier t, in whole seconds: the resolution of
// Last-Modified, and all that some file systems keep (exfat, HFS+). FAT
// (fat set) keeps even seconds only, and stores an odd one as the second
// before: there, a time within two seconds of the one stored is not later.
func laterThanStored(t, stored time.Time, fat bool) bool {
	t, stored = t.Truncate(time.Second), stored.Truncate(time.Second)
	if fat {
		return t.Sub(stored) >= 2*time.Second
	}
	return t.After(stored)
}

// hashPrefix feeds h the first off bytes of the part when h has not seen
// them (a resume in a new run, or after a restart).
func (t *transfer) hashPrefix(ctx context.Context, f *partFile, off int64) error {
	if t.h == nil || t.hashed == off {
		return nil
	}
	t.h.Reset()
	t.hashed = 0
	if off == 0 {
		return nil
	}
	n, err := t.c.hashReader(ctx, t.h, io.NewSectionReader(f, 0, off))
	t.hashed = n
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.part, err)
	}
	return nil
}

// hashReader feeds h from r, with ctx checked between reads.
func (c *Client) hashReader(ctx context.Context, h hash.Hash, r io.Reader) (int64, error) {
	bp := c.getBuf()
	defer c.putBuf(bp)
	return hashFrom(ctx, h, r, *bp, nil)
}

// hashFrom feeds h from r through buf, counting the bytes in p (if not
// nil), with ctx checked between reads.
func hashFrom(ctx context.Context, h hash.Hash, r io.Reader, buf []byte, p *event.Progress) (int64, error) {
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(buf)
		h.Write(buf[:m])
		n += int64(m)
		if p != nil {
			p.Add(int64(m))
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// openPart opens the part for writing at start, dropping anything after
// start. It never touches the final name.
func openPart(part string, start int64) (*partFile, error) {
	flag := os.O_RDWR | os.O_CREATE
	if start == 0 {
		flag |= os.O_TRUNC
	}
	f, err := openPartFile(part, flag, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if merr := os.MkdirAll(filepath.Dir(part), 0o755); merr == nil {
			f, err = openPartFile(part, flag, 0o644)
		}
	}
	if err != nil {
		return nil, classifyWrite(part, err)
	}
	if start == 0 {
		return f, nil
	}
	if err := f.Truncate(start); err != nil {
		f.Close()
		return nil, classifyWrite(part, err)
	}
	return f, nil
}

// closePart closes a part after writing: a failed close can be a failed
// write.
func closePart(f *partFile) error {
	if err := f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return classifyWrite(f.Name(), err)
	}
	return nil
}

// finish is the last step: verify the digest, stamp the part with the
// server's mtime and ETag, rename it into place and drop the sidecar.
func (t *transfer) finish(ctx context.Context) (Result, error) {
	t.res.Size = t.size
	if err := t.verifyDigest(ctx, t.size); err != nil {
		return t.res, err
	}
	if t.unnamed != nil {
		if err := t.placeUnnamed(); err != nil {
			return t.res, err
		}
		t.res.Path = t.dest
		return t.res, nil
	}
	if err := t.claim(false); err != nil {
		return t.res, err
	}
	if !t.stamped {
		t.stampPath(t.part)
	}
	// Not when nothing under the output directory predates the run
	// (NoPart), nor when the caller found nothing at Path (NoFile).
	if !t.req.NoPart && !(t.req.NoFile && t.dest == t.req.Path) {
		keepMode(t.part, t.dest)
	}
	if err := renameFile(t.part, t.dest); err != nil {
		return t.res, placeError(t.part, t.dest, err)
	}
	if t.metaOnDisk {
		removeSidecar(t.part)
	}
	t.res.Path = t.dest
	return t.res, nil
}

// keepMode gives part the permission bits of the regular file at dest that
// it is about to replace, best effort, as wget -N and curl keep them by
// writing into the file, and rsync by default: a tool made executable
// stays executable when a newer copy replaces it, and a file made private
// stays private. Only the permission bits: never setuid, setgid or sticky.
func keepMode(part, dest string) {
	fi, err := os.Lstat(dest)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	_ = os.Chmod(part, fi.Mode().Perm())
}

// placeError is the failure to rename the whole part into place at dest.
// A directory there (made while the part downloaded) is named with what to
// do: the part stays, whole, and the next run finds it complete. Windows
// says only "access denied" of a directory in the way, which is told from
// its other reasons by looking at dest.
func placeError(part, dest string, err error) error {
	if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
		return &placeDirError{part: part, dest: dest, err: err}
	}
	if fi, serr := os.Lstat(dest); serr == nil && fi.IsDir() {
		return &placeDirError{part: part, dest: dest, err: err}
	}
	if refusedName(part, dest, err) {
		return &placeNameError{part: part, dest: dest, err: err}
	}
	return fmt.Errorf("moving %s into place: %w", part, err)
}

// refusedName tells whether the rename of part to dest failed because the
// file system does not take dest's name: a name from Content-Disposition
// with a character that FAT and exFAT refuse, which the part, named after
// the URL, did not have. The kernel's vfat and exfat say EINVAL; exfat in
// user space (exfat-fuse) says ENOENT, which, with the part and dest's
// directory both there, can mean nothing else.
func refusedName(part, dest string, err error) bool {
	if errors.Is(err, syscall.EINVAL) {
		return true
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, perr := os.Lstat(part)
	fi, derr := os.Stat(filepath.Dir(dest))
	return perr == nil && derr == nil && fi.IsDir()
}

// placeNameError is a name that the file system refuses, found when the
// whole part was to be renamed to it.
type placeNameError struct {
	part, dest string
	err        error
}

func (e *placeNameError) Error() string {
	return fmt.Sprintf(`moving %s into place as %s: %v: the file system does not take this name (FAT and exFAT refuse \ : * ? " < > | in names); the download is in %s: give the item a name of its own (URL<TAB>NAME) or save it on another file system`,
		e.part, e.dest, withoutLink(e.err), e.part)
}

func (e *placeNameError) Unwrap() error { return e.err }

// withoutLink is err without the operation and paths of an *os.LinkError,
// which the message around it says already.
func withoutLink(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// placeDirError is a directory in the way of a whole part's rename.
type placeDirError struct {
	part, dest string
	err        error
	removed    bool // the part was removed (a local copy), not kept
}

func (e *placeDirError) Error() string {
	if e.removed {
		return fmt.Sprintf("moving %s into place: %s is a directory; move the directory away and run again", e.part, e.dest)
	}
	return fmt.Sprintf("moving %s into place: %s is a directory; %s is kept whole: move the directory away and run again",
		e.part, e.dest, e.part)
}

func (e *placeDirError) Unwrap() error { return e.err }

// stampPath is stamp by path, for a part that was not open when it became
// whole.
func (t *transfer) stampPath(path string) {
	if lm, err := parseHTTPDate(t.meta.LastModified); err == nil {
		setModTimePath(path, lm)
	}
	writeETag(path, t.meta.ETag)
}

// placeUnnamed gives the whole body, written and stamped without a name,
// its final name. When linking fails, it is copied into the part, which is
// stamped and renamed into place as any other.
func (t *transfer) placeUnnamed() error {
	f := t.unnamed
	err := linkUnnamed(f, t.dest)
	if err == nil {
		t.dropUnnamed()
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		// Not a name in the way: this system cannot link such files (an
		// old kernel without /proc, say). Copying each one would cost more
		// than the part saves, so later bodies go through parts.
		t.c.noUnnamed.Store(true)
	}
	if err := t.nameUnnamed(f); err != nil {
		return err
	}
	t.dropUnnamed()
	if err := t.claim(false); err != nil {
		return err
	}
	t.stampPath(t.part)
	if err := renameFile(t.part, t.dest); err != nil {
		return placeError(t.part, t.dest, err)
	}
	return nil
}

// verifyDigest computes the SHA-256 of the part, from the stream when it
// saw every byte or else from the file, and compares it with the expected
// one. A mismatch removes the part: its bytes are wrong.
func (t *transfer) verifyDigest(ctx context.Context, size int64) error {
	if t.h == nil {
		return nil
	}
	if t.split || t.hashed != size {
		if err := t.rehash(ctx); err != nil {
			return err
		}
	}
	var err error
	t.res.SHA256, err = checkDigest(t.req.SHA256, t.h)
	if err != nil {
		t.removePart()
	}
	return err
}

// rehash hashes the whole part from disk.
func (t *transfer) rehash(ctx context.Context) error {
	if t.unnamed != nil {
		t.h.Reset()
		n, err := t.c.hashReader(ctx, t.h, io.NewSectionReader(t.unnamed, 0, t.size))
		t.hashed = n
		return err
	}
	f, err := openFile(t.part, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.part, err)
	}
	defer f.Close()
	t.h.Reset()
	n, err := t.c.hashReader(ctx, t.h, f)
	t.hashed = n
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.part, err)
	}
	return nil
}
