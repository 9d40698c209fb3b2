// Package app builds Switchboard's parts once, in dependency order,
// through their constructors, and runs them. Open gives every command
// what it shares (the database with its keys and current schema, the
// cache of hot reads, accounts, metrics); NewServer adds what serving
// needs (broker, presence, the live hub, wallboards, the GraphQL API and
// the HTTP listeners); Server.Run owns every goroutine it starts and
// returns only when all have stopped. The shutdown order is written down
// once, at Server.Run.
package app

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/mail"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/outbox"
	"github.com/switchboardhq/switchboard/internal/ticketing"
)

// Data is what every command works on.
type Data struct {
	Config *config.Config
	Log    *slog.Logger
	Client *ent.Client
	// DB is Client's connection pool, for its metrics.
	DB *sql.DB
	// Keys are the keyring Client seals confidential fields with.
	Keys    *confidential.Keyring
	Auth    *auth.Service
	Metrics *metrics.Metrics
	// Attachments stores files on tickets.
	Attachments *attachments.Service
	// Outbox writes the mails to send (internal/outbox).
	Outbox *outbox.Outbox
	// Cache is the cache of hot reads; nil when SWITCHBOARD_CACHE_TTL is 0.
	Cache      cache.Cache
	closeCache func()
}

// Open opens the database of cfg, loads the keys of confidential fields,
// brings the schema up to date (always in embedded mode, with --migrate on
// PostgreSQL), and builds the cache and the accounts service. Errors a
// setting causes are *config.Error.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, dbOptions ...ent.Option) (*Data, error) {
	// The keys first: the client is opened with them.
	src := confidential.Source{EnvKeys: cfg.EncryptionKey}
	if cfg.DatabaseURL == "" {
		src.KeyFile = confidential.KeyFilePath(cfg.DataDir)
	}
	keys, created, err := confidential.Load(src)
	if err != nil {
		return nil, config.Errorf("%v", err)
	} else if created {
		log.Warn("generated a new encryption key for confidential fields: back it up, without it they cannot be read",
			"path", src.KeyFile)
	}
	client, db, err := database.OpenWith(cfg.DatabaseURL, cfg.DataDir, Pool(cfg), keys, dbOptions...)
	if err != nil {
		return nil, config.Errorf("%v", err)
	}
	if err := prepareSchema(ctx, cfg, client, log); err != nil {
		_ = client.Close()
		return nil, err
	}
	hot, closeCache, err := openCache(cfg, log)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	files, err := openAttachments(cfg, client, log)
	if err != nil {
		closeCache()
		_ = client.Close()
		return nil, err
	}
	if hot != nil {
		ticketing.CacheSLAPolicies(client, hot)
	}
	m := metrics.New()
	accounts := auth.New(client, auth.Options{
		LoginFailed:            m.LoginFailed,
		SignupEnabled:          cfg.SignupEnabled,
		SessionIdleTimeout:     cfg.SessionIdleTimeout,
		SessionAbsoluteTimeout: cfg.SessionAbsoluteTimeout,
		Cache:                  hot,
	})
	mails, err := openOutbox(cfg, keys)
	if err != nil {
		closeCache()
		_ = client.Close()
		return nil, err
	}
	accounts.SetResetOptions(auth.ResetOptions{Outbox: mails, TTL: cfg.PasswordResetTTL, LinkBase: cfg.PublicURL + "/reset-password?token="})
	return &Data{Config: cfg, Log: log, Client: client, DB: db, Keys: keys, Auth: accounts, Metrics: m, Cache: hot, closeCache: closeCache, Attachments: files, Outbox: mails}, nil
}

// openOutbox builds the writer of mails: its reply tokens are keyed with
// SWITCHBOARD_MAIL_TOKEN_KEY, else with a key derived from the current
// encryption key.
func openOutbox(cfg *config.Config, keys *confidential.Keyring) (*outbox.Outbox, error) {
	key := cfg.MailTokenKey
	if key == nil {
		key = keys.Derive("switchboard mail reply tokens")
	}
	tokens, err := mail.NewTokens(key)
	if err != nil {
		return nil, config.Errorf("SWITCHBOARD_MAIL_TOKEN_KEY: %v", err)
	}
	o, err := outbox.New(outbox.Config{From: cfg.MailFrom, ReplyAddress: cfg.MailReplyTo, Tokens: tokens, TemplatesDir: cfg.MailTemplatesDir, PublicURL: cfg.PublicURL})
	if err != nil {
		return nil, config.Errorf("SWITCHBOARD_MAIL_FROM or SWITCHBOARD_MAIL_TEMPLATES_DIR: %v", err)
	}
	return o, nil
}

// openAttachments opens the store of attachments the settings name.
func openAttachments(cfg *config.Config, client *ent.Client, log *slog.Logger) (*attachments.Service, error) {
	store, spool, err := attachments.OpenStore(cfg.AttachmentsURL, cfg.DataDir)
	if err != nil {
		return nil, config.Errorf("%v", err)
	}
	svc, err := attachments.New(client, store, spool, cfg.AttachmentLimits, log)
	if err != nil {
		return nil, config.Errorf("SWITCHBOARD_ATTACHMENTS_URL: %v", err)
	}
	return svc, nil
}

// Close closes the cache and the database.
func (d *Data) Close() error {
	d.closeCache()
	return d.Client.Close()
}

// NewLogger is the logger the settings describe, writing to w.
func NewLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogJSON() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Pool is the PostgreSQL pool the settings describe.
func Pool(cfg *config.Config) database.Pool {
	return database.Pool{
		MaxConns: cfg.DBMaxConns, ConnMaxLifetime: cfg.DBConnMaxLifetime,
		StatementTimeout: cfg.DBStatementTimeout, RandomPageCost: cfg.DBRandomPageCost,
	}
}

// OpenSQL opens the configured store as plain database/sql, for seed's
// own statements (COPY, multi-row INSERTs).
func (d *Data) OpenSQL() (*database.SQL, error) {
	// A few connections, long-lived: one command, long transactions.
	pool := Pool(d.Config)
	pool.MaxConns, pool.ConnMaxLifetime = 4, time.Hour
	return database.OpenSQL(d.Config.DatabaseURL, d.Config.DataDir, pool, d.Keys)
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

// openCache returns the cache of hot reads: in memory (for LocalTTL, or
// SWITCHBOARD_CACHE_TTL when shorter), in front of Redis when REDIS_URL is
// set (with a client of its own, whose timeouts are short so that a
// failing Redis is bypassed quickly), or nil when SWITCHBOARD_CACHE_TTL is
// 0. The commands get it too, so that their changes invalidate it.
func openCache(cfg *config.Config, log *slog.Logger) (cache.Cache, func(), error) {
	local := min(cache.LocalTTL, cfg.CacheTTL)
	switch {
	case cfg.CacheTTL == 0:
		return nil, func() {}, nil
	case cfg.RedisURL == "":
		return cache.NewMemory(cfg.CacheSize, local), func() {}, nil
	}
	rdb, err := broker.ParseURL(cache.FailFastURL(cfg.RedisURL))
	if err != nil {
		return nil, nil, config.Errorf("REDIS_URL: %v", err)
	}
	shared := cache.NewRedis(rdb, cfg.CachePrefix, cfg.CacheTTL, log)
	return cache.NewTiered(cfg.CacheSize, local, shared), func() { shared.Close(); _ = rdb.Close() }, nil
}

// Dialect is the SQL dialect of the configured database.
func Dialect(cfg *config.Config) string {
	if cfg.DatabaseURL != "" {
		return dialect.Postgres
	}
	return dialect.SQLite
}

// DatabaseKind names the configured database for logs.
func DatabaseKind(cfg *config.Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite:" + cfg.DataDir
}
