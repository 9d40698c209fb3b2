// Package encryption manages the keys that protect confidential fields:
// where they come from (SWITCHBOARD_ENCRYPTION_KEY, or a key file generated
// in the data directory in embedded mode), and rotation — a new current key,
// with every confidential value re-encrypted under it while older keys keep
// decrypting until then.
package encryption

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/crypto"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// KeyFileName is the key file's name inside the data directory.
const KeyFileName = "encryption.key"

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

// KeyFilePath is the key file of an embedded installation.
func KeyFilePath(dataDir string) string { return filepath.Join(dataDir, KeyFileName) }

// Load builds the keyring and installs it for the confidential fields. It
// reports whether it generated a new key file.
func Load(src Source) (k *crypto.Keyring, created bool, err error) {
	var cur crypto.Key
	var older []crypto.Key
	switch {
	case src.EnvKeys != "":
		cur, older, err = crypto.ParseKeys(src.EnvKeys)
		if err != nil {
			return nil, false, fmt.Errorf("SWITCHBOARD_ENCRYPTION_KEY: %w", err)
		}
	case src.KeyFile != "":
		cur, older, created, err = crypto.LoadOrCreateKeyFile(src.KeyFile)
		if err != nil {
			return nil, false, err
		}
	default:
		return nil, false, ErrNoKey
	}
	k, err = crypto.NewKeyring(cur, older...)
	if err != nil {
		return nil, false, err
	}
	confidential.Use(k)
	return k, created, nil
}

var keyNumber = regexp.MustCompile(`^k(\d+)$`)

// NextKeyID returns an id not used by any of the keys: k<highest+1>.
func NextKeyID(keys ...crypto.Key) string {
	highest := 0
	for _, k := range keys {
		if m := keyNumber.FindStringSubmatch(k.ID); m != nil {
			if n, _ := strconv.Atoi(m[1]); n > highest {
				highest = n
			}
		}
	}
	return "k" + strconv.Itoa(highest+1)
}

// RotateKeyFile puts a new current key at the front of the key file
// (keeping the older ones for decryption) and installs the new keyring.
func RotateKeyFile(path string) (*crypto.Keyring, crypto.Key, error) {
	cur, older, _, err := crypto.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, crypto.Key{}, err
	}
	next, err := crypto.GenerateKey(NextKeyID(append(older, cur)...))
	if err != nil {
		return nil, crypto.Key{}, err
	}
	all := append([]crypto.Key{cur}, older...)
	k, err := crypto.NewKeyring(next, all...)
	if err != nil {
		return nil, crypto.Key{}, err
	}
	if err := crypto.WriteKeyFile(path, next, all...); err != nil {
		return nil, crypto.Key{}, err
	}
	confidential.Use(k)
	return k, next, nil
}

// reencryptBatch is how many users are rewritten per transaction.
const reencryptBatch = 500

// Reencrypt rewrites every confidential value under the current key of
// the installed keyring and returns how many it rewrote.
func Reencrypt(ctx context.Context, client *ent.Client) (int, error) {
	sys := viewer.SystemContext(ctx)
	done := 0
	var after globalid.ID
	for {
		q := client.User.Query().Where(user.PhoneNotNil()).Order(ent.Asc(user.FieldID)).Limit(reencryptBatch)
		if after != "" {
			q.Where(user.IDGT(after))
		}
		users, err := q.All(sys)
		if err != nil {
			return done, fmt.Errorf("reading users: %w", err)
		}
		if len(users) == 0 {
			return done, nil
		}
		tx, err := client.Tx(sys)
		if err != nil {
			return done, err
		}
		rewritten := 0
		for _, u := range users {
			if u.Phone == "" {
				continue
			}
			rewritten++
			if err := tx.User.UpdateOneID(u.ID).SetPhone(u.Phone).Exec(sys); err != nil {
				_ = tx.Rollback()
				return done, fmt.Errorf("re-encrypting user %s: %w", u.ID, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return done, err
		}
		done += rewritten
		after = users[len(users)-1].ID
	}
}
