package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/fetchpool/fetchpool/pkg/fetch"
	"github.com/spf13/cobra"
)

// options are the command line, as given; config turns them into the
// engine's settings.
type options struct {
	Args   []string
	Inputs []string

	Concurrency int
	PerHost     int
	Rate        string
	Burst       int
	LimitRate   string
	Split       int
	SplitMin    string

	OutputDir string
	KeepPaths bool
	OnExists  string
	NoResume  bool
	SHA256    string
	Checksums string

	Headers   []string
	UserAgent string
	// NoUserAgent is -A "": send no User-Agent at all, as curl -A "" and
	// wget -U "" do.
	NoUserAgent bool
	Netrc       bool
	NetrcFile   string
	Insecure    bool

	Retries        int
	RetryWait      time.Duration
	MaxRetryWait   time.Duration
	ConnectTimeout time.Duration
	Timeout        time.Duration
	StallTimeout   time.Duration

	Quiet      bool
	NoProgress bool
	Verbose    bool
	JSON       bool
	Report     string
	Failed     string
	Bell       bool
	DryRun     bool
	Shard      string
}

const longHelp = `fetchpool downloads many URLs at once with a bounded, rate-limited pool of
workers, and tells you exactly what happened.

Items are http(s) URLs, file:// URLs or local file paths (copied like a
download). They come from the arguments, from -i files (- is standard input),
or from standard input when it is piped and nothing else is given. Input is
streamed: downloads start before a long list is read to the end.

Input lines:
  https://example.com/a.iso                      a URL
  https://example.com/a.iso<TAB>isos/a.iso       a URL and its output name
  {"url": "...", "output": "x/y.bin", "sha256": "..."}   a JSON object
  # comment                                      skipped, as are blank lines

Every file is written to NAME.part and renamed into place only when it is
complete and verified: a file under its final name is always whole. An
existing NAME.part is resumed. The name comes from the input, else from the
server's Content-Disposition, else from the last segment of the URL as given
(the first URL, before any redirect), else index.html.

The first Ctrl-C (or SIGTERM, or SIGHUP) stops starting new transfers and
lets those in flight finish, without retries; a second one aborts them,
keeping their .part files for a resume. A closed standard output or error
(--json | head) stops the run as the first Ctrl-C does.

A DURATION is 30s, 1m30s, 500ms or a plain number of seconds. A SIZE or
BYTES is a number of bytes, with K, M or G for 1024-based multiples.

Exit codes: 0 all done or skipped, 1 some failed, 2 usage error,
130 interrupted.`

const examples = `  fetchpool https://example.com/a.iso https://example.com/b.iso
  printf '%s\n' https://example.com/a https://example.com/b | fetchpool -o out/
  fetchpool -i urls.txt -i more.txt --rate 10/s --per-host 2 -o mirror/
  fetchpool -i urls.txt --json --failed failed.txt || fetchpool -i failed.txt`

// newRootCommand builds the command line. run is called with the parsed
// options once the flags are valid.
func newRootCommand(run func(ctx context.Context, opts *options) error) *cobra.Command {
	opts := &options{}
	cmd := &cobra.Command{
		Use:           "fetchpool [flags] [ITEM ...]",
		Short:         "Download lists of URLs with a rate-limited pool of workers",
		Long:          longHelp,
		Example:       examples,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Items are positional, beside the completion and help subcommands.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			opts.NoUserAgent = opts.UserAgent == "" && cmd.Flags().Changed("user-agent")
			return run(cmd.Context(), opts)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if flag, ours := flagOf(cmd.Flags(), err); c != cmd && ours {
			return usagef("%s: %q is read as the %s command, which takes no fetchpool flags; for a local file named %s, write ./%s",
				flag, c.Name(), c.Name(), c.Name(), c.Name())
		}
		return usageError{flagHint(c.Flags(), err)}
	})
	cmd.SetVersionTemplate("fetchpool {{.Version}}\n")

	f := cmd.Flags()
	f.SortFlags = false
	f.StringArrayVarP(&opts.Inputs, "input", "i", nil, "read items from `FILE` (- for standard input), one per line; repeatable")
	f.StringVarP(&opts.OutputDir, "output-dir", "o", ".", "save files in `DIR` (created if missing); a directory, not a file name as for curl -o")
	f.BoolVarP(&opts.KeepPaths, "keep-paths", "x", false, "save under DIR/HOST/URL-PATH")
	f.StringVar(&opts.OnExists, "on-exists", "skip", "when a file exists before the run, `MODE`: skip, overwrite, rename (keep it, save as name.N.ext) or newer (conditional GET)")
	f.BoolVar(&opts.NoResume, "no-resume", false, "start over instead of resuming existing .part files")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print URL -> PATH for every item and send no request (a server may still name a file otherwise, by Content-Disposition)")

	f.VarP(newCount(&opts.Concurrency, 8, "at least 1"), "concurrency", "j", "at most `N` transfers at once")
	f.Var(newCount(&opts.PerHost, 0, "0 (no cap) or more"), "per-host", "at most `N` requests at once to one host:port (0 = no cap)")
	f.StringVarP(&opts.Rate, "rate", "r", "", "start at most this many requests, retries included: `N`, N/s, N/m or N/h (0 or unset: unlimited)")
	f.Var(newCount(&opts.Burst, 1, "at least 1"), "burst", "let `N` requests start at once under --rate")
	f.StringVar(&opts.LimitRate, "limit-rate", "", "cap total download bandwidth at `BYTES` per second (K, M, G suffixes, 1024-based; 0 or unset: no cap)")
	f.Var(newCount(&opts.Split, 1, "1 to "+strconv.Itoa(fetch.MaxSplit)), "split", "fetch a large file as `N` concurrent ranges (at most 16) when the server supports them")
	f.StringVar(&opts.SplitMin, "split-min", "16M", "split only files of at least `SIZE`")

	f.StringVar(&opts.SHA256, "sha256", "", "expected SHA-256 of the single item, in `HEX`")
	f.StringVar(&opts.Checksums, "checksums", "", "verify against `FILE` in sha256sum format (HEX  NAME; - for standard input)")

	f.StringArrayVarP(&opts.Headers, "header", "H", nil, "add a request header `\"K: V\"`; repeatable")
	f.StringVarP(&opts.UserAgent, "user-agent", "A", "", "User-Agent `STRING` (default \"fetchpool/VERSION\"; \"\" sends none)")
	f.BoolVar(&opts.Netrc, "netrc", false, "use credentials from ~/.netrc for the matching host")
	f.StringVar(&opts.NetrcFile, "netrc-file", "", "use credentials from `FILE` (implies --netrc)")
	f.BoolVar(&opts.Insecure, "insecure", false, "do not verify TLS certificates")

	f.Var(newCount(&opts.Retries, 3, "0 or more"), "retries", "retry a failed transfer up to `N` times (connection errors, timeouts, stalls, short bodies, HTTP 408, 425, 429, 500, 502, 503, 504)")
	f.Var(newDuration(&opts.RetryWait, time.Second), "retry-wait", "wait up to DURATION before the first retry, twice as long before each next one (at most 30s)")
	f.Var(newDuration(&opts.MaxRetryWait, time.Minute), "max-retry-wait", "honour a server's Retry-After of up to DURATION; a longer one fails the item (0 = honour none: fail at once)")
	f.Var(newDuration(&opts.ConnectTimeout, 30*time.Second), "connect-timeout", "give up connecting (the TLS handshake and a proxy's answer to CONNECT too) after DURATION (0 = no limit)")
	f.Var(newDuration(&opts.Timeout, 0), "timeout", "give up one attempt after DURATION (0 = no limit)")
	f.Var(newDuration(&opts.StallTimeout, time.Minute), "stall-timeout", "abort and retry an attempt that receives no byte for DURATION (0 = never)")

	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only errors and the summary")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "print every attempt, retry and redirect")
	f.BoolVar(&opts.NoProgress, "no-progress", false, "no bars or live status line; one line per finished item instead")
	f.BoolVar(&opts.JSON, "json", false, "write one JSON object per finished item to standard output")
	f.StringVar(&opts.Report, "report", "", "write a JSON report of the run (summary and every item) to `FILE`")
	f.StringVar(&opts.Failed, "failed", "", "write every failed or unstarted item to `FILE`, in input syntax, for fetchpool -i FILE")
	f.BoolVar(&opts.Bell, "bell", false, "ring the terminal bell when all is done")
	f.StringVar(&opts.Shard, "shard", "", "fetch only shard `K/N` of the items (1-based; auto/N reads JOB_COMPLETION_INDEX)")
	addCompletion(cmd)
	return cmd
}

// wrapHelp makes --help wrap each flag's text at width columns, indented
// under the column where the texts start, instead of leaving the terminal
// to break it at its edge, mid-word and back at column 0.
func wrapHelp(cmd *cobra.Command, width int) {
	tmpl := cmd.UsageTemplate()
	for _, flags := range []string{".LocalFlags", ".InheritedFlags"} {
		tmpl = strings.ReplaceAll(tmpl, flags+".FlagUsages ", flags+".FlagUsagesWrapped "+strconv.Itoa(width)+" ")
	}
	cmd.SetUsageTemplate(tmpl)
}
