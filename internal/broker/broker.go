// Package broker carries announcements between Switchboard instances: "new
// events are in the log" and "who is looking at a ticket changed". It is a
// doorbell, not a mailbox: announcements may be lost (Redis pub/sub is
// at-most-once), so receivers treat them as hints and read the truth from
// the event log or the presence store. Each instance holds exactly one
// subscription, whatever the number of its clients.
//
// Two implementations share the Broker interface: Memory for one process
// (the embedded default) and Redis for several instances (REDIS_URL).
package broker

import (
	"context"
	"sync"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// Kind says what an announcement is about.
type Kind string

// The kinds of announcements.
const (
	// Events: events up to Cursor are committed to the log.
	Events Kind = "events"
	// Presence: the viewers of TicketID changed.
	Presence Kind = "presence"
	// Resync is produced by the broker itself, never published: the
	// subscription was (re)established, so announcements may have been
	// missed and the receiver should catch up from the log.
	Resync Kind = "resync"
)

// Notice is one announcement.
type Notice struct {
	Kind     Kind        `json:"k"`
	Cursor   int64       `json:"c,omitempty"`
	TicketID globalid.ID `json:"t,omitempty"`
}

// Broker publishes notices to every instance, this one included.
type Broker interface {
	// Publish announces n to all instances. An error means the notice may
	// not have reached them; callers log it and go on, since receivers
	// also poll the log.
	Publish(ctx context.Context, n Notice) error
	// Notices is this instance's single subscription. It starts with a
	// Resync and gets another after every reconnection. It is closed by
	// Close.
	Notices() <-chan Notice
	// Close ends the subscription.
	Close() error
}

// NoticeBuffer is how many notices wait for the receiver before new ones
// are dropped (receivers catch up from the log, so a drop delays, never
// loses).
const NoticeBuffer = 1024

// Memory is the in-process broker: notices go straight to the one local
// subscription.
type Memory struct {
	mu     sync.Mutex
	ch     chan Notice
	closed bool
}

// NewMemory returns an in-process broker.
func NewMemory() *Memory {
	m := &Memory{ch: make(chan Notice, NoticeBuffer)}
	m.ch <- Notice{Kind: Resync}
	return m
}

// Publish delivers n to the local subscription, dropping it when the
// receiver is NoticeBuffer notices behind.
func (m *Memory) Publish(_ context.Context, n Notice) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	select {
	case m.ch <- n:
	default:
	}
	return nil
}

// Notices is the local subscription.
func (m *Memory) Notices() <-chan Notice { return m.ch }

// Close closes the subscription.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.ch)
	}
	return nil
}

// ErrClosed is returned by Publish after Close.
var ErrClosed = errClosed{}

type errClosed struct{}

func (errClosed) Error() string { return "broker: closed" }
