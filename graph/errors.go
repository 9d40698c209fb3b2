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
// domain, ent and GraphQL errors to the codes of the contract.
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
		return apierr.Errorf(apierr.NotFound, "no object with this ID")
	case ent.IsNotSingular(err):
		return apierr.Errorf(apierr.Conflict, "more than one object matches")
	case errors.As(err, &validation):
		field := lowerCamel(validation.Name)
		return apierr.Invalid(field, "%s %s", field, validatorWords(validation))
	case sqlgraph.IsUniqueConstraintError(err):
		field := uniqueField(err)
		if field == "" {
			return apierr.Errorf(apierr.Conflict, "this conflicts with an existing object")
		}
		return &apierr.Error{Code: apierr.Conflict, Field: field, Message: fmt.Sprintf("an object with this %s already exists", field)}
	case sqlgraph.IsForeignKeyConstraintError(err):
		return apierr.Errorf(apierr.BadUserInput, "a referenced object does not exist")
	case sqlgraph.IsConstraintError(err):
		return apierr.Errorf(apierr.Conflict, "this conflicts with existing data")
	case errors.Is(err, privacy.Deny):
		return apierr.Errorf(apierr.Forbidden, "you are not allowed to do this")
	case DatabaseUnreachable(err):
		return apierr.Errorf(apierr.Unavailable, "the database is unavailable; try again shortly")
	case errors.Is(err, context.DeadlineExceeded):
		return apierr.Errorf(apierr.Timeout, "the operation took too long (SWITCHBOARD_OPERATION_TIMEOUT)")
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

// ErrorPresenter gives every error an extensions.code. Errors it cannot
// classify are internal: logged with the request id, shown only as INTERNAL
// with that id.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		e := classify(err)
		if e == nil || e.Code == apierr.Internal {
			id := requestid.FromContext(ctx)
			log.ErrorContext(ctx, "internal error", "request_id", id, "path", gqlErr.Path.String(), "err", err)
			gqlErr.Message = "internal error (request id " + id + ")"
			gqlErr.Extensions = map[string]any{"code": string(apierr.Internal), "requestId": id}
			return gqlErr
		}
		gqlErr.Message = e.Message
		gqlErr.Extensions = map[string]any{"code": string(e.Code)}
		if e.Field != "" {
			gqlErr.Extensions["field"] = e.Field
		}
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
