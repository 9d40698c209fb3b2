package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts the cache's Redis keys.
const DefaultPrefix = "switchboard:cache:"

// Redis is the tier shared by all instances. Each key K has two Redis
// keys in one hash slot: <prefix>{K}:v holds "<generation> <value>" and
// <prefix>{K}:g the current generation.
type Redis struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
	log    *slog.Logger
	now    func() time.Time

	// OpTimeout bounds each round trip, so that a Redis that stops
	// answering costs a request at most this much, once per RetryAfter.
	OpTimeout time.Duration
	// RetryAfter is how long Redis is left alone after it failed.
	RetryAfter time.Duration

	mu sync.Mutex
	// downUntil is when Redis may be tried again after a failure (zero:
	// it is up).
	downUntil time.Time
	down      bool
	// pending are the keys whose invalidation failed, retried until Redis
	// takes them, each with the number of the failure that added it last
	// (failures counts them), so that a key that fails again while a retry
	// is under way stays pending; retrying tells whether the retry loop runs.
	pending  map[string]uint64
	failures uint64
	retrying bool
	closed   chan struct{}
	// loops counts the running retry loops, so that Close waits for them
	// (the caller closes the Redis client after).
	loops sync.WaitGroup
	once  sync.Once

	hits, misses atomic.Int64
}

// Defaults of a Redis tier.
const (
	DefaultOpTimeout  = 250 * time.Millisecond
	DefaultRetryAfter = time.Second
	// maxPending bounds the invalidations kept for retry; beyond it,
	// entries expire by their TTL only (logged).
	maxPending = 100_000
)

// NewRedis returns the shared tier on client, its keys under prefix, each
// entry living at most ttl.
func NewRedis(client redis.UniversalClient, prefix string, ttl time.Duration, log *slog.Logger) *Redis {
	return &Redis{
		client: client, prefix: prefix, ttl: ttl, log: log, now: time.Now,
		OpTimeout: DefaultOpTimeout, RetryAfter: DefaultRetryAfter,
		pending: map[string]uint64{}, closed: make(chan struct{}),
	}
}

// FailFastURL adds short timeouts and no retries to a Redis URL unless it
// sets them itself: a cache must answer quickly or not at all.
func FailFastURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL // the caller's parser reports it
	}
	q := u.Query()
	for k, v := range map[string]string{
		"dial_timeout": "250ms", "read_timeout": "250ms", "write_timeout": "250ms",
		"pool_timeout": "250ms", "max_retries": "-1",
	} {
		if !q.Has(k) {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (r *Redis) valueKey(key string) string { return r.prefix + "{" + key + "}:v" }
func (r *Redis) genKey(key string) string   { return r.prefix + "{" + key + "}:g" }

func newGeneration() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// available reports whether Redis may be tried now.
func (r *Redis) available() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.down || !r.now().Before(r.downUntil)
}

// result records the outcome of a round trip: the first failure and the
// recovery are logged, once each.
func (r *Redis) result(err error) {
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && !r.down:
		r.down = true
		r.log.Warn("cache: Redis is unreachable; reading from the database until it is back", "err", err)
		fallthrough
	case err != nil:
		r.downUntil = r.now().Add(r.RetryAfter)
	case r.down:
		r.down = false
		r.log.Info("cache: Redis is back")
	}
}

func (r *Redis) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), r.OpTimeout)
}

// Lookup reads the entry and the generation in one round trip; without a
// generation it makes one, so that a later Store has one to carry.
func (r *Redis) Lookup(ctx context.Context, key string) ([]byte, bool, Ticket) {
	t := Ticket{key: key, at: r.now()}
	if !r.available() {
		r.misses.Add(1)
		return nil, false, t
	}
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	var entry, gen *redis.StringCmd
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		entry = p.Get(ctx, r.valueKey(key))
		gen = p.Get(ctx, r.genKey(key))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		r.result(err)
		r.misses.Add(1)
		return nil, false, t
	}
	g, err := gen.Result()
	if errors.Is(err, redis.Nil) {
		// SET NX, then read back whichever generation won.
		_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SetNX(ctx, r.genKey(key), newGeneration(), r.genTTL())
			gen = p.Get(ctx, r.genKey(key))
			return nil
		})
		if err == nil {
			g, err = gen.Result()
		}
	}
	r.result(err)
	if err != nil {
		r.misses.Add(1)
		return nil, false, t
	}
	t.gen = g
	if v, err := entry.Bytes(); err == nil {
		if stored, value, ok := strings.Cut(string(v), " "); ok && stored == g {
			r.hits.Add(1)
			return []byte(value), true, t
		}
	}
	r.misses.Add(1)
	return nil, false, t
}

// genTTL outlives the entries: a generation that expires first only makes
// its entries miss.
func (r *Redis) genTTL() time.Duration { return 2 * r.ttl }

// Store writes the value under the generation the Lookup saw.
func (r *Redis) Store(ctx context.Context, t Ticket, value []byte) {
	if t.gen == "" || r.ttl <= 0 || !r.available() {
		return
	}
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	r.result(r.client.Set(ctx, r.valueKey(t.key), t.gen+" "+string(value), r.ttl).Err())
}

// Invalidate gives each key a new generation. When Redis cannot take it,
// the keys are retried every RetryAfter until it can.
func (r *Redis) Invalidate(ctx context.Context, keys ...string) {
	if len(keys) == 0 {
		return
	}
	if !r.available() || r.invalidate(ctx, keys) != nil {
		r.retryLater(keys)
	}
}

func (r *Redis) invalidate(ctx context.Context, keys []string) error {
	ctx, cancel := r.opContext(ctx)
	defer cancel()
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, r.genKey(k), newGeneration(), r.genTTL())
		}
		return nil
	})
	r.result(err)
	return err
}

func (r *Redis) retryLater(keys []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures++
	for _, k := range keys {
		if _, ok := r.pending[k]; !ok && len(r.pending) >= maxPending {
			r.log.Error("cache: too many invalidations waiting for Redis; the rest expire with their TTL", "ttl", r.ttl.String())
			break
		}
		r.pending[k] = r.failures
	}
	select {
	case <-r.closed:
		return // closing: the rest expire with their TTL
	default:
	}
	if !r.retrying {
		r.retrying = true
		r.loops.Go(r.retryLoop)
	}
}

// retryLoop sends the pending invalidations until Redis takes them all.
func (r *Redis) retryLoop() {
	tick := time.NewTicker(r.RetryAfter)
	defer tick.Stop()
	for {
		select {
		case <-r.closed:
			return
		case <-tick.C:
		}
		r.mu.Lock()
		sent := maps.Clone(r.pending)
		r.mu.Unlock()
		if r.invalidate(context.Background(), slices.Collect(maps.Keys(sent))) != nil {
			continue
		}
		r.mu.Lock()
		for k, n := range sent {
			// A key that failed again meanwhile may have changed after
			// the generation just sent: it goes out once more.
			if r.pending[k] == n {
				delete(r.pending, k)
			}
		}
		if len(r.pending) == 0 {
			r.retrying = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
}

// Pending returns the number of invalidations waiting for Redis.
func (r *Redis) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// Stats returns the lookups answered from Redis and those that missed.
func (r *Redis) Stats() (hits, misses int64) { return r.hits.Load(), r.misses.Load() }

// Close stops the retry loop and waits for it (the client is the
// caller's, closed after).
func (r *Redis) Close() {
	r.once.Do(func() { close(r.closed) })
	r.loops.Wait()
}
