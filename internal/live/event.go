package live

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/globalid"
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

// Event is one entry of the log as delivered to subscribers: built once
// per event and shared by every subscriber it reaches, so it must never be
// changed after it is built.
type Event struct {
	Seq         int64
	Type        EventType
	TicketID    globalid.ID
	RequesterID globalid.ID
	Internal    bool
	Changes     []string
	At          time.Time
	// The ticket as it is when the event is delivered, with its
	// requester, assignee and group loaded; the message with its author
	// and ticket; the user who made the change (nil: the system).
	Ticket  *ent.Ticket
	Message *ent.Message
	Actor   *ent.User
}

// Cursor is the event's position in the log, for resuming with after:.
func (e *Event) Cursor() string { return strconv.FormatInt(e.Seq, 10) }

// ParseCursor reads a cursor given by a client.
func ParseCursor(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// Visible reports whether v may see e: the privacy rules applied in memory
// to the ticket as it is now (privacy.MessageInReach), and customers do not
// learn of changes to staff-only fields alone.
func Visible(v *viewer.Viewer, e *Event, staffOnly map[string]bool) bool {
	if v.IsCustomer() && e.Type != EventTicketCreated && e.Type != EventMessageAdded &&
		!slices.ContainsFunc(e.Changes, func(c string) bool { return !staffOnly[c] }) {
		return false
	}
	return privacy.MessageInReach(v, e.Ticket, e.Internal)
}

// The event types that are not updates.
const (
	EventTicketCreated EventType = "TICKET_CREATED"
	EventMessageAdded  EventType = "MESSAGE_ADDED"
)

// ChangesFor is the list of changed fields v may know of: staff see all,
// others none of staffOnly (the ticket fields marked @staffOnly in the
// schema, see graph.StaffOnlyFields).
func ChangesFor(v *viewer.Viewer, changes []string, staffOnly map[string]bool) []string {
	if v.IsStaff() {
		return changes
	}
	out := make([]string, 0, len(changes))
	for _, c := range changes {
		if !staffOnly[c] {
			out = append(out, c)
		}
	}
	return out
}

// Filter narrows a subscription to one ticket or one group.
type Filter struct {
	TicketID globalid.ID
	GroupID  globalid.ID
}

func (f Filter) matches(e *Event) bool {
	if f.TicketID != "" && e.TicketID != f.TicketID {
		return false
	}
	if f.GroupID != "" && (e.Ticket == nil || e.Ticket.GroupID == nil || *e.Ticket.GroupID != f.GroupID) {
		return false
	}
	return true
}
