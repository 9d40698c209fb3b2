// Package querycache keeps the documents of automatic persisted queries
// (APQ): a client sends a query's SHA-256 instead of its text, and the
// server answers from the text it stored the first time. Memory is an LRU
// for one instance; Redis shares the documents between instances, so a
// query registered through one instance is known to all of them.
package querycache

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/redis/go-redis/v9"
)

// NewMemory returns an in-process cache of at most size documents.
func NewMemory(size int) graphql.Cache[string] { return lru.New[string](size) }

// Redis is the shared cache. A failing Redis makes lookups miss (the
// client then sends the full query), never requests fail.
type Redis struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
	log    *slog.Logger
}

// DefaultPrefix is the prefix of the cache's keys.
const DefaultPrefix = "switchboard:apq:"

// NewRedis returns a cache storing documents under prefix+hash for ttl.
func NewRedis(client redis.UniversalClient, prefix string, ttl time.Duration, log *slog.Logger) *Redis {
	return &Redis{client: client, prefix: prefix, ttl: ttl, log: log}
}

// Get returns the document of a hash.
func (r *Redis) Get(ctx context.Context, key string) (string, bool) {
	v, err := r.client.Get(ctx, r.prefix+key).Result()
	if err != nil {
		if err != redis.Nil {
			r.log.WarnContext(ctx, "persisted query lookup", "err", err)
		}
		return "", false
	}
	return v, true
}

// Add stores a document.
func (r *Redis) Add(ctx context.Context, key, value string) {
	if err := r.client.Set(ctx, r.prefix+key, value, r.ttl).Err(); err != nil {
		r.log.WarnContext(ctx, "persisted query store", "err", err)
	}
}
