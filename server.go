// Command switchboard is a self-hosted helpdesk backend: a GraphQL API for
// tickets, conversations and the people who handle them. This file reads
// the configuration, wires the parts together, and starts and stops them.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/demo"
	"github.com/switchboardhq/switchboard/internal/httpserver"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/querycache"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
	"github.com/switchboardhq/switchboard/internal/routing"
	"github.com/switchboardhq/switchboard/internal/search"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
	"github.com/switchboardhq/switchboard/internal/wallboard"
	"github.com/switchboardhq/switchboard/internal/wstransport"
)

const usage = `Usage: switchboard [command] [flags]

Commands:
  serve [--demo]        run the server (the default); --demo seeds an empty database first;
                        --migrate applies pending migrations first (PostgreSQL)
  migrate up            apply the pending database migrations
  migrate status        list the applied and pending migrations
  user create --email E --name N --role admin|agent|customer
                        create an account; the password is read from
                        $SWITCHBOARD_PASSWORD or the first line of standard input
  seed --demo           fill an empty database with demo data and print the logins
  seed --tickets N --messages M [--seed S]
                        generate a large helpdesk quickly (M messages in total)
  user erase EMAIL [--force]
                        anonymise a customer (name, email, phone, their messages);
                        staff accounts only with --force
  export [--output FILE] [--user EMAIL]
                        write users, groups, tickets and messages as JSONL (stdout by
                        default); --user: one person's data only
  import FILE [--batch N]
                        read a JSONL export (FILE - for stdin); idempotent, resumable
  keys generate         print a new encryption key for SWITCHBOARD_ENCRYPTION_KEY
  keys rotate           embedded mode: add a new current key to the key file; then (both
                        modes) re-encrypt every confidential field under the current key
  help                  show this help

Settings are flags or environment variables; see the README.
`

// Exit codes.
const (
	exitOK     = 0
	exitError  = 1
	exitConfig = 2
)

// program is the process: its environment and streams, so tests can run
// it in-process exactly as the binary runs.
type program struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// ready, if set, is told the address the server listens on.
	ready func(net.Addr)
	// dbOptions are extra ent options (tests count queries with them).
	dbOptions []ent.Option
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &program{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(p.run(ctx, os.Args[1:]))
}

func (p *program) run(ctx context.Context, args []string) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return p.withApp(ctx, "serve", args, p.serve)
	case "seed":
		return p.seedCommand(ctx, args)
	case "export":
		return p.exportCommand(ctx, args)
	case "import":
		return p.importCommand(ctx, args)
	case "migrate":
		return p.migrate(ctx, args)
	case "user":
		if len(args) > 0 && args[0] == "erase" {
			return p.userErase(ctx, args[1:])
		}
		if len(args) == 0 || args[0] != "create" {
			return p.fail(exitConfig, "usage: switchboard user create --email E --name N --role admin|agent|customer")
		}
		return p.userCreate(ctx, args[1:])
	case "keys":
		return p.keys(ctx, args)
	case "help", "-h", "--help":
		fmt.Fprint(p.stdout, usage)
		return exitOK
	}
	return p.fail(exitConfig, fmt.Sprintf("unknown command %q (try: switchboard help)", cmd))
}

func (p *program) fail(code int, msg string) int {
	fmt.Fprintln(p.stderr, "switchboard: "+msg)
	return code
}

// app is the wired program.
type app struct {
	cfg    *config.Config
	log    *slog.Logger
	client *ent.Client
	// db is client's connection pool, for its metrics.
	db *sql.DB
	// keys are the keyring client seals confidential fields with.
	keys     *confidential.Keyring
	auth     *auth.Service
	tickets  *ticketing.Service
	resolver *graph.Resolver
	// redis is set by serve when REDIS_URL is.
	redis redis.UniversalClient
	// metrics are the server's Prometheus metrics (see observability.go).
	metrics *metrics.Metrics
}

// withApp loads the configuration, opens and migrates the database, and
// runs fn with the wired parts.
func (p *program) withApp(ctx context.Context, name string, args []string, fn func(context.Context, *app, []string) int) int {
	cfg, rest, err := config.Load(name, args, p.getenv)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	log := newLogger(p.stderr, cfg)
	// The keys first: the client is opened with them.
	src := confidential.Source{EnvKeys: cfg.EncryptionKey}
	if cfg.DatabaseURL == "" {
		src.KeyFile = confidential.KeyFilePath(cfg.DataDir)
	}
	keys, created, err := confidential.Load(src)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	} else if created {
		log.Warn("generated a new encryption key for confidential fields: back it up, without it they cannot be read",
			"path", src.KeyFile)
	}
	client, db, err := database.OpenWith(cfg.DatabaseURL, cfg.DataDir, poolOf(cfg), keys, p.dbOptions...)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	defer client.Close()
	if err := prepareSchema(ctx, cfg, client, log); err != nil {
		return p.fail(exitError, err.Error())
	}
	hot, closeCache, err := openCache(cfg, log)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	defer closeCache()
	a := &app{cfg: cfg, log: log, client: client, db: db, keys: keys, metrics: metrics.New()}
	a.auth = auth.New(client, auth.Options{
		LoginFailed:            a.metrics.LoginFailed,
		SignupEnabled:          cfg.SignupEnabled,
		SessionIdleTimeout:     cfg.SessionIdleTimeout,
		SessionAbsoluteTimeout: cfg.SessionAbsoluteTimeout,
		Cache:                  hot,
	})
	a.tickets = ticketing.New(client)
	if hot != nil {
		ticketing.CacheSLAPolicies(client, hot)
	}
	a.resolver = &graph.Resolver{Client: client, Auth: a.auth, Tickets: a.tickets, MaxPageSize: cfg.MaxPageSize,
		Search: search.New(client, databaseDialect(cfg), search.Options{
			Language: cfg.SearchLanguage, MaxQueryLength: cfg.SearchMaxQueryLength, MaxCandidates: cfg.SearchMaxCandidates,
		})}
	return fn(ctx, a, rest)
}

// poolOf is the PostgreSQL pool the settings describe.
func poolOf(cfg *config.Config) database.Pool {
	return database.Pool{
		MaxConns: cfg.DBMaxConns, ConnMaxLifetime: cfg.DBConnMaxLifetime,
		StatementTimeout: cfg.DBStatementTimeout, RandomPageCost: cfg.DBRandomPageCost,
	}
}

// prepareSchema brings the database schema up to date: always in embedded
// mode, with --migrate on PostgreSQL. Otherwise a PostgreSQL schema that
// lacks migrations stops the program: applying them is the operator's
// decision (switchboard migrate up) so that several instances do not
// race an upgrade they did not expect.
func prepareSchema(ctx context.Context, cfg *config.Config, client *ent.Client, log *slog.Logger) error {
	if cfg.DatabaseURL == "" || cfg.Migrate {
		applied, err := database.MigrateUp(ctx, client)
		if err != nil {
			return fmt.Errorf("migrating database: %w", err)
		}
		for _, m := range applied {
			log.Info("applied database migration", "migration", m.Name())
		}
	} else if err := database.RequireCurrent(ctx, client); err != nil {
		return err
	}
	return database.Prepare(ctx, client, database.MigrateOptions{SearchLanguage: cfg.SearchLanguage})
}

func newLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogJSON() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (p *program) serve(ctx context.Context, a *app, rest []string) int {
	seedDemo := len(rest) > 0 && rest[0] == "--demo"
	if seedDemo {
		rest = rest[1:]
	}
	if len(rest) > 0 {
		return p.fail(exitConfig, fmt.Sprintf("serve: unexpected argument %q", rest[0]))
	}
	if seedDemo {
		logins, err := demo.Seed(ctx, a.client, a.auth, a.tickets, demo.Defaults)
		switch {
		case errors.Is(err, demo.ErrNotEmpty):
			a.log.Warn("database is not empty; not seeding demo data")
		case err != nil:
			return p.fail(exitError, err.Error())
		default:
			p.printLogins(logins)
		}
	}
	if err := routing.EnsureDefaultGroup(ctx, a.client, a.cfg.DefaultGroup); err != nil {
		return p.fail(exitError, err.Error())
	}
	hub, stopLive, err := a.startLive(ctx)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	defer stopLive()
	obs, err := a.startObservability(ctx, p.getenv, hub)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		obs.stop(ctx)
	}()
	srv, err := httpserver.ListenWith(a.cfg.Addr, httpserver.Handler(a.log, a.resolver, httpserver.Options{
		DefaultPageSize: a.cfg.DefaultPageSize,
		MaxPageSize:     a.cfg.MaxPageSize,
		Playground:      a.cfg.Playground,
		AllowedOrigins:  a.cfg.AllowedOrigins,
		TrustedProxies:  a.cfg.TrustedProxies,
		Checks:          a.readinessChecks(),
		QueryCache:      a.queryCache(),
		RateLimit:       a.rateLimit(),
		Metrics:         a.metrics,
		ServeMetrics:    a.cfg.MetricsAddr == "",
		MetricsToken:    a.cfg.MetricsToken,
		Tracer:          obs.tracing.Provider,
		WebSocket: wstransport.Options{
			InitTimeout:      a.cfg.WSInitTimeout,
			KeepAlive:        a.cfg.WSKeepAlive,
			OutboundQueue:    a.cfg.WSOutboundQueue,
			OutboundBytes:    a.cfg.WSOutboundBytes,
			MaxSubscriptions: a.cfg.MaxSubscriptionsPerConn,
		},
		MaxBodyBytes:     a.cfg.MaxBodyBytes,
		QueryLimits:      a.queryLimits(),
		OperationTimeout: a.cfg.OperationTimeout,
		Introspection:    a.cfg.Introspection,
		FieldSuggestions: a.cfg.FieldSuggestions,
	}), a.log, a.serverOptions())
	if err != nil {
		return p.fail(exitConfig, fmt.Sprintf("cannot listen on %s: %v", a.cfg.Addr, err))
	}
	a.log.Info("switchboard is serving", "addr", srv.Addr().String(), "tls", a.cfg.TLSCert != "", "env", a.cfg.Env, "playground", a.cfg.Playground, "database", databaseKind(a.cfg))
	if p.ready != nil {
		p.ready(srv.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case err := <-errc:
		return p.fail(exitError, err.Error())
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "deadline", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := shutdown(sctx, srv, hub); err != nil {
		return p.fail(exitError, "shutdown: "+err.Error())
	}
	obs.stop(sctx) // within the same deadline
	return exitOK
}

// startLive starts the live hub on the broker and presence store of the
// configuration: Redis with REDIS_URL, in-process otherwise.
func (a *app) startLive(ctx context.Context) (*live.Hub, func(), error) {
	var (
		b     broker.Broker
		store presence.Store
		rdb   redis.UniversalClient
	)
	if a.cfg.RedisURL == "" {
		b, store = broker.NewMemory(), presence.NewMemory()
	} else {
		var err error
		if rdb, err = broker.ParseURL(a.cfg.RedisURL); err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		rb, err := broker.NewRedis(sctx, rdb, broker.DefaultChannel)
		cancel()
		switch {
		case err != nil && a.cfg.RedisOptional:
			_ = rdb.Close()
			rdb = nil
			a.log.Warn("Redis is unreachable: running degraded until restarted (live updates by reading the event log, presence and persisted queries local to this instance)", "err", err)
			b, store = broker.NewMemory(), presence.NewMemory()
		case err != nil:
			_ = rdb.Close()
			return nil, nil, fmt.Errorf("REDIS_URL: %w (start with --redis-optional to run without it)", err)
		default:
			b, store = rb, presence.NewRedis(rdb, presence.DefaultPrefix)
			a.redis = rdb
		}
	}
	hub := live.New(a.client, b, store, a.auth, live.Options{
		Retention:             a.cfg.EventRetention,
		PollInterval:          a.cfg.LivePollInterval,
		RevalidateInterval:    a.cfg.LiveRevalidateInterval,
		SubscriberQueue:       a.cfg.SubscriptionQueue,
		MaxConnectionsPerUser: a.cfg.MaxConnectionsPerUser,
		PresenceTTL:           a.cfg.PresenceTTL,
		StaffOnlyFields:       graph.StaffOnlyFields("Ticket"),
		EventLag:              a.metrics.EventLag,
	}, a.log)
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := func() {
		cancel()
		_ = b.Close()
		if rdb != nil {
			_ = rdb.Close()
		}
	}
	if err := hub.Start(hctx); err != nil {
		stop()
		return nil, nil, err
	}
	a.tickets.Announce = hub.Announce
	a.tickets.Online = hub.AgentsOnline
	a.resolver.Live = hub
	a.resolver.Wallboards = wallboard.New(a.client, hub, wallboard.Options{
		Coalesce: a.cfg.WallboardCoalesce, Refresh: a.cfg.WallboardRefresh, DueSoonWindow: a.cfg.WallboardDueSoon,
	})
	return hub, stop, nil
}

// queryCache stores automatic persisted queries: in Redis when configured
// (shared by all instances), else in memory.
func (a *app) queryCache() graphql.Cache[string] {
	if a.redis != nil {
		return querycache.NewRedis(a.redis, querycache.DefaultPrefix, a.cfg.APQTTL, a.log)
	}
	return querycache.NewMemory(a.cfg.APQCacheSize)
}

// rateLimit limits operations per user and address, in Redis when
// configured (limits then hold across instances), else in memory.
func (a *app) rateLimit() *graph.RateLimit {
	if a.cfg.RateLimitUser == 0 && a.cfg.RateLimitIP == 0 {
		return nil
	}
	var limiter ratelimit.Limiter = ratelimit.NewMemory()
	if a.redis != nil {
		limiter = ratelimit.NewRedis(a.redis, ratelimit.DefaultPrefix)
	}
	return &graph.RateLimit{
		Limiter:  limiter,
		User:     ratelimit.PerMinute(a.cfg.RateLimitUser),
		IP:       ratelimit.PerMinute(a.cfg.RateLimitIP),
		FailOpen: a.cfg.RateLimitFailOpen,
		Log:      a.log,
	}
}

// readinessChecks are what /readyz checks: the database, and Redis when
// configured.
func (a *app) readinessChecks() map[string]func(context.Context) error {
	checks := map[string]func(context.Context) error{
		"database": func(ctx context.Context) error {
			_, err := a.client.Sequence.Query().Exist(viewer.SystemContext(ctx))
			return err
		},
	}
	if a.redis != nil {
		checks["redis"] = func(ctx context.Context) error { return a.redis.Ping(ctx).Err() }
	}
	return checks
}

func databaseDialect(cfg *config.Config) string {
	if cfg.DatabaseURL != "" {
		return dialect.Postgres
	}
	return dialect.SQLite
}

func databaseKind(cfg *config.Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite:" + cfg.DataDir
}

// migrate runs `migrate up` and `migrate status`.
func (p *program) migrate(ctx context.Context, args []string) int {
	if len(args) == 0 || (args[0] != "up" && args[0] != "status") {
		return p.fail(exitConfig, "usage: switchboard migrate up|status")
	}
	sub := args[0]
	cfg, rest, err := config.Load("migrate", args[1:], p.getenv)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	if len(rest) > 0 {
		return p.fail(exitConfig, fmt.Sprintf("migrate %s: unexpected argument %q", sub, rest[0]))
	}
	// No keyring: migrations never read or write a confidential value.
	client, _, err := database.OpenWith(cfg.DatabaseURL, cfg.DataDir, poolOf(cfg), nil)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	defer client.Close()
	if sub == "up" {
		applied, err := database.MigrateUp(ctx, client)
		for _, m := range applied {
			fmt.Fprintf(p.stdout, "applied %s\n", m.Name())
		}
		if err != nil {
			return p.fail(exitError, err.Error())
		}
		if err := database.Prepare(ctx, client, database.MigrateOptions{SearchLanguage: cfg.SearchLanguage}); err != nil {
			return p.fail(exitError, err.Error())
		}
		if len(applied) == 0 {
			fmt.Fprintln(p.stdout, "the database is up to date")
		}
		return exitOK
	}
	st, err := database.Status(ctx, client)
	if err != nil {
		return p.fail(exitError, err.Error())
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
		fmt.Fprintf(p.stdout, "%-8s %s\n", state, m.Name())
	}
	for _, v := range st.Unknown {
		fmt.Fprintf(p.stdout, "%-8s %s (applied by a newer version of switchboard)\n", "newer", v)
	}
	fmt.Fprintf(p.stdout, "%d applied, %d pending\n", len(st.Applied), len(st.Pending))
	return exitOK
}

func (p *program) seed(ctx context.Context, a *app, rest []string) int {
	if len(rest) != 1 || rest[0] != "--demo" {
		return p.fail(exitConfig, seedUsage)
	}
	logins, err := demo.Seed(ctx, a.client, a.auth, a.tickets, demo.Defaults)
	if err != nil {
		return p.fail(exitError, err.Error())
	}
	p.printLogins(logins)
	return exitOK
}

func (p *program) printLogins(logins []demo.Login) {
	fmt.Fprintf(p.stdout, "Demo data created. Every demo account's password is %q:\n", demo.Password)
	for _, l := range logins {
		fmt.Fprintf(p.stdout, "  %-9s %s\n", strings.ToLower(string(l.Role)), l.Email)
	}
}

func (p *program) userCreate(ctx context.Context, args []string) int {
	var email, name, role string
	rest, err := commandFlags(args, map[string]*string{"email": &email, "name": &name, "role": &role}, nil)
	if err != nil {
		return p.fail(exitConfig, err.Error())
	}
	if email == "" || name == "" || role == "" {
		return p.fail(exitConfig, "usage: switchboard user create --email E --name N --role admin|agent|customer")
	}
	password := p.getenv("SWITCHBOARD_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(p.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return p.fail(exitError, "reading password: "+err.Error())
		}
		password = strings.TrimRight(line, "\r\n")
	}
	return p.withApp(ctx, "user create", rest, func(ctx context.Context, a *app, _ []string) int {
		u, err := a.auth.CreateUser(viewer.SystemContext(ctx), auth.NewUser{Email: email, Name: name, Password: password, Role: user.Role(strings.ToUpper(role))})
		if err != nil {
			return p.fail(exitError, err.Error())
		}
		fmt.Fprintf(p.stdout, "created %s %s (%s)\n", strings.ToLower(string(u.Role)), u.Email, u.ID)
		return exitOK
	})
}

func (p *program) keys(ctx context.Context, args []string) int {
	if len(args) == 0 {
		return p.fail(exitConfig, "usage: switchboard keys generate|rotate")
	}
	switch args[0] {
	case "generate":
		var known []confidential.Key
		if env := p.getenv("SWITCHBOARD_ENCRYPTION_KEY"); env != "" {
			cur, older, err := confidential.ParseKeys(env)
			if err != nil {
				return p.fail(exitConfig, "SWITCHBOARD_ENCRYPTION_KEY: "+err.Error())
			}
			known = append(older, cur)
		}
		k, err := confidential.GenerateKey(confidential.NextKeyID(known...))
		if err != nil {
			return p.fail(exitError, err.Error())
		}
		fmt.Fprintln(p.stdout, k.Encode())
		return exitOK
	case "rotate":
		return p.withApp(ctx, "keys rotate", args[1:], func(ctx context.Context, a *app, _ []string) int {
			client, keys := a.client, a.keys
			if a.cfg.EncryptionKey == "" {
				rotated, next, err := confidential.RotateKeyFile(confidential.KeyFilePath(a.cfg.DataDir))
				if err != nil {
					return p.fail(exitError, err.Error())
				}
				fmt.Fprintf(p.stdout, "new current key %s written to %s (older keys kept for decryption)\n", next.ID, confidential.KeyFilePath(a.cfg.DataDir))
				// a.client seals with the keys it was opened with; the
				// values are rewritten by a client given the new ones.
				keys = rotated
				c, _, err := database.OpenWith(a.cfg.DatabaseURL, a.cfg.DataDir, poolOf(a.cfg), keys)
				if err != nil {
					return p.fail(exitError, err.Error())
				}
				defer c.Close()
				client = c
			}
			n, err := confidential.Reencrypt(ctx, client)
			if err != nil {
				return p.fail(exitError, err.Error())
			}
			fmt.Fprintf(p.stdout, "re-encrypted %d confidential values under key %s\n", n, keys.CurrentID())
			return exitOK
		})
	}
	return p.fail(exitConfig, fmt.Sprintf("unknown keys command %q (generate or rotate)", args[0]))
}
