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
messages; their sessions and API tokens are revoked. Staff accounts only
with --force.`

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
		res, err := erase.User(ctx, d.Client, email, *force)
		if err != nil {
			return err
		}
		// The audit record: who was erased (by ID; the address is gone) and what.
		d.Log.Info("user erased", "user_id", res.UserID, "role", res.Role, "forced", *force,
			"messages", res.Messages, "tickets", res.Tickets, "sessions_revoked", res.Sessions, "tokens_revoked", res.Tokens)
		fmt.Fprintf(env.Stdout, "erased %s (%s): %d messages and %d ticket subjects replaced, %d sessions and %d API tokens revoked\n",
			res.UserID, strings.ToLower(res.Role), res.Messages, res.Tickets, res.Sessions, res.Tokens)
		return nil
	})
}
