package database_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/sequence"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func sequenceValue(t *testing.T, client *ent.Client, sys context.Context) (int, bool) {
	t.Helper()
	seqs, err := client.Sequence.Query().Where(sequence.Name(schema.TicketNumberSequence)).All(sys)
	if err != nil {
		t.Fatal(err)
	}
	switch len(seqs) {
	case 0:
		return 0, false
	case 1:
		return seqs[0].Value, true
	}
	t.Fatalf("%d ticket number sequences, want 1", len(seqs))
	return 0, false
}

func openTickets(t *testing.T, client *ent.Client, n int) []*ent.Ticket {
	t.Helper()
	sys := viewer.SystemContext(context.Background())
	u, err := client.User.Create().SetEmail(string(globalid.New("")) + "@example.com").SetName("C").SetRole(user.RoleCUSTOMER).Save(sys)
	if err != nil {
		t.Fatal(err)
	}
	as := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Role: viewer.Customer})
	svc := ticketing.New(client, ticketing.Options{})
	var out []*ent.Ticket
	for i := 0; i < n; i++ {
		tk, err := svc.Create(as, ticketing.NewTicket{Subject: "Ticket", Body: "Body"})
		if err != nil {
			t.Fatalf("creating ticket: %v", err)
		}
		out = append(out, tk)
	}
	return out
}

func TestMigrate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		sys := viewer.SystemContext(ctx)
		// fresh gives each subtest a database of its own on the dialect.
		fresh := func(t *testing.T) *ent.Client { return dbtest.NewTarget(t, tg.Dialect).Open(t) }

		t.Run("CreatesTicketNumberSequence", func(t *testing.T) {
			client := fresh(t)
			v, ok := sequenceValue(t, client, sys)
			if !ok {
				t.Fatal("no ticket_number sequence after Migrate")
			}
			if v != 0 {
				t.Fatalf("fresh sequence value = %d, want 0", v)
			}
		})
		t.Run("IsIdempotent", func(t *testing.T) {
			client := fresh(t) // migrated once already
			openTickets(t, client, 2)
			for i := 0; i < 2; i++ {
				if err := database.Migrate(ctx, client); err != nil {
					t.Fatalf("migrating again (%d): %v", i+2, err)
				}
			}
			if v, ok := sequenceValue(t, client, sys); !ok || v != 2 {
				t.Fatalf("sequence after re-migrating = %d (exists %v), want 2 kept", v, ok)
			}
			if next := openTickets(t, client, 1)[0]; next.Number != 3 {
				t.Fatalf("next ticket after re-migrating has number %d, want 3", next.Number)
			}
		})
		t.Run("RecreatesMissingSequenceAfterHighestNumber", func(t *testing.T) {
			client := fresh(t)
			openTickets(t, client, 3)
			if _, err := client.Sequence.Delete().Where(sequence.Name(schema.TicketNumberSequence)).Exec(sys); err != nil {
				t.Fatal(err)
			}
			if _, ok := sequenceValue(t, client, sys); ok {
				t.Fatal("sequence still there after delete")
			}
			// Without it, tickets cannot be numbered.
			_, err := ticketing.New(client, ticketing.Options{}).Create(viewer.NewContext(ctx, &viewer.Viewer{UserID: "x", Role: viewer.Admin}), ticketing.NewTicket{Subject: "s", Body: "b"})
			if err == nil || !strings.Contains(err.Error(), "migrations") {
				t.Fatalf("creating a ticket without the number sequence: err = %v, want one pointing to the migrations", err)
			}
			if err := database.Migrate(ctx, client); err != nil {
				t.Fatal(err)
			}
			if v, ok := sequenceValue(t, client, sys); !ok || v != 3 {
				t.Fatalf("recreated sequence value = %d (exists %v), want 3", v, ok)
			}
			if next := openTickets(t, client, 1)[0]; next.Number != 4 {
				t.Fatalf("next ticket has number %d, want 4", next.Number)
			}
		})
		t.Run("ForeignKeysAreEnforced", func(t *testing.T) {
			client := fresh(t)
			u, err := client.User.Create().SetEmail("author@example.com").SetName("Author").Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			err = orphanMessage(sys, client, u.ID)
			if err == nil {
				t.Fatal("message for a nonexistent ticket was stored")
			}
			if !ent.IsConstraintError(err) {
				t.Fatalf("err = %v, want a constraint error", err)
			}
			n, err := client.Message.Query().Count(sys)
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d messages stored, want 0", n)
			}
		})
	})
}

func TestOpenSQLite(t *testing.T) {
	ctx := context.Background()
	sys := viewer.SystemContext(ctx)

	t.Run("CreatesTheDatabaseFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "help.db")
		client, _, err := database.OpenSQLite(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		if err := database.Migrate(ctx, client); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatalf("database file not created: %v", err)
		}
		if info.Size() == 0 {
			t.Fatal("database file is empty after migrating")
		}
	})
	t.Run("EnforcesForeignKeys", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "fk.db")
		client, _, err := database.OpenSQLite(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		if err := database.Migrate(ctx, client); err != nil {
			t.Fatal(err)
		}
		u, err := client.User.Create().SetEmail("author@example.com").SetName("Author").Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		err = orphanMessage(sys, client, u.ID)
		if err == nil {
			t.Fatal("SQLite stored a message whose ticket does not exist: foreign keys are off")
		}
		if !ent.IsConstraintError(err) {
			t.Fatalf("err = %v, want a foreign key constraint error", err)
		}
	})
	t.Run("DataIsKeptAcrossReopening", func(t *testing.T) {
		dir := t.TempDir()
		client, _, err := database.Open("", dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := database.Migrate(ctx, client); err != nil {
			t.Fatal(err)
		}
		openTickets(t, client, 2)
		client.Close()
		client, _, err = database.Open("", dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		if err := database.Migrate(ctx, client); err != nil {
			t.Fatal(err)
		}
		if next := openTickets(t, client, 1)[0]; next.Number != 3 {
			t.Fatalf("ticket after reopening has number %d, want 3", next.Number)
		}
	})
	t.Run("OpenCreatesPrivateDataDirectory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data", "switchboard")
		client, _, err := database.Open("", dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatalf("data directory not created: %v", err)
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Fatalf("data directory mode = %v, want no access for others", perm)
		}
		if _, err := os.Stat(filepath.Join(dir, database.SQLiteFile)); err != nil {
			t.Fatalf("database file not in the data directory: %v", err)
		}
	})
	// The data directory is the operator's choice; characters that mean
	// something in a URI must not change which file is opened or drop the
	// connection settings (foreign keys).
	for _, tc := range []struct{ name, dir string }{
		{"PathWithSpace", "help desk"},
		{"PathWithHash", "help#desk"},
		{"PathWithPercent", "help%41desk"},
		{"PathWithQuestionMark", "help?desk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.dir)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, database.SQLiteFile)
			problem := checkSQLiteAt(path)
			if problem != "" && strings.ContainsAny(tc.dir, "#%?") {
				t.Fatalf("fixed bug regressed: OpenSQLite in internal/database/database.go puts the path into a file: URI unescaped: %s", problem)
			}
			if problem != "" {
				t.Fatal(problem)
			}
		})
	}
}

// checkSQLiteAt opens and migrates a database at path and describes what
// went wrong: not opened, not at that path, or without foreign keys.
func checkSQLiteAt(path string) string {
	ctx := context.Background()
	sys := viewer.SystemContext(ctx)
	client, _, err := database.OpenSQLite(path, nil)
	if err != nil {
		return fmt.Sprintf("opening %q: %v", path, err)
	}
	defer client.Close()
	if err := database.Migrate(ctx, client); err != nil {
		return fmt.Sprintf("migrating %q: %v", path, err)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Sprintf("database not created at %q: %v", path, err)
	}
	u, err := client.User.Create().SetEmail("a@example.com").SetName("A").Save(sys)
	if err != nil {
		return fmt.Sprintf("creating a user: %v", err)
	}
	err = orphanMessage(sys, client, u.ID)
	if err == nil {
		return "foreign keys are not enforced"
	}
	return ""
}

func TestPostgresPool(t *testing.T) {
	t.Run("StatementTimeoutAddedToTheURL", func(t *testing.T) {
		got := database.PostgresDSN("postgres://u@h/db?sslmode=disable", database.Pool{StatementTimeout: 1500 * time.Millisecond})
		if !strings.Contains(got, "statement_timeout=1500") || !strings.Contains(got, "sslmode=disable") {
			t.Fatal(got)
		}
	})
	t.Run("URLsOwnStatementTimeoutWins", func(t *testing.T) {
		url := "postgres://u@h/db?statement_timeout=99"
		if got := database.PostgresDSN(url, database.Pool{StatementTimeout: time.Second}); got != url {
			t.Fatal(got)
		}
	})
	t.Run("RandomPageCostAddedUnlessTheURLSetsIt", func(t *testing.T) {
		got := database.PostgresDSN("postgres://u@h/db", database.Pool{RandomPageCost: "1.1"})
		if !strings.Contains(got, "random_page_cost=1.1") {
			t.Fatal(got)
		}
		got = database.PostgresDSN("postgres://u@h/db?random_page_cost=4", database.Pool{RandomPageCost: "1.1"})
		if !strings.Contains(got, "random_page_cost=4") || strings.Contains(got, "1.1") {
			t.Fatal(got)
		}
		if got := database.PostgresDSN("postgres://u@h/db", database.Pool{}); strings.Contains(got, "random_page_cost") {
			t.Fatalf("an empty setting must leave the server's: %s", got)
		}
	})
	t.Run("ServerCancelsLongStatements", func(t *testing.T) {
		base := os.Getenv("TEST_DATABASE_URL")
		if base == "" {
			t.Skip("set TEST_DATABASE_URL to check the statement timeout on PostgreSQL")
		}
		db, err := sql.Open("pgx", database.PostgresDSN(base, database.Pool{StatementTimeout: 200 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var setting string
		if err := db.QueryRow("show statement_timeout").Scan(&setting); err != nil || setting != "200ms" {
			t.Fatalf("statement_timeout = %q, %v", setting, err)
		}
		cost, err := sql.Open("pgx", database.PostgresDSN(base, database.Pool{RandomPageCost: "1.1"}))
		if err != nil {
			t.Fatal(err)
		}
		defer cost.Close()
		if err := cost.QueryRow("show random_page_cost").Scan(&setting); err != nil || setting != "1.1" {
			t.Fatalf("random_page_cost = %q, %v", setting, err)
		}
		if _, err := db.Exec("select pg_sleep(2)"); err == nil || !strings.Contains(err.Error(), "statement timeout") {
			t.Fatalf("a 2 s statement ran under a 200 ms timeout: %v", err)
		}
	})
}

func TestOpenPostgres(t *testing.T) {
	const secret = "sekrit"
	for name, url := range map[string]string{
		"Unreachable": "postgres://u:" + secret + "@127.0.0.1:1/x",
		"Malformed":   "postgres://u:" + secret + "@127.0.0.1:notaport/x",
	} {
		t.Run(name+"ErrorHidesPassword", func(t *testing.T) {
			client, _, err := database.Open(url, "", nil)
			if err == nil {
				client.Close()
				t.Fatal("opened an unreachable database")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error reveals the password: %v", err)
			}
		})
	}
}

// orphanMessage writes a message whose ticket does not exist, in a
// transaction as messages must be (event log).
func orphanMessage(sys context.Context, client *ent.Client, author globalid.ID) error {
	tx, err := client.Tx(sys)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return tx.Message.Create().SetTicketID(globalid.New(globalid.PrefixTicket)).SetAuthorID(author).SetBody("orphan").Exec(sys)
}

// Open returns the client's own connection pool (the metrics report its
// statistics), which closes with the client.
func TestOpenReturnsThePool(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := viewer.SystemContext(context.Background())
		client, db, err := database.Open(tg.DatabaseURL, tg.DataDir, tg.Keyring(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := database.Migrate(ctx, client); err != nil {
			t.Fatal(err)
		}
		// Hold a transaction, so that the client's connection stays open.
		tx, err := client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.User.Query().Count(ctx); err != nil {
			t.Fatal(err)
		}
		if in := db.Stats().InUse; in != 1 {
			t.Fatalf("pool in use = %d during the client's transaction, want 1", in)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := client.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.PingContext(ctx); err == nil {
			t.Fatal("the pool is still open after the client closed")
		}
	})
}
