package ticketing

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/hook"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/slapolicy"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/priority"
)

// SLATarget is an SLA policy's targets for one priority, in minutes.
type SLATarget struct {
	Priority                                priority.Priority
	FirstResponseMinutes, ResolutionMinutes int
}

// DefaultSLATargets are the policies a demo or seeded helpdesk starts
// with, by priority from low to urgent.
var DefaultSLATargets = []SLATarget{
	{priority.Low, 24 * 60, 7 * 24 * 60}, {priority.Normal, 8 * 60, 3 * 24 * 60},
	{priority.High, 2 * 60, 24 * 60}, {priority.Urgent, 30, 4 * 60},
}

// slaPoliciesKey is the cache key of all SLA policies: one per priority at
// most, so they are read and kept whole.
const slaPoliciesKey = "sla-policies"

// CacheSLAPolicies makes every ticket change through client read the SLA
// policies from c (the ticket hooks set due times from them), and every
// change to a policy invalidate them after its commit.
func CacheSLAPolicies(client *ent.Client, c cache.Cache) {
	read := func(ctx context.Context, client *ent.Client, p priority.Priority) (*ent.SLAPolicy, error) {
		policies, err := slaPolicies(ctx, client, c)
		if err != nil {
			return nil, err
		}
		for _, sp := range policies {
			if sp.Priority == p {
				return sp, nil
			}
		}
		return nil, nil
	}
	client.Ticket.Use(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			return next.Mutate(schema.WithSLAPolicyReader(ctx, read), m)
		})
	})
	client.SLAPolicy.Use(func(next ent.Mutator) ent.Mutator {
		return hook.SLAPolicyFunc(func(ctx context.Context, m *ent.SLAPolicyMutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err == nil {
				cache.InvalidateAfterCommit(ctx, c, m, slaPoliciesKey)
			}
			return v, err
		})
	})
}

// slaPolicies returns the policies (the fields the due times need) from c,
// else from the database.
func slaPolicies(ctx context.Context, client *ent.Client, c cache.Cache) ([]*ent.SLAPolicy, error) {
	raw, ok, ticket := c.Lookup(ctx, slaPoliciesKey)
	var out []*ent.SLAPolicy
	if ok && json.Unmarshal(raw, &out) == nil {
		return out, nil
	}
	out, err := client.SLAPolicy.Query().
		Select(slapolicy.FieldPriority, slapolicy.FieldFirstResponseMinutes, slapolicy.FieldResolutionMinutes).
		All(entprivacy.DecisionContext(ctx, entprivacy.Allow))
	if err != nil {
		return nil, fmt.Errorf("reading SLA policies: %w", err)
	}
	if raw, err := json.Marshal(out); err == nil {
		c.Store(ctx, ticket, raw)
	}
	return out, nil
}
