package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/switchboardhq/switchboard/internal/config"
)

// flags is one command's flag set: its own flags, and every setting of
// internal/config as a flag too (a flag beats its environment variable).
type flags struct {
	fs *flag.FlagSet
	// usage is the command's synopsis and help, printed by --help.
	usage string
	// given are the settings given as flags, by environment variable.
	given map[string]string
	bools map[string]bool
	out   io.Writer
}

func newFlags(env *Env, name, usage string) *flags {
	f := &flags{fs: flag.NewFlagSet(name, flag.ContinueOnError), usage: usage, given: map[string]string{}, bools: map[string]bool{}, out: env.Stdout}
	f.fs.SetOutput(io.Discard)
	f.fs.Usage = func() {}
	for _, s := range config.Settings {
		if s.Flag == "" {
			continue // secrets: never a flag, flags show up in process lists
		}
		set := func(v string) error { f.given[s.Env] = v; return nil }
		if s.IsBool() {
			f.bools[s.Flag] = true
			f.fs.BoolFunc(s.Flag, s.Usage, set)
		} else {
			f.fs.Func(s.Flag, s.Usage, set)
		}
	}
	return f
}

func (f *flags) String(name, usage string) *string { return f.fs.String(name, "", usage) }
func (f *flags) Bool(name, usage string) *bool     { return f.fs.Bool(name, false, usage) }

// parse parses args, flags and arguments in any order, and returns the
// arguments. --help prints the command's help and returns flag.ErrHelp.
func (f *flags) parse(args []string) ([]string, error) {
	args = f.joinBoolValues(args)
	var positional []string
	for {
		if err := f.fs.Parse(args); err != nil {
			if isHelp(err) {
				f.printHelp()
				return nil, err
			}
			return nil, usageErrorf("%s: %v (see switchboard %s --help)", f.fs.Name(), err, f.fs.Name())
		}
		args = f.fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional, args = append(positional, args[0]), args[1:]
	}
}

// joinBoolValues lets on/off flags take their value as the next argument
// (--signup false), as the other flags do.
func (f *flags) joinBoolValues(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if name != a && f.bools[name] && i+1 < len(args) && (args[i+1] == "true" || args[i+1] == "false") {
			a += "=" + args[i+1]
			i++
		}
		out = append(out, a)
	}
	return out
}

// config reads the settings: the flags given, else the environment.
func (f *flags) config(getenv func(string) string) (*config.Config, error) {
	return config.Read(func(env string) string {
		if v, ok := f.given[env]; ok {
			return v
		}
		return getenv(env)
	})
}

// printHelp prints the command's usage and its own flags (the settings
// are listed once, in docs/configuration.md).
func (f *flags) printHelp() {
	fmt.Fprintln(f.out, f.usage)
	settings := map[string]bool{}
	for _, s := range config.Settings {
		settings[s.Flag] = true
	}
	var own []string
	f.fs.VisitAll(func(fl *flag.Flag) {
		if !settings[fl.Name] {
			own = append(own, fmt.Sprintf("  --%s\n    \t%s", fl.Name, fl.Usage))
		}
	})
	if len(own) > 0 {
		slices.Sort(own)
		fmt.Fprintln(f.out, "\nFlags:\n"+strings.Join(own, "\n"))
	}
	fmt.Fprintln(f.out, "\nEvery setting is a flag too (--addr, --data-dir, --database-url, …) and an\nenvironment variable; docs/configuration.md lists them.")
}

// noArguments refuses arguments to a command that takes none.
func noArguments(name string, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s: unexpected argument %q", name, args[0])
	}
	return nil
}
