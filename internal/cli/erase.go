package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/erase"
)

const eraseUsage = `Usage: switchboard user erase EMAIL [--force] [settings]

Anonymises a person: their name, email and phone, and the text of their
messages; their sessions and API tokens are revoked, and the files they
uploaded are deleted. Staff accounts only with --force.`

func userErase(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "user erase", eraseUsage)
	force := f.Bool("force", "erase a staff account too")
	args, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usageErrorf("usage: switchboard user erase EMAIL [--force]")
	}
	email := args[0]
	return withData(ctx, env, f, func(d *app.Data) error {
		// The app's client: the hooks on it drop cached credentials.
		res, err := erase.Eraser{Client: d.Client, Files: d.Attachments}.User(ctx, email, *force)
		if res == nil {
			return err
		}
		// The audit record: who was erased (by ID; the address is gone) and
		// what. Also when only deleting the files' blobs failed: the
		// erasure itself has committed.
		d.Log.Info("user erased", "user_id", res.UserID, "role", res.Role, "forced", *force,
			"messages", res.Messages, "tickets", res.Tickets, "sessions_revoked", res.Sessions, "tokens_revoked", res.Tokens,
			"attachments_deleted", res.Attachments, "files_deleted", res.Files)
		fmt.Fprintf(env.Stdout, "erased %s (%s): %d messages and %d ticket subjects replaced, %d attachments deleted (%d files removed from the store), %d sessions and %d API tokens revoked\n",
			res.UserID, strings.ToLower(res.Role), res.Messages, res.Tickets, res.Attachments, res.Files, res.Sessions, res.Tokens)
		return err
	})
}
