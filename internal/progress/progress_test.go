package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBar(t *testing.T) {
	t.Run("QuickTaskIsSilentWhenNotATerminal", func(t *testing.T) {
		var out bytes.Buffer
		c := &clock{t: time.Unix(0, 0)}
		b := newBar(&out, "seed", 100, false, c.now)
		b.Add(100)
		b.Finish()
		if out.Len() != 0 {
			t.Fatalf("wrote %q for a task shorter than the interval", out.String())
		}
	})
	t.Run("PlainLinesEveryInterval", func(t *testing.T) {
		var out bytes.Buffer
		c := &clock{t: time.Unix(0, 0)}
		b := newBar(&out, "import", 0, false, c.now)
		for i := 0; i < 3; i++ {
			c.t = c.t.Add(Interval)
			b.Add(10)
		}
		b.Finish()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[2], "import: 30 1/s 30s") || strings.Contains(out.String(), "\r") {
			t.Fatalf("plain output = %q", out.String())
		}
	})
	t.Run("TerminalRedrawsOneLineWithABar", func(t *testing.T) {
		var out bytes.Buffer
		c := &clock{t: time.Unix(0, 0)}
		b := newBar(&out, "seed", 10, true, c.now)
		c.t = c.t.Add(time.Second)
		b.Add(5)
		b.Finish()
		s := out.String()
		if strings.Count(s, "\r") != 2 || !strings.Contains(s, "[===============               ] 5/10") || !strings.HasSuffix(s, "\n") {
			t.Fatalf("terminal output = %q", s)
		}
	})
	t.Run("BufferIsNotATerminal", func(t *testing.T) {
		if IsTerminal(&bytes.Buffer{}) {
			t.Fatal("a buffer taken for a terminal")
		}
	})
}
