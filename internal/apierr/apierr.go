// Package apierr is Switchboard's one error type: an error with a code a
// client can act on (the codes of the GraphQL contract), a message safe to
// show, and, for bad input, the name of the offending field. Domain code
// returns these; the GraphQL layer maps every other error to INTERNAL.
package apierr

import (
	"errors"
	"fmt"
	"math"
	"time"
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
	// QueryTooComplex: the operation is over one of the query limits
	// (depth, complexity, aliases, directives, fields, tokens,
	// operations); it was refused before any resolver ran.
	QueryTooComplex Code = "QUERY_TOO_COMPLEX"
	// PayloadTooLarge: the request body is over the body size limit.
	PayloadTooLarge Code = "PAYLOAD_TOO_LARGE"
	// UnsupportedMediaType: a POST whose Content-Type is not JSON.
	UnsupportedMediaType Code = "UNSUPPORTED_MEDIA_TYPE"
	// MethodNotAllowed: a mutation or subscription sent over GET, or a
	// method /query does not serve.
	MethodNotAllowed Code = "METHOD_NOT_ALLOWED"
	// Timeout: the operation ran past its deadline.
	Timeout Code = "TIMEOUT"
)

// httpStatus is the HTTP status of a request refused with a code as a
// whole. Codes not listed answer 200 with the error in the body, as
// GraphQL over HTTP does for errors of individual fields.
var httpStatus = map[Code]int{
	Unauthenticated:      401,
	Forbidden:            403,
	BadUserInput:         400,
	RateLimited:          429,
	Internal:             500,
	Unavailable:          503,
	QueryTooComplex:      400,
	PayloadTooLarge:      413,
	UnsupportedMediaType: 415,
	MethodNotAllowed:     405,
	Timeout:              504,
}

// HTTPStatus returns the HTTP status of a request refused as a whole with
// code (200 for codes that only concern part of a response).
func HTTPStatus(code Code) int {
	if s, ok := httpStatus[code]; ok {
		return s
	}
	return 200
}

// Error is an error a client may see.
type Error struct {
	Code    Code
	Message string
	// Field names the input field at fault, for BAD_USER_INPUT.
	Field string
	// RetryAfter, for RATE_LIMITED, is how long to wait before trying
	// again (extensions.retryAfter and the Retry-After header, in
	// RetrySeconds).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// TooMany returns a RATE_LIMITED error asking the client to wait: the
// message ends with when to try again, e.g. "too many requests; try again
// in 3s".
func TooMany(wait time.Duration, format string, args ...any) *Error {
	return &Error{Code: RateLimited, RetryAfter: wait,
		Message: fmt.Sprintf(format, args...) + fmt.Sprintf("; try again in %s", time.Duration(RetrySeconds(wait))*time.Second)}
}

// RetrySeconds is a wait as clients are told it: whole seconds, rounded
// up (trying again a little early would be refused again), at least 1.
func RetrySeconds(wait time.Duration) int {
	secs := wait / time.Second
	if wait%time.Second > 0 {
		secs++
	}
	// As many whole seconds as a Duration can hold, so that the message
	// can show them.
	return int(min(max(secs, 1), time.Duration(math.MaxInt64)/time.Second))
}

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
