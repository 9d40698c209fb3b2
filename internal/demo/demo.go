// Package demo fills an empty database with a small, believable helpdesk —
// groups, SLA policies, staff, customers and a few hundred tickets with
// conversations — so that a newcomer sees data at once. Everything is made
// through the same services and rules as real traffic.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
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

	for _, p := range ticketing.DefaultSLATargets {
		if err := client.SLAPolicy.Create().SetPriority(p.Priority).SetFirstResponseMinutes(p.FirstResponseMinutes).SetResolutionMinutes(p.ResolutionMinutes).Exec(sys); err != nil {
			return nil, fmt.Errorf("creating SLA policy: %w", err)
		}
	}
	groups, err := seedTeam(sys, client)
	if err != nil {
		return nil, err
	}

	var logins []Login
	newUser := func(email, name string, role user.Role) (*ent.User, error) {
		u, err := accounts.CreateUser(sys, auth.NewUser{Email: email, Name: name, Password: Password, Role: role})
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
			if err := client.Group.UpdateOne(g).AddMemberIDs(u.ID).Exec(sys); err != nil {
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

	for i := 0; i < opts.Tickets; i++ {
		c := customers[rng.IntN(len(customers))]
		topic := topics[rng.IntN(len(topics))]
		t, err := tickets.Create(viewer.NewContext(ctx, c), ticketing.NewTicket{
			Subject: topic.subject, Body: topic.body, Channel: []ticket.Channel{ticket.ChannelWEB, ticket.ChannelEMAIL, ticket.ChannelAPI}[rng.IntN(3)],
		})
		if err != nil {
			return nil, fmt.Errorf("creating demo ticket: %w", err)
		}
		// The routing rules placed it (seedTeam); triage sets a priority
		// and, in a group that does not assign by itself, an agent takes
		// most tickets.
		p := priority.All()[rng.IntN(4)]
		triage := ent.UpdateTicketInput{Priority: &p}
		agent := agentFor(agents, *t.GroupID, rng)
		if t.AssigneeID == nil && rng.IntN(3) > 0 {
			triage.AssigneeID = &agent.UserID
		}
		if t, err = tickets.Update(sys, t.ID, triage); err != nil {
			return nil, err
		}
		if t.AssigneeID != nil {
			agent = agentByID(agents, *t.AssigneeID)
		}
		if err := converse(ctx, rng, tickets, t.ID, c, agent); err != nil {
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

// converse plays out a conversation of 0-5 more messages and a final status.
func converse(ctx context.Context, rng *rand.Rand, tickets *ticketing.Service, id globalid.ID, customer, agent *viewer.Viewer) error {
	turns := rng.IntN(6)
	for i := 0; i < turns; i++ {
		var err error
		switch {
		case i%2 == 0 && rng.IntN(4) == 0:
			_, err = tickets.Reply(viewer.NewContext(ctx, agent), id, notes[rng.IntN(len(notes))], true)
		case i%2 == 0:
			_, err = tickets.Reply(viewer.NewContext(ctx, agent), id, agentReplies[rng.IntN(len(agentReplies))], false)
		default:
			_, err = tickets.Reply(viewer.NewContext(ctx, customer), id, customerReplies[rng.IntN(len(customerReplies))], false)
		}
		if err != nil {
			return fmt.Errorf("adding demo message: %w", err)
		}
	}
	if turns == 0 {
		return nil // still NEW: nobody has answered yet
	}
	final := []ticket.Status{ticket.StatusOPEN, ticket.StatusPENDING, ticket.StatusSOLVED, ticket.StatusCLOSED}[rng.IntN(4)]
	agentCtx := viewer.NewContext(ctx, agent)
	return tickets.SetStatus(agentCtx, id, final)
}
