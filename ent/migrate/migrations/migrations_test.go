package migrations

import (
	"io/fs"
	"strings"
	"testing"
)

// Every schema change lands in both dialects, so the two directories hold
// the same migrations by name (the timestamps may differ by seconds).
func TestDialectsHaveTheSameMigrations(t *testing.T) {
	names := func(dialect string) []string {
		files, err := fs.Glob(FS, dialect+"/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range files {
			_, desc, _ := strings.Cut(strings.TrimPrefix(f, dialect+"/"), "_")
			out = append(out, desc)
		}
		return out
	}
	sqlite, postgres := names("sqlite"), names("postgres")
	if len(sqlite) == 0 || strings.Join(sqlite, ",") != strings.Join(postgres, ",") {
		t.Fatalf("sqlite has %v, postgres has %v", sqlite, postgres)
	}
	for _, d := range []string{"sqlite", "postgres"} {
		if _, err := fs.Stat(FS, d+"/atlas.sum"); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
	}
}
