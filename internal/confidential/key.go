// A key: a short id stored beside every ciphertext and a 32-byte secret,
// in the text form SWITCHBOARD_ENCRYPTION_KEY and the key file use.

package confidential

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the required secret length in bytes (AES-256).
const KeySize = 32

// maxIDLen is the maximum key id length.
const maxIDLen = 32

// defaultID is the id given to a bare base64 key without an "id:" prefix.
const defaultID = "k1"

// Key is an encryption key: a short id ([a-z0-9-]{1,32}) stored alongside
// every ciphertext, and a 32-byte secret.
type Key struct {
	ID     string
	Secret []byte
}

// Encode returns "<id>:<base64url secret>", the format ParseKey reads.
// It contains the secret: never log it.
func (k Key) Encode() string {
	return k.ID + ":" + base64.RawURLEncoding.EncodeToString(k.Secret)
}

// String names the key without its secret, so that printing a Key by
// accident leaks nothing.
func (k Key) String() string { return "key " + k.ID + " (secret hidden)" }

func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// errBadID deliberately does not echo the id: a malformed setting might have
// the secret where the id belongs.
var errBadID = fmt.Errorf("key id must match [a-z0-9-]{1,%d}", maxIDLen)

func (k Key) validate() error {
	if !validID(k.ID) {
		return errBadID
	}
	if len(k.Secret) != KeySize {
		return fmt.Errorf("key %q: secret must be %d bytes, got %d", k.ID, KeySize, len(k.Secret))
	}
	return nil
}

// GenerateKey returns a new key with the given id and a random secret from
// crypto/rand.
func GenerateKey(id string) (Key, error) {
	if !validID(id) {
		return Key{}, fmt.Errorf("confidential: generate key: %w", errBadID)
	}
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("confidential: generate key: %w", err)
	}
	return Key{ID: id, Secret: secret}, nil
}

// ParseKey parses one key in the SWITCHBOARD_ENCRYPTION_KEY format:
// "<id>:<base64 of 32 bytes>", with standard or URL-safe base64, padded or
// not. A bare base64 value without "id:" gets the id "k1". Surrounding
// whitespace is ignored. Error messages never include the secret.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, errors.New("confidential: empty encryption key")
	}
	id, encoded, hasID := strings.Cut(s, ":")
	if !hasID {
		id, encoded = defaultID, s
	}
	id, encoded = strings.TrimSpace(id), strings.TrimSpace(encoded)
	if !validID(id) {
		return Key{}, fmt.Errorf("confidential: invalid encryption key: %w", errBadID)
	}
	secret, err := decodeBase64(encoded)
	if err != nil {
		return Key{}, fmt.Errorf("confidential: invalid encryption key %q: secret is not valid base64", id)
	}
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf("confidential: invalid encryption key %q: secret must be %d bytes, got %d", id, KeySize, len(secret))
	}
	return Key{ID: id, Secret: secret}, nil
}

// decodeBase64 accepts standard or URL-safe base64, with or without
// padding. The returned error never contains the input.
func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	trimmed := strings.TrimRight(s, "=")
	if len(s)-len(trimmed) > 2 {
		return nil, errors.New("bad padding")
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(trimmed, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.Strict().DecodeString(trimmed)
	if err != nil {
		return nil, errors.New("invalid base64")
	}
	return b, nil
}

// ParseKeys parses a comma-separated list of keys in ParseKey format, as
// used during rotation: "k2:...,k1:...". The first key is the current one,
// the rest are older keys in the given order. Empty entries are ignored;
// at least one key is required and ids must be distinct.
func ParseKeys(s string) (current Key, older []Key, err error) {
	var keys []Key
	seen := make(map[string]bool)
	for i, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		key, err := ParseKey(part)
		if err != nil {
			return Key{}, nil, fmt.Errorf("%w (entry %d of key list)", err, i+1)
		}
		if seen[key.ID] {
			return Key{}, nil, fmt.Errorf("confidential: duplicate encryption key id %q", key.ID)
		}
		seen[key.ID] = true
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return Key{}, nil, errors.New("confidential: no encryption key given")
	}
	return keys[0], keys[1:], nil
}
