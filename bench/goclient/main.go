// Command goclient is the practical limit of the small-files workload as a
// process of its own, started like every tool the benchmark measures: it
// reads URLs one per line and fetches them with package goloop, writing no
// files, or with -o, writing each into that directory. It exits 1, with the
// reason on stderr, on any failed request or when the body bytes received
// are not -bytes.
//
//	goclient -j 16 -i urls.txt -bytes 327680000
//	goclient -j 16 -i urls.txt -o out
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fetchpool/fetchpool/bench/goloop"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("goclient", flag.ContinueOnError)
	conc := fs.Int("j", 16, "requests at once")
	list := fs.String("i", "", "file of URLs, one per line")
	want := fs.Int64("bytes", -1, "body bytes expected in all (-1: do not check)")
	dir := fs.String("o", "", "write each body into this directory (default: discard it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list == "" || *conc < 1 {
		return fmt.Errorf("usage: goclient -j N -i FILE [-bytes N] [-o DIR]")
	}
	urls, err := readLines(*list)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	got, err := goloop.Run(ctx, func(n int) string { return urls[n] }, len(urls), *conc, *dir)
	if err != nil {
		return err
	}
	if *want >= 0 && got != *want {
		return fmt.Errorf("received %d body bytes, want %d", got, *want)
	}
	return nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return lines, nil
}
