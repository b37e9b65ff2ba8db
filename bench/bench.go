package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/fetchpool/fetchpool/bench/server"
)

// result is one run of one contender.
type result struct {
	Run   int    `json:"run"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	measurement
	verified
}

// row is one contender's line in a table, with all its runs.
type row struct {
	c       contender
	Tool    string   `json:"tool"`
	Limit   bool     `json:"limit,omitempty"`
	Results []result `json:"runs"`
}

// report is one workload's table.
type report struct {
	Workload *workload `json:"workload"`
	Rows     []*row    `json:"rows"`
}

func benchmark(ctx context.Context, cfg config, stdout, stderr io.Writer) (err error) {
	sc, err := newScratch(cfg.scratchSize)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := sc.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("removing the scratch directory: %w", cerr)
		}
	}()
	for _, d := range []string{"bin", "home"} {
		if err := os.Mkdir(sc.path(d), 0o755); err != nil {
			return fmt.Errorf("preparing the scratch directory: %w", err)
		}
	}
	fmt.Fprintln(stderr, "bench: looking for the tools (building fetchpool)...")
	ts := findTools(ctx, cfg, sc.path("bin"))
	printEnvironment(ctx, stdout, cfg, sc, ts)

	var reports []*report
	for _, w := range workloads(cfg) {
		rep, err := runWorkload(ctx, cfg, sc, ts, w, stderr)
		if err != nil {
			return err
		}
		printReport(stdout, rep)
		reports = append(reports, rep)
	}
	if cfg.jsonPath != "" {
		data, err := json.MarshalIndent(reports, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding the results: %w", err)
		}
		if err := os.WriteFile(cfg.jsonPath, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing the results: %w", err)
		}
	}
	return nil
}

func runWorkload(ctx context.Context, cfg config, sc *scratch, ts toolSet, w *workload, stderr io.Writer) (*report, error) {
	rep := &report{Workload: w}
	for _, c := range contenders(w, ts, cfg.tools) {
		rep.Rows = append(rep.Rows, &row{c: c, Tool: c.label, Limit: c.limit})
	}
	if len(rep.Rows) == 0 {
		return rep, nil
	}
	srv, err := server.Start(server.Options{Latency: w.Latency, ConnRate: w.ConnRate})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	wdir := sc.path("w" + w.Key)
	if err := os.Mkdir(wdir, 0o755); err != nil {
		return nil, fmt.Errorf("preparing workload %s: %w", w.Key, err)
	}
	defer os.RemoveAll(wdir)
	base := job{w: w, srv: srv, list: filepath.Join(wdir, "urls.txt"),
		curlConfig: filepath.Join(wdir, "curl.cfg"), home: sc.path("home"), launcher: ts.launcher}
	if !w.Stdin {
		if err := writeLists(&base); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(stderr, "bench: %s\n", w.heading())
	for run := range cfg.runs {
		// Rotate the order, so that no tool always runs first or last.
		for i := range rep.Rows {
			r := rep.Rows[(i+run)%len(rep.Rows)]
			res, err := runOne(ctx, cfg, base, r.c, run, stderr)
			if err != nil {
				return nil, err
			}
			r.Results = append(r.Results, res)
		}
	}
	return rep, nil
}

// runOne runs a contender once in a fresh output directory and verifies its
// output. Only a cancelled ctx or a broken scratch directory is an error;
// the tool's own failure is recorded in the result.
func runOne(ctx context.Context, cfg config, j job, c contender, run int, stderr io.Writer) (result, error) {
	j.dir = filepath.Join(filepath.Dir(j.list), fmt.Sprintf("out-%s-%d", c.key, run+1))
	if err := os.Mkdir(j.dir, 0o755); err != nil {
		return result{}, fmt.Errorf("making an output directory: %w", err)
	}
	defer os.RemoveAll(j.dir)

	var m measurement
	var err error
	if c.inproc != nil {
		m, err = c.inproc(ctx, &j)
	} else {
		spec := c.command(&j)
		if cfg.verbose {
			fmt.Fprintf(stderr, "  $ %s %s\n", spec.path, strings.Join(spec.args, " "))
		}
		m, err = execute(ctx, &j, spec, cfg.timeout)
	}
	if ctx.Err() != nil {
		return result{}, ctx.Err()
	}
	res := result{Run: run + 1, measurement: m}
	switch {
	case err != nil:
	case c.inproc != nil, c.discards:
		res.verified = verified{Files: c.count, Bytes: int64(c.count) * j.w.Size}
	default:
		res.verified, err = verify(j.dir, j.w, c.count, m.Stopped)
	}
	res.OK = err == nil
	status := "ok"
	if err != nil {
		res.Error = err.Error()
		status = "FAILED: " + res.Error
		if s := strings.TrimSpace(m.Stderr); s != "" {
			lines := 4
			if cfg.verbose {
				lines = 200
			}
			status += "\n    stderr: " + firstLines(s, lines)
		}
	} else if m.Stopped {
		status = fmt.Sprintf("stopped after the window, %s files", thousands(res.Files))
	}
	if !res.OK || cfg.verbose {
		res.Stderr = m.Stderr
	} else {
		res.Stderr = ""
	}
	fmt.Fprintf(stderr, "  (%s) run %d/%d  %-30s %8.3f s  %s\n", j.w.Key, run+1, cfg.runs, c.label, m.Wall.Seconds(), status)
	return res, nil
}

func printEnvironment(ctx context.Context, w io.Writer, cfg config, sc *scratch, ts toolSet) {
	fmt.Fprintf(w, "# fetchpool benchmark\n\n")
	fmt.Fprintf(w, "- command: `go run ./bench %s`\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "- machine: %d CPUs, %s, %s\n", runtime.NumCPU(), kernel(ctx), runtime.Version())
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fields := strings.Fields(string(load))
		note := ""
		if len(fields) > 0 {
			var l float64
			if _, err := fmt.Sscan(fields[0], &l); err == nil && l > float64(runtime.NumCPU())/2 {
				note = " — WARNING: the machine is busy; timings are noisy"
			}
			fmt.Fprintf(w, "- load average at start: %s%s\n", strings.Join(fields[:min(3, len(fields))], " "), note)
		}
	}
	fmt.Fprintf(w, "- %s\n", sc.note)
	if floor := launcherFloor(ctx, ts.launcher, sc.path("home")); floor > 0 {
		fmt.Fprintf(w, "- peak RSS is measured by a small launcher process (wait4 rusage of the tool); its floor, for /bin/true, is %.1f MiB\n", float64(floor)/(1<<20))
	}
	fmt.Fprintf(w, "- runs per tool: %d (tables show medians of the verified runs); per-run timeout %v\n", cfg.runs, cfg.timeout)
	for _, n := range ts.notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	fmt.Fprintln(w)
}

func kernel(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "uname", "-sr").Output()
	if err != nil {
		return runtime.GOOS
	}
	return strings.TrimSpace(string(out))
}
