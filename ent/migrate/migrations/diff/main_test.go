package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboardhq/switchboard/ent/migrate/migrations"
)

// copyDialect copies the committed migrations of a dialect to a temporary
// directory, so the test never writes into the repository.
func copyDialect(t *testing.T, dialect string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := migrations.FS.ReadDir(dialect)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := migrations.FS.ReadFile(dialect + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDiff(t *testing.T) {
	ctx := context.Background()
	t.Run("CommittedMigrationsNeedNoNewFile", func(t *testing.T) {
		dir := copyDialect(t, "sqlite")
		before, _ := os.ReadDir(dir)
		if err := diffSQLite(ctx, dir, "nothing"); err != nil {
			t.Fatal(err)
		}
		if after, _ := os.ReadDir(dir); len(after) != len(before) {
			t.Fatalf("wrote a migration for an unchanged schema: %d files, was %d", len(after), len(before))
		}
	})
	t.Run("EmptyDirectoryGetsTheWholeSchema", func(t *testing.T) {
		dir := t.TempDir()
		if err := diffSQLite(ctx, dir, "baseline"); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*_baseline.sql"))
		if _, err := os.Stat(filepath.Join(dir, "atlas.sum")); len(files) != 1 || err != nil {
			t.Fatalf("files %v, atlas.sum: %v", files, err)
		}
	})
	t.Run("PostgresNeedsAServer", func(t *testing.T) {
		t.Setenv("DEV_DATABASE_URL", "")
		t.Setenv("TEST_DATABASE_URL", "")
		if err := diffPostgres(ctx, t.TempDir(), "x"); err == nil {
			t.Fatal("diffed PostgreSQL without a server")
		}
	})
}
