package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/sequence"
	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// notifyOf writes, as internal/notify will with the event hooks, one event
// of the ticket that notified recipients and each recipient's notification
// of it, in one transaction, then tells the hub. It returns the cursor.
func notifyOf(t *testing.T, w *world, h *live.Hub, tk *ent.Ticket, recipients ...*viewer.Viewer) int64 {
	t.Helper()
	sys := viewer.SystemContext(context.Background())
	tx, err := w.client.Tx(sys)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Sequence.Update().Where(sequence.Name(schema.EventCursorSequence)).AddValue(1).Exec(sys); err != nil {
		t.Fatal(err)
	}
	seq, err := tx.Sequence.Query().Where(sequence.Name(schema.EventCursorSequence)).Only(sys)
	if err != nil {
		t.Fatal(err)
	}
	now, err := tx.Ticket.Get(sys, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	after, err := json.Marshal(now)
	if err != nil {
		t.Fatal(err)
	}
	var ids []globalid.ID
	for _, r := range recipients {
		ids = append(ids, r.UserID)
	}
	cursor := int64(seq.Value)
	err = tx.Event.Create().SetCursor(cursor).SetType(schema.EventTicketUpdated).SetTicketID(tk.ID).
		SetRequesterID(now.RequesterID).SetNillableGroupID(now.GroupID).SetChanges([]string{}).
		SetBefore(after).SetAfter(after).SetNotified(ids).Exec(sys)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		err := tx.Notification.Create().SetRecipientID(id).SetKind(notification.KindUNASSIGNED_IN_GROUP).
			SetTicketID(tk.ID).SetEventCursor(cursor).Exec(sys)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	h.Announce(context.Background())
	return cursor
}

func subscribeInbox(t *testing.T, h *live.Hub, v *viewer.Viewer, after *string) <-chan *ent.Notification {
	t.Helper()
	ctx, cancel := context.WithCancel(as(v))
	t.Cleanup(cancel)
	ch, err := h.SubscribeNotifications(ctx, after)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func nextNotice(t *testing.T, ch <-chan *ent.Notification) *ent.Notification {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10s")
	}
	return nil
}

func noNotice(t *testing.T, ch <-chan *ent.Notification) {
	t.Helper()
	select {
	case n := <-ch:
		t.Fatalf("got the notification of #%d for %s, want nothing", n.EventCursor, n.RecipientID)
	case <-time.After(300 * time.Millisecond):
	}
}

// groupsFromDB re-reads viewers' groups, as internal/auth does.
type groupsFromDB struct{ client *ent.Client }

func (g groupsFromDB) Revalidate(ctx context.Context, vs []*viewer.Viewer) ([]*viewer.Viewer, error) {
	out := make([]*viewer.Viewer, len(vs))
	for i, v := range vs {
		u, err := g.client.User.Query().Where(user.ID(v.UserID)).WithGroups().Only(viewer.SystemContext(ctx))
		if err != nil {
			return nil, err
		}
		now := *v
		now.GroupIDs = nil
		for _, gr := range u.Edges.Groups {
			now.GroupIDs = append(now.GroupIDs, gr.ID)
		}
		out[i] = &now
	}
	return out, nil
}

func TestNotifications(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		t.Run("ToTheRecipientWhoMayReadTheTicket", func(t *testing.T) {
			w := newWorld(t, tg)
			tk := w.open(t, "Invoice")
			agent := subscribeInbox(t, w.hub, w.agent, nil)
			again := subscribeInbox(t, w.hub, w.agent, nil) // a second tab
			outsider := subscribeInbox(t, w.hub, w.outsider, nil)
			admin := subscribeInbox(t, w.hub, w.admin, nil)
			// The outsider is notified but cannot read the ticket; the
			// admin could read it but was not notified.
			cursor := notifyOf(t, w, w.hub, tk, w.agent, w.outsider)
			for _, ch := range []<-chan *ent.Notification{agent, again} {
				n := nextNotice(t, ch)
				if n.RecipientID != w.agent.UserID || n.EventCursor != cursor || n.TicketID != tk.ID {
					t.Fatalf("got %s's notification of #%d, want the agent's of #%d", n.RecipientID, n.EventCursor, cursor)
				}
			}
			if n := w.hub.Stats().Subscriptions; n != 4 {
				t.Errorf("Stats().Subscriptions = %d, want the 4 inboxes", n)
			}
			noNotice(t, outsider)
			noNotice(t, admin)
			noNotice(t, agent)
			// Ticket events without notifications reach no inbox.
			if _, err := w.tickets.Reply(as(w.agent), tk.ID, "on it", false); err != nil {
				t.Fatal(err)
			}
			noNotice(t, agent)
		})
		t.Run("QueriesPerEventDoNotGrowWithSubscribers", func(t *testing.T) {
			// The world's own hub reads the log only when told, so that its
			// polls do not fall inside the measurement (a loaded CI machine).
			w := newWorldPolling(t, tg, time.Hour)
			tk := w.open(t, "Crowded")
			quiet := quietHub(t, w)
			sys := viewer.SystemContext(context.Background())
			var agents []*viewer.Viewer
			for i := range 30 {
				u, err := w.client.User.Create().SetEmail(fmt.Sprintf("crowd%d@example.com", i)).SetName("crowd").SetRole(user.RoleAGENT).AddGroupIDs(w.group).Save(sys)
				if err != nil {
					t.Fatal(err)
				}
				agents = append(agents, &viewer.Viewer{UserID: u.ID, Role: viewer.Agent, GroupIDs: []globalid.ID{w.group}})
			}
			// Every event notifies all of them, so that writing it costs
			// the same; only how many of them listen differs.
			cost := func(listeners int) int64 {
				var chans []<-chan *ent.Notification
				for _, a := range agents[:listeners] {
					chans = append(chans, subscribeInbox(t, quiet, a, nil))
				}
				cheapest := int64(-1)
				for range 3 {
					before := w.counted.n.Load()
					notifyOf(t, w, quiet, tk, agents...)
					for _, ch := range chans {
						nextNotice(t, ch)
					}
					if n := w.counted.n.Load() - before; cheapest < 0 || n < cheapest {
						cheapest = n
					}
				}
				return cheapest
			}
			one, many := cost(1), cost(30)
			if many > one+2 { // housekeeping timers may still fall in between
				t.Fatalf("one notifying event cost %d statements with 1 listener and %d with 30", one, many)
			}
		})
		t.Run("NotAfterLeavingTheGroup", func(t *testing.T) {
			w := newWorld(t, tg)
			tk := w.open(t, "Invoice")
			h := live.New(w.client, broker.NewMemory(), presence.NewMemory(), groupsFromDB{w.client}, live.Options{PollInterval: 50 * time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err := h.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			agent := subscribeInbox(t, h, w.agent, nil)
			notifyOf(t, w, h, tk, w.agent)
			nextNotice(t, agent)
			sys := viewer.SystemContext(context.Background())
			tx, err := w.client.Tx(sys)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Group.UpdateOneID(w.group).RemoveMemberIDs(w.agent.UserID).Save(sys); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			notifyOf(t, w, h, tk, w.agent)
			noNotice(t, agent)
		})
		t.Run("ResumeHasNoGapNorDuplicate", func(t *testing.T) {
			w := newWorld(t, tg)
			tk := w.open(t, "Resume")
			other := w.open(t, "Someone else's")
			start := notifyOf(t, w, w.hub, tk, w.outsider) // not the agent's
			var missed []int64
			for range 3 {
				missed = append(missed, notifyOf(t, w, w.hub, tk, w.agent))
				notifyOf(t, w, w.hub, other, w.admin)
			}
			ch := subscribeInbox(t, w.hub, w.agent, strPtr(itoa(start)))
			want := append([]int64{}, missed...)
			for range 2 {
				want = append(want, notifyOf(t, w, w.hub, tk, w.agent))
			}
			for i, c := range want {
				if n := nextNotice(t, ch); n.EventCursor != c || n.RecipientID != w.agent.UserID {
					t.Fatalf("notification %d is of #%d for %s, want #%d of the agent (all: %v)", i, n.EventCursor, n.RecipientID, c, want)
				}
			}
			noNotice(t, ch)
			// From the last one seen: nothing again.
			resumed := subscribeInbox(t, w.hub, w.agent, strPtr(itoa(want[len(want)-1])))
			noNotice(t, resumed)
		})
		t.Run("BurstLargerThanTheQueueIsDeliveredInFull", func(t *testing.T) {
			w := newWorld(t, tg)
			tk := w.open(t, "Burst")
			quiet := quietHub(t, w)
			ch := subscribeInbox(t, quiet, w.agent, nil)
			const n = 100 // more than SubscriberQueue (64)
			var want []int64
			for range n {
				want = append(want, notifyOf(t, w, w.hub, tk, w.agent))
			}
			quiet.Announce(t.Context())
			for _, c := range want {
				if got := nextNotice(t, ch); got.EventCursor != c {
					t.Fatalf("got #%d, want #%d", got.EventCursor, c)
				}
			}
			noNotice(t, ch)
		})
		t.Run("Refusals", func(t *testing.T) {
			w := newWorld(t, tg)
			w.open(t, "Cursor")
			for _, after := range []string{"abc", "-1", "999999"} {
				if _, err := w.hub.SubscribeNotifications(as(w.agent), &after); apierr.CodeOf(err) != apierr.BadUserInput {
					t.Errorf("after %q: %v, want BAD_USER_INPUT", after, err)
				}
			}
			if _, err := w.hub.SubscribeNotifications(context.Background(), nil); apierr.CodeOf(err) != apierr.Unauthenticated {
				t.Errorf("anonymous: %v, want UNAUTHENTICATED", err)
			}
		})
	})
}
