// Package confidential keeps confidential fields (a user's phone number)
// unreadable at rest: the database, its dumps and its backups hold only
// ciphertext. It owns everything about them, one concern per file:
//
//   - key.go: a key, a short id and a 32-byte secret, in the text form of
//     SWITCHBOARD_ENCRYPTION_KEY and the key file ("k2:…,k1:…", current
//     first); generating one.
//   - keyring.go: the current key and the older ones; AES-256-GCM sealing
//     of a value bound to its place ("users.phone"), stored as
//     "enc:v1:<key id>:<base64url(nonce||ciphertext)>".
//   - keyfile.go: the 0600 key file an embedded installation keeps in its
//     data directory.
//   - load.go: where a process's keys come from (the environment, else
//     the key file, generated on first start).
//   - field.go: the mark of a confidential field in ent/schema,
//     field.String("phone").ValueScanner(confidential.String("users.phone")).
//   - driver.go: the ent driver that seals and opens those fields with the
//     keyring of its client.
//   - rotate.go: `switchboard keys rotate`, a new current key and every
//     value re-encrypted under it.
//
// The keyring is passed, never installed: whoever opens the database gives
// it to database.Open (or OpenSQL for the plain-SQL bulk writers), which
// wraps the client's driver with Driver. The keyring thus belongs to one
// client, two clients in one process can hold different keys, and a
// client opened without one (nil, as `migrate` does) fails with
// ErrNoKeyring when it meets a confidential value instead of writing
// plaintext.
//
// Why a driver rather than ent's dependency injection (a Keyring field in
// the generated config): ent calls a field's value scanner from generated
// code that has neither the config nor a context, so the keyring cannot
// reach it; encrypting in a hook instead would put ciphertext in the
// mutation, where the length validators and the other hooks would see it,
// and decrypting would need an interceptor on every read path. The driver
// sees every statement and every row, below all of them.
//
// Printing a Key or a Keyring shows key ids, never secrets (Key.Encode
// writes a secret out, on purpose), and no error message echoes one.
package confidential
