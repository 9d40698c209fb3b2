package wstransport

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

const testSchema = `
type Query { x: Int }
type Event { cursor: String! ticket(first: Int): Int }
type Subscription { events(ticketID: ID, after: String): Event! }
`

func opContext(t *testing.T, query string, vars map[string]any) *graphql.OperationContext {
	t.Helper()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: testSchema})
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, rules.NewDefaultRules())
	if errs != nil {
		t.Fatal(errs)
	}
	return &graphql.OperationContext{RawQuery: query, Doc: doc, Operation: doc.Operations[0], Variables: vars}
}

func TestFingerprint(t *testing.T) {
	const q = `subscription($t: ID, $a: String, $n: Int) { events(ticketID: $t, after: $a) { cursor ticket(first: $n) } }`
	base := fingerprint(opContext(t, q, map[string]any{"t": "TK1", "a": "5", "n": 1}), "admin")
	t.Run("RootArgumentsDoNotMatter", func(t *testing.T) {
		if got := fingerprint(opContext(t, q, map[string]any{"t": "TK2", "a": "9", "n": 1}), "admin"); got != base {
			t.Fatal("subscriptions differing only in filters and cursor do not share")
		}
	})
	t.Run("VariablesOfTheSelectionMatter", func(t *testing.T) {
		if got := fingerprint(opContext(t, q, map[string]any{"t": "TK1", "a": "5", "n": 2}), "admin"); got == base {
			t.Fatal("different selections share")
		}
	})
	t.Run("ViewerMatters", func(t *testing.T) {
		if got := fingerprint(opContext(t, q, map[string]any{"t": "TK1", "a": "5", "n": 1}), "CUSTOMER:US1"); got == base {
			t.Fatal("different viewers share")
		}
	})
	t.Run("DocumentMatters", func(t *testing.T) {
		other := `subscription($t: ID, $a: String, $n: Int) { events(ticketID: $t, after: $a) { ticket(first: $n) } }`
		if got := fingerprint(opContext(t, other, map[string]any{"t": "TK1", "a": "5", "n": 1}), "admin"); got == base {
			t.Fatal("different documents share")
		}
	})
	t.Run("VariableUsedInBothPlacesMatters", func(t *testing.T) {
		both := `subscription($n: Int) { events(after: "1") { cursor ticket(first: $n) } x: events(after: "2") { cursor } }`
		a := fingerprint(opContext(t, both, map[string]any{"n": 1}), "admin")
		b := fingerprint(opContext(t, both, map[string]any{"n": 2}), "admin")
		if a == b {
			t.Fatal("a variable of the selection was ignored")
		}
	})
}
