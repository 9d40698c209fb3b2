package confidential_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/confidential"
)

func TestKeyFile(t *testing.T) {
	t.Run("creates a 0600 file and returns the same key on second call", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "secrets", "encryption.key")
		cur, older, created, err := confidential.LoadOrCreateKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !created || cur.ID != "k1" || len(cur.Secret) != 32 || len(older) != 0 {
			t.Fatalf("first call: created=%v id=%q len=%d older=%d", created, cur.ID, len(cur.Secret), len(older))
		}
		if runtime.GOOS != "windows" {
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm != 0o600 {
				t.Fatalf("key file mode = %#o, want 0600", perm)
			}
			dinfo, err := os.Stat(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if perm := dinfo.Mode().Perm(); perm&0o077 != 0 {
				t.Fatalf("created directory mode = %#o, want no group/other access", perm)
			}
		}
		cur2, older2, created2, err := confidential.LoadOrCreateKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if created2 || cur2.ID != cur.ID || string(cur2.Secret) != string(cur.Secret) || len(older2) != 0 {
			t.Fatalf("second call: created=%v id=%q same secret=%v", created2, cur2.ID, string(cur2.Secret) == string(cur.Secret))
		}
		entries, err := os.ReadDir(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("directory holds %d entries, want only the key file (temp files left behind?)", len(entries))
		}
	})

	t.Run("refuses a 0644 key file", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no Unix permissions")
		}
		path := filepath.Join(t.TempDir(), "encryption.key")
		if err := os.WriteFile(path, []byte(mustKey(t, "k1").Encode()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil { // umask-proof
			t.Fatal(err)
		}
		_, _, _, err := confidential.LoadOrCreateKeyFile(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("err = %v, want a chmod 600 hint", err)
		}
	})

	t.Run("WriteKeyFile then LoadOrCreateKeyFile returns current and older", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "encryption.key")
		k1, k2 := mustKey(t, "k1"), mustKey(t, "k2")
		if err := confidential.WriteKeyFile(path, k1); err != nil {
			t.Fatal(err)
		}
		if err := confidential.WriteKeyFile(path, k2, k1); err != nil { // rotation replaces the file
			t.Fatal(err)
		}
		cur, older, created, err := confidential.LoadOrCreateKeyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if created {
			t.Fatal("created = true for an existing file")
		}
		if cur.ID != "k2" || string(cur.Secret) != string(k2.Secret) ||
			len(older) != 1 || older[0].ID != "k1" || string(older[0].Secret) != string(k1.Secret) {
			t.Fatalf("got current %q older %v, want k2 [k1]", cur.ID, ids(older))
		}
		if runtime.GOOS != "windows" {
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm != 0o600 {
				t.Fatalf("key file mode = %#o, want 0600", perm)
			}
		}
	})

	t.Run("WriteKeyFile rejects duplicate ids and leaves the file alone", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "encryption.key")
		k1 := mustKey(t, "k1")
		if err := confidential.WriteKeyFile(path, k1); err != nil {
			t.Fatal(err)
		}
		if err := confidential.WriteKeyFile(path, mustKey(t, "k1"), k1); err == nil {
			t.Fatal("WriteKeyFile accepted duplicate ids")
		}
		cur, _, _, err := confidential.LoadOrCreateKeyFile(path)
		if err != nil || string(cur.Secret) != string(k1.Secret) {
			t.Fatalf("key file changed after rejected write: %v", err)
		}
	})

	t.Run("malformed key file is an error, not replaced", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "encryption.key")
		if err := os.WriteFile(path, []byte("k1:tooshort\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := confidential.LoadOrCreateKeyFile(path); err == nil {
			t.Fatal("malformed key file accepted")
		}
		data, _ := os.ReadFile(path)
		if string(data) != "k1:tooshort\n" {
			t.Fatalf("malformed key file was overwritten: %q", data)
		}
	})
}
