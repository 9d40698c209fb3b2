package ticketing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/event"
	"github.com/switchboardhq/switchboard/ent/message"
	entschema "github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/ticket"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

type desk struct {
	client   *ent.Client
	svc      *ticketing.Service
	sys      context.Context
	customer *ent.User
	agent    *ent.User
	other    *ent.User // a second agent, in the same group
	support  *ent.Group
	asCust   context.Context
	asAgent  context.Context
}

func newDesk(t *testing.T, client *ent.Client) *desk {
	t.Helper()
	d := &desk{client: client, svc: ticketing.New(client, ticketing.Options{}), sys: viewer.SystemContext(context.Background())}
	d.customer = d.user(t, "carol@example.com", user.RoleCUSTOMER)
	d.agent = d.user(t, "ada@helpdesk.test", user.RoleAGENT)
	d.other = d.user(t, "otto@helpdesk.test", user.RoleAGENT)
	g, err := client.Group.Create().SetName("Support").AddMembers(d.agent, d.other).Save(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	d.support = g
	d.asCust = viewer.NewContext(context.Background(), &viewer.Viewer{UserID: d.customer.ID, Role: viewer.Customer})
	d.asAgent = viewer.NewContext(context.Background(), &viewer.Viewer{UserID: d.agent.ID, Role: viewer.Agent, GroupIDs: []globalid.ID{g.ID}})
	return d
}

func (d *desk) user(t *testing.T, email string, role user.Role) *ent.User {
	t.Helper()
	u, err := d.client.User.Create().SetEmail(email).SetName(strings.Split(email, "@")[0]).SetRole(role).Save(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// open creates a customer ticket in the Support queue.
func (d *desk) open(t *testing.T, subject string) *ent.Ticket {
	t.Helper()
	tk, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: subject, Body: "Please help."})
	if err != nil {
		t.Fatalf("opening ticket: %v", err)
	}
	if _, err := d.svc.Update(d.sys, tk.ID, ent.UpdateTicketInput{GroupID: &d.support.ID}); err != nil {
		t.Fatalf("routing ticket: %v", err)
	}
	return tk
}

func (d *desk) reload(t *testing.T, id globalid.ID) *ent.Ticket {
	t.Helper()
	tk, err := d.client.Ticket.Get(d.sys, id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (d *desk) messages(t *testing.T, id globalid.ID) []*ent.Message {
	t.Helper()
	ms, err := d.client.Message.Query().Where(message.TicketID(id)).Order(ent.Asc(message.FieldCreatedAt)).All(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func (d *desk) ticketCount(t *testing.T) int {
	t.Helper()
	n, err := d.client.Ticket.Query().Count(d.sys)
	if err != nil {
		t.Fatal(err)
	}
	return n
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

func wantField(t *testing.T, err error, code apierr.Code, field string) {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an apierr.Error, want %s on %q", err, err, code, field)
	}
	if e.Code != code || e.Field != field {
		t.Fatalf("error = %s on %q (%s), want %s on %q", e.Code, e.Field, e.Message, code, field)
	}
}

func TestCreate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newDesk(t, tg.Open(t))

		t.Run("OpensTicketWithFirstMessage", func(t *testing.T) {
			tk, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: "  Printer on fire ", Body: "\nIt is really on fire.\n"})
			if err != nil {
				t.Fatal(err)
			}
			if tk.Number != 1 {
				t.Fatalf("first ticket has number %d, want 1", tk.Number)
			}
			got := d.reload(t, tk.ID)
			if got.Subject != "Printer on fire" || got.Status != ticket.StatusNEW || got.RequesterID != d.customer.ID || got.Channel != ticket.ChannelWEB || got.Number != 1 {
				t.Fatalf("stored ticket = %q %s requester %s channel %s #%d", got.Subject, got.Status, got.RequesterID, got.Channel, got.Number)
			}
			ms := d.messages(t, tk.ID)
			if len(ms) != 1 {
				t.Fatalf("ticket has %d messages, want 1", len(ms))
			}
			if ms[0].Body != "It is really on fire." || ms[0].AuthorID != d.customer.ID || ms[0].Internal {
				t.Fatalf("first message = %q by %s internal %v", ms[0].Body, ms[0].AuthorID, ms[0].Internal)
			}
		})
		t.Run("NumbersFollowEachOther", func(t *testing.T) {
			tk, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: "Second", Body: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if tk.Number != 2 {
				t.Fatalf("second ticket has number %d, want 2", tk.Number)
			}
		})
		t.Run("EmptySubjectIsBadInput", func(t *testing.T) {
			before := d.ticketCount(t)
			for _, s := range []string{"", "   ", "\t\n"} {
				_, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: s, Body: "x"})
				wantField(t, err, apierr.BadUserInput, "subject")
			}
			if n := d.ticketCount(t); n != before {
				t.Fatalf("%d tickets after refused creations, want %d", n, before)
			}
		})
		t.Run("LongSubjectIsBadInput", func(t *testing.T) {
			_, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: strings.Repeat("s", entschema.MaxSubjectLen+1), Body: "x"})
			wantField(t, err, apierr.BadUserInput, "subject")
			if _, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: strings.Repeat("s", entschema.MaxSubjectLen), Body: "x"}); err != nil {
				t.Fatalf("subject of exactly %d characters refused: %v", entschema.MaxSubjectLen, err)
			}
		})
		t.Run("SubjectLimitCountsCharactersNotBytes", func(t *testing.T) {
			// 200 characters, 400 bytes: within the documented limit.
			subject := strings.Repeat("é", entschema.MaxSubjectLen)
			_, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: subject, Body: "x"})
			var verr *ent.ValidationError
			if errors.As(err, &verr) {
				t.Fatalf("fixed bug regressed: a %d-character non-ASCII subject passes ticketing's character limit but ent's MaxLen(200) (the subject field in ent/schema/ticket.go) counts bytes: %v", entschema.MaxSubjectLen, err)
			}
			if err != nil {
				t.Fatalf("subject of %d non-ASCII characters refused: %v", entschema.MaxSubjectLen, err)
			}
		})
		t.Run("EmptyBodyIsBadInput", func(t *testing.T) {
			_, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: "Hi", Body: "  "})
			wantField(t, err, apierr.BadUserInput, "body")
		})
		t.Run("BodyTooLongIsBadInput", func(t *testing.T) {
			before := d.ticketCount(t)
			_, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: "Long", Body: strings.Repeat("b", entschema.MaxBodyLen+1)})
			wantField(t, err, apierr.BadUserInput, "body")
			if n := d.ticketCount(t); n != before {
				t.Fatalf("%d tickets after refused creation, want %d", n, before)
			}
		})
		t.Run("AnonymousIsUnauthenticated", func(t *testing.T) {
			_, err := d.svc.Create(viewer.NewContext(context.Background(), nil), ticketing.NewTicket{Subject: "Hi", Body: "x"})
			wantCode(t, err, apierr.Unauthenticated)
		})
		t.Run("UnknownRequesterIsNotFound", func(t *testing.T) {
			missing := globalid.New(globalid.PrefixUser)
			_, err := d.svc.Create(d.asAgent, ticketing.NewTicket{Subject: "Hi", Body: "x", RequesterID: &missing})
			wantField(t, err, apierr.NotFound, "requesterID")
		})
		t.Run("StaffRequesterIsBadInput", func(t *testing.T) {
			before := d.ticketCount(t)
			_, err := d.svc.Create(d.asAgent, ticketing.NewTicket{Subject: "For Otto", Body: "x", RequesterID: &d.other.ID})
			wantField(t, err, apierr.BadUserInput, "requesterID")
			if msg := err.Error(); !strings.Contains(msg, "tickets are opened for customers") {
				t.Fatalf("message %q", msg)
			}
			if n := d.ticketCount(t); n != before {
				t.Fatalf("%d tickets after refused creation, want %d", n, before)
			}
		})
		// Staff open their own tickets by naming no requester.
		t.Run("StaffNamingThemselvesIsBadInput", func(t *testing.T) {
			_, err := d.svc.Create(d.asAgent, ticketing.NewTicket{Subject: "Mine", Body: "x", RequesterID: &d.agent.ID})
			wantField(t, err, apierr.BadUserInput, "requesterID")
			tk, err := d.svc.Create(d.asAgent, ticketing.NewTicket{Subject: "Mine", Body: "x"})
			if err != nil || tk.RequesterID != d.agent.ID {
				t.Fatalf("created %v, %v", tk, err)
			}
		})
		t.Run("AgentWithoutGroupBecomesAssignee", func(t *testing.T) {
			tk, err := d.svc.Create(d.asAgent, ticketing.NewTicket{Subject: "Follow-up call", Body: "Call back.", RequesterID: &d.customer.ID})
			if err != nil {
				t.Fatal(err)
			}
			got := d.reload(t, tk.ID)
			if got.AssigneeID == nil || *got.AssigneeID != d.agent.ID {
				t.Fatalf("assignee = %v, want the agent who opened it", got.AssigneeID)
			}
			if _, err := d.client.Ticket.Get(d.asAgent, tk.ID); err != nil {
				t.Fatalf("agent cannot see the ticket they opened: %v", err)
			}
		})
		t.Run("AgentWithGroupLeavesItUnassigned", func(t *testing.T) {
			tk, err := d.svc.Create(d.asAgent, ticketing.NewTicket{Subject: "Queue it", Body: "x", RequesterID: &d.customer.ID, GroupID: &d.support.ID})
			if err != nil {
				t.Fatal(err)
			}
			got := d.reload(t, tk.ID)
			if got.AssigneeID != nil || got.GroupID == nil || *got.GroupID != d.support.ID {
				t.Fatalf("assignee %v group %v, want unassigned in Support", got.AssigneeID, got.GroupID)
			}
		})
		t.Run("RefusedCreationLeavesNoGapInNumbers", func(t *testing.T) {
			last, err := d.client.Ticket.Query().Order(ent.Desc(ticket.FieldNumber)).First(d.sys)
			if err != nil {
				t.Fatal(err)
			}
			// Refused inside the transaction, after the number was taken.
			_, err = d.svc.Create(d.asCust, ticketing.NewTicket{Subject: "Mine", Body: "x", GroupID: &d.support.ID})
			wantCode(t, err, apierr.Forbidden)
			tk, err := d.svc.Create(d.asCust, ticketing.NewTicket{Subject: "Next", Body: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if tk.Number != last.Number+1 {
				t.Fatalf("next ticket has number %d, want %d", tk.Number, last.Number+1)
			}
		})
	})
}

func TestConcurrentCreationNumbersWithoutGaps(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newDesk(t, tg.Open(t))
		customers := make([]context.Context, 5)
		for i := range customers {
			u := d.user(t, fmt.Sprintf("c%d@example.com", i), user.RoleCUSTOMER)
			customers[i] = viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Role: viewer.Customer})
		}
		const n = 50
		numbers := make([]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				tk, err := d.svc.Create(customers[i%len(customers)], ticketing.NewTicket{Subject: fmt.Sprintf("Concurrent %d", i), Body: "x"})
				if err != nil {
					errs[i] = err
					return
				}
				numbers[i] = tk.Number
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("creation %d failed: %v", i, err)
			}
		}
		slices.Sort(numbers)
		for i, got := range numbers {
			if got != i+1 {
				t.Fatalf("sorted numbers = %v, want exactly 1..%d", numbers, n)
			}
		}
		stored, err := d.client.Ticket.Query().Order(ent.Asc(ticket.FieldNumber)).All(d.sys)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != n {
			t.Fatalf("%d tickets stored, want %d", len(stored), n)
		}
		for i, tk := range stored {
			if tk.Number != i+1 {
				t.Fatalf("stored ticket %d has number %d, want %d", i, tk.Number, i+1)
			}
			if ms := d.messages(t, tk.ID); len(ms) != 1 {
				t.Fatalf("ticket #%d has %d messages, want 1", tk.Number, len(ms))
			}
		}
	})
}

func TestReply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newDesk(t, tg.Open(t))

		t.Run("StaffPublicReplyRespondsAndOpens", func(t *testing.T) {
			tk := d.open(t, "No response yet")
			m, err := d.svc.Reply(d.asAgent, tk.ID, " On it! ", false)
			if err != nil {
				t.Fatal(err)
			}
			if m.Body != "On it!" || m.Internal || m.AuthorID != d.agent.ID || m.TicketID != tk.ID {
				t.Fatalf("reply = %q internal %v by %s", m.Body, m.Internal, m.AuthorID)
			}
			got := d.reload(t, tk.ID)
			if got.FirstRespondedAt == nil {
				t.Fatal("firstRespondedAt not set by the first staff reply")
			}
			if got.Status != ticket.StatusOPEN {
				t.Fatalf("status = %s after staff reply, want OPEN", got.Status)
			}
		})
		t.Run("FirstResponseIsKept", func(t *testing.T) {
			tk := d.open(t, "Two replies")
			if _, err := d.svc.Reply(d.asAgent, tk.ID, "First", false); err != nil {
				t.Fatal(err)
			}
			first := d.reload(t, tk.ID).FirstRespondedAt
			if _, err := d.svc.Reply(d.asAgent, tk.ID, "Second", false); err != nil {
				t.Fatal(err)
			}
			second := d.reload(t, tk.ID).FirstRespondedAt
			if first == nil || second == nil || !first.Equal(*second) {
				t.Fatalf("firstRespondedAt moved from %v to %v", first, second)
			}
		})
		t.Run("InternalNoteNeitherRespondsNorOpens", func(t *testing.T) {
			tk := d.open(t, "Only a note")
			m, err := d.svc.Reply(d.asAgent, tk.ID, "Checking logs", true)
			if err != nil {
				t.Fatal(err)
			}
			if !m.Internal {
				t.Fatal("note stored as public")
			}
			got := d.reload(t, tk.ID)
			if got.FirstRespondedAt != nil {
				t.Fatal("an internal note counted as the first response")
			}
			if got.Status != ticket.StatusNEW {
				t.Fatalf("status = %s after internal note, want NEW", got.Status)
			}
		})
		t.Run("CustomerReplyIsNoFirstResponse", func(t *testing.T) {
			tk := d.open(t, "Anyone?")
			if _, err := d.svc.Reply(d.asCust, tk.ID, "Hello?", false); err != nil {
				t.Fatal(err)
			}
			got := d.reload(t, tk.ID)
			if got.FirstRespondedAt != nil || got.Status != ticket.StatusNEW {
				t.Fatalf("after customer reply: firstRespondedAt %v status %s, want nil and NEW", got.FirstRespondedAt, got.Status)
			}
		})
		t.Run("CustomerReplyReopensSolvedTicket", func(t *testing.T) {
			tk := d.open(t, "Solved too early")
			if err := d.svc.SetStatus(d.asAgent, tk.ID, ticket.StatusSOLVED); err != nil {
				t.Fatal(err)
			}
			if _, err := d.svc.Reply(d.asCust, tk.ID, "Still broken", false); err != nil {
				t.Fatal(err)
			}
			got := d.reload(t, tk.ID)
			if got.Status != ticket.StatusOPEN {
				t.Fatalf("status = %s after customer reply on solved ticket, want OPEN", got.Status)
			}
			if got.SolvedAt != nil {
				t.Fatal("solvedAt still set on the reopened ticket")
			}
		})
		t.Run("CustomerReplyReopensPendingTicket", func(t *testing.T) {
			tk := d.open(t, "Waiting on customer")
			if err := d.svc.SetStatus(d.asAgent, tk.ID, ticket.StatusPENDING); err != nil {
				t.Fatal(err)
			}
			if _, err := d.svc.Reply(d.asCust, tk.ID, "Here is the info", false); err != nil {
				t.Fatal(err)
			}
			if got := d.reload(t, tk.ID); got.Status != ticket.StatusOPEN {
				t.Fatalf("status = %s, want OPEN", got.Status)
			}
		})
		t.Run("ReplyToClosedTicketIsConflict", func(t *testing.T) {
			tk := d.open(t, "Closed for good")
			if err := d.svc.SetStatus(d.asAgent, tk.ID, ticket.StatusCLOSED); err != nil {
				t.Fatal(err)
			}
			before := len(d.messages(t, tk.ID))
			_, err := d.svc.Reply(d.asCust, tk.ID, "One more thing", false)
			wantCode(t, err, apierr.Conflict)
			_, err = d.svc.Reply(d.asAgent, tk.ID, "A note", true)
			wantCode(t, err, apierr.Conflict)
			if n := len(d.messages(t, tk.ID)); n != before {
				t.Fatalf("%d messages after refused replies, want %d", n, before)
			}
			if got := d.reload(t, tk.ID); got.Status != ticket.StatusCLOSED {
				t.Fatalf("status = %s, want CLOSED", got.Status)
			}
		})
		t.Run("EmptyReplyIsBadInput", func(t *testing.T) {
			tk := d.open(t, "Empty reply")
			_, err := d.svc.Reply(d.asAgent, tk.ID, " \n ", false)
			wantField(t, err, apierr.BadUserInput, "body")
			_, err = d.svc.Reply(d.asAgent, tk.ID, strings.Repeat("x", entschema.MaxBodyLen+1), false)
			wantField(t, err, apierr.BadUserInput, "body")
		})
		t.Run("ReplyOutOfReachReadsAsMissing", func(t *testing.T) {
			tk := d.open(t, "Someone else's ticket")
			stranger := d.user(t, "sam@example.com", user.RoleCUSTOMER)
			asStranger := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: stranger.ID, Role: viewer.Customer})
			outsider := d.user(t, "olga@helpdesk.test", user.RoleAGENT)
			asOutsider := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: outsider.ID, Role: viewer.Agent})
			before := len(d.messages(t, tk.ID))
			missing := globalid.New(globalid.PrefixTicket)
			_, errMissing := d.svc.Reply(asStranger, missing, "hello", false)
			for name, ctx := range map[string]context.Context{"customer": asStranger, "agent": asOutsider} {
				_, err := d.svc.Reply(ctx, tk.ID, "Let me in", false)
				if !ent.IsNotFound(err) || !ent.IsNotFound(errMissing) {
					t.Fatalf("%s out of reach: error %v, missing ticket: %v; want both not found", name, err, errMissing)
				}
			}
			if n := len(d.messages(t, tk.ID)); n != before {
				t.Fatalf("%d messages after refused replies, want %d", n, before)
			}
		})
		t.Run("EventCarriesTheTicketAsStored", func(t *testing.T) {
			tk := d.open(t, "Snapshot")
			was := d.reload(t, tk.ID)
			if _, err := d.svc.Reply(d.asCust, tk.ID, "Any news?", false); err != nil {
				t.Fatal(err)
			}
			now := d.reload(t, tk.ID)
			e, err := d.client.Event.Query().
				Where(event.TicketID(tk.ID), event.Type(entschema.EventMessageAdded)).
				Order(ent.Desc(event.FieldCursor)).First(d.sys)
			if err != nil {
				t.Fatal(err)
			}
			var snap struct {
				Before, After struct {
					UpdatedAt time.Time `json:"updated_at"`
				}
			}
			if err := json.Unmarshal(fmt.Appendf(nil, `{"before":%s,"after":%s}`, e.Before, e.After), &snap); err != nil {
				t.Fatal(err)
			}
			if !snap.Before.UpdatedAt.Equal(was.UpdatedAt) || !snap.After.UpdatedAt.Equal(now.UpdatedAt) {
				t.Fatalf("event says updatedAt %v → %v; the ticket read %v → %v",
					snap.Before.UpdatedAt, snap.After.UpdatedAt, was.UpdatedAt, now.UpdatedAt)
			}
			if !now.UpdatedAt.After(was.UpdatedAt) {
				t.Fatalf("updatedAt did not move: %v → %v", was.UpdatedAt, now.UpdatedAt)
			}
		})
		t.Run("AnonymousReplyIsUnauthenticated", func(t *testing.T) {
			tk := d.open(t, "Anonymous reply")
			_, err := d.svc.Reply(viewer.NewContext(context.Background(), nil), tk.ID, "hi", false)
			wantCode(t, err, apierr.Unauthenticated)
		})
	})
}

func TestUpdate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newDesk(t, tg.Open(t))

		t.Run("CustomerAssigneeIsBadInput", func(t *testing.T) {
			tk := d.open(t, "Assign to customer")
			_, err := d.svc.Update(d.asAgent, tk.ID, ent.UpdateTicketInput{AssigneeID: &d.customer.ID})
			wantField(t, err, apierr.BadUserInput, "assigneeID")
			if got := d.reload(t, tk.ID); got.AssigneeID != nil {
				t.Fatalf("ticket assigned to %s after refused update", *got.AssigneeID)
			}
		})
		t.Run("UnknownAssigneeIsNotFound", func(t *testing.T) {
			tk := d.open(t, "Assign to nobody")
			missing := globalid.New(globalid.PrefixUser)
			_, err := d.svc.Update(d.asAgent, tk.ID, ent.UpdateTicketInput{AssigneeID: &missing})
			wantField(t, err, apierr.NotFound, "assigneeID")
		})
		t.Run("UnknownGroupIsNotFound", func(t *testing.T) {
			tk := d.open(t, "Move to nowhere")
			missing := globalid.New(globalid.PrefixGroup)
			_, err := d.svc.Update(d.asAgent, tk.ID, ent.UpdateTicketInput{GroupID: &missing})
			wantField(t, err, apierr.NotFound, "groupID")
			if got := d.reload(t, tk.ID); got.GroupID == nil || *got.GroupID != d.support.ID {
				t.Fatalf("group = %v after refused update, want Support", got.GroupID)
			}
		})
		t.Run("IDOfAnotherKindIsNoGroup", func(t *testing.T) {
			tk := d.open(t, "Move to a user")
			_, err := d.svc.Update(d.asAgent, tk.ID, ent.UpdateTicketInput{GroupID: &d.agent.ID})
			if got := d.reload(t, tk.ID); got.GroupID == nil || *got.GroupID != d.support.ID {
				t.Fatalf("group = %v after refused update, want Support", got.GroupID)
			}
			if ent.IsConstraintError(err) {
				t.Fatalf("fixed bug regressed: a user's ID given as groupID passes nodes.MustSee in internal/nodes/nodes.go (it accepts any visible node of any type) and fails later as a foreign key error without a field: %v", err)
			}
			wantField(t, err, apierr.NotFound, "groupID")
		})
		t.Run("AssignsToAgent", func(t *testing.T) {
			tk := d.open(t, "Assign to Otto")
			got, err := d.svc.Update(d.asAgent, tk.ID, ent.UpdateTicketInput{AssigneeID: &d.other.ID})
			if err != nil {
				t.Fatal(err)
			}
			if got.AssigneeID == nil || *got.AssigneeID != d.other.ID {
				t.Fatalf("returned assignee = %v, want Otto", got.AssigneeID)
			}
			if stored := d.reload(t, tk.ID); stored.AssigneeID == nil || *stored.AssigneeID != d.other.ID {
				t.Fatalf("stored assignee = %v, want Otto", stored.AssigneeID)
			}
		})
		t.Run("SubjectIsTrimmedAndChecked", func(t *testing.T) {
			tk := d.open(t, "Old subject")
			s := "  New subject  "
			if _, err := d.svc.Update(d.asAgent, tk.ID, ent.UpdateTicketInput{Subject: &s}); err != nil {
				t.Fatal(err)
			}
			if got := d.reload(t, tk.ID); got.Subject != "New subject" {
				t.Fatalf("subject = %q, want trimmed", got.Subject)
			}
			blank := "   "
			_, err := d.svc.Update(d.asAgent, tk.ID, ent.UpdateTicketInput{Subject: &blank})
			wantField(t, err, apierr.BadUserInput, "subject")
		})
		t.Run("TagsCanBeSetAndAppended", func(t *testing.T) {
			tk := d.open(t, "Tags")
			if _, err := d.svc.Update(d.asAgent, tk.ID, ent.UpdateTicketInput{Tags: []string{"billing"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := d.svc.Update(d.asAgent, tk.ID, ent.UpdateTicketInput{AppendTags: []string{"vip"}}); err != nil {
				t.Fatal(err)
			}
			got := d.reload(t, tk.ID)
			if !slices.Equal(got.Tags, []string{"billing", "vip"}) {
				if slices.Equal(got.Tags, []string{"billing"}) {
					t.Fatal("fixed bug regressed: appendTags is ignored: UpdateTicketInput.Mutate in ent/gql_mutation_input.go (generated by entgql, ent/contrib PR #639) appends i.Tags instead of i.AppendTags")
				}
				t.Fatalf("tags = %v, want [billing vip]", got.Tags)
			}
		})
	})
}

// Replies and updates of one ticket at the same time must all succeed:
// both lock the ticket before numbering their events, so PostgreSQL never
// finds them waiting for each other.
func TestConcurrentRepliesAndUpdatesDoNotDeadlock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		d := newDesk(t, tg.Open(t))
		tk := d.open(t, "Busy ticket")
		const n = 25
		errs := make(chan error, 8*n)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range n {
					status := ticket.StatusPENDING
					if i%2 == 1 {
						status = ticket.StatusOPEN
					}
					errs <- d.svc.SetStatus(d.asAgent, tk.ID, status)
				}
			})
			wg.Go(func() {
				for i := range n {
					_, err := d.svc.Reply(d.asCust, tk.ID, fmt.Sprintf("more %d/%d", w, i), false)
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent change failed: %v", err)
			}
		}
		if got := len(d.messages(t, tk.ID)); got != 1+4*n {
			t.Fatalf("%d messages, want %d", got, 1+4*n)
		}
	})
}
