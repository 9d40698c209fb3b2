// Package throttle slows down password guessing. Failed logins are counted
// per key (a login attempt is checked against two keys, "account:<email>"
// and "ip:<client ip>"); after a few free failures each further failure
// makes the key wait longer before its next attempt is accepted
// (exponential backoff up to a cap); a successful login clears the
// account's counter, and a counter forgets its failures after a quiet
// period. Memory is the in-process implementation; a Redis-backed Limiter
// can implement the same small, context-aware interface later.
package throttle

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"time"
)

// Limiter decides whether a login attempt may proceed now.
type Limiter interface {
	// Check returns 0 if an attempt for all keys may proceed now, else how long to wait (the longest over the keys).
	Check(ctx context.Context, keys ...string) (time.Duration, error)
	// Failure records a failed attempt for every key.
	Failure(ctx context.Context, keys ...string) error
	// Success clears the given keys (the caller passes only the account key; an IP is not cleared by one success).
	Success(ctx context.Context, keys ...string) error
}

// Policy says how a key is throttled. A field left at zero (or set to a
// negative duration) takes its value from DefaultPolicy; a negative
// FreeAttempts means every failure delays the next attempt (as 1 does). A
// MaxDelay below BaseDelay is raised to BaseDelay.
type Policy struct {
	// FreeAttempts is how many failures in a row are answered at once: the
	// last of them starts the delay, so with 5 the 6th attempt waits
	// (default 5).
	FreeAttempts int
	BaseDelay    time.Duration // the wait the FreeAttempts-th failure starts (default 1s)
	MaxDelay     time.Duration // cap (default 15m)
	Forget       time.Duration // a key with no failure for this long starts over (default 1h)
}

// DefaultPolicy suits account keys.
var DefaultPolicy = Policy{FreeAttempts: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour}

// DefaultIPPolicy suits IP keys: it allows more free failures because many
// users may share one address behind a NAT.
var DefaultIPPolicy = Policy{FreeAttempts: 20, BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour}

// normalize fills in defaults and fixes inconsistent values.
func (p Policy) normalize() Policy {
	switch {
	case p.FreeAttempts == 0:
		p.FreeAttempts = DefaultPolicy.FreeAttempts
	case p.FreeAttempts < 0:
		p.FreeAttempts = 1
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultPolicy.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultPolicy.MaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.Forget <= 0 {
		p.Forget = DefaultPolicy.Forget
	}
	return p
}

// delay is the wait after the n-th failure within the Forget window:
// 0 while n < FreeAttempts, then BaseDelay doubling per failure, capped at
// MaxDelay. p must be normalized.
func (p Policy) delay(n int) time.Duration {
	if n < p.FreeAttempts {
		return 0
	}
	shift := n - p.FreeAttempts
	// BaseDelay << shift would exceed MaxDelay (or overflow) exactly when
	// BaseDelay > MaxDelay >> shift; a shift of 63 or more always does since
	// BaseDelay > 0 and MaxDelay >> 63 == 0.
	if shift >= 63 || p.BaseDelay > p.MaxDelay>>uint(shift) {
		return p.MaxDelay
	}
	return p.BaseDelay << uint(shift)
}

// MaxKeys bounds how many keys a Memory tracks at once.
const MaxKeys = 100_000

// maxStoredKeyLen bounds the size of a stored key: longer keys (e.g. an
// absurd email address typed by an attacker) are stored as a prefix plus a
// hash of the whole key, so MaxKeys also bounds the memory in bytes.
const maxStoredKeyLen = 256

// maxFailures caps a counter; beyond it the delay is MaxDelay anyway.
const maxFailures = 1 << 30

// Memory is the in-process Limiter. Keys are matched to policies by
// prefix. It is safe for concurrent use, tracks at most MaxKeys keys and
// runs no background goroutine: expired keys are pruned during calls.
type Memory struct {
	now func() time.Time

	// prefixes holds the policy prefixes, longest first, so the longest
	// matching prefix wins; classes[i] is the class of prefixes[i] and
	// classes[len(prefixes)] is the fallback.
	prefixes []string
	classes  []*class

	mu      sync.Mutex
	entries map[string]*entry
}

// class is the set of keys sharing one policy. Its list holds them ordered
// by last failure, oldest first, so within a class the front entry is both
// the oldest and the first to expire.
type class struct {
	policy Policy
	order  *list.List // of *entry
}

type entry struct {
	key      string // the stored key
	class    *class
	failures int
	last     time.Time // time of the last failure
	elem     *list.Element
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty Memory. policies maps key prefixes to
// policies, e.g. {"ip:": DefaultIPPolicy}; when several prefixes match a key
// the longest wins, and keys matching none use fallback. now is the clock;
// nil means time.Now.
func NewMemory(policies map[string]Policy, fallback Policy, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, entries: make(map[string]*entry)}
	for prefix := range policies {
		m.prefixes = append(m.prefixes, prefix)
	}
	sort.Slice(m.prefixes, func(i, j int) bool {
		a, b := m.prefixes[i], m.prefixes[j]
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return a < b
	})
	for _, prefix := range m.prefixes {
		m.classes = append(m.classes, &class{policy: policies[prefix].normalize(), order: list.New()})
	}
	m.classes = append(m.classes, &class{policy: fallback.normalize(), order: list.New()})
	return m
}

// classOf returns the class of key.
func (m *Memory) classOf(key string) *class {
	for i, prefix := range m.prefixes {
		if strings.HasPrefix(key, prefix) {
			return m.classes[i]
		}
	}
	return m.classes[len(m.classes)-1]
}

// storedKey maps a key to the string used in the map.
func storedKey(key string) string {
	if len(key) <= maxStoredKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return key[:maxStoredKeyLen-1-2*len(sum)] + "#" + hex.EncodeToString(sum[:])
}

// expired reports whether e has had no failure for its class's Forget window.
func (e *entry) expired(now time.Time) bool {
	return now.Sub(e.last) >= e.class.policy.Forget
}

// lookup returns the live entry of key, deleting it if it has expired.
// m.mu must be held.
func (m *Memory) lookup(key string, now time.Time) *entry {
	e := m.entries[storedKey(key)]
	if e != nil && e.expired(now) {
		m.remove(e)
		return nil
	}
	return e
}

// remove deletes e. m.mu must be held.
func (m *Memory) remove(e *entry) {
	e.class.order.Remove(e.elem)
	delete(m.entries, e.key)
}

// pruneExpired deletes up to limit expired entries (all of them if limit
// is negative), taking them from the front of each class. Every entry is
// pruned at most once, so the cost is amortized over the calls that added
// them. m.mu must be held.
func (m *Memory) pruneExpired(now time.Time, limit int) {
	for _, c := range m.classes {
		for limit != 0 {
			front := c.order.Front()
			if front == nil || !front.Value.(*entry).expired(now) {
				break
			}
			m.remove(front.Value.(*entry))
			limit--
		}
	}
}

// makeRoom frees a slot for a new key when the map is full: first by
// dropping expired entries, then the entry with the oldest last failure.
// m.mu must be held.
func (m *Memory) makeRoom(now time.Time) {
	if len(m.entries) < MaxKeys {
		return
	}
	m.pruneExpired(now, -1)
	for len(m.entries) >= MaxKeys {
		var oldest *entry
		for _, c := range m.classes {
			if front := c.order.Front(); front != nil {
				if e := front.Value.(*entry); oldest == nil || e.last.Before(oldest.last) {
					oldest = e
				}
			}
		}
		m.remove(oldest)
	}
}

// prunePerCall is how many expired entries a call deletes on the side.
const prunePerCall = 16

// Check returns how long the caller must wait before an attempt for all
// keys may proceed: 0 if it may proceed now, else the longest wait over the
// keys.
func (m *Memory) Check(ctx context.Context, keys ...string) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.pruneExpired(now, prunePerCall)
	var wait time.Duration
	for _, key := range keys {
		e := m.lookup(key, now)
		if e == nil {
			continue
		}
		d := e.class.policy.delay(e.failures)
		if d == 0 {
			continue
		}
		if w := e.last.Add(d).Sub(now); w > wait {
			wait = w
		}
	}
	return wait, nil
}

// Failure records a failed attempt for every key.
func (m *Memory) Failure(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.pruneExpired(now, prunePerCall)
	for _, key := range keys {
		e := m.lookup(key, now)
		if e == nil {
			m.makeRoom(now)
			c := m.classOf(key)
			e = &entry{key: storedKey(key), class: c}
			e.elem = c.order.PushBack(e)
			m.entries[e.key] = e
		} else {
			e.class.order.MoveToBack(e.elem)
		}
		if e.failures < maxFailures {
			e.failures++
		}
		e.last = now
	}
	return nil
}

// Success clears the given keys. Callers pass only the account key: one
// success must not clear an IP that many guesses came from.
func (m *Memory) Success(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneExpired(m.now(), prunePerCall)
	for _, key := range keys {
		if e := m.entries[storedKey(key)]; e != nil {
			m.remove(e)
		}
	}
	return nil
}

// Len returns how many keys m currently tracks, expired ones not yet
// pruned included. It is at most MaxKeys.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
