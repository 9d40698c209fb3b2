package schema_test

import (
	"context"
	"maps"
	"testing"

	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

func TestMarks(t *testing.T) {
	want := map[string]entschema.Mark{
		"routing_rule_id": entschema.StaffOnly, "routing_rule": entschema.StaffOnly,
		"first_response_due_at": entschema.StaffOnly, "resolution_due_at": entschema.StaffOnly,
	}
	if got := entschema.Marks(entschema.Ticket{}); !maps.Equal(got, want) {
		t.Errorf("Ticket's marks = %v, want %v", got, want)
	}
	want = map[string]entschema.Mark{"email": entschema.ContactData, "phone": entschema.ContactData}
	if got := entschema.Marks(entschema.User{}); !maps.Equal(got, want) {
		t.Errorf("User's marks = %v, want %v", got, want)
	}
}

func TestMarkHides(t *testing.T) {
	customer := &viewer.Viewer{UserID: "US01J9Z3X8Q0W2E5R7T9Y1V3K5M8", Role: viewer.Customer}
	system := viewer.FromContext(viewer.SystemContext(context.Background()))
	for _, tc := range []struct {
		name string
		m    entschema.Mark
		v    *viewer.Viewer
		own  bool
		want bool
	}{
		{"StaffOnlyFromCustomers", entschema.StaffOnly, customer, false, true},
		{"StaffOnlyFromCustomersOwnRow", entschema.StaffOnly, customer, true, true},
		{"StaffOnlyFromAnonymous", entschema.StaffOnly, nil, false, true},
		{"StaffOnlyToAgents", entschema.StaffOnly, &viewer.Viewer{Role: viewer.Agent}, false, false},
		{"StaffOnlyToTheSystem", entschema.StaffOnly, system, false, false},
		{"ContactDataOfOthersFromCustomers", entschema.ContactData, customer, false, true},
		{"ContactDataOwnToCustomers", entschema.ContactData, customer, true, false},
		{"ContactDataFromAnonymous", entschema.ContactData, nil, true, true},
		{"ContactDataToAdmins", entschema.ContactData, &viewer.Viewer{Role: viewer.Admin}, false, false},
	} {
		if got := tc.m.Hides(tc.v, tc.own); got != tc.want {
			t.Errorf("%s: Hides = %v, want %v", tc.name, got, tc.want)
		}
	}
}
