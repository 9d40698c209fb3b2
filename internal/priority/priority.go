// Package priority defines ticket priorities. They are stored as small
// integers so that ordering tickets by priority sorts URGENT above LOW in
// every database, and exposed to GraphQL as the TicketPriority enum.
package priority

import (
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

// Priority of a ticket; the zero value is not a priority.
type Priority int

// The priorities, lowest first.
const (
	Low Priority = iota + 1
	Normal
	High
	Urgent
)

var names = map[Priority]string{Low: "LOW", Normal: "NORMAL", High: "HIGH", Urgent: "URGENT"}

// All lists every priority, lowest first.
func All() []Priority { return []Priority{Low, Normal, High, Urgent} }

// String returns the GraphQL name of the priority.
func (p Priority) String() string {
	if n, ok := names[p]; ok {
		return n
	}
	return "Priority(" + strconv.Itoa(int(p)) + ")"
}

// Parse turns a GraphQL name (LOW, NORMAL, HIGH, URGENT) into a Priority.
func Parse(s string) (Priority, error) {
	for p, n := range names {
		if n == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%q is not a valid TicketPriority", s)
}

// Valid reports whether p is one of the defined priorities.
func (p Priority) Valid() bool { _, ok := names[p]; return ok }

// MarshalGQL implements graphql.Marshaler.
func (p Priority) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(p.String())) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (p *Priority) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return apierr.Errorf(apierr.BadUserInput, "TicketPriority must be a string")
	}
	parsed, err := Parse(s)
	if err != nil {
		return apierr.Wrap(apierr.BadUserInput, err, "%v", err)
	}
	*p = parsed
	return nil
}

// Value implements driver.Valuer.
func (p Priority) Value() (driver.Value, error) { return int64(p), nil }

// Scan implements sql.Scanner.
func (p *Priority) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*p = Priority(v)
	case int32:
		*p = Priority(v)
	case int:
		*p = Priority(v)
	default:
		return fmt.Errorf("priority: cannot scan %T", src)
	}
	return nil
}
