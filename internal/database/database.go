// Package database opens the store behind Switchboard — an embedded SQLite
// file (pure Go, WAL, foreign keys, busy timeout) by default, PostgreSQL
// when a postgres:// URL is given — and brings its schema up to date.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/event"
	_ "github.com/switchboardhq/switchboard/ent/runtime" // hooks and privacy policies
	"github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/sequence"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/search"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// SQLiteFile is the database file's name inside the data directory.
const SQLiteFile = "switchboard.db"

// Pool configures the PostgreSQL connection pool (zero values: the
// defaults below).
type Pool struct {
	// MaxConns bounds the open connections of one instance.
	MaxConns int
	// ConnMaxLifetime closes connections older than this, so that they
	// move to a restarted or failed-over server.
	ConnMaxLifetime time.Duration
	// StatementTimeout makes PostgreSQL cancel a statement running longer.
	StatementTimeout time.Duration
	// RandomPageCost is the planner's random_page_cost for this
	// program's sessions ("" leaves the server's). PostgreSQL's default,
	// 4, models spinning disks and makes it prefer hashing every ticket a
	// viewer may read over looking up the few it needs; 1.1 fits SSDs.
	RandomPageCost string
}

// DefaultPool is the pool of a PostgreSQL database unless configured.
var DefaultPool = Pool{MaxConns: 20, ConnMaxLifetime: 30 * time.Minute, StatementTimeout: 30 * time.Second, RandomPageCost: "1.1"}

// Open connects to PostgreSQL when databaseURL is set, otherwise to the
// SQLite database in dataDir (created with mode 0700 if missing). The
// client seals and opens confidential fields with keys (see
// confidential.Driver); nil gives a client that fails on them, for
// commands that never touch them (migrate). It returns the client and its
// connection pool, whose statistics the metrics report (ent's client does
// not expose it); closing the client closes the pool.
func Open(databaseURL, dataDir string, keys *confidential.Keyring, opts ...ent.Option) (*ent.Client, *sql.DB, error) {
	return OpenWith(databaseURL, dataDir, DefaultPool, keys, opts...)
}

// OpenWith is Open with the PostgreSQL pool's settings.
func OpenWith(databaseURL, dataDir string, pool Pool, keys *confidential.Keyring, opts ...ent.Option) (*ent.Client, *sql.DB, error) {
	if databaseURL != "" {
		return openPostgres(databaseURL, pool, keys, opts...)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating data directory: %w", err)
	}
	return OpenSQLite(filepath.Join(dataDir, SQLiteFile), keys, opts...)
}

// OpenSQLite opens (creating if needed) the SQLite database at path, as
// Open does. Transactions begin IMMEDIATE, taking the write lock up front:
// with WAL, a deferred transaction that reads and then writes can fail
// with BUSY when another writer got in between, and the busy timeout
// cannot help it.
func OpenSQLite(path string, keys *confidential.Keyring, opts ...ent.Option) (*ent.Client, *sql.DB, error) {
	db, err := openSQLiteDB(path)
	if err != nil {
		return nil, nil, err
	}
	return newClient(dialect.SQLite, db, keys, opts), db, nil
}

// newClient is the ent client over db, carrying keys in its driver.
func newClient(dialectName string, db *sql.DB, keys *confidential.Keyring, opts []ent.Option) *ent.Client {
	drv := confidential.Driver(entsql.OpenDB(dialectName, db), keys)
	return ent.NewClient(append([]ent.Option{ent.Driver(drv)}, opts...)...)
}

func openSQLiteDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("opening SQLite database: %w", err)
	}
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening SQLite database %s: %w", path, err)
	}
	return db, nil
}

// SQLiteDSN is the connection string (driver "sqlite") of the database
// file at path, with the settings Switchboard relies on.
func SQLiteDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// SQLite compares times as the text they are stored as: write every
	// time (and every argument) in one zone and one format, without the
	// monotonic clock reading time.Now adds to time.Time.String (the
	// driver's default), so that comparing texts compares instants.
	q.Set("_timezone", "UTC")
	q.Set("_time_format", "string_no_monotonic")
	return (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}).String()
}

// OpenPostgres connects to the PostgreSQL database at url, as Open does.
func OpenPostgres(url string, keys *confidential.Keyring, opts ...ent.Option) (*ent.Client, *sql.DB, error) {
	return openPostgres(url, DefaultPool, keys, opts...)
}

// PostgresDSN is the connection string used for rawURL: with the pool's
// statement timeout and random_page_cost, each unless the URL sets it
// (pgx passes unknown URL parameters to the server as settings).
func PostgresDSN(rawURL string, pool Pool) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	q := u.Query()
	if q.Get("statement_timeout") == "" && pool.StatementTimeout > 0 {
		q.Set("statement_timeout", strconv.FormatInt(pool.StatementTimeout.Milliseconds(), 10))
	}
	if q.Get("random_page_cost") == "" && pool.RandomPageCost != "" {
		q.Set("random_page_cost", pool.RandomPageCost)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgres(rawURL string, pool Pool, keys *confidential.Keyring, opts ...ent.Option) (*ent.Client, *sql.DB, error) {
	db, err := openPostgresDB(rawURL, pool)
	if err != nil {
		return nil, nil, err
	}
	return newClient(dialect.Postgres, db, keys, opts), db, nil
}

func openPostgresDB(rawURL string, pool Pool) (*sql.DB, error) {
	d := DefaultPool
	if pool.MaxConns <= 0 {
		pool.MaxConns = d.MaxConns
	}
	if pool.ConnMaxLifetime <= 0 {
		pool.ConnMaxLifetime = d.ConnMaxLifetime
	}
	if pool.StatementTimeout <= 0 {
		pool.StatementTimeout = d.StatementTimeout
	}
	dsn := PostgresDSN(rawURL, pool)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL database: %w", redact(err, rawURL))
	}
	db.SetMaxOpenConns(pool.MaxConns)
	db.SetMaxIdleConns(pool.MaxConns)
	db.SetConnMaxLifetime(pool.ConnMaxLifetime)
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", redact(err, rawURL))
	}
	return db, nil
}

// redact keeps passwords in connection strings out of error messages.
func redact(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}

// Migrate applies the pending migrations, then creates the rows the
// program relies on (see Prepare). It is safe to run on every start and
// from several instances at once.
func Migrate(ctx context.Context, client *ent.Client) error {
	return MigrateWith(ctx, client, MigrateOptions{})
}

// MigrateOptions are the settings of what Migrate installs beyond the
// versioned migrations.
type MigrateOptions struct {
	// SearchLanguage is the language of the search index (default
	// search.DefaultLanguage).
	SearchLanguage string
}

// MigrateWith is Migrate with options.
func MigrateWith(ctx context.Context, client *ent.Client, o MigrateOptions) error {
	if _, err := MigrateUp(ctx, client); err != nil {
		return fmt.Errorf("migrating database: %w", err)
	}
	return Prepare(ctx, client, o)
}

// RequireCurrent returns ErrSchemaBehind, naming what is missing, unless
// every migration of this binary is applied. A database migrated by a
// newer version passes: during a rolling upgrade old instances keep
// running on the new schema (migrations only add).
func RequireCurrent(ctx context.Context, client *ent.Client) error {
	st, err := Status(ctx, client)
	if err != nil {
		return fmt.Errorf("reading the database's migrations: %w", err)
	}
	if len(st.Pending) > 0 {
		names := make([]string, len(st.Pending))
		for i, m := range st.Pending {
			names[i] = m.Name()
		}
		return fmt.Errorf("%w: %d migration(s) pending (%s); run `switchboard migrate up` or start with --migrate",
			ErrSchemaBehind, len(st.Pending), strings.Join(names, ", "))
	}
	return nil
}

// Prepare runs after the versioned migrations: it installs the search
// index (search.Install: tables, triggers and functions outside ent's
// model, whose statements depend on the configured language, and which
// is a no-op when the installed index is current), the ticket tally on
// PostgreSQL (ent/tally.go), and creates the rows
// the program relies on (the ticket number and event cursor sequences)
// unless they exist.
func Prepare(ctx context.Context, client *ent.Client, o MigrateOptions) error {
	if o.SearchLanguage == "" {
		o.SearchLanguage = search.DefaultLanguage
	}
	if err := search.Install(ctx, client, o.SearchLanguage); err != nil {
		return err
	}
	if err := client.InstallTally(ctx); err != nil {
		return err
	}
	sys := viewer.SystemContext(ctx)
	if err := ensureSequence(sys, client, schema.TicketNumberSequence, func() (int, error) {
		last, err := client.Ticket.Query().Order(ent.Desc(ticket.FieldNumber)).First(sys)
		if ent.IsNotFound(err) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return last.Number, nil
	}); err != nil {
		return err
	}
	return ensureSequence(sys, client, schema.EventCursorSequence, func() (int, error) {
		last, err := client.Event.Query().Order(ent.Desc(event.FieldCursor)).First(sys)
		if ent.IsNotFound(err) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return int(last.Cursor), nil
	})
}

// ensureSequence creates the named sequence row, starting after the
// highest number already in use, unless it exists.
func ensureSequence(sys context.Context, client *ent.Client, name string, highest func() (int, error)) error {
	exists, err := client.Sequence.Query().Where(sequence.Name(name)).Exist(sys)
	if err != nil || exists {
		return err
	}
	start, err := highest()
	if err != nil {
		return err
	}
	err = client.Sequence.Create().SetName(name).SetValue(start).
		OnConflictColumns(sequence.FieldName).DoNothing().Exec(sys)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("creating sequence %s: %w", name, err)
	}
	return nil
}
