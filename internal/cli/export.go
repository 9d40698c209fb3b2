package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/bulk"
)

const exportUsage = `Usage: switchboard export [--output FILE] [--user EMAIL] [settings]

Writes users, groups, tickets and messages as JSONL (one object a line),
to standard output unless --output names a file (created owner-only: it
holds personal data in clear text). --user writes one person's data only.`

func exportCommand(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "export", exportUsage)
	output := f.String("output", "the file to write (default: standard output)")
	email := f.String("user", "export only this person's data")
	args, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usageErrorf("export: unexpected argument %q; usage: switchboard export [--output FILE] [--user EMAIL]", args[0])
	}
	return withData(ctx, env, f, func(d *app.Data) error {
		var w io.Writer = env.Stdout
		var file *os.File
		if *output != "" && *output != "-" {
			file, err = os.OpenFile(*output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // #nosec G304 -- the operator's own --output path
			if err != nil {
				return err
			}
			defer file.Close()
			w = file
		}
		counts, err := bulk.Export(ctx, d.Client, w, bulk.ExportOptions{User: *email, Progress: env.Stderr})
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if file != nil {
			if err := file.Close(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
		d.Log.Info("exported", "user", *email, "groups", counts.Groups, "users", counts.Users, "tickets", counts.Tickets, "messages", counts.Messages)
		fmt.Fprintf(env.Stderr, "exported %d groups, %d users, %d tickets, %d messages\n", counts.Groups, counts.Users, counts.Tickets, counts.Messages)
		return nil
	})
}
