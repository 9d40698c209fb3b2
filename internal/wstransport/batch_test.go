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
	t.Run("AWriteBehindAStuckFlushGivesUpAtItsDeadline", func(t *testing.T) {
		server, client := net.Pipe() // nobody reads client: writes block
		defer client.Close()
		defer server.Close()
		b := newBatchConn(server)
		b.Begin()
		_, _ = b.Write([]byte("stuck"))
		flushed := make(chan error, 1)
		go func() { flushed <- b.Flush(time.Time{}) }()
		for len(b.sem) == 0 {
			time.Sleep(time.Millisecond) // until the flush holds the socket
		}
		_ = b.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		wrote := make(chan error, 1)
		go func() {
			_, err := b.Write([]byte("close frame"))
			wrote <- err
		}()
		select {
		case err := <-wrote:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the waiting write returned %v, want a deadline error", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("a write waited past its deadline for a stuck flush")
		}
		server.Close()
		<-flushed
	})
}
