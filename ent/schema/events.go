package schema

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"entgo.io/ent"

	gen "github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/hook"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/sequence"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// The event log: every change to a ticket or a message writes an event in
// the same transaction, so the log is exactly what was committed. Live
// updates are built from the log (internal/live).

// EventCursorSequence names the sequence that numbers events.
const EventCursorSequence = "event_cursor"

// Event types.
const (
	EventTicketCreated  = "TICKET_CREATED"
	EventTicketUpdated  = "TICKET_UPDATED"
	EventTicketAssigned = "TICKET_ASSIGNED"
	EventMessageAdded   = "MESSAGE_ADDED"
)

// Hooks of the Message.
func (Message) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(recordMessageEvent, ent.OpCreate),
		hook.Reject(ent.OpUpdate | ent.OpDelete | ent.OpDeleteOne),
	}
}

// Hooks of the Event: the log is append-only; only retention deletes.
func (Event) Hooks() []ent.Hook {
	return []ent.Hook{hook.Reject(ent.OpUpdate | ent.OpUpdateOne)}
}

// recordTicketEvent writes TICKET_CREATED, or TICKET_UPDATED (TICKET_ASSIGNED
// when the assignee changed) naming the fields that changed.
func recordTicketEvent(next ent.Mutator) ent.Mutator {
	return hook.TicketFunc(func(ctx context.Context, m *gen.TicketMutation) (gen.Value, error) {
		if m.Op().Is(ent.OpUpdate) {
			// A bulk update would change tickets without saying which.
			return nil, errors.New("tickets are changed one at a time, so that each change is logged")
		}
		tx, err := m.Tx()
		if err != nil {
			return nil, errors.New("tickets must be changed inside a transaction (event log)")
		}
		changes, err := ticketChanges(ctx, m)
		if err != nil {
			return nil, err
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return nil, err
		}
		t, ok := v.(*gen.Ticket)
		if !ok {
			return nil, fmt.Errorf("unexpected ticket mutation result %T", v)
		}
		typ := EventTicketUpdated
		switch {
		case m.Op().Is(ent.OpCreate):
			typ, changes = EventTicketCreated, nil
		case len(changes) == 0:
			return v, nil
		case slices.Contains(changes, "assignee"):
			typ = EventTicketAssigned
		}
		return v, writeEvent(ctx, tx, tx.Event.Create().
			SetType(typ).SetTicketID(t.ID).SetRequesterID(t.RequesterID).
			SetNillableGroupID(t.GroupID).SetNillableAssigneeID(t.AssigneeID).
			SetChanges(changes))
	})
}

// recordMessageEvent writes MESSAGE_ADDED, carrying the ticket's reach as
// it is in the same transaction.
func recordMessageEvent(next ent.Mutator) ent.Mutator {
	return hook.MessageFunc(func(ctx context.Context, m *gen.MessageMutation) (gen.Value, error) {
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
		sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
		t, err := tx.Ticket.Query().Where(ticket.ID(msg.TicketID)).Only(sys)
		if err != nil {
			return nil, fmt.Errorf("reading the message's ticket: %w", err)
		}
		return v, writeEvent(ctx, tx, tx.Event.Create().
			SetType(EventMessageAdded).SetTicketID(t.ID).SetRequesterID(t.RequesterID).
			SetNillableGroupID(t.GroupID).SetNillableAssigneeID(t.AssigneeID).
			SetMessageID(msg.ID).SetInternal(msg.Internal))
	})
}

// writeEvent numbers the event from the cursor sequence and saves it. The
// sequence row stays locked until the transaction ends, which orders
// cursors by commit.
func writeEvent(ctx context.Context, tx *gen.Tx, create *gen.EventCreate) error {
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	n, err := tx.Sequence.Update().Where(sequence.Name(EventCursorSequence)).AddValue(1).Save(sys)
	if err != nil {
		return fmt.Errorf("advancing event cursor: %w", err)
	}
	if n == 0 {
		return errors.New("event cursor sequence missing: run the migrations")
	}
	seq, err := tx.Sequence.Query().Where(sequence.Name(EventCursorSequence)).Only(sys)
	if err != nil {
		return fmt.Errorf("reading event cursor: %w", err)
	}
	if v := viewer.FromContext(ctx); v != nil && v.UserID != "" {
		create.SetActorID(v.UserID)
	}
	if err := create.SetCursor(int64(seq.Value)).Exec(sys); err != nil {
		return fmt.Errorf("writing event: %w", err)
	}
	return nil
}

// ticketChanges names the fields whose value the update changes, as the
// GraphQL schema does (assignee, group, firstRespondedAt), leaving out
// bookkeeping. Setting a field to its old value, or clearing one that was
// already empty, is no change.
func ticketChanges(ctx context.Context, m *gen.TicketMutation) ([]string, error) {
	if !m.Op().Is(ent.OpUpdateOne) {
		return nil, nil
	}
	sys := entprivacy.DecisionContext(ctx, entprivacy.Allow)
	var out []string
	for _, f := range m.Fields() {
		if f == ticket.FieldUpdatedAt {
			continue
		}
		old, err := m.OldField(sys, f)
		if err != nil {
			return nil, err
		}
		now, _ := m.Field(f)
		if !sameValue(old, now) {
			out = append(out, graphQLName(f))
		}
	}
	for _, f := range m.ClearedFields() {
		old, err := m.OldField(sys, f)
		if err != nil {
			return nil, err
		}
		if !sameValue(old, nil) && !slices.Contains(out, graphQLName(f)) {
			out = append(out, graphQLName(f))
		}
	}
	if tags, ok := m.AppendedTags(); ok && len(tags) > 0 && !slices.Contains(out, "tags") {
		out = append(out, "tags")
	}
	return out, nil
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

// graphQLName turns a column name into its GraphQL field name:
// assignee_id → assignee, first_responded_at → firstRespondedAt.
func graphQLName(column string) string {
	column = strings.TrimSuffix(column, "_id")
	parts := strings.Split(column, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
