package e2e_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

func TestCustomerJourney(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		s := harness.Start(t, tg, nil)

		token, userID := harness.Signup(t, s, "Ann@Example.com", "Ann")
		if !strings.HasPrefix(token, "sbs_") || userID == "" {
			t.Fatalf("signup gave token %q id %q", token, userID)
		}
		me := s.Do(t, token, `{ me { id email name role } }`, nil).OK(t)
		if harness.Str(me, "me", "email") != "ann@example.com" || harness.Str(me, "me", "role") != "CUSTOMER" {
			t.Fatalf("me = %v", me)
		}

		// A second session by logging in; the email is case-insensitive.
		token = harness.Login(t, s, "ANN@example.com", "correct horse battery")

		var ticketIDs []string
		for i, subject := range []string{"Printer on fire", "Cannot log in", "Refund please"} {
			data := s.Do(t, token, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": subject, "body": fmt.Sprintf("details %d", i)}}).OK(t)
			tk := harness.Path(data, "createTicket")
			if harness.Str(tk, "subject") != subject || harness.Str(tk, "status") != "NEW" || harness.Str(tk, "priority") != "NORMAL" ||
				harness.Str(tk, "requester", "email") != "ann@example.com" || harness.Num(tk, "messages", "totalCount") != 1 ||
				harness.Str(tk, "messages", "edges", 0, "node", "body") != fmt.Sprintf("details %d", i) {
				t.Fatalf("createTicket = %v", tk)
			}
			if harness.Num(tk, "number") != i+1 {
				t.Fatalf("ticket number = %d, want %d", harness.Num(tk, "number"), i+1)
			}
			ticketIDs = append(ticketIDs, harness.Str(tk, "id"))
		}

		msg := s.Do(t, token, harness.AddMessageMutation, map[string]any{"id": ticketIDs[0], "body": "It is still burning"}).OK(t)
		if harness.Str(msg, "addMessage", "body") != "It is still burning" || harness.Str(msg, "addMessage", "author", "name") != "Ann" {
			t.Fatalf("addMessage = %v", msg)
		}

		// Solve one ticket, then list with a filter, an order and pages.
		s.Do(t, token, `mutation($id: ID!) { updateTicket(id: $id, input: {status: SOLVED}) { status solvedAt } }`, map[string]any{"id": ticketIDs[2]}).OK(t)
		list := s.Do(t, token, `{ tickets(first: 1, where: {statusNEQ: SOLVED}, orderBy: {field: NUMBER, direction: DESC}) {
			totalCount pageInfo { hasNextPage endCursor } edges { node { number subject messages(last: 1) { edges { node { body } } } } } } }`, nil).OK(t)
		if harness.Num(list, "tickets", "totalCount") != 2 || harness.Num(list, "tickets", "edges", 0, "node", "number") != 2 ||
			harness.Path(list, "tickets", "pageInfo", "hasNextPage") != true {
			t.Fatalf("first page = %v", list)
		}
		next := s.Do(t, token, `query($after: Cursor) { tickets(first: 5, after: $after, where: {statusNEQ: SOLVED}, orderBy: {field: NUMBER, direction: DESC}) {
			pageInfo { hasNextPage } edges { node { number messages(last: 1) { edges { node { body } } } } } } }`,
			map[string]any{"after": harness.Str(list, "tickets", "pageInfo", "endCursor")}).OK(t)
		if edges, _ := harness.Path(next, "tickets", "edges").([]any); len(edges) != 1 || harness.Num(next, "tickets", "edges", 0, "node", "number") != 1 ||
			harness.Str(next, "tickets", "edges", 0, "node", "messages", "edges", 0, "node", "body") != "It is still burning" ||
			harness.Path(next, "tickets", "pageInfo", "hasNextPage") != false {
			t.Fatalf("second page = %v", next)
		}

		node := s.Do(t, token, `query($id: ID!) { node(id: $id) { id ... on Ticket { subject } } }`, map[string]any{"id": ticketIDs[1]}).OK(t)
		if harness.Str(node, "node", "subject") != "Cannot log in" {
			t.Fatalf("node = %v", node)
		}
		nodes := s.Do(t, token, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ticketIDs}).OK(t)
		if l, _ := harness.Path(nodes, "nodes").([]any); len(l) != 3 || harness.Str(nodes, "nodes", 2, "id") != ticketIDs[2] {
			t.Fatalf("nodes = %v", nodes)
		}

		if out := s.Do(t, token, `mutation { logout }`, nil).OK(t); harness.Path(out, "logout") != true {
			t.Fatalf("logout = %v", out)
		}
		res := s.Do(t, token, `{ me { id } }`, nil)
		if res.Status != http.StatusUnauthorized || res.Code(t) != "UNAUTHENTICATED" {
			t.Fatalf("after logout: status %d errors %+v", res.Status, res.Errors)
		}
	})
}

func TestAgentWorkflow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "agent@example.com", "Alice Agent", "agent", "teal lantern orbit 42")
		s := harness.Start(t, tg, nil)
		customer, _ := harness.Signup(t, s, "cust@example.com", "Cust")
		agent := harness.Login(t, s, "agent@example.com", "teal lantern orbit 42")

		tk := s.Do(t, customer, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Help", "body": "please"}}).OK(t)
		id := harness.Str(tk, "createTicket", "id")

		// The ticket is in no group and unassigned: out of the agent's reach.
		if r := s.Do(t, agent, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}); r.Code(t) != "NOT_FOUND" {
			t.Fatalf("agent reached an unassigned ticket: %+v", r)
		}
		// An agent's own ticket on behalf of the customer is assigned to them.
		me := s.Do(t, agent, `{ me { id } }`, nil).OK(t)
		custID := harness.Str(s.Do(t, customer, `{ me { id } }`, nil).OK(t), "me", "id")
		own := s.Do(t, agent, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Phoned in", "body": "by phone", "priority": "URGENT", "requesterID": custID}}).OK(t)
		ownID := harness.Str(own, "createTicket", "id")
		if harness.Str(own, "createTicket", "priority") != "URGENT" || harness.Str(own, "createTicket", "requester", "email") != "cust@example.com" {
			t.Fatalf("agent createTicket = %v", own)
		}
		s.Do(t, agent, harness.AddMessageMutation, map[string]any{"id": ownID, "body": "we are on it"}).OK(t)
		s.Do(t, agent, harness.AddMessageMutation, map[string]any{"id": ownID, "body": "customer is grumpy", "internal": true}).OK(t)

		view := s.Do(t, agent, `query($id: ID!) { node(id: $id) { ... on Ticket { status assignee { id } firstRespondedAt messages { totalCount } } } }`, map[string]any{"id": ownID}).OK(t)
		if harness.Str(view, "node", "status") != "OPEN" || harness.Str(view, "node", "assignee", "id") != harness.Str(me, "me", "id") ||
			harness.Str(view, "node", "firstRespondedAt") == "" || harness.Num(view, "node", "messages", "totalCount") != 3 {
			t.Fatalf("agent view = %v", view)
		}
		// The customer never sees the internal note.
		cview := s.Do(t, customer, `query($id: ID!) { node(id: $id) { ... on Ticket { messages { totalCount edges { node { body internal } } } } } }`, map[string]any{"id": ownID}).OK(t)
		if harness.Num(cview, "node", "messages", "totalCount") != 2 || strings.Contains(fmt.Sprint(cview), "grumpy") {
			t.Fatalf("customer view = %v", cview)
		}
		if r := s.Do(t, agent, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "x", "body": "y", "requesterID": harness.Str(me, "me", "id")}}); r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "requesterID" {
			t.Fatalf("ticket for a staff requester: %+v", r.Errors)
		}
		// Orders by priority sort URGENT first.
		list := s.Do(t, customer, `{ tickets(orderBy: {field: PRIORITY, direction: DESC}) { edges { node { priority } } } }`, nil).OK(t)
		if harness.Str(list, "tickets", "edges", 0, "node", "priority") != "URGENT" || harness.Str(list, "tickets", "edges", 1, "node", "priority") != "NORMAL" {
			t.Fatalf("priority order = %v", list)
		}
	})
}

func TestConcurrentTicketNumbers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		s := harness.Start(t, tg, nil)
		token, _ := harness.Signup(t, s, "busy@example.com", "Busy")
		const n = 50
		numbers := make(chan int, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := s.Do(t, token, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": fmt.Sprintf("t%d", i), "body": "x"}})
				if len(r.Errors) > 0 {
					t.Errorf("create %d: %+v", i, r.Errors)
					return
				}
				numbers <- harness.Num(r.Data, "createTicket", "number")
			}(i)
		}
		wg.Wait()
		close(numbers)
		seen := map[int]bool{}
		for num := range numbers {
			if seen[num] {
				t.Fatalf("ticket number %d given twice", num)
			}
			seen[num] = true
		}
		for i := 1; i <= n; i++ {
			if !seen[i] {
				t.Fatalf("ticket number %d missing: numbers are not gap-free (%v)", i, seen)
			}
		}
	})
}

func TestBadInput(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	harness.CreateUser(t, tg, "other@example.com", "Other", "customer", "violet harbor kettle")
	s := harness.Start(t, tg, nil)
	token, _ := harness.Signup(t, s, "me@example.com", "Me")
	other := harness.Login(t, s, "other@example.com", "violet harbor kettle")
	foreign := harness.Str(s.Do(t, other, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "private", "body": "secret"}}).OK(t), "createTicket", "id")
	mine := harness.Str(s.Do(t, token, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "mine", "body": "mine"}}).OK(t), "createTicket", "id")

	for _, tc := range []struct {
		name, token, query string
		vars               map[string]any
		code, field        string
	}{
		{"ErrEmptySubject", token, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "   ", "body": "x"}}, "BAD_USER_INPUT", "subject"},
		{"ErrEmptyBody", token, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "x", "body": ""}}, "BAD_USER_INPUT", "body"},
		{"ErrMalformedEmail", "", harness.SignupMutation, map[string]any{"input": map[string]any{"email": "not-an-email", "password": "quiet maple river stone", "name": "X"}}, "BAD_USER_INPUT", "email"},
		{"ErrShortPassword", "", harness.SignupMutation, map[string]any{"input": map[string]any{"email": "x@example.com", "password": "short", "name": "X"}}, "BAD_USER_INPUT", "password"},
		{"ErrDuplicateEmail", "", harness.SignupMutation, map[string]any{"input": map[string]any{"email": "ME@example.com", "password": "quiet maple river stone", "name": "X"}}, "CONFLICT", "email"},
		{"ErrUnknownEnumValue", token, `mutation($id: ID!) { updateTicket(id: $id, input: {status: EXPLODED}) { id } }`, map[string]any{"id": foreign}, "BAD_USER_INPUT", ""},
		{"ErrUnknownEnumVariable", token, `query($s: TicketStatus) { tickets(where: {status: $s}) { totalCount } }`, map[string]any{"s": "EXPLODED"}, "BAD_USER_INPUT", ""},
		{"ErrUndefinedVariable", token, `{ tickets(where: {status: $s}) { totalCount } }`, nil, "BAD_USER_INPUT", ""},
		{"ErrMalformedID", token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "42"}, "BAD_USER_INPUT", ""},
		{"ErrForeignID", token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": foreign}, "NOT_FOUND", ""},
		{"ErrForeignTicketReply", token, harness.AddMessageMutation, map[string]any{"id": foreign, "body": "hi"}, "NOT_FOUND", ""},
		{"ErrForeignTicketUpdate", token, `mutation($id: ID!) { updateTicket(id: $id, input: {status: SOLVED}) { id } }`, map[string]any{"id": foreign}, "NOT_FOUND", ""},
		{"ErrCustomerSetsPriority", token, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "x", "body": "y", "priority": "URGENT"}}, "FORBIDDEN", ""},
		{"ErrCustomerInternalNote", token, harness.AddMessageMutation, map[string]any{"id": mine, "body": "hi", "internal": true}, "FORBIDDEN", ""},
		{"ErrTooManyNodes", token, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": manyIDs(101)}, "BAD_USER_INPUT", "ids"},
		{"ErrFilterOnInternalNotesAfterSigningInInTheSameRequest", "", `mutation { login(email: "me@example.com", password: "correct horse battery") { token }
			updateTicket(id: "` + mine + `", input: {status: OPEN}) { messages(where: {hasTicketWith: [{hasMessagesWith: [{internal: true}]}]}) { totalCount } } }`, nil, "FORBIDDEN", "hasMessagesWith"},
		{"ErrPageTooLarge", token, `{ tickets(first: 101) { totalCount } }`, nil, "BAD_USER_INPUT", "first"},
		{"ErrNegativePage", token, `{ tickets(last: -1) { totalCount } }`, nil, "BAD_USER_INPUT", "last"},
		{"ErrWrongPassword", "", harness.LoginMutation, map[string]any{"email": "me@example.com", "password": "wrong password!!"}, "UNAUTHENTICATED", ""},
		{"ErrUnknownEmailLooksLikeWrongPassword", "", harness.LoginMutation, map[string]any{"email": "nobody@example.com", "password": "wrong password!!"}, "UNAUTHENTICATED", ""},
		{"ErrAnonymousTickets", "", `{ tickets { totalCount } }`, nil, "UNAUTHENTICATED", ""},
		{"ErrAnonymousCreateTicket", "", harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "x", "body": "y"}}, "UNAUTHENTICATED", ""},
		{"ErrSyntax", token, `{ tickets {`, nil, "BAD_USER_INPUT", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, tc.token, tc.query, tc.vars)
			if got := r.Code(t); got != tc.code {
				t.Fatalf("code = %s, want %s (%+v)", got, tc.code, r.Errors)
			}
			if tc.field != "" && r.Errors[0].Extensions["field"] != tc.field {
				t.Fatalf("field = %v, want %s", r.Errors[0].Extensions["field"], tc.field)
			}
		})
	}

	t.Run("UnknownEmailAndWrongPasswordSayTheSame", func(t *testing.T) {
		a := s.Do(t, "", harness.LoginMutation, map[string]any{"email": "me@example.com", "password": "wrong password!!"})
		b := s.Do(t, "", harness.LoginMutation, map[string]any{"email": "nobody@example.com", "password": "wrong password!!"})
		if a.Errors[0].Message != b.Errors[0].Message || a.Status != b.Status {
			t.Fatalf("login failures differ: %+v vs %+v", a, b)
		}
	})
	t.Run("ForeignIDReadsLikeMissingID", func(t *testing.T) {
		a := s.Do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": foreign})
		b := s.Do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": strings.Replace(foreign, foreign[2:4], "00", 1)})
		if a.Errors[0].Message != b.Errors[0].Message || a.Code(t) != b.Code(t) {
			t.Fatalf("foreign and missing IDs differ: %+v vs %+v", a.Errors, b.Errors)
		}
	})
	t.Run("DefaultPageIs20", func(t *testing.T) {
		for i := 0; i < 20; i++ {
			s.Do(t, token, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": fmt.Sprint(i), "body": "x"}}).OK(t)
		}
		r := s.Do(t, token, `{ tickets { totalCount edges { node { id } } } }`, nil).OK(t)
		if l, _ := harness.Path(r, "tickets", "edges").([]any); len(l) != 20 || harness.Num(r, "tickets", "totalCount") != 21 {
			t.Fatalf("default page has %d of %d", len(l), harness.Num(r, "tickets", "totalCount"))
		}
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		r := s.Do(t, "sbs_forged", `{ me { id } }`, nil)
		if r.Status != http.StatusUnauthorized || r.Code(t) != "UNAUTHENTICATED" {
			t.Fatalf("forged token: %d %+v", r.Status, r.Errors)
		}
	})
	t.Run("StillServing", func(t *testing.T) {
		res, err := http.Get(s.URL + "/healthz")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %v %v", res, err)
		}
		res.Body.Close()
	})
}

func TestFieldAccess(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	harness.CreateUser(t, tg, "agent@example.com", "Alice Agent", "agent", "teal lantern orbit 42")
	s := harness.Start(t, tg, nil)
	customer, custID := harness.Signup(t, s, "cust@example.com", "Cust")
	agent := harness.Login(t, s, "agent@example.com", "teal lantern orbit 42")
	tk := s.Do(t, agent, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Phoned in", "body": "x", "requesterID": custID}}).OK(t)
	id := harness.Str(tk, "createTicket", "id")
	const q = `query($id: ID!) { node(id: $id) { ... on Ticket { subject firstResponseDueAt requester { email } assignee { name email } } } }`

	t.Run("CustomerSeesOwnEmailNotStaffEmailOrSLA", func(t *testing.T) {
		r := s.Do(t, customer, q, map[string]any{"id": id})
		if harness.Str(r.Data, "node", "subject") != "Phoned in" || harness.Str(r.Data, "node", "requester", "email") != "cust@example.com" ||
			harness.Str(r.Data, "node", "assignee", "name") != "Alice Agent" {
			t.Fatalf("the rest of the response must be intact: %v", r.Data)
		}
		if harness.Path(r.Data, "node", "assignee", "email") != nil || harness.Path(r.Data, "node", "firstResponseDueAt") != nil {
			t.Fatalf("denied fields must read null: %v", r.Data)
		}
		denied := map[string]bool{}
		for _, e := range r.Errors {
			if e.Extensions["code"] != "FORBIDDEN" {
				t.Fatalf("error %+v, want FORBIDDEN", e)
			}
			denied[fmt.Sprint(e.Path)] = true
		}
		if !denied["[node assignee email]"] || !denied["[node firstResponseDueAt]"] || len(denied) != 2 {
			t.Fatalf("denied paths = %v", denied)
		}
	})
	t.Run("AgentSeesContactData", func(t *testing.T) {
		r := s.Do(t, agent, q, map[string]any{"id": id}).OK(t)
		if harness.Str(r, "node", "requester", "email") != "cust@example.com" || harness.Str(r, "node", "assignee", "email") != "agent@example.com" {
			t.Fatalf("agent view = %v", r)
		}
	})
	t.Run("HashesAreNotInTheSchema", func(t *testing.T) {
		r := s.Do(t, agent, `{ __type(name: "User") { fields { name } } }`, nil).OK(t)
		for _, f := range harness.Path(r, "__type", "fields").([]any) {
			if name := harness.Str(f, "name"); strings.Contains(strings.ToLower(name), "hash") || strings.Contains(strings.ToLower(name), "password") {
				t.Fatalf("User exposes %s", name)
			}
		}
	})
}

// aliasedLogins is one request of n aliased login fields, the i-th with
// the email and password that at returns.
func aliasedLogins(n int, at func(i int) (email, password string)) string {
	var b strings.Builder
	b.WriteString("mutation {")
	for i := 0; i < n; i++ {
		email, password := at(i)
		fmt.Fprintf(&b, ` a%d: login(email: %q, password: %q) { token }`, i, email, password)
	}
	b.WriteString(" }")
	return b.String()
}

// codeCounts counts the errors of r by extensions.code.
func codeCounts(r harness.Response) map[string]int {
	codes := map[string]int{}
	for _, e := range r.Errors {
		codes[fmt.Sprint(e.Extensions["code"])]++
	}
	return codes
}

// wantRateLimited checks a response refused for a rate: HTTP 429 with
// Retry-After, and every RATE_LIMITED error with extensions.retryAfter in
// whole seconds (at least 1). It returns the longest retryAfter.
func wantRateLimited(t *testing.T, res *http.Response, r harness.Response) int {
	t.Helper()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429 (errors %+v)", res.StatusCode, r.Errors)
	}
	header, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || header < 1 {
		t.Fatalf("Retry-After %q, want whole seconds", res.Header.Get("Retry-After"))
	}
	longest := 0
	for _, e := range r.Errors {
		if e.Extensions["code"] != "RATE_LIMITED" {
			continue
		}
		secs, ok := e.Extensions["retryAfter"].(float64)
		if !ok || secs < 1 || secs != float64(int(secs)) {
			t.Fatalf("RATE_LIMITED error without an integer retryAfter of at least 1: %+v", e)
		}
		longest = max(longest, int(secs))
	}
	if longest == 0 {
		t.Fatalf("no RATE_LIMITED error: %+v", r.Errors)
	}
	return longest
}

func TestLoginThrottling(t *testing.T) {
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	harness.Signup(t, s, "victim@example.com", "Victim")
	res, r := s.Post(t, aliasedLogins(10, func(i int) (string, string) {
		return "victim@example.com", fmt.Sprintf("guess number %d", i)
	}), nil, nil)
	// Each alias is one attempt: five failures, then the rest refused
	// without checking the password.
	if codes := codeCounts(r); codes["UNAUTHENTICATED"] != 5 || codes["RATE_LIMITED"] != 5 {
		t.Fatalf("codes = %v", codes)
	}
	t.Run("RefusalsAre429WithRetryAfter", func(t *testing.T) {
		wantRateLimited(t, res, r)
	})
	// While the delay (1 s) started by the batch is surely running.
	t.Run("RightPasswordAlsoWaits", func(t *testing.T) {
		res, r := s.Post(t, aliasedLogins(1, func(int) (string, string) { return "victim@example.com", "correct horse battery" }), nil, nil)
		if r.Code(t) != "RATE_LIMITED" || !strings.Contains(r.Errors[0].Message, "try again in") {
			t.Fatalf("got %+v", r.Errors)
		}
		wantRateLimited(t, res, r)
	})
	t.Run("ParallelGuessesAreCountedToo", func(t *testing.T) {
		harness.Signup(t, s, "second@example.com", "Second")
		codes := make(chan string, 20)
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := s.Do(t, "", harness.LoginMutation, map[string]any{"email": "second@example.com", "password": fmt.Sprintf("parallel guess %d", i)})
				if len(r.Errors) == 1 {
					codes <- fmt.Sprint(r.Errors[0].Extensions["code"])
				}
			}(i)
		}
		wg.Wait()
		close(codes)
		count := map[string]int{}
		for c := range codes {
			count[c]++
		}
		if count["UNAUTHENTICATED"] != 5 || count["RATE_LIMITED"] != 15 {
			t.Fatalf("codes = %v", count)
		}
	})
}

// TestLoginThrottlingPerAddress: 20 failed logins from one address, on
// any accounts, and its 21st attempt is refused.
func TestLoginThrottlingPerAddress(t *testing.T) {
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	_, r := s.Post(t, aliasedLogins(20, func(i int) (string, string) {
		return fmt.Sprintf("nobody%d@example.com", i), "a wrong password"
	}), nil, nil)
	if codes := codeCounts(r); codes["UNAUTHENTICATED"] != 20 {
		t.Fatalf("the first 20 failures: codes = %v", codes)
	}
	res, r := s.Post(t, aliasedLogins(1, func(int) (string, string) { return "someone@example.com", "a wrong password" }), nil, nil)
	if r.Code(t) != "RATE_LIMITED" {
		t.Fatalf("the 21st attempt: %+v", r.Errors)
	}
	wantRateLimited(t, res, r)
}

// TestLoginThrottleRefusalsAreNotFailures: a login refused by the throttle
// never checked the password, so it does not count as a failure: 100
// aliased guesses in two requests leave the account as after 5 failures
// (a wait of 1s), not 100 (the longest wait, 15 minutes).
func TestLoginThrottleRefusalsAreNotFailures(t *testing.T) {
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	harness.Signup(t, s, "victim@example.com", "Victim")
	guesses := aliasedLogins(50, func(i int) (string, string) {
		return "victim@example.com", fmt.Sprintf("guess number %d", i)
	})
	if _, r := s.Post(t, guesses, nil, nil); codeCounts(r)["RATE_LIMITED"] != 45 {
		t.Fatalf("first request: codes = %v", codeCounts(r))
	}
	res, r := s.Post(t, guesses, nil, nil)
	if codeCounts(r)["RATE_LIMITED"] != 50 {
		t.Fatalf("second request: codes = %v", codeCounts(r))
	}
	if wait := wantRateLimited(t, res, r); wait != 1 {
		t.Fatalf("retryAfter %d after 5 failures and 95 refusals, want 1", wait)
	}
	time.Sleep(time.Second + 100*time.Millisecond)
	harness.Login(t, s, "victim@example.com", "correct horse battery")
}

func TestSessionsAndTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "agent@example.com", "Alice Agent", "agent", "teal lantern orbit 42")
		s := harness.Start(t, tg, nil)
		laptop := harness.Login(t, s, "agent@example.com", "teal lantern orbit 42")
		phone := harness.Login(t, s, "agent@example.com", "teal lantern orbit 42")
		customer, custID := harness.Signup(t, s, "cust@example.com", "Cust")

		sessions := s.Do(t, laptop, `{ mySessions { id revokedAt userAgent } }`, nil).OK(t)
		list, _ := harness.Path(sessions, "mySessions").([]any)
		if len(list) != 2 {
			t.Fatalf("mySessions = %v", sessions)
		}
		t.Run("RevokeSession", func(t *testing.T) {
			// Revoke the phone's session (the newest) from the laptop.
			phoneID := harness.Str(list[0], "id")
			s.Do(t, laptop, `mutation($id: ID!) { revokeSession(id: $id) { revokedAt } }`, map[string]any{"id": phoneID}).OK(t)
			if r := s.Do(t, phone, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("revoked session still works: %d", r.Status)
			}
			// Another user's session reads as not found.
			if r := s.Do(t, customer, `mutation($id: ID!) { revokeSession(id: $id) { id } }`, map[string]any{"id": harness.Str(list[1], "id")}); r.Code(t) != "NOT_FOUND" {
				t.Fatalf("customer revoked the agent's session: %+v", r.Errors)
			}
		})

		var readToken, writeToken string
		t.Run("APITokens", func(t *testing.T) {
			r := s.Do(t, laptop, `mutation { createAPIToken(input: {name: "reporting"}) { token apiToken { id name scope } } }`, nil).OK(t)
			readToken = harness.Str(r, "createAPIToken", "token")
			if !strings.HasPrefix(readToken, "sbt_") || harness.Str(r, "createAPIToken", "apiToken", "scope") != "READ" {
				t.Fatalf("createAPIToken = %v", r)
			}
			w := s.Do(t, laptop, `mutation { createAPIToken(input: {name: "sync", scope: READ_WRITE}) { token } }`, nil).OK(t)
			writeToken = harness.Str(w, "createAPIToken", "token")

			if got := s.Do(t, readToken, `{ me { email } tickets { totalCount } }`, nil).OK(t); harness.Str(got, "me", "email") != "agent@example.com" {
				t.Fatalf("read token query = %v", got)
			}
			input := map[string]any{"input": map[string]any{"subject": "from an integration", "body": "x", "requesterID": custID}}
			if r := s.Do(t, readToken, harness.CreateTicketMutation, input); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("READ token changed data: %+v", r.Errors)
			}
			s.Do(t, writeToken, harness.CreateTicketMutation, input).OK(t)
			if r := s.Do(t, writeToken, `mutation { createAPIToken(input: {name: "forever"}) { token } }`, nil); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("a token minted a token: %+v", r.Errors)
			}
			if r := s.Do(t, customer, `mutation { createAPIToken(input: {name: "mine"}) { token } }`, nil); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("customer created a token: %+v", r.Errors)
			}
			if r := s.Do(t, laptop, `mutation { createAPIToken(input: {name: "old", expiresAt: "2001-01-01T00:00:00Z"}) { token } }`, nil); r.Code(t) != "BAD_USER_INPUT" {
				t.Fatalf("token expiring in the past: %+v", r.Errors)
			}
			mine := s.Do(t, laptop, `{ myAPITokens { id name lastUsedAt revokedAt } }`, nil).OK(t)
			tokens, _ := harness.Path(mine, "myAPITokens").([]any)
			if len(tokens) != 2 || harness.Str(tokens[1], "lastUsedAt") == "" {
				t.Fatalf("myAPITokens = %v", mine)
			}
			s.Do(t, laptop, `mutation($id: ID!) { revokeAPIToken(id: $id) { revokedAt } }`, map[string]any{"id": harness.Str(tokens[1], "id")}).OK(t)
			if r := s.Do(t, readToken, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("revoked token still works: %d", r.Status)
			}
		})

		t.Run("ChangePassword", func(t *testing.T) {
			other := harness.Login(t, s, "agent@example.com", "teal lantern orbit 42")
			r := s.Do(t, laptop, `mutation { changePassword(currentPassword: "nope nope nope", newPassword: "violet harbor kettle") }`, nil)
			if r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "currentPassword" {
				t.Fatalf("wrong current password: %+v", r.Errors)
			}
			r = s.Do(t, laptop, `mutation { changePassword(currentPassword: "teal lantern orbit 42", newPassword: "password1234") }`, nil)
			if r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "newPassword" {
				t.Fatalf("weak new password: %+v", r.Errors)
			}
			if r := s.Do(t, writeToken, `mutation { changePassword(currentPassword: "teal lantern orbit 42", newPassword: "violet harbor kettle") }`, nil); r.Code(t) != "FORBIDDEN" {
				t.Fatalf("API token changed the password: %+v", r.Errors)
			}
			s.Do(t, laptop, `mutation { changePassword(currentPassword: "teal lantern orbit 42", newPassword: "violet harbor kettle") }`, nil).OK(t)
			if r := s.Do(t, other, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatal("other sessions must end when the password changes")
			}
			s.Do(t, laptop, `{ me { id } }`, nil).OK(t)
			if r := s.Do(t, "", harness.LoginMutation, map[string]any{"email": "agent@example.com", "password": "teal lantern orbit 42"}); r.Code(t) != "UNAUTHENTICATED" {
				t.Fatal("the old password still works")
			}
			harness.Login(t, s, "agent@example.com", "violet harbor kettle")
		})
	})
}

func TestAdministration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		s := harness.Start(t, tg, nil)
		admin := harness.Login(t, s, "admin@example.com", "amber canyon whistle")
		customer, custID := harness.Signup(t, s, "cust@example.com", "Cust")

		inv := s.Do(t, admin, `mutation { inviteUser(input: {email: "New.Agent@example.com", name: "Nina", role: AGENT, password: "copper fox meadow 77"}) { id email role } }`, nil).OK(t)
		agentID := harness.Str(inv, "inviteUser", "id")
		if harness.Str(inv, "inviteUser", "email") != "new.agent@example.com" || harness.Str(inv, "inviteUser", "role") != "AGENT" {
			t.Fatalf("inviteUser = %v", inv)
		}
		agent := harness.Login(t, s, "new.agent@example.com", "copper fox meadow 77")
		for name, q := range map[string]string{
			"ErrCustomerInvites":     `mutation { inviteUser(input: {email: "x@example.com", name: "X", role: ADMIN, password: "copper fox meadow 77"}) { id } }`,
			"ErrAgentCreatesGroup":   `mutation { createGroup(input: {name: "Rogue"}) { id } }`,
			"ErrAgentPromotesItself": `mutation($id: ID!) { updateUser(id: $id, input: {role: ADMIN}) { id } }`,
		} {
			t.Run(name, func(t *testing.T) {
				token := agent
				if strings.HasPrefix(name, "ErrCustomer") {
					token = customer
				}
				if r := s.Do(t, token, q, map[string]any{"id": agentID}); r.Code(t) != "FORBIDDEN" {
					t.Fatalf("got %+v", r.Errors)
				}
			})
		}

		g := s.Do(t, admin, `mutation($m: [ID!]) { createGroup(input: {name: "Billing", memberIDs: $m}) { id members { id } } }`, map[string]any{"m": []string{agentID}}).OK(t)
		groupID := harness.Str(g, "createGroup", "id")
		tk := s.Do(t, admin, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "invoice", "body": "x", "requesterID": custID, "groupID": groupID}}).OK(t)
		ticketID := harness.Str(tk, "createTicket", "id")
		see := func() bool {
			return len(s.Do(t, agent, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ticketID}).Errors) == 0
		}
		if !see() {
			t.Fatal("a group member cannot see the group's ticket")
		}
		s.Do(t, admin, `mutation($g: ID!, $a: ID!) { updateGroup(id: $g, input: {removeMemberIDs: [$a]}) { id } }`, map[string]any{"g": groupID, "a": agentID}).OK(t)
		if see() {
			t.Fatal("an agent removed from the group still sees its ticket")
		}
		sla := s.Do(t, admin, `mutation { createSLAPolicy(input: {priority: URGENT, firstResponseMinutes: 30, resolutionMinutes: 240}) { id priority } }`, nil).OK(t)
		if harness.Str(sla, "createSLAPolicy", "priority") != "URGENT" {
			t.Fatalf("createSLAPolicy = %v", sla)
		}
		t.Run("DeactivationEndsSessions", func(t *testing.T) {
			s.Do(t, admin, `mutation($id: ID!) { updateUser(id: $id, input: {active: false}) { active } }`, map[string]any{"id": agentID}).OK(t)
			if r := s.Do(t, agent, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("deactivated user's session works: %d", r.Status)
			}
			if r := s.Do(t, "", harness.LoginMutation, map[string]any{"email": "new.agent@example.com", "password": "copper fox meadow 77"}); r.Code(t) != "UNAUTHENTICATED" {
				t.Fatalf("deactivated user logged in: %+v", r.Errors)
			}
		})
	})
}

func TestUpdateProfile(t *testing.T) {
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	token, _ := harness.Signup(t, s, "ann@example.com", "Ann")
	other, otherID := harness.Signup(t, s, "bob@example.com", "Bob")
	const update = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { name phone email role } }`
	r := s.Do(t, token, update, map[string]any{"input": map[string]any{"name": "Ann Lee", "phone": " +44 20 7946 0000 "}}).OK(t)
	if harness.Str(r, "updateProfile", "name") != "Ann Lee" || harness.Str(r, "updateProfile", "phone") != "+44 20 7946 0000" || harness.Str(r, "updateProfile", "role") != "CUSTOMER" {
		t.Fatalf("updateProfile = %v", r)
	}
	if me := s.Do(t, token, `{ me { phone } }`, nil).OK(t); harness.Str(me, "me", "phone") != "+44 20 7946 0000" {
		t.Fatalf("phone not kept: %v", me)
	}
	t.Run("EmptyPhoneRemovesIt", func(t *testing.T) {
		r := s.Do(t, token, update, map[string]any{"input": map[string]any{"phone": ""}}).OK(t)
		if harness.Str(r, "updateProfile", "phone") != "" || harness.Str(r, "updateProfile", "name") != "Ann Lee" {
			t.Fatalf("updateProfile = %v", r)
		}
	})
	t.Run("ErrBadPhone", func(t *testing.T) {
		r := s.Do(t, token, update, map[string]any{"input": map[string]any{"phone": "ring ring"}})
		if r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "phone" {
			t.Fatalf("got %+v", r.Errors)
		}
	})
	t.Run("ErrEmptyName", func(t *testing.T) {
		if r := s.Do(t, token, update, map[string]any{"input": map[string]any{"name": "  "}}); r.Code(t) != "BAD_USER_INPUT" {
			t.Fatalf("got %+v", r.Errors)
		}
	})
	t.Run("ErrCannotPromoteItself", func(t *testing.T) {
		me := harness.Str(s.Do(t, token, `{ me { id } }`, nil).OK(t), "me", "id")
		if r := s.Do(t, token, `mutation($id: ID!) { updateUser(id: $id, input: {role: ADMIN}) { role } }`, map[string]any{"id": me}); r.Code(t) != "FORBIDDEN" {
			t.Fatalf("customer promoted itself: %+v", r.Errors)
		}
	})
	t.Run("ErrCannotEditOthers", func(t *testing.T) {
		if r := s.Do(t, token, `mutation($id: ID!) { updateUser(id: $id, input: {name: "Mallory"}) { name } }`, map[string]any{"id": otherID}); r.Code(t) != "FORBIDDEN" && r.Code(t) != "NOT_FOUND" {
			t.Fatalf("customer renamed another user: %+v", r.Errors)
		}
		if me := s.Do(t, other, `{ me { name } }`, nil).OK(t); harness.Str(me, "me", "name") != "Bob" {
			t.Fatalf("other user's name = %v", me)
		}
	})
}

func manyIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = string(globalid.New(globalid.PrefixTicket))
	}
	return ids
}
