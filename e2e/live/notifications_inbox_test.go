package live_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/notification"
	"github.com/switchboardhq/switchboard/ent/schema"
	"github.com/switchboardhq/switchboard/ent/sequence"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/notify"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// writeNotifications writes, as internal/notify does with the event
// hooks, one event of the ticket notifying recipients and a notification
// for each, in one transaction. It returns the event's cursor and the
// notifications' IDs. The server finds the event at its next poll.
func writeNotifications(t *testing.T, client *ent.Client, ticketID string, recipients ...string) (int64, []string) {
	t.Helper()
	sys := viewer.SystemContext(context.Background())
	tx, err := client.Tx(sys)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tx.Sequence.Update().Where(sequence.Name(schema.EventCursorSequence)).AddValue(1).Exec(sys))
	seq, err := tx.Sequence.Query().Where(sequence.Name(schema.EventCursorSequence)).Only(sys)
	must(err)
	tk, err := tx.Ticket.Get(sys, globalid.ID(ticketID))
	must(err)
	snap, err := json.Marshal(tk)
	must(err)
	var ids []globalid.ID
	for _, r := range recipients {
		ids = append(ids, globalid.ID(r))
	}
	cursor := int64(seq.Value)
	must(tx.Event.Create().SetCursor(cursor).SetType(schema.EventTicketUpdated).SetTicketID(tk.ID).
		SetRequesterID(tk.RequesterID).SetNillableGroupID(tk.GroupID).SetNillableAssigneeID(tk.AssigneeID).
		SetChanges([]string{}).SetBefore(snap).SetAfter(snap).SetNotified(ids).Exec(sys))
	var out []string
	for _, id := range ids {
		n, err := tx.Notification.Create().SetRecipientID(id).SetKind(notification.KindASSIGNED).
			SetTicketID(tk.ID).SetEventCursor(cursor).Save(sys)
		must(err)
		out = append(out, string(n.ID))
	}
	must(tx.Commit())
	return cursor, out
}

const (
	inboxQuery = `query($after: Cursor, $first: Int, $unreadOnly: Boolean) {
	  notifications(after: $after, first: $first, unreadOnly: $unreadOnly) {
	    totalCount pageInfo { hasNextPage endCursor }
	    edges { node { id cursor kind ticketID readAt ticket { id } } }
	  }
	}`
	inboxUnreadCount   = `{ unreadNotificationCount }`
	inboxMarkRead      = `mutation($ids: [ID!], $all: Boolean) { markNotificationsRead(ids: $ids, all: $all) }`
	inboxPreferences   = `{ notificationPreferences { kind enabled } }`
	inboxSetPreference = `mutation($kind: NotificationKind!, $enabled: Boolean!) { setNotificationPreference(kind: $kind, enabled: $enabled) { kind enabled } }`
	inboxSubscription  = `subscription($after: String) { notifications(after: $after) { id cursor kind ticket { id } } }`
)

// inboxCursors lists the cursors of a notifications page, in its order.
func inboxCursors(data map[string]any) []string {
	var out []string
	edges, _ := harness.Path(data, "notifications", "edges").([]any)
	for _, e := range edges {
		out = append(out, harness.Str(e, "node", "cursor"))
	}
	return out
}

func TestNotificationsInbox(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, "agent@example.com", "Alice Agent", "agent", "teal lantern orbit 42")
		harness.CreateUser(t, tg, "bob@example.com", "Bob Agent", "agent", "teal lantern orbit 42")
		client := tg.Open(t)
		s := harness.Start(t, tg, nil)
		_, custID := harness.Signup(t, s, "cust@example.com", "Cust")
		agent := harness.Login(t, s, "agent@example.com", "teal lantern orbit 42")
		bob := harness.Login(t, s, "bob@example.com", "teal lantern orbit 42")
		agentID := harness.Str(s.Do(t, agent, `{ me { id } }`, nil).OK(t), "me", "id")
		bobID := harness.Str(s.Do(t, bob, `{ me { id } }`, nil).OK(t), "me", "id")
		// Assigned to the agent, in no group: out of Bob's reach.
		tk := s.Do(t, agent, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Phoned in", "body": "by phone", "requesterID": custID}}).OK(t)
		ticketID := harness.Str(tk, "createTicket", "id")

		var cursors []int64
		var ids []string
		for range 3 {
			c, n := writeNotifications(t, client, ticketID, agentID, bobID)
			cursors = append(cursors, c)
			ids = append(ids, n[0])
		}
		_, bobs := writeNotifications(t, client, ticketID, bobID)

		t.Run("NewestFirstInPages", func(t *testing.T) {
			page := s.Do(t, agent, inboxQuery, map[string]any{"first": 2}).OK(t)
			if got := inboxCursors(page); len(got) != 2 || got[0] != cursorOf(cursors[2]) || got[1] != cursorOf(cursors[1]) {
				t.Fatalf("first page %v, want cursors %d, %d", got, cursors[2], cursors[1])
			}
			if harness.Num(page, "notifications", "totalCount") != 3 || harness.Path(page, "notifications", "pageInfo", "hasNextPage") != true {
				t.Fatalf("first page = %v", page)
			}
			if harness.Str(page, "notifications", "edges", 0, "node", "kind") != "ASSIGNED" || harness.Str(page, "notifications", "edges", 0, "node", "ticket", "id") != ticketID {
				t.Fatalf("first notification = %v", harness.Path(page, "notifications", "edges", 0))
			}
			rest := s.Do(t, agent, inboxQuery, map[string]any{"first": 2, "after": harness.Str(page, "notifications", "pageInfo", "endCursor")}).OK(t)
			if got := inboxCursors(rest); len(got) != 1 || got[0] != cursorOf(cursors[0]) {
				t.Fatalf("second page %v, want cursor %d", got, cursors[0])
			}
			// Bob's notifications are of a ticket he cannot read.
			if got := inboxCursors(s.Do(t, bob, inboxQuery, nil).OK(t)); len(got) != 0 {
				t.Fatalf("Bob reads notifications %v of a ticket out of his reach", got)
			}
			if r := s.Do(t, agent, `{ notifications(first: 1000) { totalCount } }`, nil); r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "first" {
				t.Fatalf("huge page: %+v", r.Errors)
			}
		})
		t.Run("ReadMarks", func(t *testing.T) {
			if n := harness.Num(s.Do(t, agent, inboxUnreadCount, nil).OK(t), "unreadNotificationCount"); n != 3 {
				t.Fatalf("unread = %d, want 3", n)
			}
			// Someone else's notification does not match.
			marked := s.Do(t, agent, inboxMarkRead, map[string]any{"ids": []string{ids[0], bobs[0]}}).OK(t)
			if n := harness.Num(marked, "markNotificationsRead"); n != 1 {
				t.Fatalf("marked %d, want 1", n)
			}
			if n := harness.Num(s.Do(t, agent, inboxUnreadCount, nil).OK(t), "unreadNotificationCount"); n != 2 {
				t.Fatalf("unread = %d, want 2", n)
			}
			unread := s.Do(t, agent, inboxQuery, map[string]any{"unreadOnly": true}).OK(t)
			if got := inboxCursors(unread); len(got) != 2 || got[0] != cursorOf(cursors[2]) || got[1] != cursorOf(cursors[1]) {
				t.Fatalf("unread %v", got)
			}
			all := s.Do(t, agent, inboxQuery, nil).OK(t)
			if harness.Str(all, "notifications", "edges", 2, "node", "readAt") == "" || harness.Path(all, "notifications", "edges", 0, "node", "readAt") != nil {
				t.Fatalf("read marks = %v", all)
			}
			if r := s.Do(t, agent, inboxMarkRead, nil); r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "ids" {
				t.Fatalf("neither ids nor all: %+v", r.Errors)
			}
			if r := s.Do(t, agent, inboxMarkRead, map[string]any{"ids": []string{ticketID}}); r.Code(t) != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "ids" {
				t.Fatalf("a ticket's ID: %+v", r.Errors)
			}
			if n := harness.Num(s.Do(t, agent, inboxMarkRead, map[string]any{"all": true}).OK(t), "markNotificationsRead"); n != 2 {
				t.Fatalf("marked all: %d, want 2", n)
			}
			if n := harness.Num(s.Do(t, agent, inboxUnreadCount, nil).OK(t), "unreadNotificationCount"); n != 0 {
				t.Fatalf("unread = %d, want 0", n)
			}
			// Bob's own notification is not marked by the agent's all.
			if n, err := client.Notification.Query().Where(notification.ReadAtIsNil(), notification.RecipientID(globalid.ID(bobID))).Count(viewer.SystemContext(context.Background())); err != nil || n != 4 {
				t.Fatalf("Bob has %d unread (%v), want 4", n, err)
			}
		})
		t.Run("Preferences", func(t *testing.T) {
			prefs, _ := harness.Path(s.Do(t, agent, inboxPreferences, nil).OK(t), "notificationPreferences").([]any)
			if len(prefs) != len(notify.Kinds) {
				t.Fatalf("preferences = %v", prefs)
			}
			for _, p := range prefs {
				if harness.Path(p, "enabled") != true {
					t.Fatalf("preferences = %v, want all enabled", prefs)
				}
			}
			s.Do(t, agent, inboxSetPreference, map[string]any{"kind": "MENTIONED", "enabled": false}).OK(t)
			s.Do(t, agent, inboxSetPreference, map[string]any{"kind": "FOLLOWED_REPLY", "enabled": false}).OK(t)
			s.Do(t, agent, inboxSetPreference, map[string]any{"kind": "FOLLOWED_REPLY", "enabled": true}).OK(t)
			prefs, _ = harness.Path(s.Do(t, agent, inboxPreferences, nil).OK(t), "notificationPreferences").([]any)
			for _, p := range prefs {
				if want := harness.Str(p, "kind") != "MENTIONED"; harness.Path(p, "enabled") != want {
					t.Fatalf("preferences = %v, want MENTIONED alone off", prefs)
				}
			}
			u, err := client.User.Get(viewer.SystemContext(context.Background()), globalid.ID(agentID))
			if err != nil || len(u.MutedNotifications) != 1 || u.MutedNotifications[0] != "MENTIONED" {
				t.Fatalf("muted = %v (%v)", u.MutedNotifications, err)
			}
			if r := s.Do(t, agent, inboxSetPreference, map[string]any{"kind": "NOPE", "enabled": false}); r.Code(t) != "BAD_USER_INPUT" {
				t.Fatalf("unknown kind: %+v", r.Errors)
			}
		})
		t.Run("SignInRequired", func(t *testing.T) {
			for _, q := range []string{inboxQuery, inboxUnreadCount, inboxPreferences} {
				if r := s.Do(t, "", q, nil); r.Code(t) != "UNAUTHENTICATED" {
					t.Fatalf("anonymous %s: %+v", q, r.Errors)
				}
			}
			if r := s.Do(t, "", inboxMarkRead, map[string]any{"all": true}); r.Code(t) != "UNAUTHENTICATED" {
				t.Fatalf("anonymous mark: %+v", r.Errors)
			}
		})
		t.Run("SubscriptionResumesThenGoesLive", func(t *testing.T) {
			st := harness.ConnectStream(t, s, "graphql-transport-ws", agent)
			st.Sub(t, "bad", inboxSubscription, map[string]any{"after": "yesterday"})
			if code := st.ErrorCode(t, "bad"); code != "BAD_USER_INPUT" {
				t.Fatalf("malformed after: %s", code)
			}
			st.Sub(t, "1", inboxSubscription, map[string]any{"after": cursorOf(cursors[0])})
			want := []string{cursorOf(cursors[1]), cursorOf(cursors[2])}
			for range 2 {
				live, _ := writeNotifications(t, client, ticketID, agentID)
				want = append(want, cursorOf(live))
			}
			for i, c := range want {
				n := st.Data(t, "1")
				if got := harness.Str(n, "notifications", "cursor"); got != c || harness.Str(n, "notifications", "ticket", "id") != ticketID {
					t.Fatalf("notification %d = %v, want cursor %s (all: %v)", i, n, c, want)
				}
			}
			st.Quiet(t, 1500*time.Millisecond)
			select {
			case ev := <-harness.ReadSSE(harness.SSE(t, s, "", `subscription { notifications { id } }`).Body):
				if !strings.Contains(ev.Data, "UNAUTHENTICATED") {
					t.Fatalf("anonymous subscription got %q %s, want UNAUTHENTICATED", ev.Event, ev.Data)
				}
			case <-time.After(harness.LiveWait):
				t.Fatal("anonymous subscription: no answer")
			}
		})
	})
}

func cursorOf(n int64) string { return strconv.FormatInt(n, 10) }
