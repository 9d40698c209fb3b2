package cli

import (
	"context"
	"fmt"
	"strings"
)

const helpText = `Usage: switchboard [command] [flags]

Commands:
%s
Run switchboard COMMAND --help for a command's flags. Every setting is a
flag of every command and an environment variable (flags win); they are
listed in docs/configuration.md.
`

func help(ctx context.Context, env *Env, args []string) error {
	if len(args) == 1 {
		for _, c := range commands {
			if c.name == args[0] {
				return c.run(ctx, env, []string{"--help"})
			}
		}
		return errUnknownCommand(args[0])
	}
	var b strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "  %-9s %s\n", "help", helpSummary)
	fmt.Fprintf(env.Stdout, helpText, b.String())
	return nil
}
