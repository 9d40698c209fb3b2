package crypto_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/internal/crypto"
)

func mustKey(t *testing.T, id string) crypto.Key {
	t.Helper()
	k, err := crypto.GenerateKey(id)
	if err != nil {
		t.Fatalf("GenerateKey(%q): %v", id, err)
	}
	return k
}

func mustKeyring(t *testing.T, current crypto.Key, older ...crypto.Key) *crypto.Keyring {
	t.Helper()
	kr, err := crypto.NewKeyring(current, older...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

func mustEncrypt(t *testing.T, kr *crypto.Keyring, plaintext, ad string) string {
	t.Helper()
	v, err := kr.Encrypt(plaintext, ad)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return v
}

const phone = "+1 555 0100 4242"

func TestKeyring(t *testing.T) {
	k1 := mustKey(t, "k1")
	kr := mustKeyring(t, k1)

	t.Run("round trip returns the plaintext", func(t *testing.T) {
		v := mustEncrypt(t, kr, phone, "users.phone")
		if !strings.HasPrefix(v, "enc:v1:k1:") {
			t.Fatalf("ciphertext %q lacks prefix enc:v1:k1:", v)
		}
		payload := strings.TrimPrefix(v, "enc:v1:k1:")
		if _, err := base64.RawURLEncoding.DecodeString(payload); err != nil {
			t.Fatalf("payload is not raw base64url: %v", err)
		}
		got, err := kr.Decrypt(v, "users.phone")
		if err != nil {
			t.Fatalf("Decrypt: %v", err)
		}
		if got != phone {
			t.Fatalf("Decrypt = %q, want %q", got, phone)
		}
	})

	t.Run("ciphertext differs each time and hides the plaintext", func(t *testing.T) {
		a := mustEncrypt(t, kr, phone, "users.phone")
		b := mustEncrypt(t, kr, phone, "users.phone")
		if a == b {
			t.Fatalf("two encryptions of the same value are identical: %q", a)
		}
		for _, v := range []string{a, b} {
			if strings.Contains(v, phone) || strings.Contains(v, "5550100") {
				t.Fatalf("ciphertext %q contains the plaintext", v)
			}
		}
	})

	t.Run("wrong associated data fails with ErrDecrypt", func(t *testing.T) {
		v := mustEncrypt(t, kr, phone, "users.phone")
		got, err := kr.Decrypt(v, "tickets.phone")
		if !errors.Is(err, crypto.ErrDecrypt) {
			t.Fatalf("Decrypt with wrong AD: got (%q, %v), want ErrDecrypt", got, err)
		}
		if got != "" {
			t.Fatalf("Decrypt with wrong AD returned plaintext %q", got)
		}
	})

	t.Run("tampered ciphertext fails with ErrDecrypt", func(t *testing.T) {
		v := mustEncrypt(t, kr, phone, "users.phone")
		prefix := "enc:v1:k1:"
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(v, prefix))
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, len(raw) / 2, len(raw) - 1} { // nonce, body, tag
			bad := append([]byte(nil), raw...)
			bad[i] ^= 0x01
			tampered := prefix + base64.RawURLEncoding.EncodeToString(bad)
			if _, err := kr.Decrypt(tampered, "users.phone"); !errors.Is(err, crypto.ErrDecrypt) {
				t.Fatalf("flipping byte %d: err = %v, want ErrDecrypt", i, err)
			}
		}
		for _, bad := range []string{
			prefix + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), // truncated
			prefix + "!!not-base64!!",
			prefix,
			"enc:v1:k1",
			"enc:v1:",
			"enc:v1:K1:" + base64.RawURLEncoding.EncodeToString(raw),
		} {
			if _, err := kr.Decrypt(bad, "users.phone"); !errors.Is(err, crypto.ErrDecrypt) {
				t.Fatalf("Decrypt(%q): err = %v, want ErrDecrypt", bad, err)
			}
		}
	})

	t.Run("relabelled key id does not open", func(t *testing.T) {
		k2 := mustKey(t, "k2")
		both := mustKeyring(t, k1, k2)
		v := mustEncrypt(t, both, phone, "users.phone")
		relabelled := "enc:v1:k2:" + strings.TrimPrefix(v, "enc:v1:k1:")
		if _, err := both.Decrypt(relabelled, "users.phone"); !errors.Is(err, crypto.ErrDecrypt) {
			t.Fatalf("err = %v, want ErrDecrypt", err)
		}
	})

	t.Run("empty string round trips to empty", func(t *testing.T) {
		v := mustEncrypt(t, kr, "", "users.phone")
		if v != "" {
			t.Fatalf("Encrypt(\"\") = %q, want \"\"", v)
		}
		got, err := kr.Decrypt("", "users.phone")
		if err != nil || got != "" {
			t.Fatalf("Decrypt(\"\") = (%q, %v), want (\"\", nil)", got, err)
		}
		if kr.NeedsRotation("") {
			t.Fatal("NeedsRotation(\"\") = true, want false")
		}
	})

	t.Run("plaintext value fails with ErrNotEncrypted", func(t *testing.T) {
		got, err := kr.Decrypt(phone, "users.phone")
		if !errors.Is(err, crypto.ErrNotEncrypted) {
			t.Fatalf("Decrypt(plaintext) = (%q, %v), want ErrNotEncrypted", got, err)
		}
		if !kr.NeedsRotation(phone) {
			t.Fatal("NeedsRotation(plaintext) = false, want true")
		}
	})

	t.Run("unknown key id fails with ErrUnknownKey naming the id", func(t *testing.T) {
		other := mustKeyring(t, mustKey(t, "other-7"))
		v := mustEncrypt(t, other, phone, "users.phone")
		_, err := kr.Decrypt(v, "users.phone")
		if !errors.Is(err, crypto.ErrUnknownKey) {
			t.Fatalf("err = %v, want ErrUnknownKey", err)
		}
		if !strings.Contains(err.Error(), "other-7") {
			t.Fatalf("error %q does not name the key id", err)
		}
	})

	t.Run("String does not reveal secrets", func(t *testing.T) {
		s := kr.String()
		if !strings.Contains(s, "k1") || strings.Contains(s, k1.Encode()[3:]) {
			t.Fatalf("Keyring.Encode() = %q", s)
		}
	})
}

func TestRotation(t *testing.T) {
	k1 := mustKey(t, "k1")
	k2 := mustKey(t, "k2")
	old := mustKeyring(t, k1)
	oldValue := mustEncrypt(t, old, phone, "users.phone")
	rotated := mustKeyring(t, k2, k1)

	t.Run("current id is the new key", func(t *testing.T) {
		if got := rotated.CurrentID(); got != "k2" {
			t.Fatalf("CurrentID = %q, want k2", got)
		}
	})

	t.Run("old key still decrypts after rotation", func(t *testing.T) {
		got, err := rotated.Decrypt(oldValue, "users.phone")
		if err != nil || got != phone {
			t.Fatalf("Decrypt(old value) = (%q, %v), want %q", got, err, phone)
		}
	})

	t.Run("new values are sealed with the current key", func(t *testing.T) {
		v := mustEncrypt(t, rotated, phone, "users.phone")
		if !strings.HasPrefix(v, "enc:v1:k2:") {
			t.Fatalf("new value %q not sealed with k2", v)
		}
		if _, err := old.Decrypt(v, "users.phone"); !errors.Is(err, crypto.ErrUnknownKey) {
			t.Fatalf("old keyring opening k2 value: err = %v, want ErrUnknownKey", err)
		}
	})

	t.Run("NeedsRotation is true for old key and false for current", func(t *testing.T) {
		if !rotated.NeedsRotation(oldValue) {
			t.Fatal("NeedsRotation(k1 value) = false, want true")
		}
		v := mustEncrypt(t, rotated, phone, "users.phone")
		if rotated.NeedsRotation(v) {
			t.Fatal("NeedsRotation(k2 value) = true, want false")
		}
	})

	t.Run("concurrent use is safe", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					v, err := rotated.Encrypt(phone, "users.phone")
					if err == nil {
						var got string
						got, err = rotated.Decrypt(v, "users.phone")
						if err == nil && got != phone {
							err = errors.New("mismatch: " + got)
						}
					}
					if err == nil {
						_, err = rotated.Decrypt(oldValue, "users.phone")
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

func TestNewKeyring(t *testing.T) {
	k1 := mustKey(t, "k1")

	t.Run("duplicate ids are rejected", func(t *testing.T) {
		dup := mustKey(t, "k1")
		if _, err := crypto.NewKeyring(k1, mustKey(t, "k2"), dup); err == nil {
			t.Fatal("NewKeyring with duplicate id k1 succeeded")
		}
	})

	t.Run("wrong secret length is rejected", func(t *testing.T) {
		short := crypto.Key{ID: "k2", Secret: make([]byte, 16)}
		_, err := crypto.NewKeyring(k1, short)
		if err == nil || !strings.Contains(err.Error(), "32 bytes") {
			t.Fatalf("err = %v, want a 32 bytes error", err)
		}
	})

	t.Run("invalid ids are rejected", func(t *testing.T) {
		for _, id := range []string{"", "K1", "k:1", "k_1", "k1 ", strings.Repeat("a", 33)} {
			if _, err := crypto.NewKeyring(crypto.Key{ID: id, Secret: k1.Secret}); err == nil {
				t.Fatalf("NewKeyring accepted id %q", id)
			}
		}
		if _, err := crypto.NewKeyring(crypto.Key{ID: strings.Repeat("a-9", 10), Secret: k1.Secret}); err != nil {
			t.Fatalf("NewKeyring rejected valid id: %v", err)
		}
	})

	t.Run("secret is copied from caller", func(t *testing.T) {
		k := mustKey(t, "k1")
		kr := mustKeyring(t, k)
		v := mustEncrypt(t, kr, phone, "ad")
		for i := range k.Secret {
			k.Secret[i] = 0
		}
		if got, err := kr.Decrypt(v, "ad"); err != nil || got != phone {
			t.Fatalf("after zeroing caller's secret: (%q, %v)", got, err)
		}
	})
}

func TestParseKey(t *testing.T) {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(250 - i) // produces '+', '/', '-', '_' in encodings
	}
	encodings := map[string]string{
		"std":        base64.StdEncoding.EncodeToString(secret),
		"raw std":    base64.RawStdEncoding.EncodeToString(secret),
		"url":        base64.URLEncoding.EncodeToString(secret),
		"raw url":    base64.RawURLEncoding.EncodeToString(secret),
		"whitespace": "  " + base64.StdEncoding.EncodeToString(secret) + "\n",
	}

	t.Run("accepts bare base64 with id k1", func(t *testing.T) {
		for name, enc := range encodings {
			k, err := crypto.ParseKey(enc)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if k.ID != "k1" || string(k.Secret) != string(secret) {
				t.Fatalf("%s: got id %q, secret mismatch=%v", name, k.ID, string(k.Secret) != string(secret))
			}
		}
	})

	t.Run("accepts id:base64", func(t *testing.T) {
		for name, enc := range encodings {
			k, err := crypto.ParseKey("prod-2024:" + enc)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if k.ID != "prod-2024" || string(k.Secret) != string(secret) {
				t.Fatalf("%s: got id %q", name, k.ID)
			}
		}
	})

	t.Run("String output parses back", func(t *testing.T) {
		k := mustKey(t, "k9")
		got, err := crypto.ParseKey(k.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != k.ID || string(got.Secret) != string(k.Secret) {
			t.Fatal("ParseKey(k.Encode()) differs from k")
		}
	})

	t.Run("rejects 16-byte key without revealing it", func(t *testing.T) {
		short := base64.StdEncoding.EncodeToString(secret[:16])
		for _, in := range []string{short, "k1:" + short} {
			_, err := crypto.ParseKey(in)
			if err == nil {
				t.Fatalf("ParseKey accepted a 16-byte key")
			}
			msg := err.Error()
			if !strings.Contains(msg, "32 bytes") || !strings.Contains(msg, "got 16") {
				t.Fatalf("error %q does not explain the length", msg)
			}
			if strings.Contains(msg, short) || strings.Contains(msg, strings.TrimRight(short, "=")) {
				t.Fatalf("error %q contains the secret", msg)
			}
		}
	})

	t.Run("rejects bad base64 and bad ids without revealing the secret", func(t *testing.T) {
		good := base64.RawURLEncoding.EncodeToString(secret)
		cases := map[string]string{
			"bad base64":       "k1:" + good[:20] + "*" + good[21:],
			"mixed alphabets":  "k1:" + "+" + good[1:20] + "-" + good[21:],
			"bad id":           "Bad_ID:" + good,
			"secret in id pos": good + ":k1",
			"empty":            "   ",
			"empty secret":     "k1:",
			"too much padding": "k1:" + base64.StdEncoding.EncodeToString(secret) + "==",
		}
		for name, in := range cases {
			_, err := crypto.ParseKey(in)
			if err == nil {
				t.Fatalf("%s: ParseKey(%q) succeeded", name, in)
			}
			if strings.Contains(err.Error(), good[:20]) {
				t.Fatalf("%s: error %q contains the secret", name, err)
			}
		}
	})

	t.Run("GenerateKey makes distinct 32-byte keys", func(t *testing.T) {
		a, b := mustKey(t, "k1"), mustKey(t, "k1")
		if len(a.Secret) != 32 || string(a.Secret) == string(b.Secret) {
			t.Fatal("GenerateKey secrets not 32 random bytes")
		}
		if _, err := crypto.GenerateKey("Bad ID"); err == nil {
			t.Fatal("GenerateKey accepted invalid id")
		}
	})
}

func TestParseKeys(t *testing.T) {
	k1, k2, k3 := mustKey(t, "k1"), mustKey(t, "k2"), mustKey(t, "k3")

	t.Run("first key is current and order is kept", func(t *testing.T) {
		cur, older, err := crypto.ParseKeys(k3.Encode() + ", " + k2.Encode() + ",\n" + k1.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if cur.ID != "k3" || string(cur.Secret) != string(k3.Secret) {
			t.Fatalf("current = %q, want k3", cur.ID)
		}
		if len(older) != 2 || older[0].ID != "k2" || older[1].ID != "k1" ||
			string(older[0].Secret) != string(k2.Secret) || string(older[1].Secret) != string(k1.Secret) {
			t.Fatalf("older = %v ids, want [k2 k1]", ids(older))
		}
	})

	t.Run("single key has no older keys", func(t *testing.T) {
		cur, older, err := crypto.ParseKeys(k1.Encode())
		if err != nil || cur.ID != "k1" || len(older) != 0 {
			t.Fatalf("got (%q, %v, %v)", cur.ID, ids(older), err)
		}
	})

	t.Run("rejects empty list, duplicates and bad entries", func(t *testing.T) {
		for _, in := range []string{"", " , ", k1.Encode() + "," + k1.Encode(), k2.Encode() + ",k1:short"} {
			if _, _, err := crypto.ParseKeys(in); err == nil {
				t.Fatalf("ParseKeys accepted %q", in)
			}
		}
	})
}

func ids(keys []crypto.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID
	}
	return out
}

func TestKeyFile(t *testing.T) {
	t.Run("creates a 0600 file and returns the same key on second call", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "secrets", "encryption.key")
		cur, older, created, err := crypto.LoadOrCreateKeyFile(path)
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
		cur2, older2, created2, err := crypto.LoadOrCreateKeyFile(path)
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
		_, _, _, err := crypto.LoadOrCreateKeyFile(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("err = %v, want a chmod 600 hint", err)
		}
	})

	t.Run("WriteKeyFile then LoadOrCreateKeyFile returns current and older", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "encryption.key")
		k1, k2 := mustKey(t, "k1"), mustKey(t, "k2")
		if err := crypto.WriteKeyFile(path, k1); err != nil {
			t.Fatal(err)
		}
		if err := crypto.WriteKeyFile(path, k2, k1); err != nil { // rotation replaces the file
			t.Fatal(err)
		}
		cur, older, created, err := crypto.LoadOrCreateKeyFile(path)
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
		if err := crypto.WriteKeyFile(path, k1); err != nil {
			t.Fatal(err)
		}
		if err := crypto.WriteKeyFile(path, mustKey(t, "k1"), k1); err == nil {
			t.Fatal("WriteKeyFile accepted duplicate ids")
		}
		cur, _, _, err := crypto.LoadOrCreateKeyFile(path)
		if err != nil || string(cur.Secret) != string(k1.Secret) {
			t.Fatalf("key file changed after rejected write: %v", err)
		}
	})

	t.Run("malformed key file is an error, not replaced", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "encryption.key")
		if err := os.WriteFile(path, []byte("k1:tooshort\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := crypto.LoadOrCreateKeyFile(path); err == nil {
			t.Fatal("malformed key file accepted")
		}
		data, _ := os.ReadFile(path)
		if string(data) != "k1:tooshort\n" {
			t.Fatalf("malformed key file was overwritten: %q", data)
		}
	})
}
