package main

import (
	"fmt"
	"log/slog"

	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/config"
)

// openCache returns the cache of hot reads: in memory (for LocalTTL, or
// SWITCHBOARD_CACHE_TTL when shorter), in front of Redis when REDIS_URL is
// set (with a client of its own, whose timeouts are short so that a failing
// Redis is bypassed quickly), or nil when SWITCHBOARD_CACHE_TTL is 0. The CLI commands get it too, so that their
// changes invalidate it.
func openCache(cfg *config.Config, log *slog.Logger) (cache.Cache, func(), error) {
	local := min(cache.LocalTTL, cfg.CacheTTL)
	switch {
	case cfg.CacheTTL == 0:
		return nil, func() {}, nil
	case cfg.RedisURL == "":
		return cache.NewMemory(cfg.CacheSize, local), func() {}, nil
	}
	rdb, err := broker.ParseURL(cache.FailFastURL(cfg.RedisURL))
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	shared := cache.NewRedis(rdb, cfg.CachePrefix, cfg.CacheTTL, log)
	return cache.NewTiered(cfg.CacheSize, local, shared), func() { shared.Close(); _ = rdb.Close() }, nil
}
