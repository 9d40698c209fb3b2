package database

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/switchboardhq/switchboard/ent/migrate/migrations"
)

func TestEditedMigrationIsRefused(t *testing.T) {
	edited := fstest.MapFS{}
	entries, err := migrations.FS.ReadDir(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := migrations.FS.ReadFile(SQLite + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".sql") {
			b = append(b, []byte("\nDROP TABLE users;\n")...)
		}
		edited[SQLite+"/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	if _, err := migrationsIn(edited, SQLite); err == nil || !strings.Contains(err.Error(), "atlas.sum") {
		t.Fatalf("an edited migration was accepted: %v", err)
	}
	if _, err := migrationsIn(migrations.FS, SQLite); err != nil {
		t.Fatalf("the committed migrations: %v", err)
	}
}

func TestStatus(t *testing.T) {
	all := []Migration{{Version: "1"}, {Version: "2"}, {Version: "3"}}
	st := status(all, []string{"1", "2", "9"})
	if len(st.Pending) != 1 || st.Pending[0].Version != "3" {
		t.Errorf("pending = %+v", st.Pending)
	}
	if len(st.Unknown) != 1 || st.Unknown[0] != "9" {
		t.Errorf("unknown = %v", st.Unknown)
	}
}
