package live

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/privacy"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// EventType says what happened (the GraphQL enum TicketEventType).
type EventType string

// MarshalGQL writes the enum value.
func (t EventType) MarshalGQL(w io.Writer) { fmt.Fprint(w, strconv.Quote(string(t))) }

// UnmarshalGQL reads the enum value.
func (t *EventType) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("TicketEventType must be a string")
	}
	*t = EventType(s)
	return nil
}

// The event types that are not updates, and those that say how an event
// changed the subscriber's view.
const (
	EventTicketCreated EventType = entschema.EventTicketCreated
	EventMessageAdded  EventType = entschema.EventMessageAdded
	EventTicketEntered EventType = "TICKET_ENTERED"
	EventTicketLeft    EventType = "TICKET_LEFT"
	EventViewChanged   EventType = "VIEW_CHANGED"
	// eventMembership is the log's MEMBERSHIP_CHANGED, never delivered as
	// such: it becomes VIEW_CHANGED for the members it names.
	eventMembership EventType = entschema.EventMembershipChanged
)

// FieldChange is one changed ticket field with its old and new value, as
// JSON values typed as in queries (see fieldValue).
type FieldChange struct {
	Field string
	From  any
	To    any
}

// Event is one entry of the log as delivered to subscribers: built once
// per event and shared by every subscriber it reaches, so it must never be
// changed after it is built.
type Event struct {
	Seq         int64
	Type        EventType
	TicketID    globalid.ID
	RequesterID globalid.ID
	Internal    bool
	Changes     []*FieldChange
	At          time.Time
	// Before and After are the ticket's columns on either side of the
	// change, as committed with it (Before is nil for TICKET_CREATED).
	// Events logged before snapshots existed have the current ticket on
	// both sides.
	Before, After *ent.Ticket
	// Members are the users whose groups changed (MEMBERSHIP_CHANGED).
	Members []globalid.ID
	// Notified are the users the event notified (internal/notify): their
	// notifications subscriptions read the notifications of the event.
	Notified []globalid.ID
	// The ticket as it is when the event is delivered, with its
	// requester, assignee and group loaded; the message with its author
	// and ticket; the user who made the change (nil: the system).
	Ticket  *ent.Ticket
	Message *ent.Message
	Actor   *ent.User

	// The event as those it brings a ticket to (TICKET_ENTERED) and
	// takes it from (TICKET_LEFT) receive it, built with the event.
	entered, left *Event
}

// Cursor is the event's position in the log, for resuming with after:.
func (e *Event) Cursor() string { return strconv.FormatInt(e.Seq, 10) }

// ParseCursor reads a cursor given by a client.
func ParseCursor(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// withViews builds the TICKET_ENTERED and TICKET_LEFT forms of e. The
// entered form carries the ticket but no changes (their old values are of
// a ticket the subscriber could not see) and no actor; the left form only the ticket's
// ID and the cursor, nothing the subscriber may no longer read.
func (e *Event) withViews() *Event {
	// No actor either: the change that brought the ticket in may be one
	// the subscriber may not see (an internal note moving updatedAt).
	e.entered = &Event{Seq: e.Seq, Type: EventTicketEntered, TicketID: e.TicketID, RequesterID: e.RequesterID,
		Changes: []*FieldChange{}, At: e.At, Before: e.Before, After: e.After, Ticket: e.Ticket}
	e.left = &Event{Seq: e.Seq, Type: EventTicketLeft, TicketID: e.TicketID, RequesterID: e.RequesterID,
		Changes: []*FieldChange{}, At: e.At, Before: e.Before, After: e.After}
	return e
}

// viewChanged is the VIEW_CHANGED event at cursor seq.
func viewChanged(seq int64, at time.Time) *Event {
	return &Event{Seq: seq, Type: EventViewChanged, Changes: []*FieldChange{}, At: at}
}

// Visible reports whether v may see e on a ticket it may see on both sides
// of the change: customers do not see internal notes, nor learn of changes
// to staff-only fields alone.
func Visible(v *viewer.Viewer, e *Event, staffOnly map[string]bool) bool {
	if v.IsCustomer() && e.Type != EventTicketCreated && e.Type != EventMessageAdded &&
		!slices.ContainsFunc(e.Changes, func(c *FieldChange) bool { return !staffOnly[c.Field] }) {
		return false
	}
	return privacy.MessageInReach(v, e.After, e.Internal)
}

// ChangesFor is the list of changes v may know of: staff see all, others
// none of staffOnly (the ticket fields marked @staffOnly in the schema,
// see graph.StaffOnlyFields).
func ChangesFor(v *viewer.Viewer, changes []*FieldChange, staffOnly map[string]bool) []*FieldChange {
	if v.IsStaff() {
		return changes
	}
	out := make([]*FieldChange, 0, len(changes))
	for _, c := range changes {
		if !staffOnly[c.Field] {
			out = append(out, c)
		}
	}
	return out
}

// fieldChanges lists the named fields with their values before and after.
func fieldChanges(names []string, before, after *ent.Ticket) []*FieldChange {
	out := make([]*FieldChange, 0, len(names))
	for _, name := range names {
		c := &FieldChange{Field: name}
		for _, f := range entschema.TicketFields {
			if f.Name == name && before != nil && after != nil {
				c.From, c.To = fieldValue(f.Value(before)), fieldValue(f.Value(after))
			}
		}
		out = append(out, c)
	}
	return out
}

// fieldValue is a ticket field's value as a client reads it in queries:
// enum names, IDs and RFC 3339 times as strings, tags as a list, unset as
// null.
func fieldValue(v any) any {
	switch v := v.(type) {
	case *globalid.ID:
		if v == nil {
			return nil
		}
		return string(*v)
	case *time.Time:
		if v == nil {
			return nil
		}
		return v.UTC().Format(time.RFC3339Nano)
	case priority.Priority:
		return v.String()
	case []string:
		if v == nil {
			return []string{}
		}
		return v
	case fmt.Stringer:
		return v.String()
	case string:
		return v
	}
	return fmt.Sprint(v)
}
