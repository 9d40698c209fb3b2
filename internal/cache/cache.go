// Package cache keeps hot reads (who a session token belongs to, that
// user's role and groups, the SLA policies) so that requests do not read
// them from the database every time, without ever serving access rights
// that are more than LocalTTL older than a change that has completed.
//
// There are two tiers. Memory is in-process and bounded (least recently
// used entries go first); Redis is shared by all instances. Tiered puts a
// Memory in front of a Redis. Every entry of the in-process tier lives at
// most LocalTTL (500ms), counted from before the read that produced it,
// whatever the deployment: several instances may share a database, and a
// message telling them of a change can be lost, so only expiry bounds what
// another instance's memory serves.
//
// The Redis tier is made race-free with a generation per key: Lookup reads
// the entry and the key's generation in one round trip (both keys share a
// hash slot, so this holds in a Redis Cluster), and an entry counts only
// when it was stored under the current generation. Invalidate gives the key
// a new random generation, synchronously, after the change has committed,
// in the request that made it. A reader that read the database before the
// change stores its value under the old generation, which is never current
// again, so it is never served; a lost or evicted generation key is
// replaced by a new random one, which no entry carries.
//
// Hence the staleness bound: once the call that changed the data returns,
// the instance that made the change serves the new data at once (its own
// memory tier is cleared synchronously), every other instance within
// LocalTTL. It weakens only when Redis fails: an Invalidate that cannot
// reach Redis is retried every second until it can, and Redis entries
// expire after their TTL (SWITCHBOARD_CACHE_TTL) in any case, so a failed
// invalidation is served by others at most until the earlier of the two.
// While Redis is unreachable every lookup misses its tier (fail fast, then
// not tried again for a second) and reads go to the database; the outage and
// the recovery are logged once each, never per request.
package cache

import (
	"context"
	"time"
)

// LocalTTL is how long an entry of the in-process tier lives at most: the
// bound on staleness across instances.
const LocalTTL = 500 * time.Millisecond

// Cache stores values derived from the database under string keys.
//
// The protocol of a read: Lookup; on a miss read the source, then Store
// the value with the Ticket that Lookup returned. A Store after which (or
// during whose read) the key was invalidated is never served.
type Cache interface {
	// Lookup returns the value under key while it is valid; on a miss,
	// the ticket with which to store the value read next.
	Lookup(ctx context.Context, key string) (value []byte, ok bool, t Ticket)
	// Store keeps value under the ticket's key.
	Store(ctx context.Context, t Ticket, value []byte)
	// Invalidate drops the keys on every instance (see the package doc
	// for when). Call it after the change has committed.
	Invalidate(ctx context.Context, keys ...string)
}

// Ticket is what a Lookup knew when it missed: the key, the time (entries
// expire counting from it), and the tiers' generations.
type Ticket struct {
	key string
	at  time.Time
	// seq is the Memory's invalidation counter at the Lookup.
	seq uint64
	// gen is the Redis generation of the key at the Lookup ("": Redis
	// was not reached, store nothing there).
	gen string
}

// Key returns the key the ticket is for.
func (t Ticket) Key() string { return t.key }

// Tiered is a Memory in front of a Redis.
type Tiered struct {
	Local  *Memory
	Shared *Redis
}

// Lookup tries the memory tier, then Redis; a Redis hit is kept in memory,
// expiring LocalTTL after the Lookup began.
func (c *Tiered) Lookup(ctx context.Context, key string) ([]byte, bool, Ticket) {
	v, ok, t := c.Local.Lookup(ctx, key)
	if ok {
		return v, true, t
	}
	v, ok, st := c.Shared.Lookup(ctx, key)
	if ok {
		c.Local.Store(ctx, t, v)
		return v, true, t
	}
	t.gen = st.gen
	return nil, false, t
}

// Store keeps the value in both tiers.
func (c *Tiered) Store(ctx context.Context, t Ticket, value []byte) {
	c.Local.Store(ctx, t, value)
	c.Shared.Store(ctx, t, value)
}

// Invalidate drops the keys here at once and in Redis.
func (c *Tiered) Invalidate(ctx context.Context, keys ...string) {
	c.Local.Invalidate(ctx, keys...)
	c.Shared.Invalidate(ctx, keys...)
}

// NewTiered returns the cache of an instance with Redis: size keys in
// memory for localTTL each (at most LocalTTL, for the staleness bound), in
// front of shared.
func NewTiered(size int, localTTL time.Duration, shared *Redis) *Tiered {
	return &Tiered{Local: NewMemory(size, min(localTTL, LocalTTL)), Shared: shared}
}
