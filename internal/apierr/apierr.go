// Package apierr is Switchboard's one error type: an error with a code a
// client can act on (the codes of the GraphQL contract), a message safe to
// show, and, for bad input, the name of the offending field. Domain code
// returns these; the GraphQL layer maps every other error to INTERNAL.
package apierr

import (
	"errors"
	"fmt"
)

// Code is the machine-readable kind of an error (extensions.code).
type Code string

// The codes of the GraphQL contract.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadUserInput    Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	Internal        Code = "INTERNAL"
	// CursorExpired: a subscription's after: cursor is older than the
	// event log's retention; refetch, then subscribe without after:.
	CursorExpired Code = "CURSOR_EXPIRED"
	// Unavailable: the server is shutting down or a dependency is down.
	Unavailable Code = "UNAVAILABLE"
	// PersistedQueryNotFound: an automatic persisted query's hash is not
	// known; send the query with it (the APQ protocol's own code).
	PersistedQueryNotFound Code = "PERSISTED_QUERY_NOT_FOUND"
)

// Error is an error a client may see.
type Error struct {
	Code    Code
	Message string
	// Field names the input field at fault, for BAD_USER_INPUT.
	Field string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a BAD_USER_INPUT error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err, or INTERNAL when err is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}
