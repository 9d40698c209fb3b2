package auth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// BenchmarkHash measures one argon2id hash at DefaultParams: the cost of
// every login and signup, and so what the hashing pool bounds.
func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate measures turning a session token into its viewer,
// as every request does: from the database each time, from the in-process
// cache tier (which holds an entry for cache.LocalTTL), and from Redis
// alone (what an instance pays once its memory tier expired). PostgreSQL
// and Redis run when TEST_DATABASE_URL and TEST_REDIS_URL are set.
func BenchmarkAuthenticate(b *testing.B) {
	dialects := []dbtest.Dialect{dbtest.SQLite}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		dialects = append(dialects, dbtest.Postgres)
	}
	caches := map[string]func(b *testing.B) cache.Cache{
		"Database": func(*testing.B) cache.Cache { return nil },
		"Memory":   func(*testing.B) cache.Cache { return cache.NewMemory(100, time.Hour) },
	}
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		caches["Redis"] = func(b *testing.B) cache.Cache {
			rdb, err := broker.ParseURL(cache.FailFastURL(u))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { rdb.Close() })
			return cache.NewRedis(rdb, fmt.Sprintf("switchboard-bench:%016x:", rand.Uint64()), time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
		}
	}
	for _, d := range dialects {
		for name, newCache := range caches {
			b.Run(fmt.Sprintf("%s/%s", d, name), func(b *testing.B) {
				tg := dbtest.NewTarget(b, d)
				svc := New(tg.Open(b), Options{SignupEnabled: true, SessionIdleTimeout: time.Hour, SessionAbsoluteTimeout: time.Hour, Cache: newCache(b)})
				tok, _, err := svc.Signup(viewer.NewContext(context.Background(), nil), "ann@example.com", "correct horse battery", "Ann", "bench", false)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := svc.Authenticate(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
