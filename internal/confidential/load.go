// Where a process's keys come from: SWITCHBOARD_ENCRYPTION_KEY, or in
// embedded mode the key file in the data directory, generated on first use.

package confidential

import (
	"errors"
	"fmt"
)

// Source says where the keys come from.
type Source struct {
	// EnvKeys is SWITCHBOARD_ENCRYPTION_KEY: "id:base64[,id:base64…]", the
	// current key first.
	EnvKeys string
	// KeyFile is used when EnvKeys is empty (embedded mode); "" forbids it.
	KeyFile string
}

// ErrNoKey is returned when neither an environment key nor a key file is
// available (PostgreSQL mode without SWITCHBOARD_ENCRYPTION_KEY).
var ErrNoKey = errors.New("SWITCHBOARD_ENCRYPTION_KEY is required with DATABASE_URL (make one with: switchboard keys generate)")

// Load builds the keyring src describes and reports whether it generated a
// new key file. It installs nothing: the caller hands the keyring to the
// database clients that need it (database.Open).
func Load(src Source) (k *Keyring, created bool, err error) {
	var cur Key
	var older []Key
	switch {
	case src.EnvKeys != "":
		cur, older, err = ParseKeys(src.EnvKeys)
		if err != nil {
			return nil, false, fmt.Errorf("SWITCHBOARD_ENCRYPTION_KEY: %w", err)
		}
	case src.KeyFile != "":
		cur, older, created, err = LoadOrCreateKeyFile(src.KeyFile)
		if err != nil {
			return nil, false, err
		}
	default:
		return nil, false, ErrNoKey
	}
	k, err = NewKeyring(cur, older...)
	if err != nil {
		return nil, false, err
	}
	return k, created, nil
}
