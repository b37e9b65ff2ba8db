package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

const gib = 1 << 30

// printReport writes a workload's table as markdown.
func printReport(w io.Writer, rep *report) {
	wl := rep.Workload
	fmt.Fprintf(w, "## %s\n\n%s.\n\n", wl.heading(), capitalize(wl.Models))
	if len(rep.Rows) == 0 {
		fmt.Fprintf(w, "No tool to run.\n\n")
		return
	}
	if wl.Stdin {
		printStdinTable(w, rep)
	} else {
		printTable(w, rep)
	}
	printFailures(w, rep)
}

// summary is the medians of a row's verified runs.
type summary struct {
	ok, runs                       int
	wall, cpu, first               time.Duration
	rss, conns, files, bytes, reqs int64
	accepted                       int64
	stopped                        bool
}

func summarize(r *row) summary {
	s := summary{runs: len(r.Results)}
	var wall, cpu, first []time.Duration
	var rss, conns, files, bytes, reqs, accepted []int64
	for _, res := range r.Results {
		if !res.OK {
			continue
		}
		s.ok++
		wall = append(wall, res.Wall)
		cpu = append(cpu, res.CPU)
		first = append(first, res.FirstRequest)
		rss = append(rss, res.MaxRSS)
		conns = append(conns, res.MaxConns)
		files = append(files, int64(res.Files))
		bytes = append(bytes, res.Bytes)
		reqs = append(reqs, res.Requests)
		accepted = append(accepted, res.Accepted)
		s.stopped = s.stopped || res.Stopped
	}
	if s.ok == 0 {
		return s
	}
	s.wall, s.cpu, s.first = median(wall), median(cpu), median(first)
	s.rss, s.conns, s.files, s.bytes, s.reqs = median(rss), median(conns), median(files), median(bytes), median(reqs)
	s.accepted = median(accepted)
	return s
}

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func printTable(w io.Writer, rep *report) {
	wl := rep.Workload
	header := "| tool | ok runs | wall (median) | files/s | MiB/s | peak RSS MiB | CPU s | CPU s/GiB | conns open / opened | vs fetchpool |"
	rule := "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
	ideal := wl.ideal()
	if ideal > 0 {
		header += " vs ideal |"
		rule += "--:|"
	}
	fmt.Fprintln(w, header)
	fmt.Fprintln(w, rule)
	base := fetchpoolWall(rep)
	footRSS := false
	for _, r := range rep.Rows {
		s := summarize(r)
		cells := []string{r.Tool, okCell(s)}
		if s.ok == 0 {
			cells = append(cells, "FAILED", "—", "—", "—", "—", "—", "—", "—")
			if ideal > 0 {
				cells = append(cells, "—")
			}
			fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
			continue
		}
		secs := s.wall.Seconds()
		rss := "—"
		if s.rss >= 0 {
			rss = fmt.Sprintf("%.1f", float64(s.rss)/(1<<20))
			if r.c.key == "xargs" {
				rss += " †"
				footRSS = true
			}
		}
		cpu, cpuGiB := "—", "—"
		if s.cpu >= 0 {
			cpu = fmt.Sprintf("%.2f", s.cpu.Seconds())
			if s.bytes > 0 {
				cpuGiB = fmt.Sprintf("%.2f", s.cpu.Seconds()/(float64(s.bytes)/gib))
			}
		}
		vs := "—"
		switch {
		case r.c.key == "fetchpool":
			vs = "1.00×"
		case r.Limit:
			vs = "(limit)"
		case base > 0:
			vs = fmt.Sprintf("%.2f×", secs/base.Seconds())
		}
		cells = append(cells, fmt.Sprintf("%.3f s", secs),
			rate(float64(s.files)/secs),
			fmt.Sprintf("%.1f", float64(s.bytes)/(1<<20)/secs),
			rss, cpu, cpuGiB, fmt.Sprintf("%d / %d", s.conns, s.accepted), vs)
		if ideal > 0 {
			cells = append(cells, fmt.Sprintf("%.2f×", secs/ideal.Seconds()))
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
	fmt.Fprintln(w)
	if ideal > 0 {
		fmt.Fprintf(w, "Ideal: ceil(%d/%d) × %v = %.3f s (every request waits the latency, %d at a time).", wl.Count, wl.Conc, wl.Latency, ideal.Seconds(), wl.Conc)
		if base > 0 {
			fmt.Fprintf(w, " fetchpool takes %.2f× the ideal.", base.Seconds()/ideal.Seconds())
		}
		fmt.Fprint(w, "\n\n")
	}
	if footRSS {
		fmt.Fprintf(w, "† peak RSS of the largest single process in the tree (one curl, or xargs); up to %d curls run at once.\n\n", wl.Conc)
	}
	for _, r := range rep.Rows {
		if !r.Limit {
			continue
		}
		if s := summarize(r); s.ok > 0 && base > 0 {
			fmt.Fprintf(w, "fetchpool takes %.2f× the time of %s. ", base.Seconds()/s.wall.Seconds(), r.Tool)
		}
		switch {
		case r.c.inproc != nil:
			fmt.Fprintf(w, "The in-process limit shares this process, and its Go runtime, with the server; it writes no files, and its RSS and CPU would include the server's.\n\n")
		case r.c.discards:
			fmt.Fprintf(w, "It writes no files.\n\n")
		case r.c.bin == "goclient":
			fmt.Fprintf(w, "It saves each file under its final name (create, write, close), with no temporary name, timestamp or ETag.\n\n")
		default:
			fmt.Fprint(w, "\n\n")
		}
	}
}

func printStdinTable(w io.Writer, rep *report) {
	wl := rep.Workload
	fmt.Fprintln(w, "| tool | ok runs | first request (median) | peak RSS MiB | files done | files/s | CPU s | conns open / opened |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|")
	for _, r := range rep.Rows {
		s := summarize(r)
		cells := []string{r.Tool, okCell(s)}
		if s.ok == 0 {
			cells = append(cells, "FAILED", "—", "—", "—", "—", "—")
			fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
			continue
		}
		first := "none"
		if s.first >= 0 {
			first = fmt.Sprintf("%.1f ms", float64(s.first)/float64(time.Millisecond))
		}
		active := s.wall
		if s.stopped && wl.Window > 0 {
			active = min(active, wl.Window)
		}
		done := thousands(int(s.files))
		if s.files < int64(wl.Count) {
			done += " (stopped)"
		}
		cells = append(cells, first, fmt.Sprintf("%.1f", float64(s.rss)/(1<<20)), done,
			rate(float64(s.files)/active.Seconds()),
			fmt.Sprintf("%.2f", s.cpu.Seconds()), fmt.Sprintf("%d / %d", s.conns, s.accepted))
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "First request: from the process start to the server seeing the first request. The URLs are generated into a pipe as fast as the tool reads them.")
	if wl.Window > 0 {
		fmt.Fprintf(w, " A tool still running after %v is sent SIGTERM (SIGKILL %v later); its complete files are counted and checked, files/s is over the window.", wl.Window, stopGrace)
	}
	fmt.Fprint(w, "\n\n")
}

func printFailures(w io.Writer, rep *report) {
	var lines []string
	for _, r := range rep.Rows {
		for _, res := range r.Results {
			if res.OK {
				continue
			}
			line := fmt.Sprintf("- %s, run %d: %s", r.Tool, res.Run, res.Error)
			if s := strings.TrimSpace(res.Stderr); s != "" {
				line += "\n\n  ```\n  " + strings.ReplaceAll(firstLines(s, 6), "\n    ", "\n  ") + "\n  ```"
			}
			lines = append(lines, line)
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "Failed runs (not timed):\n\n%s\n\n", strings.Join(lines, "\n"))
	}
}

// rate prints a per-second figure with a decimal only when it is small.
func rate(r float64) string {
	if r < 100 {
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

func okCell(s summary) string { return fmt.Sprintf("%d/%d", s.ok, s.runs) }

// fetchpoolWall is fetchpool's median wall time, 0 if it has none.
func fetchpoolWall(rep *report) time.Duration {
	for _, r := range rep.Rows {
		if r.c.key == "fetchpool" {
			if s := summarize(r); s.ok > 0 {
				return s.wall
			}
		}
	}
	return 0
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
