package wstransport

import (
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

var apiSchema = graph.NewExecutableSchema(graph.Config{}).Schema()

func apiOperation(t *testing.T, query string) *graphql.OperationContext {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(apiSchema, query, rules.NewDefaultRules())
	if errs != nil {
		t.Fatal(errs)
	}
	return &graphql.OperationContext{RawQuery: query, Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}
}

// Agents share a rendering unless the selection reads something about the
// person; customers never do.
func TestShareKeys(t *testing.T) {
	agent1 := &viewer.Viewer{UserID: "US1", Role: viewer.Agent, GroupIDs: []globalid.ID{"GR1"}}
	agent2 := &viewer.Viewer{UserID: "US2", Role: viewer.Agent, GroupIDs: []globalid.ID{"GR2"}}
	customer1 := &viewer.Viewer{UserID: "US3", Role: viewer.Customer}
	customer2 := &viewer.Viewer{UserID: "US4", Role: viewer.Customer}
	admin := &viewer.Viewer{UserID: "US5", Role: viewer.Admin}
	key := func(t *testing.T, v *viewer.Viewer, query string) string {
		rc := apiOperation(t, query)
		return fingerprint(rc, live.ShareKey(v, personal(rc)))
	}
	const common = `subscription { ticketEvents { cursor type changes { field from to } actor { name email }
		ticket { id subject routingRuleID firstResponseDueAt followers { name } requester { name email phone groups { name } } group { name members { name } }
			messages(last: 3) { edges { node { body internal mentions { name } author { email } } } } }
		message { body ticket { id } } } }`
	personalSelections := map[string]string{
		"FollowedByMe":         `subscription { ticketEvents { ticket { id followedByMe } } }`,
		"ThroughAFragment":     `subscription { ticketEvents { ticket { ...F } } } fragment F on Ticket { subject followedByMe }`,
		"ThroughAnInlineOne":   `subscription { ticketEvents { message { ticket { ... on Ticket { followedByMe } } } } }`,
		"TheRequestersTickets": `subscription { ticketEvents { ticket { requester { tickets(first: 5) { totalCount } } } } }`,
	}
	t.Run("DistinctAgentsShareARoleOnlySelection", func(t *testing.T) {
		if key(t, agent1, common) != key(t, agent2, common) {
			t.Fatal("two agents selecting only role-dependent fields render apart")
		}
	})
	t.Run("AgentsAndAdminsDoNotShare", func(t *testing.T) {
		if key(t, agent1, common) == key(t, admin, common) {
			t.Fatal("an agent shares an admin's rendering")
		}
	})
	t.Run("CustomersNeverShare", func(t *testing.T) {
		if key(t, customer1, common) == key(t, customer2, common) {
			t.Fatal("two customers share a rendering: contact data differs between one's own and others'")
		}
	})
	for name, q := range personalSelections {
		t.Run("PersonalSelection/"+name, func(t *testing.T) {
			if key(t, agent1, q) == key(t, agent2, q) {
				t.Fatal("two agents share a rendering of a personal field")
			}
			if !personal(apiOperation(t, q)) {
				t.Fatal("not seen as personal")
			}
		})
	}
	t.Run("AFieldOfUnknownDefinitionIsPersonal", func(t *testing.T) {
		rc := apiOperation(t, `subscription { ticketEvents { cursor } }`)
		rc.Operation.SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field).Definition = nil
		if !personal(rc) {
			t.Fatal("a field without its definition was taken as role-only")
		}
	})
}

// Every field that lists tickets reads them within the viewer's own reach,
// which differs between agents of one role, and every field about the
// viewer ("…ByMe") depends on the person: both must be marked @personal,
// or agents would be handed each other's renderings.
func TestPersonalFieldsAreMarked(t *testing.T) {
	for _, def := range apiSchema.Types {
		if def.Kind != ast.Object || def == apiSchema.Query || def == apiSchema.Mutation || def == apiSchema.Subscription || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			listsTickets := f.Type.Name() == "TicketConnection" || (f.Type.Elem != nil && f.Type.Name() == "Ticket")
			aboutViewer := strings.HasSuffix(f.Name, "ByMe") || strings.Contains(strings.ToLower(f.Name), "viewer")
			if (listsTickets || aboutViewer) && f.Directives.ForName(personalDirective) == nil {
				t.Errorf("%s.%s depends on the person but is not marked @personal", def.Name, f.Name)
			}
		}
	}
}
