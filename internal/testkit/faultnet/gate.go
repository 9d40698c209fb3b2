// Package faultnet gives tests a network path that can be cut and
// restored: a TCP forwarder in front of a real server (PostgreSQL, Redis),
// so that outages are real dropped connections and refused dials, not
// mocks.
package faultnet

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Gate forwards connections from its own address to a target until cut.
type Gate struct {
	ln    net.Listener
	mu    sync.Mutex
	open  bool
	conns []net.Conn
}

// NewGate listens on a loopback port and forwards to target (host:port);
// it is closed when the test ends.
func NewGate(tb testing.TB, target string) *Gate {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	g := &Gate{ln: ln, open: true}
	tb.Cleanup(func() { _ = ln.Close(); g.Cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.mu.Lock()
			open := g.open
			g.mu.Unlock()
			if !open {
				_ = c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			g.mu.Lock()
			g.conns = append(g.conns, c, up)
			g.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
	return g
}

// Addr is the address to connect to instead of the target.
func (g *Gate) Addr() string { return g.ln.Addr().String() }

// Cut drops every connection and refuses new ones.
func (g *Gate) Cut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = false
	for _, c := range g.conns {
		_ = c.Close()
	}
	g.conns = nil
}

// Restore lets connections through again.
func (g *Gate) Restore() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = true
}
