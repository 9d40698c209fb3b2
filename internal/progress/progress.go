// Package progress reports how far a long command (seed, export, import)
// has come, on standard error. On a terminal it redraws one bar line in
// place; anywhere else (a log file, a pipe, a test) it writes a plain line
// every Interval, so logs stay readable and nothing is written when the work
// is quick. It is a few dozen lines rather than a dependency: the commands
// need a count, a rate and a bar, nothing more.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Interval is how often a plain (non-terminal) report is written.
const Interval = 10 * time.Second

// redraw is how often a terminal bar is redrawn at most.
const redraw = 100 * time.Millisecond

// Bar counts done units of a task.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	total    int64 // 0: unknown
	done     int64
	terminal bool
	start    time.Time
	last     time.Time
	now      func() time.Time
}

// New starts a bar for a task of total units (0 when unknown) written to w.
func New(w io.Writer, label string, total int64) *Bar {
	return newBar(w, label, total, IsTerminal(w), time.Now)
}

func newBar(w io.Writer, label string, total int64, terminal bool, now func() time.Time) *Bar {
	t := now()
	return &Bar{w: w, label: label, total: total, terminal: terminal, start: t, last: t, now: now}
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Add records n more units done.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += int64(n)
	now := b.now()
	every := Interval
	if b.terminal {
		every = redraw
	}
	if now.Sub(b.last) < every {
		return
	}
	b.last = now
	b.write(now, false)
}

// Finish writes the final state (on a terminal, ending the bar's line).
// Plain output gets a final line only if a report was written before, so
// quick tasks stay silent.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.terminal && b.last.Equal(b.start) {
		return
	}
	b.write(now, true)
}

func (b *Bar) write(now time.Time, final bool) {
	elapsed := now.Sub(b.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(b.done) / s
	}
	status := fmt.Sprintf("%d", b.done)
	if b.total > 0 {
		status = fmt.Sprintf("%d/%d", b.done, b.total)
	}
	status += fmt.Sprintf(" %.0f/s %s", rate, elapsed.Round(time.Second))
	if !b.terminal {
		fmt.Fprintf(b.w, "%s: %s\n", b.label, status)
		return
	}
	bar := ""
	if b.total > 0 {
		const width = 30
		filled := int(float64(width) * float64(min(b.done, b.total)) / float64(b.total))
		bar = "[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "] "
	}
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(b.w, "\r\033[K%s %s%s%s", b.label, bar, status, end)
}
