package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/seed"
)

const seedUsage = `Usage: switchboard seed --demo | seed --tickets N --messages M [--seed S] [settings]

--demo fills an empty database with the demo helpdesk and prints its
logins. --tickets and --messages generate a large helpdesk quickly (M
messages in total, at least one per ticket), the same for the same --seed.`

const seedSynopsis = "usage: switchboard seed --demo | seed --tickets N --messages M [--seed S]"

func seedCommand(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "seed", seedUsage)
	withDemo := f.Bool("demo", "fill an empty database with demo data")
	tickets := f.String("tickets", "how many tickets to generate")
	messages := f.String("messages", "how many messages to generate, in total")
	seedValue := f.String("seed", "the random generator's seed (default 1)")
	args, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usageErrorf("seed: unexpected argument %q; %s", args[0], seedSynopsis)
	}
	if *withDemo {
		if *tickets != "" || *messages != "" {
			return usageErrorf(seedSynopsis)
		}
		return withData(ctx, env, f, func(d *app.Data) error { return seedDemo(ctx, env, d) })
	}
	if *tickets == "" && *messages == "" {
		return usageErrorf(seedSynopsis)
	}
	opts := seed.Options{Seed: 1, Progress: env.Stderr}
	for _, fl := range []struct {
		name, value string
		into        *int
	}{{"tickets", *tickets, &opts.Tickets}, {"messages", *messages, &opts.Messages}} {
		n, err := strconv.Atoi(fl.value)
		if err != nil || n < 1 {
			return usageErrorf("--%s must be a positive number; %s", fl.name, seedSynopsis)
		}
		*fl.into = n
	}
	if *seedValue != "" {
		if opts.Seed, err = strconv.ParseUint(*seedValue, 10, 64); err != nil {
			return usageErrorf("--seed must be a non-negative number")
		}
	}
	if err := opts.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	return withData(ctx, env, f, func(d *app.Data) error {
		db, err := d.OpenSQL()
		if err != nil {
			return err
		}
		defer db.Close()
		start := time.Now()
		res, err := seed.Run(ctx, db, opts)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Fprintf(env.Stdout, "Seeded %d tickets and %d messages, %d customers, %d agents, %d admins in %s.\n",
			res.Tickets, res.Messages, res.Customers, res.Agents, res.Admins, time.Since(start).Round(time.Millisecond))
		fmt.Fprintf(env.Stdout, "Every seeded account's password is %q, e.g.:\n  admin     %s\n  agent     %s\n  customer  %s\n",
			seed.Password, res.Admin, res.Agent, res.Customer)
		return nil
	})
}
