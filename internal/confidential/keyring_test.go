package confidential_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/internal/confidential"
)

func mustKey(t *testing.T, id string) confidential.Key {
	t.Helper()
	k, err := confidential.GenerateKey(id)
	if err != nil {
		t.Fatalf("GenerateKey(%q): %v", id, err)
	}
	return k
}

func mustKeyring(t *testing.T, current confidential.Key, older ...confidential.Key) *confidential.Keyring {
	t.Helper()
	kr, err := confidential.NewKeyring(current, older...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

func mustEncrypt(t *testing.T, kr *confidential.Keyring, plaintext, ad string) string {
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
		if !errors.Is(err, confidential.ErrDecrypt) {
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
			if _, err := kr.Decrypt(tampered, "users.phone"); !errors.Is(err, confidential.ErrDecrypt) {
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
			if _, err := kr.Decrypt(bad, "users.phone"); !errors.Is(err, confidential.ErrDecrypt) {
				t.Fatalf("Decrypt(%q): err = %v, want ErrDecrypt", bad, err)
			}
		}
	})

	t.Run("relabelled key id does not open", func(t *testing.T) {
		k2 := mustKey(t, "k2")
		both := mustKeyring(t, k1, k2)
		v := mustEncrypt(t, both, phone, "users.phone")
		relabelled := "enc:v1:k2:" + strings.TrimPrefix(v, "enc:v1:k1:")
		if _, err := both.Decrypt(relabelled, "users.phone"); !errors.Is(err, confidential.ErrDecrypt) {
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
		if !errors.Is(err, confidential.ErrNotEncrypted) {
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
		if !errors.Is(err, confidential.ErrUnknownKey) {
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
		if _, err := old.Decrypt(v, "users.phone"); !errors.Is(err, confidential.ErrUnknownKey) {
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
		if _, err := confidential.NewKeyring(k1, mustKey(t, "k2"), dup); err == nil {
			t.Fatal("NewKeyring with duplicate id k1 succeeded")
		}
	})

	t.Run("wrong secret length is rejected", func(t *testing.T) {
		short := confidential.Key{ID: "k2", Secret: make([]byte, 16)}
		_, err := confidential.NewKeyring(k1, short)
		if err == nil || !strings.Contains(err.Error(), "32 bytes") {
			t.Fatalf("err = %v, want a 32 bytes error", err)
		}
	})

	t.Run("invalid ids are rejected", func(t *testing.T) {
		for _, id := range []string{"", "K1", "k:1", "k_1", "k1 ", strings.Repeat("a", 33)} {
			if _, err := confidential.NewKeyring(confidential.Key{ID: id, Secret: k1.Secret}); err == nil {
				t.Fatalf("NewKeyring accepted id %q", id)
			}
		}
		if _, err := confidential.NewKeyring(confidential.Key{ID: strings.Repeat("a-9", 10), Secret: k1.Secret}); err != nil {
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
