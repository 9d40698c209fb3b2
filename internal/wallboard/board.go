package wallboard

import (
	"context"
	"sync"
	"time"
)

// board is the shared state of the screens that see the same numbers: the
// latest computation, and whether one is under way.
type board struct {
	key  string
	refs int // guarded by Service.mu

	mu       sync.Mutex
	wanted   int64 // the newest event sequence any screen has heard of
	value    *Wallboard
	covers   int64     // the event sequence value includes
	at       time.Time // when value's computation started
	inflight chan struct{}
}

// acquire returns the board of key, shared with every other screen of it.
func (s *Service) acquire(key string) *board {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.boards[key]
	if b == nil {
		b = &board{key: key}
		s.boards[key] = b
	}
	b.refs++
	return b
}

// release lets go of b; the last screen's release forgets it.
func (s *Service) release(b *board) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.refs--; b.refs == 0 {
		delete(s.boards, b.key)
	}
}

// get returns a computation that includes the events up to seq (and every
// event another screen is waiting for), and is younger than maxAge when
// maxAge is set. One screen computes, the others wait for its result; a
// computation starts at least coalesce after the previous one, so that
// changes arriving meanwhile are read together. A computation that fails
// (its screen went away, the database failed) is retried by the next
// screen that asks.
func (b *board) get(ctx context.Context, seq int64, maxAge, coalesce time.Duration, compute func(context.Context) (*Wallboard, error)) (*Wallboard, error) {
	b.mu.Lock()
	b.wanted = max(b.wanted, seq)
	seq = b.wanted
	for {
		if b.value != nil && b.covers >= seq && (maxAge == 0 || time.Since(b.at) < maxAge) {
			w := b.value
			b.mu.Unlock()
			return w, nil
		}
		if b.inflight == nil {
			break
		}
		wait := b.inflight
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		b.mu.Lock()
	}
	done := make(chan struct{})
	b.inflight = done
	delay := time.Until(b.at.Add(coalesce))
	b.mu.Unlock()
	finish := func(w *Wallboard, covers int64, at time.Time) {
		b.mu.Lock()
		if w != nil {
			b.value, b.covers, b.at = w, covers, at
		}
		b.inflight = nil
		close(done)
		b.mu.Unlock()
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			finish(nil, 0, time.Time{})
			return nil, ctx.Err()
		}
	}
	b.mu.Lock()
	covers := b.wanted // everything heard of until now is in the database
	b.mu.Unlock()
	at := time.Now()
	w, err := compute(ctx)
	if err != nil {
		finish(nil, 0, time.Time{})
		return nil, err
	}
	finish(w, covers, at)
	return w, nil
}
