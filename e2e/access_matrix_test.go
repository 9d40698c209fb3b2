package e2e_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// The access matrix: every query, mutation and protected field of the API,
// run as every kind of caller, with the outcome the design's access table
// asks for. The table below is the single source: TestAccessMatrix runs it
// against the real server and renders it as ACCESS.md.

var updateAccessMatrix = flag.Bool("update-access-matrix", false, "rewrite ACCESS.md from the table of TestAccessMatrix")

const accessMatrixFile = "ACCESS.md"

// accessActor is one kind of caller.
type accessActor string

const (
	actAnonymous accessActor = "anonymous"
	actCustomerA accessActor = "customer A"
	actCustomerB accessActor = "customer B"
	actAgentIn   accessActor = "agent in group"
	actAgentOut  accessActor = "agent outside"
	actAdmin     accessActor = "admin"
	actReadToken accessActor = "READ token"
)

var accessActors = []accessActor{actAnonymous, actCustomerA, actCustomerB, actAgentIn, actAgentOut, actAdmin, actReadToken}

// Outcomes of a cell: allowed, allowed with the protected data left out, or
// denied with an error code.
const (
	outAllow  = "allow"
	outHidden = "hidden"
	outUnauth = "UNAUTHENTICATED"
	outNF     = "NOT_FOUND"
	outForbid = "FORBIDDEN"
	outInput  = "BAD_USER_INPUT"
)

// cells lists the outcomes in the order of accessActors.
func cells(outcomes ...string) map[accessActor]string {
	if len(outcomes) != len(accessActors) {
		panic(fmt.Sprintf("cells: %d outcomes for %d actors", len(outcomes), len(accessActors)))
	}
	m := map[accessActor]string{}
	for i, a := range accessActors {
		m[a] = outcomes[i]
	}
	return m
}

// accessRow is one operation or field of the API.
type accessRow struct {
	// op is the root field or Type.field the row covers; what says which
	// object or variant.
	op, what string
	doc      string
	// vars builds the variables of one cell; it may create throwaway
	// objects so that a cell changes nothing later cells read.
	vars func(c *accessCell) map[string]any
	// target names the variable holding the object(s) a NOT_FOUND answer
	// is about: the same operation with those IDs replaced by missing ones
	// must read exactly the same.
	target string
	// field is where a field-level FORBIDDEN must be: that field reads null
	// and check still passes on the rest of the response.
	field []any
	// fresh runs the cell with a new credential of the actor (a new
	// session, or a new READ token), for operations that end it.
	fresh bool
	// stream runs a subscription over server-sent events; its first
	// result is the response.
	stream bool
	// upload sends doc as a GraphQL multipart request with accessUpload
	// bound to $file: with the bearer token, or without a credential but
	// with the CSRF header (anonymous), which a cookie-less multipart
	// request needs to reach the resolver at all (TestUploadPage covers
	// the refusal without it).
	upload bool
	// download GETs /attachments/{vars.id}/{vars.filename} (doc is unused):
	// a 200 reads as data {download: {contentType, body}}, a refusal as its
	// JSON error body.
	download bool
	// input is the input a BAD_USER_INPUT cell's errors must name
	// (extensions.field).
	input string
	want  map[accessActor]string
	// bugs: cells where the product differs from want today. The cell
	// still asserts want, and skips with the note when that fails.
	bugs map[accessActor]string
	// check verifies the data of an allowed or hidden cell (and the rest
	// of the response of a field-level FORBIDDEN, and what a BAD_USER_INPUT
	// cell left unchanged).
	check func(c *accessCell, data map[string]any) error
}

func (r accessRow) name() string {
	if r.what == "" {
		return r.op
	}
	return r.op + " " + r.what
}

// accessCell is one row run as one actor.
type accessCell struct {
	t     *testing.T
	f     *accessFixture
	a     accessActor
	want  string
	token string
	// state carries what vars made (throwaway IDs, tokens) to check.
	state map[string]any
}

// accessFixture is the world of the matrix.
type accessFixture struct {
	s        *harness.Server
	token    map[accessActor]string
	user     map[accessActor]string // the READ token acts as its owner, the agent in group
	email    map[accessActor]string
	password map[accessActor]string
	name     map[accessActor]string
	phoneA   string
	group    string
	sla      string
	ticket   string // T: customer A's, in group Support
	reply    string // the agent's public reply on T
	note     string // the agent's internal note on T
	noteBody string
	sessionA string // customer A's session
	roToken  string // the READ token's ID
	rule     string // a routing rule, made by the first cell that needs it
	macro    string // a macro, likewise
	view     string // a saved view of the agent in group, shared with Support
	// replyFile and noteFile are the agent's files on the reply and the
	// note of T; the note's file holds noteBody, which customers never see.
	replyFile, noteFile string
	n                   int
}

// The files of the matrix: the reply's, the note's (its content is the
// note's body) and what the upload rows send.
var (
	accessReplyFile = harness.File{Name: "invoice-0042.txt", Content: []byte("Invoice 42: one printer, fire included\n")}
	accessNoteFile  = func(f *accessFixture) harness.File {
		return harness.File{Name: "refund.txt", Content: []byte(f.noteBody + "\n")}
	}
	accessUpload = harness.File{Name: "screenshot.png", Content: []byte("\x89PNG\r\n\x1a\nnot much of a picture")}
)

// accessDraft is what customer A uploads and leaves pending.
var accessDraft = harness.File{Name: "draft.txt", Content: []byte("customer A's draft")}

// pendingUpload uploads a new file as customer A, left pending.
func (f *accessFixture) pendingUpload(t *testing.T) string {
	t.Helper()
	id, _ := f.s.Uploaded(t, f.token[actCustomerA], accessDraft.Name, accessDraft.Content)
	return id
}

// stillPending checks that customer A's upload id is still pending: she
// can still attach it (to a new ticket like T).
func (f *accessFixture) stillPending(t *testing.T, id string) error {
	t.Helper()
	r := f.s.Do(t, f.token[actCustomerA], `mutation($id: ID!, $files: [ID!]) { addMessage(ticketID: $id, body: "mine", attachmentIDs: $files) { attachments { id } } }`,
		map[string]any{"id": f.throwawayTicket(t), "files": []string{id}})
	return expect(len(r.Errors) == 0 && harness.Str(r.Data, "addMessage", "attachments", 0, "id") == id, "customer A cannot attach her upload %s any more: %s", id, jsonOf(r.Errors))
}

func (f *accessFixture) uniq(prefix string) string {
	f.n++
	return fmt.Sprintf("%s%d", prefix, f.n)
}

// throwawayTicket opens a ticket like T (customer A's, in group Support).
func (f *accessFixture) throwawayTicket(t *testing.T) string {
	t.Helper()
	r := f.s.Do(t, f.token[actAdmin], `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`,
		map[string]any{"input": map[string]any{"subject": f.uniq("throwaway "), "body": "x", "requesterID": f.user[actCustomerA], "groupID": f.group}}).OK(t)
	return harness.Str(r, "createTicket", "id")
}

// newReadToken makes another READ token of the agent in group.
func (f *accessFixture) throwawayRule(t *testing.T) string {
	t.Helper()
	r := f.s.Do(t, f.token[actAdmin], `mutation($name: String!) { createRoutingRule(input: {name: $name, enabled: false}) { id } }`, map[string]any{"name": f.uniq("Throwaway rule ")}).OK(t)
	return harness.Str(r, "createRoutingRule", "id")
}

func (f *accessFixture) throwawayView(t *testing.T) string {
	t.Helper()
	r := f.s.Do(t, f.token[actAgentIn], `mutation($name: String!, $g: ID) { createSavedView(input: {name: $name, groupID: $g}) { id } }`,
		map[string]any{"name": f.uniq("View "), "g": f.group}).OK(t)
	return harness.Str(r, "createSavedView", "id")
}

func (f *accessFixture) throwawayMacro(t *testing.T) string {
	t.Helper()
	r := f.s.Do(t, f.token[actAdmin], `mutation($name: String!) { createMacro(input: {name: $name, body: "Thanks, {{requester.name}}!", setStatus: PENDING}) { id } }`, map[string]any{"name": f.uniq("Throwaway macro ")}).OK(t)
	return harness.Str(r, "createMacro", "id")
}

// notifyActor gives the actor a notification: customers by a staff reply
// on a ticket of theirs, staff by being assigned one.
func (f *accessFixture) notifyActor(t *testing.T, a accessActor) {
	t.Helper()
	requester := f.user[actCustomerA]
	if a == actCustomerB {
		requester = f.user[a]
	}
	opener := actAdmin
	if a == actAdmin {
		opener = actAgentIn
	}
	tk := harness.Str(f.s.Do(t, f.token[opener], `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`,
		map[string]any{"input": map[string]any{"subject": f.uniq("Notice "), "body": "x", "requesterID": requester, "groupID": f.group}}).OK(t), "createTicket", "id")
	switch a {
	case actAnonymous:
	case actCustomerA, actCustomerB:
		f.s.Do(t, f.token[actAdmin], harness.AddMessageMutation, map[string]any{"id": tk, "body": "an answer"}).OK(t)
	default:
		f.s.Do(t, f.token[opener], `mutation($id: ID!, $a: ID) { updateTicket(id: $id, input: {assigneeID: $a}) { id } }`, map[string]any{"id": tk, "a": f.user[a]}).OK(t)
	}
}

func (f *accessFixture) newReadToken(t *testing.T) (token, id string) {
	t.Helper()
	r := f.s.Do(t, f.token[actAgentIn], `mutation($n: String!) { createAPIToken(input: {name: $n}) { token apiToken { id } } }`,
		map[string]any{"n": f.uniq("ro-")}).OK(t)
	return harness.Str(r, "createAPIToken", "token"), harness.Str(r, "createAPIToken", "apiToken", "id")
}

// freshToken is a new credential of the actor.
func (f *accessFixture) freshToken(t *testing.T, a accessActor) string {
	t.Helper()
	switch a {
	case actAnonymous:
		return ""
	case actReadToken:
		tok, _ := f.newReadToken(t)
		return tok
	}
	return harness.Login(t, f.s, f.email[a], f.password[a])
}

// sessionIDs lists the IDs of the sessions the token's user has.
func (f *accessFixture) sessionIDs(t *testing.T, token string) []string {
	t.Helper()
	var ids []string
	for _, s := range harness.Path(f.s.Do(t, token, `{ mySessions { id } }`, nil).OK(t), "mySessions").([]any) {
		ids = append(ids, harness.Str(s, "id"))
	}
	return ids
}

func expect(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// idVar is the variables of an operation on one object.
func idVar(id func(f *accessFixture) string) func(c *accessCell) map[string]any {
	return func(c *accessCell) map[string]any { return map[string]any{"id": id(c.f)} }
}

// onThrowawayTicket runs the operation on a new ticket like T.
func onThrowawayTicket(extra func(c *accessCell) map[string]any) func(c *accessCell) map[string]any {
	return func(c *accessCell) map[string]any {
		vars := map[string]any{"id": c.f.throwawayTicket(c.t)}
		if c.state == nil {
			c.state = map[string]any{}
		}
		c.state["ticket"] = vars["id"]
		if extra != nil {
			for k, v := range extra(c) {
				vars[k] = v
			}
		}
		return vars
	}
}

// searchFindsT checks that a search finds ticket T when allowed and not
// when hidden.
func searchFindsT(c *accessCell, data map[string]any) error {
	edges, _ := harness.Path(data, "search", "edges").([]any)
	found := false
	for _, e := range edges {
		found = found || harness.Str(e, "node", "id") == c.f.ticket
	}
	return expect(harness.Path(data, "search") != nil && found == (c.want != outHidden), "search found T: %v, want %v (%s)", found, c.want != outHidden, jsonOf(data))
}

// countIs checks a connection's totalCount: 1 when allowed, 0 when hidden.
func countIs(keys ...any) func(c *accessCell, data map[string]any) error {
	return func(c *accessCell, data map[string]any) error {
		want := 1
		if c.want == outHidden {
			want = 0
		}
		got := harness.Num(data, keys...)
		return expect(got == want && harness.Path(data, keys...) != nil, "totalCount = %v, want %d (%s)", harness.Path(data, keys...), want, jsonOf(data))
	}
}

// boardCountsWhatIsListed checks a wallboard of the group of T: it counts
// exactly the waiting tickets of the group the actor may list, which take
// in T unless the cell is hidden.
func boardCountsWhatIsListed(key string) func(c *accessCell, data map[string]any) error {
	return func(c *accessCell, data map[string]any) error {
		if harness.Str(data, key, "group", "id") != c.f.group {
			return fmt.Errorf("wallboard = %s", jsonOf(data))
		}
		board := harness.Num(data, key, "new") + harness.Num(data, key, "open") + harness.Num(data, key, "pending")
		listed := c.f.s.Do(c.t, c.token, `query($id: ID!, $t: ID!) {
			all: tickets(where: {groupID: $id, statusIn: [NEW, OPEN, PENDING]}) { totalCount }
			t: tickets(where: {id: $t}) { totalCount } }`, map[string]any{"id": c.f.group, "t": c.f.ticket}).OK(c.t)
		inReach := harness.Num(listed, "t", "totalCount") == 1
		return expect(board == harness.Num(listed, "all", "totalCount") && inReach == (c.want != outHidden),
			"wallboard counts %d waiting, the actor lists %v (T in reach: %v)", board, harness.Path(listed, "all", "totalCount"), inReach)
	}
}

func accessRows() []accessRow {
	const (
		ok = outAllow
		hd = outHidden
		ua = outUnauth
		nf = outNF
		fb = outForbid
	)
	userEmail := `query($id: ID!) { node(id: $id) { id ... on User { name email } } }`
	userPhone := `query($id: ID!) { node(id: $id) { id ... on User { name phone } } }`
	ticketNode := func(field string) string {
		return `query($id: ID!) { node(id: $id) { id ... on Ticket { subject ` + field + ` } } }`
	}
	return []accessRow{
		// Queries.
		{
			op: "me", doc: `{ me { id name role } }`,
			want: cells(ok, ok, ok, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				if c.a == actAnonymous {
					return expect(harness.Path(data, "me") == nil, "anonymous me = %v, want null", data)
				}
				return expect(harness.Str(data, "me", "id") == c.f.user[c.a], "me = %v, want %s", data, c.f.user[c.a])
			},
		},
		{
			op: "node", what: "(ticket T)", doc: `query($id: ID!) { node(id: $id) { id ... on Ticket { subject } } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, ok, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "subject") == "Printer on fire", "node = %v", data)
			},
		},
		{
			op: "node", what: "(public reply on T)", doc: `query($id: ID!) { node(id: $id) { id ... on Message { body internal } } }`,
			vars: idVar(func(f *accessFixture) string { return f.reply }), target: "id",
			want: cells(ua, ok, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "body") == "We are on it" && harness.Path(data, "node", "internal") == false, "node = %v", data)
			},
		},
		{
			op: "node", what: "(internal note on T)", doc: `query($id: ID!) { node(id: $id) { id ... on Message { body internal } } }`,
			vars: idVar(func(f *accessFixture) string { return f.note }), target: "id",
			want: cells(ua, nf, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Path(data, "node", "internal") == true, "node = %v", data)
			},
		},
		{
			op: "node", what: "(customer A)", doc: `query($id: ID!) { node(id: $id) { id ... on User { name } } }`,
			vars: idVar(func(f *accessFixture) string { return f.user[actCustomerA] }), target: "id",
			want: cells(ua, ok, nf, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "name") == "Customer A", "node = %v", data)
			},
		},
		{
			op: "node", what: "(group Support)", doc: `query($id: ID!) { node(id: $id) { id ... on Group { name } } }`,
			vars: idVar(func(f *accessFixture) string { return f.group }), target: "id",
			want: cells(ua, ok, ok, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "name") == "Support", "node = %v", data)
			},
		},
		{
			op: "node", what: "(SLA policy)", doc: `query($id: ID!) { node(id: $id) { id ... on SLAPolicy { priority } } }`,
			vars: idVar(func(f *accessFixture) string { return f.sla }), target: "id",
			want: cells(ua, nf, nf, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "priority") == "NORMAL", "node = %v", data)
			},
		},
		{
			op: "node", what: "(customer A's session)", doc: `query($id: ID!) { node(id: $id) { id ... on Session { expiresAt } } }`,
			vars: idVar(func(f *accessFixture) string { return f.sessionA }), target: "id",
			want: cells(ua, ok, nf, nf, nf, ok, nf),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "expiresAt") != "", "node = %v", data)
			},
		},
		{
			op: "node", what: "(the READ token)", doc: `query($id: ID!) { node(id: $id) { id ... on APIToken { name scope } } }`,
			vars: idVar(func(f *accessFixture) string { return f.roToken }), target: "id",
			want: cells(ua, nf, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "scope") == "READ", "node = %v", data)
			},
		},
		{
			op: "nodes", what: "(ticket T and its public reply)", doc: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			vars:   func(c *accessCell) map[string]any { return map[string]any{"ids": []any{c.f.ticket, c.f.reply}} },
			target: "ids",
			want:   cells(ua, ok, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "nodes", 0, "id") == c.f.ticket && harness.Str(data, "nodes", 1, "id") == c.f.reply, "nodes = %v", data)
			},
		},
		{
			op: "tickets", what: "(T listed)", doc: `query($id: ID!) { tickets(where: {id: $id}) { totalCount edges { node { id } } } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }),
			want: cells(ua, ok, hd, ok, hd, ok, ok), check: countIs("tickets", "totalCount"),
		},
		{
			op: "search", what: "(words of T)", doc: `{ search(query: "printer fire") { edges { node { id } } } }`,
			want: cells(ua, ok, hd, ok, hd, ok, ok), check: searchFindsT,
		},
		{
			op: "search", what: "(words of the internal note on T)", doc: `{ search(query: "grumpy refund quietly") { edges { node { id } } } }`,
			want: cells(ua, hd, hd, ok, hd, ok, ok), check: searchFindsT,
		},
		{
			op: "search", what: "(by SLA state: -is:breached)", doc: `{ search(query: "printer fire -is:breached") { edges { node { id } } } }`,
			want: cells(ua, fb, fb, ok, hd, ok, ok), check: searchFindsT,
		},
		{
			op: "wallboard", what: "(group of T)", doc: `query($id: ID!) { wallboard(groupID: $id) { group { id } new open pending } }`,
			vars: idVar(func(f *accessFixture) string { return f.group }), target: "id",
			want: cells(ua, fb, fb, ok, hd, ok, ok), check: boardCountsWhatIsListed("wallboard"),
		},
		{
			op: "users", what: "(customer A listed)", doc: `query($id: ID!) { users(where: {id: $id}) { totalCount edges { node { id } } } }`,
			vars: idVar(func(f *accessFixture) string { return f.user[actCustomerA] }),
			want: cells(ua, ok, hd, ok, ok, ok, ok), check: countIs("users", "totalCount"),
		},
		{
			op: "groups", what: "(Support listed)", doc: `query($id: ID!) { groups(where: {id: $id}) { totalCount edges { node { id name } } } }`,
			vars: idVar(func(f *accessFixture) string { return f.group }),
			want: cells(ua, ok, ok, ok, ok, ok, ok), check: countIs("groups", "totalCount"),
		},
		{
			op: "slaPolicies", doc: `{ slaPolicies { id priority } }`,
			want: cells(ua, hd, hd, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				if c.want == outHidden {
					l, ok := harness.Path(data, "slaPolicies").([]any)
					return expect(ok && len(l) == 0, "slaPolicies = %v, want none", data)
				}
				return expect(strings.Contains(jsonOf(data), c.f.sla), "slaPolicies = %v", data)
			},
		},
		{
			op: "mySessions", doc: `{ mySessions { id revokedAt } }`,
			want: cells(ua, ok, ok, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				l, _ := harness.Path(data, "mySessions").([]any)
				if c.a == actCustomerA && !strings.Contains(jsonOf(l), c.f.sessionA) {
					return fmt.Errorf("customer A's sessions lack %s: %v", c.f.sessionA, l)
				}
				if c.a != actCustomerA && strings.Contains(jsonOf(l), c.f.sessionA) {
					return fmt.Errorf("someone else's session listed: %v", l)
				}
				return expect(len(l) > 0, "mySessions = %v", data)
			},
		},
		{
			op: "myAPITokens", doc: `{ myAPITokens { id name scope } }`,
			want: cells(ua, ok, ok, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				l, ok := harness.Path(data, "myAPITokens").([]any)
				mine := c.a == actAgentIn || c.a == actReadToken
				return expect(ok && strings.Contains(jsonOf(l), c.f.roToken) == mine, "myAPITokens = %v", data)
			},
		},

		// Protected fields.
		{
			op: "User.email", what: "(customer A)", doc: userEmail,
			vars: idVar(func(f *accessFixture) string { return f.user[actCustomerA] }), target: "id", field: []any{"node", "email"},
			want: cells(ua, ok, nf, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				if c.want == outForbid {
					return expect(harness.Str(data, "node", "name") == "Customer A", "rest of the response = %v", data)
				}
				return expect(harness.Str(data, "node", "email") == c.f.email[actCustomerA], "email = %v", data)
			},
		},
		{
			op: "User.phone", what: "(customer A)", doc: userPhone,
			vars: idVar(func(f *accessFixture) string { return f.user[actCustomerA] }), target: "id", field: []any{"node", "phone"},
			want: cells(ua, ok, nf, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				if c.want == outForbid {
					return expect(harness.Str(data, "node", "name") == "Customer A", "rest of the response = %v", data)
				}
				return expect(harness.Str(data, "node", "phone") == c.f.phoneA, "phone = %v", data)
			},
		},
		{
			op: "User.email", what: "(agent in group)", doc: userEmail,
			vars: idVar(func(f *accessFixture) string { return f.user[actAgentIn] }), target: "id", field: []any{"node", "email"},
			want: cells(ua, fb, fb, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				if c.want == outForbid {
					return expect(harness.Str(data, "node", "name") == c.f.name[actAgentIn], "rest of the response = %v", data)
				}
				return expect(harness.Str(data, "node", "email") == c.f.email[actAgentIn], "email = %v", data)
			},
		},
		{
			op: "Ticket.firstResponseDueAt", what: "(T)", doc: ticketNode("firstResponseDueAt"),
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id", field: []any{"node", "firstResponseDueAt"},
			want:  cells(ua, fb, nf, ok, nf, ok, ok),
			check: dueAt("firstResponseDueAt"),
		},
		{
			op: "Message.emailOriginal", what: "(T's first message)", doc: `query($id: ID!) { node(id: $id) { ... on Ticket { messages(first: 1) { edges { node { body emailOriginal } } } } } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id", field: []any{"node", "messages", "edges", 0, "node", "emailOriginal"},
			want: cells(ua, fb, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "messages", "edges", 0, "node", "body") != "", "rest of the response = %v", data)
			},
		},
		{
			op: "Ticket.resolutionDueAt", what: "(T)", doc: ticketNode("resolutionDueAt"),
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id", field: []any{"node", "resolutionDueAt"},
			want:  cells(ua, fb, nf, ok, nf, ok, ok),
			check: dueAt("resolutionDueAt"),
		},
		{
			op: "Ticket.messages", what: "(T's internal note)", doc: `query($id: ID!) { node(id: $id) { ... on Ticket { messages { totalCount edges { node { id body internal } } } } } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, hd, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				msgs := jsonOf(harness.Path(data, "node", "messages", "edges"))
				if c.want == outHidden {
					return expect(harness.Num(data, "node", "messages", "totalCount") == 2 && strings.Contains(msgs, c.f.reply) &&
						!strings.Contains(msgs, c.f.note) && !strings.Contains(msgs, `"internal":true`), "messages = %v", data)
				}
				return expect(harness.Num(data, "node", "messages", "totalCount") == 3 && strings.Contains(msgs, c.f.note), "messages = %v", data)
			},
		},
		{
			op: "Ticket.messages", what: "(filter tickets by internal note)", doc: `query($id: ID!, $body: String!) { tickets(where: {id: $id, hasMessagesWith: [{internal: true, bodyContains: $body}]}) { totalCount } }`,
			vars:  func(c *accessCell) map[string]any { return map[string]any{"id": c.f.ticket, "body": "grumpy"} },
			want:  cells(ua, fb, fb, ok, hd, ok, ok),
			check: countIs("tickets", "totalCount"),
		},
		{
			op: "Ticket.firstResponseDueAt", what: "(filter tickets by it)", doc: `query($id: ID!) { tickets(where: {id: $id, firstResponseDueAtNotNil: true, firstResponseDueAtGT: "2000-01-01T00:00:00Z"}) { totalCount } }`,
			vars:  idVar(func(f *accessFixture) string { return f.ticket }),
			want:  cells(ua, fb, fb, ok, hd, ok, ok),
			check: countIs("tickets", "totalCount"),
		},
		{
			op: "User.email", what: "(filter users by an agent's email)", doc: `query($id: ID!, $email: String!) { users(where: {id: $id, email: $email}) { totalCount } }`,
			vars: func(c *accessCell) map[string]any {
				return map[string]any{"id": c.f.user[actAgentIn], "email": c.f.email[actAgentIn]}
			},
			want:  cells(ua, fb, fb, ok, ok, ok, ok),
			check: countIs("users", "totalCount"),
		},
		{
			op: "__schema", what: "(no password or token hash anywhere)", doc: `{ __schema { types { name kind fields { name } inputFields { name } } } }`,
			want: cells(ok, ok, ok, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				types, _ := harness.Path(data, "__schema", "types").([]any)
				if len(types) == 0 {
					return fmt.Errorf("no types: %v", data)
				}
				for _, ty := range types {
					tname := harness.Str(ty, "name")
					fields, _ := harness.Path(ty, "fields").([]any)
					inputs, _ := harness.Path(ty, "inputFields").([]any)
					for _, fl := range append(fields, inputs...) {
						n := strings.ToLower(harness.Str(fl, "name"))
						if strings.Contains(n, "hash") || strings.Contains(n, "secret") {
							return fmt.Errorf("%s.%s", tname, harness.Str(fl, "name"))
						}
					}
					if tname == "Query" || tname == "Mutation" || tname == "Subscription" {
						continue // arguments, not fields, carry passwords in
					}
					for _, fl := range fields {
						n := strings.ToLower(harness.Str(fl, "name"))
						if strings.Contains(n, "password") || n == "token" && tname != "AuthPayload" && tname != "CreateAPITokenPayload" {
							return fmt.Errorf("%s.%s", tname, harness.Str(fl, "name"))
						}
					}
				}
				return nil
			},
		},

		// Mutations.
		{
			op: "signup", doc: `mutation($input: SignupInput!) { signup(input: $input) { token user { id email role } } }`,
			vars: func(c *accessCell) map[string]any {
				email := c.f.uniq("newcomer") + "@example.com"
				c.state["email"] = email
				return map[string]any{"input": map[string]any{"email": email, "password": "correct horse battery", "name": "Newcomer"}}
			},
			want: cells(ok, ok, ok, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(strings.HasPrefix(harness.Str(data, "signup", "token"), "sbs_") && harness.Str(data, "signup", "user", "email") == c.state["email"] &&
					harness.Str(data, "signup", "user", "role") == "CUSTOMER", "signup = %v", data)
			},
		},
		{
			op: "login", what: "(as customer A)", doc: `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id role } } }`,
			vars: func(c *accessCell) map[string]any {
				return map[string]any{"email": c.f.email[actCustomerA], "password": c.f.password[actCustomerA]}
			},
			want: cells(ok, ok, ok, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(strings.HasPrefix(harness.Str(data, "login", "token"), "sbs_") && harness.Str(data, "login", "user", "id") == c.f.user[actCustomerA], "login = %v", data)
			},
		},
		{
			op: "createTicket", what: "(for oneself)", doc: `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id subject requester { id } } }`,
			vars: func(c *accessCell) map[string]any {
				return map[string]any{"input": map[string]any{"subject": c.f.uniq("own "), "body": "x"}}
			},
			want: cells(ua, ok, ok, ok, ok, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "createTicket", "requester", "id") == c.f.user[c.a], "createTicket = %v", data)
			},
		},
		{
			op: "createTicket", what: "(for customer A in Support, HIGH)", doc: `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id priority group { id } requester { id } } }`,
			vars: func(c *accessCell) map[string]any {
				return map[string]any{"input": map[string]any{"subject": c.f.uniq("on behalf "), "body": "x", "priority": "HIGH",
					"requesterID": c.f.user[actCustomerA], "groupID": c.f.group}}
			},
			target: "input",
			want:   cells(ua, fb, nf, ok, fb, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "createTicket", "priority") == "HIGH" && harness.Str(data, "createTicket", "group", "id") == c.f.group &&
					harness.Str(data, "createTicket", "requester", "id") == c.f.user[actCustomerA], "createTicket = %v", data)
			},
		},
		{
			op: "updateTicket", what: "(status: SOLVED)", doc: `mutation($id: ID!) { updateTicket(id: $id, input: {status: SOLVED}) { id status solvedAt } }`,
			vars: onThrowawayTicket(nil), target: "id",
			want: cells(ua, ok, nf, ok, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "updateTicket", "status") == "SOLVED" && harness.Str(data, "updateTicket", "solvedAt") != "", "updateTicket = %v", data)
			},
		},
		{
			op: "updateTicket", what: "(priority: HIGH)", doc: `mutation($id: ID!) { updateTicket(id: $id, input: {priority: HIGH}) { id priority } }`,
			vars: onThrowawayTicket(nil), target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "updateTicket", "priority") == "HIGH", "updateTicket = %v", data)
			},
		},
		{
			op: "updateTicket", what: "(assignee: agent in group)", doc: `mutation($id: ID!, $assignee: ID!) { updateTicket(id: $id, input: {assigneeID: $assignee}) { id assignee { id } } }`,
			vars: onThrowawayTicket(func(c *accessCell) map[string]any { return map[string]any{"assignee": c.f.user[actAgentIn]} }), target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "updateTicket", "assignee", "id") == c.f.user[actAgentIn], "updateTicket = %v", data)
			},
		},
		{
			op: "addMessage", what: "(public reply)", doc: `mutation($id: ID!) { addMessage(ticketID: $id, body: "a public reply") { id body internal } }`,
			vars: onThrowawayTicket(nil), target: "id",
			want: cells(ua, ok, nf, ok, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "addMessage", "body") == "a public reply" && harness.Path(data, "addMessage", "internal") == false, "addMessage = %v", data)
			},
		},
		{
			op: "addMessage", what: "(internal note)", doc: `mutation($id: ID!) { addMessage(ticketID: $id, body: "a note", internal: true) { id body internal } }`,
			vars: onThrowawayTicket(nil), target: "id",
			want: cells(ua, fb, nf, ok, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Path(data, "addMessage", "internal") == true, "addMessage = %v", data)
			},
		},
		// Attachments: uploads, attaching them, reading them, downloads.
		{
			op: "uploadAttachment", what: "(multipart)", doc: harness.UploadMutation, upload: true,
			want: cells(ua, ok, ok, ok, ok, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				id := harness.Str(data, "uploadAttachment", "id")
				return expect(harness.Str(data, "uploadAttachment", "filename") == accessUpload.Name && harness.Num(data, "uploadAttachment", "size") == len(accessUpload.Content) &&
					harness.Str(data, "uploadAttachment", "url") == "/attachments/"+id+"/"+accessUpload.Name, "uploadAttachment = %v", data)
			},
		},
		{
			op: "node", what: "(customer A's pending upload)", doc: `query($id: ID!) { node(id: $id) { id ... on Attachment { filename messageID } } }`,
			vars:   func(c *accessCell) map[string]any { return map[string]any{"id": c.f.pendingUpload(c.t)} },
			target: "id",
			want:   cells(ua, ok, nf, nf, nf, nf, nf),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "filename") == accessDraft.Name && harness.Path(data, "node", "messageID") == nil, "node = %v", data)
			},
		},
		{
			op: "addMessage", what: "(attaching customer A's pending upload)",
			doc: `mutation($id: ID!, $files: [ID!]) { addMessage(ticketID: $id, body: "see attached", attachmentIDs: $files) { id attachments { id messageID } } }`,
			vars: onThrowawayTicket(func(c *accessCell) map[string]any {
				c.state["upload"] = c.f.pendingUpload(c.t)
				return map[string]any{"files": []any{c.state["upload"]}}
			}),
			target: "id", input: "attachmentIDs",
			want: cells(ua, ok, nf, outInput, nf, outInput, fb),
			check: func(c *accessCell, data map[string]any) error {
				up, _ := c.state["upload"].(string)
				if c.want == outInput {
					return c.f.stillPending(c.t, up)
				}
				return expect(harness.Str(data, "addMessage", "attachments", 0, "id") == up && harness.Str(data, "addMessage", "attachments", 0, "messageID") == harness.Str(data, "addMessage", "id"), "addMessage = %v", data)
			},
		},
		{
			op: "createTicket", what: "(for oneself, attaching customer A's pending upload)",
			doc: `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id messages { edges { node { attachments { id } } } } } }`,
			vars: func(c *accessCell) map[string]any {
				c.state["upload"] = c.f.pendingUpload(c.t)
				return map[string]any{"input": map[string]any{"subject": c.f.uniq("attached "), "body": "x", "attachmentIDs": []any{c.state["upload"]}}}
			},
			input: "attachmentIDs",
			want:  cells(ua, ok, outInput, outInput, outInput, outInput, fb),
			check: func(c *accessCell, data map[string]any) error {
				up, _ := c.state["upload"].(string)
				if c.want == outInput {
					return c.f.stillPending(c.t, up)
				}
				return expect(harness.Str(data, "createTicket", "messages", "edges", 0, "node", "attachments", 0, "id") == up, "createTicket = %v", data)
			},
		},
		{
			op: "Message.attachments", what: "(T's messages: the reply's and the note's files)",
			doc:  `query($id: ID!) { node(id: $id) { ... on Ticket { messages { edges { node { id internal attachments { id filename } } } } } } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, hd, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				msgs := jsonOf(harness.Path(data, "node", "messages"))
				return expect(strings.Contains(msgs, c.f.replyFile) && strings.Contains(msgs, c.f.noteFile) == (c.want != outHidden),
					"the reply's file listed: %v, the note's: %v (want %v); messages = %s", strings.Contains(msgs, c.f.replyFile), strings.Contains(msgs, c.f.noteFile), c.want != outHidden, msgs)
			},
		},
		{
			op: "GET /attachments/{id}/{filename}", what: "(the file of the public reply on T)", download: true,
			vars: func(c *accessCell) map[string]any {
				return map[string]any{"id": c.f.replyFile, "filename": accessReplyFile.Name}
			},
			target: "id",
			want:   cells(nf, ok, nf, ok, nf, ok, ok),
			check:  downloaded(func(*accessCell) []byte { return accessReplyFile.Content }),
		},
		{
			op: "GET /attachments/{id}/{filename}", what: "(the file of the internal note on T)", download: true,
			vars: func(c *accessCell) map[string]any {
				return map[string]any{"id": c.f.noteFile, "filename": accessNoteFile(c.f).Name}
			},
			target: "id",
			want:   cells(nf, nf, nf, ok, nf, ok, ok),
			check:  downloaded(func(c *accessCell) []byte { return accessNoteFile(c.f).Content }),
		},
		{
			op: "GET /attachments/{id}/{filename}", what: "(customer A's pending upload)", download: true,
			vars: func(c *accessCell) map[string]any {
				return map[string]any{"id": c.f.pendingUpload(c.t), "filename": accessDraft.Name}
			},
			target: "id",
			want:   cells(nf, ok, nf, nf, nf, nf, nf),
			check:  downloaded(func(*accessCell) []byte { return accessDraft.Content }),
		},
		{
			op: "createAPIToken", doc: `mutation($n: String!) { createAPIToken(input: {name: $n}) { token apiToken { id scope } } }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"n": c.f.uniq("token ")} },
			want: cells(ua, fb, fb, ok, ok, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(strings.HasPrefix(harness.Str(data, "createAPIToken", "token"), "sbt_") && harness.Str(data, "createAPIToken", "apiToken", "scope") == "READ", "createAPIToken = %v", data)
			},
		},
		{
			op: "inviteUser", what: "(an agent)", doc: `mutation($email: String!) { inviteUser(input: {email: $email, name: "Invited", role: AGENT, password: "copper fox meadow 77"}) { id email role } }`,
			vars: func(c *accessCell) map[string]any {
				email := c.f.uniq("invited") + "@example.com"
				c.state["email"] = email
				return map[string]any{"email": email}
			},
			want: cells(ua, fb, fb, fb, fb, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "inviteUser", "email") == c.state["email"] && harness.Str(data, "inviteUser", "role") == "AGENT", "inviteUser = %v", data)
			},
		},
		{
			op: "updateUser", what: "(rename customer A)", doc: `mutation($id: ID!) { updateUser(id: $id, input: {name: "Customer A"}) { id name } }`,
			vars: idVar(func(f *accessFixture) string { return f.user[actCustomerA] }),
			// Customer A may rename herself (the ownProfile rule), not others.
			want: cells(ua, ok, fb, fb, fb, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "updateUser", "name") == "Customer A", "updateUser = %v", data)
			},
		},
		{
			op: "updateProfile", what: "(own, no change)", doc: `mutation { updateProfile(input: {}) { id } }`,
			want: cells(ua, ok, ok, ok, ok, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "updateProfile", "id") != "", "updateProfile = %v", data)
			},
		},
		// Routing, following and mentions (issue 13).
		{
			op: "routingRules", what: "(a rule listed)", doc: `{ routingRules { edges { node { id name } } } }`,
			vars: func(c *accessCell) map[string]any {
				if c.f.rule == "" {
					c.f.rule = harness.Str(c.f.s.Do(c.t, c.f.token[actAdmin], `mutation { createRoutingRule(input: {name: "Refunds", words: ["refund"]}) { id } }`, nil).OK(c.t), "createRoutingRule", "id")
				}
				return nil
			},
			want: cells(ua, hd, hd, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(strings.Contains(jsonOf(data), c.f.rule) == (c.want != outHidden), "routingRules = %v", data)
			},
		},
		{
			op: "createRoutingRule", doc: `mutation($name: String!) { createRoutingRule(input: {name: $name, enabled: false}) { id name } }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"name": c.f.uniq("Rule ")} },
			want: cells(ua, fb, fb, fb, fb, ok, fb),
		},
		{
			op: "updateRoutingRule", what: "(a throwaway rule)", doc: `mutation($id: ID!) { updateRoutingRule(id: $id, input: {position: 5}) { id position } }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"id": c.f.throwawayRule(c.t)} }, target: "id",
			want: cells(ua, fb, fb, fb, fb, ok, fb),
		},
		{
			op: "deleteRoutingRule", what: "(a throwaway rule)", doc: `mutation($id: ID!) { deleteRoutingRule(id: $id) }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"id": c.f.throwawayRule(c.t)} }, target: "id",
			want: cells(ua, fb, fb, fb, fb, ok, fb),
		},
		{
			op: "setDefaultGroup", what: "(a new group)", doc: `mutation($id: ID!) { setDefaultGroup(id: $id) { id isDefault } }`,
			vars: func(c *accessCell) map[string]any {
				g := c.f.s.Do(c.t, c.f.token[actAdmin], `mutation($name: String!) { createGroup(input: {name: $name}) { id } }`, map[string]any{"name": c.f.uniq("Default ")}).OK(c.t)
				return map[string]any{"id": harness.Str(g, "createGroup", "id")}
			},
			want: cells(ua, fb, fb, fb, fb, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Path(data, "setDefaultGroup", "isDefault") == true, "setDefaultGroup = %v", data)
			},
		},
		{
			op: "defaultGroup", doc: `{ defaultGroup { id } }`,
			want: cells(ua, ok, ok, ok, ok, ok, ok),
		},
		{
			op: "setAway", what: "(back, no change)", doc: `mutation { setAway(away: false) { id away } }`,
			want: cells(ua, fb, fb, ok, ok, ok, fb),
		},
		{
			op: "Ticket.routingRule", what: "(T)", doc: ticketNode("routingRule { id }"),
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id", field: []any{"node", "routingRule"},
			want: cells(ua, fb, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "subject") == "Printer on fire", "node = %v", data)
			},
		},
		{
			op: "Ticket.routingRuleID", what: "(T)", doc: ticketNode("routingRuleID"),
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id", field: []any{"node", "routingRuleID"},
			want: cells(ua, fb, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "node", "subject") == "Printer on fire", "node = %v", data)
			},
		},
		{
			op: "Ticket.followers", what: "(T)", doc: ticketNode("followers { id }"),
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, ok, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				// The requester follows; customers see no one but themself.
				got := jsonOf(harness.Path(data, "node", "followers"))
				sees := strings.Contains(got, c.f.user[actCustomerA]) && strings.Contains(got, c.f.user[actAgentIn])
				if c.a == actCustomerA {
					return expect(strings.Contains(got, c.f.user[actCustomerA]) && !strings.Contains(got, c.f.user[actAgentIn]), "followers = %s", got)
				}
				return expect(sees, "followers = %s", got)
			},
		},
		{
			op: "followTicket", what: "(T)", doc: `mutation($id: ID!) { followTicket(ticketID: $id) { id followedByMe } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, ok, nf, ok, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Path(data, "followTicket", "followedByMe") == true, "followTicket = %v", data)
			},
		},
		{
			op: "unfollowTicket", what: "(T)", doc: `mutation($id: ID!) { unfollowTicket(ticketID: $id) { id followedByMe } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, ok, nf, ok, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Path(data, "unfollowTicket", "followedByMe") == false, "unfollowTicket = %v", data)
			},
		},
		{
			op: "mentionCandidates", what: "(T)", doc: `query($id: ID!) { mentionCandidates(ticketID: $id) { handle user { id } } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				got := jsonOf(data)
				return expect(strings.Contains(got, c.f.user[actAgentIn]) && !strings.Contains(got, c.f.user[actAgentOut]), "candidates = %s", got)
			},
		},
		{
			op: "Message.mentions", what: "(the internal note on T)", doc: `query($id: ID!) { node(id: $id) { id ... on Message { mentions { id } } } }`,
			vars: idVar(func(f *accessFixture) string { return f.note }), target: "id",
			want: cells(ua, nf, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(strings.Contains(jsonOf(data), c.f.user[actAdmin]), "mentions = %v", data)
			},
		},
		// Saved views.
		{
			op: "savedViews", what: "(a view shared with Support listed)", doc: `{ savedViews { id name } }`,
			vars: func(c *accessCell) map[string]any {
				if c.f.view == "" {
					c.f.view = c.f.throwawayView(c.t)
				}
				return nil
			},
			want: cells(ua, hd, hd, ok, hd, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(strings.Contains(jsonOf(data), c.f.view) == (c.want != outHidden), "savedViews = %v", data)
			},
		},
		{
			op: "createSavedView", doc: `mutation { createSavedView(input: {name: "Urgent", where: {priority: URGENT}}) { id name } }`,
			want: cells(ua, fb, fb, ok, ok, ok, fb),
		},
		{
			op: "updateSavedView", what: "(a view of the agent in group)", doc: `mutation($id: ID!) { updateSavedView(id: $id, input: {name: "Renamed"}) { id name } }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"id": c.f.throwawayView(c.t)} }, target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, fb),
		},
		{
			op: "deleteSavedView", what: "(a view of the agent in group)", doc: `mutation($id: ID!) { deleteSavedView(id: $id) }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"id": c.f.throwawayView(c.t)} }, target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, fb),
		},
		{
			op: "macros", what: "(a macro listed)", doc: `{ macros { edges { node { id name } } } }`,
			vars: func(c *accessCell) map[string]any {
				if c.f.macro == "" {
					c.f.macro = harness.Str(c.f.s.Do(c.t, c.f.token[actAdmin], `mutation { createMacro(input: {name: "Thanks", body: "Thank you!"}) { id } }`, nil).OK(c.t), "createMacro", "id")
				}
				return nil
			},
			want: cells(ua, hd, hd, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(strings.Contains(jsonOf(data), c.f.macro) == (c.want != outHidden), "macros = %v", data)
			},
		},
		{
			op: "usableMacros", what: "(on T)", doc: `query($id: ID!) { usableMacros(ticketID: $id) { id } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, hd, nf, ok, nf, ok, ok),
		},
		{
			op: "createMacro", doc: `mutation($name: String!) { createMacro(input: {name: $name, body: "Hello {{requester.name}}"}) { id } }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"name": c.f.uniq("Macro ")} },
			want: cells(ua, fb, fb, fb, fb, ok, fb),
		},
		{
			op: "updateMacro", what: "(a throwaway macro)", doc: `mutation($id: ID!) { updateMacro(id: $id, input: {body: "Bye"}) { id } }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"id": c.f.throwawayMacro(c.t)} }, target: "id",
			want: cells(ua, fb, fb, fb, fb, ok, fb),
		},
		{
			op: "deleteMacro", what: "(a throwaway macro)", doc: `mutation($id: ID!) { deleteMacro(id: $id) }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"id": c.f.throwawayMacro(c.t)} }, target: "id",
			want: cells(ua, fb, fb, fb, fb, ok, fb),
		},
		{
			op: "applyMacro", what: "(on a throwaway ticket in Support)", doc: `mutation($id: ID!, $m: ID!) { applyMacro(ticketID: $id, macroID: $m) { id } }`,
			vars: onThrowawayTicket(func(c *accessCell) map[string]any { return map[string]any{"m": c.f.throwawayMacro(c.t)} }), target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, fb),
		},
		{
			op: "addTags", what: "(on a throwaway ticket in Support)", doc: `mutation($id: ID!) { addTags(ticketID: $id, tags: ["vip"]) { tags } }`,
			vars: onThrowawayTicket(nil), target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, fb),
		},
		{
			op: "removeTags", what: "(vip, on a throwaway ticket in Support tagged vip)", doc: `mutation($id: ID!) { removeTags(ticketID: $id, tags: ["vip"]) { tags } }`,
			vars: onThrowawayTicket(func(c *accessCell) map[string]any {
				c.f.s.Do(c.t, c.f.token[actAdmin], `mutation($id: ID!) { addTags(ticketID: $id, tags: ["vip"]) { id } }`, map[string]any{"id": c.state["ticket"]}).OK(c.t)
				return nil
			}), target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, fb),
		},
		// The inbox.
		{
			op: "notifications", what: "(of T, among the oldest)", doc: `{ notifications(last: 3) { edges { node { kind ticket { id } } } } }`,
			want: cells(ua, ok, hd, ok, hd, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(strings.Contains(jsonOf(data), c.f.ticket) == (c.want != outHidden), "notifications = %v", data)
			},
		},
		{
			op: "unreadNotificationCount", doc: `{ unreadNotificationCount }`,
			want: cells(ua, ok, ok, ok, ok, ok, ok),
		},
		{
			op: "notificationPreferences", doc: `{ notificationPreferences { kind enabled } }`,
			want: cells(ua, ok, ok, ok, ok, ok, ok),
		},
		{
			op: "setNotificationPreference", what: "(MESSAGE_ON_ASSIGNED flipped)", doc: `mutation($on: Boolean!) { setNotificationPreference(kind: MESSAGE_ON_ASSIGNED, enabled: $on) { kind enabled } }`,
			// Each cell changes the setting: the READ token acts as the
			// agent in group, whose cell turned it off.
			vars: func(c *accessCell) map[string]any { return map[string]any{"on": c.a == actReadToken} },
			want: cells(ua, ok, ok, ok, ok, ok, fb),
		},
		{
			op: "markNotificationsRead", what: "(all)", doc: `mutation { markNotificationsRead(all: true) }`,
			want: cells(ua, ok, ok, ok, ok, ok, fb),
		},
		{
			op: "createGroup", doc: `mutation($name: String!) { createGroup(input: {name: $name}) { id name } }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"name": c.f.uniq("Group ")} },
			want: cells(ua, fb, fb, fb, fb, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(strings.HasPrefix(harness.Str(data, "createGroup", "name"), "Group "), "createGroup = %v", data)
			},
		},
		{
			op: "updateGroup", what: "(rename a group)", doc: `mutation($id: ID!) { updateGroup(id: $id, input: {name: "Renamed"}) { id name } }`,
			vars: func(c *accessCell) map[string]any {
				r := c.f.s.Do(c.t, c.f.token[actAdmin], `mutation($name: String!) { createGroup(input: {name: $name}) { id } }`, map[string]any{"name": c.f.uniq("Throwaway ")}).OK(c.t)
				return map[string]any{"id": harness.Str(r, "createGroup", "id")}
			},
			want: cells(ua, fb, fb, fb, fb, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "updateGroup", "name") == "Renamed", "updateGroup = %v", data)
			},
		},
		{
			op: "createSLAPolicy", what: "(LOW)", doc: `mutation { createSLAPolicy(input: {priority: LOW, firstResponseMinutes: 240, resolutionMinutes: 2880}) { id priority } }`,
			want: cells(ua, fb, fb, fb, fb, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "createSLAPolicy", "priority") == "LOW", "createSLAPolicy = %v", data)
			},
		},
		{
			op: "updateSLAPolicy", what: "(NORMAL)", doc: `mutation($id: ID!) { updateSLAPolicy(id: $id, input: {firstResponseMinutes: 60}) { id firstResponseMinutes } }`,
			vars: idVar(func(f *accessFixture) string { return f.sla }),
			want: cells(ua, fb, fb, fb, fb, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Num(data, "updateSLAPolicy", "firstResponseMinutes") == 60, "updateSLAPolicy = %v", data)
			},
		},

		// Mutations that end something: on throwaway credentials and users.
		{
			op: "logout", what: "(a new session)", doc: `mutation { logout }`, fresh: true,
			want: cells(ua, ok, ok, ok, ok, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				if harness.Path(data, "logout") != true {
					return fmt.Errorf("logout = %v", data)
				}
				r := c.f.s.Do(c.t, c.token, `{ me { id } }`, nil)
				return expect(r.Status == http.StatusUnauthorized, "the session still works after logout: %d", r.Status)
			},
		},
		{
			op: "revokeSession", what: "(customer A's new session)", doc: `mutation($id: ID!) { revokeSession(id: $id) { id revokedAt } }`,
			vars: func(c *accessCell) map[string]any {
				before := c.f.sessionIDs(c.t, c.f.token[actCustomerA])
				tok := harness.Login(c.t, c.f.s, c.f.email[actCustomerA], c.f.password[actCustomerA])
				c.state["token"] = tok
				for _, id := range c.f.sessionIDs(c.t, tok) {
					if !slices.Contains(before, id) {
						return map[string]any{"id": id}
					}
				}
				c.t.Fatal("the new session is not listed")
				return nil
			},
			target: "id",
			want:   cells(ua, ok, nf, nf, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				if harness.Str(data, "revokeSession", "revokedAt") == "" {
					return fmt.Errorf("revokeSession = %v", data)
				}
				r := c.f.s.Do(c.t, c.state["token"].(string), `{ me { id } }`, nil)
				return expect(r.Status == http.StatusUnauthorized, "the revoked session still works: %d", r.Status)
			},
		},
		{
			op: "revokeAPIToken", what: "(a new token of the agent in group)", doc: `mutation($id: ID!) { revokeAPIToken(id: $id) { id revokedAt } }`,
			vars: func(c *accessCell) map[string]any {
				tok, id := c.f.newReadToken(c.t)
				c.state["token"] = tok
				return map[string]any{"id": id}
			},
			target: "id",
			want:   cells(ua, nf, nf, ok, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				if harness.Str(data, "revokeAPIToken", "revokedAt") == "" {
					return fmt.Errorf("revokeAPIToken = %v", data)
				}
				r := c.f.s.Do(c.t, c.state["token"].(string), `{ me { id } }`, nil)
				return expect(r.Status == http.StatusUnauthorized, "the revoked token still works: %d", r.Status)
			},
		},
		{
			op: "updateUser", what: "(deactivate a customer)", doc: `mutation($id: ID!) { updateUser(id: $id, input: {active: false}) { id active } }`,
			vars: func(c *accessCell) map[string]any {
				_, id := harness.Signup(c.t, c.f.s, c.f.uniq("leaver")+"@example.com", "Leaver")
				return map[string]any{"id": id}
			},
			want: cells(ua, fb, fb, fb, fb, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Path(data, "updateUser", "active") == false, "updateUser = %v", data)
			},
		},
		{
			op: "requestPasswordReset", what: "(an unknown address: the same answer)", doc: `mutation($e: String!) { requestPasswordReset(email: $e) }`,
			vars: func(c *accessCell) map[string]any { return map[string]any{"e": c.f.uniq("nobody-") + "@example.com"} },
			want: cells(ok, ok, ok, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Path(data, "requestPasswordReset") == true, "requestPasswordReset = %v", data)
			},
		},
		{
			op: "resetPassword", what: "(a made-up token)", doc: `mutation { resetPassword(token: "sbr_made_up", newPassword: "violet harbor kettle lamp") }`,
			input: "token",
			want:  cells(outInput, outInput, outInput, outInput, outInput, outInput, outInput),
		},
		{
			op: "outboxMessages", what: "(a reply's mail to customer A waits in it)", doc: `{ outboxMessages { id recipient } }`,
			want: cells(ua, hd, hd, hd, hd, ok, hd),
			check: func(c *accessCell, data map[string]any) error {
				list, _ := harness.Path(data, "outboxMessages").([]any)
				if c.want == outHidden {
					return expect(len(list) == 0, "outboxMessages = %v", list)
				}
				return expect(len(list) > 0 && strings.Contains(jsonOf(list), c.f.email[actCustomerA]), "outboxMessages = %v", list)
			},
		},
		{
			op: "retryOutboxMessage", what: "(the reply's mail to customer A)", doc: `mutation($id: ID!) { retryOutboxMessage(id: $id) { id status } }`,
			vars: func(c *accessCell) map[string]any {
				list := harness.Path(c.f.s.Do(c.t, c.f.token[actAdmin], `{ outboxMessages(first: 1) { id } }`, nil).OK(c.t), "outboxMessages").([]any)
				return map[string]any{"id": harness.Str(list[0], "id")}
			},
			target: "id",
			want:   cells(ua, nf, nf, nf, nf, ok, nf),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "retryOutboxMessage", "status") == "PENDING", "retryOutboxMessage = %v", data)
			},
		},
		{
			op: "changePassword", what: "(own)", doc: `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }`,
			vars: func(c *accessCell) map[string]any {
				return map[string]any{"current": c.f.password[c.a], "next": "violet harbor kettle"}
			},
			want: cells(ua, ok, ok, ok, ok, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				if harness.Path(data, "changePassword") != true {
					return fmt.Errorf("changePassword = %v", data)
				}
				c.f.password[c.a] = "violet harbor kettle"
				r := c.f.s.Do(c.t, c.token, `{ me { id } }`, nil)
				return expect(r.Status == http.StatusOK, "the session that changed the password ended: %d", r.Status)
			},
		},

		// Live updates (subscriptions run over server-sent events).
		{
			op: "ticketEvents", what: "(T, from the start of the log)", stream: true,
			doc:  `subscription($id: ID!) { ticketEvents(ticketID: $id, after: "0") { type ticket { id } } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, ok, nf, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "ticketEvents", "type") == "TICKET_CREATED" && harness.Str(data, "ticketEvents", "ticket", "id") == c.f.ticket, "first event = %v", data)
			},
		},
		{
			op: "notifications", what: "(subscription, from the start)", stream: true,
			doc:  `subscription { notifications(after: "0") { kind ticket { id } } }`,
			vars: func(c *accessCell) map[string]any { c.f.notifyActor(c.t, c.a); return nil },
			want: cells(ua, ok, ok, ok, ok, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Str(data, "notifications", "kind") != "" && harness.Str(data, "notifications", "ticket", "id") != "", "first notification = %v", data)
			},
		},
		{
			op: "ticketViewers", what: "(T)", stream: true,
			doc:  `subscription($id: ID!) { ticketViewers(ticketID: $id) { user { id } typing } }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, ok),
			check: func(c *accessCell, data map[string]any) error {
				_, isList := harness.Path(data, "ticketViewers").([]any)
				return expect(isList, "ticketViewers = %v", data)
			},
		},
		{
			op: "wallboard", what: "(subscription, group of T)", stream: true,
			doc:  `subscription($id: ID!) { wallboard(groupID: $id) { group { id } new open pending } }`,
			vars: idVar(func(f *accessFixture) string { return f.group }), target: "id",
			want: cells(ua, fb, fb, ok, hd, ok, ok), check: boardCountsWhatIsListed("wallboard"),
		},
		{
			op: "viewTicket", what: "(T, typing)", doc: `mutation($id: ID!) { viewTicket(ticketID: $id, typing: true) }`,
			vars: idVar(func(f *accessFixture) string { return f.ticket }), target: "id",
			want: cells(ua, fb, fb, ok, nf, ok, fb),
			check: func(c *accessCell, data map[string]any) error {
				return expect(harness.Path(data, "viewTicket") == true, "viewTicket = %v", data)
			},
		},
	}
}

// run sends the row's operation: over HTTP, or as a subscription over
// server-sent events.
func (f *accessFixture) run(t *testing.T, r accessRow, token string, vars map[string]any) harness.Response {
	switch {
	case r.stream:
		return f.s.FirstSSEResult(t, token, r.doc, vars)
	case r.upload:
		v := map[string]any{}
		for k, x := range vars {
			v[k] = x
		}
		body, ct := harness.MultipartBody(r.doc, v, []string{"file"}, []harness.File{accessUpload})
		headers := map[string]string{auth.CSRFHeader: "1"}
		if token != "" {
			headers = map[string]string{"Authorization": "Bearer " + token}
		}
		return f.s.PostMultipart(t, body, ct, headers)
	case r.download:
		id, _ := vars["id"].(string)
		name, _ := vars["filename"].(string)
		res, body := f.s.Download(t, token, "/attachments/"+url.PathEscape(id)+"/"+url.PathEscape(name), nil)
		out := harness.Response{Status: res.StatusCode, Header: res.Header, Raw: string(body)}
		if res.StatusCode == http.StatusOK {
			out.Data = map[string]any{"download": map[string]any{"contentType": res.Header.Get("Content-Type"), "body": string(body)}}
			return out
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("GET /attachments/%s/%s: status %d, body not JSON: %s", id, name, res.StatusCode, body)
		}
		return out
	}
	return f.s.Do(t, token, r.doc, vars)
}

// downloaded checks that a download is the file's bytes.
func downloaded(content func(c *accessCell) []byte) func(c *accessCell, data map[string]any) error {
	return func(c *accessCell, data map[string]any) error {
		return expect(harness.Str(data, "download", "body") == string(content(c)), "downloaded %q, want %q", harness.Str(data, "download", "body"), content(c))
	}
}

// dueAt checks an SLA due time of T, or that the rest of T is intact
// when the field is denied.
func dueAt(field string) func(c *accessCell, data map[string]any) error {
	return func(c *accessCell, data map[string]any) error {
		if harness.Str(data, "node", "subject") != "Printer on fire" {
			return fmt.Errorf("rest of the response = %v", data)
		}
		if c.want == outForbid {
			return nil
		}
		return expect(harness.Str(data, "node", field) != "", "%s = %v", field, data)
	}
}

// renderAccessMatrix is ACCESS.md: only the static table, so that it is
// the same whatever database the test runs on.
func renderAccessMatrix(rows []accessRow) string {
	var b strings.Builder
	b.WriteString("Generated by TestAccessMatrix in e2e/access_matrix_test.go; do not edit by hand: change the table in the test and run\n" +
		"`go test ./e2e/ -run TestAccessMatrix -update-access-matrix`. Every cell is checked against the running server on SQLite and\n" +
		"PostgreSQL. Ticket T is customer A's, in group Support; the agent in group is a member of Support, the agent outside\n" +
		"is not; the READ token belongs to the agent in group. ✅ allowed with the expected data; hidden: allowed, but the object\n" +
		"or data is left out as if it did not exist; otherwise the `extensions.code` of the denial (NOT_FOUND reads exactly like\n" +
		"a missing ID; FORBIDDEN on a field: that field reads null, the rest of the response is intact). ⚠️ marks cells where\n" +
		"the product does not behave so yet (the BUG notes in the test). `uploadAttachment` is a multipart request (anonymous:\n" +
		"no credential, with the CSRF header); the `GET /attachments/…` rows are downloads: ✅ is a 200 with the file's bytes,\n" +
		"NOT_FOUND the 404 a missing file gets, for anonymous callers too. T's public reply and internal note each carry a file\n" +
		"of the agent in group; customer A's pending upload is a new one for each cell.\n\n")
	b.WriteString("| Operation or field |")
	for _, a := range accessActors {
		b.WriteString(" " + string(a) + " |")
	}
	b.WriteString("\n|---|")
	for range accessActors {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s |", strings.TrimSpace("`"+r.op+"` "+r.what))
		for _, a := range accessActors {
			cell := r.want[a]
			switch cell {
			case outAllow:
				cell = "✅"
			case outHidden:
				cell = "hidden"
			}
			if r.bugs[a] != "" {
				cell += " ⚠️"
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestAccessMatrix(t *testing.T) {
	rows := accessRows()
	t.Run("TableIsComplete", func(t *testing.T) {
		for _, r := range rows {
			for _, a := range accessActors {
				if r.want[a] == "" {
					t.Errorf("%s: no outcome for %s", r.name(), a)
				}
			}
			if slices.ContainsFunc(accessActors, func(a accessActor) bool { return r.want[a] == outNF }) && r.target == "" {
				t.Errorf("%s: NOT_FOUND cells need a target, to compare with a missing ID", r.name())
			}
			for a := range r.bugs {
				if r.want[a] == "" {
					t.Errorf("%s: bug note for unknown actor %s", r.name(), a)
				}
			}
		}
		covered := map[string]bool{}
		for _, r := range rows {
			covered[r.op] = true
		}
		// Every field rule of the hand-written schema has a row.
		for _, f := range protectedFields(t) {
			if !covered[f] {
				t.Errorf("%s is protected by a schema directive but has no row in the access matrix", f)
			}
		}
	})
	t.Run(accessMatrixFile, func(t *testing.T) {
		want := renderAccessMatrix(rows)
		if *updateAccessMatrix {
			if err := os.WriteFile(harness.RepoFile(t, accessMatrixFile), []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		got, err := os.ReadFile(harness.RepoFile(t, accessMatrixFile))
		if err != nil {
			t.Fatalf("%v: run `go test ./e2e/ -run TestAccessMatrix -update-access-matrix`", err)
		}
		if string(got) != want {
			gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(want, "\n")
			i := 0
			for i < len(gotLines) && i < len(wantLines) && gotLines[i] == wantLines[i] {
				i++
			}
			line := func(l []string) string {
				if i < len(l) {
					return l[i]
				}
				return "(end of file)"
			}
			t.Fatalf("%s differs from the table in e2e/access_matrix_test.go at line %d:\n  file:  %s\n  table: %s\nrun `go test ./e2e/ -run TestAccessMatrix -update-access-matrix`",
				accessMatrixFile, i+1, line(gotLines), line(wantLines))
		}
	})

	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := setupAccessFixture(t, tg)
		t.Run("EveryRootFieldHasARow", func(t *testing.T) {
			covered := map[string]bool{}
			for _, r := range rows {
				covered[r.op] = true
			}
			data := f.s.Do(t, "", `{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }`, nil).OK(t)
			for _, kind := range []string{"queryType", "mutationType", "subscriptionType"} {
				fields, _ := harness.Path(data, "__schema", kind, "fields").([]any)
				for _, fl := range fields {
					if name := harness.Str(fl, "name"); !covered[name] {
						t.Errorf("%s.%s has no row in the access matrix", kind, name)
					}
				}
			}
		})
		for _, r := range rows {
			t.Run(r.name(), func(t *testing.T) {
				for _, a := range accessActors {
					t.Run(string(a), func(t *testing.T) { runAccessCell(t, f, r, a) })
				}
			})
		}
	})
}

// protectedFields lists the Type.field of every @contactData and
// @staffOnly field in schema/*.graphql.
func protectedFields(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(harness.RepoFile(t, "schema", "*.graphql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("reading the schema: %v", err)
	}
	typeRe := regexp.MustCompile(`^\s*(?:extend\s+)?(?:type|interface)\s+(\w+)`)
	fieldRe := regexp.MustCompile(`^\s*(\w+)\s*(?:\(.*\))?\s*:.*@(?:contactData|staffOnly)\b`)
	var out []string
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		current := ""
		for _, line := range strings.Split(string(src), "\n") {
			if m := typeRe.FindStringSubmatch(line); m != nil {
				current = m[1]
			} else if m := fieldRe.FindStringSubmatch(line); m != nil && current != "" {
				// Rows name root fields by the field alone (`wallboard`).
				if current == "Query" || current == "Mutation" || current == "Subscription" {
					out = append(out, m[1])
				} else {
					out = append(out, current+"."+m[1])
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("found no protected fields in schema/*.graphql")
	}
	return out
}

func setupAccessFixture(t *testing.T, tg dbtest.Target) *accessFixture {
	t.Helper()
	f := &accessFixture{
		token:    map[accessActor]string{},
		user:     map[accessActor]string{},
		email:    map[accessActor]string{actAdmin: "admin@example.com", actAgentIn: "in.agent@example.com", actAgentOut: "out.agent@example.com", actCustomerA: "customer.a@example.com", actCustomerB: "customer.b@example.com"},
		password: map[accessActor]string{actAdmin: "amber canyon whistle", actAgentIn: "copper fox meadow 77", actAgentOut: "copper fox meadow 77", actCustomerA: "correct horse battery", actCustomerB: "correct horse battery"},
		name:     map[accessActor]string{actAdmin: "Ada Admin", actAgentIn: "Ina Inside", actAgentOut: "Otto Outside", actCustomerA: "Customer A", actCustomerB: "Customer B"},
		phoneA:   "+1 555 0100",
		noteBody: "customer is grumpy, refund quietly @ada",
	}
	harness.CreateUser(t, tg, f.email[actAdmin], f.name[actAdmin], "admin", f.password[actAdmin])
	s := harness.Start(t, tg, nil)
	f.s = s
	f.token[actAdmin] = harness.Login(t, s, f.email[actAdmin], f.password[actAdmin])
	f.user[actAdmin] = harness.Str(s.Do(t, f.token[actAdmin], `{ me { id } }`, nil).OK(t), "me", "id")
	for _, a := range []accessActor{actAgentIn, actAgentOut} {
		r := s.Do(t, f.token[actAdmin], `mutation($email: String!, $name: String!, $password: String!) { inviteUser(input: {email: $email, name: $name, role: AGENT, password: $password}) { id } }`,
			map[string]any{"email": f.email[a], "name": f.name[a], "password": f.password[a]}).OK(t)
		f.user[a] = harness.Str(r, "inviteUser", "id")
		f.token[a] = harness.Login(t, s, f.email[a], f.password[a])
	}
	f.user[actReadToken] = f.user[actAgentIn]
	f.group = harness.Str(s.Do(t, f.token[actAdmin], `mutation($m: [ID!]) { createGroup(input: {name: "Support", memberIDs: $m}) { id } }`,
		map[string]any{"m": []string{f.user[actAgentIn]}}).OK(t), "createGroup", "id")
	for _, a := range []accessActor{actCustomerA, actCustomerB} {
		f.token[a], f.user[a] = harness.Signup(t, s, f.email[a], f.name[a])
	}
	f.sla = harness.Str(s.Do(t, f.token[actAdmin], `mutation { createSLAPolicy(input: {priority: NORMAL, firstResponseMinutes: 60, resolutionMinutes: 480}) { id } }`, nil).OK(t), "createSLAPolicy", "id")
	f.ticket = harness.Str(s.Do(t, f.token[actAdmin], `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`,
		map[string]any{"input": map[string]any{"subject": "Printer on fire", "body": "It is burning", "requesterID": f.user[actCustomerA], "groupID": f.group}}).OK(t), "createTicket", "id")
	// The reply and the note each carry a file of the agent's.
	const withFile = `mutation($id: ID!, $body: String!, $internal: Boolean, $files: [ID!]) { addMessage(ticketID: $id, body: $body, internal: $internal, attachmentIDs: $files) { id } }`
	f.replyFile, _ = s.Uploaded(t, f.token[actAgentIn], accessReplyFile.Name, accessReplyFile.Content)
	f.noteFile, _ = s.Uploaded(t, f.token[actAgentIn], accessNoteFile(f).Name, accessNoteFile(f).Content)
	f.reply = harness.Str(s.Do(t, f.token[actAgentIn], withFile, map[string]any{"id": f.ticket, "body": "We are on it", "files": []string{f.replyFile}}).OK(t), "addMessage", "id")
	f.note = harness.Str(s.Do(t, f.token[actAgentIn], withFile, map[string]any{"id": f.ticket, "body": f.noteBody, "internal": true, "files": []string{f.noteFile}}).OK(t), "addMessage", "id")
	s.Do(t, f.token[actAdmin], `mutation($id: ID!, $p: String) { updateUser(id: $id, input: {phone: $p}) { id } }`, map[string]any{"id": f.user[actCustomerA], "p": f.phoneA}).OK(t)
	f.token[actReadToken], f.roToken = f.newReadToken(t)
	if ids := f.sessionIDs(t, f.token[actCustomerA]); len(ids) == 1 {
		f.sessionA = ids[0]
	} else {
		t.Fatalf("customer A has sessions %v", ids)
	}
	due := s.Do(t, f.token[actAdmin], `query($id: ID!) { node(id: $id) { ... on Ticket { firstResponseDueAt resolutionDueAt } } }`, map[string]any{"id": f.ticket}).OK(t)
	if harness.Str(due, "node", "firstResponseDueAt") == "" || harness.Str(due, "node", "resolutionDueAt") == "" {
		t.Fatalf("T has no SLA due times: %v", due)
	}
	return f
}

func runAccessCell(t *testing.T, f *accessFixture, r accessRow, a accessActor) {
	c := &accessCell{t: t, f: f, a: a, want: r.want[a], token: f.token[a], state: map[string]any{}}
	if r.fresh {
		c.token = f.freshToken(t, a)
	}
	var vars map[string]any
	if r.vars != nil {
		vars = r.vars(c)
	}
	res := f.run(t, r, c.token, vars)
	err := verifyAccessCell(c, r, res, vars)
	if err == nil {
		err = noLeaks(c, res)
	}
	switch note := r.bugs[a]; {
	case err != nil && note != "":
		t.Skipf("BUG: %s\n(want %s; %v)", note, c.want, err)
	case err != nil:
		t.Fatalf("want %s: %v", c.want, err)
	case note != "":
		t.Fatalf("marked as a BUG but now behaves as the table says (%s): remove the note", c.want)
	}
}

func verifyAccessCell(c *accessCell, r accessRow, res harness.Response, vars map[string]any) error {
	switch c.want {
	case outAllow, outHidden:
		if len(res.Errors) > 0 || res.Status != http.StatusOK {
			return fmt.Errorf("status %d, errors %s", res.Status, jsonOf(res.Errors))
		}
		if r.check == nil {
			return nil
		}
		return r.check(c, res.Data)
	}
	if len(res.Errors) == 0 {
		return fmt.Errorf("no error; data %s", jsonOf(res.Data))
	}
	var codes []string
	for _, e := range res.Errors {
		code, _ := e.Extensions["code"].(string)
		codes = append(codes, code)
	}
	for _, code := range codes {
		if code != c.want {
			return fmt.Errorf("codes %v: %s", codes, jsonOf(res.Errors))
		}
	}
	switch {
	case c.want == outForbid && r.field != nil:
		if len(res.Errors) != 1 || fmt.Sprint(res.Errors[0].Path) != fmt.Sprint(r.field) {
			return fmt.Errorf("want one FORBIDDEN at %v, got %s", r.field, jsonOf(res.Errors))
		}
		if harness.Path(res.Data, r.field...) != nil {
			return fmt.Errorf("denied field reads %v", harness.Path(res.Data, r.field...))
		}
		return r.check(c, res.Data)
	case c.want == outInput:
		for _, e := range res.Errors {
			if r.input != "" && e.Extensions["field"] != r.input {
				return fmt.Errorf("want BAD_USER_INPUT about %s, got %s", r.input, jsonOf(res.Errors))
			}
		}
		if r.check != nil {
			return r.check(c, res.Data)
		}
	case c.want == outNF && r.target != "":
		// Same request about objects that do not exist: same answer.
		missing := map[string]any{}
		for k, v := range vars {
			missing[k] = v
		}
		missing[r.target] = withMissingIDs(vars[r.target])
		other := c.f.run(c.t, r, c.token, missing)
		a, b := accessSignature(res), accessSignature(other)
		if a != b {
			return fmt.Errorf("a hidden object reads differently from a missing one:\n%s\n%s", a, b)
		}
	}
	return nil
}

// withMissingIDs replaces every global ID in v with a new one of the same type.
func withMissingIDs(v any) any {
	switch v := v.(type) {
	case string:
		if id := globalid.ID(v); id.Validate() == nil {
			return string(globalid.New(id.Prefix()))
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = withMissingIDs(x)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = withMissingIDs(x)
		}
		return out
	}
	return v
}

// accessSignature is what a client can tell from a response.
func accessSignature(r harness.Response) string {
	type e struct {
		Message, Path string
		Extensions    map[string]any
	}
	var errs []e
	for _, x := range r.Errors {
		errs = append(errs, e{x.Message, fmt.Sprint(x.Path), x.Extensions})
	}
	return fmt.Sprintf("status %d data %s errors %s", r.Status, jsonOf(r.Data), jsonOf(errs))
}

// noLeaks: no response holds a password hash; customers never see the
// internal note or its file; customer B never sees customer A's contact data.
func noLeaks(c *accessCell, res harness.Response) error {
	raw := jsonOf(res.Data) + jsonOf(res.Errors)
	if strings.Contains(raw, "$argon2") {
		return fmt.Errorf("leak: a password hash in %s", raw)
	}
	if (c.a == actCustomerA || c.a == actCustomerB) && (strings.Contains(raw, c.f.noteBody) || strings.Contains(raw, c.f.noteFile)) {
		return fmt.Errorf("leak: the internal note or its file in %s", raw)
	}
	if c.a == actCustomerB && (strings.Contains(raw, c.f.email[actCustomerA]) || strings.Contains(raw, c.f.phoneA)) {
		return fmt.Errorf("leak: customer A's contact data in %s", raw)
	}
	return nil
}
