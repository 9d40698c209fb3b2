package model

import (
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/ent"
)

// The scalars whose stock unmarshalers answer malformed client input with
// plain errors (which would be reported as INTERNAL) are read here
// instead: they fail with a *Malformed, which the error presenter turns
// into BAD_USER_INPUT naming the argument or input field, wherever it is
// in the schema. gqlgen.yml binds them; marshalling is gqlgen's and
// entgql's own.

// Malformed is client input that is not a value of its scalar.
type Malformed struct {
	// Want says what the value must be, completing "<field> must be …".
	Want string
}

func (e *Malformed) Error() string { return "must be " + e.Want }

// MarshalCursor writes a connection cursor as entgql does.
func MarshalCursor(c ent.Cursor) graphql.Marshaler { return c }

// UnmarshalCursor reads an after:/before: cursor (base64 of msgpack).
func UnmarshalCursor(v any) (ent.Cursor, error) {
	var c ent.Cursor
	if err := c.UnmarshalGQL(v); err != nil {
		return c, &Malformed{Want: "a cursor from this connection's pageInfo or edges"}
	}
	return c, nil
}

// MarshalTime writes a time as gqlgen does (RFC 3339 with nanoseconds),
// the same bytes, without the closure, the formatted string and its quoted
// copy that graphql.MarshalTime makes for each (a page of 50 tickets has
// 200 times): the time is formatted into the response buffer.
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return timeValue(t)
}

type timeValue time.Time

// MarshalGQL writes the time quoted. RFC 3339 is digits, 'T', 'Z' and
// punctuation, which JSON strings hold as they are.
func (v timeValue) MarshalGQL(w io.Writer) {
	var p []byte
	if b, ok := w.(*bytes.Buffer); ok {
		p = b.AvailableBuffer()
	}
	p = append(p, '"')
	p = time.Time(v).AppendFormat(p, time.RFC3339Nano)
	_, _ = w.Write(append(p, '"'))
}

// UnmarshalTime reads an RFC 3339 time.
func UnmarshalTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return t, &Malformed{Want: "a time in RFC 3339 format, e.g. 2026-01-02T15:04:05Z"}
	}
	return t, nil
}

// MarshalString writes a string as gqlgen does.
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString reads a string. NUL characters are refused everywhere:
// PostgreSQL cannot store them in text, full-text search cannot parse
// them, and no legitimate input carries one.
func UnmarshalString(v any) (string, error) {
	s, err := graphql.UnmarshalString(v)
	if err != nil {
		return s, &Malformed{Want: "a string"}
	}
	if strings.ContainsRune(s, 0) {
		return s, &Malformed{Want: "text without NUL characters"}
	}
	return s, nil
}

// MarshalUpload is never called: uploads are input only.
func MarshalUpload(u graphql.Upload) graphql.Marshaler { return graphql.MarshalUpload(u) }

// UnmarshalUpload reads an Upload: only a file part of a multipart
// request is one (anything else is BAD_USER_INPUT naming the argument).
func UnmarshalUpload(v any) (graphql.Upload, error) {
	u, err := graphql.UnmarshalUpload(v)
	if err != nil {
		return u, &Malformed{Want: "a file of a multipart request (see the GraphQL multipart request spec)"}
	}
	return u, nil
}
