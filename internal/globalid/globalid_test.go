package globalid_test

import (
	"bytes"
	"database/sql"
	"database/sql/driver"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/globalid"
)

// A well-formed ULID (26 Crockford base32 characters).
const goodULID = "01J9Z3X8Q0W2E5R7T9Y1V3K5M7"

var (
	_ sql.Scanner   = (*globalid.ID)(nil)
	_ driver.Valuer = globalid.ID("")
)

func TestNew(t *testing.T) {
	t.Run("CarriesThePrefix", func(t *testing.T) {
		id := globalid.New(globalid.PrefixTicket)
		if !strings.HasPrefix(string(id), globalid.PrefixTicket) {
			t.Fatalf("New(TK) = %q, want prefix TK", id)
		}
		if got := id.Prefix(); got != globalid.PrefixTicket {
			t.Fatalf("Prefix() = %q, want TK", got)
		}
	})
	t.Run("IsValid", func(t *testing.T) {
		for _, p := range []string{globalid.PrefixUser, globalid.PrefixGroup, globalid.PrefixTicket, globalid.PrefixMessage, globalid.PrefixSLAPolicy, globalid.PrefixSession, globalid.PrefixAPIToken, globalid.PrefixEvent, globalid.PrefixSequence} {
			id := globalid.New(p)
			if err := id.Validate(); err != nil {
				t.Fatalf("Validate(New(%s) = %q) = %v, want nil", p, id, err)
			}
		}
	})
	t.Run("IDsFromOneProcessStrictlyIncrease", func(t *testing.T) {
		// Many IDs per millisecond: the monotonic entropy must still order them.
		prev := globalid.New(globalid.PrefixEvent)
		for i := 0; i < 10000; i++ {
			next := globalid.New(globalid.PrefixEvent)
			if next <= prev {
				t.Fatalf("ID %d: %q is not greater than the previous %q", i, next, prev)
			}
			prev = next
		}
	})
	t.Run("IDsAreUnique", func(t *testing.T) {
		seen := make(map[globalid.ID]bool)
		for i := 0; i < 1000; i++ {
			id := globalid.New(globalid.PrefixUser)
			if seen[id] {
				t.Fatalf("duplicate ID %q", id)
			}
			seen[id] = true
		}
	})
}

func TestPrefix(t *testing.T) {
	t.Run("TooShortHasNoPrefix", func(t *testing.T) {
		if got := globalid.ID("U").Prefix(); got != "" {
			t.Fatalf(`Prefix() of "U" = %q, want ""`, got)
		}
		if got := globalid.ID("").Prefix(); got != "" {
			t.Fatalf(`Prefix() of "" = %q, want ""`, got)
		}
	})
}

func TestValidate(t *testing.T) {
	t.Run("AcceptsPrefixedULID", func(t *testing.T) {
		if err := globalid.ID("TK" + goodULID).Validate(); err != nil {
			t.Fatalf("Validate = %v, want nil", err)
		}
	})
	bad := []struct{ name, id string }{
		{"ErrEmpty", ""},
		{"ErrPrefixOnly", "TK"},
		{"ErrULIDWithoutPrefix", goodULID},
		{"ErrOneCharTooShort", "TK" + goodULID[:25]},
		{"ErrOneCharTooLong", "TK" + goodULID + "0"},
		{"ErrLetterU", "TK" + goodULID[:25] + "U"}, // U is not in Crockford's base32
		{"ErrLetterI", "TK" + "I" + goodULID[1:]},
		{"ErrPunctuation", "TK" + goodULID[:25] + "-"},
		{"ErrNumber", "42"},
		{"ErrTimestampOverflow", "TK8" + goodULID[1:]}, // 130 bits encoded, first char > 7 overflows
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := globalid.ID(tc.id).Validate(); err == nil {
				t.Fatalf("Validate(%q) = nil, want an error", tc.id)
			}
		})
	}
}

func TestUnmarshalGQL(t *testing.T) {
	t.Run("AcceptsWellFormedString", func(t *testing.T) {
		var id globalid.ID
		want := "US" + goodULID
		if err := id.UnmarshalGQL(want); err != nil {
			t.Fatalf("UnmarshalGQL(%q) = %v", want, err)
		}
		if string(id) != want {
			t.Fatalf("id = %q, want %q", id, want)
		}
	})
	t.Run("AcceptsNewID", func(t *testing.T) {
		want := globalid.New(globalid.PrefixGroup)
		var id globalid.ID
		if err := id.UnmarshalGQL(string(want)); err != nil || id != want {
			t.Fatalf("UnmarshalGQL(%q) = %q, %v", want, id, err)
		}
	})
	t.Run("AcceptsTypedID", func(t *testing.T) {
		// ent's generated node lookup hands IDs over as ID, not string.
		want := globalid.New(globalid.PrefixUser)
		var id globalid.ID
		if err := id.UnmarshalGQL(want); err != nil || id != want {
			t.Fatalf("UnmarshalGQL(ID %q) = %q, %v", want, id, err)
		}
	})
	t.Run("ErrMalformedTypedID", func(t *testing.T) {
		id := globalid.ID("unchanged")
		err := id.UnmarshalGQL(globalid.ID("US42"))
		if code := apierr.CodeOf(err); code != apierr.BadUserInput {
			t.Fatalf("UnmarshalGQL(ID US42) = %v (code %s), want BAD_USER_INPUT", err, code)
		}
		if id != "unchanged" {
			t.Fatalf("failed UnmarshalGQL changed the ID to %q", id)
		}
	})
	for _, tc := range []struct {
		name string
		in   any
	}{
		{"ErrInteger", 42},
		{"ErrFloat", 4.2},
		{"ErrNil", nil},
		{"ErrBool", true},
		{"ErrBytes", []byte("US" + goodULID)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := globalid.ID("unchanged")
			err := id.UnmarshalGQL(tc.in)
			if code := apierr.CodeOf(err); code != apierr.BadUserInput {
				t.Fatalf("UnmarshalGQL(%#v) = %v (code %s), want BAD_USER_INPUT", tc.in, err, code)
			}
			if id != "unchanged" {
				t.Fatalf("failed UnmarshalGQL changed the ID to %q", id)
			}
		})
	}
	for _, tc := range []struct{ name, in string }{
		{"ErrMalformedNumber", "42"},
		{"ErrEmptyString", ""},
		{"ErrBadULIDChars", "US" + strings.Repeat("U", 26)},
		{"ErrTruncated", "US" + goodULID[:20]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := globalid.ID("unchanged")
			err := id.UnmarshalGQL(tc.in)
			if code := apierr.CodeOf(err); code != apierr.BadUserInput {
				t.Fatalf("UnmarshalGQL(%q) = %v (code %s), want BAD_USER_INPUT", tc.in, err, code)
			}
			if id != "unchanged" {
				t.Fatalf("failed UnmarshalGQL changed the ID to %q", id)
			}
		})
	}
}

func TestMarshalGQL(t *testing.T) {
	t.Run("WritesQuotedString", func(t *testing.T) {
		var buf bytes.Buffer
		globalid.ID("TK" + goodULID).MarshalGQL(&buf)
		if want := `"TK` + goodULID + `"`; buf.String() != want {
			t.Fatalf("MarshalGQL wrote %s, want %s", buf.String(), want)
		}
	})
	t.Run("RoundTripsThroughUnmarshal", func(t *testing.T) {
		orig := globalid.New(globalid.PrefixMessage)
		var buf bytes.Buffer
		orig.MarshalGQL(&buf)
		s := buf.String()
		if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
			t.Fatalf("MarshalGQL wrote %s, want a quoted string", s)
		}
		var back globalid.ID
		if err := back.UnmarshalGQL(s[1 : len(s)-1]); err != nil || back != orig {
			t.Fatalf("round trip: %q, %v; want %q", back, err, orig)
		}
	})
}

func TestScanValue(t *testing.T) {
	t.Run("RoundTripString", func(t *testing.T) {
		orig := globalid.New(globalid.PrefixUser)
		v, err := orig.Value()
		if err != nil {
			t.Fatalf("Value: %v", err)
		}
		if _, ok := v.(string); !ok {
			t.Fatalf("Value is %T, want string", v)
		}
		var back globalid.ID
		if err := back.Scan(v); err != nil || back != orig {
			t.Fatalf("Scan(%v) = %q, %v; want %q", v, back, err, orig)
		}
	})
	t.Run("RoundTripBytes", func(t *testing.T) {
		orig := globalid.New(globalid.PrefixTicket)
		var back globalid.ID
		if err := back.Scan([]byte(orig)); err != nil || back != orig {
			t.Fatalf("Scan([]byte) = %q, %v; want %q", back, err, orig)
		}
	})
	t.Run("ErrNull", func(t *testing.T) {
		var id globalid.ID
		if err := id.Scan(nil); err == nil {
			t.Fatal("Scan(nil) = nil, want an error")
		}
	})
	t.Run("ErrWrongType", func(t *testing.T) {
		var id globalid.ID
		if err := id.Scan(int64(7)); err == nil {
			t.Fatal("Scan(int64) = nil, want an error")
		}
	})
}

func TestNewAt(t *testing.T) {
	t.Run("OrderFollowsTheGivenTime", func(t *testing.T) {
		day := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		older := globalid.NewAt(globalid.PrefixTicket, day)
		newer := globalid.NewAt(globalid.PrefixTicket, day.Add(time.Hour))
		now := globalid.New(globalid.PrefixTicket)
		if !(older < newer && newer < now) {
			t.Fatalf("IDs not in time order: %q, %q, %q", older, newer, now)
		}
		if err := older.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}
