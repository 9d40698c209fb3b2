package live

import (
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

var staffOnly = map[string]bool{"firstResponseDueAt": true, "resolutionDueAt": true}

func TestVisible(t *testing.T) {
	group := globalid.ID("GR1")
	tk := &ent.Ticket{ID: "TK1", RequesterID: "US1", GroupID: &group}
	customer := &viewer.Viewer{UserID: "US1", Role: viewer.Customer}
	other := &viewer.Viewer{UserID: "US2", Role: viewer.Customer}
	agent := &viewer.Viewer{UserID: "US3", Role: viewer.Agent, GroupIDs: []globalid.ID{group}}
	outsider := &viewer.Viewer{UserID: "US4", Role: viewer.Agent}
	admin := &viewer.Viewer{UserID: "US5", Role: viewer.Admin}
	for _, c := range []struct {
		name string
		e    *Event
		v    *viewer.Viewer
		want bool
	}{
		{"CustomerSeesOwnTicket", &Event{Type: "TICKET_UPDATED", Ticket: tk, After: tk, Changes: ch("status")}, customer, true},
		{"CustomerNeverSeesInternalNote", &Event{Type: "MESSAGE_ADDED", Ticket: tk, After: tk, Internal: true}, customer, false},
		{"CustomerDoesNotLearnOfSLAChanges", &Event{Type: "TICKET_UPDATED", Ticket: tk, After: tk, Changes: ch("firstResponseDueAt", "resolutionDueAt")}, customer, false},
		{"OtherCustomerSeesNothing", &Event{Type: "TICKET_CREATED", Ticket: tk, After: tk}, other, false},
		{"AgentOfTheGroup", &Event{Type: "MESSAGE_ADDED", Ticket: tk, After: tk, Internal: true}, agent, true},
		{"AgentOutsideTheGroup", &Event{Type: "TICKET_CREATED", Ticket: tk, After: tk}, outsider, false},
		{"AgentAssigned", &Event{Type: "TICKET_CREATED", After: &ent.Ticket{ID: "TK2", RequesterID: "US1", AssigneeID: &outsider.UserID}}, outsider, true},
		{"AdminSeesAll", &Event{Type: "TICKET_UPDATED", Ticket: tk, After: tk, Changes: ch("resolutionDueAt")}, admin, true},
		{"AnonymousSeesNothing", &Event{Type: "TICKET_CREATED", Ticket: tk, After: tk}, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Visible(c.v, c.e, staffOnly); got != c.want {
				t.Fatalf("Visible = %v, want %v", got, c.want)
			}
		})
	}
	t.Run("ChangesForCustomersLeaveOutStaffOnlyFields", func(t *testing.T) {
		got := ChangesFor(customer, ch("priority", "firstResponseDueAt"), staffOnly)
		if len(got) != 1 || got[0].Field != "priority" {
			t.Fatalf("changes = %v", got)
		}
		if got := ChangesFor(agent, ch("priority", "firstResponseDueAt"), staffOnly); len(got) != 2 {
			t.Fatalf("agent changes = %v", got)
		}
	})
}

func ch(fields ...string) []*FieldChange {
	out := make([]*FieldChange, len(fields))
	for i, f := range fields {
		out[i] = &FieldChange{Field: f}
	}
	return out
}
