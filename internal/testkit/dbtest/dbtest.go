// Package dbtest gives each test a database of its own: a fresh SQLite file
// always, and a fresh PostgreSQL schema when TEST_DATABASE_URL is set, so
// that tests never share state and one suite covers both dialects.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Dialect names a database kind tests run against.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Target is one database a test may use.
type Target struct {
	Dialect Dialect
	// DatabaseURL is what to give the server (empty for SQLite).
	DatabaseURL string
	// DataDir is the data directory: the SQLite database's, and on both
	// dialects the attachments' (a directory of its own per target, so
	// that no two tests share blobs, nor write to ./data).
	DataDir string
	// EncryptionKey is a fresh SWITCHBOARD_ENCRYPTION_KEY for this database.
	EncryptionKey string
}

// Each runs fn once per dialect: SQLite always, PostgreSQL when
// TEST_DATABASE_URL is set (skipped with a message otherwise). Each run
// gets a fresh, empty database.
func Each(t *testing.T, fn func(t *testing.T, target Target)) {
	t.Helper()
	t.Run(string(SQLite), func(t *testing.T) { fn(t, NewTarget(t, SQLite)) })
	t.Run(string(Postgres), func(t *testing.T) { fn(t, NewTarget(t, Postgres)) })
}

// NewTarget makes a fresh, empty database of the dialect, removed when the
// test ends.
func NewTarget(t testing.TB, d Dialect) Target {
	t.Helper()
	key, err := confidential.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	if d == SQLite {
		return Target{Dialect: SQLite, DataDir: t.TempDir(), EncryptionKey: key.Encode()}
	}
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them")
	}
	schema := "t_" + strings.ToLower(string(globalid.New("")))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("opening TEST_DATABASE_URL: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("creating test schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return Target{Dialect: Postgres, DatabaseURL: u.String(), DataDir: t.TempDir(), EncryptionKey: key.Encode()}
}

// Keyring is the keyring of the target's EncryptionKey.
func (tg Target) Keyring(t testing.TB) *confidential.Keyring {
	t.Helper()
	keys, _, err := confidential.Load(confidential.Source{EnvKeys: tg.EncryptionKey})
	if err != nil {
		t.Fatalf("loading the test encryption key: %v", err)
	}
	return keys
}

// Open returns a migrated client on the target, closed when the test ends.
// Confidential fields use the target's key (Keyring).
func (tg Target) Open(t testing.TB) *ent.Client {
	t.Helper()
	return tg.OpenWith(t, tg.Keyring(t))
}

// OpenWith is Open with keys instead of the target's (nil: a client
// without any) and with ent options. Several clients may be open on one
// target at once, each with its own keys.
func (tg Target) OpenWith(t testing.TB, keys *confidential.Keyring, opts ...ent.Option) *ent.Client {
	t.Helper()
	client, _, err := database.Open(tg.DatabaseURL, tg.DataDir, keys, opts...)
	if err != nil {
		t.Fatalf("opening %s: %v", tg.Dialect, err)
	}
	t.Cleanup(func() { _ = client.Close() })
	if err := database.Migrate(context.Background(), client); err != nil {
		t.Fatalf("migrating %s: %v", tg.Dialect, err)
	}
	return client
}

// Client is a shortcut for a fresh migrated SQLite client.
func Client(t testing.TB) *ent.Client {
	t.Helper()
	return NewTarget(t, SQLite).Open(t)
}

// SQLitePath is the database file of a SQLite target.
func (tg Target) SQLitePath() string { return filepath.Join(tg.DataDir, database.SQLiteFile) }

// String describes the target for messages.
func (tg Target) String() string {
	if tg.DatabaseURL != "" {
		return fmt.Sprintf("%s %s", tg.Dialect, tg.DatabaseURL)
	}
	return fmt.Sprintf("%s %s", tg.Dialect, tg.DataDir)
}
