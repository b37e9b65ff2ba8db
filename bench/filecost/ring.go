//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The io_uring system calls, operations and flags used here
// (include/uapi/linux/io_uring.h).
const (
	sysSetup    = 425
	sysEnter    = 426
	sysRegister = 427

	registerFiles   = 2
	registerEventfd = 4

	offSQEs = 0x10000000

	opOpenat         = 18
	opClose          = 19
	opWrite          = 23
	opFsetxattr      = 41
	opFixedFdInstall = 54 // Linux 6.8

	sqeFixedFile   = 1 << 0
	sqeLink        = 1 << 2
	sqeAsync       = 1 << 4
	sqeSkipSuccess = 1 << 6
)

// params is struct io_uring_params.
type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

// sqe is struct io_uring_sqe, as the operations here use it.
type sqe struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off           uint64 // or addr2
	addr          uint64
	len           uint32
	opFlags       uint32
	userData      uint64
	bufIndex      uint16
	personality   uint16
	fileIndex     uint32
	addr3         uint64
	_             uint64
}

// cqe is struct io_uring_cqe.
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// ring is an io_uring with a table of fixed file slots, one per chain in
// flight, and an eventfd that a reaper goroutine reads, through Go's
// network poller, to hand each chain's result to its waiter.
type ring struct {
	fd      int
	rings   []byte
	sqeMem  []byte
	ev      *os.File
	reaped  chan struct{}
	slots   chan uint32
	mu      sync.Mutex
	sqTail  *uint32
	sqMask  uint32
	sqArray []uint32
	sqes    []sqe
	cqHead  *uint32
	cqTail  *uint32
	cqMask  uint32
	cqes    []cqe
	nextID  uint64
	waiters map[uint64]*chain
}

// chain is what the reaper has seen of one file's chain so far.
type chain struct {
	fd   int32 // from the install, or -1
	err  int32 // the first error, negated, or 0
	done chan struct{}
}

// The operations of a chain, in the low bits of its user data.
const (
	chainOpen = iota
	chainWrite
	chainXattr
	chainInstall
	chainClose
	chainBits = 3
)

// newRing sets up a ring for up to chains chains in flight.
func newRing(chains int) (*ring, error) {
	entries := uint32(8)
	for entries < uint32(chains*5) {
		entries *= 2
	}
	var p params
	fd, _, errno := syscall.Syscall(sysSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("setup: %w", errno)
	}
	r := &ring{fd: int(fd), waiters: map[uint64]*chain{}, reaped: make(chan struct{})}
	fail := func(what string, err error) (*ring, error) {
		r.close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	size := max(int(p.sqOff.array+p.sqEntries*4), int(p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(cqe{}))))
	var err error
	if r.rings, err = unix.Mmap(r.fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fail("mmap rings", err)
	}
	if r.sqeMem, err = unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fail("mmap entries", err)
	}
	base := unsafe.Pointer(&r.rings[0])
	r.sqTail = (*uint32)(unsafe.Add(base, p.sqOff.tail))
	r.sqMask = *(*uint32)(unsafe.Add(base, p.sqOff.ringMask))
	r.sqArray = unsafe.Slice((*uint32)(unsafe.Add(base, p.sqOff.array)), p.sqEntries)
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqHead = (*uint32)(unsafe.Add(base, p.cqOff.head))
	r.cqTail = (*uint32)(unsafe.Add(base, p.cqOff.tail))
	r.cqMask = *(*uint32)(unsafe.Add(base, p.cqOff.ringMask))
	r.cqes = unsafe.Slice((*cqe)(unsafe.Add(base, p.cqOff.cqes)), p.cqEntries)

	empty := make([]int32, chains) // -1: a sparse slot
	r.slots = make(chan uint32, chains)
	for i := range empty {
		empty[i] = -1
		r.slots <- uint32(i)
	}
	if _, _, errno := syscall.Syscall6(sysRegister, fd, registerFiles, uintptr(unsafe.Pointer(&empty[0])), uintptr(chains), 0, 0); errno != 0 {
		return fail("register files", errno)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return fail("eventfd", err)
	}
	r.ev = os.NewFile(uintptr(efd), "eventfd")
	e := int32(efd)
	if _, _, errno := syscall.Syscall6(sysRegister, fd, registerEventfd, uintptr(unsafe.Pointer(&e)), 1, 0, 0); errno != 0 {
		return fail("register eventfd", errno)
	}
	go r.reap()
	return r, nil
}

// close stops the reaper and releases the ring.
func (r *ring) close() {
	if r.ev != nil {
		r.ev.Close()
		<-r.reaped
	}
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
	}
	if r.rings != nil {
		unix.Munmap(r.rings)
	}
	unix.Close(r.fd)
}

// reap hands each chain's result to its waiter once its last operation,
// the close of its slot, is done: the descriptor that its install made, or
// the first error of any of its operations (the others are then
// cancelled). Until then the slot is not free for another chain.
func (r *ring) reap() {
	defer close(r.reaped)
	var b [8]byte
	for {
		if _, err := r.ev.Read(b[:]); err != nil {
			return // closed
		}
		r.mu.Lock()
		head, tail := atomic.LoadUint32(r.cqHead), atomic.LoadUint32(r.cqTail)
		for ; head != tail; head++ {
			c := r.cqes[head&r.cqMask]
			id, op := c.userData>>chainBits, c.userData&(1<<chainBits-1)
			w, ok := r.waiters[id]
			if !ok {
				continue
			}
			switch {
			case c.res < 0 && w.err == 0:
				w.err = c.res
			case op == chainInstall:
				w.fd = c.res
			}
			if op == chainClose {
				delete(r.waiters, id)
				close(w.done)
			}
		}
		atomic.StoreUint32(r.cqHead, head)
		r.mu.Unlock()
	}
}

// save writes buf into a new unnamed file through the ring, then gives it
// its mtime and name with system calls.
func (r *ring) save(dfd int, name string, buf []byte) error {
	slot := <-r.slots
	defer func() { r.slots <- slot }()
	w := &chain{fd: -1, done: make(chan struct{})}

	r.mu.Lock()
	id := r.nextID
	r.nextID++
	r.waiters[id] = w
	tail := atomic.LoadUint32(r.sqTail)
	n := uint32(0)
	add := func(op, flags uint8, data uint64) *sqe {
		i := (tail + n) & r.sqMask
		n++
		r.sqArray[i] = i
		s := &r.sqes[i]
		*s = sqe{opcode: op, flags: flags, userData: id<<chainBits | data}
		return s
	}
	// A direct descriptor (fileIndex) may not be O_CLOEXEC.
	s := add(opOpenat, sqeAsync|sqeLink|sqeSkipSuccess, chainOpen)
	s.fd, s.addr, s.len, s.opFlags, s.fileIndex = int32(dfd), ptr(dot), 0o644, unix.O_TMPFILE|unix.O_RDWR, slot+1
	s = add(opWrite, sqeFixedFile|sqeLink|sqeSkipSuccess, chainWrite)
	s.fd, s.addr, s.len = int32(slot), ptr(buf), uint32(len(buf))
	s = add(opFsetxattr, sqeFixedFile|sqeLink|sqeSkipSuccess, chainXattr)
	s.fd, s.addr, s.off, s.len = int32(slot), ptr(etagNameZ), ptr(etagValue), uint32(len(etagValue))
	s = add(opFixedFdInstall, sqeFixedFile|sqeLink, chainInstall)
	s.fd = int32(slot)
	s = add(opClose, 0, chainClose)
	s.fileIndex = slot + 1
	atomic.StoreUint32(r.sqTail, tail+n)
	r.mu.Unlock()

	if err := r.enter(n); err != nil {
		return err
	}
	<-w.done
	runtime.KeepAlive(buf)
	if w.err < 0 {
		if w.fd >= 0 {
			unix.Close(int(w.fd))
		}
		return fmt.Errorf("%s: %w", name, syscall.Errno(-w.err))
	}
	return finishSaved(int(w.fd), dfd, name)
}

// enter submits what is queued. Another goroutine's enter may have
// submitted it already, which is fine.
func (r *ring) enter(n uint32) error {
	for {
		_, _, errno := syscall.Syscall6(sysEnter, uintptr(r.fd), uintptr(n), 0, 0, 0, 0)
		switch {
		case errno == 0:
			return nil
		case errors.Is(errno, syscall.EINTR):
			continue
		}
		return fmt.Errorf("enter: %w", errno)
	}
}

// Strings that the kernel reads, NUL-terminated.
var (
	dot       = []byte(".\x00")
	etagNameZ = []byte(etagName + "\x00")
)

// ptr is the address of b's first byte; b must stay alive until the
// kernel has read it.
func ptr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }
