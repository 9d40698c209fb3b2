package wstransport

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// maxBatchBytes bounds the frames the writer hands the socket in one
// write. A connection that fell behind (dense events, a slow network)
// catches up with one system call per batch instead of one per message,
// so the more subscribers lag, the less each message costs; the bound
// keeps a batch's buffer small next to the outbound queue's.
const maxBatchBytes = 64 << 10

// batchConn is the socket under gorilla's connection. While a batch is
// open, the frames gorilla writes are kept and Flush sends them together;
// otherwise (handshake, control frames outside a batch) a write goes
// straight through. Writes to the socket are one at a time, and a write
// waiting for a flush gives up at its deadline, as gorilla's own lock
// does, so that a close frame cannot be held up past it.
type batchConn struct {
	net.Conn
	sem chan struct{} // held while writing to Conn
	tls bool

	mu       sync.Mutex
	open     bool
	pending  *[]byte
	deadline time.Time // the write deadline gorilla set last
}

// batchBuffers keeps batch buffers between flushes, so that an idle
// connection holds none.
var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func newBatchConn(c net.Conn) *batchConn {
	return &batchConn{Conn: c, sem: make(chan struct{}, 1)}
}

// SetWriteDeadline keeps the deadline for the next write to the socket:
// frames kept in a batch take the batch's.
func (b *batchConn) SetWriteDeadline(t time.Time) error {
	b.mu.Lock()
	b.deadline = t
	b.mu.Unlock()
	return nil
}

// SetDeadline sets the read deadline now and keeps the write deadline.
func (b *batchConn) SetDeadline(t time.Time) error {
	_ = b.SetWriteDeadline(t)
	return b.Conn.SetReadDeadline(t)
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.open {
		*b.pending = append(*b.pending, p...)
		b.mu.Unlock()
		return len(p), nil
	}
	deadline := b.deadline
	b.mu.Unlock()
	return b.writeNow(p, deadline)
}

// Begin opens a batch: frames written until Flush are sent together.
func (b *batchConn) Begin() {
	b.mu.Lock()
	b.open = true
	if b.pending == nil {
		b.pending = batchBuffers.Get().(*[]byte)
	}
	b.mu.Unlock()
}

// AppendText adds a text message to the open batch, framed as one
// unmasked frame (RFC 6455 section 5.2: a server's frames are never
// masked, and compression is not offered). Framing here rather than
// through gorilla's writer saves a pooled buffer, a copy and gorilla's
// locking per message; gorilla's control frames still come through Write,
// a whole frame at a time, so frames never interleave.
func (b *batchConn) AppendText(msg []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := *b.pending
	const finText = 0x81
	switch n := len(msg); {
	case n < 126:
		p = append(p, finText, byte(n))
	case n <= 0xffff:
		p = append(p, finText, 126)
		p = binary.BigEndian.AppendUint16(p, uint16(n))
	default:
		p = append(p, finText, 127)
		p = binary.BigEndian.AppendUint64(p, uint64(n))
	}
	*b.pending = append(p, msg...)
}

// Flush writes the batch's frames by deadline and closes the batch. When
// the deadline passes first, the batch stays open with what is left of
// it (frames written meanwhile, a close frame say, queue up behind it, so
// that nothing lands inside a frame half sent): Flush again to go on.
func (b *batchConn) Flush(deadline time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.pending
	if p == nil {
		return nil
	}
	var err error
	for len(*p) > 0 {
		buf := *p
		// Unlocked while writing: frames written meanwhile are appended
		// behind buf, and sent next.
		b.mu.Unlock()
		var n int
		n, err = b.writeNow(buf, deadline)
		b.mu.Lock()
		*p = (*p)[:copy(*p, (*p)[n:])]
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if err != nil {
			break
		}
	}
	b.open, b.pending = false, nil
	if cap(*p) <= maxBatchBytes*2 {
		*p = (*p)[:0]
		batchBuffers.Put(p)
	}
	return err
}

func (b *batchConn) writeNow(p []byte, deadline time.Time) (int, error) {
	if !b.acquire(deadline) {
		return 0, os.ErrDeadlineExceeded
	}
	defer func() { <-b.sem }()
	if err := b.Conn.SetWriteDeadline(deadline); err != nil {
		return 0, err
	}
	return b.Conn.Write(p)
}

func (b *batchConn) acquire(deadline time.Time) bool {
	select {
	case b.sem <- struct{}{}:
		return true
	default:
	}
	if deadline.IsZero() {
		b.sem <- struct{}{}
		return true
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case b.sem <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// batchingWriter hands gorilla's upgrade a batchConn in place of the
// hijacked socket.
type batchingWriter struct {
	http.ResponseWriter
	conn *batchConn
}

func (w *batchingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = newBatchConn(c)
	// A TLS connection is broken for good by a write that times out, so
	// it is never given a short try (see writers).
	_, w.conn.tls = c.(*tls.Conn)
	return w.conn, rw, nil
}

// Unwrap lets http.ResponseController reach the writer's other methods.
func (w *batchingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
