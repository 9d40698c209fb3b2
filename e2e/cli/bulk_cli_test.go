package cli_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// seededLogins runs `seed --tickets --messages` and returns the sample
// logins it printed.
func seededLogins(t *testing.T, tg dbtest.Target, tickets, messages string) map[string]string {
	t.Helper()
	code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "seed", "--tickets", tickets, "--messages", messages)
	if code != cli.ExitOK || !strings.Contains(out, "Seeded "+tickets+" tickets and "+messages+" messages") {
		t.Fatalf("seed exited %d: %s", code, out)
	}
	logins := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  (admin|agent|customer)\s+(\S+)$`).FindAllStringSubmatch(out, -1) {
		logins[m[1]] = m[2]
	}
	if len(logins) != 3 {
		t.Fatalf("seed printed no logins: %s", out)
	}
	return logins
}

func TestSeedCommand(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		logins := seededLogins(t, tg, "50", "400")
		s := harness.Start(t, tg, nil)
		admin := harness.Login(t, s, logins["admin"], seed.Password)
		data := s.Do(t, admin, `{ tickets(first: 100, where: {hasMessagesWith: {internal: true}}) { totalCount } all: tickets(first: 1) { totalCount } }`, nil).OK(t)
		if harness.Num(data, "all", "totalCount") != 50 || harness.Num(data, "tickets", "totalCount") == 0 {
			t.Fatalf("seeded data as the admin sees it: %v", data)
		}
		t.Run("NewTicketsNumberAfterTheSeededOnes", func(t *testing.T) {
			customer := harness.Login(t, s, logins["customer"], seed.Password)
			data := s.Do(t, customer, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "After the seed", "body": "Hello"}}).OK(t)
			if n := harness.Num(data, "createTicket", "number"); n != 51 {
				t.Fatalf("the first ticket after seeding 50 is number %d", n)
			}
		})
		t.Run("SeedingAgainAddsToTheData", func(t *testing.T) {
			seededLogins(t, tg, "5", "5")
			data := s.Do(t, admin, `{ tickets(first: 1) { totalCount } }`, nil).OK(t)
			if n := harness.Num(data, "tickets", "totalCount"); n != 56 {
				t.Fatalf("%d tickets after seeding 50, creating 1 and seeding 5", n)
			}
		})
	})
	t.Run("ErrFewerMessagesThanTickets", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "seed", "--tickets", "10", "--messages", "5")
		if code != cli.ExitUsage || !strings.Contains(out, "at least --tickets") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("ErrNotANumber", func(t *testing.T) {
		code, out := harness.RunCLI(t, nil, "", "seed", "--tickets", "many", "--messages", "5")
		if code != cli.ExitUsage || !strings.Contains(out, "--tickets must be a positive number") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
}

func TestExportImportCommands(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		logins := seededLogins(t, tg, "30", "200")
		dir := t.TempDir()
		file := filepath.Join(dir, "export.jsonl")
		code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "export", "--output", file)
		if code != cli.ExitOK || !strings.Contains(out, "30 tickets, 200 messages") {
			t.Fatalf("export exited %d: %s", code, out)
		}
		st, err := os.Stat(file)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("export file %v, %v: want mode 0600 (it holds personal data)", st, err)
		}
		first, _ := os.ReadFile(file)

		dst := dbtest.NewTarget(t, tg.Dialect)
		code, out = harness.RunCLI(t, harness.TargetEnv(dst), "", "import", file, "--batch", "50")
		if code != cli.ExitOK || !strings.Contains(out, "30 tickets, 200 messages") {
			t.Fatalf("import exited %d: %s", code, out)
		}
		t.Run("SecondExportIsIdentical", func(t *testing.T) {
			code, out := harness.RunCLI(t, harness.TargetEnv(dst), "", "export")
			if code != cli.ExitOK {
				t.Fatalf("export exited %d: %s", code, out)
			}
			// Standard output carries the lines, the summary goes to stderr
			// (both in out here): the lines must be there unchanged.
			if !strings.Contains(out, string(first)) {
				t.Fatal("the export of the imported database differs from the original export")
			}
		})
		t.Run("ImportedAccountsSignIn", func(t *testing.T) {
			s := harness.Start(t, dst, nil)
			tok := harness.Login(t, s, logins["customer"], seed.Password)
			data := s.Do(t, tok, `{ me { email } }`, nil).OK(t)
			if harness.Str(data, "me", "email") != logins["customer"] {
				t.Fatalf("me = %v", data)
			}
		})
		t.Run("ImportFromStandardInput", func(t *testing.T) {
			code, out := harness.RunCLI(t, harness.TargetEnv(dst), string(first), "import", "-")
			if code != cli.ExitOK || !strings.Contains(out, "30 tickets, 200 messages") {
				t.Fatalf("import - exited %d: %s", code, out)
			}
		})
		t.Run("ErrBadLineExits1WithTheLine", func(t *testing.T) {
			bad := filepath.Join(dir, "bad.jsonl")
			lines := bytes.SplitAfter(first, []byte("\n"))
			lines[2] = []byte(`{"type":"user","id":"nope"}` + "\n")
			os.WriteFile(bad, bytes.Join(lines, nil), 0o600)
			code, out := harness.RunCLI(t, harness.TargetEnv(dbtest.NewTarget(t, tg.Dialect)), "", "import", bad)
			if code != cli.ExitError || !strings.Contains(out, `line 3: user: id "nope" is not a user ID`) || !strings.Contains(out, "0 lines were imported") {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
		t.Run("ErrMissingFile", func(t *testing.T) {
			if code, out := harness.RunCLI(t, harness.TargetEnv(dst), "", "import"); code != cli.ExitUsage || !strings.Contains(out, "usage") {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
		t.Run("DataSubjectExport", func(t *testing.T) {
			code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "export", "--user", logins["customer"])
			if code != cli.ExitOK || !strings.Contains(out, `"email":"`+logins["customer"]+`"`) || strings.Contains(out, logins["admin"]) || strings.Contains(out, `"type":"group"`) {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
	})
}

// TestExportImportAttachmentCommands carries a file a customer attached
// through export and import, and erases it with the customer.
func TestExportImportAttachmentCommands(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		logins := seededLogins(t, tg, "5", "20")
		s := harness.Start(t, tg, nil)
		customer := harness.Login(t, s, logins["customer"], seed.Password)
		content := []byte("%PDF-1.4 the customer's invoice")
		id, url := s.Uploaded(t, customer, "invoice.pdf", content)
		s.Do(t, customer, harness.CreateTicketMutation, map[string]any{"input": map[string]any{
			"subject": "Charged twice", "body": "The invoice is attached", "attachmentIDs": []string{id}}}).OK(t)
		s.Stop()
		s.Wait(10 * time.Second)
		sum := sha256.Sum256(content)
		key := hex.EncodeToString(sum[:])

		t.Run("ErrStandardOutputWithoutFiles", func(t *testing.T) {
			code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "export")
			if code != cli.ExitUsage || !strings.Contains(out, "1 attachments to export") || !strings.Contains(out, "--files DIR") || strings.Contains(out, `"type"`) {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
		dir := t.TempDir()
		file := filepath.Join(dir, "export.jsonl")
		code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "export", "--output", file)
		if code != cli.ExitOK || !strings.Contains(out, "1 attachments (1 files in "+file+".files)") {
			t.Fatalf("export exited %d: %s", code, out)
		}
		if got, err := os.ReadFile(filepath.Join(file+".files", key[:2], key[2:4], key)); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("the exported file: %q, %v", got, err)
		}

		dst := dbtest.NewTarget(t, tg.Dialect)
		code, out = harness.RunCLI(t, harness.TargetEnv(dst), "", "import", file)
		if code != cli.ExitOK || !strings.Contains(out, "1 attachments (1 files stored)") {
			t.Fatalf("import exited %d: %s", code, out)
		}
		t.Run("TheCustomerDownloadsItFromTheNewInstallation", func(t *testing.T) {
			s := harness.Start(t, dst, nil)
			res, body := s.Download(t, harness.Login(t, s, logins["customer"], seed.Password), url, nil)
			if res.StatusCode != 200 || !bytes.Equal(body, content) {
				t.Fatalf("download: %d %q", res.StatusCode, body)
			}
			s.Stop()
			s.Wait(10 * time.Second)
		})
		t.Run("ReImportFromStandardInputStoresNothing", func(t *testing.T) {
			first, _ := os.ReadFile(file)
			code, out := harness.RunCLI(t, harness.TargetEnv(dst), string(first), "import", "-", "--files", file+".files")
			if code != cli.ExitOK || !strings.Contains(out, "1 attachments (0 files stored)") {
				t.Fatalf("import - exited %d: %s", code, out)
			}
		})
		t.Run("ErrTamperedFile", func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "files")
			os.MkdirAll(filepath.Join(bad, key[:2], key[2:4]), 0o700)
			os.WriteFile(filepath.Join(bad, key[:2], key[2:4], key), []byte("%PDF-1.4 the customer's INVOICE"), 0o600)
			code, out := harness.RunCLI(t, harness.TargetEnv(dbtest.NewTarget(t, tg.Dialect)), "", "import", file, "--files", bad)
			if code != cli.ExitError || !strings.Contains(out, "does not match the line: its SHA-256 is") || !strings.Contains(out, "0 lines were imported") {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
		t.Run("EraseDeletesIt", func(t *testing.T) {
			code, out := harness.RunCLI(t, harness.TargetEnv(dst), "", "user", "erase", logins["customer"])
			// Just written by the import: the sweeper deletes the content.
			if code != cli.ExitOK || !strings.Contains(out, "1 attachments deleted (0 files removed from the store)") {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
	})
}

func TestUserErase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		logins := seededLogins(t, tg, "20", "100")
		t.Run("ErrStaffWithoutForce", func(t *testing.T) {
			code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "user", "erase", logins["agent"])
			if code != cli.ExitError || !strings.Contains(out, "--force") {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
		env := harness.TargetEnv(tg)
		env["SWITCHBOARD_LOG_LEVEL"] = "info"
		code, out := harness.RunCLI(t, env, "", "user", "erase", logins["customer"])
		if code != cli.ExitOK || !strings.Contains(out, "erased US") || !strings.Contains(out, `msg="user erased"`) || strings.Contains(out, logins["customer"]) {
			t.Fatalf("exit %d: %s", code, out)
		}
		s := harness.Start(t, tg, nil)
		res := s.Do(t, "", harness.LoginMutation, map[string]any{"email": logins["customer"], "password": seed.Password})
		if len(res.Errors) == 0 {
			t.Fatal("the erased customer can still sign in")
		}
		t.Run("ErrAlreadyErased", func(t *testing.T) {
			if code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "user", "erase", logins["customer"]); code != cli.ExitError || !strings.Contains(out, "no user") {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
		t.Run("ErrUsage", func(t *testing.T) {
			if code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "user", "erase"); code != cli.ExitUsage || !strings.Contains(out, "usage") {
				t.Fatalf("exit %d: %s", code, out)
			}
		})
	})
}
