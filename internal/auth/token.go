package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// SessionTokenPrefix marks Switchboard session tokens, so secret scanners
// and people can recognise a leaked one.
const SessionTokenPrefix = "sbs_"

// newToken returns a fresh opaque token: 32 random bytes, URL-safe.
func newToken(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // rand.Read never fails on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the SHA-256 of a token, the only form stored. Tokens
// have 256 bits of entropy, so a fast hash is enough (unlike passwords).
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// BearerToken extracts the token from an Authorization header value.
func BearerToken(header string) (string, bool) {
	const scheme = "bearer "
	if len(header) <= len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return "", false
	}
	tok := strings.TrimSpace(header[len(scheme):])
	return tok, tok != ""
}

// Client describes the caller's connection, for session bookkeeping.
type Client struct {
	UserAgent string
	IP        string
}

type clientKey struct{}

// WithClient returns ctx carrying the caller's connection details.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFromContext returns the caller's connection details, if known.
func ClientFromContext(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}
