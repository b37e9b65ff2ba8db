package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// shells are the shells "fetchpool completion" writes scripts for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

// shellList is shells in words: "bash, zsh, fish or powershell".
func shellList() string {
	return strings.Join(shells[:len(shells)-1], ", ") + " or " + shells[len(shells)-1]
}

const completionHelp = `Print the shell completion script for fetchpool on standard output.

  bash        source <(fetchpool completion bash)
              or, for every session:
              fetchpool completion bash > /etc/bash_completion.d/fetchpool
              (either way, bash needs the bash-completion package loaded)
  zsh         fetchpool completion zsh > "${fpath[1]}/_fetchpool"
              (with "autoload -U compinit; compinit" in ~/.zshrc)
  fish        fetchpool completion fish > ~/.config/fish/completions/fetchpool.fish
  powershell  fetchpool completion powershell | Out-String | Invoke-Expression

Start a new shell for the setup to take effect. A local file that is
literally named "completion" or "help" is fetched as ./completion or ./help.`

// addCompletion gives root its "completion SHELL" subcommand and completes
// the values of flags that take a fixed set of words. With a subcommand,
// cobra also adds "help". root must accept arbitrary positional arguments
// (cobra.ArbitraryArgs), or cobra would take every item for an unknown
// command.
func addCompletion(root *cobra.Command) {
	var noDescriptions bool
	cmd := &cobra.Command{
		Use:                   "completion " + strings.Join(shells, "|"),
		Short:                 "Print a shell completion script (" + shellList() + ")",
		Long:                  completionHelp,
		Args:                  completionArgs,
		ValidArgs:             shells,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeCompletion(cmd.Root(), cmd.OutOrStdout(), args[0], !noDescriptions)
		},
	}
	cmd.Flags().BoolVar(&noDescriptions, "no-descriptions", false, "complete flags without their descriptions")
	root.AddCommand(cmd)

	// A whole value is followed by a space, as any completed word; "auto/"
	// is not, for the N that the user types after it.
	words := map[string]struct {
		values    []string
		directive cobra.ShellCompDirective
	}{
		"on-exists": {[]string{"skip", "overwrite", "rename", "newer"}, cobra.ShellCompDirectiveNoFileComp},
		"shard":     {[]string{"auto/"}, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace},
	}
	for flag, w := range words {
		if root.Flags().Lookup(flag) == nil {
			continue
		}
		_ = root.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(w.values, w.directive))
	}
}

// completionArgs accepts exactly one known shell; anything else is a usage
// error (exit 2).
func completionArgs(_ *cobra.Command, args []string) error {
	if len(args) != 1 || !slices.Contains(shells, args[0]) {
		if len(args) == 0 {
			return usagef("completion wants the name of a shell: %s", shellList())
		}
		return usagef("completion wants one shell, %s; got %q", shellList(), strings.Join(args, " "))
	}
	return nil
}

// writeCompletion writes cobra's completion script for shell to w.
func writeCompletion(root *cobra.Command, w io.Writer, shell string, descriptions bool) error {
	var err error
	switch shell {
	case "bash":
		err = root.GenBashCompletionV2(w, descriptions)
	case "zsh":
		if descriptions {
			err = root.GenZshCompletion(w)
		} else {
			err = root.GenZshCompletionNoDesc(w)
		}
	case "fish":
		err = root.GenFishCompletion(w, descriptions)
	case "powershell":
		if descriptions {
			err = root.GenPowerShellCompletionWithDesc(w)
		} else {
			err = root.GenPowerShellCompletion(w)
		}
	default:
		return usagef("no completion for shell %q: want %s", shell, shellList())
	}
	if err != nil {
		return fmt.Errorf("writing the %s completion script: %w", shell, err)
	}
	return nil
}

// plainCompletionUsages drops the backquotes from the usage of every flag
// of cmd when args ask for shell completion: cobra shows a flag's usage as
// its description, where the backquotes that name its value for --help
// ("at most `N` transfers at once") would show as they are. --help, which
// reads them, is not run in the same process.
func plainCompletionUsages(cmd *cobra.Command, args []string) {
	if len(args) == 0 || args[0] != cobra.ShellCompRequestCmd && args[0] != cobra.ShellCompNoDescRequestCmd {
		return
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		f.Usage = strings.ReplaceAll(f.Usage, "`", "")
	})
}
