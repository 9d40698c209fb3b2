package wstransport

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes atomic.Int32
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func TestBatchConn(t *testing.T) {
	t.Run("FramesOfABatchGoOutInOneWrite", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := ln.Accept()
			accepted <- c
		}()
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		server := &countingConn{Conn: <-accepted}
		defer server.Close()
		b := newBatchConn(server)
		b.Begin()
		for _, frame := range []string{"one;", "two;", "three;"} {
			if _, err := b.Write([]byte(frame)); err != nil {
				t.Fatal(err)
			}
		}
		if n := server.writes.Load(); n != 0 {
			t.Fatalf("%d writes reached the socket before the flush", n)
		}
		if err := b.Flush(time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n := server.writes.Load(); n != 1 {
			t.Fatalf("the batch took %d writes, want 1", n)
		}
		got := make([]byte, len("one;two;three;"))
		if _, err := io.ReadFull(client, got); err != nil || string(got) != "one;two;three;" {
			t.Fatalf("the peer read %q (%v)", got, err)
		}
		if _, err := b.Write([]byte("after")); err != nil || server.writes.Load() != 2 {
			t.Fatalf("a write outside a batch did not go straight through (%v)", err)
		}
	})
	t.Run("AStuckFlushKeepsTheRestAndWhatIsWrittenMeanwhileGoesBehindIt", func(t *testing.T) {
		server, client := net.Pipe() // nobody reads client yet: writes block
		defer client.Close()
		defer server.Close()
		b := newBatchConn(server)
		b.Begin()
		_, _ = b.Write([]byte("first;"))
		if err := b.Flush(time.Now().Add(20 * time.Millisecond)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a flush nobody reads returned %v, want a deadline error", err)
		}
		// A close frame, say, written while the batch is stuck.
		if _, err := b.Write([]byte("close;")); err != nil {
			t.Fatal(err)
		}
		read := make(chan string, 1)
		go func() {
			got := make([]byte, len("first;close;"))
			_, _ = io.ReadFull(client, got)
			read <- string(got)
		}()
		if err := b.Flush(time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := <-read; got != "first;close;" {
			t.Fatalf("the peer read %q, want the batch, then what was written meanwhile", got)
		}
	})
}
