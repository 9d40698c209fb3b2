package bulk_test

import (
	"context"
	"testing"

	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/bulk"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// TestDataSubjectExportFollowsTheMarks iterates the schema's marks rather
// than naming fields: in a person's export, every field of their tickets
// marked @staffOnly is left out, and of their own user line whatever a
// mark hides from them (@staffOnly), while their own contact data
// (@contactData: the person themself may see it) is kept. The full export
// has each of those fields, so the fixture shows that leaving them out is
// the export's doing.
func TestDataSubjectExportFollowsTheMarks(t *testing.T) {
	src, res := seeded(t, dbtest.NewTarget(t, dbtest.SQLite))
	u, err := src.client.User.Query().Where(user.EmailEQ(res.Customer)).Only(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	customer := &viewer.Viewer{UserID: u.ID, Role: viewer.Customer}
	full := map[string]map[string]bool{} // line type: JSON names seen
	mine := map[string]map[string]bool{}
	for _, e := range []struct {
		out  map[string]map[string]bool
		opts bulk.ExportOptions
	}{{full, bulk.ExportOptions{}}, {mine, bulk.ExportOptions{User: res.Customer}}} {
		out := e.out
		for _, l := range lines(export(t, src, e.opts)) {
			typ := l["type"].(string)
			if typ == bulk.TypeUser && l["id"] != string(u.ID) {
				continue // the full export's other people
			}
			if typ == bulk.TypeTicket && l["requester"] != string(u.ID) {
				continue
			}
			if out[typ] == nil {
				out[typ] = map[string]bool{}
			}
			for k := range l {
				out[typ][k] = true
			}
		}
	}
	checked := 0
	for typ, from := range map[string]struct {
		marks map[string]entschema.Mark
		own   bool
	}{
		bulk.TypeTicket: {entschema.Marks(entschema.Ticket{}), false},
		bulk.TypeUser:   {entschema.Marks(entschema.User{}), true},
	} {
		for name, m := range from.marks {
			if !full[typ][name] {
				// Not exported at all (routing_rule_id, an edge), or empty
				// for this person.
				if mine[typ][name] {
					t.Errorf("%s.%s is in the person's export only", typ, name)
				}
				continue
			}
			checked++
			hidden := m.Hides(customer, from.own)
			if mine[typ][name] == hidden {
				t.Errorf("%s.%s (@%s): in the person's export = %v, want %v", typ, name, m, mine[typ][name], !hidden)
			}
		}
	}
	// The two SLA due times and the email (the seeded person has no phone).
	if checked < 3 {
		t.Fatalf("only %d marked fields in the full export: %v", checked, full)
	}
}
