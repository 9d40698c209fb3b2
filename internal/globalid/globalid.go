// Package globalid defines the IDs Switchboard hands to clients: opaque
// strings that carry the type of the object they name (a two-letter prefix
// followed by a ULID), so that node(id:) can find the right table without a
// lookup and a malformed or misplaced ID is recognised before any query runs.
package globalid

import (
	"bytes"
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

// ID is a prefixed ULID, e.g. "TK01J9Z3X8Q0W2E5R7T9Y1U3I5O7".
type ID string

// Prefixes of the object types. They are part of every stored ID: never change one.
const (
	PrefixUser          = "US"
	PrefixGroup         = "GR"
	PrefixTicket        = "TK"
	PrefixMessage       = "MS"
	PrefixSLAPolicy     = "SP"
	PrefixSession       = "SE"
	PrefixAPIToken      = "AT"
	PrefixEvent         = "EV"
	PrefixSequence      = "SQ"
	PrefixRule          = "RR"
	PrefixNotice        = "NT"
	PrefixMention       = "MN"
	PrefixFollow        = "FL"
	PrefixMacro         = "MC"
	PrefixView          = "SV"
	PrefixAttachment    = "AF"
	PrefixOutbox        = "OB"
	PrefixPasswordReset = "PR"
)

const prefixLen = 2

var (
	entropyMu sync.Mutex
	entropy   = ulid.Monotonic(rand.Reader, 0)
)

// New returns a fresh ID with the given prefix. IDs made by one process are
// strictly increasing, which keeps cursors and indexes in insertion order.
func New(prefix string) ID {
	return NewAt(prefix, time.Now())
}

// NewAt returns a fresh ID whose time part is t, for rows created with a
// past timestamp (seeded or imported history), so that ID order follows
// creation time as it does for live rows.
func NewAt(prefix string, t time.Time) ID {
	entropyMu.Lock()
	defer entropyMu.Unlock()
	return ID(prefix + ulid.MustNew(ulid.Timestamp(t), entropy).String())
}

// Prefix returns the type prefix of the ID.
func (id ID) Prefix() string {
	if len(id) < prefixLen {
		return ""
	}
	return string(id[:prefixLen])
}

// Validate reports whether id is well formed: a known-length prefix and a
// valid ULID. It does not say whether the object exists.
func (id ID) Validate() error {
	if len(id) != prefixLen+ulid.EncodedSize {
		return fmt.Errorf("malformed ID %q", string(id))
	}
	if _, err := ulid.ParseStrict(string(id[prefixLen:])); err != nil {
		return fmt.Errorf("malformed ID %q", string(id))
	}
	return nil
}

// UnmarshalGQL implements graphql.Unmarshaler: IDs from clients are validated
// at the edge so that resolvers only ever see well-formed ones.
func (id *ID) UnmarshalGQL(v any) error {
	var parsed ID
	switch v := v.(type) {
	case string:
		parsed = ID(v)
	case ID: // entgql's generated node lookup passes IDs through here too
		parsed = v
	default:
		return apierr.Errorf(apierr.BadUserInput, "an ID must be a string")
	}
	if err := parsed.Validate(); err != nil {
		return apierr.Wrap(apierr.BadUserInput, err, "%v", err)
	}
	*id = parsed
	return nil
}

// MarshalGQL implements graphql.Marshaler: the ID quoted, into the
// response buffer when w is one (no copy per ID).
func (id ID) MarshalGQL(w io.Writer) {
	var p []byte
	if b, ok := w.(*bytes.Buffer); ok {
		p = b.AvailableBuffer()
	}
	_, _ = w.Write(strconv.AppendQuote(p, string(id)))
}

// Scan implements sql.Scanner.
func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*id = ID(v)
	case []byte:
		*id = ID(string(v))
	case nil:
		return fmt.Errorf("globalid: NULL ID")
	default:
		return fmt.Errorf("globalid: cannot scan %T", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (id ID) Value() (driver.Value, error) { return string(id), nil }
