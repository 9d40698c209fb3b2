package routing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/event"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/priority"
	"github.com/switchboardhq/switchboard/internal/routing"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

type desk struct {
	client           *ent.Client
	svc              *ticketing.Service
	sys              context.Context
	billing, support *ent.Group
	ann, bob, cid    *ent.User // Billing agents, a Support agent
}

func newDesk(t *testing.T, client *ent.Client) *desk {
	t.Helper()
	d := &desk{client: client, svc: ticketing.New(client, ticketing.Options{}), sys: viewer.SystemContext(context.Background())}
	d.ann = d.user(t, "ann@helpdesk.test", "Ann Lee", user.RoleAGENT)
	d.bob = d.user(t, "bob@helpdesk.test", "Bob Ray", user.RoleAGENT)
	d.cid = d.user(t, "cid@helpdesk.test", "Cid Moe", user.RoleAGENT)
	var err error
	if d.billing, err = client.Group.Create().SetName("Billing").AddMembers(d.ann, d.bob).
		SetAutoAssign(group.AutoAssignALL_AGENTS).Save(d.sys); err != nil {
		t.Fatal(err)
	}
	if d.support, err = client.Group.Create().SetName("Support").AddMembers(d.cid).Save(d.sys); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *desk) user(t *testing.T, email, name string, role user.Role) *ent.User {
	t.Helper()
	u, err := d.client.User.Create().SetEmail(email).SetName(name).SetRole(role).Save(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// customer signs a new customer in.
func (d *desk) customer(t *testing.T, email string) context.Context {
	t.Helper()
	u := d.user(t, email, "Customer "+email, user.RoleCUSTOMER)
	return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Role: viewer.Customer})
}

func (d *desk) open(t *testing.T, as context.Context, subject, body string) *ent.Ticket {
	t.Helper()
	tk, err := d.svc.Create(as, ticketing.NewTicket{Subject: subject, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (d *desk) rule(t *testing.T, name string, position int, set func(*ent.RoutingRuleCreate)) *ent.RoutingRule {
	t.Helper()
	c := d.client.RoutingRule.Create().SetName(name).SetPosition(position)
	set(c)
	r, err := c.Save(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRouting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Run("TheDefaultGroupTakesWhatNoRulePlaces", func(t *testing.T) {
			d := newDesk(t, dbtest.NewTarget(t, tg.Dialect).Open(t))
			cust := d.customer(t, "carol@example.com")
			if tk := d.open(t, cust, "Hello", "anyone there?"); tk.GroupID != nil {
				t.Fatalf("without a default group the ticket went to %v", *tk.GroupID)
			}
			if _, err := routing.SetDefaultGroup(d.sys, d.client, d.support.ID); err != nil {
				t.Fatal(err)
			}
			tk := d.open(t, cust, "Hello again", "anyone there?")
			if tk.GroupID == nil || *tk.GroupID != d.support.ID || tk.AssigneeID != nil || tk.RoutingRuleID != nil {
				t.Fatalf("ticket = %v, want in Support, unassigned, by no rule", tk)
			}
			// Making another group the default takes the mark off the first.
			if _, err := routing.SetDefaultGroup(d.sys, d.client, d.billing.ID); err != nil {
				t.Fatal(err)
			}
			if n := d.client.Group.Query().Where(group.IsDefault(true)).CountX(d.sys); n != 1 {
				t.Fatalf("%d default groups", n)
			}
		})
		t.Run("TheFirstMatchingRuleWins", func(t *testing.T) {
			d := newDesk(t, dbtest.NewTarget(t, tg.Dialect).Open(t))
			if _, err := routing.SetDefaultGroup(d.sys, d.client, d.support.ID); err != nil {
				t.Fatal(err)
			}
			d.rule(t, "disabled", 0, func(c *ent.RoutingRuleCreate) {
				c.SetWords([]string{"refund"}).SetGroupID(d.support.ID).SetEnabled(false)
			})
			refunds := d.rule(t, "refunds", 1, func(c *ent.RoutingRuleCreate) {
				c.SetWords([]string{"Refund"}).SetGroupID(d.billing.ID).SetSetPriority(priority.High).SetAddTags([]string{"billing"})
			})
			vip := d.rule(t, "vip", 2, func(c *ent.RoutingRuleCreate) {
				c.SetEmailDomains([]string{"VIP.example"}).SetGroupID(d.support.ID).SetSetPriority(priority.Urgent).SetRoundRobin(true)
			})
			cust := d.customer(t, "vera@eu.vip.example")
			// Both rules match (a refund from a VIP): the earlier wins.
			tk := d.open(t, cust, "Money back", "I want a REFUND, please.")
			if tk.RoutingRuleID == nil || *tk.RoutingRuleID != refunds.ID || *tk.GroupID != d.billing.ID ||
				tk.Priority != priority.High || strings.Join(tk.Tags, ",") != "billing" {
				t.Fatalf("ticket = %v, want placed by refunds in Billing, HIGH, tagged billing", tk)
			}
			// Billing assigns round-robin; a rule's SLA sees the new priority.
			if tk.AssigneeID == nil {
				t.Fatalf("Billing ticket unassigned: %v", tk)
			}
			// Words match whole words only: "refunded" is not "refund".
			tk = d.open(t, cust, "Thanks", "you refunded me, all good")
			if tk.RoutingRuleID == nil || *tk.RoutingRuleID != vip.ID || *tk.GroupID != d.support.ID || tk.Priority != priority.Urgent {
				t.Fatalf("ticket = %v, want placed by vip", tk)
			}
			// vip forces round-robin in Support, whose own setting is OFF.
			if tk.AssigneeID == nil || *tk.AssigneeID != d.cid.ID {
				t.Fatalf("vip ticket assignee = %v, want Cid", tk.AssigneeID)
			}
			// Nothing matches: the default group, nobody assigned.
			tk = d.open(t, d.customer(t, "joe@example.com"), "Hi", "a question")
			if tk.RoutingRuleID != nil || *tk.GroupID != d.support.ID || tk.AssigneeID != nil {
				t.Fatalf("ticket = %v, want default group by no rule", tk)
			}
			// The creation event records the result.
			ev := d.client.Event.Query().Where(event.TicketID(tk.ID), event.Type("TICKET_CREATED")).OnlyX(d.sys)
			if !strings.Contains(string(ev.After), string(d.support.ID)) {
				t.Fatalf("event after = %s, want the group", ev.After)
			}
		})
		t.Run("ErrRuleValues", func(t *testing.T) {
			d := newDesk(t, dbtest.NewTarget(t, tg.Dialect).Open(t))
			for field, set := range map[string]func(*ent.RoutingRuleCreate){
				"channels":     func(c *ent.RoutingRuleCreate) { c.SetChannels([]string{"FAX"}) },
				"words":        func(c *ent.RoutingRuleCreate) { c.SetWords([]string{" "}) },
				"emailDomains": func(c *ent.RoutingRuleCreate) { c.SetEmailDomains([]string{"ann@example.com"}) },
			} {
				c := d.client.RoutingRule.Create().SetName("bad")
				set(c)
				_, err := c.Save(d.sys)
				var e *apierr.Error
				if !errors.As(err, &e) || e.Code != apierr.BadUserInput || e.Field != field {
					t.Errorf("rule with a bad %s: err = %v, want BAD_USER_INPUT naming it", field, err)
				}
			}
		})
		t.Run("RoundRobinIsFairUnderConcurrentCreation", func(t *testing.T) {
			d := newDesk(t, dbtest.NewTarget(t, tg.Dialect).Open(t))
			d.rule(t, "all to billing", 0, func(c *ent.RoutingRuleCreate) { c.SetGroupID(d.billing.ID) })
			dan := d.user(t, "dan@helpdesk.test", "Dan Away", user.RoleAGENT)
			d.client.Group.UpdateOne(d.billing).AddMembers(dan).ExecX(d.sys)
			d.client.User.UpdateOne(dan).SetAway(true).ExecX(d.sys)
			const n = 50
			custs := make([]context.Context, n)
			for i := range custs {
				custs[i] = d.customer(t, fmt.Sprintf("c%d@example.com", i))
			}
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := d.svc.Create(custs[i], ticketing.NewTicket{Subject: fmt.Sprintf("T%d", i), Body: "help"}); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			load := map[globalid.ID]int{}
			for _, tk := range d.client.Ticket.Query().AllX(d.sys) {
				if tk.AssigneeID == nil {
					t.Fatalf("ticket %d unassigned", tk.Number)
				}
				load[*tk.AssigneeID]++
			}
			if load[dan.ID] != 0 || load[d.ann.ID] != n/2 || load[d.bob.ID] != n/2 {
				t.Fatalf("load ann %d, bob %d, dan (away) %d; want %d, %d, 0", load[d.ann.ID], load[d.bob.ID], load[dan.ID], n/2, n/2)
			}
		})
		t.Run("RoundRobinBalancesOpenTicketsOnly", func(t *testing.T) {
			d := newDesk(t, dbtest.NewTarget(t, tg.Dialect).Open(t))
			d.rule(t, "all to billing", 0, func(c *ent.RoutingRuleCreate) { c.SetGroupID(d.billing.ID) })
			cust := d.customer(t, "carol@example.com")
			first := d.open(t, cust, "One", "x")
			second := d.open(t, cust, "Two", "x")
			if *first.AssigneeID == *second.AssigneeID {
				t.Fatalf("both tickets to %s", *first.AssigneeID)
			}
			// The first one's agent solves it: they are the least loaded again.
			if err := d.svc.SetStatus(d.sys, first.ID, ticket.StatusSOLVED); err != nil {
				t.Fatal(err)
			}
			if third := d.open(t, cust, "Three", "x"); *third.AssigneeID != *first.AssigneeID {
				t.Fatalf("third ticket to %s, want %s (no open tickets)", *third.AssigneeID, *first.AssigneeID)
			}
		})
		t.Run("OnlineOnlyAssignsAmongThoseOnline", func(t *testing.T) {
			d := newDesk(t, dbtest.NewTarget(t, tg.Dialect).Open(t))
			d.client.Group.UpdateOne(d.billing).SetAutoAssign(group.AutoAssignONLINE_AGENTS).ExecX(d.sys)
			d.rule(t, "all to billing", 0, func(c *ent.RoutingRuleCreate) { c.SetGroupID(d.billing.ID) })
			online := []globalid.ID{d.bob.ID}
			d.svc.Online = func(context.Context) ([]globalid.ID, error) { return online, nil }
			cust := d.customer(t, "carol@example.com")
			for i := range 3 {
				if tk := d.open(t, cust, fmt.Sprint(i), "x"); tk.AssigneeID == nil || *tk.AssigneeID != d.bob.ID {
					t.Fatalf("ticket %d assigned to %v, want Bob (the one online)", i, tk.AssigneeID)
				}
			}
			online = nil
			if tk := d.open(t, cust, "nobody", "x"); tk.AssigneeID != nil {
				t.Fatalf("with nobody online the ticket went to %v", *tk.AssigneeID)
			}
		})
	})
}

func TestMatches(t *testing.T) {
	for name, tc := range map[string]struct {
		words []string
		text  string
		want  bool
	}{
		"WholeWord":       {[]string{"refund"}, "Refund please", true},
		"NotInsideAWord":  {[]string{"refund"}, "refunded", false},
		"Phrase":          {[]string{"credit card"}, "my Credit  Card? no: credit card!", true},
		"Unicode":         {[]string{"café"}, "un CAFÉ noir", true},
		"UnicodeBoundary": {[]string{"caf"}, "café", false},
		"AnyWord":         {[]string{"x", "invoice"}, "where is my invoice", true},
	} {
		t.Run(name, func(t *testing.T) {
			r := &ent.RoutingRule{Words: tc.words}
			if got := routing.Matches(r, routing.Ticket{Text: tc.text}); got != tc.want {
				t.Fatalf("Matches(%q in %q) = %v, want %v", tc.words, tc.text, got, tc.want)
			}
		})
	}
}

func TestDefaultGroupUnderConcurrentChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newDesk(t, dbtest.NewTarget(t, tg.Dialect).Open(t))
		third := d.client.Group.Create().SetName("Third").SaveX(d.sys)
		ids := []globalid.ID{d.billing.ID, d.support.ID, third.ID}
		for round := range 5 {
			var wg sync.WaitGroup
			for _, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := routing.SetDefaultGroup(d.sys, d.client, id); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if n := d.client.Group.Query().Where(group.IsDefault(true)).CountX(d.sys); n != 1 {
				t.Fatalf("round %d: %d default groups", round, n)
			}
		}
	})
}

// TestRoundRobinBesideMacrosMovingTickets runs ticket creations that
// assign round-robin in a group beside macros that move tickets into that
// group: on PostgreSQL the group's lock and the foreign-key lock of the
// move once deadlocked through the event log's lock.
func TestRoundRobinBesideMacrosMovingTickets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newDesk(t, dbtest.NewTarget(t, tg.Dialect).Open(t))
		if _, err := routing.SetDefaultGroup(d.sys, d.client, d.billing.ID); err != nil {
			t.Fatal(err)
		}
		move := d.client.Macro.Create().SetName("To Billing").SetBody("Moving this to Billing.").SetInternal(true).
			SetMoveToGroupID(d.billing.ID).SaveX(d.sys)
		back := d.client.Macro.Create().SetName("To Support").SetBody("Moving this to Support.").SetInternal(true).
			SetMoveToGroupID(d.support.ID).SaveX(d.sys)
		admin := d.user(t, "ada@helpdesk.test", "Ada Admin", user.RoleADMIN)
		asAdmin := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: admin.ID, Role: viewer.Admin})
		var moving []*ent.Ticket
		for i := range 6 {
			moving = append(moving, d.open(t, d.customer(t, fmt.Sprintf("m%d@example.com", i)), "to move", "x"))
		}
		custs := make([]context.Context, 12)
		for i := range custs {
			custs[i] = d.customer(t, fmt.Sprintf("n%d@example.com", i))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for i, c := range custs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := d.svc.Create(c, ticketing.NewTicket{Subject: fmt.Sprint(i), Body: "help"}); err != nil {
					errs <- fmt.Errorf("creating: %w", err)
				}
			}()
		}
		for _, tk := range moving {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, m := range []*ent.Macro{back, move, back, move} {
					if _, err := d.svc.ApplyMacro(asAdmin, tk.ID, m.ID); err != nil {
						errs <- fmt.Errorf("applying %s: %w", m.Name, err)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
