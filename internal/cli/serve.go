package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/demo"
	"github.com/switchboardhq/switchboard/internal/gcfloor"
	"github.com/switchboardhq/switchboard/internal/ticketing"
)

const serveUsage = `Usage: switchboard serve [--demo] [settings]

Runs the server: the GraphQL API at /query (and its websocket and event
streams), the playground at /, wallboards at /wallboard, /healthz, /readyz
and /metrics. The embedded database is migrated at start; PostgreSQL only
with --migrate (otherwise: switchboard migrate up).`

func serve(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "serve", serveUsage)
	withDemo := f.Bool("demo", "seed demo data into an empty database first, and print the logins")
	args, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noArguments("serve", args); err != nil {
		return err
	}
	cfg, err := f.config(env.Getenv)
	if err != nil {
		return err
	}
	log := app.NewLogger(env.Stderr, cfg)
	defer gcfloor.Start(cfg.GCHeapFloor).Stop()
	// Bound first: a busy port stops the program before it migrates or
	// seeds anything.
	ln, err := app.Listen(cfg)
	if err != nil {
		return err
	}
	d, err := app.Open(ctx, cfg, log, env.DBOptions...)
	if err != nil {
		ln.Close()
		return err
	}
	defer d.Close()
	if *withDemo {
		switch err := seedDemo(ctx, env, d); {
		case errors.Is(err, demo.ErrNotEmpty):
			log.Warn("database is not empty; not seeding demo data")
		case err != nil:
			ln.Close()
			return err
		}
	}
	srv, err := app.NewServer(ctx, d, ln, env.Getenv)
	if err != nil {
		return err
	}
	if env.Ready != nil {
		env.Ready(srv.Addr())
	}
	return srv.Run(ctx)
}

// seedDemo fills an empty database with the demo helpdesk and prints the
// logins.
func seedDemo(ctx context.Context, env *Env, d *app.Data) error {
	// Nothing is live yet: the seeded events need no announcement.
	logins, err := demo.Seed(ctx, d.Client, d.Auth, ticketing.New(d.Client, ticketing.Options{}), demo.Defaults)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Demo data created. Every demo account's password is %q:\n", demo.Password)
	for _, l := range logins {
		fmt.Fprintf(env.Stdout, "  %-9s %s\n", strings.ToLower(string(l.Role)), l.Email)
	}
	return nil
}

// withData runs fn on the opened data of the settings.
func withData(ctx context.Context, env *Env, f *flags, fn func(*app.Data) error) error {
	cfg, err := f.config(env.Getenv)
	if err != nil {
		return err
	}
	d, err := app.Open(ctx, cfg, app.NewLogger(env.Stderr, cfg), env.DBOptions...)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(d)
}
