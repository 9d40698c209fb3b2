// Package presence remembers who is looking at a ticket, and who is typing
// on it, for collision detection between agents, and which agents are
// online at all (under the place Online). Entries are heartbeats:
// each expires after its TTL unless renewed. Memory keeps them in the
// process (embedded mode); Redis keeps them in sorted sets with the expiry
// as score, shared by all instances.
package presence

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Online is the place of the agents and admins with a live connection to
// any instance: each instance renews its own (see live.Hub), so an entry
// lapses a TTL after the person's last connection closed.
const Online globalid.ID = "online"

// Entry is one person on a ticket.
type Entry struct {
	UserID    globalid.ID
	Typing    bool
	ExpiresAt time.Time
}

// Store keeps presence entries.
type Store interface {
	// Touch records that userID is on ticketID (typing or not) until
	// now+ttl, replacing their earlier entry.
	Touch(ctx context.Context, ticketID, userID globalid.ID, typing bool, ttl time.Duration) error
	// List returns the unexpired entries of ticketID, ordered by user id.
	List(ctx context.Context, ticketID globalid.ID) ([]Entry, error)
}

// Memory is the in-process Store.
type Memory struct {
	mu      sync.Mutex
	now     func() time.Time
	tickets map[globalid.ID]map[globalid.ID]Entry
}

// NewMemory returns an empty in-process store.
func NewMemory() *Memory {
	return &Memory{now: time.Now, tickets: map[globalid.ID]map[globalid.ID]Entry{}}
}

// Touch records a heartbeat.
func (m *Memory) Touch(_ context.Context, ticketID, userID globalid.ID, typing bool, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	entries := m.tickets[ticketID]
	if entries == nil {
		entries = map[globalid.ID]Entry{}
		m.tickets[ticketID] = entries
	}
	entries[userID] = Entry{UserID: userID, Typing: typing, ExpiresAt: m.now().Add(ttl)}
	return nil
}

// List returns the live entries, forgetting expired ones.
func (m *Memory) List(_ context.Context, ticketID globalid.ID) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []Entry
	for id, e := range m.tickets[ticketID] {
		if !e.ExpiresAt.After(now) {
			delete(m.tickets[ticketID], id)
			continue
		}
		out = append(out, e)
	}
	if len(m.tickets[ticketID]) == 0 {
		delete(m.tickets, ticketID)
	}
	Sort(out)
	return out, nil
}

// Sweep forgets the expired entries of every ticket, also those nobody
// lists any more (Redis does this by itself, with key expiry).
func (m *Memory) Sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for ticketID, entries := range m.tickets {
		for id, e := range entries {
			if !e.ExpiresAt.After(now) {
				delete(entries, id)
			}
		}
		if len(entries) == 0 {
			delete(m.tickets, ticketID)
		}
	}
}

// Sort orders entries by user id, so that equal sets compare equal.
func Sort(entries []Entry) {
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(string(a.UserID), string(b.UserID)) })
}
