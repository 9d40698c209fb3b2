package live_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestLiveListsStayTrue is the differential test of live lists: many
// subscribers of different roles and filters each keep the list of
// tickets(where: X) from the events of ticketEvents(where: X) alone
// (VIEW_CHANGED excepted: it asks for a refetch), while random changes are
// made (status, priority, assignee, group, tags added and removed,
// subject, replies, internal notes, new tickets, group memberships). After every step each
// list must equal a fresh tickets(where: X) as that subscriber. On
// PostgreSQL with TEST_REDIS_URL it runs across two instances, the
// subscribers and the changes spread over both.
//
// LIVE_DIFF_SEED replays a run (its seed is logged); LIVE_DIFF_STEPS sets
// the number of steps (default 200).
func TestLiveListsStayTrue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		seed := time.Now().UnixNano()
		if s, err := strconv.ParseInt(os.Getenv("LIVE_DIFF_SEED"), 10, 64); err == nil {
			seed = s
		}
		steps := 200
		if n, err := strconv.Atoi(os.Getenv("LIVE_DIFF_STEPS")); err == nil {
			steps = n
		}
		t.Logf("seed %d, %d steps (LIVE_DIFF_SEED=%d replays this run)", seed, steps, seed)

		env := harness.LiveEnv(map[string]string{"SWITCHBOARD_WS_KEEPALIVE": "1h", "SWITCHBOARD_MAX_CONNECTIONS_PER_USER": "100"})
		harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", harness.DeskPassword)
		servers := []*harness.Server{harness.Start(t, tg, env)}
		if tg.Dialect == dbtest.Postgres {
			if u := os.Getenv("TEST_REDIS_URL"); u != "" {
				env["REDIS_URL"] = u
				servers = []*harness.Server{harness.Start(t, tg, env), harness.Start(t, tg, env)}
			} else {
				t.Log("TEST_REDIS_URL not set: one instance")
			}
		}
		w := newDiffWorld(t, servers, rand.New(rand.NewPCG(uint64(seed), 12)))
		w.subscribeAll(t)
		covered := func() bool {
			return w.count("TICKET_ENTERED") > 0 && w.count("TICKET_LEFT") > 0 && w.count("refetches") > 0 &&
				w.count("tags TICKET_ENTERED") > 0 && w.count("tags TICKET_LEFT") > 0
		}
		// A seed whose steps never move a ticket through a tag filter
		// (about one in a hundred) goes on until one has, up to 3x the
		// steps, rather than fail on coverage alone.
		ran := 0
		for ; ran < steps || !covered() && ran < 3*steps; ran++ {
			what := w.step(t)
			w.settle(t, ran, what)
		}
		steps = ran
		t.Logf("%d steps, %d events applied, %d refetches after VIEW_CHANGED, %d ENTERED, %d LEFT",
			steps, w.count("events"), w.count("refetches"), w.count("TICKET_ENTERED"), w.count("TICKET_LEFT"))
		if w.count("TICKET_ENTERED") == 0 || w.count("TICKET_LEFT") == 0 || w.count("refetches") == 0 {
			t.Fatal("the run never moved a ticket into or out of a view, or never changed a membership: it proves nothing")
		}
		if w.count("tags TICKET_ENTERED") == 0 || w.count("tags TICKET_LEFT") == 0 {
			t.Fatal("no ticket entered and left a tag-filtered view: the run proves nothing of tag filters")
		}
	})
}

// diffUser is someone making changes and subscribing.
type diffUser struct {
	name, id, token, role string
}

type diffWorld struct {
	servers   []*harness.Server
	rng       *rand.Rand
	admin     *diffUser
	agents    []*diffUser
	customers []*diffUser
	groups    []string
	members   map[string]map[string]bool // group → agent IDs
	tickets   []string
	marker    string
	subs      []*diffSub
	mu        sync.Mutex
	counts    map[string]int
}

func (w *diffWorld) server() *harness.Server { return w.servers[w.rng.IntN(len(w.servers))] }

func (w *diffWorld) count(k string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[k]
}

func (w *diffWorld) add(k string) {
	w.mu.Lock()
	w.counts[k]++
	w.mu.Unlock()
}

func newDiffWorld(t *testing.T, servers []*harness.Server, rng *rand.Rand) *diffWorld {
	s := servers[0]
	w := &diffWorld{servers: servers, rng: rng, members: map[string]map[string]bool{}, counts: map[string]int{}}
	adminToken := harness.Login(t, s, "admin@example.com", harness.DeskPassword)
	w.admin = &diffUser{name: "admin", token: adminToken, role: "ADMIN"}
	for i := range 3 {
		email := fmt.Sprintf("agent%d@example.com", i)
		r := s.Do(t, adminToken, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"email": email, "name": fmt.Sprint("Agent ", i), "role": "AGENT", "password": harness.DeskPassword}}).OK(t)
		w.agents = append(w.agents, &diffUser{name: fmt.Sprint("agent", i), id: harness.Str(r, "inviteUser", "id"), token: harness.Login(t, s, email, harness.DeskPassword), role: "AGENT"})
	}
	for i := range 3 {
		token, id := harness.Signup(t, s, fmt.Sprintf("customer%d@example.com", i), fmt.Sprint("Customer ", i))
		w.customers = append(w.customers, &diffUser{name: fmt.Sprint("customer", i), id: id, token: token, role: "CUSTOMER"})
	}
	// agent0 in Billing, agent1 in Support, agent2 in both.
	for i, name := range []string{"Billing", "Support"} {
		m := []string{w.agents[i].id, w.agents[2].id}
		r := s.Do(t, adminToken, `mutation($name: String!, $m: [ID!]) { createGroup(input: {name: $name, memberIDs: $m}) { id } }`,
			map[string]any{"name": name, "m": m}).OK(t)
		g := harness.Str(r, "createGroup", "id")
		w.groups = append(w.groups, g)
		w.members[g] = map[string]bool{m[0]: true, m[1]: true}
	}
	// The marker ticket belongs to a customer nobody subscribes as, in no
	// group: each step ends by renaming it, which only admins see.
	r := s.Do(t, adminToken, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "marker", "body": "x", "requesterID": w.customers[2].id}}).OK(t)
	w.marker = harness.Str(r, "createTicket", "id")
	return w
}

// filters are the where inputs subscribers use (besides none), by role.
func (w *diffWorld) filters(u *diffUser) []map[string]any {
	common := []map[string]any{
		nil,
		{"status": "OPEN"},
		{"subjectContains": "printer"},
		{"not": map[string]any{"statusIn": []string{"SOLVED", "CLOSED"}}},
		{"hasTag": "vip"},
		{"not": map[string]any{"hasAnyTag": []string{"bug", "billing"}}},
	}
	if u.role == "CUSTOMER" {
		return common
	}
	return append(common,
		map[string]any{"priorityGTE": "HIGH"},
		map[string]any{"groupID": w.groups[0]},
		map[string]any{"assigneeIDIsNil": true},
		map[string]any{"or": []any{map[string]any{"status": "NEW"}, map[string]any{"priority": "URGENT"}}},
		map[string]any{"hasAllTags": []string{"vip", "bug"}},
		map[string]any{"or": []any{map[string]any{"hasTag": "billing"}, map[string]any{"status": "NEW"}}, "hasAllTags": []string{}},
	)
}

func (w *diffWorld) subscribeAll(t *testing.T) {
	users := append(append([]*diffUser{w.admin}, w.agents...), w.customers[:2]...)
	n := 0
	for _, u := range users {
		for _, f := range w.filters(u) {
			sub := newDiffSub(t, w, u, w.servers[n%len(w.servers)], f, "")
			w.subs = append(w.subs, sub)
			n++
		}
	}
	// The groupID: argument follows the same rules.
	for _, u := range []*diffUser{w.admin, w.agents[0], w.agents[2]} {
		w.subs = append(w.subs, newDiffSub(t, w, u, w.servers[n%len(w.servers)], nil, w.groups[0]))
		n++
	}
	// One unfiltered admin subscriber per instance tells when a step's
	// events have been dispatched there.
	for _, s := range w.servers {
		w.subs = append(w.subs, newDiffSub(t, w, w.admin, s, nil, ""))
	}
}

// step makes one random change, as someone allowed to or not (refusals
// are part of the game, but must be refusals).
func (w *diffWorld) step(t *testing.T) string {
	t.Helper()
	r := w.rng
	staff := append([]*diffUser{w.admin}, w.agents...)
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	anyTicket := func() string {
		if len(w.tickets) == 0 {
			return w.marker
		}
		return pick(w.tickets)
	}
	subjects := []string{"Printer on fire", "printer jammed", "Refund", "Login broken", "PRINTER again"}
	var who *diffUser
	var query string
	var vars map[string]any
	var tagQuery string
	switch k := r.IntN(100); {
	case (k < 14 || len(w.tickets) < 3) && len(w.tickets) < 90: // a fresh query pages 100 at most
		in := map[string]any{"subject": pick(subjects), "body": "help"}
		who = w.customers[r.IntN(2)]
		if r.IntN(2) == 0 {
			who = w.admin
			in["requesterID"] = w.customers[r.IntN(2)].id
			if r.IntN(3) > 0 {
				in["groupID"] = pick(w.groups)
			}
			if r.IntN(3) == 0 {
				in["priority"] = pick([]string{"LOW", "HIGH", "URGENT"})
			}
		}
		query, vars = harness.CreateTicketMutation, map[string]any{"input": in}
	case k < 70:
		who = staff[r.IntN(len(staff))]
		in := map[string]any{}
		switch r.IntN(7) {
		case 0:
			in["status"] = pick([]string{"NEW", "OPEN", "PENDING", "SOLVED", "OPEN", "CLOSED"})
		case 1:
			in["priority"] = pick([]string{"LOW", "NORMAL", "HIGH", "URGENT"})
		case 2:
			if r.IntN(4) == 0 {
				in["clearAssignee"] = true
			} else {
				in["assigneeID"] = staff[1+r.IntN(len(w.agents))].id
			}
		case 3:
			if r.IntN(4) == 0 {
				in["clearGroup"] = true
			} else {
				in["groupID"] = pick(w.groups)
			}
		case 4:
			tags := []string{pick([]string{"vip", "bug", "billing"})}
			switch r.IntN(3) {
			case 0:
				in["appendTags"] = tags
			case 1:
				tagQuery, in = liveAddTags, map[string]any{"t": anyTicket(), "tags": tags}
			case 2:
				tagQuery, in = liveRemoveTags, map[string]any{"t": anyTicket(), "tags": tags}
			}
		case 5:
			in["subject"] = pick(subjects)
		case 6:
			in["status"] = "SOLVED"
			in["priority"] = pick([]string{"LOW", "URGENT"})
		}
		query, vars = harness.UpdateTicketMutation, map[string]any{"id": anyTicket(), "in": in}
		if tagQuery != "" {
			query, vars = tagQuery, in
		}
	case k < 80:
		who = w.customers[r.IntN(2)]
		if r.IntN(2) == 0 {
			query, vars = harness.AddMessageMutation, map[string]any{"id": anyTicket(), "body": "any news?", "internal": false}
		} else {
			query, vars = harness.UpdateTicketMutation, map[string]any{"id": anyTicket(), "in": map[string]any{"status": pick([]string{"SOLVED", "OPEN"})}}
		}
	case k < 92:
		who = staff[r.IntN(len(staff))]
		query, vars = harness.AddMessageMutation, map[string]any{"id": anyTicket(), "body": "looking", "internal": r.IntN(2) == 0}
	default:
		who = w.admin
		g := pick(w.groups)
		a := w.agents[r.IntN(len(w.agents))].id
		key := "addMemberIDs"
		if w.members[g][a] {
			key = "removeMemberIDs"
		}
		query, vars = liveUpdateGrp, map[string]any{"id": g, "in": map[string]any{key: []string{a}}}
	}
	res := w.server().Do(t, who.token, query, vars)
	what := fmt.Sprintf("%s: %s %v", who.name, strings.Fields(query)[1], vars)
	if len(res.Errors) > 0 {
		switch code := res.Code(t); code {
		case "NOT_FOUND", "FORBIDDEN", "CONFLICT":
			return what + " → " + code
		default:
			t.Fatalf("%s: %s %+v", what, code, res.Errors)
		}
	}
	if res.Status != 200 {
		t.Fatalf("%s: HTTP %d", what, res.Status)
	}
	if id := harness.Str(res.Data, "createTicket", "id"); id != "" {
		w.tickets = append(w.tickets, id)
	}
	if g, ok := vars["id"].(string); ok && w.members[g] != nil {
		in := vars["in"].(map[string]any)
		for _, a := range anyList(in["addMemberIDs"]) {
			w.members[g][a] = true
		}
		for _, a := range anyList(in["removeMemberIDs"]) {
			delete(w.members[g], a)
		}
	}
	return what
}

const (
	liveAddTags    = `mutation($t: ID!, $tags: [String!]!) { addTags(ticketID: $t, tags: $tags) { id } }`
	liveRemoveTags = `mutation($t: ID!, $tags: [String!]!) { removeTags(ticketID: $t, tags: $tags) { id } }`
)

func anyList(v any) []string {
	l, _ := v.([]string)
	return l
}

// settle waits until the step's events have been dispatched on every
// instance (the marker rename reaches its admin subscribers), then checks
// every list against a fresh query, allowing the events in flight to
// arrive.
func (w *diffWorld) settle(t *testing.T, step int, what string) {
	t.Helper()
	subject := fmt.Sprintf("marker %d", step)
	w.servers[0].Do(t, w.admin.token, harness.UpdateTicketMutation, map[string]any{"id": w.marker, "in": map[string]any{"subject": subject}}).OK(t)
	for _, s := range w.subs[len(w.subs)-len(w.servers):] {
		s.waitFor(t, w.marker, subject)
	}
	for _, s := range w.subs {
		deadline := time.Now().Add(harness.LiveWait)
		for {
			want := s.fetch(t)
			got := s.snapshot()
			if diff := diffLists(got, want); diff == "" {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("step %d (%s): the live list of %s differs from a fresh query:\n%s", step, what, s.name, diff)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func diffLists(got, want map[string]string) string {
	var out []string
	for id, v := range want {
		if g, ok := got[id]; !ok {
			out = append(out, fmt.Sprintf("  missing %s %s", id, v))
		} else if g != v {
			out = append(out, fmt.Sprintf("  stale   %s %s, fresh %s", id, g, v))
		}
	}
	for id, v := range got {
		if _, ok := want[id]; !ok {
			out = append(out, fmt.Sprintf("  extra   %s %s", id, v))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

const diffTicketFields = `id subject status priority tags group { id } assignee { id }`

// diffSub is one subscriber keeping its list from its events.
type diffSub struct {
	w       *diffWorld
	name    string
	user    *diffUser
	server  *harness.Server
	where   map[string]any
	groupID string
	tagged  bool // where has a tag filter
	st      *harness.Stream

	mu   sync.Mutex
	list map[string]string
	err  string
	cond *sync.Cond
}

func newDiffSub(t *testing.T, w *diffWorld, u *diffUser, s *harness.Server, where map[string]any, groupID string) *diffSub {
	t.Helper()
	d := &diffSub{w: w, user: u, server: s, where: where, groupID: groupID, list: map[string]string{}}
	d.cond = sync.NewCond(&d.mu)
	js, _ := json.Marshal(where)
	d.tagged = strings.Contains(string(js), "Tag")
	d.name = fmt.Sprintf("%s where %v", u.name, where)
	if groupID != "" {
		d.name = fmt.Sprintf("%s groupID %s", u.name, groupID)
	}
	d.st = harness.ConnectStream(t, s, "graphql-transport-ws", u.token)
	d.st.Sub(t, "1", `subscription($where: TicketWhereInput, $groupID: ID) {
		ticketEvents(where: $where, groupID: $groupID) { cursor type ticketID ticket { `+diffTicketFields+` } } }`,
		map[string]any{"where": where, "groupID": nilIfEmpty(groupID)})
	d.st.Sync(t)
	d.list = d.fetch(t) // empty at the start, but a refetch is one too
	go d.apply()
	return d
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// fetch is the fresh query the list must equal.
func (d *diffSub) fetch(t *testing.T) map[string]string {
	t.Helper()
	out, err := d.query()
	if err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	return out
}

// fetchNoT is fetch for the applying goroutine, which has no test to fail.
func (d *diffSub) fetchNoT() map[string]string {
	out, err := d.query()
	if err != nil {
		d.mu.Lock()
		d.err = err.Error()
		d.mu.Unlock()
	}
	return out
}

func (d *diffSub) query() (map[string]string, error) {
	where := d.where
	if d.groupID != "" {
		where = map[string]any{"groupID": d.groupID}
	}
	body, _ := json.Marshal(map[string]any{"query": `query($where: TicketWhereInput) { tickets(where: $where, first: 100) { edges { node { ` + diffTicketFields + ` } } } }`,
		"variables": map[string]any{"where": where}})
	req, _ := http.NewRequest(http.MethodPost, d.server.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.user.token)
	resp, err := liveHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var res harness.Response
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || len(res.Errors) > 0 || resp.StatusCode != 200 {
		return nil, fmt.Errorf("fetch: %d %v %+v", resp.StatusCode, err, res.Errors)
	}
	out := map[string]string{}
	for _, e := range harness.Path(res.Data, "tickets", "edges").([]any) {
		n := harness.Path(e, "node").(map[string]any)
		out[harness.Str(n, "id")] = diffCanon(n)
	}
	return out, nil
}

func diffCanon(n map[string]any) string {
	var tags []string
	for _, x := range n["tags"].([]any) {
		tags = append(tags, fmt.Sprint(x))
	}
	return fmt.Sprintf("%s|%s|%s|%v|%s|%s", harness.Str(n, "subject"), harness.Str(n, "status"), harness.Str(n, "priority"), tags, harness.Str(n, "group", "id"), harness.Str(n, "assignee", "id"))
}

func (d *diffSub) snapshot() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != "" {
		return map[string]string{"!": d.err}
	}
	return maps(d.list)
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// apply reads the subscription's events and applies them to the list.
func (d *diffSub) apply() {
	for {
		m, ok, closed := d.st.Recv(time.Hour)
		if closed || !ok {
			return
		}
		if harness.KeepAlive(m) {
			continue
		}
		d.mu.Lock()
		if m.ID != "1" || m.Type != "next" {
			d.err = fmt.Sprintf("unexpected %s %s %s", m.ID, m.Type, m.Payload)
			d.cond.Broadcast()
			d.mu.Unlock()
			continue
		}
		d.mu.Unlock()
		var res harness.Response
		_ = json.Unmarshal(m.Payload, &res)
		errs := res.Errors
		ev, _ := harness.Path(res.Data, "ticketEvents").(map[string]any)
		d.mu.Lock()
		switch {
		case len(errs) > 0 || ev == nil:
			d.err = fmt.Sprintf("event with errors: %s", m.Payload)
		case harness.Str(ev, "type") == "TICKET_LEFT":
			delete(d.list, harness.Str(ev, "ticketID"))
		case harness.Str(ev, "type") == "VIEW_CHANGED":
			d.mu.Unlock()
			fresh := d.fetchNoT()
			d.w.add("refetches")
			d.mu.Lock()
			d.list = fresh
		default:
			if tk, ok := ev["ticket"].(map[string]any); ok {
				d.list[harness.Str(tk, "id")] = diffCanon(tk)
			} else {
				d.err = fmt.Sprintf("%s without its ticket", harness.Str(ev, "type"))
			}
		}
		d.cond.Broadcast()
		d.mu.Unlock()
		d.w.add("events")
		d.w.add(harness.Str(ev, "type"))
		if d.tagged {
			d.w.add("tags " + harness.Str(ev, "type"))
		}
	}
}

// waitFor waits until the list shows ticket id with subject.
func (d *diffSub) waitFor(t *testing.T, id, subject string) {
	t.Helper()
	deadline := time.Now().Add(harness.LiveWait)
	timer := time.AfterFunc(harness.LiveWait, func() { d.mu.Lock(); d.cond.Broadcast(); d.mu.Unlock() })
	defer timer.Stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	for !strings.HasPrefix(d.list[id], subject+"|") {
		if d.err != "" {
			t.Fatalf("%s: %s", d.name, d.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the marker %q did not arrive within %s", d.name, subject, harness.LiveWait)
		}
		d.cond.Wait()
	}
}
