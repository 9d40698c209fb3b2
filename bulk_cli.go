package main

// The bulk data commands: seed --tickets/--messages, export, import and
// user erase. Each parses its own flags, then runs with the wired app.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/internal/bulk"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/erase"
	"github.com/switchboardhq/switchboard/internal/seed"
)

// commandFlags takes the named flags (--name V, --name=V; bools bare) out of
// args and returns the rest, which belong to the configuration.
func commandFlags(args []string, values map[string]*string, bools map[string]*bool) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if b := bools[name]; b != nil {
			*b = !hasValue || value == "true"
			continue
		}
		target := values[name]
		if target == nil {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		*target = value
	}
	return rest, nil
}

// openSQL opens the configured store as plain database/sql for seed's own
// statements (COPY, multi-row INSERTs).
func (a *app) openSQL() (*database.SQL, error) {
	// A few connections, long-lived: one command, long transactions.
	pool := poolOf(a.cfg)
	pool.MaxConns, pool.ConnMaxLifetime = 4, time.Hour
	return database.OpenSQL(a.cfg.DatabaseURL, a.cfg.DataDir, pool)
}

const seedUsage = "usage: switchboard seed --demo | seed --tickets N --messages M [--seed S]"

func (p *program) seedCommand(ctx context.Context, args []string) int {
	var tickets, messages, seedValue string
	rest, err := commandFlags(args, map[string]*string{"tickets": &tickets, "messages": &messages, "seed": &seedValue}, nil)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	if tickets == "" && messages == "" {
		return p.withApp(ctx, "seed", rest, p.seed)
	}
	opts := seed.Options{Seed: 1, Progress: p.stderr}
	for _, f := range []struct {
		name, value string
		into        *int
	}{{"tickets", tickets, &opts.Tickets}, {"messages", messages, &opts.Messages}} {
		n, err := strconv.Atoi(f.value)
		if err != nil || n < 1 {
			return p.fail(exitConfig, fmt.Sprintf("--%s must be a positive number; %s", f.name, seedUsage))
		}
		*f.into = n
	}
	if seedValue != "" {
		if opts.Seed, err = strconv.ParseUint(seedValue, 10, 64); err != nil {
			return p.fail(exitConfig, "--seed must be a non-negative number")
		}
	}
	if err := opts.Validate(); err != nil {
		return p.fail(exitConfig, err.Error())
	}
	return p.withApp(ctx, "seed", rest, func(ctx context.Context, a *app, rest []string) int {
		if len(rest) > 0 {
			return p.fail(exitConfig, fmt.Sprintf("seed: unexpected argument %q; %s", rest[0], seedUsage))
		}
		db, err := a.openSQL()
		if err != nil {
			return p.fail(exitError, err.Error())
		}
		defer db.Close()
		start := time.Now()
		res, err := seed.Run(ctx, db, opts)
		if err != nil {
			return p.fail(exitError, "seed: "+err.Error())
		}
		fmt.Fprintf(p.stdout, "Seeded %d tickets and %d messages, %d customers, %d agents, %d admins in %s.\n",
			res.Tickets, res.Messages, res.Customers, res.Agents, res.Admins, time.Since(start).Round(time.Millisecond))
		fmt.Fprintf(p.stdout, "Every seeded account's password is %q, e.g.:\n  admin     %s\n  agent     %s\n  customer  %s\n",
			seed.Password, res.Admin, res.Agent, res.Customer)
		return exitOK
	})
}

const exportUsage = "usage: switchboard export [--output FILE] [--user EMAIL]"

func (p *program) exportCommand(ctx context.Context, args []string) int {
	var output, email string
	rest, err := commandFlags(args, map[string]*string{"output": &output, "user": &email}, nil)
	if err != nil {
		return p.fail(exitConfig, err.Error()+"; "+exportUsage)
	}
	return p.withApp(ctx, "export", rest, func(ctx context.Context, a *app, rest []string) int {
		if len(rest) > 0 {
			return p.fail(exitConfig, fmt.Sprintf("export: unexpected argument %q; %s", rest[0], exportUsage))
		}
		w := p.stdout
		if output != "" && output != "-" {
			// The file holds personal data in clear text: owner-only.
			f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // #nosec G304 -- the operator's own --output path
			if err != nil {
				return p.fail(exitError, err.Error())
			}
			defer f.Close()
			w = f
		}
		counts, err := bulk.Export(ctx, a.client, w, bulk.ExportOptions{User: email, Progress: p.stderr})
		if err != nil {
			return p.fail(exitError, "export: "+err.Error())
		}
		if f, ok := w.(*os.File); ok && f != os.Stdout {
			if err := f.Close(); err != nil {
				return p.fail(exitError, "export: "+err.Error())
			}
		}
		a.log.Info("exported", "user", email, "groups", counts.Groups, "users", counts.Users, "tickets", counts.Tickets, "messages", counts.Messages)
		fmt.Fprintf(p.stderr, "exported %d groups, %d users, %d tickets, %d messages\n", counts.Groups, counts.Users, counts.Tickets, counts.Messages)
		return exitOK
	})
}

const importUsage = "usage: switchboard import FILE [--batch N]   (FILE - reads standard input)"

func (p *program) importCommand(ctx context.Context, args []string) int {
	batch := strconv.Itoa(bulk.DefaultBatch)
	rest, err := commandFlags(args, map[string]*string{"batch": &batch}, nil)
	if err != nil {
		return p.fail(exitConfig, err.Error()+"; "+importUsage)
	}
	size, err := strconv.Atoi(batch)
	if err != nil || size < 1 || size > 100_000 {
		return p.fail(exitConfig, "--batch must be a number from 1 to 100000")
	}
	return p.withApp(ctx, "import", rest, func(ctx context.Context, a *app, rest []string) int {
		// Configuration flags go before FILE (flag parsing stops at it).
		if len(rest) != 1 {
			return p.fail(exitConfig, importUsage)
		}
		file := rest[0]
		in := p.stdin
		if file != "-" {
			f, err := os.Open(file) // #nosec G304 G703 -- the operator's own file argument
			if err != nil {
				return p.fail(exitError, err.Error())
			}
			defer f.Close()
			in = f
		}
		// The app's client: the hooks on it drop cached credentials.
		counts, err := bulk.Import(ctx, a.client, in, bulk.ImportOptions{Batch: size, Progress: p.stderr})
		var lineErrs *bulk.LineErrors
		if errors.As(err, &lineErrs) {
			fmt.Fprintln(p.stderr, lineErrs.Error())
			return p.fail(exitError, fmt.Sprintf("import stopped: %d lines were imported before the batch with the error, none of that batch; fix the file and run the import again (lines already imported are updated in place, not duplicated)", lineErrs.Committed))
		}
		if err != nil {
			return p.fail(exitError, fmt.Sprintf("import: %v (%d lines were imported before; run it again to resume)", err, counts.Lines))
		}
		a.log.Info("imported", "file", file, "groups", counts.Groups, "users", counts.Users, "tickets", counts.Tickets, "messages", counts.Messages)
		fmt.Fprintf(p.stdout, "imported %d lines: %d groups, %d users, %d tickets, %d messages\n", counts.Lines, counts.Groups, counts.Users, counts.Tickets, counts.Messages)
		return exitOK
	})
}

const eraseUsage = "usage: switchboard user erase EMAIL [--force]"

func (p *program) userErase(ctx context.Context, args []string) int {
	var force bool
	rest, err := commandFlags(args, nil, map[string]*bool{"force": &force})
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	return p.withApp(ctx, "user erase", rest, func(ctx context.Context, a *app, rest []string) int {
		// Configuration flags go before EMAIL (flag parsing stops at it).
		if len(rest) != 1 {
			return p.fail(exitConfig, eraseUsage)
		}
		email := rest[0]
		// The app's client: the hooks on it drop cached credentials.
		res, err := erase.User(ctx, a.client, email, force)
		if err != nil {
			return p.fail(exitError, err.Error())
		}
		// The audit record: who was erased (by ID; the address is gone) and what.
		a.log.Info("user erased", "user_id", res.UserID, "role", res.Role, "forced", force,
			"messages", res.Messages, "tickets", res.Tickets, "sessions_revoked", res.Sessions, "tokens_revoked", res.Tokens)
		fmt.Fprintf(p.stdout, "erased %s (%s): %d messages and %d ticket subjects replaced, %d sessions and %d API tokens revoked\n",
			res.UserID, strings.ToLower(res.Role), res.Messages, res.Tickets, res.Sessions, res.Tokens)
		return exitOK
	})
}
