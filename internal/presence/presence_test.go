package presence

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// storeBehaviour is what every Store must do, whatever keeps the entries.
// It uses the real clock, with TTLs far longer than the test.
func storeBehaviour(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	const ttl = time.Minute

	t.Run("TouchThenList", func(t *testing.T) {
		s := newStore(t)
		ticket, user := globalid.New(globalid.PrefixTicket), globalid.New(globalid.PrefixUser)
		before := time.Now()
		if err := s.Touch(ctx, ticket, user, false, ttl); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		got := list(t, s, ticket)
		if len(got) != 1 || got[0].UserID != user || got[0].Typing {
			t.Fatalf("List = %+v, want one viewing entry for %s", got, user)
		}
		// Redis keeps milliseconds.
		if exp := got[0].ExpiresAt; exp.Before(before.Add(ttl-time.Millisecond)) || exp.After(after.Add(ttl)) {
			t.Fatalf("ExpiresAt = %v, want about %v", exp, before.Add(ttl))
		}
	})

	t.Run("UnknownTicketIsEmpty", func(t *testing.T) {
		if got := list(t, newStore(t), globalid.New(globalid.PrefixTicket)); len(got) != 0 {
			t.Fatalf("List = %+v, want nothing", got)
		}
	})

	t.Run("TouchReplacesTheUsersEntry", func(t *testing.T) {
		s := newStore(t)
		ticket, user := globalid.New(globalid.PrefixTicket), globalid.New(globalid.PrefixUser)
		for _, typing := range []bool{false, true, true, false} {
			if err := s.Touch(ctx, ticket, user, typing, ttl); err != nil {
				t.Fatal(err)
			}
			got := list(t, s, ticket)
			if len(got) != 1 || got[0].UserID != user || got[0].Typing != typing {
				t.Fatalf("after Touch(typing=%v): List = %+v, want one entry with that flag", typing, got)
			}
		}
	})

	t.Run("SortedByUser", func(t *testing.T) {
		s := newStore(t)
		ticket := globalid.New(globalid.PrefixTicket)
		users := []globalid.ID{globalid.New(globalid.PrefixUser), globalid.New(globalid.PrefixUser), globalid.New(globalid.PrefixUser)}
		for _, u := range slices.Backward(users) {
			if err := s.Touch(ctx, ticket, u, u == users[1], ttl); err != nil {
				t.Fatal(err)
			}
		}
		got := list(t, s, ticket)
		ids := make([]globalid.ID, len(got))
		for i, e := range got {
			ids[i] = e.UserID
		}
		if !slices.Equal(ids, users) {
			t.Fatalf("List order = %v, want %v", ids, users)
		}
		if !got[1].Typing || got[0].Typing || got[2].Typing {
			t.Fatalf("typing flags = %+v, want only the second user typing", got)
		}
	})

	t.Run("TicketsAreSeparate", func(t *testing.T) {
		s := newStore(t)
		a, b := globalid.New(globalid.PrefixTicket), globalid.New(globalid.PrefixTicket)
		user := globalid.New(globalid.PrefixUser)
		if err := s.Touch(ctx, a, user, true, ttl); err != nil {
			t.Fatal(err)
		}
		if got := list(t, s, b); len(got) != 0 {
			t.Fatalf("other ticket lists %+v", got)
		}
	})
}

func list(t *testing.T, s Store, ticket globalid.ID) []Entry {
	t.Helper()
	got, err := s.List(context.Background(), ticket)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestMemory(t *testing.T) {
	storeBehaviour(t, func(*testing.T) Store { return NewMemory() })

	t.Run("ExpiredEntriesVanish", func(t *testing.T) {
		ctx := context.Background()
		m := NewMemory()
		now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		m.now = func() time.Time { return now }
		ticket := globalid.New(globalid.PrefixTicket)
		short, long := globalid.New(globalid.PrefixUser), globalid.New(globalid.PrefixUser)
		if err := m.Touch(ctx, ticket, short, true, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := m.Touch(ctx, ticket, long, false, 30*time.Second); err != nil {
			t.Fatal(err)
		}

		now = now.Add(5*time.Second - time.Nanosecond)
		if got := list(t, m, ticket); len(got) != 2 {
			t.Fatalf("just before expiry: List = %+v, want both entries", got)
		}
		now = now.Add(time.Nanosecond)
		if got := list(t, m, ticket); len(got) != 1 || got[0].UserID != long {
			t.Fatalf("at expiry: List = %+v, want only %s", got, long)
		}
		now = now.Add(25 * time.Second)
		if got := list(t, m, ticket); len(got) != 0 {
			t.Fatalf("after both expiries: List = %+v, want nothing", got)
		}
		if len(m.tickets) != 0 {
			t.Fatalf("emptied ticket still held: %v", m.tickets)
		}
	})

	t.Run("RenewalPostponesExpiry", func(t *testing.T) {
		ctx := context.Background()
		m := NewMemory()
		now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		m.now = func() time.Time { return now }
		ticket, user := globalid.New(globalid.PrefixTicket), globalid.New(globalid.PrefixUser)
		for range 3 {
			if err := m.Touch(ctx, ticket, user, false, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			now = now.Add(4 * time.Second)
			if got := list(t, m, ticket); len(got) != 1 {
				t.Fatalf("renewed entry gone: List = %+v", got)
			}
		}
	})
}

func TestMemorySweep(t *testing.T) {
	m := NewMemory()
	now := time.Now()
	m.now = func() time.Time { return now }
	ctx := context.Background()
	_ = m.Touch(ctx, "TK1", "US1", false, time.Second)
	_ = m.Touch(ctx, "TK2", "US2", false, time.Minute)
	now = now.Add(2 * time.Second)
	m.Sweep()
	if _, ok := m.tickets["TK1"]; ok {
		t.Fatal("an unwatched ticket's expired entry was kept")
	}
	if len(m.tickets["TK2"]) != 1 {
		t.Fatal("a live entry was swept")
	}
}
