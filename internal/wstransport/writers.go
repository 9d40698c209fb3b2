package wstransport

import (
	"runtime"
	"sync"
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
// queued up as one batch.
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
	}
}
