package schema

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"entgo.io/ent"

	gen "github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/hook"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/notify"
	"github.com/switchboardhq/switchboard/internal/privacy"
	"github.com/switchboardhq/switchboard/internal/rowlock"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// The event log: every change to a ticket or a message writes an event in
// the same transaction, so the log is exactly what was committed. Live
// updates are built from the log (internal/live). Imports and erasures
// write none (SkipEvents in hooks.go says why).

// EventCursorSequence names the sequence that numbers events.
const EventCursorSequence = "event_cursor"

// Event types.
const (
	EventTicketCreated  = "TICKET_CREATED"
	EventTicketUpdated  = "TICKET_UPDATED"
	EventTicketAssigned = "TICKET_ASSIGNED"
	EventMessageAdded   = "MESSAGE_ADDED"
	// EventMembershipChanged is internal: subscribers of the members
	// named get VIEW_CHANGED.
	EventMembershipChanged = "MEMBERSHIP_CHANGED"
)

// Hooks of the Message.
func (Message) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(recordMessageEvent, ent.OpCreate),
		hook.Reject(ent.OpUpdate | ent.OpDelete | ent.OpDeleteOne),
	}
}

// Hooks of the Group.
func (Group) Hooks() []ent.Hook {
	return []ent.Hook{hook.On(recordMembershipEvent, ent.OpUpdateOne)}
}

// Hooks of the Event: the log is append-only; only retention deletes.
func (Event) Hooks() []ent.Hook {
	return []ent.Hook{hook.Reject(ent.OpUpdate | ent.OpUpdateOne)}
}

// recordTicketEvent writes TICKET_CREATED, or TICKET_UPDATED (TICKET_ASSIGNED
// when the assignee changed) naming the fields that changed, with the
// ticket as it was before and is after the change.
func recordTicketEvent(next ent.Mutator) ent.Mutator {
	return hook.TicketFunc(func(ctx context.Context, m *gen.TicketMutation) (gen.Value, error) {
		if skipping(ctx, SkipEvents) {
			return next.Mutate(ctx, m)
		}
		if m.Op().Is(ent.OpUpdate) {
			// A bulk update would change tickets without saying which.
			return nil, errors.New("tickets are changed one at a time, so that each change is logged")
		}
		tx, err := m.Tx()
		if err != nil {
			return nil, errors.New("tickets must be changed inside a transaction (event log)")
		}
		var before *gen.Ticket
		if id, ok := m.ID(); ok && m.Op().Is(ent.OpUpdateOne) {
			if before, err = LockTicket(ctx, tx, id); err != nil && !gen.IsNotFound(err) {
				return nil, err
			}
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return nil, err
		}
		t, ok := v.(*gen.Ticket)
		if !ok {
			return nil, fmt.Errorf("unexpected ticket mutation result %T", v)
		}
		typ, changes := EventTicketCreated, []string(nil)
		if m.Op().Is(ent.OpUpdateOne) {
			if before == nil {
				// Locked rows cannot vanish; the update would have failed.
				return nil, fmt.Errorf("ticket %s changed while being updated", t.ID)
			}
			changes = TicketChanges(before, t)
			switch {
			case len(changes) == 0:
				// Bookkeeping alone (a reply moving updatedAt): the event
				// of the reply carries it.
				return v, nil
			case slices.Contains(changes, "assignee"):
				typ = EventTicketAssigned
			default:
				typ = EventTicketUpdated
			}
		}
		create := tx.Event.Create().
			SetType(typ).SetTicketID(t.ID).SetRequesterID(t.RequesterID).
			SetNillableGroupID(t.GroupID).SetNillableAssigneeID(t.AssigneeID).
			SetChanges(changes)
		if err := setSnapshots(create, before, t); err != nil {
			return nil, err
		}
		return v, writeEvent(ctx, tx, create, &notify.Cause{Type: typ, Before: before, After: t})
	})
}

// LockTicket reads a ticket as the system, locking its row until the
// transaction ends (PostgreSQL; SQLite's write transaction already holds
// the database), so that what it returns is what the change changes: two
// concurrent changes of one ticket are logged each with the other's
// result as its before.
func LockTicket(ctx context.Context, tx *gen.Tx, id globalid.ID) (*gen.Ticket, error) {
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	return tx.Ticket.Query().Where(ticket.ID(id), rowlock.ForUpdate).Only(sys)
}

// TouchTicket moves the updatedAt of a ticket the transaction has locked
// (LockTicket): the bookkeeping of a reply, in one statement while the
// ticket's other writers wait. It writes no event of its own: the reply's
// MESSAGE_ADDED carries the move (WithLockedTicket).
func TouchTicket(ctx context.Context, tx *gen.Tx, id globalid.ID, at time.Time) error {
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	return tx.Ticket.Update().Where(ticket.ID(id)).SetUpdatedAt(at).Exec(SkipHooks(sys, SkipEvents))
}

type lockedTicketKey struct{}

// lockedTicket is a ticket the transaction has locked, as it was before
// the transaction touched it and as it is now.
type lockedTicket struct{ before, now *gen.Ticket }

// WithLockedTicket tells the message hook the ticket of the message to
// come, which the transaction has locked (LockTicket): as it was before
// (a reply moves the ticket's updatedAt before its message is written,
// and the MESSAGE_ADDED event is the only one that carries that move) and
// as it is now, so that the hook need not read it again.
func WithLockedTicket(ctx context.Context, before, now *gen.Ticket) context.Context {
	ctx = privacy.WithLockedTicket(ctx, now)
	return context.WithValue(ctx, lockedTicketKey{}, lockedTicket{before, now})
}

// recordMessageEvent writes MESSAGE_ADDED, carrying the ticket's reach as
// it is in the same transaction.
func recordMessageEvent(next ent.Mutator) ent.Mutator {
	return hook.MessageFunc(func(ctx context.Context, m *gen.MessageMutation) (gen.Value, error) {
		if skipping(ctx, SkipEvents) {
			return next.Mutate(ctx, m)
		}
		tx, err := m.Tx()
		if err != nil {
			return nil, errors.New("messages must be written inside a transaction (event log)")
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return nil, err
		}
		msg, ok := v.(*gen.Message)
		if !ok {
			return nil, fmt.Errorf("unexpected message mutation result %T", v)
		}
		l, _ := ctx.Value(lockedTicketKey{}).(lockedTicket)
		t, before := l.now, l.before
		if t == nil || t.ID != msg.TicketID {
			if t, err = LockTicket(ctx, tx, msg.TicketID); err != nil {
				return nil, fmt.Errorf("reading the message's ticket: %w", err)
			}
			before = nil
		}
		if before == nil {
			before = t
		}
		create := tx.Event.Create().
			SetType(EventMessageAdded).SetTicketID(t.ID).SetRequesterID(t.RequesterID).
			SetNillableGroupID(t.GroupID).SetNillableAssigneeID(t.AssigneeID).
			SetMessageID(msg.ID).SetInternal(msg.Internal)
		if err := setSnapshots(create, before, t); err != nil {
			return nil, err
		}
		cause := &notify.Cause{Type: EventMessageAdded, After: t, Message: msg}
		if before != t {
			cause.Before = before
		}
		return v, writeEvent(ctx, tx, create, cause)
	})
}

// recordMembershipEvent writes MEMBERSHIP_CHANGED naming the users who
// joined or left a group, so that every instance applies the change to
// their live subscriptions at that point of the log. A new group has no
// tickets, so joining it changes nothing anyone sees. Outside a
// transaction (setup code, tests) no event can be numbered in commit
// order: the change then reaches live connections at their next
// revalidation, as other changes of access do.
func recordMembershipEvent(next ent.Mutator) ent.Mutator {
	return hook.GroupFunc(func(ctx context.Context, m *gen.GroupMutation) (gen.Value, error) {
		if skipping(ctx, SkipEvents) {
			return next.Mutate(ctx, m)
		}
		members := append(m.MembersIDs(), m.RemovedMembersIDs()...)
		if len(members) == 0 && !m.MembersCleared() {
			return next.Mutate(ctx, m)
		}
		tx, err := m.Tx()
		if err != nil {
			return next.Mutate(ctx, m)
		}
		sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
		if id, ok := m.ID(); ok && m.MembersCleared() {
			old, err := tx.Group.Query().Where(group.ID(id)).QueryMembers().IDs(sys)
			if err != nil {
				return nil, err
			}
			members = append(members, old...)
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return nil, err
		}
		g, ok := v.(*gen.Group)
		if !ok {
			return nil, fmt.Errorf("unexpected group mutation result %T", v)
		}
		slices.Sort(members)
		return v, writeEvent(ctx, tx, tx.Event.Create().
			SetType(EventMembershipChanged).SetGroupID(g.ID).SetMembers(slices.Compact(members)), nil)
	})
}

// setSnapshots stores the ticket before and after the change in the event.
func setSnapshots(create *gen.EventCreate, before, after *gen.Ticket) error {
	if before != nil {
		b, err := json.Marshal(before)
		if err != nil {
			return err
		}
		create.SetBefore(b)
	}
	a, err := json.Marshal(after)
	if err != nil {
		return err
	}
	create.SetAfter(a)
	return nil
}

// writeEvent numbers the event from the cursor sequence and saves it, with
// what it causes (internal/notify: notifications, mentions, follows). The
// sequence row stays locked until the transaction ends, which orders
// cursors by commit.
func writeEvent(ctx context.Context, tx *gen.Tx, create *gen.EventCreate, cause *notify.Cause) error {
	var actor globalid.ID
	if v := viewer.FromContext(ctx); v != nil {
		actor = v.UserID
	}
	var plan *notify.Plan
	if cause != nil {
		cause.Actor = actor
		var err error
		if plan, err = notify.Prepare(ctx, tx, *cause); err != nil {
			return err
		}
		if ids := plan.Recipients(); len(ids) > 0 {
			create.SetNotified(ids)
		}
	}
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	cursor, err := nextInSequence(sys, tx, EventCursorSequence)
	if err != nil {
		return fmt.Errorf("advancing event cursor: %w", err)
	}
	if actor != "" {
		create.SetActorID(actor)
	}
	if err := create.SetCursor(int64(cursor)).Exec(sys); err != nil {
		return fmt.Errorf("writing event: %w", err)
	}
	if plan == nil {
		return nil
	}
	return plan.Write(ctx, tx, int64(cursor))
}

// TicketChanges names, as the GraphQL schema does (assignee, group,
// firstRespondedAt), the ticket fields whose value differs between before
// and after, leaving out bookkeeping (updatedAt). Times are compared as
// instants, and an empty list of tags is no tags.
func TicketChanges(before, after *gen.Ticket) []string {
	var out []string
	for _, f := range TicketFields {
		if !sameValue(f.Value(before), f.Value(after)) {
			out = append(out, f.Name)
		}
	}
	return out
}

// TicketField is a ticket field a change can name, by its GraphQL name.
type TicketField struct {
	Name string
	// Value reads the field of a ticket: a string, an ID, a time, a
	// priority or tags, or nil when unset.
	Value func(t *gen.Ticket) any
}

// TicketFields are the ticket fields changes name, in schema order.
var TicketFields = []TicketField{
	{"subject", func(t *gen.Ticket) any { return t.Subject }},
	{"status", func(t *gen.Ticket) any { return t.Status }},
	{"priority", func(t *gen.Ticket) any { return t.Priority }},
	{"tags", func(t *gen.Ticket) any { return t.Tags }},
	{"assignee", func(t *gen.Ticket) any { return t.AssigneeID }},
	{"group", func(t *gen.Ticket) any { return t.GroupID }},
	{"firstResponseDueAt", func(t *gen.Ticket) any { return t.FirstResponseDueAt }},
	{"resolutionDueAt", func(t *gen.Ticket) any { return t.ResolutionDueAt }},
	{"firstRespondedAt", func(t *gen.Ticket) any { return t.FirstRespondedAt }},
	{"solvedAt", func(t *gen.Ticket) any { return t.SolvedAt }},
}

// sameValue compares field values, seeing through pointers (nillable
// fields) and comparing times as instants.
func sameValue(a, b any) bool {
	a, b = indirect(a), indirect(b)
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return reflect.DeepEqual(a, b)
}

func indirect(v any) any {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() || (rv.Kind() == reflect.Slice && rv.Len() == 0) {
		return nil // an empty list is no list
	}
	return rv.Interface()
}
