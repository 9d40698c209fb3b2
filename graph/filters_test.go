package graph

import (
	"maps"
	"strings"
	"testing"

	"entgo.io/ent"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"

	entschema "github.com/switchboardhq/switchboard/ent/schema"
)

func TestForbiddenKey(t *testing.T) {
	for name, tc := range map[string]struct {
		where any
		want  string
	}{
		"PlainFilterAllowed":          {map[string]any{"status": "OPEN", "subjectContains": "x"}, ""},
		"ErrStaffOnlyField":           {map[string]any{"firstResponseDueAtGT": "2020-01-01"}, "firstResponseDueAtGT"},
		"ErrNestedInOr":               {map[string]any{"or": []any{map[string]any{"status": "NEW"}, map[string]any{"resolutionDueAtIsNil": true}}}, "resolutionDueAtIsNil"},
		"ErrContactDataThroughAnEdge": {map[string]any{"hasAssigneeWith": []any{map[string]any{"emailHasPrefix": "a"}}}, "emailHasPrefix"},
		"ErrInternalNotesThroughEdge": {map[string]any{"not": map[string]any{"hasMessagesWith": []any{map[string]any{"internal": true}}}}, "hasMessagesWith"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := forbiddenKey("TicketWhereInput", tc.where); got != tc.want {
				t.Fatalf("forbiddenKey = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStaffOnlyFields(t *testing.T) {
	got := StaffOnlyFields("Ticket")
	if !got["firstResponseDueAt"] || !got["resolutionDueAt"] || !got["routingRule"] || !got["routingRuleID"] || got["status"] || len(got) != 4 {
		t.Fatalf("Ticket's @staffOnly fields = %v", got)
	}
}

func TestForbiddenOrder(t *testing.T) {
	for name, tc := range map[string]struct {
		order any
		want  string
	}{
		"PlainOrderAllowed":    {map[string]any{"field": "PRIORITY", "direction": "DESC"}, ""},
		"ErrStaffOnlyField":    {map[string]any{"field": "FIRST_RESPONSE_DUE_AT"}, "FIRST_RESPONSE_DUE_AT"},
		"ErrLaterInAList":      {[]any{map[string]any{"field": "STATUS"}, map[string]any{"field": "RESOLUTION_DUE_AT", "direction": "ASC"}}, "RESOLUTION_DUE_AT"},
		"MalformedLeftToTypes": {"FIRST", ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := forbiddenOrder("TicketOrder", tc.order); got != tc.want {
				t.Fatalf("forbiddenOrder = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMarkedFieldsAreRefusedFilters reads the marks from the schema, not
// from the code under test, and checks that every where key and order
// derived from a field marked @staffOnly or @contactData is refused to
// customers, so that a field marked later is covered without a new case;
// and that the keys derived from no marked field stay allowed.
func TestMarkedFieldsAreRefusedFilters(t *testing.T) {
	refused := 0
	for _, obj := range parsedSchema.Types {
		if obj.Kind != ast.Object {
			continue
		}
		var marked []string
		for _, f := range obj.Fields {
			if f.Directives.ForName("staffOnly") != nil || f.Directives.ForName("contactData") != nil {
				marked = append(marked, f.Name)
			}
		}
		derived := func(key string) bool {
			for _, f := range marked {
				edge := "has" + strings.ToUpper(f[:1]) + f[1:]
				if key == f || key == edge || key == edge+"With" || filterOperator(strings.TrimPrefix(key, f)) {
					return true
				}
			}
			return false
		}
		if where := parsedSchema.Types[obj.Name+"WhereInput"]; where != nil {
			for _, k := range where.Fields {
				want := ""
				if derived(k.Name) || where.Name == "TicketWhereInput" && k.Name == "hasMessagesWith" {
					want = k.Name
					refused++
				}
				if got := forbiddenKey(where.Name, map[string]any{k.Name: nil}); got != want {
					t.Errorf("%s.%s: refused key %q, want %q", where.Name, k.Name, got, want)
				}
			}
		}
		if order := parsedSchema.Types[obj.Name+"OrderField"]; order != nil {
			for _, v := range order.EnumValues {
				want := ""
				if derived(upperSnakeToCamel(v.Name)) {
					want = v.Name
					refused++
				}
				if got := forbiddenOrder(obj.Name+"Order", map[string]any{"field": v.Name}); got != want {
					t.Errorf("%sOrder %s: refused order %q, want %q", obj.Name, v.Name, got, want)
				}
			}
		}
	}
	// The SLA due times (with their operators and orders), email and the
	// internal notes' filter at least.
	if refused < 30 {
		t.Fatalf("only %d refused keys and orders: are the marks read?", refused)
	}
}

// filterOperator reports a suffix entgql appends to a field's name to
// make a where key (firstResponseDueAt + GT).
func filterOperator(suffix string) bool {
	switch suffix {
	case "NEQ", "In", "NotIn", "GT", "GTE", "LT", "LTE", "Contains", "HasPrefix", "HasSuffix",
		"IsNil", "NotNil", "EqualFold", "ContainsFold":
		return true
	}
	return false
}

// TestRestrictFiltersOnAQuery runs the check on validated operations, as
// the middleware does: variables, fragments and edges' nested filters of
// another type are followed.
func TestRestrictFiltersOnAQuery(t *testing.T) {
	for name, tc := range map[string]struct {
		query string
		vars  map[string]any
		want  string
	}{
		"Allowed": {`{ tickets(where: {status: OPEN}, orderBy: [{field: PRIORITY}]) { totalCount } }`, nil, ""},
		"ErrVariable": {`query($w: TicketWhereInput) { tickets(where: $w) { totalCount } }`,
			map[string]any{"w": map[string]any{"resolutionDueAtLT": "2030-01-01T00:00:00Z"}}, "resolutionDueAtLT"},
		"ErrInAFragmentOnAUsersTickets": {`{ me { ...f } } fragment f on User { tickets(orderBy: [{field: FIRST_RESPONSE_DUE_AT}]) { totalCount } }`, nil, "FIRST_RESPONSE_DUE_AT"},
		"ErrRequesterEmail":             {`{ tickets(where: {hasRequesterWith: {emailContains: "@"}}) { totalCount } }`, nil, "emailContains"},
		"ErrUsersByEmail":               {`{ users(where: {email: "a@b.c"}) { totalCount } }`, nil, "email"},
	} {
		t.Run(name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQueryWithRules(parsedSchema, tc.query, nil) // nil: the default rules
			if errs != nil {
				t.Fatal(errs)
			}
			vars, err := validator.VariableValues(parsedSchema, doc.Operations[0], tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if r := forbiddenFilter(doc.Operations[0].SelectionSet, vars, map[string]bool{}); r != nil {
				got = r.Field
			}
			if got != tc.want {
				t.Fatalf("refused %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMarksMatchTheEntSchema checks the two readers of the marks against
// each other: what entgql printed into the GraphQL schema (read by this
// package and live updates) and the ent annotations it printed them from
// (read by search and export, entschema.Marks).
func TestMarksMatchTheEntSchema(t *testing.T) {
	schemas := map[string]ent.Interface{
		"APIToken": entschema.APIToken{}, "Group": entschema.Group{}, "Macro": entschema.Macro{},
		"Message": entschema.Message{}, "RoutingRule": entschema.RoutingRule{}, "SavedView": entschema.SavedView{},
		"Session": entschema.Session{}, "SLAPolicy": entschema.SLAPolicy{}, "Ticket": entschema.Ticket{}, "User": entschema.User{},
	}
	for name, obj := range parsedSchema.Types {
		if obj.Kind != ast.Object || name == "Query" || name == "Mutation" || name == "Subscription" {
			continue // root fields (wallboard, ticketViewers) are marked in schema/*.graphql only: no entity holds them
		}
		gql := map[string]string{}
		for _, f := range obj.Fields {
			for _, m := range []entschema.Mark{entschema.StaffOnly, entschema.ContactData} {
				if f.Directives.ForName(string(m)) != nil {
					gql[f.Name] = string(m)
				}
			}
		}
		s, ok := schemas[name]
		if !ok {
			if len(gql) > 0 {
				t.Errorf("%s has marks %v but no ent schema in this test", name, gql)
			}
			continue
		}
		fromEnt := map[string]string{}
		for field, m := range entschema.Marks(s) {
			fromEnt[entgqlName(field)] = string(m)
		}
		if !maps.Equal(gql, fromEnt) {
			t.Errorf("%s: marks in the GraphQL schema %v, in ent/schema %v", name, gql, fromEnt)
		}
	}
}

// entgqlName is the GraphQL name entgql gives an ent field or edge:
// routing_rule_id is routingRuleID.
func entgqlName(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] == "id" {
			parts[i] = "ID"
		} else {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
