package notify_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/event"
	"github.com/switchboardhq/switchboard/ent/follow"
	"github.com/switchboardhq/switchboard/ent/group"
	"github.com/switchboardhq/switchboard/ent/mention"
	"github.com/switchboardhq/switchboard/ent/message"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/notify"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

type desk struct {
	client              *ent.Client
	svc                 *ticketing.Service
	sys                 context.Context
	support             *ent.Group
	ann, bob, cara, out *ent.User // Support agents ann and bob; cara a customer; out an agent of no group
}

func newDesk(t *testing.T, tg dbtest.Target) *desk {
	t.Helper()
	client := dbtest.NewTarget(t, tg.Dialect).Open(t)
	d := &desk{client: client, svc: ticketing.New(client, ticketing.Options{}), sys: viewer.SystemContext(context.Background())}
	d.ann = d.user(t, "ann@helpdesk.test", "Ann Lee", user.RoleAGENT)
	d.bob = d.user(t, "bob@helpdesk.test", "Bob Ray", user.RoleAGENT)
	d.out = d.user(t, "olga@helpdesk.test", "Olga Out", user.RoleAGENT)
	d.cara = d.user(t, "cara@example.com", "Cara Customer", user.RoleCUSTOMER)
	d.support = client.Group.Create().SetName("Support").AddMembers(d.ann, d.bob).SetIsDefault(true).SaveX(d.sys)
	return d
}

func (d *desk) user(t *testing.T, email, name string, role user.Role) *ent.User {
	t.Helper()
	return d.client.User.Create().SetEmail(email).SetName(name).SetRole(role).SaveX(d.sys)
}

// as is the context of u signed in, with their groups as they are now.
func (d *desk) as(u *ent.User) context.Context {
	u = d.client.User.Query().Where(user.ID(u.ID)).WithGroups().OnlyX(d.sys)
	return viewer.NewContext(context.Background(), notify.Viewer(u))
}

// inbox is what u reads in their inbox now: kind and ticket subject.
func (d *desk) inbox(t *testing.T, u *ent.User) []string {
	t.Helper()
	ns, err := d.client.Notification.Query().Order(ent.Asc(notification.FieldEventCursor)).WithTicket().All(d.as(u))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range ns {
		out = append(out, string(n.Kind)+" "+n.Edges.Ticket.Subject)
	}
	return out
}

func (d *desk) wantInbox(t *testing.T, u *ent.User, want ...string) {
	t.Helper()
	if got := d.inbox(t, u); !slices.Equal(got, want) {
		t.Fatalf("%s's inbox = %q, want %q", u.Name, got, want)
	}
}

func (d *desk) open(t *testing.T, subject string) *ent.Ticket {
	t.Helper()
	tk, err := d.svc.Create(d.as(d.cara), ticketing.NewTicket{Subject: subject, Body: "please help"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (d *desk) assign(t *testing.T, as context.Context, tk *ent.Ticket, to *ent.User) {
	t.Helper()
	if _, err := d.svc.Update(as, tk.ID, ent.UpdateTicketInput{AssigneeID: &to.ID}); err != nil {
		t.Fatal(err)
	}
}

func (d *desk) reply(t *testing.T, as context.Context, tk *ent.Ticket, body string, internal bool) error {
	t.Helper()
	_, err := d.svc.Reply(as, tk.ID, body, internal)
	return err
}

func (d *desk) follows(tk *ent.Ticket, u *ent.User) bool {
	return d.client.Follow.Query().Where(follow.TicketID(tk.ID), follow.UserID(u.ID)).ExistX(d.sys)
}

func TestNotifications(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Run("ANewUnassignedTicketTellsItsGroup", func(t *testing.T) {
			d := newDesk(t, tg)
			tk := d.open(t, "Printer on fire")
			d.wantInbox(t, d.ann, "UNASSIGNED_IN_GROUP Printer on fire")
			d.wantInbox(t, d.bob, "UNASSIGNED_IN_GROUP Printer on fire")
			d.wantInbox(t, d.out)
			d.wantInbox(t, d.cara) // the actor is never told
			if !d.follows(tk, d.cara) {
				t.Fatal("the requester does not follow their ticket")
			}
			ev := d.client.Event.Query().Where(event.TicketID(tk.ID), event.Type("TICKET_CREATED")).OnlyX(d.sys)
			if want := []globalid.ID{d.ann.ID, d.bob.ID}; !slices.Equal(ev.Notified, sorted(want)) {
				t.Fatalf("event notified %v, want %v", ev.Notified, want)
			}
			// A group that does not want to hear of them tells nobody.
			d.client.Group.UpdateOne(d.support).SetNotifyUnassigned(false).ExecX(d.sys)
			d.open(t, "Quiet one")
			d.wantInbox(t, d.ann, "UNASSIGNED_IN_GROUP Printer on fire")
		})
		t.Run("AssignmentAndRepliesOnAssignedTickets", func(t *testing.T) {
			d := newDesk(t, tg)
			d.client.Group.UpdateOne(d.support).SetNotifyUnassigned(false).ExecX(d.sys)
			tk := d.open(t, "Refund")
			d.assign(t, d.as(d.ann), tk, d.bob)
			d.wantInbox(t, d.bob, "ASSIGNED Refund")
			d.wantInbox(t, d.ann) // ann did it
			if !d.follows(tk, d.bob) {
				t.Fatal("the assignee does not follow the ticket")
			}
			// Taking a ticket oneself tells nobody.
			d.assign(t, d.as(d.ann), tk, d.ann)
			d.wantInbox(t, d.ann)
			d.assign(t, d.as(d.ann), tk, d.bob)
			// The customer replies: the assignee hears it once, as the
			// assignee (not again as a follower).
			if err := d.reply(t, d.as(d.cara), tk, "any news?", false); err != nil {
				t.Fatal(err)
			}
			d.wantInbox(t, d.bob, "ASSIGNED Refund", "ASSIGNED Refund", "MESSAGE_ON_ASSIGNED Refund")
			// ann follows since she took the ticket for a while: she hears
			// the customer's reply as a follower.
			d.wantInbox(t, d.ann, "FOLLOWED_REPLY Refund")
			if err := d.reply(t, d.as(d.ann), tk, "looking into it", false); err != nil {
				t.Fatal(err)
			}
			if !d.follows(tk, d.ann) {
				t.Fatal("a staff member who replied does not follow the ticket")
			}
			// ann's public reply: the customer follows and hears it; bob
			// (assigned) hears it as his ticket's message.
			d.wantInbox(t, d.cara, "FOLLOWED_REPLY Refund")
			d.wantInbox(t, d.bob, "ASSIGNED Refund", "ASSIGNED Refund", "MESSAGE_ON_ASSIGNED Refund", "MESSAGE_ON_ASSIGNED Refund")
			if err := d.reply(t, d.as(d.cara), tk, "thanks", false); err != nil {
				t.Fatal(err)
			}
			d.wantInbox(t, d.ann, "FOLLOWED_REPLY Refund", "FOLLOWED_REPLY Refund")
			// An internal note never reaches the customer.
			if err := d.reply(t, d.as(d.ann), tk, "customer seems fine", true); err != nil {
				t.Fatal(err)
			}
			d.wantInbox(t, d.cara, "FOLLOWED_REPLY Refund")
		})
		t.Run("MutedKindsAreNotWritten", func(t *testing.T) {
			d := newDesk(t, tg)
			d.client.User.UpdateOne(d.bob).SetMutedNotifications([]string{"ASSIGNED"}).ExecX(d.sys)
			tk := d.open(t, "Muted")
			d.assign(t, d.as(d.ann), tk, d.bob)
			d.wantInbox(t, d.bob, "UNASSIGNED_IN_GROUP Muted")
		})
		t.Run("NoticesOfTicketsOutOfReachAreHidden", func(t *testing.T) {
			d := newDesk(t, tg)
			d.open(t, "Secret")
			d.wantInbox(t, d.ann, "UNASSIGNED_IN_GROUP Secret")
			d.client.Group.UpdateOne(d.support).RemoveMembers(d.ann).ExecX(d.sys)
			d.wantInbox(t, d.ann)
			if n, err := d.client.Notification.Update().SetReadAt(d.client.Notification.Query().FirstX(d.sys).CreatedAt).Save(d.as(d.ann)); err != nil || n != 0 {
				t.Fatalf("marking hidden notifications read: %d, %v", n, err)
			}
		})
		t.Run("Mentions", func(t *testing.T) {
			d := newDesk(t, tg)
			d.client.Group.UpdateOne(d.support).SetNotifyUnassigned(false).ExecX(d.sys)
			tk := d.open(t, "Mentions")
			if err := d.reply(t, d.as(d.ann), tk, "@Bob can you check? cc ann@example.com", true); err != nil {
				t.Fatal(err)
			}
			d.wantInbox(t, d.bob, "MENTIONED Mentions")
			d.wantInbox(t, d.ann) // an address is no mention, and she wrote it
			if !d.follows(tk, d.bob) {
				t.Fatal("the person mentioned does not follow the ticket")
			}
			note := d.client.Message.Query().Where(message.Internal(true)).OnlyX(d.sys)
			mentioned, err := notify.NewService(d.client).Mentions(d.as(d.ann), note)
			if err != nil || len(mentioned) != 1 || mentioned[0].ID != d.bob.ID {
				t.Fatalf("mentions = %v, %v", mentioned, err)
			}
			if got, _ := notify.NewService(d.client).Mentions(d.as(d.cara), note); len(got) != 0 {
				t.Fatalf("a customer reads mentions %v", got)
			}
			// Writing one's own name mentions nobody.
			if err := d.reply(t, d.as(d.ann), tk, "note to self, @ann: call back", true); err != nil {
				t.Fatal(err)
			}
			if n := d.client.Mention.Query().Where(mention.UserID(d.ann.ID)).CountX(d.sys); n != 0 {
				t.Fatalf("%d self-mentions recorded", n)
			}
			// Someone who may not see the ticket is not mentioned.
			if err := d.reply(t, d.as(d.ann), tk, "@olga FYI", true); err != nil {
				t.Fatal(err)
			}
			d.wantInbox(t, d.out)
			// Two Bobs: @bob is still Bob Ray by handle, @Roberta's first
			// name alone is unique, but a first name two people share is
			// refused, with the candidates, and the note is not written.
			bo := d.user(t, "bobby@helpdesk.test", "Bob Ross", user.RoleAGENT)
			d.client.Group.UpdateOne(d.support).AddMembers(bo).ExecX(d.sys)
			notes := d.client.Message.Query().Where(message.Internal(true)).CountX(d.sys)
			err = d.reply(t, d.as(d.ann), tk, "@bob again", true)
			if err != nil {
				t.Fatal(err)
			}
			d.client.User.UpdateOne(d.bob).SetEmail("robert@helpdesk.test").ExecX(d.sys)
			err = d.reply(t, d.as(d.ann), tk, "hey @bob, look", true)
			var e *apierr.Error
			if !errors.As(err, &e) || e.Code != apierr.BadUserInput || e.Field != "body" ||
				!strings.Contains(e.Message, "@robert (Bob Ray)") || !strings.Contains(e.Message, "@bobby (Bob Ross)") {
				t.Fatalf("ambiguous mention: %v", err)
			}
			if n := d.client.Message.Query().Where(message.Internal(true)).CountX(d.sys); n != notes+1 {
				t.Fatalf("%d notes, want %d: the refused note was written", n, notes+1)
			}
			candidates, err := notify.NewService(d.client).MentionCandidates(d.as(d.ann), tk.ID, "bo", 10)
			if err != nil || len(candidates) != 2 {
				t.Fatalf("candidates for bo = %v, %v", candidates, err)
			}
			if _, err := notify.NewService(d.client).MentionCandidates(d.as(d.cara), tk.ID, "", 10); apierr.CodeOf(err) != apierr.Forbidden {
				t.Fatalf("customer asking for candidates: %v", err)
			}
		})
		t.Run("FollowAndUnfollow", func(t *testing.T) {
			d := newDesk(t, tg)
			tk := d.open(t, "Follow me")
			svc := notify.NewService(d.client)
			if _, err := svc.FollowTicket(d.as(d.out), tk.ID); apierr.CodeOf(err) != apierr.NotFound && !ent.IsNotFound(err) {
				t.Fatalf("following a ticket out of reach: %v", err)
			}
			if _, err := svc.FollowTicket(d.as(d.ann), tk.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.FollowTicket(d.as(d.ann), tk.ID); err != nil {
				t.Fatalf("following twice: %v", err)
			}
			followers, err := svc.Followers(d.as(d.cara), tk)
			if err != nil || len(followers) != 1 || followers[0].ID != d.cara.ID {
				t.Fatalf("a customer sees followers %v, %v; want only themself", followers, err)
			}
			if _, err := svc.UnfollowTicket(d.as(d.ann), tk.ID); err != nil {
				t.Fatal(err)
			}
			if d.follows(tk, d.ann) {
				t.Fatal("still following")
			}
			_ = group.FieldID
		})
	})
}

func sorted(ids []globalid.ID) []globalid.ID { slices.Sort(ids); return ids }
