package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"entgo.io/ent/dialect/sql"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/seed"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// The list fields that load rows of their own for each element.
const (
	followersPage = `query($first: Int!) { tickets(first: $first, orderBy: [{field: CREATED_AT, direction: DESC}]) {
	edges { node { id followers { id name } } }
} }`
	// Each ticket's latest messages, as a ticket list shows them.
	latestMentionsPage = `query($first: Int!) { tickets(first: $first, orderBy: [{field: CREATED_AT, direction: DESC}]) {
	edges { node { id messages(last: 3) { edges { node { id mentions { id name } } } } } }
} }`
	// Tickets by ID.
	followersByID = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Ticket { id followers { id name } } } }`
	// One ticket's messages.
	mentionsPage = `query($id: ID!, $first: Int!) { node(id: $id) { ... on Ticket {
	messages(first: $first) { edges { node { id mentions { id name } } } }
} } }`
)

// listPage is what the pages above answer: tickets or messages, each with
// followers or mentions.
type listPage struct {
	Tickets struct {
		Edges []struct {
			Node struct {
				ID        globalid.ID
				Followers *[]struct{ ID globalid.ID }
				Messages  messageEdges
			}
		}
	}
	Node  struct{ Messages messageEdges }
	Nodes []struct {
		ID        globalid.ID
		Followers *[]struct{ ID globalid.ID }
	}
}

type messageEdges struct {
	Edges []struct {
		Node struct {
			ID       globalid.ID
			Mentions []struct{ ID globalid.ID }
		}
	}
}

// usersBy returns, for each ticket or message of the page, the IDs of its
// followers or mentions, sorted.
func (p listPage) usersBy() (followers, mentions map[globalid.ID][]globalid.ID) {
	followers, mentions = map[globalid.ID][]globalid.ID{}, map[globalid.ID][]globalid.ID{}
	addMessages := func(m messageEdges) {
		for _, e := range m.Edges {
			ids := []globalid.ID{}
			for _, u := range e.Node.Mentions {
				ids = append(ids, u.ID)
			}
			slices.Sort(ids)
			mentions[e.Node.ID] = ids
		}
	}
	for _, e := range p.Tickets.Edges {
		if e.Node.Followers != nil {
			ids := []globalid.ID{}
			for _, u := range *e.Node.Followers {
				ids = append(ids, u.ID)
			}
			slices.Sort(ids)
			followers[e.Node.ID] = ids
		}
		addMessages(e.Node.Messages)
	}
	addMessages(p.Node.Messages)
	for _, n := range p.Nodes {
		ids := []globalid.ID{}
		for _, u := range *n.Followers {
			ids = append(ids, u.ID)
		}
		slices.Sort(ids)
		followers[n.ID] = ids
	}
	return followers, mentions
}

// TestListFieldQueries proves that followers of a page of tickets and
// mentions of a page of messages cost a constant number of statements,
// however long the page, and that they show what the policies allow: a
// customer only themself among followers and no mentions, staff all of
// the tickets they reach.
func TestListFieldQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		res, client, counted, srv := countedServer(t, tg, seed.Options{Tickets: 120, Messages: 600, Seed: 11})
		follows, mentions, long := followAndMention(t, client, res.Agent)

		// run returns what a page costs and shows.
		run := func(t *testing.T, token, query string, vars map[string]any) (int64, listPage) {
			t.Helper()
			before := counted.n.Load()
			data := gql(t, srv.URL, token, query, vars)
			cost := counted.n.Load() - before
			var page listPage
			if err := json.Unmarshal(data, &page); err != nil {
				t.Fatal(err)
			}
			return cost, page
		}
		pages := []struct {
			name, query string
			vars        func(first int) map[string]any
		}{
			{"Followers", followersPage, func(n int) map[string]any { return map[string]any{"first": n} }},
			{"LatestMessagesMentions", latestMentionsPage, func(n int) map[string]any { return map[string]any{"first": n} }},
			{"MessagesMentions", mentionsPage, func(n int) map[string]any { return map[string]any{"first": n, "id": long} }},
		}
		for _, who := range []struct{ role, email string }{{"Admin", res.Admin}, {"Agent", res.Agent}} {
			t.Run(who.role, func(t *testing.T) {
				token := gqlToken(t, srv.URL, who.email)
				_, reached := run(t, token, followersPage, map[string]any{"first": 40})
				var ids []globalid.ID
				for _, e := range reached.Tickets.Edges {
					ids = append(ids, e.Node.ID)
				}
				pages := append(pages, struct {
					name, query string
					vars        func(first int) map[string]any
				}{"FollowersByID", followersByID, func(n int) map[string]any { return map[string]any{"ids": ids[:min(n, len(ids))]} }})
				for _, p := range pages {
					t.Run(p.name, func(t *testing.T) {
						small, smallPage := run(t, token, p.query, p.vars(5))
						large, largePage := run(t, token, p.query, p.vars(40))
						f5, m5 := smallPage.usersBy()
						f40, m40 := largePage.usersBy()
						if len(f5)+len(m5) < 5 || len(f40)+len(m40) <= len(f5)+len(m5) {
							t.Fatalf("pages of %d and %d rows; the data does not test anything", len(f5)+len(m5), len(f40)+len(m40))
						}
						t.Logf("statements: %d for a page of 5, %d for a page of 40", small, large)
						if small != large {
							t.Fatalf("a page of 40 costs %d statements, a page of 5 costs %d: something is loaded per row (N+1):\n%s", large, small, counted.last(large))
						}
						// Staff see every follower and mention of the
						// tickets in their reach (every ticket of the page).
						for id, got := range f40 {
							if !slices.Equal(got, follows[id]) {
								t.Fatalf("ticket %s: followers %v, want %v", id, got, follows[id])
							}
						}
						for id, got := range m40 {
							if !slices.Equal(got, mentions[id]) {
								t.Fatalf("message %s: mentions %v, want %v", id, got, mentions[id])
							}
						}
					})
				}
			})
		}
		t.Run("Customer", func(t *testing.T) {
			token := gqlToken(t, srv.URL, res.Customer)
			me, err := client.User.Query().Where(user.Email(res.Customer)).OnlyID(viewer.SystemContext(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			_, fp := run(t, token, followersPage, map[string]any{"first": 40})
			_, mp := run(t, token, latestMentionsPage, map[string]any{"first": 40})
			followers, _ := fp.usersBy()
			_, mentioned := mp.usersBy()
			if len(followers) == 0 || len(mentioned) == 0 {
				t.Fatalf("the customer sees %d tickets and %d messages; the data does not test anything", len(followers), len(mentioned))
			}
			for id, got := range followers {
				if !slices.Equal(got, []globalid.ID{me}) {
					t.Fatalf("a customer sees followers %v of ticket %s; want only themself (%s) of %v", got, id, me, follows[id])
				}
			}
			for id, got := range mentioned {
				if len(got) > 0 {
					t.Fatalf("a customer sees mentions %v of message %s", got, id)
				}
			}
		})
	})
}

// followAndMention makes every ticket followed by its requester and two
// staff, every message mention two staff, and one ticket (returned) have
// over 40 messages; it returns the followers of each ticket and the
// mentions of each message, by ID, sorted. The long ticket is in agent's
// reach.
func followAndMention(t *testing.T, client *ent.Client, agent string) (follows, mentions map[globalid.ID][]globalid.ID, long globalid.ID) {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	staff, err := client.User.Query().Where(user.RoleIn(user.RoleAGENT, user.RoleADMIN)).Order(user.ByID()).IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tickets, err := client.Ticket.Query().Order(ticket.ByCreatedAt()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := client.User.Query().Where(user.Email(agent)).WithGroups().Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tickets {
		if tk.AssigneeID != nil && *tk.AssigneeID == a.ID || tk.GroupID != nil && slices.ContainsFunc(a.Edges.Groups, func(g *ent.Group) bool { return g.ID == *tk.GroupID }) {
			long = tk.ID
		}
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 45 {
		if err := tx.Message.Create().SetTicketID(long).SetAuthorID(staff[0]).
			SetBody(fmt.Sprintf("note %d", i)).SetInternal(i%2 == 0).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	follows, mentions = map[globalid.ID][]globalid.ID{}, map[globalid.ID][]globalid.ID{}
	var fcs []*ent.FollowCreate
	for i, tk := range tickets {
		users := []globalid.ID{tk.RequesterID, staff[i%len(staff)], staff[(i+1)%len(staff)]}
		slices.Sort(users)
		users = slices.Compact(users)
		follows[tk.ID] = users
		for _, u := range users {
			fcs = append(fcs, client.Follow.Create().SetTicketID(tk.ID).SetUserID(u))
		}
	}
	messages, err := client.Message.Query().Order(message.ByID()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mcs []*ent.MentionCreate
	for i, m := range messages {
		users := []globalid.ID{staff[i%len(staff)], staff[(i+2)%len(staff)]}
		slices.Sort(users)
		users = slices.Compact(users)
		mentions[m.ID] = users
		for _, u := range users {
			mcs = append(mcs, client.Mention.Create().SetMessageID(m.ID).SetTicketID(m.TicketID).SetUserID(u))
		}
	}
	for _, chunk := range slices.Collect(slices.Chunk(fcs, 200)) {
		if err := client.Follow.CreateBulk(chunk...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, chunk := range slices.Collect(slices.Chunk(mcs, 200)) {
		if err := client.Mention.CreateBulk(chunk...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return follows, mentions, long
}

// usersTicketsPage is a page of users with the first tickets of each, and
// usersOpenTicketsPage with the newest open or pending ones.
const (
	usersTicketsPage = `query($first: Int!) { users(first: $first) {
	edges { node { id tickets(first: 5) { totalCount edges { node { id } } } } }
} }`
	usersOpenTicketsPage = `query($first: Int!) { users(first: $first) {
	edges { node { id tickets(first: 5, where: {statusIn: [OPEN, PENDING]}, orderBy: [{field: CREATED_AT, direction: DESC}]) {
		totalCount edges { node { id } }
	} } }
} }`
)

// TestUserTicketsQueries proves that a page of users with their tickets
// costs a constant number of statements, however many users, and that
// each user's tickets are those the viewer reaches.
func TestUserTicketsQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		res, client, counted, srv := countedServer(t, tg, seed.Options{Tickets: 300, Messages: 600, Seed: 5})

		for _, who := range []struct {
			role  string
			email string
			as    viewer.Role
		}{{"Admin", res.Admin, viewer.Admin}, {"Agent", res.Agent, viewer.Agent}, {"Customer", res.Customer, viewer.Customer}} {
			t.Run(who.role, func(t *testing.T) {
				sys := viewer.SystemContext(context.Background())
				me, err := client.User.Query().Where(user.Email(who.email)).WithGroups().Only(sys)
				if err != nil {
					t.Fatal(err)
				}
				v := &viewer.Viewer{UserID: me.ID, Role: who.as}
				for _, g := range me.Edges.Groups {
					v.GroupIDs = append(v.GroupIDs, g.ID)
				}
				asViewer := viewer.NewContext(context.Background(), v)
				token := gqlToken(t, srv.URL, who.email)
				cost := func(first int, open bool) (int64, int, int) {
					query := usersTicketsPage
					if open {
						query = usersOpenTicketsPage
					}
					before := counted.n.Load()
					data := gql(t, srv.URL, token, query, map[string]any{"first": first})
					n := counted.n.Load() - before
					var page struct {
						Users struct {
							Edges []struct {
								Node struct {
									ID      globalid.ID
									Tickets struct {
										TotalCount int
										Edges      []struct{ Node struct{ ID globalid.ID } }
									}
								}
							}
						}
					}
					if err := json.Unmarshal(data, &page); err != nil {
						t.Fatal(err)
					}
					shown := 0
					for _, e := range page.Users.Edges {
						q := client.Ticket.Query().Where(ticket.RequesterID(e.Node.ID))
						if open {
							q.Where(ticket.StatusIn(ticket.StatusOPEN, ticket.StatusPENDING)).Order(ticket.ByCreatedAt(sql.OrderDesc()))
						}
						reach, err := q.IDs(asViewer)
						if err != nil {
							t.Fatal(err)
						}
						got := e.Node.Tickets
						if got.TotalCount != len(reach) || len(got.Edges) != min(5, len(reach)) {
							t.Fatalf("user %s: totalCount %d and %d tickets; the viewer reaches %d of theirs", e.Node.ID, got.TotalCount, len(got.Edges), len(reach))
						}
						for i, te := range got.Edges {
							if !slices.Contains(reach, te.Node.ID) {
								t.Fatalf("user %s: ticket %s is out of the viewer's reach", e.Node.ID, te.Node.ID)
							}
							if open && te.Node.ID != reach[i] {
								t.Fatalf("user %s: ticket %d is %s, want the %d-th newest open one, %s", e.Node.ID, i, te.Node.ID, i+1, reach[i])
							}
						}
						shown += len(got.Edges)
					}
					return n, len(page.Users.Edges), shown
				}
				for _, open := range []bool{false, true} {
					small, _, _ := cost(5, open)
					large, users, shown := cost(40, open)
					if users <= 5 || shown == 0 {
						t.Fatalf("%d users with %d tickets; the data does not test anything", users, shown)
					}
					t.Logf("statements: %d for 5 users, %d for %d users (%d tickets; only open ones: %v)", small, large, users, shown, open)
					if small != large {
						t.Fatalf("a page of %d users costs %d statements, a page of 5 costs %d: something is loaded per user (N+1):\n%s", users, large, small, counted.last(large))
					}
				}
			})
		}
	})
}
