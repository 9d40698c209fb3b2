package priority_test

import (
	"bytes"
	"database/sql"
	"database/sql/driver"
	"slices"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/priority"
)

var (
	_ sql.Scanner   = (*priority.Priority)(nil)
	_ driver.Valuer = priority.Priority(0)
)

func TestOrder(t *testing.T) {
	t.Run("LowBelowNormalBelowHighBelowUrgent", func(t *testing.T) {
		if !(priority.Low < priority.Normal && priority.Normal < priority.High && priority.High < priority.Urgent) {
			t.Fatalf("order wrong: LOW=%d NORMAL=%d HIGH=%d URGENT=%d", priority.Low, priority.Normal, priority.High, priority.Urgent)
		}
	})
	t.Run("AllListsEveryPriorityLowestFirst", func(t *testing.T) {
		want := []priority.Priority{priority.Low, priority.Normal, priority.High, priority.Urgent}
		if got := priority.All(); !slices.Equal(got, want) {
			t.Fatalf("All() = %v, want %v", got, want)
		}
	})
	t.Run("StoredValuesSortLikePriorities", func(t *testing.T) {
		// ORDER BY priority in the database must put URGENT above LOW.
		var prev int64
		for i, p := range priority.All() {
			v, err := p.Value()
			if err != nil {
				t.Fatalf("Value(%s): %v", p, err)
			}
			n, ok := v.(int64)
			if !ok {
				t.Fatalf("Value(%s) is %T, want int64", p, v)
			}
			if i > 0 && n <= prev {
				t.Fatalf("Value(%s) = %d, not above the previous %d", p, n, prev)
			}
			prev = n
		}
	})
	t.Run("ZeroIsNotAPriority", func(t *testing.T) {
		var p priority.Priority
		if p.Valid() {
			t.Fatal("zero Priority is Valid")
		}
	})
}

func TestParseString(t *testing.T) {
	t.Run("RoundTripAll", func(t *testing.T) {
		for _, p := range priority.All() {
			got, err := priority.Parse(p.String())
			if err != nil || got != p {
				t.Fatalf("Parse(%q) = %v, %v; want %v", p.String(), got, err, p)
			}
		}
	})
	t.Run("GraphQLNames", func(t *testing.T) {
		want := map[priority.Priority]string{priority.Low: "LOW", priority.Normal: "NORMAL", priority.High: "HIGH", priority.Urgent: "URGENT"}
		for p, name := range want {
			if p.String() != name {
				t.Fatalf("String(%d) = %q, want %q", int(p), p.String(), name)
			}
		}
	})
	for _, tc := range []struct{ name, in string }{
		{"ErrEmpty", ""},
		{"ErrUnknownName", "SEVERE"},
		{"ErrLowerCase", "low"},
		{"ErrMixedCase", "Urgent"},
		{"ErrSurroundingSpace", " HIGH"},
		{"ErrNumber", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := priority.Parse(tc.in); err == nil {
				t.Fatalf("Parse(%q) = %v, nil; want an error", tc.in, p)
			}
		})
	}
	t.Run("InvalidPriorityStringIsNotAName", func(t *testing.T) {
		s := priority.Priority(99).String()
		if _, err := priority.Parse(s); err == nil {
			t.Fatalf("Parse(String(99) = %q) succeeded", s)
		}
	})
}

func TestValid(t *testing.T) {
	t.Run("DefinedPrioritiesAreValid", func(t *testing.T) {
		for _, p := range priority.All() {
			if !p.Valid() {
				t.Fatalf("%s not Valid", p)
			}
		}
	})
	t.Run("OthersAreNot", func(t *testing.T) {
		for _, p := range []priority.Priority{0, -1, priority.Urgent + 1, 99} {
			if p.Valid() {
				t.Fatalf("Priority(%d) is Valid", int(p))
			}
		}
	})
}

func TestGQL(t *testing.T) {
	t.Run("MarshalWritesQuotedName", func(t *testing.T) {
		var buf bytes.Buffer
		priority.Urgent.MarshalGQL(&buf)
		if buf.String() != `"URGENT"` {
			t.Fatalf("MarshalGQL wrote %s, want \"URGENT\"", buf.String())
		}
	})
	t.Run("UnmarshalName", func(t *testing.T) {
		for _, want := range priority.All() {
			var p priority.Priority
			if err := p.UnmarshalGQL(want.String()); err != nil || p != want {
				t.Fatalf("UnmarshalGQL(%q) = %v, %v", want.String(), p, err)
			}
		}
	})
	t.Run("ErrUnmarshalUnknownName", func(t *testing.T) {
		p := priority.High
		err := p.UnmarshalGQL("SEVERE")
		if code := apierr.CodeOf(err); code != apierr.BadUserInput {
			t.Fatalf("UnmarshalGQL(SEVERE) = %v (code %s), want BAD_USER_INPUT", err, code)
		}
		if p != priority.High {
			t.Fatalf("failed UnmarshalGQL changed the value to %v", p)
		}
	})
	t.Run("ErrUnmarshalNonString", func(t *testing.T) {
		for _, v := range []any{3, int64(3), 3.0, nil, []byte("HIGH")} {
			p := priority.Low
			err := p.UnmarshalGQL(v)
			if code := apierr.CodeOf(err); code != apierr.BadUserInput {
				t.Fatalf("UnmarshalGQL(%#v) = %v (code %s), want BAD_USER_INPUT", v, err, code)
			}
			if p != priority.Low {
				t.Fatalf("failed UnmarshalGQL(%#v) changed the value to %v", v, p)
			}
		}
	})
}

func TestScanValue(t *testing.T) {
	t.Run("ScanInt64", func(t *testing.T) {
		for _, want := range priority.All() {
			v, _ := want.Value()
			var p priority.Priority
			if err := p.Scan(v); err != nil || p != want {
				t.Fatalf("Scan(%v) = %v, %v; want %v", v, p, err, want)
			}
		}
	})
	t.Run("ScanSmallerInts", func(t *testing.T) {
		var p priority.Priority
		if err := p.Scan(int32(3)); err != nil || p != priority.High {
			t.Fatalf("Scan(int32(3)) = %v, %v", p, err)
		}
		if err := p.Scan(4); err != nil || p != priority.Urgent {
			t.Fatalf("Scan(4) = %v, %v", p, err)
		}
	})
	for _, tc := range []struct {
		name string
		src  any
	}{
		{"ErrScanString", "HIGH"},
		{"ErrScanBytes", []byte("3")},
		{"ErrScanFloat", 3.0},
		{"ErrScanNull", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p priority.Priority
			if err := p.Scan(tc.src); err == nil {
				t.Fatalf("Scan(%#v) = nil (got %v), want an error", tc.src, p)
			}
		})
	}
}
