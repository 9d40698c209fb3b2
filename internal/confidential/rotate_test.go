package confidential_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func TestNextKeyID(t *testing.T) {
	t.Run("NoKeys", func(t *testing.T) {
		if got := confidential.NextKeyID(); got != "k1" {
			t.Fatalf("NextKeyID() = %q, want k1", got)
		}
	})
	t.Run("AfterHighestNumberedKey", func(t *testing.T) {
		got := confidential.NextKeyID(mustKey(t, "k1"), mustKey(t, "k3"), mustKey(t, "custom"))
		if got != "k4" {
			t.Fatalf("NextKeyID(k1, k3, custom) = %q, want k4", got)
		}
	})
	t.Run("OrderDoesNotMatter", func(t *testing.T) {
		got := confidential.NextKeyID(mustKey(t, "k12"), mustKey(t, "k2"))
		if got != "k13" {
			t.Fatalf("NextKeyID(k12, k2) = %q, want k13", got)
		}
	})
	t.Run("OnlyCustomIDs", func(t *testing.T) {
		got := confidential.NextKeyID(mustKey(t, "prod-2024"), mustKey(t, "k1a"))
		if got != "k1" {
			t.Fatalf("NextKeyID(prod-2024, k1a) = %q, want k1", got)
		}
	})
}

func TestRotateKeyFile(t *testing.T) {
	t.Run("NewCurrentKeyOldKeyStillDecrypts", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), confidential.KeyFileName)
		old, _, err := confidential.Load(confidential.Source{KeyFile: path})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		oldValue, err := old.Encrypt(phone, "users.phone")
		if err != nil {
			t.Fatal(err)
		}

		kr, next, err := confidential.RotateKeyFile(path)
		if err != nil {
			t.Fatalf("RotateKeyFile: %v", err)
		}
		if next.ID != "k2" || kr.CurrentID() != "k2" {
			t.Fatalf("rotated to key %q (keyring current %q), want k2", next.ID, kr.CurrentID())
		}
		if got, err := kr.Decrypt(oldValue, "users.phone"); err != nil || got != phone {
			t.Fatalf("old value after rotation = (%q, %v), want %q", got, err, phone)
		}
		newValue, err := kr.Encrypt(phone, "users.phone")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(newValue, "enc:v1:k2:") {
			t.Fatalf("new value %q not sealed with k2", newValue)
		}

		cur, older, created, err := confidential.LoadOrCreateKeyFile(path)
		if err != nil {
			t.Fatalf("reading the rotated key file: %v", err)
		}
		if created {
			t.Fatal("the key file had disappeared")
		}
		if cur.ID != "k2" || string(cur.Secret) != string(next.Secret) {
			t.Fatalf("key file current key %s, want the returned k2", cur)
		}
		if len(older) != 1 || older[0].ID != "k1" {
			t.Fatalf("key file older keys %v, want [k1]", older)
		}
		fromFile := mustKeyring(t, cur, older...)
		for _, v := range []string{oldValue, newValue} {
			if got, err := fromFile.Decrypt(v, "users.phone"); err != nil || got != phone {
				t.Fatalf("keyring from the file opening %.12s… = (%q, %v), want %q", v, got, err, phone)
			}
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm != 0o600 {
			t.Fatalf("rotated key file mode %#o, want 0600", perm)
		}
	})

	t.Run("TwiceKeepsAllKeys", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), confidential.KeyFileName)
		if _, _, err := confidential.Load(confidential.Source{KeyFile: path}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := confidential.RotateKeyFile(path); err != nil {
			t.Fatal(err)
		}
		kr, next, err := confidential.RotateKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if next.ID != "k3" {
			t.Fatalf("second rotation key %q, want k3", next.ID)
		}
		cur, older, _, err := confidential.LoadOrCreateKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{cur.ID}
		for _, k := range older {
			ids = append(ids, k.ID)
		}
		if got := strings.Join(ids, ","); got != "k3,k2,k1" {
			t.Fatalf("key file ids %s, want k3,k2,k1", got)
		}
		if kr.String() != mustKeyring(t, cur, older...).String() {
			t.Fatalf("returned keyring %v differs from the file's", kr)
		}
	})

	t.Run("AfterCustomKeyID", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), confidential.KeyFileName)
		if err := confidential.WriteKeyFile(path, mustKey(t, "prod"), mustKey(t, "k7")); err != nil {
			t.Fatal(err)
		}
		_, next, err := confidential.RotateKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if next.ID != "k8" {
			t.Fatalf("rotation after keys prod,k7 made %q, want k8", next.ID)
		}
	})

	t.Run("UnreadableFileChangesNothing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), confidential.KeyFileName)
		if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := confidential.RotateKeyFile(path); err == nil {
			t.Fatal("RotateKeyFile on a corrupt key file succeeded")
		}
		data, err := os.ReadFile(path)
		if err != nil || string(data) != "garbage\n" {
			t.Fatalf("corrupt key file was rewritten: %q, %v", data, err)
		}
	})
}

// rawPhones returns the stored phone column of every user, NULL as "<null>".
func rawPhones(t *testing.T, tg dbtest.Target) []string {
	t.Helper()
	driver, dsn := "sqlite", tg.SQLitePath()
	if tg.Dialect == dbtest.Postgres {
		driver, dsn = "pgx", tg.DatabaseURL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("opening %s: %v", tg, err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT phone FROM users ORDER BY id")
	if err != nil {
		t.Fatalf("reading raw phones: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p sql.NullString
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		if p.Valid {
			out = append(out, p.String)
		} else {
			out = append(out, "<null>")
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func setRawPhone(t *testing.T, tg dbtest.Target, id, value string) {
	t.Helper()
	driver, dsn, q := "sqlite", tg.SQLitePath(), "UPDATE users SET phone = ? WHERE id = ?"
	if tg.Dialect == dbtest.Postgres {
		driver, dsn, q = "pgx", tg.DatabaseURL, "UPDATE users SET phone = $1 WHERE id = $2"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q, value, id); err != nil {
		t.Fatalf("writing raw phone: %v", err)
	}
}

func createUser(t *testing.T, client *ent.Client, email, phone string, setPhone bool) *ent.User {
	t.Helper()
	c := client.User.Create().SetEmail(email).SetName("User " + email)
	if setPhone {
		c.SetPhone(phone)
	}
	u, err := c.Save(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("creating user %s: %v", email, err)
	}
	return u
}

func phonesByEmail(t *testing.T, client *ent.Client) map[string]string {
	t.Helper()
	users, err := client.User.Query().Order(ent.Asc(user.FieldEmail)).All(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("reading users: %v", err)
	}
	out := make(map[string]string, len(users))
	for _, u := range users {
		out[u.Email] = u.Phone
	}
	return out
}

func TestReencrypt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		ctx := context.Background()
		client := tg.Open(t) // seals with k1, tg.EncryptionKey
		k1, err := confidential.ParseKey(tg.EncryptionKey)
		if err != nil {
			t.Fatal(err)
		}

		want := map[string]string{
			"ada@example.com":   "+1 555 01",
			"brian@example.com": "+44 20 7946 0958",
			"cleo@example.com":  "",
		}
		createUser(t, client, "ada@example.com", want["ada@example.com"], true)
		createUser(t, client, "brian@example.com", want["brian@example.com"], true)
		createUser(t, client, "cleo@example.com", "", false)

		before := rawPhones(t, tg)
		encrypted := 0
		for _, p := range before {
			if strings.HasPrefix(p, "enc:v1:k1:") {
				encrypted++
			}
		}
		if encrypted != 2 {
			t.Fatalf("stored phones before rotation %q, want 2 sealed with k1", before)
		}

		// Rotation: a client given the new keyring re-encrypts.
		k2 := mustKey(t, "k2")
		rotated := tg.OpenWith(t, mustKeyring(t, k2, k1))
		n, err := confidential.Reencrypt(ctx, rotated)
		if err != nil {
			t.Fatalf("Reencrypt: %v", err)
		}
		if n != 2 {
			t.Fatalf("Reencrypt = %d, want 2", n)
		}

		after := rawPhones(t, tg)
		sealed := 0
		for _, p := range after {
			switch {
			case p == "<null>" || p == "":
			case strings.HasPrefix(p, "enc:v1:k2:"):
				sealed++
			default:
				t.Fatalf("stored phone %q after Reencrypt, want enc:v1:k2:…", p)
			}
			for _, plain := range want {
				if plain != "" && strings.Contains(p, plain) {
					t.Fatalf("stored phone %q reveals %q", p, plain)
				}
			}
		}
		if sealed != 2 {
			t.Fatalf("stored phones after Reencrypt %q, want 2 sealed with k2", after)
		}

		if got := phonesByEmail(t, rotated); !equal(got, want) {
			t.Fatalf("phones through ent after Reencrypt = %q, want %q", got, want)
		}

		// The first client still holds only k1, which no longer opens them:
		// the rotation did not reach into it.
		if _, err := client.User.Query().All(viewer.SystemContext(ctx)); !errors.Is(err, confidential.ErrUnknownKey) {
			t.Fatalf("reading k2 values with a k1 client: err = %v, want ErrUnknownKey", err)
		}

		// The old key is no longer needed.
		onlyK2 := tg.OpenWith(t, mustKeyring(t, k2))
		if got := phonesByEmail(t, onlyK2); !equal(got, want) {
			t.Fatalf("phones with only k2 = %q, want %q", got, want)
		}

		// Running it again is harmless and still counts the values.
		n, err = confidential.Reencrypt(ctx, onlyK2)
		if err != nil || n != 2 {
			t.Fatalf("second Reencrypt = (%d, %v), want (2, nil)", n, err)
		}
		if got := phonesByEmail(t, onlyK2); !equal(got, want) {
			t.Fatalf("phones after a second Reencrypt = %q, want %q", got, want)
		}
	})
}

func TestReencryptLegacyPlaintext(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		u := createUser(t, client, "old@example.com", "+1 555 02", true)
		// Written before encryption existed.
		setRawPhone(t, tg, string(u.ID), "+1 555 02")

		n, err := confidential.Reencrypt(context.Background(), client)
		if err != nil || n != 1 {
			t.Fatalf("Reencrypt = (%d, %v), want (1, nil)", n, err)
		}
		raw := rawPhones(t, tg)
		if len(raw) != 1 || !strings.HasPrefix(raw[0], "enc:v1:k1:") {
			t.Fatalf("stored phone after Reencrypt %q, want it sealed with k1", raw)
		}
		if got := phonesByEmail(t, client)["old@example.com"]; got != "+1 555 02" {
			t.Fatalf("phone after Reencrypt = %q, want +1 555 02", got)
		}
	})
}

func TestReencryptEmptyPhone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		k1, err := confidential.ParseKey(tg.EncryptionKey)
		if err != nil {
			t.Fatal(err)
		}
		createUser(t, client, "a@example.com", "+1 555 03", true)
		createUser(t, client, "b@example.com", "", true) // stored as "", not NULL
		if raw := rawPhones(t, tg); len(raw) != 2 || (raw[0] != "" && raw[1] != "") {
			t.Fatalf("stored phones %q, want one empty string", raw)
		}

		rotated := tg.OpenWith(t, mustKeyring(t, mustKey(t, "k2"), k1))
		n, err := confidential.Reencrypt(context.Background(), rotated)
		if err != nil {
			t.Fatalf("Reencrypt: %v", err)
		}

		t.Run("EmptyPhoneStaysEmpty", func(t *testing.T) {
			raw := rawPhones(t, tg)
			empty, sealed := 0, 0
			for _, p := range raw {
				switch {
				case p == "":
					empty++
				case strings.HasPrefix(p, "enc:v1:k2:"):
					sealed++
				}
			}
			if empty != 1 || sealed != 1 {
				t.Fatalf("stored phones after Reencrypt %q, want one empty and one sealed with k2", raw)
			}
			want := map[string]string{"a@example.com": "+1 555 03", "b@example.com": ""}
			if got := phonesByEmail(t, rotated); !equal(got, want) {
				t.Fatalf("phones after Reencrypt = %q, want %q", got, want)
			}
		})

		t.Run("CountsOnlyRewrittenValues", func(t *testing.T) {
			if n != 1 {
				t.Fatalf("Reencrypt = %d, want 1: it counts users whose phone is \"\" (selected by PhoneNotNil, skipped by the loop) as rewritten", n)
			}
		})
	})
}

func TestReencryptUnknownKeyFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		client := tg.Open(t)
		createUser(t, client, "a@example.com", "+1 555 04", true)
		// A keyring that lacks k1 cannot read, so must not rewrite.
		n, err := confidential.Reencrypt(context.Background(), tg.OpenWith(t, mustKeyring(t, mustKey(t, "k2"))))
		if err == nil {
			t.Fatalf("Reencrypt without the old key succeeded with %d", n)
		}
		if n != 0 {
			t.Fatalf("Reencrypt reported %d rewritten alongside error %v", n, err)
		}
		raw := rawPhones(t, tg)
		if len(raw) != 1 || !strings.HasPrefix(raw[0], "enc:v1:k1:") {
			t.Fatalf("stored phone %q changed by a failed Reencrypt", raw)
		}
	})
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
