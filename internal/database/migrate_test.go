package database_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"net/url"
	"sync"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/switchboardhq/switchboard/ent"
	entmigrate "github.com/switchboardhq/switchboard/ent/migrate"
	"github.com/switchboardhq/switchboard/ent/migrate/migrations"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// openTarget opens a client on tg without migrating it.
func openTarget(t *testing.T, tg dbtest.Target) *ent.Client {
	t.Helper()
	client, _, err := database.Open(tg.DatabaseURL, tg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// rawDB opens tg with database/sql, for inspecting what the migrations made.
func rawDB(t *testing.T, tg dbtest.Target) (*sql.DB, string) {
	t.Helper()
	driver, dsn, d := "sqlite", database.SQLiteDSN(tg.SQLitePath()), dialect.SQLite
	if tg.Dialect == dbtest.Postgres {
		driver, dsn, d = "pgx", tg.DatabaseURL, dialect.Postgres
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, d
}

// drift lists what ent would change to bring the database to ent/schema.
func drift(t *testing.T, db *sql.DB, d string) []string {
	t.Helper()
	var changes []string
	dir := &migrate.MemDir{}
	m, err := schema.NewMigrate(entsql.OpenDB(d, db),
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeInspect),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
		schema.WithFormatter(migrate.DefaultFormatter),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = m.NamedDiff(context.Background(), "drift", entmigrate.Tables...)
	if errors.Is(err, migrate.ErrNoPlan) {
		return nil
	}
	if err != nil {
		t.Fatalf("diffing the migrated database with ent/schema: %v", err)
	}
	files, _ := dir.Files()
	for _, f := range files {
		stmts, _ := f.Stmts()
		changes = append(changes, stmts...)
	}
	return changes
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		all, err := database.Migrations(string(tg.Dialect))
		if err != nil || len(all) == 0 {
			t.Fatalf("migrations of %s: %d, %v", tg.Dialect, len(all), err)
		}

		t.Run("ReproduceTheEntSchemaExactly", func(t *testing.T) {
			tg := dbtest.NewTarget(t, tg.Dialect)
			if _, err := database.MigrateUp(ctx, openTarget(t, tg)); err != nil {
				t.Fatal(err)
			}
			db, d := rawDB(t, tg)
			if changes := drift(t, db, d); len(changes) > 0 {
				t.Fatalf("the migrations do not reproduce ent/schema; add a migration (go run ./ent/migrate/migrations/diff NAME):\n%q", changes)
			}
		})

		t.Run("DriftIsDetected", func(t *testing.T) {
			tg := dbtest.NewTarget(t, tg.Dialect)
			if _, err := database.MigrateUp(ctx, openTarget(t, tg)); err != nil {
				t.Fatal(err)
			}
			db, d := rawDB(t, tg)
			if _, err := db.Exec(`DROP INDEX "event_created_at"`); err != nil {
				t.Fatal(err)
			}
			if changes := drift(t, db, d); len(changes) == 0 {
				t.Fatal("a dropped index went unnoticed")
			}
		})

		t.Run("UpAppliesEachOnce", func(t *testing.T) {
			client := openTarget(t, dbtest.NewTarget(t, tg.Dialect))
			st, err := database.Status(ctx, client)
			if err != nil || len(st.Applied) != 0 || len(st.Pending) != len(all) || len(st.All) != len(all) {
				t.Fatalf("fresh database: %+v, %v", st, err)
			}
			if err := database.RequireCurrent(ctx, client); !errors.Is(err, database.ErrSchemaBehind) {
				t.Fatalf("RequireCurrent on an empty database = %v", err)
			}
			applied, err := database.MigrateUp(ctx, client)
			if err != nil || len(applied) != len(all) {
				t.Fatalf("first up applied %d of %d: %v", len(applied), len(all), err)
			}
			again, err := database.MigrateUp(ctx, client)
			if err != nil || len(again) != 0 {
				t.Fatalf("second up applied %d: %v", len(again), err)
			}
			st, err = database.Status(ctx, client)
			if err != nil || len(st.Pending) != 0 || len(st.Applied) != len(all) || len(st.Unknown) != 0 {
				t.Fatalf("after up: %+v, %v", st, err)
			}
			if err := database.RequireCurrent(ctx, client); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("ConcurrentInstancesApplyEachOnce", func(t *testing.T) {
			tg := dbtest.NewTarget(t, tg.Dialect)
			const instances = 6
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				total int
				errs  []error
			)
			for range instances {
				client := openTarget(t, tg)
				wg.Add(1)
				go func() {
					defer wg.Done()
					applied, err := database.MigrateUp(ctx, client)
					mu.Lock()
					defer mu.Unlock()
					total += len(applied)
					if err != nil {
						errs = append(errs, err)
					}
				}()
			}
			wg.Wait()
			if len(errs) > 0 || total != len(all) {
				t.Fatalf("%d instances applied %d migrations in all (want %d): %v", instances, total, len(all), errs)
			}
			db, _ := rawDB(t, tg)
			var rows int
			if err := db.QueryRow("SELECT COUNT(*) FROM switchboard_migrations").Scan(&rows); err != nil || rows != len(all) {
				t.Fatalf("%d revision rows, %v", rows, err)
			}
		})

		t.Run("DatabaseFromBeforeVersionedMigrationsIsAdopted", func(t *testing.T) {
			// Such a database has the schema of the first migration (what
			// automatic migration made then), without its record.
			own := dbtest.NewTarget(t, tg.Dialect)
			client := openTarget(t, own)
			db, d := rawDB(t, own)
			dir := map[string]string{dialect.SQLite: database.SQLite, dialect.Postgres: database.Postgres}[d]
			entries, err := fs.Glob(migrations.FS, dir+"/*.sql")
			if err != nil || len(entries) == 0 {
				t.Fatalf("no migrations in %s: %v", dir, err)
			}
			baseline, err := fs.ReadFile(migrations.FS, entries[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(string(baseline)); err != nil {
				t.Fatalf("creating the first migration's schema: %v", err)
			}
			if err := database.Migrate(ctx, client); err != nil {
				t.Fatalf("migrating a database made by automatic migration: %v", err)
			}
			st, err := database.Status(ctx, client)
			if err != nil || len(st.Pending) != 0 || st.Applied[0] != all[0].Version {
				t.Fatalf("%+v, %v", st, err)
			}
		})
	})
}

func TestMigrationsOfAllDialectsLoad(t *testing.T) {
	for _, d := range []string{database.SQLite, database.Postgres} {
		all, err := database.Migrations(d)
		if err != nil || len(all) == 0 {
			t.Fatalf("%s: %d migrations, %v", d, len(all), err)
		}
	}
	if _, err := database.Migrations("mysql"); err == nil {
		t.Fatal("loaded migrations of a dialect that has none")
	}
}

// The URL helper dbtest uses must keep search_path, or PostgreSQL tests
// would migrate the shared public schema.
func TestPostgresTargetIsItsOwnSchema(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.Postgres)
	u, err := url.Parse(tg.DatabaseURL)
	if err != nil || u.Query().Get("search_path") == "" {
		t.Fatalf("%q: %v", tg.DatabaseURL, err)
	}
}
