package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// binary is the fetchpool binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fetchpool-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "fetchpool")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building fetchpool:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary left behind.
type result struct {
	code           int
	stdout, stderr string
}

// fetchpool runs the binary with stdin and args in dir, and waits.
func fetchpool(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	cmd := newCommand(dir, args...)
	cmd.Stdin = strings.NewReader(stdin)
	return runCommand(t, cmd)
}

// newCommand prepares a run of the binary in dir, with a clean environment:
// no proxies and no color settings from the machine running the tests, and
// no second of waiting that the race detector adds before a clean exit.
func newCommand(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = testEnv()
	return cmd
}

// testEnv is the environment of every run of the binary (see newCommand),
// for the tests that start it through another command (unshare, prlimit).
func testEnv() []string {
	var env []string
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "NO_COLOR", "JOB_COMPLETION_INDEX":
			continue
		case "GORACE":
			gorace = value + " " + gorace
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GORACE="+gorace)
}

// runCommand runs cmd and collects its exit code and output.
func runCommand(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errOut.String()}
}

// TestCommandEnvironment: both ways the tests run the binary, newCommand
// and startFetchpool, give it the same clean environment: no proxy and no
// NO_COLOR from the machine running the tests, and GORACE with
// atexit_sleep_ms=0 (keeping the caller's GORACE options), so that no run
// waits the second that the race detector otherwise sleeps at exit.
func TestCommandEnvironment(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("NO_COLOR", "1")
	t.Setenv("GORACE", "halt_on_error=1")
	// last is the value the process sees: os/exec keeps the last of
	// duplicate names.
	last := func(env []string, name string) (string, bool) {
		value, found := "", false
		for _, kv := range env {
			if k, v, _ := strings.Cut(kv, "="); k == name {
				value, found = v, true
			}
		}
		return value, found
	}
	p := startFetchpool(t, t.TempDir(), "--version")
	if r := p.wait(); r.code != 0 {
		t.Fatalf("--version: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	for name, env := range map[string][]string{
		"newCommand":     newCommand(t.TempDir(), "--version").Env,
		"startFetchpool": p.cmd.Env,
	} {
		if v, _ := last(env, "GORACE"); !slices.Contains(strings.Fields(v), "atexit_sleep_ms=0") ||
			!slices.Contains(strings.Fields(v), "halt_on_error=1") {
			t.Errorf("%s: GORACE=%q, want atexit_sleep_ms=0 and the caller's halt_on_error=1", name, v)
		}
		for _, unset := range []string{"HTTP_PROXY", "NO_COLOR"} {
			if v, ok := last(env, unset); ok && v != "" {
				t.Errorf("%s: %s=%q from the test's environment, want it left out", name, unset, v)
			}
		}
	}
}

// content is the deterministic body served for a path.
func content(path string) []byte {
	return bytes.Repeat([]byte(path+"\n"), 1000)
}

// fileServer serves content(path) for any path, with a few special paths.
func fileServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/missing"):
			http.NotFound(w, r)
			return
		case strings.HasPrefix(r.URL.Path, "/cd/"):
			w.Header().Set("Content-Disposition", `attachment; filename="`+r.URL.Query().Get("name")+`"`)
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content(r.URL.Path)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEndToEndPipedList(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	list := srv.URL + "/a.bin\n" + srv.URL + "/b.bin\n\n# comment\n" + srv.URL + "/sub/c.bin\n"
	r := fetchpool(t, dir, list, "-j", "8", "-o", "out")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, name := range []string{"a.bin", "b.bin", "c.bin"} {
		got := readFile(t, filepath.Join(dir, "out", name))
		want := content("/" + name)
		if name == "c.bin" {
			want = content("/sub/c.bin")
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: wrong content", name)
		}
	}
	if !strings.Contains(r.stderr, "done 3") {
		t.Errorf("summary does not say done 3:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "\x1b") {
		t.Errorf("escape sequences on a non-terminal stderr:\n%q", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout should be empty without --json, got %q", r.stdout)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "out", "*.part*"))
	if len(matches) != 0 {
		t.Errorf("leftover partial files: %v", matches)
	}
}

func TestEndToEndInputsArgsAndLocalFiles(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "local.iso"), []byte("local bytes"), 0o644)
	os.WriteFile(filepath.Join(dir, "urls.txt"), []byte(srv.URL+"/one.txt\n"+srv.URL+"/x\tnamed/two.txt\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "more.txt"), []byte(fmt.Sprintf(`{"url": %q, "output": "j.bin", "sha256": %q}`+"\n",
		srv.URL+"/j", sum(content("/j")))), 0o644)
	r := fetchpool(t, dir, "", "-i", "urls.txt", "-i", "more.txt", srv.URL+"/extra.tar.gz", "./local.iso", "-o", "out")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	checks := map[string][]byte{
		"one.txt":       content("/one.txt"),
		"named/two.txt": content("/x"),
		"j.bin":         content("/j"),
		"extra.tar.gz":  content("/extra.tar.gz"),
		"local.iso":     []byte("local bytes"),
	}
	for name, want := range checks {
		if got := readFile(t, filepath.Join(dir, "out", name)); !bytes.Equal(got, want) {
			t.Errorf("%s: wrong content", name)
		}
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestEndToEndFailuresAreReported(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "urls.txt"), []byte(
		srv.URL+"/ok.txt\n"+
			"ftp://example.com/x\n"+
			srv.URL+"/missing.txt\n"+
			"./no-such-file.bin\n"+
			fmt.Sprintf(`{"url": %q, "sha256": %q}`+"\n", srv.URL+"/bad.bin", strings.Repeat("0", 64))), 0o644)
	r := fetchpool(t, dir, "", "-i", "urls.txt", "-o", "out", "--retries", "0")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"done 1", "failed 4", "urls.txt:2", "ftp", "urls.txt:3", "404", "urls.txt:4", "urls.txt:5", "sha256"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "bad.bin")); err == nil {
		t.Error("bytes that failed verification were left under the final name")
	}
}

// TestEndToEndProtocolErrorFailsAtOnce: a server whose answer breaks HTTP
// (here two Content-Lengths that disagree) gets one request, not four with
// seconds of backoff between them: the run fails at once (exit 1), saying
// what the server did wrong, as one attempt; and the item goes to --failed
// for a later run, once the server is fixed.
func TestEndToEndProtocolErrorFailsAtOnce(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
		rw.Flush()
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	r := fetchpool(t, dir, "", "-o", "out", "--retry-wait", "10s", "--failed", "failed.txt", srv.URL+"/f")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	want := `the server sent a malformed response (message cannot contain multiple Content-Length headers; got ["5" "6"]) (1 attempt)`
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if got := string(readFile(t, filepath.Join(dir, "failed.txt"))); got != srv.URL+"/f\n" {
		t.Errorf("--failed holds %q", got)
	}
}

// TestEndToEndBadUserAgent: a -A with a control character, which no
// request can carry, is a usage error (exit 2) found before any request,
// as for -H; every item failed after four attempts and their backoff.
func TestEndToEndBadUserAgent(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	t.Cleanup(srv.Close)
	r := fetchpool(t, t.TempDir(), "", "-o", "out", "-A", "bad\x7fagent", srv.URL+"/f")
	want := `invalid --user-agent "bad\x7fagent": it contains a control character`
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, want 2 saying %q; stderr:\n%s", r.code, want, r.stderr)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// TestEndToEndEmptyArgument: an empty argument, as from an unset variable in
// `fetchpool "$URL"`, fails the run instead of being skipped; it is left out
// of --failed, which could only list it as a line that reads as nothing.
func TestEndToEndEmptyArgument(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	for i, arg := range []string{"", "  "} {
		r := fetchpool(t, dir, "", "-o", fmt.Sprint("out", i), "--failed", "failed.txt", "./a.txt", arg)
		if r.code != 1 {
			t.Fatalf("argument %q: exit %d, want 1; stderr:\n%s", arg, r.code, r.stderr)
		}
		for _, want := range []string{"FAIL arg 2: empty item", "done 1, skipped 0, failed 1"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("argument %q: stderr does not say %q:\n%s", arg, want, r.stderr)
			}
		}
		if failed := readFile(t, filepath.Join(dir, "failed.txt")); len(failed) != 0 {
			t.Errorf("argument %q: --failed lists %q, want nothing", arg, failed)
		}
	}
}

// TestEndToEndSubcommandWords: fetchpool has no version or help
// subcommand; "fetchpool version", and "help" after an item, are local
// files that do not exist, and the failure says which flag was meant.
func TestEndToEndSubcommandWords(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"version"}, "FAIL arg 1 version: no such file: version (for fetchpool's version, run fetchpool --version)"},
		{[]string{"./a.txt", "help"}, "FAIL arg 2 help: no such file: help (for fetchpool's help, run fetchpool --help)"},
	} {
		r := fetchpool(t, dir, "", append([]string{"-o", "out", "--no-progress"}, tt.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, want 1 saying %q; stderr:\n%s", tt.args, r.code, tt.want, r.stderr)
		}
	}
}

func TestEndToEndUsageErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"zero workers", []string{"-j", "0", "http://127.0.0.1:1/x"}, "--concurrency"},
		// Each names the file once, with the reason, not Go's "open nope.txt: ...".
		{"missing input file", []string{"-i", "nope.txt"}, "fetchpool: cannot read input file nope.txt: no such file or directory\n"},
		{"missing checksums file", []string{"--checksums", "nope.sums", "u"}, "fetchpool: cannot read --checksums file nope.sums: no such file or directory\n"},
		{"missing netrc file", []string{"--netrc-file", "nope.netrc", "u"}, "fetchpool: cannot read netrc file nope.netrc: no such file or directory\n"},
		{"report in a missing directory", []string{"--report", "gone/r.json", "u"}, "fetchpool: cannot write --report file gone/r.json: no such file or directory (create gone first, or give another path)\n"},
		{"failed list in a missing directory", []string{"--failed", "gone/f.txt", "u"}, "fetchpool: cannot write --failed file gone/f.txt: no such file or directory (create gone first, or give another path)\n"},
		// What is in the way, and what to do, not only ENOTDIR or EISDIR.
		{"report under a file", []string{"--report", "file/r.json", "u"}, "fetchpool: cannot write --report file file/r.json: not a directory (file is a file, not a directory: give another path)\n"},
		{"failed list under a file", []string{"--failed", "file/sub/f.txt", "u"}, "fetchpool: cannot write --failed file file/sub/f.txt: not a directory (file is a file, not a directory: give another path)\n"},
		{"report is a directory", []string{"--report", ".", "u"}, "fetchpool: cannot write --report file .: is a directory (give the name of a file, in it or elsewhere)\n"},
		{"report ends in a slash", []string{"--report", "file/", "u"}, "fetchpool: cannot write --report file file/: is a directory (a name that ends in / names a directory: give the name of a file)\n"},
		// A ~ that no shell expanded ("~/dl" quoted, --output-dir=~/dl in
		// zsh): -o would make a directory named ~, and the lines would say
		// "ok ~/dl/x" of a file that is not in the home directory.
		{"output dir under an unexpanded ~", []string{"--output-dir=~/dl", "http://127.0.0.1:1/x"}, "fetchpool: --output-dir ~/dl: a leading ~ is not expanded outside a shell, and fetchpool would make a directory named ~ here: write the full path (as $HOME/dl), or ./~/dl for a directory named ~\n"},
		{"output dir an unexpanded ~, dry run", []string{"-o", "~", "--dry-run", "http://127.0.0.1:1/x"}, "a leading ~ is not expanded outside a shell"},
		// With nothing piped in, it used to exit 0 having fetched nothing
		// into a new directory http:/127.0.0.1:1/x.
		{"a URL as -o", []string{"-o", "http://127.0.0.1:1/x"}, "fetchpool: --output-dir http://127.0.0.1:1/x is a URL: -o names the directory to save in"},
		{"a URL as -i", []string{"-i", "http://127.0.0.1:1/urls.txt"}, "fetchpool: cannot read input file http://127.0.0.1:1/urls.txt: -i reads a local file; pipe a list on the web in: curl -fsSL http://127.0.0.1:1/urls.txt | fetchpool -i - ...\n"},
		{"a URL as --checksums", []string{"--checksums", "http://127.0.0.1:1/SHA256SUMS", "u"}, "fetchpool: cannot read --checksums file http://127.0.0.1:1/SHA256SUMS: it reads a local file; pipe one on the web in: curl -fsSL http://127.0.0.1:1/SHA256SUMS | fetchpool --checksums - ...\n"},
		{"input file under an unexpanded ~", []string{"-i", "~/urls.txt"}, "fetchpool: cannot read input file ~/urls.txt: no such file or directory (a leading ~ is not expanded outside a shell: write the full path)\n"},
		{"report under an unexpanded ~", []string{"--report", "~/r.json", "u"}, "fetchpool: cannot write --report file ~/r.json: no such file or directory (a leading ~ is not expanded outside a shell: write the full path)\n"},
		{"output dir is a file", []string{"-o", "file/sub", "http://127.0.0.1:1/x"}, "output directory"},
		{"bad rate", []string{"--rate", "often", "http://127.0.0.1:1/x"}, "--rate"},
		// An integer flag says what it wants, not strconv's "parsing "abc":
		// invalid syntax", and the usage line follows.
		{"retries not a number", []string{"--retries", "abc", "u"}, "fetchpool: invalid argument \"abc\" for \"--retries\" flag: want a whole number, 0 or more\nRun 'fetchpool --help' for usage.\n"},
		{"workers not a whole number", []string{"-j", "1.5", "u"}, "fetchpool: invalid argument \"1.5\" for \"-j, --concurrency\" flag: want a whole number, at least 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fetchpool(t, dir, "", tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not mention %q:\n%s", tt.want, r.stderr)
			}
		})
	}
	for _, made := range []string{"~", "http:"} {
		if _, err := os.Lstat(filepath.Join(dir, made)); err == nil {
			t.Errorf("a directory named %s was made", made)
		}
	}
}

// TestEndToEndStdinIsADirectory: standard input that is a directory
// (fetchpool < dir, by a slip of the shell) is an unreadable input, as -i
// dir is: exit 2, saying so, and nothing made; not exit 1 with "the input
// ended early" and a word to run the list again.
func TestEndToEndStdinIsADirectory(t *testing.T) {
	for _, args := range [][]string{{"-o", "out"}, {"-o", "out", "-i", "-"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			in, err := os.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			cmd := newCommand(dir, args...)
			cmd.Stdin = in
			r := runCommand(t, cmd)
			want := "fetchpool: cannot read standard input: it is a directory; give the list as a file (-i FILE, or < FILE), or pipe it in\n"
			if r.code != exitUsage || !strings.HasPrefix(r.stderr, want) {
				t.Errorf("exit %d, want 2, and stderr starting %q; stderr:\n%s", r.code, want, r.stderr)
			}
			if _, err := os.Lstat(filepath.Join(dir, "out")); err == nil {
				t.Error("the output directory was made")
			}
		})
	}
}

// TestEndToEndListIsADirectory: a -i or --checksums that names a directory
// is an unreadable input file (exit 2) and the message names the flag, as
// for a missing one; --checksums said only "reading adir: read adir: is a
// directory".
func TestEndToEndListIsADirectory(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-i", "adir"}, "fetchpool: cannot read input file adir: it is a directory; give -i a list file\n"},
		{[]string{"--checksums", "adir", "x"}, "fetchpool: cannot read --checksums file adir: it is a directory; give --checksums a file in sha256sum format\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
				t.Fatal(err)
			}
			r := fetchpool(t, dir, "", append([]string{"-o", "out"}, tt.args...)...)
			if r.code != exitUsage || !strings.HasPrefix(r.stderr, tt.want) {
				t.Errorf("exit %d, want 2, and stderr starting %q; stderr:\n%s", r.code, tt.want, r.stderr)
			}
			if _, err := os.Lstat(filepath.Join(dir, "out")); err == nil {
				t.Error("the output directory was made")
			}
		})
	}
}

// TestEndToEndEmptyInput: an input without items is a success (exit 0),
// but one that a CI log tells apart from a list fetched whole: an empty
// $URLS piped in passed with only "done 0" to show for it.
func TestEndToEndEmptyInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "urls.txt"), []byte("# none yet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		note string // "" for none
	}{
		{nil, "note: standard input held no items, so nothing was fetched\n"},
		{[]string{"-i", "urls.txt"}, "note: urls.txt held no items, so nothing was fetched\n"},
		{[]string{"-i", "urls.txt", "-i", "-"}, "note: urls.txt and standard input held no items, so nothing was fetched\n"},
		{[]string{"-q"}, ""},
		{[]string{"--dry-run"}, ""}, // its summary says so already
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := fetchpool(t, dir, "\n# nothing\n", tt.args...)
			if r.code != 0 {
				t.Fatalf("exit %d, want 0 for an empty list; stderr:\n%s", r.code, r.stderr)
			}
			if got := strings.Contains(r.stderr, "held no items"); tt.note == "" && got || tt.note != "" && !strings.HasSuffix(r.stderr, tt.note) {
				t.Errorf("stderr:\n%s\nwant it to end with %q", r.stderr, tt.note)
			}
		})
	}
}

func TestEndToEndNamesFromServerStayInside(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	list := srv.URL + "/cd/1?name=../../evil.sh\n" +
		srv.URL + "/cd/2?name=report.pdf\n" +
		srv.URL + "/cd/3?name=report.pdf\n" +
		srv.URL + "/docs/\n"
	r := fetchpool(t, dir, list, "-o", "out", "-j", "1")
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, name := range []string{"evil.sh", "report.pdf", "report.1.pdf", "index.html"} {
		if _, err := os.Stat(filepath.Join(dir, "out", name)); err != nil {
			t.Errorf("%s not saved: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "evil.sh")); err == nil {
		t.Error("a server-chosen name escaped the output directory")
	}
}

// TestEndToEndExplicitNameEndingInSlash: an explicit name that ends in "/"
// names a directory; the item fails with a message naming its line, and no
// file is saved under the directory's name.
func TestEndToEndExplicitNameEndingInSlash(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	list := srv.URL + "/a.iso\tisos/\n" +
		`{"url": "` + srv.URL + `/b.iso", "output": "isos/"}` + "\n" +
		srv.URL + "/c.iso\tisos/c.iso\n"
	r := fetchpool(t, dir, list, "-o", "out")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"FAIL -:1 " + srv.URL + `/a.iso: output name "isos/" ends in "/" and so names a directory`,
		"FAIL -:2 " + srv.URL + `/b.iso: output name "isos/" ends in "/"`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "out", "isos")); err != nil || !fi.IsDir() {
		t.Errorf("out/isos is not the directory of c.iso: %v", err)
	}
	if got, want := readFile(t, filepath.Join(dir, "out", "isos", "c.iso")), content("/c.iso"); !bytes.Equal(got, want) {
		t.Errorf("out/isos/c.iso = %q, want %q", got, want)
	}
}

// TestEndToEndFileAboveAnotherName: when one item saves a file where a
// later item needs a directory ("data", then "data/readme.txt"; with -x,
// URLs /docs and /docs/intro.html), the file is saved whole and the later
// item fails at once, naming its line and the file in its way; the other
// order keeps both, the file with a suffix. No .part is left behind.
func TestEndToEndFileAboveAnotherName(t *testing.T) {
	srv := fileServer(t)
	host := strings.ReplaceAll(strings.TrimPrefix(srv.URL, "http://"), ":", "_")
	tests := []struct {
		name  string
		list  string
		args  []string
		code  int
		want  map[string]string // saved name -> URL path of its content
		stder string
	}{
		{"explicit names, file first",
			srv.URL + "/a.bin\tdata\n" + srv.URL + "/b.txt\tdata/readme.txt\n", nil, 1,
			map[string]string{"data": "/a.bin"},
			"FAIL -:2 " + srv.URL + "/b.txt: cannot save data/readme.txt: " + filepath.Join("out", "data") +
				" is where another item of this run saves a file, not a directory; give one of them another name\n"},
		{"explicit names, directory first",
			srv.URL + "/b.txt\tdata/readme.txt\n" + srv.URL + "/a.bin\tdata\n", nil, 0,
			map[string]string{"data/readme.txt": "/b.txt", "data.1": "/a.bin"}, ""},
		{"keep paths, file first",
			srv.URL + "/docs\n" + srv.URL + "/docs/intro.html\n", []string{"-x"}, 1,
			map[string]string{host + "/docs": "/docs"},
			"FAIL -:2 " + srv.URL + "/docs/intro.html: cannot save " + host + "/docs/intro.html: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := fetchpool(t, dir, tt.list, append([]string{"-o", "out", "--no-progress"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stder) {
				t.Errorf("stderr lacks %q:\n%s", tt.stder, r.stderr)
			}
			var files []string
			filepath.WalkDir(filepath.Join(dir, "out"), func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(filepath.Join(dir, "out"), path)
					files = append(files, filepath.ToSlash(rel))
				}
				return nil
			})
			if len(files) != len(tt.want) {
				t.Errorf("saved %q, want the %d files %v", files, len(tt.want), tt.want)
			}
			for name, src := range tt.want {
				got, err := os.ReadFile(filepath.Join(dir, "out", filepath.FromSlash(name)))
				if err != nil || !bytes.Equal(got, content(src)) {
					t.Errorf("out/%s: %v, want the content of %s", name, err, src)
				}
			}
		})
	}
}

// TestEndToEndLongNames saves items whose names fill a path element: each
// is shortened so that its .part, its sidecar and the sidecar's temporary
// file (written by --split) fit as well, also when a suffix is added.
func TestEndToEndLongNames(t *testing.T) {
	srv := fileServer(t)
	y, z := strings.Repeat("y", 247), strings.Repeat("z", 300)
	tests := []struct {
		name  string
		list  string
		want  []string // saved names, in the order of the list
		extra []string
	}{
		{"explicit", srv.URL + "/a\t" + y + ".txt\n" + srv.URL + "/b\t" + y + ".txt\n",
			[]string{strings.Repeat("y", 237) + ".txt", strings.Repeat("y", 235) + ".1.txt"}, nil},
		{"from the URL", srv.URL + "/" + z + ".iso\n" + srv.URL + "/x/" + z + ".iso\n",
			[]string{strings.Repeat("z", 237) + ".iso", strings.Repeat("z", 235) + ".1.iso"}, nil},
		{"from Content-Disposition", srv.URL + "/cd/1?name=" + z + ".pdf\n",
			[]string{strings.Repeat("z", 237) + ".pdf"}, nil},
		{"keep paths", srv.URL + "/" + y + "/" + z + ".bin\n",
			[]string{filepath.Join(strings.ReplaceAll(strings.TrimPrefix(srv.URL, "http://"), ":", "_"), strings.Repeat("y", 241), strings.Repeat("z", 237)+".bin")},
			[]string{"--keep-paths"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"-o", "out", "-j", "1", "--split", "2", "--split-min", "1K"}, tt.extra...)
			r := fetchpool(t, dir, tt.list, args...)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
			}
			for _, name := range tt.want {
				if _, err := os.Stat(filepath.Join(dir, "out", name)); err != nil {
					t.Errorf("%s not saved: %v", name, err)
				}
			}
		})
	}
}

func TestEndToEndOnExists(t *testing.T) {
	srv := fileServer(t)
	tests := []struct {
		policy string
		files  map[string]string // name → expected content after the run ("" = served content)
		status string
	}{
		{"skip", map[string]string{"a.txt": "old"}, "skipped 1"},
		{"overwrite", map[string]string{"a.txt": ""}, "done 1"},
		{"rename", map[string]string{"a.txt": "old", "a.1.txt": ""}, "done 1"},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "a.txt"), []byte("old"), 0o644)
			r := fetchpool(t, dir, "", "--on-exists", tt.policy, srv.URL+"/a.txt")
			if r.code != 0 || !strings.Contains(r.stderr, tt.status) {
				t.Fatalf("exit %d, want 0 and %q; stderr:\n%s", r.code, tt.status, r.stderr)
			}
			for name, want := range tt.files {
				w := []byte(want)
				if want == "" {
					w = content("/a.txt")
				}
				if got := readFile(t, filepath.Join(dir, name)); !bytes.Equal(got, w) {
					t.Errorf("%s = %q..., want %q...", name, got[:min(len(got), 10)], w[:min(len(w), 10)])
				}
			}
		})
	}
}

func TestEndToEndDryRunAndJSON(t *testing.T) {
	srv := fileServer(t)
	dir := t.TempDir()
	r := fetchpool(t, dir, srv.URL+"/a.txt\n", "--dry-run", "-o", "out")
	if r.code != 0 || strings.TrimSpace(r.stdout) != srv.URL+"/a.txt -> "+filepath.Join("out", "a.txt") {
		t.Fatalf("dry run: exit %d, stdout %q", r.code, r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("dry run created the output directory")
	}
	// The same command as a real run, previewed: the --failed list that
	// the real run left is kept, not replaced with an empty one.
	left := srv.URL + "/b.txt\n"
	if err := os.WriteFile(filepath.Join(dir, "failed.txt"), []byte(left), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := fetchpool(t, dir, srv.URL+"/a.txt\n", "--dry-run", "-o", "out", "--failed", "failed.txt"); r.code != 0 {
		t.Fatalf("dry run with --failed: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "failed.txt")); string(data) != left {
		t.Errorf("the dry run changed --failed to %q", data)
	}

	r = fetchpool(t, dir, srv.URL+"/a.txt\n"+srv.URL+"/missing\n", "--json", "-o", "out", "--retries", "0")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %q", r.stdout)
	}
	statuses := map[string]map[string]any{}
	for _, l := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		statuses[obj["status"].(string)] = obj
	}
	ok := statuses["ok"]
	if ok == nil || ok["output"] != filepath.Join("out", "a.txt") || ok["sha256"] != sum(content("/a.txt")) || ok["http_status"] != float64(200) {
		t.Errorf("ok line wrong: %v", ok)
	}
	if f := statuses["failed"]; f == nil || f["http_status"] != float64(404) || f["error"] == "" {
		t.Errorf("failed line wrong: %v", f)
	}
}

func TestEndToEndOutputFileIsAnInput(t *testing.T) {
	dir := t.TempDir()
	list := "http://127.0.0.1:1/a\n"
	os.WriteFile(filepath.Join(dir, "list.txt"), []byte(list), 0o644)
	for _, flag := range []string{"--failed", "--report"} {
		r := fetchpool(t, dir, "", "-i", "list.txt", flag, "./list.txt")
		if r.code != 2 || !strings.Contains(r.stderr, flag) {
			t.Errorf("%s naming the input: exit %d, want 2; stderr:\n%s", flag, r.code, r.stderr)
		}
		if got := readFile(t, filepath.Join(dir, "list.txt")); string(got) != list {
			t.Errorf("%s naming the input changed it to %q", flag, got)
		}
	}
}

// TestEndToEndReportAndFailedSameFile: --report and --failed naming one
// file (as given, or as two spellings of one path) is a usage error before
// any request; it used to interleave the failed list into the report and
// leave neither readable, with exit 1.
func TestEndToEndReportAndFailedSameFile(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	tests := []struct{ report, failed string }{
		{"out.json", "out.json"},
		{"out.json", "./sub/../out.json"},
	}
	for _, tt := range tests {
		t.Run(tt.failed, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			r := fetchpool(t, dir, "", "--report", tt.report, "--failed", tt.failed, srv.URL+"/missing")
			if r.code != 2 || !strings.Contains(r.stderr, "--report") || !strings.Contains(r.stderr, "--failed") {
				t.Errorf("exit %d, want 2 naming both flags; stderr:\n%s", r.code, r.stderr)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
}

// TestEndToEndReportOrFailedDash: "--report -" and "--failed -" are usage
// errors saying how to write to standard output, before any request. They
// used to create a file named "-" in the working directory without a word,
// where a user of "-i -" looks for standard output.
func TestEndToEndReportOrFailedDash(t *testing.T) {
	for _, flag := range []string{"--report", "--failed"} {
		t.Run(flag, func(t *testing.T) {
			dir := t.TempDir()
			r := fetchpool(t, dir, "", flag, "-", "http://127.0.0.1:1/x")
			if r.code != 2 || !strings.Contains(r.stderr, flag+" -") || !strings.Contains(r.stderr, "/dev/stdout") {
				t.Errorf("exit %d, want 2 naming %s - and /dev/stdout; stderr:\n%s", r.code, flag, r.stderr)
			}
			if _, err := os.Lstat(filepath.Join(dir, "-")); err == nil {
				t.Errorf("%s - created a file named -", flag)
			}
		})
	}
}

// TestEndToEndJSONAndAFileOnStandardOutput: --json writes standard output,
// so a --report or --failed that is standard output too (/dev/stdout, as
// the usage error of "--report -" suggests) would be mixed into it: JSON
// lines and a list in one pipe, and in a file (> out.jsonl) the report,
// written from its own start, over the JSON lines. It is a usage error,
// before any request. Either alone on standard output is fine.
func TestEndToEndJSONAndAFileOnStandardOutput(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	for _, flag := range []string{"--report", "--failed"} {
		for _, stdout := range []string{"file", "pipe"} {
			t.Run(flag+" to a "+stdout, func(t *testing.T) {
				requests.Store(0)
				dir := t.TempDir()
				cmd := newCommand(dir, "--json", flag, "/dev/stdout", srv.URL+"/missing")
				var out, errOut bytes.Buffer
				cmd.Stderr = &errOut
				if stdout == "file" {
					f, err := os.Create(filepath.Join(dir, "out.jsonl"))
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					cmd.Stdout = f
				} else {
					cmd.Stdout = &out
				}
				err := cmd.Run()
				want := "fetchpool: " + flag + " /dev/stdout is standard output, where --json writes: the two would be mixed; give " + flag + " a file\n"
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != exitUsage || !strings.HasPrefix(errOut.String(), want) {
					t.Errorf("%v, want exit 2 and stderr starting %q; stderr:\n%s", err, want, errOut.String())
				}
				if n := requests.Load(); n != 0 {
					t.Errorf("%d requests sent, want none", n)
				}
			})
		}
		t.Run(flag+" alone", func(t *testing.T) {
			cmd := newCommand(t.TempDir(), flag, "/dev/stdout", "-o", "out", srv.URL+"/missing")
			if r := runCommand(t, cmd); r.code != 1 || !strings.Contains(r.stdout, "/missing") {
				t.Errorf("exit %d, want 1 with the %s on standard output:\n%s\nstderr:\n%s", r.code, flag, r.stdout, r.stderr)
			}
		})
	}
}
