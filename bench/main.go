// Command bench compares fetchpool with curl, wget2 and aria2c on a loopback
// server, on the workloads described in bench/README.md:
//
//	go run ./bench                 # every workload, 3 runs each
//	go run ./bench -quick          # a smoke run with small sizes, 1 run each
//	go run ./bench -w a,b -runs 5  # a subset
//
// Tables go to stdout as markdown, progress to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fetchpool/fetchpool/bench/launch"
	"github.com/fetchpool/fetchpool/bench/server"
	"github.com/fetchpool/fetchpool/pkg/limit"
)

// errUsage marks a bad command line (exit 2).
var errUsage = errors.New("usage")

func main() {
	if os.Getenv(launch.Env) == "1" {
		os.Exit(launch.Run())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "bench: interrupted")
		return 130
	default:
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
}

// config is the parsed command line.
type config struct {
	workloads   []string
	tools       map[string]bool // nil: every tool
	runs        int
	quick       bool
	conc        int
	split       int
	fetchpool   string
	jsonPath    string
	scratchSize string
	timeout     time.Duration
	window      time.Duration
	stdinURLs   int
	verbose     bool

	serve    string
	latency  time.Duration
	connRate int64
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n\nRuns fetchpool, aria2c, wget2, curl and xargs+curl against a loopback server\nand prints a markdown table per workload. See bench/README.md.\n\nflags:\n")
		fs.PrintDefaults()
	}
	workloads := fs.String("w", "a,b,c,d,e", "workloads to run, comma-separated: a (20,000 small files), b (small files at 50 ms latency),\nc (4 large files), d (4 large files, 20 MiB/s per connection, segmented), e (1,000,000 URLs on stdin)")
	tools := fs.String("tools", "", "tools to run, comma-separated, of: fetchpool, aria2c, wget2, curl, xargs, limit (default all)")
	fs.IntVar(&cfg.runs, "runs", 3, "runs per tool and workload; the table shows medians (default 1 with -quick)")
	fs.BoolVar(&cfg.quick, "quick", false, "shrink every workload for a smoke run")
	fs.IntVar(&cfg.conc, "c", 0, "concurrency C for every tool (default 16 for a, b, e and 4 for c, d)")
	fs.IntVar(&cfg.split, "split", 4, "connections per file in workload d (fetchpool --split N, aria2c -x N -s N)")
	fs.StringVar(&cfg.fetchpool, "fetchpool", "", "fetchpool binary to test (default: go build ./cmd/fetchpool from this module)")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write every run as JSON to this file")
	fs.StringVar(&cfg.scratchSize, "tmpfs-size", "6g", "size of the tmpfs mounted for the downloads (as root)")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "kill a run after this long and report it FAILED")
	fs.DurationVar(&cfg.window, "e-window", 30*time.Second, "workload e: stop each tool after this long (0: let it finish)")
	fs.IntVar(&cfg.stdinURLs, "e-urls", 1_000_000, "workload e: number of URLs piped on stdin (default 20,000 with -quick)")
	fs.BoolVar(&cfg.verbose, "v", false, "print each command line and the stderr of failed runs in full")
	fs.StringVar(&cfg.serve, "serve", "", "only run the server on this address (e.g. 127.0.0.1:8080) until interrupted")
	fs.DurationVar(&cfg.latency, "latency", 0, "with -serve: latency before every response")
	rate := fs.String("conn-rate", "0", "with -serve: bandwidth cap per connection in bytes/s, suffixes K M G (1024-based)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: unexpected argument %q (workloads are chosen with -w)", errUsage, fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.quick && !set["runs"] {
		cfg.runs = 1
	}
	if cfg.quick && !set["e-urls"] {
		cfg.stdinURLs = 20_000
	}
	if cfg.quick && !set["e-window"] {
		cfg.window = 15 * time.Second
	}
	var err error
	if cfg.connRate, err = limit.ParseSize("-conn-rate", *rate); err != nil {
		return cfg, fmt.Errorf("%w: %w", errUsage, err)
	}
	for _, w := range strings.Split(*workloads, ",") {
		w = strings.TrimSpace(w)
		if len(w) != 1 || w < "a" || w > "e" {
			return cfg, fmt.Errorf("%w: -w: unknown workload %q (use letters a to e, e.g. -w a,b)", errUsage, w)
		}
		cfg.workloads = append(cfg.workloads, w)
	}
	if *tools != "" {
		cfg.tools = map[string]bool{}
		for _, t := range strings.Split(*tools, ",") {
			t = strings.TrimSpace(t)
			if !knownTool(t) {
				return cfg, fmt.Errorf("%w: -tools: unknown tool %q (use fetchpool, aria2c, wget2, curl, xargs, limit)", errUsage, t)
			}
			cfg.tools[t] = true
		}
	}
	switch {
	case cfg.runs < 1:
		return cfg, fmt.Errorf("%w: -runs must be at least 1", errUsage)
	case cfg.conc < 0:
		return cfg, fmt.Errorf("%w: -c must be at least 1", errUsage)
	case cfg.split < 1:
		return cfg, fmt.Errorf("%w: -split must be at least 1", errUsage)
	case cfg.stdinURLs < 1:
		return cfg, fmt.Errorf("%w: -e-urls must be at least 1", errUsage)
	}
	return cfg, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.serve != "" {
		return serve(ctx, cfg, stderr)
	}
	return benchmark(ctx, cfg, stdout, stderr)
}

// serve runs only the server, for trying tools by hand.
func serve(ctx context.Context, cfg config, stderr io.Writer) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.serve)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.serve, err)
	}
	srv := server.Serve(ln, server.Options{Latency: cfg.latency, ConnRate: cfg.connRate})
	defer srv.Close()
	fmt.Fprintf(stderr, "serving synthetic files, e.g. %s (16 KiB, file 0); Ctrl-C stops\n", srv.URL(16<<10, 0))
	<-ctx.Done()
	return nil
}
