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
		{"CustomerSeesOwnTicket", &Event{Type: "TICKET_UPDATED", Ticket: tk, Changes: []string{"status"}}, customer, true},
		{"CustomerNeverSeesInternalNote", &Event{Type: "MESSAGE_ADDED", Ticket: tk, Internal: true}, customer, false},
		{"CustomerDoesNotLearnOfSLAChanges", &Event{Type: "TICKET_UPDATED", Ticket: tk, Changes: []string{"firstResponseDueAt", "resolutionDueAt"}}, customer, false},
		{"OtherCustomerSeesNothing", &Event{Type: "TICKET_CREATED", Ticket: tk}, other, false},
		{"AgentOfTheGroup", &Event{Type: "MESSAGE_ADDED", Ticket: tk, Internal: true}, agent, true},
		{"AgentOutsideTheGroup", &Event{Type: "TICKET_CREATED", Ticket: tk}, outsider, false},
		{"AgentAssigned", &Event{Type: "TICKET_CREATED", Ticket: &ent.Ticket{ID: "TK2", RequesterID: "US1", AssigneeID: &outsider.UserID}}, outsider, true},
		{"AdminSeesAll", &Event{Type: "TICKET_UPDATED", Ticket: tk, Changes: []string{"resolutionDueAt"}}, admin, true},
		{"AnonymousSeesNothing", &Event{Type: "TICKET_CREATED", Ticket: tk}, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Visible(c.v, c.e, staffOnly); got != c.want {
				t.Fatalf("Visible = %v, want %v", got, c.want)
			}
		})
	}
	t.Run("ChangesForCustomersLeaveOutStaffOnlyFields", func(t *testing.T) {
		got := ChangesFor(customer, []string{"priority", "firstResponseDueAt"}, staffOnly)
		if len(got) != 1 || got[0] != "priority" {
			t.Fatalf("changes = %v", got)
		}
		if got := ChangesFor(agent, []string{"priority", "firstResponseDueAt"}, staffOnly); len(got) != 2 {
			t.Fatalf("agent changes = %v", got)
		}
	})
}
