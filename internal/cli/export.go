package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/bulk"
)

const exportUsage = `Usage: switchboard export [--output FILE] [--files DIR] [--user EMAIL] [settings]

Writes users, groups, tickets, messages and attachments as JSONL (one
object a line), to standard output unless --output names a file (created
owner-only: it holds personal data in clear text). The attachments' files
go to a directory, each at ab/cd/<sha256>: FILE.files beside --output FILE
unless --files names another; when writing to standard output, --files is
required if there are attachments. --user writes one person's data only.`

const exportSynopsis = "usage: switchboard export [--output FILE] [--files DIR] [--user EMAIL]"

// filesBeside is the default directory of an export's files: FILE.files.
func filesBeside(file string) string { return file + ".files" }

func exportCommand(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "export", exportUsage)
	output := f.String("output", "the file to write (default: standard output)")
	filesDir := f.String("files", "the directory to write the attachments' files to (default: FILE.files beside --output FILE)")
	email := f.String("user", "export only this person's data")
	args, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usageErrorf("export: unexpected argument %q; %s", args[0], exportSynopsis)
	}
	toFile := *output != "" && *output != "-"
	files := *filesDir
	if files == "" && toFile {
		files = filesBeside(*output)
	}
	return withData(ctx, env, f, func(d *app.Data) error {
		var w io.Writer = env.Stdout
		var file *os.File
		if toFile {
			file, err = os.OpenFile(*output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // #nosec G304 -- the operator's own --output path
			if err != nil {
				return err
			}
			defer file.Close()
			w = file
		}
		counts, err := bulk.Export(ctx, d.Client, w, bulk.ExportOptions{User: *email, Files: files, Attachments: d.Attachments, Progress: env.Stderr})
		if errors.Is(err, bulk.ErrFilesRequired) {
			return usageErrorf("export: %v: name one with --files DIR, or write to a file with --output FILE (its files then go to FILE.files)", err)
		}
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if file != nil {
			if err := file.Close(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
		d.Log.Info("exported", "user", *email, "groups", counts.Groups, "users", counts.Users, "tickets", counts.Tickets, "messages", counts.Messages,
			"attachments", counts.Attachments, "files", counts.Files, "files_dir", files)
		fmt.Fprintf(env.Stderr, "exported %d groups, %d users, %d tickets, %d messages, %d attachments", counts.Groups, counts.Users, counts.Tickets, counts.Messages, counts.Attachments)
		if counts.Files > 0 {
			fmt.Fprintf(env.Stderr, " (%d files in %s)", counts.Files, files)
		}
		fmt.Fprintln(env.Stderr)
		return nil
	})
}
