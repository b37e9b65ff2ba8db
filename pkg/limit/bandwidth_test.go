package limit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// zeros is an endless source of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestNewBandwidthUnlimited(t *testing.T) {
	for _, bps := range []int64{0, -1} {
		if b := NewBandwidth(bps); b != nil {
			t.Errorf("NewBandwidth(%d) = %v, want nil", bps, b)
		}
	}
}

func TestNilBandwidthPassesThrough(t *testing.T) {
	var b *Bandwidth
	src := strings.NewReader("hello")
	if r := b.Reader(t.Context(), src); r != io.Reader(src) {
		t.Errorf("nil Bandwidth wrapped the reader: %T", r)
	}
	if err := b.WaitN(t.Context(), math.MaxInt); err != nil {
		t.Errorf("nil WaitN: %v", err)
	}
}

func TestNewBandwidthSizes(t *testing.T) {
	tests := []struct {
		bps          int64
		burst, chunk int
	}{
		{10, 32 << 10, 1},
		{1000, 32 << 10, 100},
		{512 << 10, 512 << 10 / 10, 512 << 10 / 10},
		{2 << 20, 2 << 20 / 10, 2 << 20 / 10},
		{1 << 50, 1 << 30, 1 << 30},
	}
	for _, tt := range tests {
		b := NewBandwidth(tt.bps)
		if b.burst != tt.burst || b.chunk != tt.chunk {
			t.Errorf("NewBandwidth(%d): burst %d chunk %d, want %d and %d", tt.bps, b.burst, b.chunk, tt.burst, tt.chunk)
		}
	}
}

func TestBandwidthReaderCopiesAll(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	b := NewBandwidth(512 << 10)
	var got bytes.Buffer
	start := time.Now()
	n, err := io.Copy(&got, b.Reader(t.Context(), bytes.NewReader(want)))
	elapsed := time.Since(start)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("copied %d bytes, err %v; want %d", n, err, len(want))
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Error("bytes changed on the way through")
	}
	// Ideal: 2 s. The bucket starts empty, so only in-flight reads beat it.
	if elapsed < 1500*time.Millisecond {
		t.Errorf("1 MiB at 512 KiB/s took %v, want at least 1.5s", elapsed)
	}
	t.Logf("1 MiB at 512 KiB/s took %v", elapsed)
}

func TestBandwidthReaderCapsReads(t *testing.T) {
	b := NewBandwidth(10 << 10) // chunk 1 KiB
	r := b.Reader(t.Context(), zeros{})
	buf := make([]byte, 32<<10)
	n, err := r.Read(buf)
	if err != nil || n != 1024 {
		t.Errorf("Read = %d, %v; want 1024, nil", n, err)
	}
}

// signalReader reports on read each time it has delivered bytes.
type signalReader struct {
	read chan int
}

func (s signalReader) Read(p []byte) (int, error) {
	n := min(len(p), 100)
	s.read <- n
	return n, nil
}

func TestBandwidthReaderCancel(t *testing.T) {
	b := NewBandwidth(1 << 10)
	b.lim.ReserveN(time.Now(), b.burst) // the bucket owes 32 s
	ctx, cancel := context.WithCancel(t.Context())
	src := signalReader{read: make(chan int, 1)}
	r := b.Reader(ctx, src)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := r.Read(make([]byte, 4096))
		done <- result{n, err}
	}()
	delivered := <-src.read
	cancel()
	start := time.Now()
	select {
	case got := <-done:
		if !errors.Is(got.err, context.Canceled) {
			t.Errorf("Read error = %v, want context.Canceled", got.err)
		}
		if got.n != delivered {
			t.Errorf("Read returned %d bytes, want the %d it read", got.n, delivered)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a throttled Read did not return after cancel")
	}
	t.Logf("returned %v after cancel", time.Since(start))

	if n, err := r.Read(make([]byte, 10)); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel = %d, %v; want 0, context.Canceled", n, err)
	}
}

func TestBandwidthWaitN(t *testing.T) {
	b := NewBandwidth(1 << 20) // burst 100 KiB
	start := time.Now()
	if err := b.WaitN(t.Context(), 300<<10); err != nil {
		t.Fatalf("WaitN above the burst: %v", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("300 KiB at 1 MiB/s took %v, want at least 200ms", d)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := b.WaitN(ctx, 10<<20); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitN past the deadline: error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("WaitN took %v to give up", d)
	}
}

func BenchmarkBandwidthReader(b *testing.B) {
	bw := NewBandwidth(1 << 50) // never blocks: measures the per-read cost
	r := bw.Reader(context.Background(), zeros{})
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBandwidthReaderParallel(b *testing.B) {
	bw := NewBandwidth(1 << 50)
	b.SetBytes(32 << 10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := bw.Reader(context.Background(), zeros{})
		buf := make([]byte, 32<<10)
		for pb.Next() {
			if _, err := r.Read(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
