// Package confidential encrypts marked ent fields at rest. A field declared
// with ValueScanner(confidential.String("users.phone")) is sealed with the
// process's keyring (internal/crypto) on every write and opened on every
// read, so the database, its dumps and its backups hold only ciphertext.
// The keyring is set once at start-up with Use.
package confidential

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"

	"entgo.io/ent/schema/field"

	"github.com/switchboardhq/switchboard/internal/crypto"
)

var keyring atomic.Pointer[crypto.Keyring]

// ErrNoKey is returned when a confidential field is used before Use.
var ErrNoKey = errors.New("confidential: no encryption key configured")

// Use makes k the keyring of the process.
func Use(k *crypto.Keyring) { keyring.Store(k) }

// Keyring returns the keyring of the process, or nil before Use.
func Keyring() *crypto.Keyring { return keyring.Load() }

// String returns the value scanner of a confidential string column; place
// ("table.column") is bound into each ciphertext as associated data.
func String(place string) field.TypeValueScanner[string] {
	return field.ValueScannerFunc[string, *sql.NullString]{
		V: func(s string) (driver.Value, error) {
			k := keyring.Load()
			if k == nil {
				return nil, ErrNoKey
			}
			return k.Encrypt(s, place)
		},
		S: func(ns *sql.NullString) (string, error) {
			if !ns.Valid || ns.String == "" {
				return "", nil
			}
			k := keyring.Load()
			if k == nil {
				return "", ErrNoKey
			}
			s, err := k.Decrypt(ns.String, place)
			if errors.Is(err, crypto.ErrNotEncrypted) {
				// Written before encryption was enabled; `keys rotate`
				// encrypts it.
				return ns.String, nil
			}
			return s, err
		},
	}
}
