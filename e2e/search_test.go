package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

const searchQuery = `query($q: String!, $after: Cursor, $first: Int) { search(query: $q, after: $after, first: $first) {
	edges { cursor rank node { subject } } pageInfo { hasNextPage endCursor } } }`

// searchSubjects follows every page of a search through the API.
func searchSubjects(t *testing.T, s *harness.Server, token, q string, pageSize int) []string {
	t.Helper()
	var out []string
	vars := map[string]any{"q": q, "first": pageSize}
	for i := 0; i < 50; i++ {
		data := s.Do(t, token, searchQuery, vars).OK(t)
		edges, _ := harness.Path(data, "search", "edges").([]any)
		for _, e := range edges {
			out = append(out, harness.Str(e, "node", "subject"))
		}
		if harness.Path(data, "search", "pageInfo", "hasNextPage") != true {
			return out
		}
		vars["after"] = harness.Str(data, "search", "pageInfo", "endCursor")
	}
	t.Fatalf("search %q: more than 50 pages", q)
	return nil
}

func TestSearchAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "agent@example.com", "Alice Agent", "agent", "teal lantern orbit 42")
		s := harness.Start(t, tg, map[string]string{"SWITCHBOARD_MAX_PAGE_SIZE": "50"})
		ann, annID := harness.Signup(t, s, "ann@example.com", "Ann")
		bob, _ := harness.Signup(t, s, "bob@example.com", "Bob")
		agent := harness.Login(t, s, "agent@example.com", "teal lantern orbit 42")

		// Tickets opened by the agent for Ann are assigned to the agent.
		var ids []string
		for i, body := range []string{"the printer is on fire", "printer paper jam", "printer toner low"} {
			data := s.Do(t, agent, harness.CreateTicketMutation, map[string]any{"input": map[string]any{
				"subject": fmt.Sprintf("Printer %d", i), "body": body, "requesterID": annID}}).OK(t)
			ids = append(ids, harness.Str(data, "createTicket", "id"))
		}
		s.Do(t, agent, harness.AddMessageMutation, map[string]any{"id": ids[0], "body": "internal: customer owes us money", "internal": true}).OK(t)
		s.Do(t, bob, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Bob's printer", "body": "mine is broken too"}}).OK(t)

		t.Run("CustomerFindsOwnTicketsRankedByRelevance", func(t *testing.T) {
			data := s.Do(t, ann, searchQuery, map[string]any{"q": "fire printer"}).OK(t)
			if harness.Str(data, "search", "edges", 0, "node", "subject") != "Printer 0" || harness.Path(data, "search", "edges", 0, "rank") == nil {
				t.Fatalf("search = %v", data)
			}
			got := searchSubjects(t, s, bob, "printer", 10)
			if len(got) != 1 || got[0] != "Bob's printer" {
				t.Fatalf("bob's search = %q", got)
			}
		})
		t.Run("InternalNotesOnlyForStaff", func(t *testing.T) {
			if got := searchSubjects(t, s, ann, "owes money", 10); len(got) != 0 {
				t.Fatalf("customer matched an internal note: %q", got)
			}
			if got := searchSubjects(t, s, agent, "owes money", 10); len(got) != 1 || got[0] != "Printer 0" {
				t.Fatalf("agent search = %q", got)
			}
		})
		t.Run("CursorPagination", func(t *testing.T) {
			for _, q := range []string{"printer", "printer sort:oldest", "sort:newest"} {
				all := searchSubjects(t, s, agent, q, 50)
				paged := searchSubjects(t, s, agent, q, 1)
				if len(all) != 3 || strings.Join(all, "|") != strings.Join(paged, "|") {
					t.Fatalf("%q: all at once %q, page by page %q", q, all, paged)
				}
			}
			if got := searchSubjects(t, s, agent, "sort:oldest", 2); strings.Join(got, "|") != "Printer 0|Printer 1|Printer 2" {
				t.Fatalf("sort:oldest = %q", got)
			}
		})
		t.Run("ErrMalformedQueryNamesPosition", func(t *testing.T) {
			r := s.Do(t, ann, searchQuery, map[string]any{"q": "printer created:>"})
			if r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "query" ||
				!strings.HasPrefix(r.Errors[0].Message, `at 18: expected a date`) {
				t.Fatalf("malformed query: %+v", r.Errors)
			}
			r = s.Do(t, ann, searchQuery, map[string]any{"q": "stauts:open"})
			if r.Code(t) != "BAD_USER_INPUT" || !strings.HasPrefix(r.Errors[0].Message, `at 1: unknown filter "stauts:"`) {
				t.Fatalf("unknown filter: %+v", r.Errors)
			}
		})
		t.Run("ErrQueryTooLong", func(t *testing.T) {
			r := s.Do(t, ann, searchQuery, map[string]any{"q": strings.Repeat("x", 501)})
			if r.Code(t) != "BAD_USER_INPUT" || !strings.HasPrefix(r.Errors[0].Message, "at 501:") {
				t.Fatalf("long query: %+v", r.Errors)
			}
		})
		t.Run("ErrPageTooLarge", func(t *testing.T) {
			r := s.Do(t, ann, searchQuery, map[string]any{"q": "printer", "first": 51})
			if r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "first" {
				t.Fatalf("first: 51: %+v", r.Errors)
			}
		})
		t.Run("ErrCustomerSLAFilter", func(t *testing.T) {
			r := s.Do(t, ann, searchQuery, map[string]any{"q": "printer is:breached"})
			if r.Code(t) != "FORBIDDEN" || !strings.HasPrefix(r.Errors[0].Message, "at 9:") {
				t.Fatalf("is:breached as customer: %+v", r.Errors)
			}
			s.Do(t, agent, searchQuery, map[string]any{"q": "printer is:breached"}).OK(t)
		})
		t.Run("ErrAnonymous", func(t *testing.T) {
			r := s.Do(t, "", searchQuery, map[string]any{"q": "printer"})
			if r.Code(t) != "UNAUTHENTICATED" || r.Status != http.StatusUnauthorized && r.Status != http.StatusOK {
				t.Fatalf("anonymous search: %d %+v", r.Status, r.Errors)
			}
		})
	})
}
