package graph

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/switchboardhq/switchboard/ent/privacy"
	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/requestid"
)

func present(t *testing.T, err error) (*gqlerror.Error, string) {
	t.Helper()
	var logs bytes.Buffer
	ctx := requestid.NewContext(context.Background(), "req-1")
	ctx = graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, nil)
	return ErrorPresenter(slog.New(slog.NewTextHandler(&logs, nil)))(ctx, err), logs.String()
}

func TestErrorPresenter(t *testing.T) {
	t.Run("UnreachableDatabaseIsUnavailable", func(t *testing.T) {
		refused := fmt.Errorf("querying: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
		for _, err := range []error{refused, fmt.Errorf("x: %w", driver.ErrBadConn)} {
			got, _ := present(t, err)
			if got.Extensions["code"] != "UNAVAILABLE" || strings.Contains(got.Message, "dial") {
				t.Fatalf("%v presented as %v %q", err, got.Extensions, got.Message)
			}
		}
	})
	t.Run("InternalErrorsAreMaskedAndLogged", func(t *testing.T) {
		got, logs := present(t, errors.New("pq: password authentication failed for user root"))
		if got.Extensions["code"] != "INTERNAL" || got.Extensions["requestId"] != "req-1" {
			t.Fatalf("extensions = %v", got.Extensions)
		}
		if strings.Contains(got.Message, "password") || !strings.Contains(got.Message, "req-1") {
			t.Fatalf("message leaks or lacks the request id: %q", got.Message)
		}
		if !strings.Contains(logs, "password authentication failed") || !strings.Contains(logs, "req-1") {
			t.Fatalf("log lacks the cause or request id: %s", logs)
		}
	})
	t.Run("AppErrorsKeepCodeAndField", func(t *testing.T) {
		got, _ := present(t, fmt.Errorf("wrapped: %w", apierr.Invalid("subject", "subject is required")))
		if got.Extensions["code"] != "BAD_USER_INPUT" || got.Extensions["field"] != "subject" || got.Message != "subject is required" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("PrivacyDenyIsForbidden", func(t *testing.T) {
		got, _ := present(t, privacy.Denyf("no"))
		if got.Extensions["code"] != "FORBIDDEN" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("ValidationFailuresAreBadUserInput", func(t *testing.T) {
		e := gqlerror.Errorf("Value \"EXPLODED\" does not exist in \"TicketStatus!\" enum.")
		e.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}
		got, _ := present(t, e)
		if got.Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(got.Message, "EXPLODED") {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("CauseIsKeptButNotShown", func(t *testing.T) {
		cause := errors.New("pq: duplicate key value violates unique constraint secret_idx")
		got, logs := present(t, fmt.Errorf("saving: %w", apierr.Wrap(apierr.Conflict, cause, "this name is taken")))
		if got.Message != "this name is taken" || got.Extensions["code"] != "CONFLICT" || logs != "" {
			t.Fatalf("got %q %v, logged %q", got.Message, got.Extensions, logs)
		}
		if !errors.Is(got, cause) {
			t.Fatal("the presented error lost its cause")
		}
	})
	t.Run("ClassifiedErrorsKeepTheirCause", func(t *testing.T) {
		refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		e := classify(fmt.Errorf("querying: %w", refused))
		if e.Code != apierr.Unavailable || strings.Contains(e.Message, "dial") || !errors.Is(e, syscall.ECONNREFUSED) {
			t.Fatalf("classify = %+v", e)
		}
	})
	t.Run("InternalAppErrorsAreMaskedAndLogged", func(t *testing.T) {
		got, logs := present(t, apierr.Wrap(apierr.Internal, errors.New("disk full at /var/lib"), "could not save"))
		if got.Extensions["code"] != "INTERNAL" || strings.Contains(got.Message, "disk") || strings.Contains(got.Message, "could not save") {
			t.Fatalf("got %q %v", got.Message, got.Extensions)
		}
		if !strings.Contains(logs, "disk full") {
			t.Fatalf("log lacks the cause: %s", logs)
		}
	})
	t.Run("LowerCamelFieldNames", func(t *testing.T) {
		for in, want := range map[string]string{"subject": "subject", "group_id": "groupID", "first_response_due_at": "firstResponseDueAt"} {
			if got := lowerCamel(in); got != want {
				t.Fatalf("lowerCamel(%q) = %q, want %q", in, got, want)
			}
		}
	})
}

func TestPageLimits(t *testing.T) {
	mw := PageLimits(20, 100)
	call := func(args map[string]any) (map[string]any, error) {
		// Connections are resolved by a resolver or an ent method.
		ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Args: args, IsResolver: true})
		_, err := mw(ctx, func(context.Context) (any, error) { return nil, nil })
		return args, err
	}
	ptr := func(n int) *int { return &n }
	t.Run("DefaultsFirst", func(t *testing.T) {
		args, err := call(map[string]any{"first": (*int)(nil), "last": (*int)(nil)})
		if err != nil || *args["first"].(*int) != 20 {
			t.Fatalf("args %v err %v", args, err)
		}
	})
	t.Run("KeepsLast", func(t *testing.T) {
		args, err := call(map[string]any{"first": (*int)(nil), "last": ptr(5)})
		if err != nil || args["first"].(*int) != nil {
			t.Fatalf("args %v err %v", args, err)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		_, err := call(map[string]any{"first": ptr(101), "last": (*int)(nil)})
		var e *apierr.Error
		if !errors.As(err, &e) || e.Code != apierr.BadUserInput || e.Field != "first" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("IgnoresStructFields", func(t *testing.T) {
		args := map[string]any{"first": ptr(101)}
		ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Args: args})
		if _, err := mw(ctx, func(context.Context) (any, error) { return nil, nil }); err != nil {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("IgnoresFieldsWithoutPaging", func(t *testing.T) {
		args, err := call(map[string]any{"id": "x"})
		if err != nil || len(args) != 1 {
			t.Fatalf("args %v err %v", args, err)
		}
	})
}

func TestNewError(t *testing.T) {
	t.Run("CodeAndMessage", func(t *testing.T) {
		got := NewError(apierr.Errorf(apierr.NotFound, "no object with this ID"))
		if got.Message != "no object with this ID" || len(got.Extensions) != 1 || got.Extensions["code"] != "NOT_FOUND" {
			t.Fatalf("got %q %v", got.Message, got.Extensions)
		}
	})
	t.Run("FieldOfBadInput", func(t *testing.T) {
		got := NewError(apierr.Invalid("subject", "subject is required"))
		if got.Extensions["field"] != "subject" || got.Extensions["code"] != "BAD_USER_INPUT" {
			t.Fatalf("extensions = %v", got.Extensions)
		}
	})
	t.Run("RateLimitedSaysWhenToRetry", func(t *testing.T) {
		got := NewError(apierr.TooMany(2500*time.Millisecond, "too many requests"))
		if got.Extensions["retryAfter"] != 3 || got.Extensions["code"] != "RATE_LIMITED" {
			t.Fatalf("extensions = %v", got.Extensions)
		}
	})
	t.Run("ErrCauseIsNotShown", func(t *testing.T) {
		cause := errors.New("redis: connection refused")
		got := NewError(apierr.Wrap(apierr.Unavailable, cause, "the service is busy; try again shortly"))
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "redis") || !errors.Is(got, cause) {
			t.Fatalf("shown %s; cause kept: %v", b, errors.Is(got, cause))
		}
	})
}
