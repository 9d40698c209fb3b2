package wstransport

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// writeTry is how long a shared writer waits for a socket that cannot
// take a batch at once (its send buffer is full: the client reads slowly).
// The connection then gets a writer of its own, which waits up to
// WriteTimeout, and the shared writers go on with the others.
const writeTry = time.Millisecond

// writers write the connections' queued messages on a few goroutines,
// started when there is something to write and gone when there is not.
// A writer per connection would make every event wake as many goroutines
// as it has subscribers, and the work that produces the next event (the
// mutation, reading the log, rendering) would wait behind all of them on
// a small machine. Connections take turns: each turn writes what one has
// queued up as one batch. Connections over TLS keep a writer of their
// own: a TLS write cut short by a deadline cannot be resumed.
type writers struct {
	mu     sync.Mutex
	ready  []*conn
	active int
}

// maxWriters is the number of shared writers: enough to keep every CPU
// busy while some wait on the network.
func maxWriters() int { return 2 * runtime.GOMAXPROCS(0) }

// schedule gives c a turn.
func (w *writers) schedule(c *conn) {
	w.mu.Lock()
	w.ready = append(w.ready, c)
	if w.active >= maxWriters() {
		w.mu.Unlock()
		return
	}
	w.active++
	w.mu.Unlock()
	go w.run()
}

func (w *writers) run() {
	for {
		w.mu.Lock()
		if len(w.ready) == 0 {
			w.active--
			w.ready = nil
			w.mu.Unlock()
			return
		}
		c := w.ready[0]
		w.ready[0] = nil
		w.ready = w.ready[1:]
		w.mu.Unlock()
		if c.writeTurn() {
			w.schedule(c)
		}
		// A turn is one system call; between turns the writer lets the
		// goroutines that make the next event (the mutation, reading the
		// log, rendering) run. Without this, under dense events the
		// writers held both CPUs for whole time slices while those
		// waited, and the delay (p99 2,000 subscribers at 100 events/s:
		// 5x the relay's) came from the queue, not the work.
		runtime.Gosched()
	}
}

// frames keeps the last result frame made: a shared rendering goes to
// every subscriber of its cohort, most of whom have the same operation id
// (clients number their operations from 1), and they then share one
// frame instead of a copy each. Frames are never changed once made.
type frames struct{ last atomic.Pointer[frame] }

type frame struct {
	payload *byte // identifies the payload, and keeps it alive so that its address is not reused
	size    int
	head    string
	bytes   []byte
}

// frame returns the result frame of payload for the operation whose frame
// head is head.
func (f *frames) frame(head, payload []byte) []byte {
	if len(payload) == 0 {
		return slices.Concat(head, payload, []byte{'}'})
	}
	if l := f.last.Load(); l != nil && l.payload == &payload[0] && l.size == len(payload) && l.head == string(head) {
		return l.bytes
	}
	b := slices.Concat(head, payload, []byte{'}'})
	f.last.Store(&frame{payload: &payload[0], size: len(payload), head: string(head), bytes: b})
	return b
}
