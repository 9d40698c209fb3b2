// Package seed generates a large, realistic helpdesk for load tests and
// benchmarks: customers, agents and admins, groups, SLA policies, tickets
// spread over a year with varied subjects, statuses, priorities, tags and
// assignees, and conversations with public replies and internal notes. It
// writes rows directly (COPY on PostgreSQL, multi-row INSERTs on SQLite) in
// one transaction, bypassing ent's hooks on purpose, and keeps by hand the
// invariants those hooks keep: ticket numbers come from the ticket number
// sequence (advanced in the same transaction), SLA due times follow the
// policies, confidential fields are encrypted, and the status fields agree
// with the conversation. Seeded history writes no events: the event log is
// for live updates, and nobody is subscribed to the past.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"

	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/confidential"
	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/progress"
	"github.com/switchboardhq/switchboard/internal/ticketing"
)

// Password is the password of every seeded account.
const Password = "switchboard-seed-2026"

// Options say how much to make.
type Options struct {
	// Tickets is the number of tickets.
	Tickets int
	// Messages is the total number of messages, at least one per ticket
	// (the customer's request); the rest are spread unevenly, so some
	// conversations are long.
	Messages int
	// Seed makes the content repeatable (IDs and e-mail domains still differ).
	Seed uint64
	// Progress receives the progress bar (nil: none).
	Progress io.Writer
	// Now is the end of the generated history (zero: the current time).
	Now time.Time
}

// Result says what was made.
type Result struct {
	Customers, Agents, Admins, Groups, Tickets, Messages int
	// Domain is the e-mail domain of this run's accounts.
	Domain string
	// Admin, Agent and Customer are sample logins (password: Password).
	Admin, Agent, Customer string
}

// Span is how far back the generated history goes.
const Span = 365 * 24 * time.Hour

// Validate checks that the numbers make a helpdesk.
func (o Options) Validate() error {
	if o.Tickets < 1 {
		return errors.New("--tickets must be at least 1")
	}
	if o.Messages < o.Tickets {
		return fmt.Errorf("--messages (%d) must be at least --tickets (%d): every ticket starts with the customer's message", o.Messages, o.Tickets)
	}
	return nil
}

// Run generates the helpdesk into db. Accounts get a fresh domain each run,
// so seeding twice adds to the data rather than colliding with it.
func Run(ctx context.Context, db *database.SQL, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().Round(0) // no monotonic reading in stored times
	}
	g := newGenerator(opts)
	hash, err := argon2id.CreateHash(Password, auth.DefaultParams)
	if err != nil {
		return nil, err
	}
	var bar *progress.Bar // nil: no progress report
	if opts.Progress != nil {
		bar = progress.New(opts.Progress, "seeding", int64(opts.Tickets+opts.Messages))
	}
	err = inTx(ctx, db, func(s store) error {
		if err := g.loadGroups(ctx, s); err != nil {
			return fmt.Errorf("groups: %w", err)
		}
		if err := g.loadPolicies(ctx, s); err != nil {
			return fmt.Errorf("SLA policies: %w", err)
		}
		if err := g.reserveNumbers(ctx, s); err != nil {
			return fmt.Errorf("ticket numbers: %w", err)
		}
		if err := g.writeUsers(ctx, s, db.Keyring, hash); err != nil {
			return fmt.Errorf("users: %w", err)
		}
		if err := g.writeTickets(ctx, s, bar); err != nil {
			return fmt.Errorf("tickets: %w", err)
		}
		if err := g.writeMessages(ctx, s, bar); err != nil {
			return fmt.Errorf("messages: %w", err)
		}
		return nil
	})
	bar.Finish()
	if err != nil {
		return nil, err
	}
	return &Result{
		Customers: len(g.customers), Agents: len(g.agents), Admins: len(g.admins), Groups: len(g.groups),
		Tickets: opts.Tickets, Messages: opts.Messages, Domain: g.domain,
		Admin: g.admins[0].email, Agent: g.agents[0].email, Customer: g.customers[0].email,
	}, nil
}

type person struct {
	id    globalid.ID
	email string
	first string
	group int // agents: their group
}

type policy struct{ response, resolution time.Duration }

// ticketPlan is what pass one decides about a ticket and pass two needs.
type ticketPlan struct {
	id        globalid.ID
	created   time.Time
	requester int32
	assignee  int32 // -1: unassigned
	topic     int16
	messages  int32
}

type generator struct {
	opts      Options
	rng       *rand.Rand
	domain    string
	groups    []globalid.ID // by groupNames index
	policies  map[priority.Priority]policy
	firstNum  int
	customers []person
	agents    []person
	admins    []person
	byGroup   [][]int32 // agents of each group
	tickets   []ticketPlan
}

func newGenerator(opts Options) *generator {
	g := &generator{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x5eed))} // #nosec G404 -- repeatable sample data, not secrets
	tag := strings.ToLower(string(globalid.New("")))
	g.domain = "seed-" + tag[len(tag)-6:] + ".example.com"
	return g
}

func (g *generator) loadGroups(ctx context.Context, s store) error {
	existing := map[string]globalid.ID{}
	err := s.query(ctx, `SELECT id, name FROM "groups"`, nil, func(scan func(...any) error) error {
		var id, name string
		if err := scan(&id, &name); err != nil {
			return err
		}
		existing[name] = globalid.ID(id)
		return nil
	})
	if err != nil {
		return err
	}
	start := g.opts.Now.Add(-Span - 30*24*time.Hour)
	for _, name := range groupNames {
		id, ok := existing[name]
		if !ok {
			id = globalid.NewAt(globalid.PrefixGroup, start)
			if err := s.exec(ctx, `INSERT INTO "groups" (id, created_at, updated_at, name, description) VALUES (?, ?, ?, ?, ?)`,
				id, start, start, name, name+" questions"); err != nil {
				return err
			}
		}
		g.groups = append(g.groups, id)
	}
	return nil
}

func (g *generator) loadPolicies(ctx context.Context, s store) error {
	g.policies = map[priority.Priority]policy{}
	err := s.query(ctx, `SELECT priority, first_response_minutes, resolution_minutes FROM sla_policies`, nil, func(scan func(...any) error) error {
		var p, r, res int64
		if err := scan(&p, &r, &res); err != nil {
			return err
		}
		g.policies[priority.Priority(p)] = policy{time.Duration(r) * time.Minute, time.Duration(res) * time.Minute}
		return nil
	})
	if err != nil || len(g.policies) > 0 {
		return err
	}
	// The database has none: the defaults, so that seeded tickets have due
	// times to report on.
	for _, d := range ticketing.DefaultSLATargets {
		p, m := d.Priority, [2]int{d.FirstResponseMinutes, d.ResolutionMinutes}
		now := g.opts.Now
		if err := s.exec(ctx, `INSERT INTO sla_policies (id, created_at, updated_at, priority, first_response_minutes, resolution_minutes) VALUES (?, ?, ?, ?, ?, ?)`,
			globalid.New(globalid.PrefixSLAPolicy), now, now, int(p), m[0], m[1]); err != nil {
			return err
		}
		g.policies[p] = policy{time.Duration(m[0]) * time.Minute, time.Duration(m[1]) * time.Minute}
	}
	return nil
}

// reserveNumbers advances the ticket number sequence by the number of
// tickets, in this transaction (so the row stays locked until the seed
// commits, and a failed seed gives the numbers back), and numbers the
// seeded tickets from the old value on.
func (g *generator) reserveNumbers(ctx context.Context, s store) error {
	last := -1
	err := s.query(ctx, `UPDATE sequences SET value = value + ? WHERE name = ? RETURNING value`,
		[]any{g.opts.Tickets, entschema.TicketNumberSequence}, func(scan func(...any) error) error { return scan(&last) })
	if err != nil {
		return err
	}
	if last < 0 {
		return errors.New("ticket number sequence missing: run the migrations")
	}
	g.firstNum = last - g.opts.Tickets + 1
	return nil
}

var asciiNames = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n", "Ł", "L")

func (g *generator) newPerson(prefix string, i int, created time.Time) person {
	first, last := firstNames[g.rng.IntN(len(firstNames))], lastNames[g.rng.IntN(len(lastNames))]
	local := fmt.Sprintf("%s%d", prefix, i+1)
	if prefix == "" {
		local = strings.ToLower(asciiNames.Replace(first+"."+last)) + strconv.Itoa(i+1)
	}
	return person{id: globalid.NewAt(globalid.PrefixUser, created), email: local + "@" + g.domain, first: first + " " + last}
}

func (g *generator) writeUsers(ctx context.Context, s store, keys *confidential.Keyring, hash string) error {
	n := g.opts.Tickets
	customers := min(max(n/5, 10), 200_000)
	agents := min(max(n/2000, 5), 200)
	start := g.opts.Now.Add(-Span)
	type row struct {
		p     person
		role  user.Role
		phone string
		at    time.Time
	}
	var rows []row
	for i := 0; i < 2; i++ {
		at := start.Add(-30 * 24 * time.Hour)
		p := g.newPerson("admin", i, at)
		g.admins = append(g.admins, p)
		rows = append(rows, row{p, user.RoleADMIN, "", at})
	}
	g.byGroup = make([][]int32, len(g.groups))
	for i := 0; i < agents; i++ {
		at := start.Add(-time.Duration(g.rng.IntN(30*24)) * time.Hour)
		p := g.newPerson("agent", i, at)
		p.group = i % len(g.groups)
		g.byGroup[p.group] = append(g.byGroup[p.group], int32(i))
		g.agents = append(g.agents, p)
		rows = append(rows, row{p, user.RoleAGENT, "", at})
	}
	for i := 0; i < customers; i++ {
		at := start.Add(-time.Duration(g.rng.IntN(365*24)) * time.Hour)
		p := g.newPerson("", i, at)
		g.customers = append(g.customers, p)
		phone := ""
		if g.rng.IntN(2) == 0 {
			phone = fmt.Sprintf("+%d %d %07d", 1+g.rng.IntN(98), 10+g.rng.IntN(89), g.rng.IntN(10_000_000))
		}
		rows = append(rows, row{p, user.RoleCUSTOMER, phone, at})
	}
	i := 0
	err := s.load(ctx, "users", []string{"id", "created_at", "updated_at", "email", "name", "role", "password_hash", "phone", "active"},
		func() ([]any, bool, error) {
			if i == len(rows) {
				return nil, false, nil
			}
			r := rows[i]
			i++
			var phone any // NULL, as ent leaves an unset optional field
			if r.phone != "" {
				// These rows bypass ent's driver, which would seal it.
				v, err := keys.Seal(user.ValueScanner.Phone, r.phone)
				if err != nil {
					return nil, false, err
				}
				phone = v
			}
			return []any{string(r.p.id), r.at, r.at, r.p.email, r.p.first, string(r.role), hash, phone, true}, true, nil
		})
	if err != nil {
		return err
	}
	i = 0
	return s.load(ctx, "group_members", []string{"group_id", "user_id"}, func() ([]any, bool, error) {
		if i == len(g.agents) {
			return nil, false, nil
		}
		a := g.agents[i]
		i++
		return []any{string(g.groups[a.group]), string(a.id)}, true, nil
	})
}

// messageCounts spreads the messages over the tickets: one each, then the
// rest half evenly and half over every tenth ticket, for long threads.
func (g *generator) messageCounts() []int32 {
	n := g.opts.Tickets
	counts := make([]int32, n)
	for i := range counts {
		counts[i] = 1
	}
	for extra := g.opts.Messages - n; extra > 0; extra-- {
		i := g.rng.IntN(n)
		if g.rng.IntN(2) == 0 {
			i = i / 10 * 10
		}
		counts[i]++
	}
	return counts
}

// thread is the shape of one conversation; pass one computes it for the
// ticket's fields and pass two again, from the same seed, for the messages.
type threadMessage struct {
	at       time.Time
	author   int32 // customers index, or agents index when staff
	staff    bool
	internal bool
}

func (g *generator) ticketRNG(i int) *rand.Rand {
	return rand.New(rand.NewPCG(g.opts.Seed, uint64(i)+1)) // #nosec G404 G115 -- repeatable sample data; i is a non-negative index
}

func (g *generator) thread(t *ticketPlan, rng *rand.Rand) []threadMessage {
	out := make([]threadMessage, 0, t.messages)
	at := t.created
	out = append(out, threadMessage{at: at, author: t.requester})
	room := g.opts.Now.Sub(t.created)
	mean := min(8*time.Hour, room/time.Duration(t.messages+1))
	lastStaff := false
	for k := int32(1); k < t.messages; k++ {
		at = at.Add(time.Duration(rng.ExpFloat64()*float64(mean)) + time.Minute)
		if at.After(g.opts.Now) {
			at = g.opts.Now
		}
		agent := t.assignee
		if agent < 0 {
			agent = int32(rng.IntN(len(g.agents))) // #nosec G115 -- at most 200 agents
		}
		switch {
		case rng.IntN(100) < 12:
			out = append(out, threadMessage{at: at, author: agent, staff: true, internal: true})
		case !lastStaff || rng.IntN(100) < 30:
			out = append(out, threadMessage{at: at, author: agent, staff: true})
			lastStaff = true
		default:
			out = append(out, threadMessage{at: at, author: t.requester})
			lastStaff = false
		}
	}
	return out
}

func (g *generator) writeTickets(ctx context.Context, s store, bar *progress.Bar) error {
	n := g.opts.Tickets
	counts := g.messageCounts()
	times := make([]time.Time, n)
	for i := range times {
		// Denser towards the present, as a growing helpdesk's are.
		f := math.Sqrt(g.rng.Float64())
		times[i] = g.opts.Now.Add(-Span + time.Duration(f*float64(Span)))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	g.tickets = make([]ticketPlan, n)
	for i := range g.tickets {
		t := &g.tickets[i]
		t.created = times[i]
		t.id = globalid.NewAt(globalid.PrefixTicket, t.created)
		t.requester = int32(g.rng.IntN(len(g.customers))) // #nosec G115 -- at most 200,000 customers
		t.topic = int16(g.rng.IntN(len(topics)))          // #nosec G115 -- a handful of topics
		t.messages = counts[i]
		t.assignee = -1
		if g.rng.IntN(100) < 85 {
			if in := g.byGroup[g.groupOf(int(t.topic))]; len(in) > 0 {
				t.assignee = in[g.rng.IntN(len(in))]
			} else {
				t.assignee = int32(g.rng.IntN(len(g.agents))) // #nosec G115 -- at most 200 agents
			}
		}
	}
	columns := []string{"id", "created_at", "updated_at", "number", "subject", "status", "priority", "channel", "tags",
		"first_response_due_at", "resolution_due_at", "first_responded_at", "solved_at", "group_id", "requester_id", "assignee_id"}
	i := 0
	return s.load(ctx, "tickets", columns, func() ([]any, bool, error) {
		if i == n {
			return nil, false, nil
		}
		row, err := g.ticketRow(i)
		i++
		bar.Add(1)
		return row, err == nil, err
	})
}

func (g *generator) groupOf(topic int) int { return slices.Index(groupNames, topics[topic].group) }

var priorities = []priority.Priority{priority.Low, priority.Normal, priority.Normal, priority.Normal, priority.Normal, priority.High, priority.High, priority.Urgent}

func (g *generator) ticketRow(i int) ([]any, error) {
	t := &g.tickets[i]
	rng := g.ticketRNG(i)
	th := g.thread(t, rng)
	tp := topics[t.topic]
	subject := fill(rng, tp.subjects[rng.IntN(len(tp.subjects))], nil)
	p := priorities[rng.IntN(len(priorities))]
	channel := [...]string{"WEB", "WEB", "WEB", "EMAIL", "EMAIL", "API"}[rng.IntN(6)]
	tags := []string{tp.tags[rng.IntN(len(tp.tags))]}
	if rng.IntN(3) == 0 {
		tags = append(tags, tp.tags[rng.IntN(len(tp.tags))])
	}
	if rng.IntN(5) == 0 {
		tags = append(tags, extraTags[rng.IntN(len(extraTags))])
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	tagsJSON, _ := json.Marshal(tags)

	var firstResponse any
	for _, m := range th {
		if m.staff && !m.internal {
			firstResponse = m.at
			break
		}
	}
	last := th[len(th)-1].at
	age := g.opts.Now.Sub(t.created)
	status := "NEW"
	if firstResponse != nil {
		r := rng.IntN(100)
		switch {
		case age > 30*24*time.Hour && r < 75:
			status = "CLOSED"
		case age > 30*24*time.Hour && r < 92:
			status = "SOLVED"
		case r < 40:
			status = "OPEN"
		case r < 65:
			status = "PENDING"
		case r < 90:
			status = "SOLVED"
		default:
			status = "CLOSED"
		}
	} else if t.assignee >= 0 && rng.IntN(2) == 0 {
		status = "OPEN"
	}
	var solved any
	if status == "SOLVED" || status == "CLOSED" {
		solved = last
	}
	var responseDue, resolutionDue any
	if pol, ok := g.policies[p]; ok {
		responseDue, resolutionDue = t.created.Add(pol.response), t.created.Add(pol.resolution)
	}
	var assignee any
	if t.assignee >= 0 {
		assignee = string(g.agents[t.assignee].id)
	}
	return []any{string(t.id), t.created, last, g.firstNum + i, subject, status, int64(p), channel, string(tagsJSON),
		responseDue, resolutionDue, firstResponse, solved, string(g.groups[g.groupOf(int(t.topic))]),
		string(g.customers[t.requester].id), assignee}, nil
}

func (g *generator) writeMessages(ctx context.Context, s store, bar *progress.Bar) error {
	ti := 0
	var th []threadMessage
	var rng *rand.Rand
	k := 0
	var body strings.Builder
	return s.load(ctx, "messages", []string{"id", "created_at", "updated_at", "body", "internal", "ticket_id", "author_id"},
		func() ([]any, bool, error) {
			for th == nil || k == len(th) {
				if ti == len(g.tickets) {
					return nil, false, nil
				}
				t := &g.tickets[ti]
				rng = g.ticketRNG(ti)
				th = g.thread(t, rng)
				// Pass one drew the subject and fields after the thread;
				// the bodies use a stream of their own.
				rng = rand.New(rand.NewPCG(g.opts.Seed^0xb0d1e5, uint64(ti))) // #nosec G404 G115 -- repeatable sample data; ti is a non-negative index
				ti++
				k = 0
			}
			t := &g.tickets[ti-1]
			m := th[k]
			k++
			body.Reset()
			g.writeBody(&body, rng, t, m, k == 1)
			author := g.customers[m.author].id
			if m.staff {
				author = g.agents[m.author].id
			}
			bar.Add(1)
			return []any{string(globalid.NewAt(globalid.PrefixMessage, m.at)), m.at, m.at, body.String(), m.internal,
				string(t.id), string(author)}, true, nil
		})
}

func (g *generator) writeBody(b *strings.Builder, rng *rand.Rand, t *ticketPlan, m threadMessage, first bool) {
	tp := topics[t.topic]
	vars := map[string]string{"group": tp.group}
	sentence := func(list []string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fill(rng, list[rng.IntN(len(list))], vars))
	}
	switch {
	case m.internal:
		sentence(internalNotes)
	case m.staff:
		name := g.customers[t.requester].first
		b.WriteString("Hi " + name[:strings.IndexByte(name, ' ')] + ",")
		sentence(agentReplies)
		if rng.IntN(3) == 0 {
			sentence(agentReplies)
		}
		b.WriteString("\n\n" + strings.Fields(g.agents[m.author].first)[0])
	case first:
		if o := openings[rng.IntN(len(openings))]; o != "" {
			b.WriteString(o)
		}
		for n := 2 + rng.IntN(3); n > 0; n-- {
			sentence(tp.sentences)
		}
		if c := closings[rng.IntN(len(closings))]; c != "" {
			sentence([]string{c})
		}
	default:
		sentence(customerFollowUps)
		if rng.IntN(2) == 0 {
			sentence(tp.sentences)
		}
	}
}

// fill replaces {name} placeholders with random fillers (or vars).
func fill(rng *rand.Rand, s string, vars map[string]string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:open])
		b.WriteString(filler(rng, s[open+1:open+end], vars))
		s = s[open+end+1:]
	}
}

func filler(rng *rand.Rand, name string, vars map[string]string) string {
	if v, ok := vars[name]; ok {
		return v
	}
	switch name {
	case "n":
		return strconv.Itoa(2 + rng.IntN(48))
	case "order":
		return fmt.Sprintf("%c%c-%06d", 'A'+rng.IntN(26), 'A'+rng.IntN(26), rng.IntN(1_000_000))
	case "invoice":
		return fmt.Sprintf("INV-%d-%05d", 2024+rng.IntN(3), rng.IntN(100_000))
	case "card":
		return fmt.Sprintf("%04d", rng.IntN(10_000))
	case "amount":
		return fmt.Sprintf("%d.%02d EUR", 10+rng.IntN(2000), rng.IntN(100))
	case "version":
		return fmt.Sprintf("%d.%d.%d", 1+rng.IntN(5), rng.IntN(20), rng.IntN(10))
	}
	if list := fillers[name]; len(list) > 0 {
		return list[rng.IntN(len(list))]
	}
	return name
}
