// The mark of a confidential field in ent/schema, and the values it hands
// the database driver and receives from it.

package confidential

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"entgo.io/ent/schema/field"
)

// ErrNoKeyring is returned when a confidential value is written or read
// through a database client that was opened without a keyring (or not
// through database.Open at all): such a client must fail, not store the
// plaintext or hand out the ciphertext.
var ErrNoKeyring = errors.New("confidential: this database client has no keyring (open it with database.Open and the keys)")

// String returns the value scanner of a confidential string column, for
// field.String(…).ValueScanner(confidential.String("users.phone")).
// place ("table.column") is bound into each ciphertext as associated data.
//
// The scanner does no cryptography itself: ent calls it from generated
// code that has neither the client nor a context, so it could only reach
// a global keyring. Instead it hands the client's driver a request to seal
// and scans into a cell the driver opens; Driver does both with the
// keyring of the client it belongs to.
func String(place string) field.TypeValueScanner[string] { return stringField{place: place} }

type stringField struct{ place string }

// Value implements field.TypeValueScanner: the plaintext goes to the
// driver as a request, sealed there with the client's current key.
func (f stringField) Value(s string) (driver.Value, error) {
	return sealRequest{plaintext: s, place: f.place}, nil
}

// ScanValue implements field.TypeValueScanner: a fresh cell per row.
func (f stringField) ScanValue() field.ValueScanner { return &cell{place: f.place} }

// FromValue implements field.TypeValueScanner: the plaintext of a cell
// the driver opened.
func (f stringField) FromValue(v driver.Value) (string, error) {
	c, ok := v.(*cell)
	if !ok {
		return "", fmt.Errorf("confidential: unexpected input for FromValue: %T", v)
	}
	return c.plaintext()
}

// sealRequest is a confidential value on its way to the database. Driver
// replaces it with the ciphertext before the statement reaches
// database/sql; if it gets there anyway (a client without Driver), its
// Value fails the statement rather than writing plaintext.
type sealRequest struct{ plaintext, place string }

// Value implements driver.Valuer for a request that no keyring sealed.
func (r sealRequest) Value() (driver.Value, error) {
	return nil, fmt.Errorf("%w: writing %s", ErrNoKeyring, r.place)
}

// String keeps the plaintext out of logs that print statement arguments
// (ent.Debug prints them before they reach Driver).
func (r sealRequest) String() string { return "<confidential " + r.place + ">" }

// GoString is String, for %#v.
func (r sealRequest) GoString() string { return r.String() }

// seal returns arg, or its ciphertext under the current key if it is a
// request of a confidential field.
func (k *Keyring) seal(arg any) (any, error) {
	r, ok := arg.(sealRequest)
	if !ok {
		return arg, nil
	}
	if k == nil {
		return nil, fmt.Errorf("%w: writing %s", ErrNoKeyring, r.place)
	}
	return k.Encrypt(r.plaintext, r.place)
}

// Seal returns what the confidential field f (user.ValueScanner.Phone)
// stores for value: its ciphertext under the current key, "" for "". ent
// writes are sealed by Driver; Seal is for the writers that bypass ent on
// purpose, such as internal/seed's COPY.
func (k *Keyring) Seal(f field.TypeValueScanner[string], value string) (string, error) {
	v, err := f.Value(value)
	if err != nil {
		return "", err
	}
	if v, err = k.seal(v); err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("confidential: Seal: %T is not a confidential string field", f)
	}
	return s, nil
}

// cell receives a confidential column from the database. Driver opens it
// right after the row is scanned, before ent reads it with FromValue.
type cell struct {
	place  string
	stored sql.NullString
	// opened is set by open; plain and err are its result.
	opened bool
	plain  string
	err    error
}

// Scan implements sql.Scanner.
func (c *cell) Scan(src any) error {
	c.opened, c.plain, c.err = false, "", nil
	return c.stored.Scan(src)
}

// Value implements driver.Valuer (field.ValueScanner requires it): the
// stored form, never the plaintext.
func (c *cell) Value() (driver.Value, error) { return c.stored.Value() }

// open decrypts the stored value with k (nil: leaves it closed).
func (c *cell) open(k *Keyring) {
	if k == nil || !c.stored.Valid || c.stored.String == "" {
		return
	}
	c.opened = true
	c.plain, c.err = k.Decrypt(c.stored.String, c.place)
	if errors.Is(c.err, ErrNotEncrypted) {
		// Written before encryption was enabled; `keys rotate` encrypts it.
		c.plain, c.err = c.stored.String, nil
	}
}

// plaintext is the opened value. NULL and "" need no key.
func (c *cell) plaintext() (string, error) {
	if !c.stored.Valid || c.stored.String == "" {
		return "", nil
	}
	if !c.opened {
		return "", fmt.Errorf("%w: reading %s", ErrNoKeyring, c.place)
	}
	return c.plain, c.err
}
