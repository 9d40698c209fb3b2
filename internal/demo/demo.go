// Package demo fills an empty database with a small, believable helpdesk —
// groups, SLA policies, staff, customers and a few hundred tickets with
// conversations, opened over the past four weeks (History) — so that a
// newcomer sees data at once: lists with a past, tickets resolved late,
// and on the wallboard a backlog that breached its SLA and tickets due
// within the hour. Everything is made through the same services and rules
// as real traffic; the history's times come from internal/clock, which
// the ent hooks and the ticketing service read instead of the wall clock.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/clock"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// Password is the password of every demo account.
const Password = "switchboard-demo-2026"

// Login is a demo account to print for the user.
type Login struct {
	Email string
	Role  user.Role
}

// Options say how much to make.
type Options struct {
	Customers int
	Tickets   int
}

// Defaults are what `seed --demo` makes.
var Defaults = Options{Customers: 20, Tickets: 300}

// ErrNotEmpty is returned when the database already has users.
var ErrNotEmpty = fmt.Errorf("the database already has users; demo data goes only into an empty database")

// Seed makes the demo data and returns the logins to show.
func Seed(ctx context.Context, client *ent.Client, accounts *auth.Service, tickets *ticketing.Service, opts Options) ([]Login, error) {
	sys := viewer.SystemContext(ctx)
	if n, err := client.User.Query().Count(sys); err != nil {
		return nil, err
	} else if n > 0 {
		return nil, ErrNotEmpty
	}
	rng := rand.New(rand.NewPCG(1, 2)) // #nosec G404 -- demo data, the same every time; nothing secret
	// The helpdesk was set up the day before its history begins.
	setup := clock.At(sys, time.Now().Add(-History-24*time.Hour))

	for _, p := range ticketing.DefaultSLATargets {
		if err := client.SLAPolicy.Create().SetPriority(p.Priority).SetFirstResponseMinutes(p.FirstResponseMinutes).SetResolutionMinutes(p.ResolutionMinutes).Exec(setup); err != nil {
			return nil, fmt.Errorf("creating SLA policy: %w", err)
		}
	}
	groups, err := seedTeam(setup, client)
	if err != nil {
		return nil, err
	}

	var logins []Login
	newUser := func(email, name string, role user.Role) (*ent.User, error) {
		u, err := accounts.CreateUser(setup, auth.NewUser{Email: email, Name: name, Password: Password, Role: role})
		if err != nil {
			return nil, fmt.Errorf("creating demo user: %w", err)
		}
		if role != user.RoleCUSTOMER || email == "customer1@demo.example.com" {
			logins = append(logins, Login{Email: u.Email, Role: role})
		}
		return u, nil
	}
	if _, err := newUser("admin@demo.example.com", "Ada Admin", user.RoleADMIN); err != nil {
		return nil, err
	}
	agentNames := []string{"Alice Agent", "Bob Agent", "Carol Agent", "Dan Agent"}
	agents := make([]*viewer.Viewer, len(agentNames))
	for i, name := range agentNames {
		u, err := newUser(fmt.Sprintf("agent%d@demo.example.com", i+1), name, user.RoleAGENT)
		if err != nil {
			return nil, err
		}
		// Agents 1-3 each own one group; agent 4 covers Billing and Sales.
		member := []*ent.Group{groups[i%len(groups)]}
		if i == 3 {
			member = []*ent.Group{groups[0], groups[2]}
		}
		v := &viewer.Viewer{UserID: u.ID, Role: viewer.Agent}
		for _, g := range member {
			if err := client.Group.UpdateOne(g).AddMemberIDs(u.ID).Exec(setup); err != nil {
				return nil, err
			}
			v.GroupIDs = append(v.GroupIDs, g.ID)
		}
		agents[i] = v
	}
	customers := make([]*viewer.Viewer, opts.Customers)
	for i := range customers {
		u, err := newUser(fmt.Sprintf("customer%d@demo.example.com", i+1), fmt.Sprintf("%s %s", firstNames[i%len(firstNames)], lastNames[(i/len(firstNames)+i)%len(lastNames)]), user.RoleCUSTOMER)
		if err != nil {
			return nil, err
		}
		customers[i] = &viewer.Viewer{UserID: u.ID, Role: viewer.Customer}
	}

	for _, pl := range planHistory(rng, opts.Tickets) {
		c := customers[rng.IntN(len(customers))]
		topic := topics[rng.IntN(len(topics))]
		// Counted back from the moment the ticket is written, so that its
		// due times fall as planned however long the seeding takes.
		opened := time.Now().Add(-pl.age)
		t, err := tickets.Create(viewer.NewContext(clock.At(ctx, opened), c), ticketing.NewTicket{
			Subject: topic.subject, Body: topic.body, Channel: []ticket.Channel{ticket.ChannelWEB, ticket.ChannelEMAIL, ticket.ChannelAPI}[rng.IntN(3)],
		})
		if err != nil {
			return nil, fmt.Errorf("creating demo ticket: %w", err)
		}
		// The routing rules placed it (seedTeam); triage, a few minutes
		// later and before any answer, sets the planned priority (the
		// SLA's due times count from the opening) and, in a group that
		// does not assign by itself, an agent takes most tickets.
		triaged := min(between(rng, time.Minute, 15*time.Minute), pl.age/4)
		if pl.fate != unanswered {
			triaged = min(triaged, pl.firstResponse/2)
		}
		triage := ent.UpdateTicketInput{Priority: &pl.priority}
		agent := agentFor(agents, *t.GroupID, rng)
		if t.AssigneeID == nil && rng.IntN(3) > 0 {
			triage.AssigneeID = &agent.UserID
		}
		if t, err = tickets.Update(clock.At(sys, opened.Add(triaged)), t.ID, triage); err != nil {
			return nil, err
		}
		if t.AssigneeID != nil {
			agent = agentByID(agents, *t.AssigneeID)
		}
		if err := converse(ctx, rng, tickets, t.ID, c, agent, opened, pl); err != nil {
			return nil, err
		}
	}
	return logins, nil
}

func agentByID(agents []*viewer.Viewer, id globalid.ID) *viewer.Viewer {
	for _, a := range agents {
		if a.UserID == id {
			return a
		}
	}
	return agents[0]
}

func agentFor(agents []*viewer.Viewer, group globalid.ID, rng *rand.Rand) *viewer.Viewer {
	var in []*viewer.Viewer
	for _, a := range agents {
		if a.InGroup(group) {
			in = append(in, a)
		}
	}
	return in[rng.IntN(len(in))]
}

// converse plays out the conversation of pl from its first answer: the
// agent's public answer, then up to four more messages (agents' answers
// and notes, the customer's replies) spread until the ticket's last
// change, which gives it its final status: solved (and, for some, closed
// days later) or still open or pending. An unanswered ticket stays new.
func converse(ctx context.Context, rng *rand.Rand, tickets *ticketing.Service, id globalid.ID, customer, agent *viewer.Viewer, opened time.Time, pl plan) error {
	if pl.fate == unanswered {
		return nil
	}
	at := func(v *viewer.Viewer, d time.Duration) context.Context {
		return clock.At(viewer.NewContext(ctx, v), opened.Add(d))
	}
	last := pl.resolvedAfter
	if pl.fate == waiting {
		last = pl.firstResponse + time.Duration(float64(pl.age-pl.firstResponse)*(0.3+0.6*rng.Float64()))
	}
	last = max(last, pl.firstResponse+time.Minute)
	turns := 1 + rng.IntN(5)
	for i := range turns {
		when := pl.firstResponse + (last-pl.firstResponse)*time.Duration(i)/time.Duration(turns)
		var err error
		switch {
		case i == 0:
			_, err = tickets.Reply(at(agent, when), id, agentReplies[rng.IntN(len(agentReplies))], false)
		case i%2 == 0 && rng.IntN(4) == 0:
			_, err = tickets.Reply(at(agent, when), id, notes[rng.IntN(len(notes))], true)
		case i%2 == 0:
			_, err = tickets.Reply(at(agent, when), id, agentReplies[rng.IntN(len(agentReplies))], false)
		default:
			_, err = tickets.Reply(at(customer, when), id, customerReplies[rng.IntN(len(customerReplies))], false)
		}
		if err != nil {
			return fmt.Errorf("adding demo message: %w", err)
		}
	}
	if pl.fate == waiting {
		return tickets.SetStatus(at(agent, last), id, []ticket.Status{ticket.StatusOPEN, ticket.StatusPENDING}[rng.IntN(2)])
	}
	if err := tickets.SetStatus(at(agent, last), id, ticket.StatusSOLVED); err != nil {
		return err
	}
	// Two in five solved tickets are closed one to three days later, when
	// that day has come.
	if closed := last + between(rng, 24*time.Hour, 72*time.Hour); rng.IntN(5) < 2 && closed < pl.age {
		return tickets.SetStatus(at(agent, closed), id, ticket.StatusCLOSED)
	}
	return nil
}
