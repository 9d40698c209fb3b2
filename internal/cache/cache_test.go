package cache

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable time for the memory tier.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// load runs the read protocol: Lookup, and on a miss "read the source"
// (src) and Store it. It reports whether the value came from the cache.
func load(c Cache, key, src string) (string, bool) {
	ctx := context.Background()
	v, ok, t := c.Lookup(ctx, key)
	if ok {
		return string(v), true
	}
	c.Store(ctx, t, []byte(src))
	return src, false
}

// cacheBehaviour is what every Cache does.
func cacheBehaviour(t *testing.T, newCache func(t *testing.T) Cache) {
	ctx := context.Background()
	t.Run("SecondReadIsAHit", func(t *testing.T) {
		c := newCache(t)
		if _, hit := load(c, "k", "v1"); hit {
			t.Fatal("first read hit an empty cache")
		}
		if v, hit := load(c, "k", "unused"); !hit || v != "v1" {
			t.Fatalf("second read: %q hit=%v, want v1 from the cache", v, hit)
		}
	})
	t.Run("InvalidateDropsTheEntry", func(t *testing.T) {
		c := newCache(t)
		load(c, "k", "v1")
		load(c, "other", "o1")
		c.Invalidate(ctx, "k")
		if v, hit := load(c, "k", "v2"); hit {
			t.Fatalf("read after invalidation hit %q", v)
		}
		if v, hit := load(c, "k", "unused"); !hit || v != "v2" {
			t.Fatalf("read after reload: %q hit=%v, want v2", v, hit)
		}
		if v, hit := load(c, "other", "unused"); !hit || v != "o1" {
			t.Fatalf("another key: %q hit=%v, want o1 still cached", v, hit)
		}
	})
	t.Run("ErrStoreOfAReadOlderThanTheInvalidation", func(t *testing.T) {
		// A reader looks up, reads the source (the old value), a writer
		// changes it and invalidates, then the reader stores: the old
		// value must never be served.
		c := newCache(t)
		_, ok, ticket := c.Lookup(ctx, "k")
		if ok {
			t.Fatal("empty cache hit")
		}
		c.Invalidate(ctx, "k")
		c.Store(ctx, ticket, []byte("old"))
		if v, hit := load(c, "k", "new"); hit {
			t.Fatalf("served %q stored by a read older than the invalidation", v)
		}
		if v, hit := load(c, "k", "unused"); !hit || v != "new" {
			t.Fatalf("got %q hit=%v, want new", v, hit)
		}
	})
	t.Run("InvalidateManyAndNone", func(t *testing.T) {
		c := newCache(t)
		for i := range 5 {
			load(c, fmt.Sprint("k", i), "v")
		}
		c.Invalidate(ctx)
		c.Invalidate(ctx, "k0", "k1", "k2", "k3", "k4", "never-stored")
		for i := range 5 {
			if _, hit := load(c, fmt.Sprint("k", i), "v"); hit {
				t.Fatalf("k%d survived its invalidation", i)
			}
		}
	})
}

func TestMemory(t *testing.T) {
	cacheBehaviour(t, func(*testing.T) Cache { return NewMemory(100, time.Minute) })
	ctx := context.Background()

	t.Run("EntriesExpireTTLAfterTheLookupBeforeTheirRead", func(t *testing.T) {
		clk := newFakeClock()
		m := NewMemory(10, LocalTTL)
		m.now = clk.now
		_, _, ticket := m.Lookup(ctx, "k")
		clk.advance(200 * time.Millisecond) // a slow read of the source
		m.Store(ctx, ticket, []byte("v"))
		clk.advance(LocalTTL - 200*time.Millisecond - time.Millisecond)
		if _, ok, _ := m.Lookup(ctx, "k"); !ok {
			t.Fatal("entry gone before its TTL")
		}
		clk.advance(time.Millisecond)
		if _, ok, _ := m.Lookup(ctx, "k"); ok {
			t.Fatalf("entry served %v after the lookup that preceded its read", LocalTTL)
		}
	})
	t.Run("ErrStoreOfAReadSlowerThanTheTTL", func(t *testing.T) {
		clk := newFakeClock()
		m := NewMemory(10, LocalTTL)
		m.now = clk.now
		_, _, ticket := m.Lookup(ctx, "k")
		clk.advance(LocalTTL)
		m.Store(ctx, ticket, []byte("v"))
		if m.Len() != 0 {
			t.Fatal("stored an entry that was already expired")
		}
	})
	t.Run("BoundedLeastRecentlyUsedGoFirst", func(t *testing.T) {
		m := NewMemory(3, time.Minute)
		for _, k := range []string{"a", "b", "c"} {
			load(m, k, k)
		}
		load(m, "a", "a") // a is now the most recently used
		load(m, "d", "d") // evicts b
		if m.Len() != 3 {
			t.Fatalf("%d keys held, want at most 3", m.Len())
		}
		if _, hit := load(m, "a", "a"); !hit {
			t.Fatal("the most recently used key was evicted")
		}
		if _, hit := load(m, "b", "b"); hit {
			t.Fatal("the least recently used key was kept")
		}
	})
	t.Run("ErrStoreAfterTheInvalidationWasEvicted", func(t *testing.T) {
		m := NewMemory(2, time.Minute)
		_, _, ticket := m.Lookup(ctx, "k")
		m.Invalidate(ctx, "k")
		load(m, "x", "x")
		load(m, "y", "y") // evicts k's record with its invalidation
		m.Store(ctx, ticket, []byte("old"))
		if v, hit := load(m, "k", "new"); hit {
			t.Fatalf("served %q from before an evicted invalidation", v)
		}
	})
	t.Run("ZeroTTLStoresNothing", func(t *testing.T) {
		m := NewMemory(10, 0)
		load(m, "k", "v")
		if _, hit := load(m, "k", "v"); hit {
			t.Fatal("a cache with TTL 0 served an entry")
		}
	})
	t.Run("ConcurrentUse", func(t *testing.T) {
		m := NewMemory(50, time.Minute)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 500 {
					k := fmt.Sprint("k", (g*7+i)%80)
					if i%10 == 0 {
						m.Invalidate(ctx, k)
					}
					load(m, k, "v")
				}
			}()
		}
		wg.Wait()
		if m.Len() > 50 {
			t.Fatalf("%d keys held, want at most 50", m.Len())
		}
		if hits, misses := m.Stats(); hits == 0 || misses == 0 {
			t.Fatalf("hits %d misses %d: want both", hits, misses)
		}
	})
}

func BenchmarkMemoryHit(b *testing.B) {
	m := NewMemory(1000, time.Hour)
	load(m, "k", "value")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, _ := m.Lookup(ctx, "k"); !ok {
			b.Fatal("miss")
		}
	}
}
