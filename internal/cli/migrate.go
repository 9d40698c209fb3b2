package cli

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/database"
)

const migrateUsage = `Usage: switchboard migrate up|status [settings]

up applies the pending database migrations; status lists the applied and
pending ones. The embedded database is also migrated by serve; PostgreSQL
only by this command or serve --migrate.`

func migrate(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "migrate", migrateUsage)
	args, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(args) != 1 || args[0] != "up" && args[0] != "status" {
		return usageErrorf("usage: switchboard migrate up|status")
	}
	cfg, err := f.config(env.Getenv)
	if err != nil {
		return err
	}
	// No keyring: migrations never read or write a confidential value.
	client, _, err := database.OpenWith(cfg.DatabaseURL, cfg.DataDir, app.Pool(cfg), nil)
	if err != nil {
		return config.Errorf("%v", err)
	}
	defer client.Close()
	if args[0] == "up" {
		applied, err := database.MigrateUp(ctx, client)
		for _, m := range applied {
			fmt.Fprintf(env.Stdout, "applied %s\n", m.Name())
		}
		if err != nil {
			return err
		}
		if err := database.Prepare(ctx, client, database.MigrateOptions{SearchLanguage: cfg.SearchLanguage}); err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(env.Stdout, "the database is up to date")
		}
		return nil
	}
	st, err := database.Status(ctx, client)
	if err != nil {
		return err
	}
	pending := make(map[string]bool, len(st.Pending))
	for _, m := range st.Pending {
		pending[m.Version] = true
	}
	for _, m := range st.All {
		state := "applied"
		if pending[m.Version] {
			state = "pending"
		}
		fmt.Fprintf(env.Stdout, "%-8s %s\n", state, m.Name())
	}
	for _, v := range st.Unknown {
		fmt.Fprintf(env.Stdout, "%-8s %s (applied by a newer version of switchboard)\n", "newer", v)
	}
	fmt.Fprintf(env.Stdout, "%d applied, %d pending\n", len(st.Applied), len(st.Pending))
	return nil
}
