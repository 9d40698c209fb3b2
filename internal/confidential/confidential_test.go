package confidential_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"entgo.io/ent/schema/field"

	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/crypto"
)

// The keyring is a process-global, so these tests never run in parallel;
// each one installs its own keyring and restores the previous one.

const phone = "+1 555 0100 4242"

// useKeyring installs k for the rest of the test and restores the keyring
// that was installed before when the test ends.
func useKeyring(t *testing.T, k *crypto.Keyring) {
	t.Helper()
	prev := confidential.Keyring()
	confidential.Use(k)
	t.Cleanup(func() { confidential.Use(prev) })
}

func newKeyring(t *testing.T, ids ...string) *crypto.Keyring {
	t.Helper()
	keys := make([]crypto.Key, len(ids))
	for i, id := range ids {
		k, err := crypto.GenerateKey(id)
		if err != nil {
			t.Fatalf("GenerateKey(%q): %v", id, err)
		}
		keys[i] = k
	}
	k, err := crypto.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

// value runs the write side of the scanner and returns the stored string.
func value(t *testing.T, vs field.TypeValueScanner[string], s string) string {
	t.Helper()
	v, err := vs.Value(s)
	if err != nil {
		t.Fatalf("Value(%q): %v", s, err)
	}
	str, ok := v.(string)
	if !ok {
		t.Fatalf("Value(%q) = %#v (%T), want a string", s, v, v)
	}
	return str
}

// scan runs the read side of the scanner as ent does: Scan the database
// value into ScanValue(), then FromValue.
func scan(t *testing.T, vs field.TypeValueScanner[string], src any) (string, error) {
	t.Helper()
	sv := vs.ScanValue()
	if err := sv.Scan(src); err != nil {
		t.Fatalf("Scan(%#v): %v", src, err)
	}
	return vs.FromValue(sv)
}

func TestString(t *testing.T) {
	vs := confidential.String("users.phone")

	t.Run("RoundTrip", func(t *testing.T) {
		useKeyring(t, newKeyring(t, "k1"))
		stored := value(t, vs, phone)
		got, err := scan(t, vs, stored)
		if err != nil {
			t.Fatalf("scanning %q: %v", stored, err)
		}
		if got != phone {
			t.Fatalf("round trip = %q, want %q", got, phone)
		}
		// Drivers may hand back text columns as []byte.
		got, err = scan(t, vs, []byte(stored))
		if err != nil || got != phone {
			t.Fatalf("round trip from []byte = (%q, %v), want %q", got, err, phone)
		}
	})

	t.Run("StoredValueIsCiphertext", func(t *testing.T) {
		useKeyring(t, newKeyring(t, "k1"))
		stored := value(t, vs, phone)
		if stored == phone || strings.Contains(stored, phone) || strings.Contains(stored, "0100") {
			t.Fatalf("stored value %q reveals the plaintext", stored)
		}
		if !strings.HasPrefix(stored, "enc:v1:k1:") {
			t.Fatalf("stored value %q lacks prefix enc:v1:k1:", stored)
		}
		if again := value(t, vs, phone); again == stored {
			t.Fatalf("two writes of the same value stored the same ciphertext %q", stored)
		}
	})

	t.Run("EmptyStaysEmpty", func(t *testing.T) {
		useKeyring(t, newKeyring(t, "k1"))
		if stored := value(t, vs, ""); stored != "" {
			t.Fatalf("Value(\"\") = %q, want \"\"", stored)
		}
		got, err := scan(t, vs, "")
		if err != nil || got != "" {
			t.Fatalf("scanning \"\" = (%q, %v), want (\"\", nil)", got, err)
		}
	})

	t.Run("NullScansToEmpty", func(t *testing.T) {
		useKeyring(t, newKeyring(t, "k1"))
		got, err := scan(t, vs, nil)
		if err != nil || got != "" {
			t.Fatalf("scanning NULL = (%q, %v), want (\"\", nil)", got, err)
		}
	})

	t.Run("LegacyPlaintextScansAsItself", func(t *testing.T) {
		useKeyring(t, newKeyring(t, "k1"))
		got, err := scan(t, vs, phone)
		if err != nil || got != phone {
			t.Fatalf("scanning legacy plaintext = (%q, %v), want %q", got, err, phone)
		}
	})

	t.Run("OlderKeyStillScans", func(t *testing.T) {
		k1, err := crypto.GenerateKey("k1")
		if err != nil {
			t.Fatal(err)
		}
		k2, err := crypto.GenerateKey("k2")
		if err != nil {
			t.Fatal(err)
		}
		old, err := crypto.NewKeyring(k1)
		if err != nil {
			t.Fatal(err)
		}
		rotated, err := crypto.NewKeyring(k2, k1)
		if err != nil {
			t.Fatal(err)
		}
		useKeyring(t, old)
		stored := value(t, vs, phone)
		confidential.Use(rotated) // restored by useKeyring's cleanup
		got, err := scan(t, vs, stored)
		if err != nil || got != phone {
			t.Fatalf("scanning a k1 value with keyring k2,k1 = (%q, %v), want %q", got, err, phone)
		}
		if fresh := value(t, vs, phone); !strings.HasPrefix(fresh, "enc:v1:k2:") {
			t.Fatalf("new value %q not sealed with the current key k2", fresh)
		}
	})

	t.Run("OtherPlaceFails", func(t *testing.T) {
		useKeyring(t, newKeyring(t, "k1"))
		email := confidential.String("users.email")
		stored := value(t, email, phone)
		got, err := scan(t, vs, stored)
		if err == nil {
			t.Fatalf("a users.email value scanned as users.phone to %q, want an error", got)
		}
		if !errors.Is(err, crypto.ErrDecrypt) {
			t.Fatalf("err = %v, want crypto.ErrDecrypt", err)
		}
		if got == phone {
			t.Fatal("the error came with the plaintext")
		}
		// And the other way round it still opens at its own place.
		if got, err := scan(t, email, stored); err != nil || got != phone {
			t.Fatalf("scanning at its own place = (%q, %v), want %q", got, err, phone)
		}
	})

	t.Run("UnknownKeyFails", func(t *testing.T) {
		useKeyring(t, newKeyring(t, "k9"))
		stored := value(t, vs, phone)
		confidential.Use(newKeyring(t, "k1"))
		if got, err := scan(t, vs, stored); !errors.Is(err, crypto.ErrUnknownKey) {
			t.Fatalf("scanning a k9 value with only k1 = (%q, %v), want crypto.ErrUnknownKey", got, err)
		}
	})

	t.Run("ErrNoKey", func(t *testing.T) {
		useKeyring(t, newKeyring(t, "k1"))
		stored := value(t, vs, phone)
		confidential.Use(nil) // restored by useKeyring's cleanup
		if confidential.Keyring() != nil {
			t.Fatal("Keyring() is not nil after Use(nil)")
		}
		v, err := vs.Value(phone)
		if !errors.Is(err, confidential.ErrNoKey) {
			t.Fatalf("Value without a keyring = (%#v, %v), want ErrNoKey", v, err)
		}
		if v != nil {
			t.Fatalf("Value without a keyring returned %#v alongside the error", v)
		}
		if got, err := scan(t, vs, stored); !errors.Is(err, confidential.ErrNoKey) {
			t.Fatalf("scanning ciphertext without a keyring = (%q, %v), want ErrNoKey", got, err)
		}
		// Empty values need no key.
		for _, src := range []any{nil, ""} {
			if got, err := scan(t, vs, src); err != nil || got != "" {
				t.Fatalf("scanning %#v without a keyring = (%q, %v), want (\"\", nil)", src, got, err)
			}
		}
	})

	t.Run("UseInstallsKeyring", func(t *testing.T) {
		k := newKeyring(t, "k1")
		useKeyring(t, k)
		if got := confidential.Keyring(); got != k {
			t.Fatalf("Keyring() = %v, want the keyring given to Use (%v)", got, k)
		}
	})

	t.Run("ScanValueIsFresh", func(t *testing.T) {
		useKeyring(t, newKeyring(t, "k1"))
		a, b := vs.ScanValue(), vs.ScanValue()
		if err := a.Scan("x"); err != nil {
			t.Fatal(err)
		}
		ns, ok := b.(*sql.NullString)
		if !ok {
			t.Fatalf("ScanValue() = %T, want *sql.NullString", b)
		}
		if ns.Valid || ns.String != "" {
			t.Fatalf("a second ScanValue() shares state with the first: %+v", *ns)
		}
	})
}
