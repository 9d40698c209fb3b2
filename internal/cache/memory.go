package cache

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is the in-process tier: at most size keys, each entry living ttl
// from the Lookup that preceded its read.
type Memory struct {
	ttl  time.Duration
	size int
	now  func() time.Time

	mu      sync.Mutex
	records map[string]*list.Element
	lru     *list.List // front: most recently used
	// seq counts invalidations; a record remembers the seq of its last one,
	// so a Store whose Lookup came earlier is refused.
	seq uint64
	// evictedSeq is the highest invalidation seq of an evicted record: a
	// Store for a key without a record must have looked up after it.
	evictedSeq uint64

	hits, misses atomic.Int64
}

type record struct {
	key     string
	value   []byte
	has     bool
	expires time.Time
	inval   uint64
}

// NewMemory returns an in-process cache of at most size keys whose entries
// live at most ttl (at most LocalTTL when the database may be shared).
func NewMemory(size int, ttl time.Duration) *Memory {
	return &Memory{ttl: ttl, size: max(size, 1), now: time.Now, records: map[string]*list.Element{}, lru: list.New()}
}

// Lookup returns the value under key while it is valid.
func (m *Memory) Lookup(_ context.Context, key string) ([]byte, bool, Ticket) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.records[key]; ok {
		r := el.Value.(*record)
		if r.has && now.Before(r.expires) {
			m.lru.MoveToFront(el)
			m.hits.Add(1)
			return r.value, true, Ticket{key: key, at: now, seq: m.seq}
		}
	}
	m.misses.Add(1)
	return nil, false, Ticket{key: key, at: now, seq: m.seq}
}

// Store keeps value until the ticket's time plus the TTL, unless the key
// was invalidated after the ticket's Lookup.
func (m *Memory) Store(_ context.Context, t Ticket, value []byte) {
	expires := t.at.Add(m.ttl)
	if m.ttl <= 0 || !m.now().Before(expires) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.records[t.key]
	if !ok {
		if m.evictedSeq > t.seq {
			return
		}
		el = m.lru.PushFront(&record{key: t.key})
		m.records[t.key] = el
		m.evict()
	}
	r := el.Value.(*record)
	if r.inval > t.seq {
		return
	}
	r.value, r.has, r.expires = value, true, expires
	m.lru.MoveToFront(el)
}

// Invalidate drops the keys. A key without a record gets an empty one, so
// that a Store in flight for it is refused.
func (m *Memory) Invalidate(_ context.Context, keys ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	for _, k := range keys {
		el, ok := m.records[k]
		if !ok {
			el = m.lru.PushFront(&record{key: k})
			m.records[k] = el
		}
		r := el.Value.(*record)
		r.value, r.has, r.inval = nil, false, m.seq
	}
	m.evict()
}

func (m *Memory) evict() {
	for m.lru.Len() > m.size {
		el := m.lru.Back()
		r := el.Value.(*record)
		m.evictedSeq = max(m.evictedSeq, r.inval)
		m.lru.Remove(el)
		delete(m.records, r.key)
	}
}

// Len returns the number of keys held (with or without a value).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// Stats returns the lookups answered from memory and those that missed.
func (m *Memory) Stats() (hits, misses int64) { return m.hits.Load(), m.misses.Load() }
