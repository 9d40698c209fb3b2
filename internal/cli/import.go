package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/bulk"
)

const importUsage = `Usage: switchboard import FILE [--files DIR] [--batch N] [settings]

Reads a JSONL export (FILE - reads standard input). It is idempotent and
resumable: lines already imported are updated in place, not duplicated.
The attachments' files are read from FILE.files, as export writes them,
unless --files names another directory (required with standard input
when the attachments' files are not in the store yet); each is checked
against its line (size and SHA-256) before it is stored. --batch is how
many lines go in one transaction (default %d).`

const importSynopsis = "usage: switchboard import FILE [--files DIR] [--batch N]   (FILE - reads standard input)"

func importCommand(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "import", fmt.Sprintf(importUsage, bulk.DefaultBatch))
	batch := f.String("batch", "lines per transaction, 1 to 100000")
	filesDir := f.String("files", "the directory of the attachments' files (default: FILE.files beside FILE)")
	args, err := f.parse(args)
	if err != nil {
		return err
	}
	size := bulk.DefaultBatch
	if *batch != "" {
		if size, err = strconv.Atoi(*batch); err != nil || size < 1 || size > 100_000 {
			return usageErrorf("--batch must be a number from 1 to 100000")
		}
	}
	if len(args) != 1 {
		return usageErrorf(importSynopsis)
	}
	file := args[0]
	files := *filesDir
	if files == "" && file != "-" {
		files = filesBeside(file)
	}
	return withData(ctx, env, f, func(d *app.Data) error {
		var in io.Reader = env.Stdin
		if file != "-" {
			f, err := os.Open(file) // #nosec G304 G703 -- the operator's own file argument
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		// The app's client: the hooks on it drop cached credentials.
		counts, err := bulk.Import(ctx, d.Client, in, bulk.ImportOptions{Batch: size, Files: files, Attachments: d.Attachments, Progress: env.Stderr})
		var lineErrs *bulk.LineErrors
		if errors.As(err, &lineErrs) {
			fmt.Fprintln(env.Stderr, lineErrs.Error())
			return fmt.Errorf("import stopped: %d lines were imported before the batch with the error, none of that batch; fix the file and run the import again (lines already imported are updated in place, not duplicated)", lineErrs.Committed)
		}
		if err != nil {
			return fmt.Errorf("import: %w (%d lines were imported before; run it again to resume)", err, counts.Lines)
		}
		d.Log.Info("imported", "file", file, "groups", counts.Groups, "users", counts.Users, "tickets", counts.Tickets, "messages", counts.Messages,
			"attachments", counts.Attachments, "files_stored", counts.Files)
		fmt.Fprintf(env.Stdout, "imported %d lines: %d groups, %d users, %d tickets, %d messages, %d attachments (%d files stored)\n",
			counts.Lines, counts.Groups, counts.Users, counts.Tickets, counts.Messages, counts.Attachments, counts.Files)
		return nil
	})
}
