package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent"

	gen "github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/apitoken"
	"github.com/switchboardhq/switchboard/ent/hook"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/sequence"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/clock"
	"github.com/switchboardhq/switchboard/internal/routing"
)

// Business rules that every entry point obeys (GraphQL, CLI, imports):
// GraphQL, the CLI, `import` (internal/bulk) and `user erase`
// (internal/erase) all write through ent, so these hooks, the privacy
// policies and the hooks other packages add to the client (cached
// credentials in internal/auth, SLA policies in internal/ticketing) see
// every change. Only `seed` writes around them, with plain SQL for speed,
// and keeps by hand what they would (see internal/seed).
//
// A few rules are about changes made here and now, and do not fit an
// import, which writes another helpdesk's history as it was, or an
// erasure, which rewrites text that must go. For those the writer turns
// one hook off for its context with a Skip flag (SkipHooks); each flag
// below names its hook and says why. Only internal/bulk and internal/erase
// set them, and nothing reachable from the API does. Every hook without a
// flag always runs: email normalisation, ticket numbering (an imported
// ticket keeps its number and moves the sequence past it), revocation on
// deactivation, and encryption of confidential fields (ent/schema/user.go).

// Skip is a set of hooks that a context turns off.
type Skip uint

// The hooks a context can turn off.
const (
	// SkipRouting turns off routeTicket. An imported ticket keeps the
	// group and agent of the file, or their absence: routing rules and
	// the default group place new requests, and round-robin would count
	// history as new load.
	SkipRouting Skip = 1 << iota
	// SkipSLA turns off applySLA. An imported ticket keeps the due times
	// of the file, which are the ones it had when it was opened and say
	// whether the SLA was met; today's policies may differ or be missing.
	SkipSLA
	// SkipStatusRules turns off trackTicketStatus. An import writes the
	// status and solvedAt of the file as they were recorded, also over a
	// ticket closed since the file was made (the file's values win, as
	// for every field); "closed is final" and "solved now" are rules for
	// changes made here.
	SkipStatusRules
	// SkipEvents turns off the event log (recordTicketEvent,
	// recordMessageEvent, recordMembershipEvent: one rule, "every change
	// writes an event", on three entities), and with it the
	// notifications, mentions and follows that events cause. Imported
	// history is not news to live subscribers, and nobody is to be
	// notified again of old messages. An erasure's event would carry the
	// ticket as it was before the change, the text being erased, into the
	// log. Live clients see such changes on their next read.
	SkipEvents
)

type skipKey struct{}

// SkipHooks returns ctx with the hooks of s turned off for the writes made
// with it, in addition to those ctx already turns off.
func SkipHooks(ctx context.Context, s Skip) context.Context {
	return context.WithValue(ctx, skipKey{}, skipped(ctx)|s)
}

func skipped(ctx context.Context) Skip {
	s, _ := ctx.Value(skipKey{}).(Skip)
	return s
}

// skipping reports whether ctx turns the hook s off.
func skipping(ctx context.Context, s Skip) bool { return skipped(ctx)&s != 0 }

// Hooks of the User.
func (User) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(normalizeEmail, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
		hook.On(revokeCredentialsOnDeactivation, ent.OpUpdate|ent.OpUpdateOne),
	}
}

// Hooks of the Ticket.
func (Ticket) Hooks() []ent.Hook {
	return []ent.Hook{
		// First: a refused ticket takes no number and no routing.
		hook.On(checkRequester, ent.OpCreate),
		hook.On(assignTicketNumber, ent.OpCreate),
		// Before the SLA: a rule may change the priority.
		hook.On(routeTicket, ent.OpCreate),
		// After routing, which may assign round-robin.
		hook.On(checkAssignee, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
		hook.On(applySLA, ent.OpCreate|ent.OpUpdateOne),
		hook.On(trackTicketStatus, ent.OpUpdateOne),
		// Last, so the event sees the final values of the other hooks.
		hook.On(recordTicketEvent, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
		hook.Reject(ent.OpDelete | ent.OpDeleteOne),
	}
}

// Hooks of the RoutingRule.
func (RoutingRule) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.RoutingRuleFunc(func(ctx context.Context, m *gen.RoutingRuleMutation) (gen.Value, error) {
				if err := routing.CheckRule(m); err != nil {
					return nil, err
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}

// routeTicket gives a new ticket its group and maybe its agent
// (internal/routing), in the creating transaction.
func routeTicket(next ent.Mutator) ent.Mutator {
	return hook.TicketFunc(func(ctx context.Context, m *gen.TicketMutation) (gen.Value, error) {
		if skipping(ctx, SkipRouting) {
			return next.Mutate(ctx, m)
		}
		tx, err := m.Tx()
		if err != nil {
			return nil, errors.New("tickets must be created inside a transaction (routing)")
		}
		if err := routing.Route(ctx, tx, m); err != nil {
			return nil, err
		}
		return next.Mutate(ctx, m)
	})
}

// TicketNumberSequence names the sequence that numbers tickets.
const TicketNumberSequence = "ticket_number"

// NormalizeEmail is the form an address is stored in: trimmed and
// lower-cased, so the unique index on email is case-insensitive in every
// database. Lookups by address (sign-in, import, erasure) use it too.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// normalizeEmail stores addresses in their normal form.
func normalizeEmail(next ent.Mutator) ent.Mutator {
	return hook.UserFunc(func(ctx context.Context, m *gen.UserMutation) (gen.Value, error) {
		if e, ok := m.Email(); ok {
			m.SetEmail(NormalizeEmail(e))
		}
		return next.Mutate(ctx, m)
	})
}

// revokeCredentialsOnDeactivation ends every session and API token of a
// user who is deactivated, in the same transaction.
func revokeCredentialsOnDeactivation(next ent.Mutator) ent.Mutator {
	return hook.UserFunc(func(ctx context.Context, m *gen.UserMutation) (gen.Value, error) {
		active, ok := m.Active()
		if !ok || active {
			return next.Mutate(ctx, m)
		}
		ids, err := m.IDs(ctx)
		if err != nil {
			return nil, err
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return nil, err
		}
		sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
		now := time.Now()
		if err := m.Client().Session.Update().Where(session.UserIDIn(ids...), session.RevokedAtIsNil()).SetRevokedAt(now).Exec(sys); err != nil {
			return nil, fmt.Errorf("revoking sessions: %w", err)
		}
		if err := m.Client().APIToken.Update().Where(apitoken.UserIDIn(ids...), apitoken.RevokedAtIsNil()).SetRevokedAt(now).Exec(sys); err != nil {
			return nil, fmt.Errorf("revoking API tokens: %w", err)
		}
		return v, nil
	})
}

// assignTicketNumber takes the next ticket number from the sequence row,
// inside the creating transaction: the row lock (PostgreSQL) or the write
// lock (SQLite) serialises concurrent creators, and a rollback returns the
// number, so numbers are unique and gap-free. A ticket created with its
// number (an import) keeps it, and the sequence moves past it, so that the
// tickets created here afterwards number after every imported one.
func assignTicketNumber(next ent.Mutator) ent.Mutator {
	return hook.TicketFunc(func(ctx context.Context, m *gen.TicketMutation) (gen.Value, error) {
		tx, err := m.Tx()
		if err != nil {
			return nil, errors.New("tickets must be created inside a transaction (ticket numbering)")
		}
		sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
		if given, ok := m.Number(); ok {
			// Only a sequence behind the number changes (and is locked).
			err := tx.Sequence.Update().Where(sequence.Name(TicketNumberSequence), sequence.ValueLT(given)).SetValue(given).Exec(sys)
			if err != nil {
				return nil, fmt.Errorf("advancing ticket number past %d: %w", given, err)
			}
			return next.Mutate(ctx, m)
		}
		n, err := nextInSequence(sys, tx, TicketNumberSequence)
		if err != nil {
			return nil, fmt.Errorf("advancing ticket number: %w", err)
		}
		m.SetNumber(n)
		return next.Mutate(ctx, m)
	})
}

// applySLA sets the due times from the SLA policy of the ticket's priority:
// at creation, and again when the priority changes.
func applySLA(next ent.Mutator) ent.Mutator {
	return hook.TicketFunc(func(ctx context.Context, m *gen.TicketMutation) (gen.Value, error) {
		p, ok := m.Priority()
		if !ok || skipping(ctx, SkipSLA) {
			return next.Mutate(ctx, m)
		}
		start := clock.Now(ctx)
		if created, ok := m.CreatedAt(); ok {
			start = created
		}
		if m.Op().Is(ent.OpUpdateOne) {
			created, err := m.OldCreatedAt(ctx)
			if err != nil {
				return nil, err
			}
			start = created
		}
		policy, err := readSLAPolicy(ctx, m.Client(), p)
		switch {
		case err != nil:
			return nil, fmt.Errorf("reading SLA policy: %w", err)
		case policy == nil:
			m.ClearFirstResponseDueAt()
			m.ClearResolutionDueAt()
		default:
			m.SetFirstResponseDueAt(start.Add(time.Duration(policy.FirstResponseMinutes) * time.Minute))
			m.SetResolutionDueAt(start.Add(time.Duration(policy.ResolutionMinutes) * time.Minute))
		}
		return next.Mutate(ctx, m)
	})
}

// trackTicketStatus enforces the status rules: CLOSED is final, and
// solvedAt follows the status.
func trackTicketStatus(next ent.Mutator) ent.Mutator {
	return hook.TicketFunc(func(ctx context.Context, m *gen.TicketMutation) (gen.Value, error) {
		status, ok := m.Status()
		if !ok || skipping(ctx, SkipStatusRules) {
			return next.Mutate(ctx, m)
		}
		old, err := m.OldStatus(ctx)
		if err != nil {
			return nil, err
		}
		if old == ticket.StatusCLOSED && status != ticket.StatusCLOSED {
			return nil, apierr.Errorf(apierr.Conflict, "ticket is closed; open a new ticket instead")
		}
		if status != ticket.StatusCLOSED {
			// Guards against a close that commits between the read above
			// and this write: the update then matches no row.
			m.Where(ticket.StatusNEQ(ticket.StatusCLOSED))
		}
		switch {
		case status == ticket.StatusSOLVED && old != ticket.StatusSOLVED:
			m.SetSolvedAt(clock.Now(ctx))
		case status != ticket.StatusSOLVED && status != ticket.StatusCLOSED:
			m.ClearSolvedAt()
		}
		return next.Mutate(ctx, m)
	})
}
