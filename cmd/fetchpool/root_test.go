package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rivo/uniseg"
	"github.com/spf13/cobra"
)

// parse runs the command line through cobra and configure, without running
// anything.
func parse(t *testing.T, args ...string) (*options, *config, error) {
	t.Helper()
	var got *options
	cmd := newRootCommand(func(_ context.Context, opts *options) error {
		got = opts
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := longWithOneDash(cmd, args); err != nil { // as execute
		return nil, nil, err
	}
	if err := cmd.Execute(); err != nil {
		return nil, nil, err
	}
	env := map[string]string{"JOB_COMPLETION_INDEX": "2"}
	c, err := configure(got, &streams{Getenv: func(k string) string { return env[k] }})
	return got, c, err
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args  []string
		check func(*options, *config) bool
	}{
		{[]string{"http://x/a"}, func(o *options, c *config) bool {
			return o.Concurrency == 8 && o.OutputDir == "." && c.pool.OnExists == "skip" && c.fetch.Retries == 3 &&
				c.fetch.StallTimeout == time.Minute && c.fetch.ConnectTimeout == 30*time.Second &&
				strings.HasPrefix(c.fetch.UserAgent, "fetchpool/") && c.fetch.SplitMin == 16<<20
		}},
		{[]string{"-j", "32", "--per-host", "4", "-r", "20/s", "--limit-rate", "5M", "-i", "a.txt", "-i", "-"}, func(o *options, c *config) bool {
			return c.fetch.Concurrency == 32 && o.PerHost == 4 && len(o.Inputs) == 2 && c.fetch.Throttle != nil
		}},
		{[]string{"-o", "out", "-x", "--on-exists", "RENAME", "--no-resume", "--dry-run", "u"}, func(o *options, c *config) bool {
			return c.pool.OutputDir == "out" && c.pool.KeepPaths && c.pool.OnExists == "rename" && c.fetch.NoResume && c.pool.DryRun
		}},
		{[]string{"-H", "X-A: 1", "-H", "Host: h.test", "-A", "bot/1", "u"}, func(o *options, c *config) bool {
			return c.fetch.Header.Get("X-A") == "1" && c.fetch.Header.Get("Host") == "h.test" && c.fetch.UserAgent == "bot/1"
		}},
		{[]string{"--sha256", strings.Repeat("AB", 32), "u"}, func(o *options, c *config) bool {
			return c.pool.SHA256 == strings.Repeat("ab", 32)
		}},
		{[]string{"--shard", "auto/4", "u"}, func(o *options, c *config) bool {
			return c.pool.Shard.K == 3 && c.pool.Shard.N == 4
		}},
		{[]string{"--json", "u"}, func(o *options, c *config) bool { return c.fetch.Hash }},
		{[]string{"--split", "4", "--split-min", "1M", "u"}, func(o *options, c *config) bool {
			return c.fetch.Split == 4 && c.fetch.SplitMin == 1<<20
		}},
		// Plain numbers are seconds, as for curl --max-time and wget --timeout.
		{[]string{"--timeout", "5", "--stall-timeout", "0.5", "--connect-timeout", "1m30s", "--retry-wait", ".25", "u"}, func(o *options, c *config) bool {
			return c.fetch.Timeout == 5*time.Second && c.fetch.StallTimeout == 500*time.Millisecond &&
				c.fetch.ConnectTimeout == 90*time.Second && c.fetch.RetryWait == 250*time.Millisecond
		}},
		{[]string{"--max-retry-wait", "0", "--limit-rate", "0", "u"}, func(o *options, c *config) bool {
			return c.fetch.MaxRetryWait < 0 && c.fetch.Throttle == nil
		}},
		{[]string{"--limit-rate", "0.5K", "u"}, func(o *options, c *config) bool { return c.fetch.Throttle != nil }},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			o, c, err := parse(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o, c) {
				t.Errorf("unexpected options: %+v", o)
			}
		})
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // part of the message: the flag and what is wrong
	}{
		{[]string{"-j", "0", "u"}, "--concurrency"},
		{[]string{"-j", "x", "u"}, "concurrency"},
		// Every integer flag says what it wants, as the duration and size
		// flags do, not strconv's `parsing "x": invalid syntax`.
		{[]string{"-j", "x", "u"}, `invalid argument "x" for "-j, --concurrency" flag: want a whole number, at least 1`},
		{[]string{"--per-host", "two", "u"}, `invalid argument "two" for "--per-host" flag: want a whole number, 0 (no cap) or more`},
		{[]string{"--burst", "1.5", "u"}, `invalid argument "1.5" for "--burst" flag: want a whole number, at least 1`},
		{[]string{"--split", "", "u"}, `invalid argument "" for "--split" flag: want a whole number, 1 to 16`},
		{[]string{"--retries", "abc", "u"}, `invalid argument "abc" for "--retries" flag: want a whole number, 0 or more`},
		{[]string{"--retries", "99999999999999999999", "u"}, `invalid argument "99999999999999999999" for "--retries" flag: too large: want a whole number, 0 or more`},
		{[]string{"-j", "-99999999999999999999", "u"}, `invalid argument "-99999999999999999999" for "-j, --concurrency" flag: too small: want a whole number, at least 1`},
		{[]string{"--rate", "fast", "u"}, "--rate"},
		{[]string{"--limit-rate", "lots", "u"}, "--limit-rate"},
		{[]string{"--on-exists", "maybe", "u"}, "--on-exists"},
		{[]string{"--burst", "0", "u"}, "--burst"},
		// Without --rate it did nothing, without a word.
		{[]string{"--burst", "5", "u"}, "--burst 5 does nothing without --rate: add a request rate (e.g. --rate 10/s --burst 5) or leave --burst out"},
		{[]string{"--split", "0", "u"}, "--split"},
		{[]string{"--split", "17", "u"}, "want 1 to 16 ranges"},
		{[]string{"--retries", "-1", "u"}, "--retries"},
		{[]string{"--timeout", "-1s", "u"}, "--timeout"},
		{[]string{"--timeout", "5x", "u"}, "a number of seconds"},
		{[]string{"--timeout", "1e3", "u"}, "a number of seconds"},
		// A duration of the right form but too long, or too short to
		// count, says so: "want a duration such as 30s ... or a number of
		// seconds" of --timeout 9999999999 read as if the form were wrong.
		{[]string{"--timeout", "9999999999", "u"}, `invalid argument "9999999999" for "--timeout" flag: too long: want at most 2562047h (about 292 years)`},
		{[]string{"--retry-wait", "2562048h", "u"}, `invalid argument "2562048h" for "--retry-wait" flag: too long: want at most 2562047h`},
		{[]string{"--stall-timeout", "1.5h99999999999m", "u"}, `for "--stall-timeout" flag: too long`},
		{[]string{"--connect-timeout", "0.1ns", "u"}, `invalid argument "0.1ns" for "--connect-timeout" flag: too short: want 1ns or more (0 is written 0)`},
		// A negative number of seconds is refused as -5s is, for its sign,
		// not its form; a "+" does not make a long one malformed.
		{[]string{"--timeout", "-5", "u"}, `invalid argument "-5" for "--timeout" flag: want a duration of 0 or more, like 30s or 2m`},
		{[]string{"--stall-timeout", "-0.5", "u"}, `invalid argument "-0.5" for "--stall-timeout" flag: want a duration of 0 or more`},
		{[]string{"--timeout", "+9999999999h", "u"}, `invalid argument "+9999999999h" for "--timeout" flag: too long: want at most 2562047h`},
		{[]string{"--timeout", "--5s", "u"}, `invalid argument "--5s" for "--timeout" flag: want a duration such as 30s`},
		{[]string{"--timeout", "0.0000000001", "u"}, `for "--timeout" flag: too short`},
		{[]string{"--timeout", "99999999999x", "u"}, `for "--timeout" flag: want a duration such as 30s`},
		{[]string{"--limit-rate", "9999999999G", "u"}, `invalid --limit-rate "9999999999G": too large: want bytes like 500K, 2M or 1G`},
		{[]string{"--split-min", "99999999999999999999", "u"}, `invalid --split-min "99999999999999999999": too large: want bytes`},
		{[]string{"--stall-timeout", "-5", "u"}, "--stall-timeout"},
		{[]string{"--limit-rate", "0.5", "u"}, "less than 1 byte per second"},
		{[]string{"--limit-rate", "0.0001K", "u"}, "less than 1 byte per second"},
		{[]string{"-H", "no colon", "u"}, "--header"},
		{[]string{"-H", "Fo@o: bar", "u"}, `cannot contain "@"`},
		{[]string{"-H", "X-Ümlaut: bar", "u"}, "--header"},
		{[]string{"-H", "X-A: a\x01b", "u"}, "control character"},
		{[]string{"--sha256", "abc", "u"}, "--sha256"},
		{[]string{"--sha256", "sha256:" + strings.Repeat("ab", 32), "u"}, `--sha256: invalid sha256 "sha256:abab`},
		{[]string{"--sha256", "sha256:" + strings.Repeat("ab", 32), "u"}, `(give it without the "sha256:" prefix)`},
		{[]string{"--sha256", strings.Repeat("a", 64), "u", "v"}, "--sha256"},
		// One of the two would go unchecked without a word.
		{[]string{"--sha256", strings.Repeat("a", 64), "--checksums", "SUMS", "u"}, "--sha256 and --checksums"},
		{[]string{"--shard", "5/4", "u"}, "shard"},
		{[]string{"-q", "-v", "u"}, "--quiet"},
		{[]string{"-o", "", "u"}, "--output-dir is empty"},
		// curl -O URL typed as -o URL: it made http:/host/... and, with no
		// item left, fetched nothing and said all was well.
		{[]string{"-o", "https://example.com/a.iso"}, "--output-dir https://example.com/a.iso is a URL: -o names the directory to save in; give the URL as an item: fetchpool -o DIR https://example.com/a.iso"},
		{[]string{"-o", "file:///tmp/x", "u"}, "is a URL"},
		// Found before the -i files are opened: a named pipe there kept
		// the run waiting for its writer before it said so.
		{[]string{"-o", "~/dl", "u"}, "--output-dir ~/dl: a leading ~ is not expanded outside a shell"},
		{[]string{"-i", "list.txt", "-i", ""}, "--input is empty"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := parse(t, tt.args...)
			var usage usageError
			if !errors.As(err, &usage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// TestUnknownFlagHints: a flag of curl, wget2 or aria2c, or a typo of a
// fetchpool flag, is answered with what to use instead.
func TestUnknownFlagHints(t *testing.T) {
	tests := []struct {
		args []string
		want string // the hint, after the unknown flag
	}{
		{[]string{"-c", "u"}, "-c: fetchpool always resumes an existing .part file, unless --no-resume"},
		{[]string{"--continue", "u"}, "--continue: fetchpool always resumes"},
		{[]string{"-C", "-", "u"}, "-C: fetchpool always resumes"},
		{[]string{"-O", "u"}, "-O: each file is already named after its URL"},
		{[]string{"--output", "f", "u"}, "--output: -o/--output-dir names the directory"},
		{[]string{"--output=f", "u"}, "--output: -o/--output-dir names the directory"},
		{[]string{"-P", "d", "u"}, "use -o/--output-dir DIR"},
		{[]string{"-N", "u"}, "-N: use --on-exists newer"},
		{[]string{"-nc", "u"}, "-nc: fetchpool keeps an existing file by default"},
		{[]string{"-k", "u"}, "-k: use --insecure (as curl -k), or --split-min SIZE (as aria2c -k)"},
		{[]string{"-L", "u"}, "-L: fetchpool always follows redirects"},
		{[]string{"-s", "u"}, "-s: use -q/--quiet (as curl -s), or --split N (as aria2c -s)"},
		{[]string{"-V"}, "-V: use --version"},
		{[]string{"--no-color", "u"}, "--no-color: set NO_COLOR=1 in the environment"},
		{[]string{"--outptu-dir", "d", "u"}, "--outptu-dir: did you mean --output-dir?"},
		{[]string{"--quite", "u"}, "--quite: did you mean --quiet?"},
		{[]string{"--insec", "u"}, "--insec: did you mean --insecure?"},
		{[]string{"--ver", "u"}, "--ver: did you mean --verbose or --version?"},
		// A long flag with one dash, as java -version and many tools take
		// it: pflag read -v and then failed on the 'e' of -ersion.
		{[]string{"-version"}, "-version: did you mean --version? (a long flag takes two dashes)"},
		{[]string{"-help"}, "-help: did you mean --help? (a long flag takes two dashes)"},
		{[]string{"-quiet", "u"}, "-quiet: did you mean --quiet? (a long flag takes two dashes)"},
		{[]string{"-verbose", "u"}, "-verbose: did you mean --verbose?"},
		// One that pflag reads as a shorthand and its value: -j "son"
		// failed with words about -j; -o "utput-dir" ran, into ./utput-dir.
		{[]string{"-json", "u"}, "-json: did you mean --json? (a long flag takes two dashes)"},
		{[]string{"-output-dir", "d", "u"}, "-output-dir: did you mean --output-dir?"},
		{[]string{"-rate=2/s", "u"}, "-rate=2/s: did you mean --rate=2/s?"},
		// An item named as a subcommand, after flags: cobra ran the help
		// command, which said "unknown shorthand flag: 'o' in -o".
		{[]string{"-o", "out", "help"}, `-o: "help" is read as the help command, which takes no fetchpool flags; for a local file named help, write ./help`},
		{[]string{"--json", "completion", "bash"}, `--json: "completion" is read as the completion command, which takes no fetchpool flags; for a local file named completion, write ./completion`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := parse(t, tt.args...)
			var usage usageError
			if !errors.As(err, &usage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	// Nothing is made up for a flag that is close to none.
	for _, flag := range []string{"--no-such-flag", "--foo", "-y"} {
		_, _, err := parse(t, flag, "u")
		if err == nil || strings.Contains(err.Error(), "did you mean") || strings.Count(err.Error(), ":") > 1 {
			t.Errorf("%s: error %v, want the bare unknown-flag error", flag, err)
		}
	}
}

// TestHelpDurations: a duration flag's help names its value DURATION, as
// the help's text explains it, and shows its default as one would type
// it (1m, not time.Duration's 1m0s).
func TestHelpDurations(t *testing.T) {
	cmd := newRootCommand(func(context.Context, *options) error { return nil })
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	for _, want := range []string{
		"A DURATION is 30s, 1m30s, 500ms or a plain number of seconds",
		"--retry-wait DURATION ",
		"--stall-timeout DURATION ",
		"(default 1m)\n",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not say %q", want)
		}
	}
	if strings.Contains(help, "1m0s") || strings.Contains(help, " duration ") {
		t.Errorf("--help shows a duration as Go prints it:\n%s", help)
	}
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{0, "0"}, {time.Second, "1s"}, {90 * time.Second, "1m30s"}, {time.Minute, "1m"}, {2 * time.Hour, "2h"}, {time.Hour + time.Minute, "1h1m"}, {500 * time.Millisecond, "500ms"}} {
		if got := (*durationValue)(&tt.d).String(); got != tt.want {
			t.Errorf("%v shows as %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestHelpFitsTheTerminal: --help wraps each flag's text under its column
// at the terminal's width (80 columns off a terminal), instead of leaving
// the terminal to break it mid-word at column 0.
func TestHelpFitsTheTerminal(t *testing.T) {
	for _, tt := range []struct {
		name     string
		terminal bool
		width    int
		args     []string
		want     int // the widest line allowed
	}{
		{"piped", false, 200, []string{"--help"}, 80},
		{"terminal of 100", true, 100, []string{"--help"}, 99},
		{"terminal of 80", true, 80, []string{"--help"}, 79},
		{"terminal of 72", true, 72, []string{"--help"}, 71},
		{"completion, terminal of 80", true, 80, []string{"completion", "--help"}, 79},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			s := &streams{In: strings.NewReader(""), Out: &out, Err: &errOut, OutTerminal: tt.terminal,
				Width: func() int { return tt.width }, Getenv: func(string) string { return "" }}
			if err := execute(context.Background(), context.Background(), s, tt.args); err != nil {
				t.Fatal(err)
			}
			flags := false
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.HasSuffix(l, "Flags:") {
					flags = true
				}
				// Only the flags are wrapped: the text above is written
				// to fit 80 columns, examples are not broken.
				if (flags || !tt.terminal) && uniseg.StringWidth(l) > tt.want {
					t.Errorf("line of %d columns, want at most %d: %q", uniseg.StringWidth(l), tt.want, l)
				}
			}
			if !flags {
				t.Fatalf("no flags in the help:\n%s", out.String())
			}
		})
	}
}

// TestLongWithOneDashLeavesOthersAlone: shorthands, their groups and
// values, and what follows "--" are not taken for long flags.
func TestLongWithOneDashLeavesOthersAlone(t *testing.T) {
	for _, args := range [][]string{
		{"-j", "4", "-o", "out", "u"},
		{"-qx", "u"},
		{"-j4", "u"},
		{"--json", "u"},
		{"--", "-json"},
		{cobra.ShellCompRequestCmd, "-json"},
	} {
		cmd := newRootCommand(func(context.Context, *options) error { return nil })
		if err := longWithOneDash(cmd, args); err != nil {
			t.Errorf("%q: %v, want no error", args, err)
		}
	}
}
