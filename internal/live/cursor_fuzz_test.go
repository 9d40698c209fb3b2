package live

import (
	"strconv"
	"testing"
)

// FuzzParseCursor: a subscription's after: cursor is either refused or a
// position in the log that formats back to the same number.
func FuzzParseCursor(f *testing.F) {
	for _, seed := range []string{"0", "42", "-1", "", "9223372036854775807", "9223372036854775808", "1e3", " 1", "+5"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ParseCursor(s)
		if !ok {
			return
		}
		if n < 0 {
			t.Fatalf("%q parsed as negative %d", s, n)
		}
		back, ok := ParseCursor((&Event{Seq: n}).Cursor())
		if !ok || back != n {
			t.Fatalf("%q: %d does not round-trip (%d)", s, n, back)
		}
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("accepted %q", s)
		}
	})
}
