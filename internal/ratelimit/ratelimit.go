// Package ratelimit bounds how much work one user or one client address
// may ask for: requests are weighed by their cost (GraphQL complexity) and
// measured with GCRA (the generic cell rate algorithm: a steady rate with
// a burst allowance, one timestamp per key). Memory keeps the state in
// the process (embedded mode); Redis shares it between instances through
// go-redis/redis_rate, so limits hold across the cluster.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limit is a steady rate (Rate per Period) with a Burst allowance.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// PerMinute is rate cost units a minute, with a burst of the same size.
func PerMinute(rate int) Limit { return Limit{Rate: rate, Burst: rate, Period: time.Minute} }

// Result of a check.
type Result struct {
	Allowed bool
	// RetryAfter says when the same request would be allowed.
	RetryAfter time.Duration
}

// Limiter checks and records work against a key's limit.
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit, cost int) (Result, error)
}

// Memory is the in-process Limiter.
type Memory struct {
	mu    sync.Mutex
	now   func() time.Time
	tat   map[string]time.Time // theoretical arrival time per key
	calls int
}

// NewMemory returns an empty in-process limiter.
func NewMemory() *Memory { return &Memory{now: time.Now, tat: map[string]time.Time{}} }

// sweepEvery is how many checks pass between removals of idle keys.
const sweepEvery = 1024

// Allow applies GCRA: each unit of cost moves the key's theoretical
// arrival time on by Period/Rate; a request is allowed while that time is
// no further ahead of now than the burst allows.
func (m *Memory) Allow(_ context.Context, key string, limit Limit, cost int) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.calls++; m.calls%sweepEvery == 0 {
		for k, t := range m.tat {
			if !t.After(now) {
				delete(m.tat, k)
			}
		}
	}
	interval := limit.Period / time.Duration(limit.Rate)
	tolerance := interval * time.Duration(limit.Burst)
	tat := m.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval * time.Duration(cost))
	if allowAt := next.Add(-tolerance); allowAt.After(now) {
		return Result{Allowed: false, RetryAfter: allowAt.Sub(now)}, nil
	}
	m.tat[key] = next
	return Result{Allowed: true}, nil
}

// Redis is the Limiter shared by all instances.
type Redis struct {
	limiter *redis_rate.Limiter
	prefix  string
}

// DefaultPrefix is the prefix of the limiter's keys.
const DefaultPrefix = "switchboard:rate:"

// NewRedis returns a limiter storing its state in Redis under prefix.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{limiter: redis_rate.NewLimiter(client), prefix: prefix}
}

// Allow checks and records cost against the key's limit in Redis.
func (r *Redis) Allow(ctx context.Context, key string, limit Limit, cost int) (Result, error) {
	res, err := r.limiter.AllowN(ctx, r.prefix+key, redis_rate.Limit{Rate: limit.Rate, Burst: limit.Burst, Period: limit.Period}, cost)
	if err != nil {
		return Result{}, err
	}
	return Result{Allowed: res.Allowed > 0, RetryAfter: res.RetryAfter}, nil
}
