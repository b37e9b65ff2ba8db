package limit

import (
	"context"
	"io"
	"time"

	"golang.org/x/time/rate"
)

// minBurst is the smallest bucket a Bandwidth uses: one io.Copy buffer, so
// that a typical read never has to be split.
const minBurst = 32 << 10

// Bandwidth caps the sum of bytes per second read through all of its
// readers: one token bucket that every transfer draws from. A nil
// *Bandwidth is unlimited, but a zero Bandwidth is not usable: make one with
// NewBandwidth. A Bandwidth is safe for concurrent use.
type Bandwidth struct {
	lim   *rate.Limiter
	burst int // bucket size, and the largest single WaitN
	chunk int // largest single Read
}

// NewBandwidth returns a cap of bytesPerSecond, or nil (unlimited) when
// bytesPerSecond <= 0.
//
// The bucket holds max(32 KiB, bytesPerSecond/10): a tenth of a second of
// traffic keeps any burst after an idle spell to about 1% of a 10-second
// window, while 32 KiB, one io.Copy buffer, keeps a common read to one
// WaitN. The bucket starts empty, so a run's first burst is not free
// either. Single reads are capped at a tenth of a second's worth (at least
// one byte), so that at a low cap bytes still arrive every 100 ms rather
// than in lumps long enough to look like a stalled transfer.
func NewBandwidth(bytesPerSecond int64) *Bandwidth {
	if bytesPerSecond <= 0 {
		return nil
	}
	burst := int(min(max(bytesPerSecond/10, minBurst), 1<<30))
	lim := rate.NewLimiter(rate.Limit(bytesPerSecond), burst)
	lim.AllowN(time.Now(), burst) // start empty
	return &Bandwidth{
		lim:   lim,
		burst: burst,
		chunk: int(min(max(bytesPerSecond/10, 1), int64(burst))),
	}
}

// Reader returns r with every Read charged to b with ctx: a Read returns
// its bytes only once the bucket has paid for them, and cancelling ctx
// interrupts a throttled Read with ctx's error (the bytes already read are
// still returned with it). Bytes are charged after the read, for what was
// actually read, so a short read costs only its length. The reader has no
// other methods, so io.Copy cannot bypass it through WriterTo or ReaderFrom.
// A nil b returns r itself.
func (b *Bandwidth) Reader(ctx context.Context, r io.Reader) io.Reader {
	if b == nil {
		return r
	}
	return &reader{ctx: ctx, r: r, b: b}
}

type reader struct {
	ctx context.Context
	r   io.Reader
	b   *Bandwidth
}

func (r *reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > r.b.chunk {
		p = p[:r.b.chunk]
	}
	n, err := r.r.Read(p)
	if n > 0 {
		if werr := wait(r.ctx, r.b.lim, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// WaitN charges n bytes to b, blocking until the bucket has paid for them
// or ctx is done (then it returns ctx's error). n may exceed the bucket: it
// is paid in bucket-sized parts. A nil b returns at once.
func (b *Bandwidth) WaitN(ctx context.Context, n int) error {
	if b == nil {
		return nil
	}
	for n > 0 {
		part := min(n, b.burst)
		if err := wait(ctx, b.lim, part); err != nil {
			return err
		}
		n -= part
	}
	return nil
}
