// Command diff writes the next versioned migration, for SQLite and
// PostgreSQL, from the difference between ent/schema and the migrations
// already committed:
//
//	go run ./ent/migrate/migrations/diff NAME
//
// SQLite is replayed in a temporary file. PostgreSQL needs a server
// ($DEV_DATABASE_URL, else $TEST_DATABASE_URL); a scratch schema is created
// there and dropped afterwards. A dialect with no changes gets no file.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	entmigrate "github.com/switchboardhq/switchboard/ent/migrate"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) != 2 || !regexp.MustCompile(`^[a-z0-9_]+$`).MatchString(os.Args[1]) {
		log.Fatal("usage: go run ./ent/migrate/migrations/diff NAME (lower case, digits and _)")
	}
	name := os.Args[1]
	ctx := context.Background()
	root := filepath.Join("ent", "migrate", "migrations")
	if err := diffSQLite(ctx, filepath.Join(root, "sqlite"), name); err != nil {
		log.Fatalf("sqlite: %v", err)
	}
	if err := diffPostgres(ctx, filepath.Join(root, "postgres"), name); err != nil {
		log.Fatalf("postgres: %v", err)
	}
}

func diffSQLite(ctx context.Context, dirPath, name string) error {
	tmp, err := os.MkdirTemp("", "switchboard-migrate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(tmp, "dev.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := migrator(dirPath, func(opts ...schema.MigrateOption) (*schema.Atlas, error) {
		return schema.NewMigrate(entsql.OpenDB(dialect.SQLite, db), opts...)
	})
	if err != nil {
		return err
	}
	return write(ctx, m, dirPath, name)
}

func diffPostgres(ctx context.Context, dirPath, name string) error {
	base := os.Getenv("DEV_DATABASE_URL")
	if base == "" {
		base = os.Getenv("TEST_DATABASE_URL")
	}
	if base == "" {
		return errors.New("set DEV_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server to diff against")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	scratch := fmt.Sprintf("migrate_dev_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+scratch); err != nil {
		return err
	}
	defer admin.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+scratch+" CASCADE")
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("search_path", scratch)
	u.RawQuery = q.Encode()
	// Through a URL with search_path, Atlas binds to the scratch schema
	// (a driver it is handed would see the whole server as not clean).
	m, err := migrator(dirPath, func(opts ...schema.MigrateOption) (*schema.Atlas, error) {
		return schema.NewMigrateURL(u.String(), opts...)
	})
	if err != nil {
		return err
	}
	return write(ctx, m, dirPath, name)
}

// migrator opens the migration directory and makes an Atlas migrator
// that replays it on an empty database and diffs the result with ent/schema.
func migrator(dirPath string, open func(...schema.MigrateOption) (*schema.Atlas, error)) (*schema.Atlas, error) {
	if err := os.MkdirAll(dirPath, 0o755); err != nil {
		return nil, err
	}
	dir, err := migrate.NewLocalDir(dirPath)
	if err != nil {
		return nil, err
	}
	return open(
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithFormatter(migrate.DefaultFormatter),
		// Never drop: migrations only add, so the previous version keeps
		// running on the new schema during a rolling upgrade. Removing a
		// column or index is a hand-written migration after it.
		schema.WithErrNoPlan(true),
	)
}

// write writes the statements that bring the replayed directory to
// ent/schema as a new file named name.
func write(ctx context.Context, m *schema.Atlas, dirPath, name string) error {
	err := m.NamedDiff(ctx, name, entmigrate.Tables...)
	if errors.Is(err, migrate.ErrNoPlan) {
		log.Printf("%s: no changes", dirPath)
		return nil
	}
	if err != nil {
		return err
	}
	log.Printf("%s: wrote a new migration named %s", dirPath, name)
	return nil
}

func init() {
	// Atlas opens postgres:// URLs with the database/sql driver named
	// "postgres"; Switchboard's driver is pgx.
	sql.Register("postgres", stdlib.GetDefaultDriver())
}
