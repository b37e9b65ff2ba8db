//go:build !linux

// Command filecost measures what saving many small files costs, on Linux
// only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "filecost: Linux only (O_TMPFILE, io_uring)")
	os.Exit(1)
}
