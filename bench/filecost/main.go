//go:build linux

// Command filecost measures what saving many small files costs a
// downloader, without the network, and whether io_uring could take that
// cost off the one busy thread that fetchpool runs workload (a) on.
//
// Every mode saves -n files of -size bytes from -j goroutines on one P
// (GOMAXPROCS=1, as fetchpool runs small files):
//
//   - sequence: what fetchpool does per file: open(O_TMPFILE), pwrite,
//     fsetxattr (the ETag), futimens (the mtime), linkat, close, each
//     system call timed;
//   - plain: create under the final name, pwrite, close, which is not
//     crash-safe and keeps no ETag or mtime;
//   - io_uring: the sequence handed to io_uring as one linked chain per
//     file (open into a fixed slot, write, fsetxattr, install as a
//     descriptor), forced to its worker threads (IOSQE_ASYNC) so that they
//     can run it on another CPU; futimens, linkat and close stay system
//     calls, because io_uring has no futimens and the link needs the
//     descriptor.
//
// For each mode it prints the wall time, the CPU time of the process, and
// how that splits between the Go threads and io_uring's workers.
//
//	go run ./bench/filecost                      # 20,000 × 16 KiB in /dev/shm, 3 rounds
//	go run ./bench/filecost -n 2000 -dir /tmp
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "filecost:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	n, size, workers, rounds int
	dir                      string
}

// etag is the extended attribute each file gets, as fetchpool stores an
// ETag.
var (
	etagName  = "user.etag"
	etagValue = []byte(`"5f0c-3e8a1b2c"`)
)

// mtime is the timestamp each file gets, as from Last-Modified.
var mtime = []unix.Timespec{unix.NsecToTimespec(1.6e18), unix.NsecToTimespec(1.6e18)}

func run(args []string) error {
	fs := flag.NewFlagSet("filecost", flag.ContinueOnError)
	var c config
	fs.IntVar(&c.n, "n", 20000, "files per round")
	fs.IntVar(&c.size, "size", 16384, "bytes per file")
	fs.IntVar(&c.workers, "j", 16, "goroutines saving files")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds; each mode runs once per round, in turn")
	fs.StringVar(&c.dir, "dir", "/dev/shm", "directory to save into (a temporary directory is made inside)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.n < 1 || c.size < 1 || c.workers < 1 || c.rounds < 1 {
		return fmt.Errorf("-n, -size, -j and -rounds must be positive")
	}
	runtime.GOMAXPROCS(1)
	modes := []string{"sequence", "plain", "io_uring"}
	alone := c
	alone.workers = 1
	results := map[string][]sample{}
	var ops [numCalls][]time.Duration
	for round := 0; round < c.rounds; round++ {
		for _, mode := range modes {
			s, err := measure(c, mode)
			if err != nil && mode == "io_uring" && round == 0 {
				// A kernel before 6.8, or io_uring turned off.
				fmt.Fprintf(os.Stderr, "filecost: io_uring skipped: %v\n", err)
				modes = modes[:len(modes)-1]
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mode, err)
			}
			results[mode] = append(results[mode], s)
		}
		// Timed per call with one goroutine, so that no other goroutine
		// runs between a call's return and its clock reading.
		s, err := measure(alone, "sequence")
		if err != nil {
			return fmt.Errorf("sequence: %w", err)
		}
		for i := range ops {
			ops[i] = append(ops[i], s.ops[i])
		}
	}
	fmt.Printf("%d files of %d bytes in %s, %d goroutines on one P, median of %d rounds (min–max)\n\n",
		c.n, c.size, c.dir, c.workers, c.rounds)
	fmt.Println("| mode | wall s | CPU s | Go threads CPU s | io_uring workers CPU s |")
	fmt.Println("|---|--:|--:|--:|--:|")
	for _, mode := range modes {
		ss := results[mode]
		col := func(f func(sample) time.Duration) string {
			var v []time.Duration
			for _, s := range ss {
				v = append(v, f(s))
			}
			return spread(v)
		}
		fmt.Printf("| %s | %s | %s | %s | %s |\n", mode,
			col(func(s sample) time.Duration { return s.wall }),
			col(func(s sample) time.Duration { return s.cpu }),
			col(func(s sample) time.Duration { return s.goThreads }),
			col(func(s sample) time.Duration { return max(s.cpu-s.goThreads, 0) }))
	}
	fmt.Print("\nsequence from one goroutine, time in each system call:")
	for i, name := range callNames {
		fmt.Printf(" %s %s;", name, spread(ops[i]))
	}
	fmt.Println()
	return nil
}

// spread formats the median of v in seconds, with its range.
func spread(v []time.Duration) string {
	slices.Sort(v)
	if len(v) == 1 {
		return fmt.Sprintf("%.3f", v[0].Seconds())
	}
	return fmt.Sprintf("%.3f (%.3f–%.3f)", v[len(v)/2].Seconds(), v[0].Seconds(), v[len(v)-1].Seconds())
}

// The system calls of the sequence, in order.
const (
	callOpen = iota
	callWrite
	callXattr
	callUtime
	callLink
	callClose
	numCalls
)

var callNames = [numCalls]string{"open", "pwrite", "fsetxattr", "futimens", "linkat", "close"}

// sample is one mode's measurement in one round.
type sample struct {
	wall, cpu, goThreads time.Duration
	ops                  [numCalls]time.Duration // sequence only
}

// measure saves c.n files in a fresh directory the way mode says, checks
// them, and removes them.
func measure(c config, mode string) (sample, error) {
	dir, err := os.MkdirTemp(c.dir, "filecost")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(dir)
	dfd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return sample{}, err
	}
	defer unix.Close(dfd)
	var r *ring
	if mode == "io_uring" {
		if r, err = newRing(2 * c.workers); err != nil {
			return sample{}, fmt.Errorf("io_uring: %w", err)
		}
		defer r.close()
	}

	var (
		mu    sync.Mutex
		total [numCalls]time.Duration
		first error
		wg    sync.WaitGroup
	)
	next := make(chan int, c.workers)
	cpu0, go0 := processCPU(), goThreadsCPU()
	start := time.Now()
	go func() {
		for i := 0; i < c.n; i++ {
			next <- i
		}
		close(next)
	}()
	for w := 0; w < c.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, c.size)
			var ops [numCalls]time.Duration
			var err error
			for i := range next {
				if err != nil {
					continue // drain
				}
				name := "f" + strconv.Itoa(i)
				switch mode {
				case "sequence":
					err = saveSequence(dfd, name, buf, &ops)
				case "plain":
					err = savePlain(dfd, name, buf)
				default:
					err = r.save(dfd, name, buf)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range ops {
				total[i] += ops[i]
			}
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	s := sample{wall: time.Since(start), cpu: processCPU() - cpu0, goThreads: goThreadsCPU() - go0, ops: total}
	if first != nil {
		return s, first
	}
	return s, check(dir, c)
}

// saveSequence saves buf as name the way fetchpool saves a small file,
// adding the time spent in each system call to ops.
func saveSequence(dfd int, name string, buf []byte, ops *[numCalls]time.Duration) error {
	t0 := time.Now()
	fd, err := unix.Openat(dfd, ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	t1 := time.Now()
	_, err = unix.Pwrite(fd, buf, 0)
	t2 := time.Now()
	if err == nil {
		err = unix.Fsetxattr(fd, etagName, etagValue, 0)
	}
	t3 := time.Now()
	if err == nil {
		err = unix.UtimesNanoAt(fd, "", mtime, unix.AT_EMPTY_PATH)
	}
	t4 := time.Now()
	if err == nil {
		err = unix.Linkat(fd, "", dfd, name, unix.AT_EMPTY_PATH)
	}
	t5 := time.Now()
	unix.Close(fd)
	t6 := time.Now()
	for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4), t6.Sub(t5)} {
		ops[i] += d
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// savePlain saves buf as name by creating it under that name.
func savePlain(dfd int, name string, buf []byte) error {
	fd, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = unix.Pwrite(fd, buf, 0)
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// finishSaved gives fd, a saved unnamed file, its mtime and name, and
// closes it.
func finishSaved(fd, dfd int, name string) error {
	defer unix.Close(fd)
	if err := unix.UtimesNanoAt(fd, "", mtime, unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("%s: futimens: %w", name, err)
	}
	if err := unix.Linkat(fd, "", dfd, name, unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("%s: linkat: %w", name, err)
	}
	return nil
}

// check makes sure dir holds c.n files of c.size bytes, with the ETag where
// the mode sets one.
func check(dir string, c config) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) != c.n {
		return fmt.Errorf("%d files saved, want %d", len(ents), c.n)
	}
	for _, i := range []int{0, c.n / 2, c.n - 1} {
		fi, err := os.Stat(dir + "/f" + strconv.Itoa(i))
		if err != nil {
			return err
		}
		if fi.Size() != int64(c.size) {
			return fmt.Errorf("%s: %d bytes, want %d", fi.Name(), fi.Size(), c.size)
		}
	}
	return nil
}

// processCPU is the user and system time of the whole process, threads
// that have ended included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goThreadsCPU is the CPU time of the process's threads that are not
// io_uring's (iou-wrk, iou-sqp), read from each thread's CPU clock. Go's
// threads live as long as the process, so differences are meaningful.
func goThreadsCPU() time.Duration {
	ents, _ := os.ReadDir("/proc/self/task")
	var sum time.Duration
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/self/task/" + e.Name() + "/comm")
		if err != nil || strings.HasPrefix(string(comm), "iou-") {
			continue
		}
		// The thread's CPU clock: MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
		var ts unix.Timespec
		if unix.ClockGettime(int32(^tid<<3|6), &ts) == nil {
			sum += time.Duration(ts.Nano())
		}
	}
	return sum
}
