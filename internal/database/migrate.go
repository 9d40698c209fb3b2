package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/migrate/migrations"
	"github.com/switchboardhq/switchboard/internal/search"
)

// Versioned migrations: the SQL files under ent/migrate/migrations/<dialect>
// (generated from ent/schema, see docs/development.md) are embedded in the binary
// and applied in version order, each in its own transaction together with
// the row recording it in switchboard_migrations. On PostgreSQL each
// transaction first takes an advisory lock (scoped to the schema), so
// instances starting at once apply every file exactly once; on SQLite the
// IMMEDIATE transaction is the lock.

// Dialects of the migration directories.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// revisionsTable records the applied migrations.
const revisionsTable = "switchboard_migrations"

// ErrSchemaBehind is returned when the database lacks migrations this
// binary needs and it was not asked to apply them.
var ErrSchemaBehind = errors.New("the database schema is behind this version of switchboard")

// Migration is one versioned migration file.
type Migration struct {
	// Version is the file's version (its timestamp prefix).
	Version string
	// Description is the rest of the file name.
	Description string
	stmts       []string
	sum         string
}

// MigrationStatus compares the database with the migrations of this binary.
type MigrationStatus struct {
	// All are this binary's migrations, in order.
	All []Migration
	// Applied are the versions recorded in the database, in order.
	Applied []string
	// Pending are the migrations of this binary not yet applied.
	Pending []Migration
	// Unknown are applied versions this binary does not have: the
	// database was migrated by a newer version.
	Unknown []string
}

// Migrations are this binary's migrations for the dialect, in order. The
// directory's atlas.sum is verified, so an edited file is refused.
func Migrations(dialect string) ([]Migration, error) {
	return migrationsIn(migrations.FS, dialect)
}

func migrationsIn(fsys fs.FS, dialect string) ([]Migration, error) {
	sub, err := fs.Sub(fsys, dialect)
	if err != nil {
		return nil, fmt.Errorf("no migrations for %s: %w", dialect, err)
	}
	dir := &migrate.MemDir{}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			return nil, err
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	if err := migrate.Validate(dir); err != nil {
		return nil, fmt.Errorf("migrations for %s: %w (regenerate atlas.sum after editing a file, see docs/development.md)", dialect, err)
	}
	files, err := dir.Files()
	if err != nil {
		return nil, err
	}
	sums, err := dir.Checksum()
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(files))
	for _, f := range files {
		stmts, err := f.Stmts()
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
		}
		sum, _ := sums.SumByName(f.Name())
		out = append(out, Migration{Version: f.Version(), Description: f.Desc(), stmts: stmts, sum: sum})
	}
	return out, nil
}

// Status reads which migrations the database has.
func Status(ctx context.Context, client *ent.Client) (MigrationStatus, error) {
	dialect, err := dialectOf(ctx, client)
	if err != nil {
		return MigrationStatus{}, err
	}
	all, err := Migrations(dialect)
	if err != nil {
		return MigrationStatus{}, err
	}
	applied, err := appliedVersions(ctx, client, dialect)
	if err != nil {
		return MigrationStatus{}, err
	}
	return status(all, applied), nil
}

func status(all []Migration, applied []string) MigrationStatus {
	st := MigrationStatus{All: all, Applied: applied}
	have := make(map[string]bool, len(applied))
	for _, v := range applied {
		have[v] = true
	}
	known := make(map[string]bool, len(all))
	for _, m := range all {
		known[m.Version] = true
		if !have[m.Version] {
			st.Pending = append(st.Pending, m)
		}
	}
	for _, v := range applied {
		if !known[v] {
			st.Unknown = append(st.Unknown, v)
		}
	}
	return st
}

// MigrateUp applies the pending migrations and returns those it applied
// (none when another instance got there first).
func MigrateUp(ctx context.Context, client *ent.Client) ([]Migration, error) {
	dialect, err := dialectOf(ctx, client)
	if err != nil {
		return nil, err
	}
	all, err := Migrations(dialect)
	if err != nil {
		return nil, err
	}
	var done []Migration
	for _, m := range all {
		ok, err := apply(ctx, client, dialect, m, all[0])
		if err != nil {
			return done, fmt.Errorf("applying migration %s_%s: %w", m.Version, m.Description, err)
		}
		if ok {
			done = append(done, m)
		}
	}
	return done, nil
}

// apply runs m in one transaction unless it is recorded as applied, and
// reports whether it ran.
func apply(ctx context.Context, client *ent.Client, dialect string, m, baseline Migration) (ran bool, err error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if dialect == Postgres {
		// Migrations may rewrite large tables: no statement timeout. The
		// lock is per schema so separate schemas (tests) do not queue.
		for _, q := range []string{
			"SET LOCAL statement_timeout = 0",
			"SELECT pg_advisory_xact_lock(hashtext(current_schema() || '." + revisionsTable + "'))",
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return false, err
			}
		}
	}
	if err := ensureRevisions(ctx, tx, dialect, baseline); err != nil {
		return false, err
	}
	var n int
	if err := queryRow(ctx, tx, "SELECT COUNT(*) FROM "+revisionsTable+" WHERE version = "+placeholder(dialect, 1), []any{m.Version}, &n); err != nil {
		return false, err
	}
	if n > 0 {
		// Commit: ensureRevisions may have created the table.
		return false, tx.Commit()
	}
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("%w\nin statement: %s", err, strings.TrimSpace(stmt))
		}
	}
	if err := recordRevision(ctx, tx, dialect, m); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// ensureRevisions creates the revisions table. A database created before
// versioned migrations (by ent's automatic migration, which made exactly
// the baseline's tables) gets the baseline recorded as applied.
func ensureRevisions(ctx context.Context, tx *ent.Tx, dialect string, baseline Migration) error {
	exists, err := tableExists(ctx, tx, dialect, revisionsTable)
	if err != nil || exists {
		return err
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE "+revisionsTable+` (
		version text PRIMARY KEY,
		description text NOT NULL,
		checksum text NOT NULL,
		applied_at timestamp NOT NULL
	)`); err != nil {
		return err
	}
	legacy, err := tableExists(ctx, tx, dialect, "tickets")
	if err != nil || !legacy {
		return err
	}
	return recordRevision(ctx, tx, dialect, baseline)
}

func recordRevision(ctx context.Context, tx *ent.Tx, dialect string, m Migration) error {
	q := fmt.Sprintf("INSERT INTO %s (version, description, checksum, applied_at) VALUES (%s, %s, %s, %s)", revisionsTable,
		placeholder(dialect, 1), placeholder(dialect, 2), placeholder(dialect, 3), placeholder(dialect, 4))
	_, err := tx.ExecContext(ctx, q, m.Version, m.Description, m.sum, time.Now().UTC())
	return err
}

func appliedVersions(ctx context.Context, client *ent.Client, dialect string) ([]string, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	exists, err := tableExists(ctx, tx, dialect, revisionsTable)
	if err != nil || !exists {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM "+revisionsTable+" ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func tableExists(ctx context.Context, tx *ent.Tx, dialect, name string) (bool, error) {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if dialect == Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
	}
	var n int
	err := queryRow(ctx, tx, q, []any{name}, &n)
	return n > 0, err
}

func queryRow(ctx context.Context, tx *ent.Tx, q string, args []any, dest ...any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

func placeholder(dialect string, i int) string {
	if dialect == Postgres {
		return fmt.Sprintf("$%d", i)
	}
	return "?"
}

// dialectOf names the migration directory of the client's database.
func dialectOf(ctx context.Context, client *ent.Client) (string, error) {
	d, err := search.Dialect(ctx, client)
	if err != nil {
		return "", fmt.Errorf("reading the database: %w", err)
	}
	if d == dialect.Postgres {
		return Postgres, nil
	}
	return SQLite, nil
}

// Name is the migration's file name.
func (m Migration) Name() string { return path.Base(m.Version + "_" + m.Description + ".sql") }
