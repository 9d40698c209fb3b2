// Package apierr is Switchboard's one error type: an error with a code a
// client can act on (the codes of the GraphQL contract), a message safe to
// show, for bad input the name of the offending field, and the cause it
// was made from, for the logs only. Domain code returns these; the GraphQL
// layer maps every other error to INTERNAL. The code decides the HTTP
// status of a request refused as a whole (HTTPStatus): the one table of
// docs/errors.md.
package apierr

import (
	"errors"
	"fmt"
	"math"
	"strings"
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

// Codes lists every code, in the order of docs/errors.md, so that tests
// can walk them all.
var Codes = []Code{
	Unauthenticated, Forbidden, NotFound, BadUserInput, Conflict, RateLimited,
	PersistedQueryNotFound, CursorExpired, Unavailable, QueryTooComplex,
	PayloadTooLarge, UnsupportedMediaType, MethodNotAllowed, Timeout, Internal,
}

// httpStatus is the HTTP status of a request refused with a code as a
// whole: the one place a status is chosen for an error, by GraphQL
// responses (operations refused before they ran, rate limits) and by every
// other HTTP error (internal/httpserver's writeError). Codes not listed
// answer 200 with the error in the body, as GraphQL over HTTP does for
// errors of individual fields.
var httpStatus = map[Code]int{
	Unauthenticated:      401,
	Forbidden:            403,
	NotFound:             404,
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

// Error is an error a client may see: its Message, never its Cause.
type Error struct {
	Code Code
	// Message is what the client is told.
	Message string
	// Field names the input field at fault, for BAD_USER_INPUT.
	Field string
	// RetryAfter, for RATE_LIMITED, is how long to wait before trying
	// again (extensions.retryAfter and the Retry-After header, in
	// RetrySeconds).
	RetryAfter time.Duration
	// Cause is the error this one was made from (a database's, a
	// parser's), kept for the logs and for errors.Is and errors.As; it
	// is never shown to the client, whose text is Message alone.
	Cause error
}

// Error is the message followed by the cause, as Go errors print their
// chain: what the logs show. Clients are shown Message, never this.
func (e *Error) Error() string {
	// A message that already ends with its cause's text (BAD_USER_INPUT
	// repeating a parser's words) does not say it twice.
	if e.Cause == nil || strings.HasSuffix(e.Message, e.Cause.Error()) {
		return e.Message
	}
	return e.Message + ": " + e.Cause.Error()
}

// Unwrap returns the cause, so that errors.Is and errors.As see through
// an Error to what it was made from.
func (e *Error) Unwrap() error { return e.Cause }

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

// Wrap returns an Error with the code and a formatted message, made from
// cause: the client sees the message, the logs and errors.Is/As the cause.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: cause}
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
