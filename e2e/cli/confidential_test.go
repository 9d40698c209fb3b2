package cli_test

import (
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// rawDump returns every stored byte a database holds for the target: the
// SQLite files, or every row of every table as text on PostgreSQL.
func rawDump(t *testing.T, tg dbtest.Target) string {
	t.Helper()
	var b strings.Builder
	if tg.Dialect == dbtest.SQLite {
		files, _ := filepath.Glob(tg.SQLitePath() + "*")
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(data)
		}
		return b.String()
	}
	db, err := sql.Open("pgx", tg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		_ = rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		rows, err := db.Query(`SELECT t::text FROM "` + table + `" t`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			_ = rows.Scan(&row)
			b.WriteString(row + "\n")
		}
		rows.Close()
	}
	return b.String()
}

func rawPhones(t *testing.T, tg dbtest.Target) []string {
	t.Helper()
	driver, dsn := "pgx", tg.DatabaseURL
	if tg.Dialect == dbtest.SQLite {
		driver, dsn = "sqlite", tg.SQLitePath()
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT phone FROM users WHERE phone IS NOT NULL AND phone <> ''`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		_ = rows.Scan(&p)
		out = append(out, p)
	}
	return out
}

func TestConfidentialDataAtRest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		env := map[string]string{}
		if tg.Dialect == dbtest.SQLite {
			env["SWITCHBOARD_ENCRYPTION_KEY"] = "" // embedded mode makes its own key file
		}
		const adminPassword, phone = "amber canyon whistle", "+1 555 0100 777"
		harness.CreateUserEnv(t, tg, env, "admin@example.com", "Ada", "admin", adminPassword)
		s := harness.Start(t, tg, env)
		if tg.Dialect == dbtest.SQLite {
			info, err := os.Stat(confidential.KeyFilePath(tg.DataDir))
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v %v", info, err)
			}
		}
		admin := harness.Login(t, s, "admin@example.com", adminPassword)
		apiToken := harness.Str(s.Do(t, admin, `mutation { createAPIToken(input: {name: "x", scope: READ_WRITE}) { token } }`, nil).OK(t), "createAPIToken", "token")
		_, custID := harness.Signup(t, s, "cust@example.com", "Cust")
		r := s.Do(t, apiToken, `mutation($id: ID!, $p: String) { updateUser(id: $id, input: {phone: $p}) { phone } }`, map[string]any{"id": custID, "p": phone}).OK(t)
		if harness.Str(r, "updateUser", "phone") != phone {
			t.Fatalf("phone reads back as %v", r)
		}
		if r := s.Do(t, admin, `mutation($id: ID!) { updateUser(id: $id, input: {phone: "call me maybe"}) { phone } }`, map[string]any{"id": custID}); r.Code(t) != "BAD_USER_INPUT" {
			t.Fatalf("bad phone accepted: %+v", r.Errors)
		}

		t.Run("DumpHoldsNoSecrets", func(t *testing.T) {
			dump := rawDump(t, tg)
			if !strings.Contains(dump, "cust@example.com") {
				t.Fatal("the dump does not contain the data at all; the test reads the wrong place")
			}
			for name, secret := range map[string]string{"phone": phone, "session token": admin, "API token": apiToken, "password": adminPassword, "password (customer)": "correct horse battery"} {
				if strings.Contains(dump, secret) {
					t.Errorf("the database holds the %s in plain text", name)
				}
			}
		})
		t.Run("RotateReencrypts", func(t *testing.T) {
			before := rawPhones(t, tg)
			if len(before) != 1 || !strings.HasPrefix(before[0], "enc:v1:k1:") {
				t.Fatalf("stored phone = %v", before)
			}
			if tg.Dialect == dbtest.Postgres {
				// Scaled-out mode: the operator puts a new key first.
				env["SWITCHBOARD_ENCRYPTION_KEY"] = "k2:" + strings.Repeat("A", 43) + "," + tg.EncryptionKey
			}
			code, out := harness.RunCLI(t, harness.MergeEnv(harness.TargetEnv(tg), env), "", "keys", "rotate")
			if code != cli.ExitOK || !strings.Contains(out, "re-encrypted 1 ") {
				t.Fatalf("keys rotate exited %d: %s", code, out)
			}
			after := rawPhones(t, tg)
			if len(after) != 1 || !strings.HasPrefix(after[0], "enc:v1:k2:") {
				t.Fatalf("after rotation the stored phone is %v", after)
			}
			// A server reads its keys only at start (s still holds k1
			// alone): one started after the rotation opens the k2 value.
			s2 := harness.Start(t, tg, env)
			r := s2.Do(t, admin, `query($id: ID!) { node(id: $id) { ... on User { phone } } }`, map[string]any{"id": custID}).OK(t)
			if harness.Str(r, "node", "phone") != phone {
				t.Fatalf("phone after rotation = %v", r)
			}
		})
		t.Run("ErrKeyRequiredWithPostgres", func(t *testing.T) {
			code, out := harness.RunCLI(t, map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x"}, "", "serve")
			if code != cli.ExitUsage || !strings.Contains(out, "SWITCHBOARD_ENCRYPTION_KEY") {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
		if res, err := http.Get(s.URL + "/healthz"); err != nil || res.StatusCode != 200 {
			t.Fatalf("server unhealthy after rotation: %v", err)
		}
	})
}
