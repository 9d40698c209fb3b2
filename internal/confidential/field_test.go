package confidential_test

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/schema/field"

	"github.com/switchboardhq/switchboard/internal/confidential"
)

// Each test builds its own keyrings: nothing is installed, so the tests of
// the field need no care about one another.

func newKeyring(t *testing.T, ids ...string) *confidential.Keyring {
	t.Helper()
	keys := make([]confidential.Key, len(ids))
	for i, id := range ids {
		keys[i] = mustKey(t, id)
	}
	return mustKeyring(t, keys[0], keys[1:]...)
}

// seal runs the write side as the client's driver does and returns the
// stored string.
func seal(t *testing.T, k *confidential.Keyring, vs field.TypeValueScanner[string], s string) string {
	t.Helper()
	stored, err := k.Seal(vs, s)
	if err != nil {
		t.Fatalf("Seal(%q): %v", s, err)
	}
	return stored
}

// scan runs the read side as ent and the client's driver do: Scan the
// database value into ScanValue(), open it with k, then FromValue.
func scan(t *testing.T, k *confidential.Keyring, vs field.TypeValueScanner[string], src any) (string, error) {
	t.Helper()
	sv := vs.ScanValue()
	if err := sv.Scan(src); err != nil {
		t.Fatalf("Scan(%#v): %v", src, err)
	}
	confidential.OpenScanned(sv, k)
	return vs.FromValue(sv)
}

func TestString(t *testing.T) {
	vs := confidential.String("users.phone")

	t.Run("RoundTrip", func(t *testing.T) {
		k := newKeyring(t, "k1")
		stored := seal(t, k, vs, phone)
		got, err := scan(t, k, vs, stored)
		if err != nil {
			t.Fatalf("scanning %q: %v", stored, err)
		}
		if got != phone {
			t.Fatalf("round trip = %q, want %q", got, phone)
		}
		// Drivers may hand back text columns as []byte.
		got, err = scan(t, k, vs, []byte(stored))
		if err != nil || got != phone {
			t.Fatalf("round trip from []byte = (%q, %v), want %q", got, err, phone)
		}
	})

	t.Run("StoredValueIsCiphertext", func(t *testing.T) {
		k := newKeyring(t, "k1")
		stored := seal(t, k, vs, phone)
		if stored == phone || strings.Contains(stored, phone) || strings.Contains(stored, "0100") {
			t.Fatalf("stored value %q reveals the plaintext", stored)
		}
		if !strings.HasPrefix(stored, "enc:v1:k1:") {
			t.Fatalf("stored value %q lacks prefix enc:v1:k1:", stored)
		}
		if again := seal(t, k, vs, phone); again == stored {
			t.Fatalf("two writes of the same value stored the same ciphertext %q", stored)
		}
	})

	t.Run("EmptyStaysEmpty", func(t *testing.T) {
		k := newKeyring(t, "k1")
		if stored := seal(t, k, vs, ""); stored != "" {
			t.Fatalf("Seal(\"\") = %q, want \"\"", stored)
		}
		got, err := scan(t, k, vs, "")
		if err != nil || got != "" {
			t.Fatalf("scanning \"\" = (%q, %v), want (\"\", nil)", got, err)
		}
	})

	t.Run("NullScansToEmpty", func(t *testing.T) {
		got, err := scan(t, newKeyring(t, "k1"), vs, nil)
		if err != nil || got != "" {
			t.Fatalf("scanning NULL = (%q, %v), want (\"\", nil)", got, err)
		}
	})

	t.Run("LegacyPlaintextScansAsItself", func(t *testing.T) {
		got, err := scan(t, newKeyring(t, "k1"), vs, phone)
		if err != nil || got != phone {
			t.Fatalf("scanning legacy plaintext = (%q, %v), want %q", got, err, phone)
		}
	})

	t.Run("OlderKeyStillScans", func(t *testing.T) {
		k1, k2 := mustKey(t, "k1"), mustKey(t, "k2")
		old, rotated := mustKeyring(t, k1), mustKeyring(t, k2, k1)
		stored := seal(t, old, vs, phone)
		got, err := scan(t, rotated, vs, stored)
		if err != nil || got != phone {
			t.Fatalf("scanning a k1 value with keyring k2,k1 = (%q, %v), want %q", got, err, phone)
		}
		if fresh := seal(t, rotated, vs, phone); !strings.HasPrefix(fresh, "enc:v1:k2:") {
			t.Fatalf("new value %q not sealed with the current key k2", fresh)
		}
	})

	t.Run("OtherPlaceFails", func(t *testing.T) {
		k := newKeyring(t, "k1")
		email := confidential.String("users.email")
		stored := seal(t, k, email, phone)
		got, err := scan(t, k, vs, stored)
		if err == nil {
			t.Fatalf("a users.email value scanned as users.phone to %q, want an error", got)
		}
		if !errors.Is(err, confidential.ErrDecrypt) {
			t.Fatalf("err = %v, want confidential.ErrDecrypt", err)
		}
		if got == phone {
			t.Fatal("the error came with the plaintext")
		}
		// And the other way round it still opens at its own place.
		if got, err := scan(t, k, email, stored); err != nil || got != phone {
			t.Fatalf("scanning at its own place = (%q, %v), want %q", got, err, phone)
		}
	})

	t.Run("UnknownKeyFails", func(t *testing.T) {
		stored := seal(t, newKeyring(t, "k9"), vs, phone)
		if got, err := scan(t, newKeyring(t, "k1"), vs, stored); !errors.Is(err, confidential.ErrUnknownKey) {
			t.Fatalf("scanning a k9 value with only k1 = (%q, %v), want confidential.ErrUnknownKey", got, err)
		}
	})

	t.Run("ErrNoKeyring", func(t *testing.T) {
		stored := seal(t, newKeyring(t, "k1"), vs, phone)
		var none *confidential.Keyring
		if v, err := none.Seal(vs, phone); !errors.Is(err, confidential.ErrNoKeyring) || v != "" {
			t.Fatalf("Seal without a keyring = (%q, %v), want ErrNoKeyring", v, err)
		}
		// What the scanner hands a driver that does not seal it fails the
		// statement when database/sql asks for its value.
		v, err := vs.Value(phone)
		if err != nil {
			t.Fatalf("Value: %v", err)
		}
		valuer, ok := v.(driver.Valuer)
		if !ok {
			t.Fatalf("Value(%q) = %T, want a driver.Valuer", phone, v)
		}
		if got, err := valuer.Value(); !errors.Is(err, confidential.ErrNoKeyring) || got != nil {
			t.Fatalf("the unsealed request's value = (%#v, %v), want ErrNoKeyring", got, err)
		}
		if got, err := scan(t, nil, vs, stored); !errors.Is(err, confidential.ErrNoKeyring) || got != "" {
			t.Fatalf("scanning ciphertext without a keyring = (%q, %v), want ErrNoKeyring", got, err)
		}
		// Empty values need no key.
		for _, src := range []any{nil, ""} {
			if got, err := scan(t, nil, vs, src); err != nil || got != "" {
				t.Fatalf("scanning %#v without a keyring = (%q, %v), want (\"\", nil)", src, got, err)
			}
		}
	})

	t.Run("RequestHidesPlaintext", func(t *testing.T) {
		v, err := vs.Value(phone)
		if err != nil {
			t.Fatal(err)
		}
		// ent.Debug prints statement arguments before the driver seals them.
		for _, s := range []string{fmt.Sprint([]any{v}), fmt.Sprintf("%v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%+v", v)} {
			if strings.Contains(s, phone) {
				t.Fatalf("the request prints as %q", s)
			}
		}
	})

	t.Run("ScanValueIsFresh", func(t *testing.T) {
		k := newKeyring(t, "k1")
		a, b := vs.ScanValue(), vs.ScanValue()
		if err := a.Scan(seal(t, k, vs, phone)); err != nil {
			t.Fatal(err)
		}
		confidential.OpenScanned(a, k)
		if got, err := vs.FromValue(b); err != nil || got != "" {
			t.Fatalf("a second ScanValue() shares state with the first: (%q, %v)", got, err)
		}
		if stored, err := b.Value(); err != nil || stored != nil {
			t.Fatalf("a fresh ScanValue() holds %#v, %v", stored, err)
		}
	})
}
