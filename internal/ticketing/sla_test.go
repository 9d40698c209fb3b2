package ticketing_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent/slapolicy"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
)

func TestCachedSLAPolicies(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	// hooked reads and changes policies through the cache; direct changes
	// them behind its back.
	hooked, direct := tg.Open(t), tg.Open(t)
	// A long TTL: what the cache answers it answers until invalidated.
	c := &countingCache{Cache: cache.NewMemory(100, time.Hour)}
	ticketing.CacheSLAPolicies(hooked, c)
	d := newDesk(t, hooked)
	policy, err := hooked.SLAPolicy.Create().SetPriority(priority.Normal).SetFirstResponseMinutes(60).SetResolutionMinutes(240).Save(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	responseTarget := func(t *testing.T) time.Duration {
		t.Helper()
		tk := d.open(t, "printer")
		if tk.FirstResponseDueAt == nil {
			return 0
		}
		return tk.FirstResponseDueAt.Sub(tk.CreatedAt).Round(time.Minute)
	}

	t.Run("DueTimesFromThePolicy", func(t *testing.T) {
		if got := responseTarget(t); got != time.Hour {
			t.Fatalf("first response due after %v, want 1h", got)
		}
	})
	t.Run("CacheAnswers", func(t *testing.T) {
		if err := direct.SLAPolicy.UpdateOneID(policy.ID).SetFirstResponseMinutes(5).Exec(d.sys); err != nil {
			t.Fatal(err)
		}
		if got := responseTarget(t); got != time.Hour {
			t.Fatalf("first response due after %v: the policy was read from the database, not the cache", got)
		}
	})
	t.Run("ChangedPolicyAppliesAtOnce", func(t *testing.T) {
		if err := hooked.SLAPolicy.UpdateOneID(policy.ID).SetFirstResponseMinutes(30).Exec(d.sys); err != nil {
			t.Fatal(err)
		}
		if got := responseTarget(t); got != 30*time.Minute {
			t.Fatalf("first response due after %v, want the changed policy's 30m", got)
		}
	})
	t.Run("ChangeInATransactionAppliesAfterCommit", func(t *testing.T) {
		tx, err := hooked.Tx(d.sys)
		if err != nil {
			t.Fatal(err)
		}
		before := c.invalidations.Load()
		if err := tx.SLAPolicy.UpdateOneID(policy.ID).SetFirstResponseMinutes(45).Exec(d.sys); err != nil {
			t.Fatal(err)
		}
		if c.invalidations.Load() != before {
			t.Fatal("invalidated before the commit: a read in between would cache the old policy")
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := responseTarget(t); got != 45*time.Minute {
			t.Fatalf("first response due after %v, want the committed 45m", got)
		}
	})
	t.Run("RolledBackChangeNeverApplies", func(t *testing.T) {
		// A change through the hooks leaves the cache without the policies.
		if err := hooked.SLAPolicy.UpdateOneID(policy.ID).SetFirstResponseMinutes(45).Exec(d.sys); err != nil {
			t.Fatal(err)
		}
		tx, err := hooked.Tx(d.sys)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.SLAPolicy.UpdateOneID(policy.ID).SetFirstResponseMinutes(1).Exec(d.sys); err != nil {
			t.Fatal(err)
		}
		// A ticket in the same transaction reads (and caches) the policy
		// as the transaction sees it.
		if _, err := tx.Ticket.Create().SetSubject("in tx").SetRequesterID(d.customer.ID).SetPriority(priority.Normal).Save(d.sys); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got := responseTarget(t); got != 45*time.Minute {
			t.Fatalf("first response due after %v, want 45m: a rolled-back change was served from the cache", got)
		}
	})
	t.Run("DeletedPolicyMeansNoDueTimes", func(t *testing.T) {
		if _, err := hooked.SLAPolicy.Delete().Where(slapolicy.ID(policy.ID)).Exec(d.sys); err != nil {
			t.Fatal(err)
		}
		if got := responseTarget(t); got != 0 {
			t.Fatalf("first response due after %v with no policy", got)
		}
	})
}

// countingCache counts invalidations.
type countingCache struct {
	cache.Cache
	invalidations atomic.Int64
}

func (c *countingCache) Invalidate(ctx context.Context, keys ...string) {
	c.invalidations.Add(1)
	c.Cache.Invalidate(ctx, keys...)
}
