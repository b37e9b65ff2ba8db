package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// foreignFlags answers the flags that people bring from curl, wget2 and
// aria2c, keyed by the flag as pflag reports it: a long name, or a single
// letter for a shorthand. The README's "Coming from curl, wget2 or aria2c"
// table says the same at length.
var foreignFlags = map[string]string{
	// Resuming.
	"c":           "fetchpool always resumes an existing .part file, unless --no-resume",
	"C":           "fetchpool always resumes an existing .part file, unless --no-resume",
	"continue":    "fetchpool always resumes an existing .part file, unless --no-resume",
	"continue-at": "fetchpool always resumes an existing .part file, unless --no-resume",
	// Naming one file and choosing the directory.
	"O":                   "each file is already named after its URL or the server's Content-Disposition; to choose a name, give the item as URL<TAB>NAME on a list line",
	"remote-name":         "each file is already named after its URL or the server's Content-Disposition; to choose a name, give the item as URL<TAB>NAME on a list line",
	"output":              "-o/--output-dir names the directory; to choose a file's name, give the item as URL<TAB>NAME on a list line",
	"output-document":     "-o/--output-dir names the directory; to choose a file's name, give the item as URL<TAB>NAME on a list line",
	"out":                 "-o/--output-dir names the directory; to choose a file's name, give the item as URL<TAB>NAME on a list line",
	"P":                   "use -o/--output-dir DIR to choose the directory",
	"directory-prefix":    "use -o/--output-dir DIR to choose the directory",
	"d":                   "use -o/--output-dir DIR to choose the directory",
	"dir":                 "use -o/--output-dir DIR to choose the directory",
	"J":                   "fetchpool always takes a name from Content-Disposition",
	"content-disposition": "fetchpool always takes a name from Content-Disposition",
	// Existing files.
	"N":               "use --on-exists newer",
	"timestamping":    "use --on-exists newer",
	"conditional-get": "use --on-exists newer",
	"no-clobber":      "fetchpool keeps an existing file by default: --on-exists skip",
	"allow-overwrite": "use --on-exists overwrite",
	// Redirects, TLS, identity.
	"L":                    "fetchpool always follows redirects, up to 10",
	"location":             "fetchpool always follows redirects, up to 10",
	"k":                    "use --insecure (as curl -k), or --split-min SIZE (as aria2c -k)",
	"no-check-certificate": "use --insecure",
	"check-certificate":    "use --insecure",
	"U":                    "use -A/--user-agent",
	"n":                    "use --netrc",
	"netrc-path":           "use --netrc-file FILE",
	// Output.
	"no-color":   "set NO_COLOR=1 in the environment for bars without color, or give --no-progress for none",
	"nocolor":    "set NO_COLOR=1 in the environment for bars without color, or give --no-progress for none",
	"V":          "use --version",
	"s":          "use -q/--quiet (as curl -s), or --split N (as aria2c -s)",
	"silent":     "use -q/--quiet",
	"no-verbose": "use -q/--quiet",
	// Retries and timeouts.
	"t":            "use --retries N, or --timeout DURATION for a time limit",
	"tries":        "use --retries N",
	"retry":        "use --retries N",
	"max-tries":    "use --retries N",
	"m":            "use --timeout DURATION for a time limit per attempt, or --retries N",
	"max-time":     "use --timeout DURATION, a time limit per attempt",
	"T":            "use --timeout DURATION, a time limit per attempt",
	"read-timeout": "use --stall-timeout DURATION",
	"retry-delay":  "use --retry-wait DURATION",
	"waitretry":    "use --retry-wait DURATION",
	"w":            "use -r/--rate, such as --rate 1/s",
	"wait":         "use -r/--rate, such as --rate 1/s",
	// Concurrency and splitting.
	"Z":                          "fetchpool always runs transfers at once: -j N sets how many",
	"parallel":                   "fetchpool always runs transfers at once: -j N sets how many",
	"parallel-max":               "use -j/--concurrency N",
	"jobs":                       "use -j/--concurrency N",
	"max-threads":                "use -j/--concurrency N",
	"max-concurrent-downloads":   "use -j/--concurrency N",
	"max-connection-per-server":  "use --split N",
	"max-overall-download-limit": "use --limit-rate",
	"checksum":                   "use --sha256 HEX, or --checksums FILE",
}

// wgetGroups answers wget's two-letter short options, which pflag reads
// as a group of one-letter flags and reports by their first letter.
var wgetGroups = map[string]string{
	"nc": "fetchpool keeps an existing file by default: --on-exists skip",
	"nv": "use -q/--quiet",
	"nd": "fetchpool saves into -o DIR without host directories unless -x is given",
}

// flagHint adds to an unknown-flag error what to use instead: the
// fetchpool way for a flag of curl, wget2 or aria2c, or the flags the
// name is most likely a typo of. Other errors are returned as they are.
func flagHint(flags *pflag.FlagSet, err error) error {
	var unknown *pflag.NotExistError
	if !errors.As(err, &unknown) {
		return err
	}
	if hint, ok := wgetGroups[unknown.GetSpecifiedShortnames()]; ok {
		return fmt.Errorf("%w: %s", err, hint)
	}
	name, _, _ := strings.Cut(unknown.GetSpecifiedName(), "=")
	if hint, ok := foreignFlags[name]; ok {
		return fmt.Errorf("%w: %s", err, hint)
	}
	if len(name) < 2 {
		return err
	}
	if near := closestFlags(flags, name); len(near) > 0 {
		return fmt.Errorf("%w: did you mean --%s?", err, strings.Join(near, " or --"))
	}
	return err
}

// flagOf returns the flag an unknown-flag error names, as it was typed
// (-o, --json), and whether flags has it: a flag of the command given to
// one of its subcommands.
func flagOf(flags *pflag.FlagSet, err error) (string, bool) {
	var unknown *pflag.NotExistError
	if !errors.As(err, &unknown) {
		return "", false
	}
	if short := unknown.GetSpecifiedShortnames(); short != "" {
		return "-" + short[:1], flags.ShorthandLookup(short[:1]) != nil
	}
	name, _, _ := strings.Cut(unknown.GetSpecifiedName(), "=")
	return "--" + name, flags.Lookup(name) != nil
}

// longWithOneDash refuses an argument that is a long flag typed with one
// dash ("-json", "-output-dir=d"): pflag would read it as a shorthand and
// its value ("-j son", "-o utput-dir"), and either fail with words about
// another flag or, worse, run with a setting nobody asked for. Arguments
// after "--", and those of shell completion, are left alone. It covers
// --help and --version too (java -version), which cobra adds only when it
// runs the command.
func longWithOneDash(cmd *cobra.Command, args []string) error {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return nil
	}
	cmd.InitDefaultHelpFlag()
	cmd.InitDefaultVersionFlag()
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		if name, _, _ := strings.Cut(a[1:], "="); cmd.Flags().Lookup(name) != nil {
			return usagef("%s: did you mean --%s? (a long flag takes two dashes)", a, a[1:])
		}
	}
	return nil
}

// closestFlags returns the long flag names that name is most likely a
// typo or an abbreviation of, nearest first; none when none is close.
func closestFlags(flags *pflag.FlagSet, name string) []string {
	var near []string
	bestDist := 0
	flags.VisitAll(func(f *pflag.Flag) {
		d := editDistance(name, f.Name)
		if len(name) >= 3 && strings.HasPrefix(f.Name, name) {
			d = 1 // an abbreviation, as --insec for --insecure
		}
		switch {
		case near == nil || d < bestDist:
			near, bestDist = []string{f.Name}, d
		case d == bestDist:
			near = append(near, f.Name)
		}
	})
	// Two edits cover a swapped pair and a missing letter; more, or half
	// of a short name, points at an unrelated flag.
	if bestDist > 2 || bestDist > len(name)/2 || len(near) > 3 {
		return nil
	}
	return near
}

// editDistance is the Damerau–Levenshtein distance (with adjacent
// transpositions) between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
