package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// queuesWorld: two groups, Support (agents Ann and Bob) and Billing
// (agent Cy); two customers; tickets in both groups, some at LOW, which
// has no SLA policy, so their due times are NULL.
type queuesWorld struct {
	s                    *harness.Server
	admin, ann, bob, cy  string // tokens
	cust1, cust2         string // tokens
	cust1ID, cust2ID     string
	support, billing     string // group IDs
	tickets              []string
	supportTix, cust1Tix []string
}

func setupQueues(t *testing.T, tg dbtest.Target) *queuesWorld {
	t.Helper()
	harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
	s := harness.Start(t, tg, nil)
	w := &queuesWorld{s: s}
	w.admin = harness.Login(t, s, "admin@example.com", "amber canyon whistle")
	invite := func(email, name string) (token, id string) {
		id = harness.Str(s.Do(t, w.admin, `mutation($e: String!, $n: String!) { inviteUser(input: {email: $e, name: $n, role: AGENT, password: "copper fox meadow 77"}) { id } }`,
			map[string]any{"e": email, "n": name}).OK(t), "inviteUser", "id")
		return harness.Login(t, s, email, "copper fox meadow 77"), id
	}
	var annID, bobID, cyID string
	w.ann, annID = invite("ann@example.com", "Ann")
	w.bob, bobID = invite("bob@example.com", "Bob")
	w.cy, cyID = invite("cy@example.com", "Cy")
	group := func(name string, members ...string) string {
		return harness.Str(s.Do(t, w.admin, `mutation($n: String!, $m: [ID!]) { createGroup(input: {name: $n, memberIDs: $m}) { id } }`,
			map[string]any{"n": name, "m": members}).OK(t), "createGroup", "id")
	}
	w.support, w.billing = group("Support", annID, bobID), group("Billing", cyID)
	for _, p := range []string{`priority: NORMAL, firstResponseMinutes: 60, resolutionMinutes: 480`, `priority: HIGH, firstResponseMinutes: 30, resolutionMinutes: 240`} {
		s.Do(t, w.admin, `mutation { createSLAPolicy(input: {`+p+`}) { id } }`, nil).OK(t)
	}
	w.cust1, w.cust1ID = harness.Signup(t, s, "cust1@example.com", "Cust One")
	w.cust2, w.cust2ID = harness.Signup(t, s, "cust2@example.com", "Cust Two")
	for i, tc := range []struct{ priority, group, requester string }{
		{"LOW", w.support, w.cust1ID}, {"NORMAL", w.support, w.cust1ID}, {"HIGH", w.billing, w.cust1ID},
		{"LOW", w.billing, w.cust2ID}, {"NORMAL", w.billing, w.cust2ID}, {"HIGH", w.support, w.cust2ID},
		{"LOW", w.support, w.cust2ID}, {"NORMAL", w.support, w.cust1ID}, {"HIGH", w.support, w.cust1ID},
	} {
		id := harness.Str(s.Do(t, w.admin, harness.CreateTicketMutation, map[string]any{"input": map[string]any{
			"subject": fmt.Sprintf("Ticket %d", i), "body": "help", "priority": tc.priority, "groupID": tc.group, "requesterID": tc.requester,
		}}).OK(t), "createTicket", "id")
		w.tickets = append(w.tickets, id)
		if tc.group == w.support {
			w.supportTix = append(w.supportTix, id)
		}
		if tc.requester == w.cust1ID {
			w.cust1Tix = append(w.cust1Tix, id)
		}
	}
	return w
}

// dueRow is one ticket of a list ordered by a due time.
type dueRow struct {
	id, due, priority string
}

const dueListQuery = `query($o: [TicketOrder!], $first: Int, $after: Cursor, $last: Int, $before: Cursor) {
  tickets(orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
    edges { node { id priority firstResponseDueAt resolutionDueAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

func dueRows(data map[string]any, field string) []dueRow {
	var rows []dueRow
	edges, _ := harness.Path(data, "tickets", "edges").([]any)
	for _, e := range edges {
		rows = append(rows, dueRow{id: harness.Str(e, "node", "id"), due: harness.Str(e, "node", field), priority: harness.Str(e, "node", "priority")})
	}
	return rows
}

// pageAll reads a whole list two tickets at a time, forward (first/after)
// or backward (last/before).
func (w *queuesWorld) pageAll(t *testing.T, token string, order []any, field string, backward bool) []dueRow {
	t.Helper()
	var all []dueRow
	vars := map[string]any{"o": order}
	for range 20 {
		if backward {
			vars["last"] = 2
		} else {
			vars["first"] = 2
		}
		data := w.s.Do(t, token, dueListQuery, vars).OK(t)
		rows := dueRows(data, field)
		if backward {
			all = append(rows, all...)
			vars["before"] = harness.Path(data, "tickets", "pageInfo", "startCursor")
			if harness.Path(data, "tickets", "pageInfo", "hasPreviousPage") != true {
				return all
			}
		} else {
			all = append(all, rows...)
			vars["after"] = harness.Path(data, "tickets", "pageInfo", "endCursor")
			if harness.Path(data, "tickets", "pageInfo", "hasNextPage") != true {
				return all
			}
		}
	}
	t.Fatalf("paging %v did not end", order)
	return nil
}

// checkDueOrder: times ascending (or descending), NULL as the greatest
// value (last ascending, first descending), every ticket once.
func checkDueOrder(t *testing.T, rows []dueRow, want []string, desc bool) {
	t.Helper()
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	if got, exp := slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(want)); !slices.Equal(got, exp) {
		t.Fatalf("tickets %v, want each of %v once", ids, want)
	}
	rank := func(r dueRow) time.Time {
		if r.due == "" {
			return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		d, err := time.Parse(time.RFC3339Nano, r.due)
		if err != nil {
			t.Fatalf("due %q: %v", r.due, err)
		}
		return d
	}
	for i := 1; i < len(rows); i++ {
		a, b := rank(rows[i-1]), rank(rows[i])
		if !desc && a.After(b) || desc && a.Before(b) {
			t.Fatalf("out of order at %d: %+v", i, rows)
		}
	}
	nulls := 0
	for _, r := range rows {
		if r.due == "" {
			nulls++
		}
	}
	if nulls == 0 || nulls == len(rows) {
		t.Fatalf("want NULL and non-NULL due times, got %+v", rows)
	}
}

func TestQueuesDueTimeOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		w := setupQueues(t, tg)
		for _, tc := range []struct {
			name, field, gqlField string
			desc                  bool
		}{
			{"FirstResponseAsc", "FIRST_RESPONSE_DUE_AT", "firstResponseDueAt", false},
			{"FirstResponseDesc", "FIRST_RESPONSE_DUE_AT", "firstResponseDueAt", true},
			{"ResolutionAsc", "RESOLUTION_DUE_AT", "resolutionDueAt", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := "ASC"
				if tc.desc {
					dir = "DESC"
				}
				order := []any{map[string]any{"field": tc.field, "direction": dir}}
				whole := dueRows(w.s.Do(t, w.admin, dueListQuery, map[string]any{"o": order, "first": 100}).OK(t), tc.gqlField)
				checkDueOrder(t, whole, w.tickets, tc.desc)
				if !tc.desc && whole[len(whole)-1].due != "" || tc.desc && whole[0].due != "" {
					t.Fatalf("NULLs are not last ascending, first descending: %+v", whole)
				}
				for _, backward := range []bool{false, true} {
					paged := w.pageAll(t, w.admin, order, tc.gqlField, backward)
					if !slices.Equal(paged, whole) {
						t.Fatalf("paged (backward %v):\n%+v\nwant\n%+v", backward, paged, whole)
					}
				}
			})
		}
		t.Run("PriorityThenDue", func(t *testing.T) {
			order := []any{map[string]any{"field": "PRIORITY", "direction": "DESC"}, map[string]any{"field": "FIRST_RESPONSE_DUE_AT", "direction": "ASC"}}
			whole := dueRows(w.s.Do(t, w.admin, dueListQuery, map[string]any{"o": order, "first": 100}).OK(t), "firstResponseDueAt")
			if whole[0].priority != "HIGH" || whole[len(whole)-1].priority != "LOW" {
				t.Fatalf("priority order: %+v", whole)
			}
			for _, backward := range []bool{false, true} {
				if paged := w.pageAll(t, w.admin, order, "firstResponseDueAt", backward); !slices.Equal(paged, whole) {
					t.Fatalf("paged (backward %v):\n%+v\nwant\n%+v", backward, paged, whole)
				}
			}
		})
		t.Run("AgentPagesOnlyTheirReach", func(t *testing.T) {
			order := []any{map[string]any{"field": "FIRST_RESPONSE_DUE_AT", "direction": "ASC"}}
			checkDueOrder(t, w.pageAll(t, w.ann, order, "firstResponseDueAt", false), w.supportTix, false)
		})
		t.Run("CursorOfAnotherOrderIsTheClients", func(t *testing.T) {
			data := w.s.Do(t, w.admin, `{ tickets(first: 1) { edges { cursor } } }`, nil).OK(t)
			r := w.s.Do(t, w.admin, dueListQuery, map[string]any{"o": []any{map[string]any{"field": "FIRST_RESPONSE_DUE_AT"}}, "first": 2, "after": harness.Str(data, "tickets", "edges", 0, "cursor")})
			if r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "after" {
				t.Fatalf("cursor of another order: %+v", r.Errors)
			}
			// A forged value where a time belongs is refused, not compared
			// (PostgreSQL would fail on it).
			for _, v := range []any{"garbage", 42, true, map[string]any{"x": 1}} {
				b, _ := msgpack.Marshal(map[string]any{"i": w.tickets[0], "v": []any{v}})
				r := w.s.Do(t, w.admin, dueListQuery, map[string]any{"o": []any{map[string]any{"field": "FIRST_RESPONSE_DUE_AT"}}, "last": 2, "before": base64.RawStdEncoding.EncodeToString(b)})
				if r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "before" {
					t.Fatalf("forged cursor value %v: %+v", v, r.Errors)
				}
			}
		})
		t.Run("CustomerMayNotOrderByDueTimes", func(t *testing.T) {
			for _, tc := range []struct {
				query string
				vars  map[string]any
				field string
			}{
				{`{ tickets(orderBy: [{field: FIRST_RESPONSE_DUE_AT, direction: ASC}]) { totalCount } }`, nil, "FIRST_RESPONSE_DUE_AT"},
				{`query($o: [TicketOrder!]) { tickets(orderBy: $o) { totalCount } }`, map[string]any{"o": []any{map[string]any{"field": "STATUS"}, map[string]any{"field": "RESOLUTION_DUE_AT", "direction": "DESC"}}}, "RESOLUTION_DUE_AT"},
				{`{ me { tickets(orderBy: {field: RESOLUTION_DUE_AT}) { totalCount } } }`, nil, "RESOLUTION_DUE_AT"},
			} {
				r := w.s.Do(t, w.cust1, tc.query, tc.vars)
				if r.Code(t) != "FORBIDDEN" || r.Errors[0].Extensions["field"] != tc.field || !strings.Contains(r.Errors[0].Message, tc.field) {
					t.Fatalf("%s: %+v", tc.query, r.Errors)
				}
			}
			// Orders customers may use still work.
			w.s.Do(t, w.cust1, `{ tickets(orderBy: [{field: PRIORITY, direction: DESC}]) { totalCount } }`, nil).OK(t)
		})
	})
}

const userTicketsQuery = `query($id: ID!, $o: [TicketOrder!], $w: TicketWhereInput) {
  node(id: $id) { ... on User { tickets(first: 50, orderBy: $o, where: $w) { totalCount edges { node { id number requester { id } } } } } }
}`

func ticketIDs(v any) []string {
	var ids []string
	edges, _ := v.([]any)
	for _, e := range edges {
		ids = append(ids, harness.Str(e, "node", "id"))
	}
	return ids
}

func TestQueuesUserTickets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		w := setupQueues(t, tg)
		sameSet := func(t *testing.T, got, want []string) {
			t.Helper()
			if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
				t.Fatalf("tickets %v, want %v", got, want)
			}
		}
		t.Run("AdminSeesAllRequested", func(t *testing.T) {
			data := w.s.Do(t, w.admin, userTicketsQuery, map[string]any{"id": w.cust1ID}).OK(t)
			sameSet(t, ticketIDs(harness.Path(data, "node", "tickets", "edges")), w.cust1Tix)
			if harness.Num(data, "node", "tickets", "totalCount") != len(w.cust1Tix) {
				t.Fatalf("totalCount = %v", data)
			}
		})
		t.Run("AgentSeesOnlyTheirReach", func(t *testing.T) {
			var want []string
			for _, id := range w.cust1Tix {
				if slices.Contains(w.supportTix, id) {
					want = append(want, id)
				}
			}
			data := w.s.Do(t, w.ann, userTicketsQuery, map[string]any{"id": w.cust1ID}).OK(t)
			sameSet(t, ticketIDs(harness.Path(data, "node", "tickets", "edges")), want)
			// Cy (Billing) sees cust1's one Billing ticket.
			data = w.s.Do(t, w.cy, userTicketsQuery, map[string]any{"id": w.cust1ID}).OK(t)
			if got := ticketIDs(harness.Path(data, "node", "tickets", "edges")); len(got) != 1 || slices.Contains(w.supportTix, got[0]) {
				t.Fatalf("Cy sees %v", got)
			}
		})
		t.Run("CustomerSeesOwn", func(t *testing.T) {
			data := w.s.Do(t, w.cust1, `{ me { tickets(first: 50) { totalCount edges { node { id } } } } }`, nil).OK(t)
			sameSet(t, ticketIDs(harness.Path(data, "me", "tickets", "edges")), w.cust1Tix)
			data = w.s.Do(t, w.cust2, `{ me { tickets { edges { node { id requester { id } } } } } }`, nil).OK(t)
			for _, e := range harness.Path(data, "me", "tickets", "edges").([]any) {
				if harness.Str(e, "node", "requester", "id") != w.cust2ID {
					t.Fatalf("cust2 sees %v", e)
				}
			}
		})
		t.Run("OrderAndFilterAsQueryTickets", func(t *testing.T) {
			data := w.s.Do(t, w.admin, userTicketsQuery, map[string]any{"id": w.cust1ID,
				"o": []any{map[string]any{"field": "NUMBER", "direction": "DESC"}}, "w": map[string]any{"priorityIn": []string{"NORMAL", "HIGH"}}}).OK(t)
			edges := harness.Path(data, "node", "tickets", "edges").([]any)
			if len(edges) != len(w.cust1Tix)-1 || harness.Num(edges[0], "node", "number") < harness.Num(edges[len(edges)-1], "node", "number") {
				t.Fatalf("ordered, filtered = %v", edges)
			}
			// Customers' filters are restricted there as in Query.tickets.
			r := w.s.Do(t, w.cust1, `{ me { tickets(where: {firstResponseDueAtIsNil: true}) { totalCount } } }`, nil)
			if r.Code(t) != "FORBIDDEN" {
				t.Fatalf("customer filtering a due time: %+v", r.Errors)
			}
		})
		t.Run("CountsAsAConnection", func(t *testing.T) {
			// 10,000 is the default complexity limit: 200 users x 100 tickets
			// each is over it, as any nested connection.
			r := w.s.Do(t, w.admin, `{ users(first: 200) { edges { node { tickets(first: 100) { edges { node { id } } } } } } }`, nil)
			if r.Code(t) != "QUERY_TOO_COMPLEX" {
				t.Fatalf("nested User.tickets: %+v", r.Errors)
			}
			// The same users without their tickets are well within it.
			w.s.Do(t, w.admin, `{ users(first: 100) { edges { node { id name } } } }`, nil).OK(t)
			// A saved view's tickets are a connection too.
			r = w.s.Do(t, w.admin, `{ savedViews { tickets(first: 100) { edges { node { messages(first: 100) { edges { node { id } } } } } } } }`, nil)
			if r.Code(t) != "QUERY_TOO_COMPLEX" {
				t.Fatalf("SavedView.tickets x Ticket.messages: %+v", r.Errors)
			}
		})
	})
}

const (
	createView = `mutation($in: SavedViewInput!) { createSavedView(input: $in) { id name where orderBy owner { id } group { id } } }`
	listViews  = `{ savedViews { id name } }`
	openView   = `query($id: ID!) { node(id: $id) { ... on SavedView { name tickets(first: 50) { totalCount edges { node { id firstResponseDueAt } } } } } }`
)

func viewNames(t *testing.T, s *harness.Server, token string) []string {
	t.Helper()
	var names []string
	for _, v := range s.Do(t, token, listViews, nil).OK(t)["savedViews"].([]any) {
		names = append(names, harness.Str(v, "name"))
	}
	return names
}

func TestQueuesSavedViews(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		w := setupQueues(t, tg)
		where := map[string]any{"priorityIn": []string{"NORMAL", "HIGH"}, "not": map[string]any{"status": "CLOSED"}}
		order := []any{map[string]any{"field": "FIRST_RESPONSE_DUE_AT", "direction": "ASC"}}
		personal := w.s.Do(t, w.ann, createView, map[string]any{"in": map[string]any{"name": "Mine", "where": map[string]any{"priority": "LOW"}}}).OK(t)
		shared := w.s.Do(t, w.ann, createView, map[string]any{"in": map[string]any{"name": "Support SLA", "where": where, "orderBy": order, "groupID": w.support}}).OK(t)
		personalID, sharedID := harness.Str(personal, "createSavedView", "id"), harness.Str(shared, "createSavedView", "id")

		t.Run("StoredAsGiven", func(t *testing.T) {
			got, _ := json.Marshal([]any{harness.Path(shared, "createSavedView", "where"), harness.Path(shared, "createSavedView", "orderBy")})
			want, _ := json.Marshal([]any{where, order})
			if string(got) != string(want) {
				t.Fatalf("where, orderBy = %s, want %s", got, want)
			}
			// Read back from the database, and usable as tickets() arguments.
			data := w.s.Do(t, w.admin, `query($id: ID!) { node(id: $id) { ... on SavedView { where orderBy group { id } } } }`, map[string]any{"id": sharedID}).OK(t)
			if again, _ := json.Marshal([]any{harness.Path(data, "node", "where"), harness.Path(data, "node", "orderBy")}); string(again) != string(want) {
				t.Fatalf("read back as %s", again)
			}
			if harness.Str(data, "node", "group", "id") != w.support {
				t.Fatalf("group = %v", data)
			}
			w.s.Do(t, w.admin, `query($w: TicketWhereInput, $o: [TicketOrder!]) { tickets(where: $w, orderBy: $o) { totalCount } }`,
				map[string]any{"w": harness.Path(data, "node", "where"), "o": harness.Path(data, "node", "orderBy")}).OK(t)
		})
		t.Run("PersonalAndShared", func(t *testing.T) {
			for _, tc := range []struct {
				who, token string
				want       []string
			}{
				{"owner", w.ann, []string{"Mine", "Support SLA"}},
				{"group member", w.bob, []string{"Support SLA"}},
				{"non-member", w.cy, nil},
				{"admin", w.admin, []string{"Mine", "Support SLA"}},
				{"customer", w.cust1, nil},
			} {
				if got := viewNames(t, w.s, tc.token); !slices.Equal(got, tc.want) {
					t.Fatalf("%s sees %v, want %v", tc.who, got, tc.want)
				}
			}
			if r := w.s.Do(t, w.cy, openView, map[string]any{"id": sharedID}); r.Code(t) != "NOT_FOUND" {
				t.Fatalf("non-member opened the view: %+v", r)
			}
			if r := w.s.Do(t, w.bob, openView, map[string]any{"id": personalID}); r.Code(t) != "NOT_FOUND" {
				t.Fatalf("Bob opened Ann's personal view: %+v", r)
			}
		})
		t.Run("SharedViewShowsTheOpenersReach", func(t *testing.T) {
			// Cy joins the view's audience only through an admin's copy
			// shared with Billing: the same filter shows each only theirs.
			billing := harness.Str(w.s.Do(t, w.admin, createView, map[string]any{"in": map[string]any{"name": "Billing SLA", "where": where, "orderBy": order, "groupID": w.billing}}).OK(t), "createSavedView", "id")
			list := func(token string) []string {
				data := w.s.Do(t, token, `query($w: TicketWhereInput, $o: [TicketOrder!]) { tickets(first: 50, where: $w, orderBy: $o) { edges { node { id } } } }`, map[string]any{"w": where, "o": order}).OK(t)
				return ticketIDs(harness.Path(data, "tickets", "edges"))
			}
			for _, tc := range []struct {
				who, token, view string
			}{{"Bob", w.bob, sharedID}, {"Cy", w.cy, billing}, {"admin", w.admin, sharedID}} {
				data := w.s.Do(t, tc.token, openView, map[string]any{"id": tc.view}).OK(t)
				got := ticketIDs(harness.Path(data, "node", "tickets", "edges"))
				if want := list(tc.token); !slices.Equal(got, want) || len(got) == 0 {
					t.Fatalf("%s's view shows %v, tickets(where:, orderBy:) %v", tc.who, got, want)
				}
				if tc.token != w.admin {
					for _, id := range got {
						if slices.Contains(w.supportTix, id) != (tc.view == sharedID) {
							t.Fatalf("%s sees %s outside their groups", tc.who, id)
						}
					}
				}
			}
			all := ticketIDs(harness.Path(w.s.Do(t, w.admin, openView, map[string]any{"id": sharedID}).OK(t), "node", "tickets", "edges"))
			bobs := ticketIDs(harness.Path(w.s.Do(t, w.bob, openView, map[string]any{"id": sharedID}).OK(t), "node", "tickets", "edges"))
			if len(bobs) >= len(all) {
				t.Fatalf("Bob sees %d of the admin's %d", len(bobs), len(all))
			}
		})
		t.Run("Refusals", func(t *testing.T) {
			for _, tc := range []struct {
				who, token string
				in         map[string]any
				code       string
				field      any
			}{
				{"customer", w.cust1, map[string]any{"name": "Mine"}, "FORBIDDEN", nil},
				{"non-member sharing", w.cy, map[string]any{"name": "X", "groupID": w.support}, "BAD_USER_INPUT", "groupID"},
				{"empty name", w.ann, map[string]any{"name": ""}, "BAD_USER_INPUT", "name"},
				{"long name", w.ann, map[string]any{"name": strings.Repeat("n", 101)}, "BAD_USER_INPUT", "name"},
				{"empty not", w.ann, map[string]any{"name": "X", "where": map[string]any{"status": "OPEN", "not": map[string]any{}}}, "BAD_USER_INPUT", "where"},
				{"empty or member", w.ann, map[string]any{"name": "X", "where": map[string]any{"or": []any{map[string]any{}}}}, "BAD_USER_INPUT", "where"},
			} {
				r := w.s.Do(t, tc.token, createView, map[string]any{"in": tc.in})
				if r.Code(t) != tc.code || r.Errors[0].Extensions["field"] != tc.field {
					t.Fatalf("%s: %+v", tc.who, r.Errors)
				}
			}
			if got := viewNames(t, w.s, w.admin); slices.Contains(got, "X") {
				t.Fatalf("a refused view was saved: %v", got)
			}
		})
		t.Run("UpdateAndDelete", func(t *testing.T) {
			update := `mutation($id: ID!, $in: SavedViewInput!) { updateSavedView(id: $id, input: $in) { name where group { id } } }`
			if r := w.s.Do(t, w.bob, update, map[string]any{"id": sharedID, "in": map[string]any{"name": "Taken"}}); r.Code(t) != "NOT_FOUND" {
				t.Fatalf("a member changed the owner's view: %+v", r)
			}
			data := w.s.Do(t, w.ann, update, map[string]any{"id": sharedID, "in": map[string]any{"name": "Renamed", "where": map[string]any{"status": "NEW"}}}).OK(t)
			if harness.Str(data, "updateSavedView", "name") != "Renamed" || harness.Path(data, "updateSavedView", "group") != nil || harness.Str(data, "updateSavedView", "where", "status") != "NEW" {
				t.Fatalf("updated = %v", data)
			}
			if got := viewNames(t, w.s, w.bob); len(got) != 0 {
				t.Fatalf("unshared view still seen by Bob: %v", got)
			}
			del := `mutation($id: ID!) { deleteSavedView(id: $id) }`
			if r := w.s.Do(t, w.bob, del, map[string]any{"id": personalID}); r.Code(t) != "NOT_FOUND" {
				t.Fatalf("Bob deleted Ann's view: %+v", r)
			}
			if got := harness.Str(w.s.Do(t, w.ann, del, map[string]any{"id": personalID}).OK(t), "deleteSavedView"); got != personalID {
				t.Fatalf("deleted %q", got)
			}
			if got := viewNames(t, w.s, w.ann); !slices.Equal(got, []string{"Renamed"}) {
				t.Fatalf("after delete Ann sees %v", got)
			}
		})
	})
}

// TestQueuesDocsExamples runs every GraphQL example of docs/queues.md as
// an agent: each must answer without errors.
func TestQueuesDocsExamples(t *testing.T) {
	raw, err := os.ReadFile(harness.RepoFile(t, "docs", "queues.md"))
	if err != nil {
		t.Fatal(err)
	}
	var examples []string
	for _, block := range strings.Split(string(raw), "```graphql\n")[1:] {
		examples = append(examples, strings.SplitN(block, "```", 2)[0])
	}
	if len(examples) < 5 {
		t.Fatalf("found %d examples", len(examples))
	}
	w := setupQueues(t, dbtest.NewTarget(t, dbtest.SQLite))
	view := ""
	for _, ex := range examples {
		vars := map[string]any{"id": w.cust1ID}
		if strings.Contains(ex, "updateSavedView") {
			vars["id"] = view
		}
		data := w.s.Do(t, w.ann, ex, vars).OK(t)
		if id := harness.Str(data, "createSavedView", "id"); id != "" {
			view = id
		}
	}
	if view == "" {
		t.Fatal("no example created a view")
	}
}
