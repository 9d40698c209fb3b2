package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/database/dbtest"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// syncBuffer collects the program's output from its goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func targetEnv(tg dbtest.Target) map[string]string {
	return map[string]string{
		"SWITCHBOARD_DATA_DIR":       tg.DataDir,
		"DATABASE_URL":               tg.DatabaseURL,
		"SWITCHBOARD_ENCRYPTION_KEY": tg.EncryptionKey,
		"SWITCHBOARD_ADDR":           "127.0.0.1:0",
		"SWITCHBOARD_LOG_LEVEL":      "warn",
		// Test databases start empty; scaled-out mode migrates only when asked.
		"SWITCHBOARD_MIGRATE": "true",
		// Tests make requests faster than any client and share Redis;
		// TestRateLimits turns the limits on.
		"SWITCHBOARD_RATE_LIMIT_USER": "0",
		"SWITCHBOARD_RATE_LIMIT_IP":   "0",
		// Tests share Redis: each database gets cache keys of its own.
		"SWITCHBOARD_CACHE_PREFIX": fmt.Sprintf("switchboard-test:%x:cache:", sha256.Sum256([]byte(tg.DataDir+tg.DatabaseURL))),
	}
}

// testServer is the real program serving on a random port.
type testServer struct {
	url string
	out *syncBuffer
}

// startServer runs `switchboard serve` in-process against tg, with env
// overriding the defaults, and stops it when the test ends.
func startServer(t *testing.T, tg dbtest.Target, env map[string]string, args ...string) *testServer {
	t.Helper()
	return startServerWith(t, tg, env, nil, args...)
}

// startServerWith is startServer with the program adjusted by configure
// (nil: as is) before it runs.
func startServerWith(t *testing.T, tg dbtest.Target, env map[string]string, configure func(*program), args ...string) *testServer {
	t.Helper()
	full := targetEnv(tg)
	for k, v := range env {
		full[k] = v
	}
	out := &syncBuffer{}
	ready := make(chan net.Addr, 1)
	p := &program{getenv: envOf(full), stdin: strings.NewReader(""), stdout: out, stderr: out, ready: func(a net.Addr) { ready <- a }}
	if configure != nil {
		configure(p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- p.run(ctx, append([]string{"serve"}, args...)) }()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server log:\n%s", out)
			}
			cancel()
			if code := <-done; code != exitOK {
				t.Errorf("server exited with %d: %s", code, out)
			}
		})
		return &testServer{url: "http://" + addr.String(), out: out}
	case code := <-done:
		cancel()
		t.Fatalf("server exited with %d before serving: %s", code, out)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("server did not start: %s", out)
	}
	return nil
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   map[string]any `json:"data"`
	Errors []gqlError     `json:"errors"`
}

// code returns the extensions.code of the only error, failing otherwise.
func (r gqlResponse) code(t *testing.T) string {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("want exactly one error, got %+v (data %v)", r.Errors, r.Data)
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (r gqlResponse) ok(t *testing.T) map[string]any {
	t.Helper()
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Fatalf("status %d, errors %+v", r.Status, r.Errors)
	}
	return r.Data
}

// do posts a GraphQL operation as a client would.
func (s *testServer) do(t *testing.T, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("status %d, body not JSON: %s", res.StatusCode, raw)
	}
	r.Status = res.StatusCode
	return r
}

// path digs into decoded JSON: path(m, "login", "user", "id").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, keys ...any) string { s, _ := path(v, keys...).(string); return s }

func num(v any, keys ...any) int { f, _ := path(v, keys...).(float64); return int(f) }

// createUser runs `switchboard user create` against the target.
func createUser(t *testing.T, tg dbtest.Target, email, name, role, password string) {
	t.Helper()
	createUserEnv(t, tg, nil, email, name, role, password)
}

func createUserEnv(t *testing.T, tg dbtest.Target, extra map[string]string, email, name, role, password string) {
	t.Helper()
	out := &syncBuffer{}
	env := mergeEnv(targetEnv(tg), extra)
	p := &program{getenv: envOf(env), stdin: strings.NewReader(password + "\n"), stdout: out, stderr: out}
	if code := p.run(context.Background(), []string{"user", "create", "--email", email, "--name", name, "--role", role}); code != exitOK {
		t.Fatalf("user create exited %d: %s", code, out)
	}
}

const (
	signupMutation = `mutation($input: SignupInput!) { signup(input: $input) { token user { id email role } } }`
	loginMutation  = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id name role } } }`
	createTicket   = `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id number subject status priority requester { email } messages { totalCount edges { node { body } } } } }`
	addMessage     = `mutation($id: ID!, $body: String!, $internal: Boolean) { addMessage(ticketID: $id, body: $body, internal: $internal) { id body internal author { name } } }`
)

func login(t *testing.T, s *testServer, email, password string) string {
	t.Helper()
	data := s.do(t, "", loginMutation, map[string]any{"email": email, "password": password}).ok(t)
	return str(data, "login", "token")
}

func signup(t *testing.T, s *testServer, email, name string) (token, id string) {
	t.Helper()
	data := s.do(t, "", signupMutation, map[string]any{"input": map[string]any{"email": email, "password": "correct horse battery", "name": name}}).ok(t)
	return str(data, "signup", "token"), str(data, "signup", "user", "id")
}

func TestCustomerJourney(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		s := startServer(t, tg, nil)

		token, userID := signup(t, s, "Ann@Example.com", "Ann")
		if !strings.HasPrefix(token, "sbs_") || userID == "" {
			t.Fatalf("signup gave token %q id %q", token, userID)
		}
		me := s.do(t, token, `{ me { id email name role } }`, nil).ok(t)
		if str(me, "me", "email") != "ann@example.com" || str(me, "me", "role") != "CUSTOMER" {
			t.Fatalf("me = %v", me)
		}

		// A second session by logging in; the email is case-insensitive.
		token = login(t, s, "ANN@example.com", "correct horse battery")

		var ticketIDs []string
		for i, subject := range []string{"Printer on fire", "Cannot log in", "Refund please"} {
			data := s.do(t, token, createTicket, map[string]any{"input": map[string]any{"subject": subject, "body": fmt.Sprintf("details %d", i)}}).ok(t)
			tk := path(data, "createTicket")
			if str(tk, "subject") != subject || str(tk, "status") != "NEW" || str(tk, "priority") != "NORMAL" ||
				str(tk, "requester", "email") != "ann@example.com" || num(tk, "messages", "totalCount") != 1 ||
				str(tk, "messages", "edges", 0, "node", "body") != fmt.Sprintf("details %d", i) {
				t.Fatalf("createTicket = %v", tk)
			}
			if num(tk, "number") != i+1 {
				t.Fatalf("ticket number = %d, want %d", num(tk, "number"), i+1)
			}
			ticketIDs = append(ticketIDs, str(tk, "id"))
		}

		msg := s.do(t, token, addMessage, map[string]any{"id": ticketIDs[0], "body": "It is still burning"}).ok(t)
		if str(msg, "addMessage", "body") != "It is still burning" || str(msg, "addMessage", "author", "name") != "Ann" {
			t.Fatalf("addMessage = %v", msg)
		}

		// Solve one ticket, then list with a filter, an order and pages.
		s.do(t, token, `mutation($id: ID!) { updateTicket(id: $id, input: {status: SOLVED}) { status solvedAt } }`, map[string]any{"id": ticketIDs[2]}).ok(t)
		list := s.do(t, token, `{ tickets(first: 1, where: {statusNEQ: SOLVED}, orderBy: {field: NUMBER, direction: DESC}) {
			totalCount pageInfo { hasNextPage endCursor } edges { node { number subject messages(last: 1) { edges { node { body } } } } } } }`, nil).ok(t)
		if num(list, "tickets", "totalCount") != 2 || num(list, "tickets", "edges", 0, "node", "number") != 2 ||
			path(list, "tickets", "pageInfo", "hasNextPage") != true {
			t.Fatalf("first page = %v", list)
		}
		next := s.do(t, token, `query($after: Cursor) { tickets(first: 5, after: $after, where: {statusNEQ: SOLVED}, orderBy: {field: NUMBER, direction: DESC}) {
			pageInfo { hasNextPage } edges { node { number messages(last: 1) { edges { node { body } } } } } } }`,
			map[string]any{"after": str(list, "tickets", "pageInfo", "endCursor")}).ok(t)
		if edges, _ := path(next, "tickets", "edges").([]any); len(edges) != 1 || num(next, "tickets", "edges", 0, "node", "number") != 1 ||
			str(next, "tickets", "edges", 0, "node", "messages", "edges", 0, "node", "body") != "It is still burning" ||
			path(next, "tickets", "pageInfo", "hasNextPage") != false {
			t.Fatalf("second page = %v", next)
		}

		node := s.do(t, token, `query($id: ID!) { node(id: $id) { id ... on Ticket { subject } } }`, map[string]any{"id": ticketIDs[1]}).ok(t)
		if str(node, "node", "subject") != "Cannot log in" {
			t.Fatalf("node = %v", node)
		}
		nodes := s.do(t, token, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ticketIDs}).ok(t)
		if l, _ := path(nodes, "nodes").([]any); len(l) != 3 || str(nodes, "nodes", 2, "id") != ticketIDs[2] {
			t.Fatalf("nodes = %v", nodes)
		}

		if out := s.do(t, token, `mutation { logout }`, nil).ok(t); path(out, "logout") != true {
			t.Fatalf("logout = %v", out)
		}
		res := s.do(t, token, `{ me { id } }`, nil)
		if res.Status != http.StatusUnauthorized || res.code(t) != "UNAUTHENTICATED" {
			t.Fatalf("after logout: status %d errors %+v", res.Status, res.Errors)
		}
	})
}

func TestAgentWorkflow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		createUser(t, tg, "agent@example.com", "Alice Agent", "agent", "teal lantern orbit 42")
		s := startServer(t, tg, nil)
		customer, _ := signup(t, s, "cust@example.com", "Cust")
		agent := login(t, s, "agent@example.com", "teal lantern orbit 42")

		tk := s.do(t, customer, createTicket, map[string]any{"input": map[string]any{"subject": "Help", "body": "please"}}).ok(t)
		id := str(tk, "createTicket", "id")

		// The ticket is in no group and unassigned: out of the agent's reach.
		if r := s.do(t, agent, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}); r.code(t) != "NOT_FOUND" {
			t.Fatalf("agent reached an unassigned ticket: %+v", r)
		}
		// An agent's own ticket on behalf of the customer is assigned to them.
		me := s.do(t, agent, `{ me { id } }`, nil).ok(t)
		custID := str(s.do(t, customer, `{ me { id } }`, nil).ok(t), "me", "id")
		own := s.do(t, agent, createTicket, map[string]any{"input": map[string]any{"subject": "Phoned in", "body": "by phone", "priority": "URGENT", "requesterID": custID}}).ok(t)
		ownID := str(own, "createTicket", "id")
		if str(own, "createTicket", "priority") != "URGENT" || str(own, "createTicket", "requester", "email") != "cust@example.com" {
			t.Fatalf("agent createTicket = %v", own)
		}
		s.do(t, agent, addMessage, map[string]any{"id": ownID, "body": "we are on it"}).ok(t)
		s.do(t, agent, addMessage, map[string]any{"id": ownID, "body": "customer is grumpy", "internal": true}).ok(t)

		view := s.do(t, agent, `query($id: ID!) { node(id: $id) { ... on Ticket { status assignee { id } firstRespondedAt messages { totalCount } } } }`, map[string]any{"id": ownID}).ok(t)
		if str(view, "node", "status") != "OPEN" || str(view, "node", "assignee", "id") != str(me, "me", "id") ||
			str(view, "node", "firstRespondedAt") == "" || num(view, "node", "messages", "totalCount") != 3 {
			t.Fatalf("agent view = %v", view)
		}
		// The customer never sees the internal note.
		cview := s.do(t, customer, `query($id: ID!) { node(id: $id) { ... on Ticket { messages { totalCount edges { node { body internal } } } } } }`, map[string]any{"id": ownID}).ok(t)
		if num(cview, "node", "messages", "totalCount") != 2 || strings.Contains(fmt.Sprint(cview), "grumpy") {
			t.Fatalf("customer view = %v", cview)
		}
		if r := s.do(t, agent, createTicket, map[string]any{"input": map[string]any{"subject": "x", "body": "y", "requesterID": str(me, "me", "id")}}); r.code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "requesterID" {
			t.Fatalf("ticket for a staff requester: %+v", r.Errors)
		}
		// Orders by priority sort URGENT first.
		list := s.do(t, customer, `{ tickets(orderBy: {field: PRIORITY, direction: DESC}) { edges { node { priority } } } }`, nil).ok(t)
		if str(list, "tickets", "edges", 0, "node", "priority") != "URGENT" || str(list, "tickets", "edges", 1, "node", "priority") != "NORMAL" {
			t.Fatalf("priority order = %v", list)
		}
	})
}

func TestConcurrentTicketNumbers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		s := startServer(t, tg, nil)
		token, _ := signup(t, s, "busy@example.com", "Busy")
		const n = 50
		numbers := make(chan int, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := s.do(t, token, createTicket, map[string]any{"input": map[string]any{"subject": fmt.Sprintf("t%d", i), "body": "x"}})
				if len(r.Errors) > 0 {
					t.Errorf("create %d: %+v", i, r.Errors)
					return
				}
				numbers <- num(r.Data, "createTicket", "number")
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
	createUser(t, tg, "other@example.com", "Other", "customer", "violet harbor kettle")
	s := startServer(t, tg, nil)
	token, _ := signup(t, s, "me@example.com", "Me")
	other := login(t, s, "other@example.com", "violet harbor kettle")
	foreign := str(s.do(t, other, createTicket, map[string]any{"input": map[string]any{"subject": "private", "body": "secret"}}).ok(t), "createTicket", "id")
	mine := str(s.do(t, token, createTicket, map[string]any{"input": map[string]any{"subject": "mine", "body": "mine"}}).ok(t), "createTicket", "id")

	for _, tc := range []struct {
		name, token, query string
		vars               map[string]any
		code, field        string
	}{
		{"ErrEmptySubject", token, createTicket, map[string]any{"input": map[string]any{"subject": "   ", "body": "x"}}, "BAD_USER_INPUT", "subject"},
		{"ErrEmptyBody", token, createTicket, map[string]any{"input": map[string]any{"subject": "x", "body": ""}}, "BAD_USER_INPUT", "body"},
		{"ErrMalformedEmail", "", signupMutation, map[string]any{"input": map[string]any{"email": "not-an-email", "password": "quiet maple river stone", "name": "X"}}, "BAD_USER_INPUT", "email"},
		{"ErrShortPassword", "", signupMutation, map[string]any{"input": map[string]any{"email": "x@example.com", "password": "short", "name": "X"}}, "BAD_USER_INPUT", "password"},
		{"ErrDuplicateEmail", "", signupMutation, map[string]any{"input": map[string]any{"email": "ME@example.com", "password": "quiet maple river stone", "name": "X"}}, "CONFLICT", "email"},
		{"ErrUnknownEnumValue", token, `mutation($id: ID!) { updateTicket(id: $id, input: {status: EXPLODED}) { id } }`, map[string]any{"id": foreign}, "BAD_USER_INPUT", ""},
		{"ErrUnknownEnumVariable", token, `query($s: TicketStatus) { tickets(where: {status: $s}) { totalCount } }`, map[string]any{"s": "EXPLODED"}, "BAD_USER_INPUT", ""},
		{"ErrUndefinedVariable", token, `{ tickets(where: {status: $s}) { totalCount } }`, nil, "BAD_USER_INPUT", ""},
		{"ErrMalformedID", token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "42"}, "BAD_USER_INPUT", ""},
		{"ErrForeignID", token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": foreign}, "NOT_FOUND", ""},
		{"ErrForeignTicketReply", token, addMessage, map[string]any{"id": foreign, "body": "hi"}, "NOT_FOUND", ""},
		{"ErrForeignTicketUpdate", token, `mutation($id: ID!) { updateTicket(id: $id, input: {status: SOLVED}) { id } }`, map[string]any{"id": foreign}, "NOT_FOUND", ""},
		{"ErrCustomerSetsPriority", token, createTicket, map[string]any{"input": map[string]any{"subject": "x", "body": "y", "priority": "URGENT"}}, "FORBIDDEN", ""},
		{"ErrCustomerInternalNote", token, addMessage, map[string]any{"id": mine, "body": "hi", "internal": true}, "FORBIDDEN", ""},
		{"ErrTooManyNodes", token, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": manyIDs(101)}, "BAD_USER_INPUT", "ids"},
		{"ErrFilterOnInternalNotesAfterSigningInInTheSameRequest", "", `mutation { login(email: "me@example.com", password: "correct horse battery") { token }
			updateTicket(id: "` + mine + `", input: {status: OPEN}) { messages(where: {hasTicketWith: [{hasMessagesWith: [{internal: true}]}]}) { totalCount } } }`, nil, "FORBIDDEN", "hasMessagesWith"},
		{"ErrPageTooLarge", token, `{ tickets(first: 101) { totalCount } }`, nil, "BAD_USER_INPUT", "first"},
		{"ErrNegativePage", token, `{ tickets(last: -1) { totalCount } }`, nil, "BAD_USER_INPUT", "last"},
		{"ErrWrongPassword", "", loginMutation, map[string]any{"email": "me@example.com", "password": "wrong password!!"}, "UNAUTHENTICATED", ""},
		{"ErrUnknownEmailLooksLikeWrongPassword", "", loginMutation, map[string]any{"email": "nobody@example.com", "password": "wrong password!!"}, "UNAUTHENTICATED", ""},
		{"ErrAnonymousTickets", "", `{ tickets { totalCount } }`, nil, "UNAUTHENTICATED", ""},
		{"ErrAnonymousCreateTicket", "", createTicket, map[string]any{"input": map[string]any{"subject": "x", "body": "y"}}, "UNAUTHENTICATED", ""},
		{"ErrSyntax", token, `{ tickets {`, nil, "BAD_USER_INPUT", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.token, tc.query, tc.vars)
			if got := r.code(t); got != tc.code {
				t.Fatalf("code = %s, want %s (%+v)", got, tc.code, r.Errors)
			}
			if tc.field != "" && r.Errors[0].Extensions["field"] != tc.field {
				t.Fatalf("field = %v, want %s", r.Errors[0].Extensions["field"], tc.field)
			}
		})
	}

	t.Run("UnknownEmailAndWrongPasswordSayTheSame", func(t *testing.T) {
		a := s.do(t, "", loginMutation, map[string]any{"email": "me@example.com", "password": "wrong password!!"})
		b := s.do(t, "", loginMutation, map[string]any{"email": "nobody@example.com", "password": "wrong password!!"})
		if a.Errors[0].Message != b.Errors[0].Message || a.Status != b.Status {
			t.Fatalf("login failures differ: %+v vs %+v", a, b)
		}
	})
	t.Run("ForeignIDReadsLikeMissingID", func(t *testing.T) {
		a := s.do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": foreign})
		b := s.do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": strings.Replace(foreign, foreign[2:4], "00", 1)})
		if a.Errors[0].Message != b.Errors[0].Message || a.code(t) != b.code(t) {
			t.Fatalf("foreign and missing IDs differ: %+v vs %+v", a.Errors, b.Errors)
		}
	})
	t.Run("DefaultPageIs20", func(t *testing.T) {
		for i := 0; i < 20; i++ {
			s.do(t, token, createTicket, map[string]any{"input": map[string]any{"subject": fmt.Sprint(i), "body": "x"}}).ok(t)
		}
		r := s.do(t, token, `{ tickets { totalCount edges { node { id } } } }`, nil).ok(t)
		if l, _ := path(r, "tickets", "edges").([]any); len(l) != 20 || num(r, "tickets", "totalCount") != 21 {
			t.Fatalf("default page has %d of %d", len(l), num(r, "tickets", "totalCount"))
		}
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		r := s.do(t, "sbs_forged", `{ me { id } }`, nil)
		if r.Status != http.StatusUnauthorized || r.code(t) != "UNAUTHENTICATED" {
			t.Fatalf("forged token: %d %+v", r.Status, r.Errors)
		}
	})
	t.Run("StillServing", func(t *testing.T) {
		res, err := http.Get(s.url + "/healthz")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %v %v", res, err)
		}
		res.Body.Close()
	})
}

func TestFieldAccess(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	createUser(t, tg, "agent@example.com", "Alice Agent", "agent", "teal lantern orbit 42")
	s := startServer(t, tg, nil)
	customer, custID := signup(t, s, "cust@example.com", "Cust")
	agent := login(t, s, "agent@example.com", "teal lantern orbit 42")
	tk := s.do(t, agent, createTicket, map[string]any{"input": map[string]any{"subject": "Phoned in", "body": "x", "requesterID": custID}}).ok(t)
	id := str(tk, "createTicket", "id")
	const q = `query($id: ID!) { node(id: $id) { ... on Ticket { subject firstResponseDueAt requester { email } assignee { name email } } } }`

	t.Run("CustomerSeesOwnEmailNotStaffEmailOrSLA", func(t *testing.T) {
		r := s.do(t, customer, q, map[string]any{"id": id})
		if str(r.Data, "node", "subject") != "Phoned in" || str(r.Data, "node", "requester", "email") != "cust@example.com" ||
			str(r.Data, "node", "assignee", "name") != "Alice Agent" {
			t.Fatalf("the rest of the response must be intact: %v", r.Data)
		}
		if path(r.Data, "node", "assignee", "email") != nil || path(r.Data, "node", "firstResponseDueAt") != nil {
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
		r := s.do(t, agent, q, map[string]any{"id": id}).ok(t)
		if str(r, "node", "requester", "email") != "cust@example.com" || str(r, "node", "assignee", "email") != "agent@example.com" {
			t.Fatalf("agent view = %v", r)
		}
	})
	t.Run("HashesAreNotInTheSchema", func(t *testing.T) {
		r := s.do(t, agent, `{ __type(name: "User") { fields { name } } }`, nil).ok(t)
		for _, f := range path(r, "__type", "fields").([]any) {
			if name := str(f, "name"); strings.Contains(strings.ToLower(name), "hash") || strings.Contains(strings.ToLower(name), "password") {
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
func codeCounts(r gqlResponse) map[string]int {
	codes := map[string]int{}
	for _, e := range r.Errors {
		codes[fmt.Sprint(e.Extensions["code"])]++
	}
	return codes
}

// wantRateLimited checks a response refused for a rate: HTTP 429 with
// Retry-After, and every RATE_LIMITED error with extensions.retryAfter in
// whole seconds (at least 1). It returns the longest retryAfter.
func wantRateLimited(t *testing.T, res *http.Response, r gqlResponse) int {
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
	s := startServer(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	signup(t, s, "victim@example.com", "Victim")
	res, r := rawPost(t, s, aliasedLogins(10, func(i int) (string, string) {
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
		res, r := rawPost(t, s, aliasedLogins(1, func(int) (string, string) { return "victim@example.com", "correct horse battery" }), nil, nil)
		if r.code(t) != "RATE_LIMITED" || !strings.Contains(r.Errors[0].Message, "try again in") {
			t.Fatalf("got %+v", r.Errors)
		}
		wantRateLimited(t, res, r)
	})
	t.Run("ParallelGuessesAreCountedToo", func(t *testing.T) {
		signup(t, s, "second@example.com", "Second")
		codes := make(chan string, 20)
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := s.do(t, "", loginMutation, map[string]any{"email": "second@example.com", "password": fmt.Sprintf("parallel guess %d", i)})
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
	s := startServer(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	_, r := rawPost(t, s, aliasedLogins(20, func(i int) (string, string) {
		return fmt.Sprintf("nobody%d@example.com", i), "a wrong password"
	}), nil, nil)
	if codes := codeCounts(r); codes["UNAUTHENTICATED"] != 20 {
		t.Fatalf("the first 20 failures: codes = %v", codes)
	}
	res, r := rawPost(t, s, aliasedLogins(1, func(int) (string, string) { return "someone@example.com", "a wrong password" }), nil, nil)
	if r.code(t) != "RATE_LIMITED" {
		t.Fatalf("the 21st attempt: %+v", r.Errors)
	}
	wantRateLimited(t, res, r)
}

// TestLoginThrottleRefusalsAreNotFailures: a login refused by the throttle
// never checked the password, so it does not count as a failure: 100
// aliased guesses in two requests leave the account as after 5 failures
// (a wait of 1s), not 100 (the longest wait, 15 minutes).
func TestLoginThrottleRefusalsAreNotFailures(t *testing.T) {
	s := startServer(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	signup(t, s, "victim@example.com", "Victim")
	guesses := aliasedLogins(50, func(i int) (string, string) {
		return "victim@example.com", fmt.Sprintf("guess number %d", i)
	})
	if _, r := rawPost(t, s, guesses, nil, nil); codeCounts(r)["RATE_LIMITED"] != 45 {
		t.Fatalf("first request: codes = %v", codeCounts(r))
	}
	res, r := rawPost(t, s, guesses, nil, nil)
	if codeCounts(r)["RATE_LIMITED"] != 50 {
		t.Fatalf("second request: codes = %v", codeCounts(r))
	}
	if wait := wantRateLimited(t, res, r); wait != 1 {
		t.Fatalf("retryAfter %d after 5 failures and 95 refusals, want 1", wait)
	}
	time.Sleep(time.Second + 100*time.Millisecond)
	login(t, s, "victim@example.com", "correct horse battery")
}

func TestSessionsAndTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		createUser(t, tg, "agent@example.com", "Alice Agent", "agent", "teal lantern orbit 42")
		s := startServer(t, tg, nil)
		laptop := login(t, s, "agent@example.com", "teal lantern orbit 42")
		phone := login(t, s, "agent@example.com", "teal lantern orbit 42")
		customer, custID := signup(t, s, "cust@example.com", "Cust")

		sessions := s.do(t, laptop, `{ mySessions { id revokedAt userAgent } }`, nil).ok(t)
		list, _ := path(sessions, "mySessions").([]any)
		if len(list) != 2 {
			t.Fatalf("mySessions = %v", sessions)
		}
		t.Run("RevokeSession", func(t *testing.T) {
			// Revoke the phone's session (the newest) from the laptop.
			phoneID := str(list[0], "id")
			s.do(t, laptop, `mutation($id: ID!) { revokeSession(id: $id) { revokedAt } }`, map[string]any{"id": phoneID}).ok(t)
			if r := s.do(t, phone, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("revoked session still works: %d", r.Status)
			}
			// Another user's session reads as not found.
			if r := s.do(t, customer, `mutation($id: ID!) { revokeSession(id: $id) { id } }`, map[string]any{"id": str(list[1], "id")}); r.code(t) != "NOT_FOUND" {
				t.Fatalf("customer revoked the agent's session: %+v", r.Errors)
			}
		})

		var readToken, writeToken string
		t.Run("APITokens", func(t *testing.T) {
			r := s.do(t, laptop, `mutation { createAPIToken(input: {name: "reporting"}) { token apiToken { id name scope } } }`, nil).ok(t)
			readToken = str(r, "createAPIToken", "token")
			if !strings.HasPrefix(readToken, "sbt_") || str(r, "createAPIToken", "apiToken", "scope") != "READ" {
				t.Fatalf("createAPIToken = %v", r)
			}
			w := s.do(t, laptop, `mutation { createAPIToken(input: {name: "sync", scope: READ_WRITE}) { token } }`, nil).ok(t)
			writeToken = str(w, "createAPIToken", "token")

			if got := s.do(t, readToken, `{ me { email } tickets { totalCount } }`, nil).ok(t); str(got, "me", "email") != "agent@example.com" {
				t.Fatalf("read token query = %v", got)
			}
			input := map[string]any{"input": map[string]any{"subject": "from an integration", "body": "x", "requesterID": custID}}
			if r := s.do(t, readToken, createTicket, input); r.code(t) != "FORBIDDEN" {
				t.Fatalf("READ token changed data: %+v", r.Errors)
			}
			s.do(t, writeToken, createTicket, input).ok(t)
			if r := s.do(t, writeToken, `mutation { createAPIToken(input: {name: "forever"}) { token } }`, nil); r.code(t) != "FORBIDDEN" {
				t.Fatalf("a token minted a token: %+v", r.Errors)
			}
			if r := s.do(t, customer, `mutation { createAPIToken(input: {name: "mine"}) { token } }`, nil); r.code(t) != "FORBIDDEN" {
				t.Fatalf("customer created a token: %+v", r.Errors)
			}
			if r := s.do(t, laptop, `mutation { createAPIToken(input: {name: "old", expiresAt: "2001-01-01T00:00:00Z"}) { token } }`, nil); r.code(t) != "BAD_USER_INPUT" {
				t.Fatalf("token expiring in the past: %+v", r.Errors)
			}
			mine := s.do(t, laptop, `{ myAPITokens { id name lastUsedAt revokedAt } }`, nil).ok(t)
			tokens, _ := path(mine, "myAPITokens").([]any)
			if len(tokens) != 2 || str(tokens[1], "lastUsedAt") == "" {
				t.Fatalf("myAPITokens = %v", mine)
			}
			s.do(t, laptop, `mutation($id: ID!) { revokeAPIToken(id: $id) { revokedAt } }`, map[string]any{"id": str(tokens[1], "id")}).ok(t)
			if r := s.do(t, readToken, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("revoked token still works: %d", r.Status)
			}
		})

		t.Run("ChangePassword", func(t *testing.T) {
			other := login(t, s, "agent@example.com", "teal lantern orbit 42")
			r := s.do(t, laptop, `mutation { changePassword(currentPassword: "nope nope nope", newPassword: "violet harbor kettle") }`, nil)
			if r.code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "currentPassword" {
				t.Fatalf("wrong current password: %+v", r.Errors)
			}
			r = s.do(t, laptop, `mutation { changePassword(currentPassword: "teal lantern orbit 42", newPassword: "password1234") }`, nil)
			if r.code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "newPassword" {
				t.Fatalf("weak new password: %+v", r.Errors)
			}
			if r := s.do(t, writeToken, `mutation { changePassword(currentPassword: "teal lantern orbit 42", newPassword: "violet harbor kettle") }`, nil); r.code(t) != "FORBIDDEN" {
				t.Fatalf("API token changed the password: %+v", r.Errors)
			}
			s.do(t, laptop, `mutation { changePassword(currentPassword: "teal lantern orbit 42", newPassword: "violet harbor kettle") }`, nil).ok(t)
			if r := s.do(t, other, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatal("other sessions must end when the password changes")
			}
			s.do(t, laptop, `{ me { id } }`, nil).ok(t)
			if r := s.do(t, "", loginMutation, map[string]any{"email": "agent@example.com", "password": "teal lantern orbit 42"}); r.code(t) != "UNAUTHENTICATED" {
				t.Fatal("the old password still works")
			}
			login(t, s, "agent@example.com", "violet harbor kettle")
		})
	})
}

func TestAdministration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		createUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		s := startServer(t, tg, nil)
		admin := login(t, s, "admin@example.com", "amber canyon whistle")
		customer, custID := signup(t, s, "cust@example.com", "Cust")

		inv := s.do(t, admin, `mutation { inviteUser(input: {email: "New.Agent@example.com", name: "Nina", role: AGENT, password: "copper fox meadow 77"}) { id email role } }`, nil).ok(t)
		agentID := str(inv, "inviteUser", "id")
		if str(inv, "inviteUser", "email") != "new.agent@example.com" || str(inv, "inviteUser", "role") != "AGENT" {
			t.Fatalf("inviteUser = %v", inv)
		}
		agent := login(t, s, "new.agent@example.com", "copper fox meadow 77")
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
				if r := s.do(t, token, q, map[string]any{"id": agentID}); r.code(t) != "FORBIDDEN" {
					t.Fatalf("got %+v", r.Errors)
				}
			})
		}

		g := s.do(t, admin, `mutation($m: [ID!]) { createGroup(input: {name: "Billing", memberIDs: $m}) { id members { id } } }`, map[string]any{"m": []string{agentID}}).ok(t)
		groupID := str(g, "createGroup", "id")
		tk := s.do(t, admin, createTicket, map[string]any{"input": map[string]any{"subject": "invoice", "body": "x", "requesterID": custID, "groupID": groupID}}).ok(t)
		ticketID := str(tk, "createTicket", "id")
		see := func() bool {
			return len(s.do(t, agent, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ticketID}).Errors) == 0
		}
		if !see() {
			t.Fatal("a group member cannot see the group's ticket")
		}
		s.do(t, admin, `mutation($g: ID!, $a: ID!) { updateGroup(id: $g, input: {removeMemberIDs: [$a]}) { id } }`, map[string]any{"g": groupID, "a": agentID}).ok(t)
		if see() {
			t.Fatal("an agent removed from the group still sees its ticket")
		}
		sla := s.do(t, admin, `mutation { createSLAPolicy(input: {priority: URGENT, firstResponseMinutes: 30, resolutionMinutes: 240}) { id priority } }`, nil).ok(t)
		if str(sla, "createSLAPolicy", "priority") != "URGENT" {
			t.Fatalf("createSLAPolicy = %v", sla)
		}
		t.Run("DeactivationEndsSessions", func(t *testing.T) {
			s.do(t, admin, `mutation($id: ID!) { updateUser(id: $id, input: {active: false}) { active } }`, map[string]any{"id": agentID}).ok(t)
			if r := s.do(t, agent, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("deactivated user's session works: %d", r.Status)
			}
			if r := s.do(t, "", loginMutation, map[string]any{"email": "new.agent@example.com", "password": "copper fox meadow 77"}); r.code(t) != "UNAUTHENTICATED" {
				t.Fatalf("deactivated user logged in: %+v", r.Errors)
			}
		})
	})
}

func TestUpdateProfile(t *testing.T) {
	s := startServer(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	token, _ := signup(t, s, "ann@example.com", "Ann")
	other, otherID := signup(t, s, "bob@example.com", "Bob")
	const update = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { name phone email role } }`
	r := s.do(t, token, update, map[string]any{"input": map[string]any{"name": "Ann Lee", "phone": " +44 20 7946 0000 "}}).ok(t)
	if str(r, "updateProfile", "name") != "Ann Lee" || str(r, "updateProfile", "phone") != "+44 20 7946 0000" || str(r, "updateProfile", "role") != "CUSTOMER" {
		t.Fatalf("updateProfile = %v", r)
	}
	if me := s.do(t, token, `{ me { phone } }`, nil).ok(t); str(me, "me", "phone") != "+44 20 7946 0000" {
		t.Fatalf("phone not kept: %v", me)
	}
	t.Run("EmptyPhoneRemovesIt", func(t *testing.T) {
		r := s.do(t, token, update, map[string]any{"input": map[string]any{"phone": ""}}).ok(t)
		if str(r, "updateProfile", "phone") != "" || str(r, "updateProfile", "name") != "Ann Lee" {
			t.Fatalf("updateProfile = %v", r)
		}
	})
	t.Run("ErrBadPhone", func(t *testing.T) {
		r := s.do(t, token, update, map[string]any{"input": map[string]any{"phone": "ring ring"}})
		if r.code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "phone" {
			t.Fatalf("got %+v", r.Errors)
		}
	})
	t.Run("ErrEmptyName", func(t *testing.T) {
		if r := s.do(t, token, update, map[string]any{"input": map[string]any{"name": "  "}}); r.code(t) != "BAD_USER_INPUT" {
			t.Fatalf("got %+v", r.Errors)
		}
	})
	t.Run("ErrCannotPromoteItself", func(t *testing.T) {
		me := str(s.do(t, token, `{ me { id } }`, nil).ok(t), "me", "id")
		if r := s.do(t, token, `mutation($id: ID!) { updateUser(id: $id, input: {role: ADMIN}) { role } }`, map[string]any{"id": me}); r.code(t) != "FORBIDDEN" {
			t.Fatalf("customer promoted itself: %+v", r.Errors)
		}
	})
	t.Run("ErrCannotEditOthers", func(t *testing.T) {
		if r := s.do(t, token, `mutation($id: ID!) { updateUser(id: $id, input: {name: "Mallory"}) { name } }`, map[string]any{"id": otherID}); r.code(t) != "FORBIDDEN" && r.code(t) != "NOT_FOUND" {
			t.Fatalf("customer renamed another user: %+v", r.Errors)
		}
		if me := s.do(t, other, `{ me { name } }`, nil).ok(t); str(me, "me", "name") != "Bob" {
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
