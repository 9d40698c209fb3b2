package database

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/switchboardhq/switchboard/internal/confidential"
)

// SQL is the store as plain database/sql, for seed, which writes many rows
// faster than ent can (COPY on PostgreSQL, multi-row INSERTs on SQLite)
// and keeps by hand what the hooks would. Every other write goes through
// ent (see ent/schema/hooks.go).
type SQL struct {
	DB *sql.DB
	// Dialect is dialect.Postgres or dialect.SQLite.
	Dialect string
	// Keyring seals the confidential values these statements write
	// (Keyring.Seal), as ent's driver does for ent's; nil if none was given.
	Keyring *confidential.Keyring
}

// OpenSQL opens the same store as OpenWith, as plain database/sql, with
// keys for the confidential values its users write by hand.
func OpenSQL(databaseURL, dataDir string, pool Pool, keys *confidential.Keyring) (*SQL, error) {
	if databaseURL != "" {
		db, err := openPostgresDB(databaseURL, pool)
		if err != nil {
			return nil, err
		}
		return &SQL{DB: db, Dialect: dialect.Postgres, Keyring: keys}, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	db, err := openSQLiteDB(filepath.Join(dataDir, SQLiteFile))
	if err != nil {
		return nil, err
	}
	return &SQL{DB: db, Dialect: dialect.SQLite, Keyring: keys}, nil
}

// Close closes the connections.
func (s *SQL) Close() error { return s.DB.Close() }

// Rebind turns ? placeholders into PostgreSQL's $1, $2, … (SQLite takes
// either); the bulk statements are written once with ?.
func (s *SQL) Rebind(q string) string {
	if s.Dialect != dialect.Postgres {
		return q
	}
	return Rebind(q)
}

// Rebind turns ? placeholders into $1, $2, … unconditionally.
func Rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Placeholders is n ? placeholders separated by commas.
func Placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// InsertSQL is a multi-row INSERT of rows rows with ? placeholders.
func InsertSQL(table string, columns []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ")
	one := "(" + Placeholders(len(columns)) + ")"
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}
