package presence

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// newTestRedis returns a store on TEST_REDIS_URL (or skips the test) under
// a prefix of its own, whose keys are deleted at the end.
func newTestRedis(t *testing.T) (*Redis, redis.UniversalClient) {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		t.Skip("set TEST_REDIS_URL to run the Redis presence tests")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	prefix := fmt.Sprintf("switchboard-test:%016x:", rand.Uint64())
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleaning %s*: %v", prefix, err)
		}
		c.Close()
	})
	return NewRedis(c, prefix), c
}

// eventually polls cond until it holds, failing after a deadline generous
// enough for a loaded machine.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after 3s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedis(t *testing.T) {
	storeBehaviour(t, func(t *testing.T) Store {
		s, _ := newTestRedis(t)
		return s
	})

	ctx := context.Background()

	t.Run("OneMemberPerUser", func(t *testing.T) {
		s, c := newTestRedis(t)
		ticket, user := globalid.New(globalid.PrefixTicket), globalid.New(globalid.PrefixUser)
		for _, typing := range []bool{false, true, false} {
			if err := s.Touch(ctx, ticket, user, typing, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if n := c.ZCard(ctx, s.key(ticket)).Val(); n != 1 {
			t.Fatalf("%d members, want 1", n)
		}
	})

	t.Run("ExpiredEntriesVanish", func(t *testing.T) {
		s, _ := newTestRedis(t)
		ticket := globalid.New(globalid.PrefixTicket)
		short, long := globalid.New(globalid.PrefixUser), globalid.New(globalid.PrefixUser)
		if err := s.Touch(ctx, ticket, short, true, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := s.Touch(ctx, ticket, long, false, time.Minute); err != nil {
			t.Fatal(err)
		}
		eventually(t, "short entry expired", func() bool {
			got := list(t, s, ticket)
			return len(got) == 1 && got[0].UserID == long
		})
	})

	t.Run("AbandonedKeyVanishes", func(t *testing.T) {
		s, c := newTestRedis(t)
		ticket := globalid.New(globalid.PrefixTicket)
		if err := s.Touch(ctx, ticket, globalid.New(globalid.PrefixUser), false, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if ttl := c.PTTL(ctx, s.key(ticket)).Val(); ttl <= 0 || ttl > 200*time.Millisecond {
			t.Fatalf("key TTL = %v, want at most 200ms", ttl)
		}
		eventually(t, "key deleted by Redis", func() bool { return c.Exists(ctx, s.key(ticket)).Val() == 0 })
	})

	t.Run("ZeroTTLRemovesOnlyTheUser", func(t *testing.T) {
		s, _ := newTestRedis(t)
		ticket := globalid.New(globalid.PrefixTicket)
		leaving, staying := globalid.New(globalid.PrefixUser), globalid.New(globalid.PrefixUser)
		for _, u := range []globalid.ID{leaving, staying} {
			if err := s.Touch(ctx, ticket, u, false, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Touch(ctx, ticket, leaving, true, 0); err != nil {
			t.Fatal(err)
		}
		if got := list(t, s, ticket); len(got) != 1 || got[0].UserID != staying {
			t.Fatalf("List = %+v, want only %s", got, staying)
		}
	})

	t.Run("RedisDownIsAnError", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		defer c.Close()
		s := NewRedis(c, DefaultPrefix)
		ticket := globalid.New(globalid.PrefixTicket)
		if err := s.Touch(ctx, ticket, globalid.New(globalid.PrefixUser), false, time.Minute); err == nil {
			t.Fatal("Touch succeeded without a server")
		}
		if _, err := s.List(ctx, ticket); err == nil {
			t.Fatal("List succeeded without a server")
		}
	})
}
