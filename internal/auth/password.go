package auth

import (
	"context"
	"runtime"
	"sync"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/ccojocar/zxcvbn-go"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

// Password length limits. The upper bound keeps hashing cost bounded.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// DefaultParams are OWASP's recommended argon2id parameters (19 MiB, two
// passes, one lane), not the library's lighter development defaults.
var DefaultParams = &argon2id.Params{
	Memory:      19 * 1024,
	Iterations:  2,
	Parallelism: 1,
	SaltLength:  16,
	KeyLength:   32,
}

// Hasher hashes and checks passwords in a bounded pool: argon2id is slow on
// purpose, so a burst of logins queues here instead of taking every core
// from queries and subscriptions.
type Hasher struct {
	params *argon2id.Params
	slots  chan struct{}

	dummyOnce sync.Once
	dummy     string
}

// NewHasher returns a Hasher running at most workers hashes at once
// (0 means the number of CPUs).
func NewHasher(params *argon2id.Params, workers int) *Hasher {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	return &Hasher{params: params, slots: make(chan struct{}, workers)}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the encoded argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return argon2id.CreateHash(password, h.params)
}

// Check reports whether password matches hash. An empty hash (unknown user,
// or an account without a password) is checked against a dummy hash so that
// the answer takes as long as for a real account.
func (h *Hasher) Check(ctx context.Context, password, hash string) (bool, error) {
	known := hash != ""
	if !known {
		h.dummyOnce.Do(func() { h.dummy, _ = argon2id.CreateHash("switchboard-dummy-password", h.params) })
		hash = h.dummy
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return known && ok, err
}

// MinPasswordScore is the least zxcvbn strength score (0-4) a new
// password needs: 3 means "safely unguessable" against offline attacks on
// a slow hash.
const MinPasswordScore = 3

// ValidatePassword checks a new password against the length rules and
// refuses common and guessable ones; personal lists words (the user's
// email, name) that make a password easier to guess.
func ValidatePassword(password string, personal ...string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return apierr.Invalid("password", "password must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return apierr.Invalid("password", "password must be at most %d characters", MaxPasswordLen)
	}
	if zxcvbn.PasswordStrength(password, personal).Score < MinPasswordScore {
		return apierr.Invalid("password", "password is too easy to guess: use a few uncommon words or a password manager")
	}
	return nil
}

// NeedsRehash reports whether hash was made with weaker parameters than
// the current ones, so that it is upgraded at the next successful login.
func (h *Hasher) NeedsRehash(hash string) bool {
	p, _, _, err := argon2id.DecodeHash(hash)
	if err != nil {
		return false
	}
	return p.Memory < h.params.Memory || p.Iterations < h.params.Iterations ||
		p.Parallelism < h.params.Parallelism || p.KeyLength < h.params.KeyLength
}
