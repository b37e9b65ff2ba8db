package main

import "runtime"

// tuneRuntime fits the Go runtime to a downloader, unless the environment
// sets GOMAXPROCS: one P more than the CPUs. A P is held for the whole of
// each file system call (a create, a write, a link take a few microseconds
// each), and with one more P the responses that arrive meanwhile are read
// at once. On 2 CPUs, 20,000 files of 16 KiB from a server on the same
// machine took 4 % less time so; large files, with or without --split,
// took the same.
func tuneRuntime(getenv func(string) string) {
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
	}
}
