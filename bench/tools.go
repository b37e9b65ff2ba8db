package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fetchpool/fetchpool/bench/server"
)

// toolKeys are the names -tools accepts, in table order.
var toolKeys = []string{"fetchpool", "aria2c", "wget2", "curl", "xargs", "limit"}

func knownTool(key string) bool {
	for _, k := range toolKeys {
		if k == key {
			return true
		}
	}
	return false
}

// toolSet says where each external tool is, or why it is skipped.
type toolSet struct {
	paths    map[string]string // key → executable
	notes    []string          // one line per skipped tool, and versions
	launcher string            // built launcher, "" to re-execute the bench binary
}

// job is one run of one contender: where it writes and what it reads.
type job struct {
	w          *workload
	srv        *server.Server
	dir        string // fresh output directory
	list       string // the URLs, one per line
	curlConfig string // the URLs as curl config lines: url = "..."
	home       string // an empty HOME, so no user config file applies
	launcher   string // the launcher binary; "" to re-execute this one
}

// cmdSpec is a command line and what to feed its standard input.
type cmdSpec struct {
	path string
	args []string
	// stdinFile is sent on standard input ("" for none).
	stdinFile string
	// stdinURLs generates the workload's URLs on standard input, through a pipe.
	stdinURLs bool
}

// contender is one row of a table.
type contender struct {
	key   string // the -tools name
	label string
	// limit rows show a practical ceiling and are not compared with fetchpool.
	limit bool
	// count is the number of files it downloads (a limit row may fetch one).
	count int
	// command builds the command line; nil for the in-process client.
	command func(j *job) cmdSpec
	// inproc runs in this process instead of a command.
	inproc func(ctx context.Context, j *job) (measurement, error)
	// discards marks a command that writes no files and checks what it
	// receives itself: its success is its verification.
	discards bool
	// bin is the binary a limit row runs, if not curl.
	bin string
}

// findTools builds fetchpool (unless given) and looks up the other tools.
func findTools(ctx context.Context, cfg config, binDir string) toolSet {
	ts := toolSet{paths: map[string]string{}}
	root, rootErr := moduleRoot(ctx)
	if rootErr == nil {
		ts.launcher = filepath.Join(binDir, "launcher")
		if out, err := goBuild(ctx, root, ts.launcher, "./bench/launcher"); err != nil {
			ts.launcher = ""
			ts.notes = append(ts.notes, "launcher: go build ./bench/launcher failed, re-executing the bench binary instead (higher RSS floor): "+firstLines(out, 4))
		}
	}
	want := func(k string) bool { return cfg.tools == nil || cfg.tools[k] }
	if rootErr == nil && want("limit") {
		path := filepath.Join(binDir, "goclient")
		if out, err := goBuild(ctx, root, path, "./bench/goclient"); err != nil {
			ts.notes = append(ts.notes, "goclient: go build ./bench/goclient failed, its limit row is skipped: "+firstLines(out, 4))
		} else {
			ts.paths["goclient"] = path
		}
	}
	if want("fetchpool") {
		path, note := fetchpoolBinary(ctx, cfg.fetchpool, root, rootErr, binDir)
		if path != "" {
			ts.paths["fetchpool"] = path
		}
		ts.notes = append(ts.notes, note)
	}
	for _, k := range []string{"aria2c", "wget2", "curl", "xargs"} {
		if !want(k) && !(k == "curl" && (want("limit") || want("xargs"))) {
			continue
		}
		path, err := exec.LookPath(k)
		if err != nil {
			ts.notes = append(ts.notes, fmt.Sprintf("%s: not installed, skipped (apt-get install %s)", k, debianPackage(k)))
			continue
		}
		ts.paths[k] = path
		ts.notes = append(ts.notes, fmt.Sprintf("%s: %s", k, version(ctx, path)))
	}
	return ts
}

func debianPackage(tool string) string {
	switch tool {
	case "aria2c":
		return "aria2"
	case "xargs":
		return "findutils"
	}
	return tool
}

// version is the first line of the tool's --version output.
func version(ctx context.Context, path string) string {
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil && len(out) == 0 {
		return path + " (version unknown)"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}

// fetchpoolBinary returns the binary to test, building ./cmd/fetchpool from
// this module when none is given, and a note for the report.
func fetchpoolBinary(ctx context.Context, given, root string, rootErr error, binDir string) (path, note string) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Sprintf("fetchpool: skipped, %v", err)
		}
		abs, _ := filepath.Abs(given)
		return abs, "fetchpool: " + abs + ", " + version(ctx, abs)
	}
	if rootErr != nil {
		return "", "fetchpool: skipped, " + rootErr.Error()
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "fetchpool")); err != nil {
		return "", "fetchpool: skipped, " + filepath.Join(root, "cmd", "fetchpool") + " does not exist yet"
	}
	path = filepath.Join(binDir, "fetchpool")
	if out, err := goBuild(ctx, root, path, "./cmd/fetchpool"); err != nil {
		return "", "fetchpool: skipped, go build ./cmd/fetchpool failed: " + firstLines(out, 8)
	}
	return path, "fetchpool: built from " + root + ", " + version(ctx, path)
}

// moduleRoot is the directory of this module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if err != nil || root == "." || root == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", errors.New("not inside the fetchpool module (run go run ./bench from the repository, or pass -fetchpool)")
	}
	return root, nil
}

func goBuild(ctx context.Context, root, out, pkg string) (string, error) {
	build := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	build.Dir = root
	msg, err := build.CombinedOutput()
	return string(msg), err
}

// contenders lists the rows of workload w, in table order.
func contenders(w *workload, ts toolSet, tools map[string]bool) []contender {
	var cs []contender
	add := func(c contender) {
		if tools != nil && !tools[c.key] {
			return
		}
		if c.command != nil {
			for _, bin := range binariesOf(c) {
				if ts.paths[bin] == "" {
					return
				}
			}
		}
		if c.count == 0 {
			c.count = w.Count
		}
		cs = append(cs, c)
	}
	c := strconv.Itoa(w.Conc)
	add(fetchpoolRow(w, ts.paths["fetchpool"], c))
	add(aria2Row(w, ts.paths["aria2c"], c))
	if w.Stdin {
		return cs // only tools that stream a list from stdin
	}
	single := ""
	if w.Split > 0 {
		single = " (1 stream)"
	}
	add(contender{key: "wget2", label: "wget2" + single, command: func(j *job) cmdSpec {
		return cmdSpec{path: ts.paths["wget2"], args: []string{
			"--max-threads", c, "-i", j.list, "-P", j.dir, "-q", "--no-robots"}}
	}})
	// --parallel-immediate: without it curl holds the other transfers back
	// until the first connection shows it cannot multiplex (HTTP/1.1), which
	// halves its speed on a few large files. -s alone leaves the parallel
	// progress meter on in curl 7.88, hence --no-progress-meter.
	add(contender{key: "curl", label: "curl -Z" + single, command: func(j *job) cmdSpec {
		return cmdSpec{path: ts.paths["curl"], args: []string{
			"-q", "-s", "-S", "--no-progress-meter", "--fail",
			"--parallel", "--parallel-immediate", "--parallel-max", c,
			"--output-dir", j.dir, "--remote-name-all", "-K", j.curlConfig}}
	}})
	if w.Key == "a" {
		// The same with -R, which gives each file the server's mtime as
		// fetchpool does: one more system call per file, which on small
		// files shows.
		add(contender{key: "curl", label: "curl -Z -R (keeps mtime)", command: func(j *job) cmdSpec {
			return cmdSpec{path: ts.paths["curl"], args: []string{
				"-q", "-s", "-S", "--no-progress-meter", "--fail", "-R",
				"--parallel", "--parallel-immediate", "--parallel-max", c,
				"--output-dir", j.dir, "--remote-name-all", "-K", j.curlConfig}}
		}})
	}
	// Each curl fetches up to 50 URLs over one connection; fewer when there
	// are few files, so that C of them still run at once.
	perCurl := strconv.Itoa(min(50, (w.Count+w.Conc-1)/w.Conc))
	add(contender{key: "xargs", label: "xargs -P " + c + " curl" + single, command: func(j *job) cmdSpec {
		return cmdSpec{path: ts.paths["xargs"], stdinFile: j.list, args: []string{
			"-P", c, "-n", perCurl, ts.paths["curl"], "-q", "-s", "-S", "--fail",
			"--remote-name-all", "--output-dir", j.dir}}
	}})
	switch w.Key {
	case "a":
		add(contender{key: "limit", label: "limit: Go client, own process", limit: true, discards: true, bin: "goclient", command: func(j *job) cmdSpec {
			return cmdSpec{path: ts.paths["goclient"], args: []string{
				"-j", c, "-i", j.list, "-bytes", strconv.FormatInt(w.totalBytes(), 10)}}
		}})
		// The same loop saving each file as plainly as a downloader can:
		// the least that writing 20,000 files adds.
		add(contender{key: "limit", label: "limit: Go client writing files", limit: true, bin: "goclient", command: func(j *job) cmdSpec {
			return cmdSpec{path: ts.paths["goclient"], args: []string{"-j", c, "-i", j.list, "-o", j.dir}}
		}})
		add(contender{key: "limit", label: "limit: Go client in-process", limit: true, inproc: goClient})
	case "c":
		add(contender{key: "limit", label: "limit: curl -o, 1 file", limit: true, count: 1, command: func(j *job) cmdSpec {
			return cmdSpec{path: ts.paths["curl"], args: []string{
				"-q", "-s", "-S", "--fail", "-o", filepath.Join(j.dir, server.Name(0)), j.srv.URL(w.Size, 0)}}
		}})
	}
	return cs
}

// binariesOf lists the executables a command row runs.
func binariesOf(c contender) []string {
	switch c.key {
	case "limit":
		if c.bin != "" {
			return []string{c.bin}
		}
		return []string{"curl"}
	case "xargs":
		return []string{"xargs", "curl"}
	}
	return []string{c.key}
}

func fetchpoolRow(w *workload, path, c string) contender {
	label := "fetchpool"
	if w.Split > 0 {
		label += " --split " + strconv.Itoa(w.Split)
	}
	return contender{key: "fetchpool", label: label, command: func(j *job) cmdSpec {
		spec := cmdSpec{path: path, args: []string{"-j", c, "-q", "-o", j.dir, "-i", j.list}}
		if w.Stdin {
			spec.args[len(spec.args)-1] = "-"
			spec.stdinURLs = true
		}
		if w.Split > 0 {
			spec.args = append(spec.args, "--split", strconv.Itoa(w.Split), "--split-min", "1M")
		}
		return spec
	}}
}

func aria2Row(w *workload, path, c string) contender {
	label := "aria2c"
	if w.Split > 0 {
		label += fmt.Sprintf(" -x%d -s%d", w.Split, w.Split)
	}
	return contender{key: "aria2c", label: label, command: func(j *job) cmdSpec {
		spec := cmdSpec{path: path, args: []string{
			"--no-conf", "-j", c, "-i", j.list, "-d", j.dir,
			"--allow-overwrite=true", "--auto-file-renaming=false", "-q"}}
		if w.Stdin {
			// aria2c reads the whole list before starting unless told not to.
			spec.args[4] = "-"
			spec.args = append(spec.args, "--deferred-input=true")
			spec.stdinURLs = true
		}
		if w.Split > 0 {
			n := strconv.Itoa(w.Split)
			spec.args = append(spec.args, "-x", n, "-s", n, "-k", "1M")
		}
		return spec
	}}
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n    ")
}
