// Rotation (`switchboard keys rotate`): a new current key, with every
// confidential value re-encrypted under it while the older keys keep
// decrypting until then.

package confidential

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

var keyNumber = regexp.MustCompile(`^k(\d+)$`)

// NextKeyID returns an id not used by any of the keys: k<highest+1>.
func NextKeyID(keys ...Key) string {
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
// (keeping the older ones for decryption) and returns the keyring the file
// now describes. Clients opened before keep the keys they were given: give
// this keyring to the client that re-encrypts (Reencrypt), and restart the
// servers so that they read the new key.
func RotateKeyFile(path string) (*Keyring, Key, error) {
	cur, older, _, err := LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, Key{}, err
	}
	next, err := GenerateKey(NextKeyID(append(older, cur)...))
	if err != nil {
		return nil, Key{}, err
	}
	all := append([]Key{cur}, older...)
	k, err := NewKeyring(next, all...)
	if err != nil {
		return nil, Key{}, err
	}
	if err := WriteKeyFile(path, next, all...); err != nil {
		return nil, Key{}, err
	}
	return k, next, nil
}

// reencryptBatch is how many users are rewritten per transaction.
const reencryptBatch = 500

// Reencrypt rewrites every confidential value under the current key of
// client's keyring (the one it was opened with) and returns how many it
// rewrote. It writes through ent, so the values are read and sealed by the
// client's driver and the hooks run as for any update.
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
