package live_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// Tags end to end: addTags/removeTags as a locked read-modify-write, and
// the tag filters of tickets(where:), on SQLite and PostgreSQL.

const (
	tagsAdd    = `mutation($t: ID!, $tags: [String!]!) { addTags(ticketID: $t, tags: $tags) { tags } }`
	tagsRemove = `mutation($t: ID!, $tags: [String!]!) { removeTags(ticketID: $t, tags: $tags) { tags } }`
)

func tagsOf(r map[string]any, field string) string { return fmt.Sprint(harness.Path(r, field, "tags")) }

func TestTagsChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newMacroDesk(t, tg)
		// Subscribed before the ticket exists, so that each event is
		// awaited where it is caused (the hub may read the log after a
		// later subscription started, which then gets earlier events).
		ws := d.WS(t, d.Admin)
		ws.Sub(t, "1", liveEvents, nil)
		ws.Sync(t)
		ticket := d.supportTicket(t, "Printer")
		ws.Expect(t, "1", "TICKET_CREATED", "MESSAGE_ADDED:help")
		step := harness.Steps(t)

		step("AddTrimsAndDeduplicates", func(t *testing.T) {
			r := d.S.Do(t, d.agent, tagsAdd, map[string]any{"t": ticket, "tags": []string{" vip ", "printer", "vip"}}).OK(t)
			if got := tagsOf(r, "addTags"); got != "[vip printer]" {
				t.Fatalf("tags %s", got)
			}
			ws.Expect(t, "1", "TICKET_UPDATED[tags]")
		})
		step("NoChangeWritesNoEvent", func(t *testing.T) {
			d.S.Do(t, d.agent, tagsAdd, map[string]any{"t": ticket, "tags": []string{"vip"}}).OK(t)
			d.S.Do(t, d.agent, tagsRemove, map[string]any{"t": ticket, "tags": []string{"absent"}}).OK(t)
			ws.Quiet(t, 300*time.Millisecond)
			r := d.S.Do(t, d.agent, tagsRemove, map[string]any{"t": ticket, "tags": []string{"printer"}}).OK(t)
			if got := tagsOf(r, "removeTags"); got != "[vip]" {
				t.Fatalf("tags %s", got)
			}
			ws.Expect(t, "1", "TICKET_UPDATED[tags]")
			ws.Quiet(t, 300*time.Millisecond)
		})
		step("ErrEmptyTag", func(t *testing.T) {
			wantInvalid(t, d.S.Do(t, d.agent, tagsAdd, map[string]any{"t": ticket, "tags": []string{"ok", "  "}}), "tags", "empty")
		})
		step("ErrTooManyTags", func(t *testing.T) {
			many := make([]string, 100)
			for i := range many {
				many[i] = fmt.Sprintf("t%d", i)
			}
			wantInvalid(t, d.S.Do(t, d.agent, tagsAdd, map[string]any{"t": ticket, "tags": many}), "tags", "at most 100")
		})
		step("ErrAppendingPastTheLimit", func(t *testing.T) {
			for round := range 2 {
				batch := make([]string, 60)
				for i := range batch {
					batch[i] = fmt.Sprintf("r%d-%d", round, i)
				}
				r := d.S.Do(t, d.agent, `mutation($t: ID!, $tags: [String!]) { updateTicket(id: $t, input: {appendTags: $tags}) { tags } }`, map[string]any{"t": ticket, "tags": batch})
				if round == 1 {
					wantInvalid(t, r, "appendTags", "at most 100")
				} else {
					r.OK(t)
				}
			}
		})
		step("ErrCustomersDoNotTag", func(t *testing.T) {
			if r := d.S.Do(t, d.customer, tagsAdd, map[string]any{"t": ticket, "tags": []string{"x"}}); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
		step("ErrOutOfReach", func(t *testing.T) {
			if r := d.S.Do(t, d.other, tagsAdd, map[string]any{"t": ticket, "tags": []string{"x"}}); r.Code(t) != "NOT_FOUND" {
				t.Fatalf("got %+v", r.Errors)
			}
		})
		step("ConcurrentAddsAllKept", func(t *testing.T) {
			fresh := d.supportTicket(t, "Busy")
			var wg sync.WaitGroup
			errs := make(chan string, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					token := d.agent
					if i%2 == 1 {
						token = d.Admin
					}
					if r := d.S.Do(t, token, tagsAdd, map[string]any{"t": fresh, "tags": []string{fmt.Sprintf("tag%02d", i)}}); len(r.Errors) > 0 {
						errs <- fmt.Sprint(r.Errors)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Errorf("addTags: %s", e)
			}
			r := d.S.Do(t, d.Admin, `query($id: ID!) { node(id: $id) { ... on Ticket { tags } } }`, map[string]any{"id": fresh}).OK(t)
			var got []string
			for _, tag := range harness.Path(r, "node", "tags").([]any) {
				got = append(got, tag.(string))
			}
			slices.Sort(got)
			if len(got) != 20 || slices.Compact(slices.Clone(got))[19] != "tag19" {
				t.Fatalf("tags after 20 concurrent adds: %v", got)
			}
		})
	})
}

func TestTagsFilter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newMacroDesk(t, tg)
		subjects := map[string][]string{"A": {"vip", "printer"}, "B": {"vip"}, "C": {"printer"}, "D": nil}
		ids := map[string]string{}
		for _, s := range []string{"A", "B", "C", "D"} {
			id := d.Ticket(t, d.Admin, map[string]any{"subject": s, "body": "b", "requesterID": d.customerID, "groupID": d.support})
			ids[s] = id
			if len(subjects[s]) > 0 {
				d.S.Do(t, d.Admin, tagsAdd, map[string]any{"t": id, "tags": subjects[s]}).OK(t)
			}
		}
		list := func(t *testing.T, token string, where map[string]any) string {
			t.Helper()
			r := d.S.Do(t, token, `query($w: TicketWhereInput) { tickets(where: $w, orderBy: {field: NUMBER}) { edges { node { subject } } } }`, map[string]any{"w": where}).OK(t)
			var out []string
			for _, e := range harness.Path(r, "tickets", "edges").([]any) {
				out = append(out, harness.Str(e, "node", "subject"))
			}
			return strings.Join(out, "")
		}
		for _, tc := range []struct {
			name  string
			where map[string]any
			want  string
		}{
			{"HasTag", map[string]any{"hasTag": "vip"}, "AB"},
			{"HasAnyTag", map[string]any{"hasAnyTag": []string{"vip", "printer"}}, "ABC"},
			{"HasAllTags", map[string]any{"hasAllTags": []string{"vip", "printer"}}, "A"},
			{"NotHasTag", map[string]any{"not": map[string]any{"hasTag": "vip"}}, "CD"},
			{"OrWithOtherFields", map[string]any{"or": []any{map[string]any{"hasTag": "printer"}, map[string]any{"subject": "D"}}}, "ACD"},
			{"AndWithOtherFields", map[string]any{"hasTag": "vip", "subjectNEQ": "A"}, "B"},
			{"NoSuchTag", map[string]any{"hasTag": "nope"}, ""},
			{"TagsAreWholeValues", map[string]any{"hasTag": "vi"}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := list(t, d.agent, tc.where); got != tc.want {
					t.Fatalf("where %v: %q, want %q", tc.where, got, tc.want)
				}
			})
		}
		t.Run("CustomersFilterByTagsToo", func(t *testing.T) {
			if got := list(t, d.customer, map[string]any{"hasTag": "printer"}); got != "AC" {
				t.Fatalf("customer: %q", got)
			}
		})
		t.Run("ErrTooManyTagsInAFilter", func(t *testing.T) {
			many := make([]string, 101)
			for i := range many {
				many[i] = fmt.Sprintf("t%d", i)
			}
			r := d.S.Do(t, d.customer, `query($w: TicketWhereInput) { tickets(where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"hasAnyTag": many}})
			if r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "where.hasAnyTag" {
				t.Fatalf("101 tags in hasAnyTag: %+v", r.Errors)
			}
		})
		t.Run("SavedViewsKeepTagFilters", func(t *testing.T) {
			for _, where := range []map[string]any{
				{"not": map[string]any{"hasTag": "vip"}},
				{"hasAnyTag": []string{"vip", "printer"}, "subjectNEQ": "B"},
				{"or": []any{map[string]any{"hasAllTags": []string{"vip", "printer"}}, map[string]any{"hasAnyTag": []string{}}}},
				{"hasAllTags": []string{}},
			} {
				r := d.S.Do(t, d.agent, `mutation($w: TicketWhereInput) { createSavedView(input: {name: "tagged", where: $w, orderBy: [{field: NUMBER}]}) {
					where tickets { edges { node { subject } } } } }`, map[string]any{"w": where}).OK(t)
				stored, _ := json.Marshal(harness.Path(r, "createSavedView", "where"))
				asked, _ := json.Marshal(where)
				if string(stored) != string(asked) {
					t.Fatalf("view's where is %s, want %s", stored, asked)
				}
				var got []string
				for _, e := range harness.Path(r, "createSavedView", "tickets", "edges").([]any) {
					got = append(got, harness.Str(e, "node", "subject"))
				}
				// The stored where, passed back to tickets(where:), lists the same.
				var back map[string]any
				_ = json.Unmarshal(stored, &back)
				if want := list(t, d.agent, back); strings.Join(got, "") != want {
					t.Fatalf("view where %s lists %v, tickets(where:) %q", stored, got, want)
				}
			}
		})
		t.Run("ErrTooManyTagsInASavedView", func(t *testing.T) {
			many := make([]string, 101)
			for i := range many {
				many[i] = fmt.Sprintf("t%d", i)
			}
			r := d.S.Do(t, d.agent, `mutation($w: TicketWhereInput) { createSavedView(input: {name: "many", where: $w}) { id } }`,
				map[string]any{"w": map[string]any{"not": map[string]any{"hasAllTags": many}}})
			if r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "where.not.hasAllTags" {
				t.Fatalf("a saved view with 101 tags: %+v", r.Errors)
			}
		})
		t.Run("SubscriptionsFollowTagFilters", func(t *testing.T) {
			// D has no tags: adding vip brings it into each view, removing
			// it takes it out again.
			const events = `subscription($where: TicketWhereInput) { ticketEvents(where: $where) { type ticketID } }`
			wheres := []map[string]any{
				{"hasTag": "vip"},
				{"hasAnyTag": []string{"nope", "vip"}},
				{"or": []any{map[string]any{"subject": "nope"}, map[string]any{"hasAllTags": []string{"vip"}}}},
				{"not": map[string]any{"not": map[string]any{"hasTag": "vip"}}},
			}
			st := d.WS(t, d.agent)
			for i, where := range wheres {
				st.Sub(t, fmt.Sprint(i), events, map[string]any{"where": where})
			}
			neither := d.WS(t, d.agent)
			neither.Sub(t, "1", events, map[string]any{"where": map[string]any{"not": map[string]any{"hasTag": "vip"}}})
			st.Sync(t)
			neither.Sync(t)
			for _, step := range []struct{ mutation, want, opposite string }{
				{tagsAdd, "TICKET_ENTERED", "TICKET_LEFT"},
				{tagsRemove, "TICKET_LEFT", "TICKET_ENTERED"},
			} {
				d.S.Do(t, d.Admin, step.mutation, map[string]any{"t": ids["D"], "tags": []string{"vip"}}).OK(t)
				for range wheres {
					m := st.MustNext(t)
					st.Unread(m)
					ev := st.Event(t, m.ID)
					if harness.Str(ev, "type") != step.want || harness.Str(ev, "ticketID") != ids["D"] {
						t.Fatalf("where %v: %v, want %s of D", wheres[m.ID[0]-'0'], ev, step.want)
					}
				}
				if ev := neither.Event(t, "1"); harness.Str(ev, "type") != step.opposite {
					t.Fatalf("not hasTag vip: %v, want %s", ev, step.opposite)
				}
			}
		})
	})
}
