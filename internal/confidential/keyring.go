// The keyring: AES-256-GCM under keys identified by a short key id, so
// that keys can be rotated. New values are always sealed with the current
// key and carry its id in the stored value
// ("enc:v1:<keyid>:<base64url(nonce||ciphertext)>"), while ciphertexts
// produced under older keys still open as long as those keys remain in the
// keyring, until they are re-encrypted (see Keyring.NeedsRotation and
// Reencrypt). Associated data supplied by the caller (such as
// "users.phone") binds each ciphertext to its place, so a value copied to
// another column fails to open.

package confidential

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors returned (possibly wrapped) by Keyring.Decrypt. Test for
// them with errors.Is.
var (
	// ErrNotEncrypted reports a non-empty value that does not carry the
	// "enc:v1:" prefix, i.e. a value stored before encryption was enabled.
	// Callers decide whether to accept it as plaintext.
	ErrNotEncrypted = errors.New("confidential: value is not encrypted")
	// ErrUnknownKey reports a value sealed under a key id that is not in the
	// keyring. The wrapping error names the id.
	ErrUnknownKey = errors.New("confidential: unknown encryption key id")
	// ErrDecrypt reports a malformed or tampered ciphertext, or one opened
	// with the wrong associated data.
	ErrDecrypt = errors.New("confidential: decryption failed")
)

// prefix marks values produced by Encrypt (format version 1).
const prefix = "enc:v1:"

// Keyring holds the current key and any older keys, each as a ready AEAD.
// It is immutable after construction and safe for concurrent use.
type Keyring struct {
	currentID string
	ids       []string // current first, then older keys in the given order
	aeads     map[string]cipher.AEAD
	// prk is HKDF's pseudorandom key from the current secret, for Derive.
	prk []byte
}

// NewKeyring builds a keyring that seals with current and opens values
// sealed under current or any of older. Every key must have a valid id
// ([a-z0-9-]{1,32}) and a 32-byte secret, and ids must be distinct.
// The secrets are not retained beyond the derived ciphers.
func NewKeyring(current Key, older ...Key) (*Keyring, error) {
	all := append([]Key{current}, older...)
	kr := &Keyring{
		currentID: current.ID,
		ids:       make([]string, 0, len(all)),
		aeads:     make(map[string]cipher.AEAD, len(all)),
	}
	for i, key := range all {
		if err := key.validate(); err != nil {
			return nil, fmt.Errorf("confidential: keyring key %d: %w", i+1, err)
		}
		if _, dup := kr.aeads[key.ID]; dup {
			return nil, fmt.Errorf("confidential: keyring: duplicate key id %q", key.ID)
		}
		aead, err := newAEAD(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("confidential: keyring key %q: %w", key.ID, err)
		}
		kr.aeads[key.ID] = aead
		kr.ids = append(kr.ids, key.ID)
	}
	prk, err := hkdf.Extract(sha256.New, current.Secret, []byte("switchboard derived keys"))
	if err != nil {
		return nil, err
	}
	kr.prk = prk
	return kr, nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	// Random 96-bit nonce, prepended to the ciphertext: Seal output is
	// nonce||ciphertext||tag, exactly the stored payload.
	return cipher.NewGCMWithRandomNonce(block)
}

// Derive returns a 32-byte key for purpose (e.g. "mail reply tokens"),
// derived with HKDF-SHA256 from the current key: the same on every
// instance with the same key, different per purpose, and telling nothing
// about the key itself.
func (k *Keyring) Derive(purpose string) []byte {
	b, err := hkdf.Expand(sha256.New, k.prk, purpose, 32)
	if err != nil {
		panic("hkdf: " + err.Error()) // only for lengths over 255*32
	}
	return b
}

// CurrentID returns the id of the key new values are sealed with.
func (k *Keyring) CurrentID() string { return k.currentID }

// String describes the keyring by key ids only; it never prints secrets.
func (k *Keyring) String() string {
	return fmt.Sprintf("confidential.Keyring{current: %s, keys: [%s]}", k.currentID, strings.Join(k.ids, " "))
}

// additionalData binds the ciphertext to the format version, the key id and
// the caller's associated data. Key ids cannot contain NUL, so the encoding
// is unambiguous.
func additionalData(keyID, associated string) []byte {
	return []byte(prefix + keyID + "\x00" + associated)
}

// Encrypt seals plaintext with the current key and returns
// "enc:v1:<keyid>:<base64url(nonce||ciphertext)>". associated binds the
// value to its place (callers pass e.g. "users.phone") and must be given
// again to Decrypt. An empty plaintext encrypts to "", so optional columns
// stay empty.
func (k *Keyring) Encrypt(plaintext string, associated string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	aead, ok := k.aeads[k.currentID]
	if !ok { // only possible for a zero Keyring not built by NewKeyring
		return "", errors.New("confidential: keyring has no current key")
	}
	// NewGCMWithRandomNonce draws the nonce itself and requires nil here.
	sealed := aead.Seal(nil, nil, []byte(plaintext), additionalData(k.currentID, associated)) // #nosec G407 -- random nonce drawn by the AEAD

	return prefix + k.currentID + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// splitValue returns the key id and payload of an encrypted value. ok is
// false if value lacks the "enc:v1:" prefix; err is non-nil (wrapping
// ErrDecrypt) if the value has the prefix but is malformed.
func splitValue(value string) (keyID, payload string, ok bool, err error) {
	rest, ok := strings.CutPrefix(value, prefix)
	if !ok {
		return "", "", false, nil
	}
	keyID, payload, found := strings.Cut(rest, ":")
	if !found || !validID(keyID) {
		return "", "", true, fmt.Errorf("%w: malformed encrypted value", ErrDecrypt)
	}
	return keyID, payload, true, nil
}

// Decrypt opens a value produced by Encrypt with the same associated data.
// "" decrypts to "". A non-empty value without the "enc:v1:" prefix returns
// ErrNotEncrypted; a value sealed under a key id not in the keyring returns
// an error wrapping ErrUnknownKey that names the id; a malformed or tampered
// value, or the wrong associated data, returns an error wrapping ErrDecrypt.
func (k *Keyring) Decrypt(value string, associated string) (string, error) {
	if value == "" {
		return "", nil
	}
	keyID, payload, ok, err := splitValue(value)
	if !ok {
		return "", ErrNotEncrypted
	}
	if err != nil {
		return "", err
	}
	aead, known := k.aeads[keyID]
	if !known {
		return "", fmt.Errorf("%w %q", ErrUnknownKey, keyID)
	}
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return "", fmt.Errorf("%w: malformed encrypted value", ErrDecrypt)
	}
	plaintext, err := aead.Open(nil, nil, sealed, additionalData(keyID, associated))
	if err != nil {
		return "", fmt.Errorf("%w under key %q (tampered value or wrong associated data)", ErrDecrypt, keyID)
	}
	return string(plaintext), nil
}

// NeedsRotation reports whether value should be re-encrypted: true if it is
// encrypted under a key other than the current one, or is a non-empty value
// that is not encrypted at all. It is false for "" and for values sealed
// with the current key. It does not authenticate the value.
func (k *Keyring) NeedsRotation(value string) bool {
	if value == "" {
		return false
	}
	keyID, _, ok, err := splitValue(value)
	if !ok || err != nil {
		return true
	}
	return keyID != k.currentID
}
