package e2e_test

import (
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestInputErrorsSpeakGraphQL: errors about input name the GraphQL
// argument or input field (extensions.field) in GraphQL's words, never the
// ORM's ("ent: validator failed for field \"SLAPolicy.first_response_minutes\"").
func TestInputErrorsSpeakGraphQL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		w := setupSweep(t, tg)
		admin := w.tokens["admin"]
		long := strings.Repeat("s", 201)
		for _, tc := range []struct {
			name, query string
			vars        map[string]any
			code, field string
			// message must contain this.
			message string
		}{
			{"NegativeSLAMinutesArePositiveOnly", `mutation { createSLAPolicy(input: {priority: HIGH, firstResponseMinutes: -5, resolutionMinutes: 60}) { id } }`, nil,
				"BAD_USER_INPUT", "firstResponseMinutes", "firstResponseMinutes must be positive"},
			{"ZeroResolutionMinutesOnUpdate", `mutation($id: ID!) { updateSLAPolicy(id: $id, input: {resolutionMinutes: 0}) { id } }`, map[string]any{"id": w.sla},
				"BAD_USER_INPUT", "resolutionMinutes", "resolutionMinutes must be positive"},
			{"DuplicateSLAPriorityIsAConflictNamingPriority", `mutation { createSLAPolicy(input: {priority: NORMAL, firstResponseMinutes: 5, resolutionMinutes: 60}) { id } }`, nil,
				"CONFLICT", "priority", "priority"},
			{"OverlongSubjectOnCreate", harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": long, "body": "x"}},
				"BAD_USER_INPUT", "subject", "subject"},
			{"OverlongSubjectOnUpdate", `mutation($id: ID!, $s: String) { updateTicket(id: $id, input: {subject: $s}) { id } }`, map[string]any{"id": w.ticket, "s": long},
				"BAD_USER_INPUT", "subject", "subject"},
			{"OverlongGroupName", `mutation($n: String!) { createGroup(input: {name: $n}) { id } }`, map[string]any{"n": strings.Repeat("g", 101)},
				"BAD_USER_INPUT", "name", "name"},
			{"EmptyGroupName", `mutation { createGroup(input: {name: ""}) { id } }`, nil,
				"BAD_USER_INPUT", "name", "name"},
			{"DuplicateGroupNameIsAConflictNamingName", `mutation { createGroup(input: {name: "Support"}) { id } }`, nil,
				"CONFLICT", "name", "name"},
			{"RenamingToATakenGroupNameIsAConflict", `mutation($id: ID!) { updateGroup(id: $id, input: {name: "Support"}) { id } }`, map[string]any{"id": w.newGroup(t, "Billing")},
				"CONFLICT", "name", "name"},
			{"DuplicateEmailIsAConflictNamingEmail", `mutation { inviteUser(input: {email: "AGENT@example.com", name: "Twin", role: AGENT, password: "copper fox meadow 77"}) { id } }`, nil,
				"CONFLICT", "email", "email"},
			{"MalformedAfterCursorNamesAfter", `{ tickets(after: "gqFp") { totalCount } }`, nil,
				"BAD_USER_INPUT", "after", "after"},
			{"MalformedBeforeCursorNamesBefore", `{ groups(before: "!!!", last: 1) { totalCount } }`, nil,
				"BAD_USER_INPUT", "before", "before"},
			{"TruncatedCursorIsNotUnavailable", `query($c: Cursor) { users(after: $c) { totalCount } }`, map[string]any{"c": w.cursor[:len(w.cursor)-4]},
				"BAD_USER_INPUT", "after", "after"},
			{"MalformedSearchCursorNamesAfter", `{ search(query: "printer", after: "kqFpAQ") { edges { cursor } } }`, nil,
				"BAD_USER_INPUT", "after", "after"},
			{"MalformedTimeNamesTheInputField", `{ tickets(where: {createdAtGT: "yesterday"}) { totalCount } }`, nil,
				"BAD_USER_INPUT", "createdAtGT", "createdAtGT"},
			{"EmptyNestedFilterNamesWhere", `{ tickets(where: {not: {}}) { totalCount } }`, nil,
				"BAD_USER_INPUT", "where", "where"},
			{"NULInAStringNamesTheField", `mutation($b: String!) { addMessage(ticketID: "` + w.ticket + `", body: $b) { id } }`, map[string]any{"b": "a\x00b"},
				"BAD_USER_INPUT", "body", "body"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := w.s.Do(t, admin, tc.query, tc.vars)
				if got := r.Code(t); got != tc.code {
					t.Fatalf("code = %s, want %s (%+v)", got, tc.code, r.Errors)
				}
				e := r.Errors[0]
				if e.Extensions["field"] != tc.field {
					t.Fatalf("field = %v, want %s (%q)", e.Extensions["field"], tc.field, e.Message)
				}
				if strings.Contains(e.Message, "ent:") || strings.Contains(e.Message, "_") || !strings.Contains(e.Message, tc.message) {
					t.Fatalf("message %q: want GraphQL words containing %q", e.Message, tc.message)
				}
			})
		}
		t.Run("MalformedEventCursorNamesAfter", func(t *testing.T) {
			for _, after := range []string{"garbage", "-1", "gqFp", "1e3", "99999999999999999999", ""} {
				r := w.s.FirstSSEResult(t, admin, `subscription($a: String) { ticketEvents(after: $a) { cursor } }`, map[string]any{"a": after})
				if got := r.Code(t); got != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "after" {
					t.Fatalf("after %q: %+v", after, r.Errors)
				}
			}
		})
	})
}

func (w *sweepWorld) newGroup(t *testing.T, name string) string {
	t.Helper()
	return harness.Str(w.s.Do(t, w.tokens["admin"], `mutation($n: String!) { createGroup(input: {name: $n}) { id } }`, map[string]any{"n": name}).OK(t), "createGroup", "id")
}

// TestNodesCostCountsEveryID: nodes(ids:) costs its selection once per ID,
// so a hundred tickets with a page of messages each is over the complexity
// limit, while a few are not.
func TestNodesCostCountsEveryID(t *testing.T) {
	w := setupSweep(t, dbtest.NewTarget(t, dbtest.SQLite))
	query := `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Ticket { messages(first: 99) { edges { node { id body } } } } } }`
	t.Run("HundredTicketsWithPagesOfMessagesAreTooComplex", func(t *testing.T) {
		r := w.s.Do(t, w.tokens["admin"], query, map[string]any{"ids": manyIDs(100)})
		if got := r.Code(t); got != "QUERY_TOO_COMPLEX" {
			t.Fatalf("code = %s (%+v)", got, r.Errors)
		}
	})
	t.Run("AFewTicketsPass", func(t *testing.T) {
		r := w.s.Do(t, w.tokens["admin"], query, map[string]any{"ids": []string{w.ticket, w.ticket}})
		if l, _ := harness.Path(r.OK(t), "nodes").([]any); len(l) != 2 {
			t.Fatalf("nodes = %v", r.Data)
		}
	})
	t.Run("LiteralIDListsCountToo", func(t *testing.T) {
		ids := `"` + strings.Join(manyIDs(100), `","`) + `"`
		r := w.s.Do(t, w.tokens["admin"], `{ nodes(ids: [`+ids+`]) { ... on Ticket { messages(first: 99) { edges { node { id } } } } } }`, nil)
		if got := r.Code(t); got != "QUERY_TOO_COMPLEX" {
			t.Fatalf("code = %s (%+v)", got, r.Errors)
		}
	})
}
