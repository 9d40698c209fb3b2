package graph

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"

	"entgo.io/ent/dialect/sql/sqlgraph"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/graph/model"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/requestid"
)

// classify maps any error to what a client may see: the one table from
// domain, ent and GraphQL errors to the codes of the contract. What it
// makes from another error keeps that error as its cause, for the logs.
func classify(err error) *apierr.Error {
	var (
		appErr     *apierr.Error
		validation *ent.ValidationError
		gqlErr     *gqlerror.Error
		malformed  *model.Malformed
	)
	switch {
	case errors.As(err, &appErr):
		return appErr
	case errors.As(err, &malformed) && errors.As(err, &gqlErr):
		// A scalar that did not read: the path ends at its argument or
		// input field.
		field := lastName(gqlErr.Path)
		return apierr.Invalid(field, "%s %v", field, malformed)
	case isEmptyFilter(err):
		return apierr.Invalid("where", "a filter (where, not, and, or, has…With) must not be empty: leave it out instead")
	case ent.IsNotFound(err):
		return apierr.Wrap(apierr.NotFound, err, "no object with this ID")
	case ent.IsNotSingular(err):
		return apierr.Wrap(apierr.Conflict, err, "more than one object matches")
	case errors.As(err, &validation):
		field := lowerCamel(validation.Name)
		e := apierr.Wrap(apierr.BadUserInput, err, "%s %s", field, validatorWords(validation))
		e.Field = field
		return e
	case sqlgraph.IsUniqueConstraintError(err):
		field := uniqueField(err)
		if field == "" {
			return apierr.Wrap(apierr.Conflict, err, "this conflicts with an existing object")
		}
		e := apierr.Wrap(apierr.Conflict, err, "an object with this %s already exists", field)
		e.Field = field
		return e
	case sqlgraph.IsForeignKeyConstraintError(err):
		return apierr.Wrap(apierr.BadUserInput, err, "a referenced object does not exist")
	case sqlgraph.IsConstraintError(err):
		return apierr.Wrap(apierr.Conflict, err, "this conflicts with existing data")
	case errors.Is(err, privacy.Deny):
		return apierr.Wrap(apierr.Forbidden, err, "you are not allowed to do this")
	case DatabaseUnreachable(err):
		return apierr.Wrap(apierr.Unavailable, err, "the database is unavailable; try again shortly")
	case errors.Is(err, context.DeadlineExceeded):
		return apierr.Wrap(apierr.Timeout, err, "the operation took too long (SWITCHBOARD_OPERATION_TIMEOUT)")
	case errors.As(err, &gqlErr) && gqlErr.Err == nil:
		// Produced by gqlgen itself: syntax, validation and variable
		// coercion errors are the client's input; NOT_FOUND comes from entgql.
		code, _ := gqlErr.Extensions["code"].(string)
		switch code {
		case "NOT_FOUND":
			return apierr.Errorf(apierr.NotFound, "no object with this ID")
		case string(apierr.PersistedQueryNotFound):
			// Clients of the APQ protocol look for this exact message.
			return apierr.Errorf(apierr.PersistedQueryNotFound, "%s", gqlErr.Message)
		case errcode.ValidationFailed, errcode.ParseFailed, "":
			return apierr.Errorf(apierr.BadUserInput, "%s", gqlErr.Message)
		}
	}
	return nil
}

// DatabaseUnreachable reports errors of a database that cannot be reached
// (refused or broken connections), as opposed to errors in what was asked.
func DatabaseUnreachable(err error) bool {
	var netErr *net.OpError
	var connectErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connectErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		// A connection cut in the middle of a reply.
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// NewError is the GraphQL error a client is shown for e: its message (never
// its cause) and extensions: code, field for bad input, retryAfter in whole
// seconds for RATE_LIMITED. It is the one constructor of client errors:
// the error presenter shapes every error of a response with it, and so do
// the responses made outside execution (rate limits, refused subscription
// filters, the websocket transport's refusals, internal/httpserver's
// writeError).
func NewError(e *apierr.Error) *gqlerror.Error {
	out := &gqlerror.Error{Message: e.Message, Err: e, Extensions: map[string]any{"code": string(e.Code)}}
	if e.Field != "" {
		out.Extensions["field"] = e.Field
	}
	if e.Code == apierr.RateLimited {
		out.Extensions["retryAfter"] = apierr.RetrySeconds(e.RetryAfter)
	}
	return out
}

// ErrorPresenter gives every error an extensions.code. Errors it cannot
// classify are internal: logged with the request id, shown only as INTERNAL
// with that id.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		e := classify(err)
		var requestID string
		if e == nil || e.Code == apierr.Internal {
			requestID = requestid.FromContext(ctx)
			log.ErrorContext(ctx, "internal error", "request_id", requestID, "path", gqlErr.Path.String(), "err", err)
			e = apierr.Wrap(apierr.Internal, err, "internal error (request id %s)", requestID)
		}
		// The path and locations stay the executor's; what is said is
		// NewError's.
		shown := NewError(e)
		if requestID != "" {
			shown.Extensions["requestId"] = requestID
		}
		gqlErr.Message, gqlErr.Extensions = shown.Message, shown.Extensions
		return gqlErr
	}
}

// RecoverFunc turns a resolver panic into an internal error, keeping the
// stack in the log only.
func RecoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "request_id", requestid.FromContext(ctx), "panic", p, "stack", string(debug.Stack()))
		return fmt.Errorf("panic: %v", p)
	}
}

// validatorWords says what an ent validator refused, after the field's
// name: validators of ent/schema word their own errors for clients ("must
// be positive"); ent's built-in ones are translated here, and any other
// wording (which names ent's Go field) is not shown.
func validatorWords(v *ent.ValidationError) string {
	inner := errors.Unwrap(errors.Unwrap(v))
	if inner == nil {
		return "is invalid"
	}
	switch msg := inner.Error(); {
	case msg == "value is greater than the required length":
		return "is too long"
	case msg == "value is less than the required length":
		return "must not be empty"
	case msg == "value out of range":
		return "is out of range"
	case strings.Contains(msg, "ent:") || strings.Contains(msg, "_"):
		return "is invalid"
	default:
		return msg
	}
}

// uniqueColumn finds the column in SQLite's "UNIQUE constraint failed:
// groups.name".
var uniqueColumn = regexp.MustCompile(`UNIQUE constraint failed: \w+\.(\w+)`)

// uniqueField names the input field of a unique constraint that failed:
// PostgreSQL names the constraint (<table>_<column>_key, as ent creates
// unique columns), SQLite the column; "" when neither can be read.
func uniqueField(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		col := strings.TrimSuffix(strings.TrimPrefix(pgErr.ConstraintName, pgErr.TableName+"_"), "_key")
		if col == pgErr.ConstraintName {
			return ""
		}
		return lowerCamel(col)
	}
	if m := uniqueColumn.FindStringSubmatch(err.Error()); m != nil {
		return lowerCamel(m[1])
	}
	return ""
}

// lastName is the last field name on a path (list indexes skipped).
func lastName(path ast.Path) string {
	for i := len(path) - 1; i >= 0; i-- {
		if name, ok := path[i].(ast.PathName); ok {
			return string(name)
		}
	}
	return ""
}

// isEmptyFilter reports entgql's error for an empty where input (one
// sentinel per type, ErrEmptyTicketWhereInput and so on, all worded alike).
func isEmptyFilter(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if strings.HasPrefix(err.Error(), "ent: empty predicate ") {
			return true
		}
	}
	return false
}

// lowerCamel turns ent's snake_case field names into the GraphQL names.
func lowerCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] == "id" {
			parts[i] = "ID"
		} else if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
