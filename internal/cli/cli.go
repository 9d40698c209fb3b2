// Package cli is Switchboard's command line: it finds the command, parses
// its flags (each command has a flag set of its own, and every setting of
// internal/config is a flag of every command too), runs it, and turns the
// error it returns into the process's exit status through one table
// (exit.go). It is the only package that parses flags; one file per
// command.
package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/switchboardhq/switchboard/ent"
)

// Env is the process as a command sees it: its environment and streams,
// so that tests run the program in-process exactly as the binary runs.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Ready, if set, is told the address the server listens on once it
	// serves.
	Ready func(net.Addr)
	// DBOptions are extra ent options (tests count queries with them).
	DBOptions []ent.Option
}

// command is one subcommand.
type command struct {
	name string
	// summary is its line in `switchboard help`.
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands are every command, in the order of `switchboard help`.
var commands = []command{
	{"serve", "run the server (the default command)", serve},
	{"migrate", "apply or list the database migrations (migrate up | migrate status)", migrate},
	{"user", "create or erase an account (user create | user erase)", userCommand},
	{"seed", "fill an empty database with demo data, or generate a large helpdesk", seedCommand},
	{"export", "write users, groups, tickets and messages as JSONL", exportCommand},
	{"import", "read a JSONL export (idempotent, resumable)", importCommand},
	{"keys", "make an encryption key, or rotate the keys of confidential fields (keys generate | keys rotate)", keys},
}

// helpSummary is help's line in `switchboard help` (help is not in
// commands, since it lists them).
const helpSummary = "show this help, or a command's (help COMMAND)"

// Run runs the command of args (serve when there is none) and returns the
// process's exit status.
func Run(ctx context.Context, env Env, args []string) int {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	err := errUnknownCommand(name)
	if name == "-h" || name == "--help" {
		name = "help"
	}
	if name == "help" {
		err = help(ctx, &env, args)
	}
	for _, c := range commands {
		if c.name == name {
			err = c.run(ctx, &env, args)
			break
		}
	}
	if err != nil && !isHelp(err) {
		fmt.Fprintln(env.Stderr, "switchboard: "+err.Error())
	}
	return exitCode(err)
}

func errUnknownCommand(name string) error {
	return usageErrorf("unknown command %q (try: switchboard help)", name)
}
