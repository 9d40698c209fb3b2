package faultnet

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echo is a target that answers each line with the same line.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through a fresh connection and reports whether
// it came back.
func roundTrip(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "ping\n"
}

func TestGate(t *testing.T) {
	g := NewGate(t, echo(t))
	if !roundTrip(g.Addr()) {
		t.Fatal("an open gate did not forward")
	}
	held, err := net.Dial("tcp", g.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := held.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	_ = held.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := bufio.NewReader(held).ReadString('\n'); err != nil {
		t.Fatal(err)
	}

	g.Cut()
	if roundTrip(g.Addr()) {
		t.Fatal("a cut gate forwarded")
	}
	_ = held.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := held.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection open before the cut survived it")
	}

	g.Restore()
	if !roundTrip(g.Addr()) {
		t.Fatal("a restored gate did not forward")
	}
}
