package privacy_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/message"
	entprivacy "github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/privacy"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// fixture is a small helpdesk: two customers, three agents (one in Billing,
// one in Tech, one in no group) and an admin.
type fixture struct {
	client *ent.Client
	svc    *ticketing.Service
	sys    context.Context

	alice, bob                              *ent.User // customers
	billingAgent, techAgent, loneAgent      *ent.User
	admin                                   *ent.User
	billing, tech                           *ent.Group
	asAlice, asBob                          context.Context
	asBilling, asTech, asLone, asAdmin      context.Context
	anonymous                               context.Context
	aliceBilling, aliceLone, bobTech        *ent.Ticket
	aliceFirstMessage, bobFirstMessage      *ent.Message
	noteOnAliceBilling, replyOnAliceBilling *ent.Message
}

func newUser(t *testing.T, client *ent.Client, sys context.Context, email, name string, role user.Role) *ent.User {
	t.Helper()
	u, err := client.User.Create().SetEmail(email).SetName(name).SetRole(role).Save(sys)
	if err != nil {
		t.Fatalf("creating user %s: %v", email, err)
	}
	return u
}

func newGroup(t *testing.T, client *ent.Client, sys context.Context, name string, members ...*ent.User) *ent.Group {
	t.Helper()
	g, err := client.Group.Create().SetName(name).AddMembers(members...).Save(sys)
	if err != nil {
		t.Fatalf("creating group %s: %v", name, err)
	}
	return g
}

// as returns a request context acting as u, a member of groups.
func as(u *ent.User, groups ...*ent.Group) context.Context {
	v := &viewer.Viewer{UserID: u.ID}
	switch u.Role {
	case user.RoleCUSTOMER:
		v.Role = viewer.Customer
	case user.RoleAGENT:
		v.Role = viewer.Agent
	case user.RoleADMIN:
		v.Role = viewer.Admin
	}
	for _, g := range groups {
		v.GroupIDs = append(v.GroupIDs, g.ID)
	}
	return viewer.NewContext(context.Background(), v)
}

func newFixture(t *testing.T, client *ent.Client) *fixture {
	t.Helper()
	f := &fixture{client: client, svc: ticketing.New(client, ticketing.Options{}), sys: viewer.SystemContext(context.Background())}
	f.alice = newUser(t, client, f.sys, "alice@example.com", "Alice", user.RoleCUSTOMER)
	f.bob = newUser(t, client, f.sys, "bob@example.com", "Bob", user.RoleCUSTOMER)
	f.billingAgent = newUser(t, client, f.sys, "bill@helpdesk.test", "Bill", user.RoleAGENT)
	f.techAgent = newUser(t, client, f.sys, "tess@helpdesk.test", "Tess", user.RoleAGENT)
	f.loneAgent = newUser(t, client, f.sys, "lone@helpdesk.test", "Lone", user.RoleAGENT)
	f.admin = newUser(t, client, f.sys, "root@helpdesk.test", "Root", user.RoleADMIN)
	f.billing = newGroup(t, client, f.sys, "Billing", f.billingAgent)
	f.tech = newGroup(t, client, f.sys, "Tech", f.techAgent)

	f.asAlice, f.asBob = as(f.alice), as(f.bob)
	f.asBilling, f.asTech, f.asLone = as(f.billingAgent, f.billing), as(f.techAgent, f.tech), as(f.loneAgent)
	f.asAdmin = as(f.admin)
	f.anonymous = viewer.NewContext(context.Background(), nil)

	// Alice's invoice question is in Billing's queue; her other ticket is
	// assigned to the agent in no group; Bob's ticket is in Tech's queue.
	f.aliceBilling = f.open(t, f.asAlice, "Invoice is wrong", "I was charged twice.")
	f.route(t, f.aliceBilling.ID, f.billing, nil)
	f.aliceLone = f.open(t, f.asAlice, "Cannot log in", "Password reset does not arrive.")
	f.route(t, f.aliceLone.ID, nil, f.loneAgent)
	f.bobTech = f.open(t, f.asBob, "App crashes", "The app crashes on start.")
	f.route(t, f.bobTech.ID, f.tech, nil)

	f.aliceFirstMessage = f.firstMessage(t, f.aliceBilling.ID)
	f.bobFirstMessage = f.firstMessage(t, f.bobTech.ID)
	var err error
	if f.noteOnAliceBilling, err = f.svc.Reply(f.asBilling, f.aliceBilling.ID, "Customer was refunded already, check with finance.", true); err != nil {
		t.Fatalf("writing internal note: %v", err)
	}
	if f.replyOnAliceBilling, err = f.svc.Reply(f.asBilling, f.aliceBilling.ID, "We are looking into it.", false); err != nil {
		t.Fatalf("writing public reply: %v", err)
	}
	return f
}

func (f *fixture) open(t *testing.T, ctx context.Context, subject, body string) *ent.Ticket {
	t.Helper()
	tk, err := f.svc.Create(ctx, ticketing.NewTicket{Subject: subject, Body: body})
	if err != nil {
		t.Fatalf("opening ticket %q: %v", subject, err)
	}
	return tk
}

// route puts a ticket into a group's queue and/or assigns it, as the system.
func (f *fixture) route(t *testing.T, id globalid.ID, g *ent.Group, assignee *ent.User) {
	t.Helper()
	in := ent.UpdateTicketInput{}
	if g != nil {
		in.GroupID = &g.ID
	}
	if assignee != nil {
		in.AssigneeID = &assignee.ID
	}
	if _, err := f.svc.Update(f.sys, id, in); err != nil {
		t.Fatalf("routing ticket: %v", err)
	}
}

func (f *fixture) firstMessage(t *testing.T, ticketID globalid.ID) *ent.Message {
	t.Helper()
	m, err := f.client.Message.Query().Where(message.TicketID(ticketID)).Order(ent.Asc(message.FieldCreatedAt)).First(f.sys)
	if err != nil {
		t.Fatalf("reading first message: %v", err)
	}
	return m
}

// reload reads a ticket as the system.
func (f *fixture) reload(t *testing.T, id globalid.ID) *ent.Ticket {
	t.Helper()
	tk, err := f.client.Ticket.Get(f.sys, id)
	if err != nil {
		t.Fatalf("reloading ticket: %v", err)
	}
	return tk
}

func ticketIDs(ts []*ent.Ticket) []globalid.ID {
	ids := make([]globalid.ID, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	slices.Sort(ids)
	return ids
}

func idsOf(ts ...*ent.Ticket) []globalid.ID { return ticketIDs(ts) }

func userIDs(us []*ent.User) []globalid.ID {
	ids := make([]globalid.ID, 0, len(us))
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	slices.Sort(ids)
	return ids
}

func wantCode(t *testing.T, err error, code apierr.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := apierr.CodeOf(err); got != code {
		t.Fatalf("error %q has code %s, want %s", err, got, code)
	}
}

// wantNotFound accepts what the API shows as NOT_FOUND: ent's not-found
// error or an apierr NOT_FOUND.
func wantNotFound(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want not found")
	}
	if !ent.IsNotFound(err) && apierr.CodeOf(err) != apierr.NotFound {
		t.Fatalf("error %q (%T) is not a not-found error", err, err)
	}
}

// wantDenied accepts what the API shows as FORBIDDEN: a privacy denial or
// an apierr FORBIDDEN.
func wantDenied(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want the change to be denied")
	}
	if !errors.Is(err, entprivacy.Deny) && apierr.CodeOf(err) != apierr.Forbidden {
		t.Fatalf("error %q (%T) is not a denial", err, err)
	}
}

func TestTicketVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg.Open(t))
		client := f.client

		t.Run("CustomerSeesOnlyOwnTickets", func(t *testing.T) {
			got, err := client.Ticket.Query().All(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if want := idsOf(f.aliceBilling, f.aliceLone); !slices.Equal(ticketIDs(got), want) {
				t.Fatalf("Alice sees %v, want her own tickets %v", ticketIDs(got), want)
			}
			n, err := client.Ticket.Query().Count(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Fatalf("Alice counts %d tickets, want 2", n)
			}
			n, err = client.Ticket.Query().Count(f.asBob)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("Bob counts %d tickets, want 1", n)
			}
		})
		t.Run("CustomerCannotGetAnotherCustomersTicket", func(t *testing.T) {
			_, err := client.Ticket.Get(f.asBob, f.aliceBilling.ID)
			if !ent.IsNotFound(err) {
				t.Fatalf("Bob getting Alice's ticket: err = %v, want ent not found", err)
			}
			ok, err := client.Ticket.Query().Where(ticket.Number(f.aliceBilling.Number)).Exist(f.asBob)
			if err != nil || ok {
				t.Fatalf("Bob finds Alice's ticket by number: exist=%v err=%v", ok, err)
			}
		})
		t.Run("CustomerCannotReadAnotherCustomersMessages", func(t *testing.T) {
			n, err := client.Message.Query().Where(message.TicketID(f.aliceBilling.ID)).Count(f.asBob)
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("Bob counts %d messages on Alice's ticket, want 0", n)
			}
			if _, err := client.Message.Get(f.asBob, f.aliceFirstMessage.ID); !ent.IsNotFound(err) {
				t.Fatalf("Bob getting Alice's message: err = %v, want not found", err)
			}
			all, err := client.Message.Query().All(f.asBob)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 1 || all[0].ID != f.bobFirstMessage.ID {
				t.Fatalf("Bob sees %d messages, want only his own first message", len(all))
			}
		})
		t.Run("AgentSeesTicketsOfTheirGroups", func(t *testing.T) {
			got, err := client.Ticket.Query().All(f.asBilling)
			if err != nil {
				t.Fatal(err)
			}
			if want := idsOf(f.aliceBilling); !slices.Equal(ticketIDs(got), want) {
				t.Fatalf("Billing agent sees %v, want %v", ticketIDs(got), want)
			}
			got, err = client.Ticket.Query().All(f.asTech)
			if err != nil {
				t.Fatal(err)
			}
			if want := idsOf(f.bobTech); !slices.Equal(ticketIDs(got), want) {
				t.Fatalf("Tech agent sees %v, want %v", ticketIDs(got), want)
			}
		})
		t.Run("AgentSeesTicketsAssignedToThem", func(t *testing.T) {
			got, err := client.Ticket.Query().All(f.asLone)
			if err != nil {
				t.Fatal(err)
			}
			if want := idsOf(f.aliceLone); !slices.Equal(ticketIDs(got), want) {
				t.Fatalf("agent without group sees %v, want only the ticket assigned to them %v", ticketIDs(got), want)
			}
		})
		t.Run("AgentDoesNotSeeOtherTickets", func(t *testing.T) {
			if _, err := client.Ticket.Get(f.asBilling, f.bobTech.ID); !ent.IsNotFound(err) {
				t.Fatalf("Billing agent getting a Tech ticket: err = %v, want not found", err)
			}
			n, err := client.Message.Query().Where(message.TicketID(f.bobTech.ID)).Count(f.asBilling)
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("Billing agent counts %d messages on a Tech ticket, want 0", n)
			}
			n, err = client.Ticket.Query().Count(f.asLone)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("agent without group counts %d tickets, want 1", n)
			}
		})
		t.Run("AdminSeesAllTickets", func(t *testing.T) {
			n, err := client.Ticket.Query().Count(f.asAdmin)
			if err != nil {
				t.Fatal(err)
			}
			if n != 3 {
				t.Fatalf("admin counts %d tickets, want 3", n)
			}
			n, err = client.Message.Query().Count(f.asAdmin)
			if err != nil {
				t.Fatal(err)
			}
			if n != 5 {
				t.Fatalf("admin counts %d messages, want 5 (3 first messages, a note and a reply)", n)
			}
		})
		t.Run("AnonymousIsUnauthenticated", func(t *testing.T) {
			_, err := client.Ticket.Query().All(f.anonymous)
			wantCode(t, err, apierr.Unauthenticated)
			_, err = client.Ticket.Query().Count(f.anonymous)
			wantCode(t, err, apierr.Unauthenticated)
			_, err = client.Ticket.Get(f.anonymous, f.aliceBilling.ID)
			wantCode(t, err, apierr.Unauthenticated)
			_, err = client.Message.Query().All(f.anonymous)
			wantCode(t, err, apierr.Unauthenticated)
			_, err = client.User.Query().All(f.anonymous)
			wantCode(t, err, apierr.Unauthenticated)
			_, err = client.Group.Query().All(f.anonymous)
			wantCode(t, err, apierr.Unauthenticated)
		})
		t.Run("PlainContextIsAnonymous", func(t *testing.T) {
			_, err := client.Ticket.Query().All(context.Background())
			wantCode(t, err, apierr.Unauthenticated)
		})
	})
}

func TestInternalNotes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg.Open(t))
		client := f.client
		onAliceBilling := message.TicketID(f.aliceBilling.ID)

		t.Run("HiddenFromCustomerInLists", func(t *testing.T) {
			msgs, err := client.Message.Query().Where(onAliceBilling).All(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 2 {
				t.Fatalf("Alice sees %d messages on her ticket, want 2 (hers and the public reply)", len(msgs))
			}
			for _, m := range msgs {
				if m.Internal || m.ID == f.noteOnAliceBilling.ID {
					t.Fatalf("Alice sees the internal note %q", m.Body)
				}
			}
			n, err := client.Message.Query().Where(onAliceBilling).Count(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Fatalf("Alice counts %d messages, want 2", n)
			}
			n, err = client.Message.Query().Where(message.Internal(true)).Count(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("Alice counts %d internal messages, want 0", n)
			}
		})
		t.Run("HiddenFromCustomerViaTicketEdge", func(t *testing.T) {
			tk, err := client.Ticket.Get(f.asAlice, f.aliceBilling.ID)
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := tk.QueryMessages().All(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 2 {
				t.Fatalf("ticket.messages shows Alice %d messages, want 2", len(msgs))
			}
			for _, m := range msgs {
				if m.Internal {
					t.Fatalf("ticket.messages shows Alice the internal note %q", m.Body)
				}
			}
			n, err := tk.QueryMessages().Count(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Fatalf("ticket.messages count for Alice = %d, want 2", n)
			}
			// Eager loading goes through the same rules.
			loaded, err := client.Ticket.Query().Where(ticket.ID(f.aliceBilling.ID)).WithMessages().Only(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if len(loaded.Edges.Messages) != 2 {
				t.Fatalf("eager-loaded messages for Alice = %d, want 2", len(loaded.Edges.Messages))
			}
		})
		t.Run("HiddenFromCustomerByID", func(t *testing.T) {
			if _, err := client.Message.Get(f.asAlice, f.noteOnAliceBilling.ID); !ent.IsNotFound(err) {
				t.Fatalf("Alice getting the internal note by ID: err = %v, want not found", err)
			}
		})
		t.Run("VisibleToAgent", func(t *testing.T) {
			msgs, err := client.Message.Query().Where(onAliceBilling).All(f.asBilling)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 3 {
				t.Fatalf("Billing agent sees %d messages, want 3", len(msgs))
			}
			found := false
			for _, m := range msgs {
				if m.ID == f.noteOnAliceBilling.ID {
					found = m.Internal
				}
			}
			if !found {
				t.Fatal("Billing agent does not see the internal note")
			}
			tk, err := client.Ticket.Get(f.asBilling, f.aliceBilling.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := tk.QueryMessages().Count(f.asBilling); err != nil || n != 3 {
				t.Fatalf("ticket.messages count for agent = %d (err %v), want 3", n, err)
			}
		})
	})
}

// createDirect opens a ticket with the ent client in a transaction, so that
// only the privacy rules (not the ticketing service's checks) decide.
func createDirect(ctx context.Context, client *ent.Client, build func(*ent.TicketCreate)) (*ent.Ticket, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	c := tx.Ticket.Create().SetSubject("Direct")
	build(c)
	tk, err := c.Save(ctx)
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return tk, tx.Commit()
}

func TestTicketCreationRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg.Open(t))
		client := f.client
		count := func(t *testing.T) int {
			t.Helper()
			n, err := client.Ticket.Query().Count(f.sys)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count(t)

		t.Run("CustomerCannotOpenTicketForAnotherCustomer", func(t *testing.T) {
			_, err := createDirect(f.asAlice, client, func(c *ent.TicketCreate) { c.SetRequesterID(f.bob.ID) })
			wantCode(t, err, apierr.Forbidden)
		})
		t.Run("CustomerCannotOpenTicketForStaff", func(t *testing.T) {
			// The requester is visible to her (staff), so the privacy rule decides.
			_, err := f.svc.Create(f.asAlice, ticketing.NewTicket{Subject: "On behalf", Body: "x", RequesterID: &f.billingAgent.ID})
			wantCode(t, err, apierr.Forbidden)
		})
		t.Run("CustomerCannotSetPriority", func(t *testing.T) {
			high := priority.High
			_, err := f.svc.Create(f.asAlice, ticketing.NewTicket{Subject: "Urgent!", Body: "x", Priority: &high})
			wantCode(t, err, apierr.Forbidden)
		})
		t.Run("CustomerCannotChooseGroup", func(t *testing.T) {
			_, err := f.svc.Create(f.asAlice, ticketing.NewTicket{Subject: "For tech", Body: "x", GroupID: &f.tech.ID})
			wantCode(t, err, apierr.Forbidden)
		})
		t.Run("CustomerCannotAssign", func(t *testing.T) {
			_, err := createDirect(f.asAlice, client, func(c *ent.TicketCreate) {
				c.SetRequesterID(f.alice.ID).SetAssigneeID(f.billingAgent.ID)
			})
			wantCode(t, err, apierr.Forbidden)
		})
		t.Run("RefusedTicketsAreNotStored", func(t *testing.T) {
			if n := count(t); n != before {
				t.Fatalf("%d tickets after refused creations, want %d", n, before)
			}
		})
		t.Run("AnonymousCannotOpenTickets", func(t *testing.T) {
			_, err := createDirect(f.anonymous, client, func(c *ent.TicketCreate) { c.SetRequesterID(f.alice.ID) })
			wantCode(t, err, apierr.Unauthenticated)
		})
		t.Run("AgentOpensTicketForCustomer", func(t *testing.T) {
			tk, err := f.svc.Create(f.asBilling, ticketing.NewTicket{Subject: "Phone call", Body: "Customer called.", RequesterID: &f.alice.ID, GroupID: &f.billing.ID})
			if err != nil {
				t.Fatal(err)
			}
			if tk.RequesterID != f.alice.ID {
				t.Fatalf("requester = %s, want Alice", tk.RequesterID)
			}
			if _, err := client.Ticket.Get(f.asAlice, tk.ID); err != nil {
				t.Fatalf("Alice cannot see the ticket opened for her: %v", err)
			}
		})
	})
}

func TestTicketChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg.Open(t))
		client := f.client

		t.Run("CustomerCanSolveOwnTicket", func(t *testing.T) {
			tk := f.open(t, f.asAlice, "Solve me", "x")
			if err := f.svc.SetStatus(f.asAlice, tk.ID, ticket.StatusSOLVED); err != nil {
				t.Fatalf("Alice solving her ticket: %v", err)
			}
			if got := f.reload(t, tk.ID); got.Status != ticket.StatusSOLVED {
				t.Fatalf("status = %s, want SOLVED", got.Status)
			}
		})
		t.Run("CustomerCanReopenOwnTicket", func(t *testing.T) {
			tk := f.open(t, f.asAlice, "Reopen me", "x")
			if err := f.svc.SetStatus(f.asAlice, tk.ID, ticket.StatusSOLVED); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.SetStatus(f.asAlice, tk.ID, ticket.StatusOPEN); err != nil {
				t.Fatalf("Alice reopening her ticket: %v", err)
			}
			if got := f.reload(t, tk.ID); got.Status != ticket.StatusOPEN {
				t.Fatalf("status = %s, want OPEN", got.Status)
			}
			// Through the update operation the API uses too.
			solved := ticket.StatusSOLVED
			if _, err := f.svc.Update(f.asAlice, tk.ID, ent.UpdateTicketInput{Status: &solved}); err != nil {
				t.Fatalf("Alice solving through Update: %v", err)
			}
		})
		t.Run("CustomerCannotSetPending", func(t *testing.T) {
			tk := f.open(t, f.asAlice, "Pending?", "x")
			err := f.svc.SetStatus(f.asAlice, tk.ID, ticket.StatusPENDING)
			wantCode(t, err, apierr.Forbidden)
			err = f.svc.SetStatus(f.asAlice, tk.ID, ticket.StatusCLOSED)
			wantCode(t, err, apierr.Forbidden)
			if got := f.reload(t, tk.ID); got.Status != ticket.StatusNEW {
				t.Fatalf("status = %s after refused changes, want NEW", got.Status)
			}
		})
		t.Run("CustomerCannotChangeSubject", func(t *testing.T) {
			tk := f.open(t, f.asAlice, "Original subject", "x")
			subject := "Rewritten"
			_, err := f.svc.Update(f.asAlice, tk.ID, ent.UpdateTicketInput{Subject: &subject})
			wantCode(t, err, apierr.Forbidden)
			if got := f.reload(t, tk.ID); got.Subject != "Original subject" {
				t.Fatalf("subject = %q after refused change", got.Subject)
			}
		})
		t.Run("CustomerCannotChangePriorityOrRouting", func(t *testing.T) {
			tk := f.open(t, f.asAlice, "Routing", "x")
			high := priority.Urgent
			_, err := f.svc.Update(f.asAlice, tk.ID, ent.UpdateTicketInput{Priority: &high})
			wantCode(t, err, apierr.Forbidden)
			_, err = f.svc.Update(f.asAlice, tk.ID, ent.UpdateTicketInput{GroupID: &f.tech.ID})
			wantCode(t, err, apierr.Forbidden)
			_, err = f.svc.Update(f.asAlice, tk.ID, ent.UpdateTicketInput{AssigneeID: &f.techAgent.ID})
			wantCode(t, err, apierr.Forbidden)
			got := f.reload(t, tk.ID)
			if got.Priority != priority.Normal || got.GroupID != nil || got.AssigneeID != nil {
				t.Fatalf("ticket changed by refused updates: priority %s group %v assignee %v", got.Priority, got.GroupID, got.AssigneeID)
			}
		})
		t.Run("CustomerCannotTagTickets", func(t *testing.T) {
			tk := f.open(t, f.asAlice, "Tags", "x")
			_, err := f.svc.Update(f.asAlice, tk.ID, ent.UpdateTicketInput{Tags: []string{"vip"}})
			wantCode(t, err, apierr.Forbidden)
			if got := f.reload(t, tk.ID); len(got.Tags) > 0 {
				t.Fatalf("tags = %v after refused change", got.Tags)
			}
			// Appending is a change of the tags too, whatever the entry point.
			err = client.Ticket.UpdateOneID(tk.ID).AppendTags([]string{"vip"}).Exec(f.asAlice)
			if err == nil {
				if got := f.reload(t, tk.ID); len(got.Tags) > 0 {
					t.Fatalf("fixed bug regressed: a customer appended tags %v to her own ticket: internal/privacy/privacy.go customerTicketChange checks m.Fields() and m.ClearedFields() but not appended list values (m.AppendedTags())", got.Tags)
				}
			}
			wantCode(t, err, apierr.Forbidden)
		})
		t.Run("CustomerCannotChangeAnotherCustomersTicket", func(t *testing.T) {
			err := f.svc.SetStatus(f.asBob, f.aliceLone.ID, ticket.StatusSOLVED)
			wantNotFound(t, err)
			if got := f.reload(t, f.aliceLone.ID); got.Status == ticket.StatusSOLVED {
				t.Fatal("Bob solved Alice's ticket")
			}
		})
		t.Run("AgentUpdatesTicketInReach", func(t *testing.T) {
			tk := f.open(t, f.asAlice, "Agent update", "x")
			f.route(t, tk.ID, f.billing, nil)
			high := priority.High
			pending := ticket.StatusPENDING
			if _, err := f.svc.Update(f.asBilling, tk.ID, ent.UpdateTicketInput{Priority: &high, Status: &pending}); err != nil {
				t.Fatalf("Billing agent updating a Billing ticket: %v", err)
			}
			if got := f.reload(t, tk.ID); got.Priority != priority.High || got.Status != ticket.StatusPENDING {
				t.Fatalf("ticket = %s/%s, want HIGH/PENDING", got.Priority, got.Status)
			}
		})
		t.Run("AgentUpdatingTicketOutsideReachGetsNotFound", func(t *testing.T) {
			high := priority.High
			_, err := f.svc.Update(f.asTech, f.aliceBilling.ID, ent.UpdateTicketInput{Priority: &high})
			wantNotFound(t, err)
			subject := "Hijacked"
			_, err = f.svc.Update(f.asTech, f.aliceBilling.ID, ent.UpdateTicketInput{Subject: &subject})
			wantNotFound(t, err)
			err = f.svc.SetStatus(f.asTech, f.aliceBilling.ID, ticket.StatusCLOSED)
			wantNotFound(t, err)
			_, err = f.svc.Update(f.asTech, f.aliceBilling.ID, ent.UpdateTicketInput{AssigneeID: &f.techAgent.ID})
			wantNotFound(t, err)
			got := f.reload(t, f.aliceBilling.ID)
			if got.Priority != priority.Normal || got.Subject != "Invoice is wrong" || got.Status == ticket.StatusCLOSED || got.AssigneeID != nil {
				t.Fatalf("Tech agent changed a Billing ticket: %+v", got)
			}
		})
		t.Run("TicketsCannotBeDeleted", func(t *testing.T) {
			err := client.Ticket.DeleteOneID(f.bobTech.ID).Exec(f.asTech)
			wantDenied(t, err)
			if _, err := client.Ticket.Get(f.sys, f.bobTech.ID); err != nil {
				t.Fatalf("ticket gone after refused delete: %v", err)
			}
		})
	})
}

func TestMessageWriting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg.Open(t))
		client := f.client
		countOn := func(t *testing.T, id globalid.ID) int {
			t.Helper()
			n, err := client.Message.Query().Where(message.TicketID(id)).Count(f.sys)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		t.Run("CustomerCannotWriteInternalNote", func(t *testing.T) {
			before := countOn(t, f.aliceBilling.ID)
			_, err := f.svc.Reply(f.asAlice, f.aliceBilling.ID, "note to self", true)
			wantCode(t, err, apierr.Forbidden)
			if n := countOn(t, f.aliceBilling.ID); n != before {
				t.Fatalf("%d messages after refused note, want %d", n, before)
			}
		})
		t.Run("ReplyOnForeignTicketIsNotFound", func(t *testing.T) {
			before := countOn(t, f.aliceBilling.ID)
			_, err := f.svc.Reply(f.asBob, f.aliceBilling.ID, "Hello Alice", false)
			wantNotFound(t, err)
			_, err = f.svc.Reply(f.asTech, f.aliceBilling.ID, "Tech was here", true)
			wantNotFound(t, err)
			if n := countOn(t, f.aliceBilling.ID); n != before {
				t.Fatalf("%d messages after refused replies, want %d", n, before)
			}
		})
		t.Run("MessageOnForeignTicketIsNotFoundEvenWithoutTheService", func(t *testing.T) {
			_, err := client.Message.Create().SetTicketID(f.aliceBilling.ID).SetAuthorID(f.bob.ID).SetBody("sneaky").Save(f.asBob)
			wantCode(t, err, apierr.NotFound)
		})
		t.Run("MessagesAreWrittenAsYourself", func(t *testing.T) {
			_, err := client.Message.Create().SetTicketID(f.bobTech.ID).SetAuthorID(f.techAgent.ID).SetBody("I am staff").Save(f.asBob)
			wantCode(t, err, apierr.Forbidden)
		})
		t.Run("MessagesCannotBeEdited", func(t *testing.T) {
			err := client.Message.UpdateOneID(f.bobFirstMessage.ID).SetBody("changed").Exec(f.asBob)
			wantDenied(t, err)
			err = client.Message.UpdateOneID(f.bobFirstMessage.ID).SetBody("changed").Exec(f.asAdmin)
			wantDenied(t, err)
			m, err := client.Message.Get(f.sys, f.bobFirstMessage.ID)
			if err != nil {
				t.Fatal(err)
			}
			if m.Body != f.bobFirstMessage.Body {
				t.Fatalf("message body changed to %q", m.Body)
			}
		})
		t.Run("AgentWritesInternalNoteInReach", func(t *testing.T) {
			m, err := f.svc.Reply(f.asTech, f.bobTech.ID, "Known crash, see bug tracker.", true)
			if err != nil {
				t.Fatal(err)
			}
			if !m.Internal || m.AuthorID != f.techAgent.ID {
				t.Fatalf("note = internal %v author %s", m.Internal, m.AuthorID)
			}
		})
	})
}

func TestUserAndGroupAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg.Open(t))
		client := f.client

		t.Run("CustomerSeesStaffAndThemselves", func(t *testing.T) {
			got, err := client.User.Query().All(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			want := userIDs([]*ent.User{f.alice, f.billingAgent, f.techAgent, f.loneAgent, f.admin})
			if !slices.Equal(userIDs(got), want) {
				t.Fatalf("Alice sees users %v, want herself and staff %v", userIDs(got), want)
			}
		})
		t.Run("CustomerCannotSeeOtherCustomers", func(t *testing.T) {
			if _, err := client.User.Get(f.asAlice, f.bob.ID); !ent.IsNotFound(err) {
				t.Fatalf("Alice getting Bob: err = %v, want not found", err)
			}
			n, err := client.User.Query().Where(user.RoleEQ(user.RoleCUSTOMER)).Count(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("Alice counts %d customers, want 1 (herself)", n)
			}
		})
		t.Run("StaffSeeEveryone", func(t *testing.T) {
			n, err := client.User.Query().Count(f.asLone)
			if err != nil {
				t.Fatal(err)
			}
			if n != 6 {
				t.Fatalf("agent counts %d users, want 6", n)
			}
		})
		t.Run("OnlyAdminsCreateUsers", func(t *testing.T) {
			_, err := client.User.Create().SetEmail("new1@example.com").SetName("New").Save(f.asBilling)
			wantDenied(t, err)
			_, err = client.User.Create().SetEmail("new2@example.com").SetName("New").Save(f.asAlice)
			wantDenied(t, err)
			_, err = client.User.Create().SetEmail("new3@example.com").SetName("New").Save(f.anonymous)
			if err == nil {
				t.Fatal("anonymous caller created a user")
			}
			if _, err := client.User.Create().SetEmail("new4@example.com").SetName("New").Save(f.asAdmin); err != nil {
				t.Fatalf("admin creating a user: %v", err)
			}
			n, err := client.User.Query().Where(user.EmailHasPrefix("new")).Count(f.sys)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("%d new users stored, want only the admin's", n)
			}
		})
		t.Run("CustomerCannotPromoteThemselves", func(t *testing.T) {
			err := client.User.UpdateOneID(f.alice.ID).SetRole(user.RoleADMIN).Exec(f.asAlice)
			wantDenied(t, err)
			u, err := client.User.Get(f.sys, f.alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			if u.Role != user.RoleCUSTOMER {
				t.Fatalf("Alice's role is %s after refused promotion", u.Role)
			}
		})
		t.Run("AgentCannotCreateGroup", func(t *testing.T) {
			_, err := client.Group.Create().SetName("Rogue").Save(f.asBilling)
			wantDenied(t, err)
			_, err = client.Group.Create().SetName("Rogue").Save(f.asAlice)
			wantDenied(t, err)
			if _, err := client.Group.Create().SetName("Sales").Save(f.asAdmin); err != nil {
				t.Fatalf("admin creating a group: %v", err)
			}
			n, err := client.Group.Query().Count(f.sys)
			if err != nil {
				t.Fatal(err)
			}
			if n != 3 {
				t.Fatalf("%d groups, want 3 (Billing, Tech and the admin's)", n)
			}
		})
		t.Run("AgentCannotJoinGroup", func(t *testing.T) {
			err := client.Group.UpdateOneID(f.tech.ID).AddMembers(f.billingAgent).Exec(f.asBilling)
			wantDenied(t, err)
		})
		t.Run("SignedInViewersReadGroups", func(t *testing.T) {
			n, err := client.Group.Query().Count(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if n < 2 {
				t.Fatalf("Alice counts %d groups, want them all", n)
			}
		})
		t.Run("SLAPoliciesAreForStaff", func(t *testing.T) {
			client.SLAPolicy.Create().SetPriority(priority.Urgent).SetFirstResponseMinutes(5).SetResolutionMinutes(60).ExecX(viewer.SystemContext(context.Background()))
			// Hidden, not refused: to a customer they read as not there.
			if l, err := client.SLAPolicy.Query().All(f.asAlice); err != nil || len(l) != 0 {
				t.Fatalf("customer read SLA policies: %v %v", l, err)
			}
			if l, err := client.SLAPolicy.Query().All(f.asBilling); err != nil || len(l) == 0 {
				t.Fatalf("agent reading SLA policies: %v %v", l, err)
			}
			err := client.SLAPolicy.Create().SetPriority(priority.High).SetFirstResponseMinutes(1).SetResolutionMinutes(2).Exec(f.asBilling)
			wantDenied(t, err)
		})
		t.Run("SequencesAreSystemOnly", func(t *testing.T) {
			if _, err := client.Sequence.Query().All(f.asAdmin); err == nil {
				t.Fatal("admin read the sequences through a request")
			}
			if _, err := client.Event.Query().All(f.asAdmin); err == nil {
				t.Fatal("admin read the event log through a request")
			}
		})
	})
}

func TestSessionsAndTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg.Open(t))
		client := f.client
		now := time.Now()
		newSession := func(t *testing.T, u *ent.User, token string) *ent.Session {
			t.Helper()
			s, err := client.Session.Create().SetTokenHash([]byte(token)).SetUserID(u.ID).
				SetExpiresAt(now.Add(time.Hour)).SetLastUsedAt(now).Save(f.sys)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		aliceSession := newSession(t, f.alice, "alice-1")
		aliceSession2 := newSession(t, f.alice, "alice-2")
		bobSession := newSession(t, f.bob, "bob-1")
		agentSession := newSession(t, f.billingAgent, "bill-1")

		t.Run("OwnerSeesOwnSessions", func(t *testing.T) {
			got, err := client.Session.Query().All(f.asAlice)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("Alice sees %d sessions, want her 2", len(got))
			}
			for _, s := range got {
				if s.UserID != f.alice.ID {
					t.Fatalf("Alice sees a session of %s", s.UserID)
				}
			}
			if _, err := client.Session.Get(f.asAlice, aliceSession2.ID); err != nil {
				t.Fatalf("Alice getting her session: %v", err)
			}
		})
		t.Run("OthersCannotSeeSessions", func(t *testing.T) {
			if _, err := client.Session.Get(f.asBob, aliceSession.ID); !ent.IsNotFound(err) {
				t.Fatalf("Bob getting Alice's session: err = %v, want not found", err)
			}
			// Not even staff: sessions are personal.
			got, err := client.Session.Query().All(f.asBilling)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != agentSession.ID {
				t.Fatalf("agent sees %d sessions, want only their own", len(got))
			}
			n, err := client.Session.Query().Count(f.asTech)
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("agent without sessions counts %d, want 0", n)
			}
		})
		t.Run("OthersCannotRevokeSessions", func(t *testing.T) {
			err := client.Session.UpdateOneID(bobSession.ID).SetRevokedAt(now).Exec(f.asAlice)
			if err == nil {
				t.Fatal("Alice revoked Bob's session")
			}
			s, err := client.Session.Get(f.sys, bobSession.ID)
			if err != nil {
				t.Fatal(err)
			}
			if s.RevokedAt != nil {
				t.Fatal("Bob's session is revoked after Alice's refused attempt")
			}
			if err := client.Session.UpdateOneID(bobSession.ID).SetRevokedAt(now).Exec(f.asBob); err != nil {
				t.Fatalf("Bob revoking his own session: %v", err)
			}
		})
		t.Run("SessionsAreNotCreatedByRequests", func(t *testing.T) {
			_, err := client.Session.Create().SetTokenHash([]byte("forged")).SetUserID(f.alice.ID).
				SetExpiresAt(now.Add(time.Hour)).SetLastUsedAt(now).Save(f.asAlice)
			wantDenied(t, err)
		})
		t.Run("AnonymousCannotListSessions", func(t *testing.T) {
			_, err := client.Session.Query().All(f.anonymous)
			wantCode(t, err, apierr.Unauthenticated)
		})
		t.Run("AdminSeesAllSessions", func(t *testing.T) {
			n, err := client.Session.Query().Count(f.asAdmin)
			if err != nil {
				t.Fatal(err)
			}
			if n != 4 {
				t.Fatalf("admin counts %d sessions, want 4", n)
			}
		})
		t.Run("APITokensAreVisibleOnlyToTheirOwner", func(t *testing.T) {
			tok, err := client.APIToken.Create().SetName("ci").SetTokenHash([]byte("tok-alice")).SetUserID(f.alice.ID).Save(f.sys)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.APIToken.Get(f.asAlice, tok.ID); err != nil {
				t.Fatalf("Alice getting her token: %v", err)
			}
			if _, err := client.APIToken.Get(f.asBob, tok.ID); !ent.IsNotFound(err) {
				t.Fatalf("Bob getting Alice's token: err = %v, want not found", err)
			}
		})
	})
}

// The in-memory reach that live updates use must say exactly what the
// query policies say, for every viewer and ticket (and note) of the fixture.
func TestInMemoryReachAgreesWithQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		f := newFixture(t, tg.Open(t))
		all, err := f.client.Ticket.Query().All(f.sys)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := f.client.Message.Query().All(f.sys)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[globalid.ID]*ent.Ticket{}
		for _, tk := range all {
			byID[tk.ID] = tk
		}
		for name, ctx := range map[string]context.Context{
			"alice": f.asAlice, "bob": f.asBob, "billing": f.asBilling, "tech": f.asTech,
			"lone": f.asLone, "admin": f.asAdmin, "anonymous": f.anonymous,
		} {
			v := viewer.FromContext(ctx)
			seen, _ := f.client.Ticket.Query().IDs(ctx)
			for _, tk := range all {
				if got, want := privacy.InReach(v, tk), slices.Contains(seen, tk.ID); got != want {
					t.Errorf("%s, ticket %q: in memory %v, query %v", name, tk.Subject, got, want)
				}
			}
			seenMsgs, _ := f.client.Message.Query().IDs(ctx)
			for _, m := range msgs {
				if got, want := privacy.MessageInReach(v, byID[m.TicketID], m.Internal), slices.Contains(seenMsgs, m.ID); got != want {
					t.Errorf("%s, message %q: in memory %v, query %v", name, m.Body, got, want)
				}
			}
		}
	})
}
