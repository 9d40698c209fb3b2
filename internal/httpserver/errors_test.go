package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// errorBody is what writeError writes.
type errorBody struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func readError(t *testing.T, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 || body.Data != nil {
		t.Fatalf("body %q is not one error without data: %v", rec.Body, err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	return body
}

func TestWriteError(t *testing.T) {
	// Every code through writeError: its status is the table's, whatever
	// the code.
	for _, code := range apierr.Codes {
		t.Run("Err"+string(code), func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeError(rec, apierr.Errorf(code, "refused"))
			if rec.Code != apierr.HTTPStatus(code) {
				t.Fatalf("status %d, want %d", rec.Code, apierr.HTTPStatus(code))
			}
			body := readError(t, rec)
			if body.Errors[0].Message != "refused" || body.Errors[0].Extensions["code"] != string(code) {
				t.Fatalf("error %+v", body.Errors[0])
			}
			if auth := rec.Header().Get("WWW-Authenticate"); (auth != "") != (code == apierr.Unauthenticated) {
				t.Fatalf("WWW-Authenticate %q for %s", auth, code)
			}
		})
	}
	t.Run("ErrRateLimitedSaysWhenToRetry", func(t *testing.T) {
		rec := httptest.NewRecorder()
		writeError(rec, apierr.TooMany(1500*time.Millisecond, "too many"))
		body := readError(t, rec)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" || body.Errors[0].Extensions["retryAfter"] != 2.0 {
			t.Fatalf("%d, Retry-After %q, %+v", rec.Code, rec.Header().Get("Retry-After"), body.Errors[0])
		}
	})
	t.Run("ErrUnavailableWithAWaitSaysIt", func(t *testing.T) {
		rec := httptest.NewRecorder()
		e := apierr.Wrap(apierr.Unavailable, errors.New("dial tcp 10.0.0.5:5432: connection refused"), "the database is unavailable")
		e.RetryAfter = databaseRetry
		writeError(rec, e)
		body := readError(t, rec)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" || body.Errors[0].Extensions["retryAfter"] != nil {
			t.Fatalf("%d, Retry-After %q, %+v", rec.Code, rec.Header().Get("Retry-After"), body.Errors[0])
		}
		if strings.Contains(rec.Body.String(), "10.0.0.5") {
			t.Fatalf("the cause reached the client: %s", rec.Body)
		}
	})
	t.Run("ErrNotAnAppErrorIsInternal", func(t *testing.T) {
		rec := httptest.NewRecorder()
		writeError(rec, errors.New("pq: password authentication failed"))
		body := readError(t, rec)
		if rec.Code != http.StatusInternalServerError || body.Errors[0].Message != "internal error" || body.Errors[0].Extensions["code"] != "INTERNAL" {
			t.Fatalf("%d %+v", rec.Code, body.Errors[0])
		}
	})
	t.Run("ErrBadInputNamesItsField", func(t *testing.T) {
		rec := httptest.NewRecorder()
		writeError(rec, apierr.Invalid("query", "the request has no query"))
		if body := readError(t, rec); rec.Code != http.StatusBadRequest || body.Errors[0].Extensions["field"] != "query" {
			t.Fatalf("%d %+v", rec.Code, body.Errors[0])
		}
	})
}

// TestEventStreamErrors checks that an event stream refused before it
// starts answers through writeError, with its code's status.
func TestEventStreamErrors(t *testing.T) {
	newHub := func(t *testing.T, opts live.Options) *live.Hub {
		// Connect, the only part of the hub used here, needs no database.
		return live.New(nil, broker.NewMemory(), presence.NewMemory(), nil, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	stream := func(hub *live.Hub, ctx context.Context) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"subscription { ticketEvents { cursor } }"}`)).WithContext(ctx)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "text/event-stream")
		rec := httptest.NewRecorder()
		eventStream{hub: hub}.Do(rec, r, nil)
		return rec
	}
	t.Run("ErrShuttingDownIsUnavailable", func(t *testing.T) {
		hub := newHub(t, live.Options{})
		hub.Close()
		rec := stream(hub, context.Background())
		body := readError(t, rec)
		if rec.Code != apierr.HTTPStatus(apierr.Unavailable) || body.Errors[0].Extensions["code"] != "UNAVAILABLE" {
			t.Fatalf("%d %+v", rec.Code, body.Errors[0])
		}
	})
	t.Run("ErrTooManyConnectionsIsRateLimited", func(t *testing.T) {
		hub := newHub(t, live.Options{MaxConnectionsPerUser: 1})
		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: "US1", Role: viewer.Customer})
		_, conn, err := hub.Connect(ctx, func(int, string) {})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rec := stream(hub, ctx)
		body := readError(t, rec)
		if rec.Code != apierr.HTTPStatus(apierr.RateLimited) || rec.Header().Get("Retry-After") == "" || body.Errors[0].Extensions["code"] != "RATE_LIMITED" {
			t.Fatalf("%d, Retry-After %q, %+v", rec.Code, rec.Header().Get("Retry-After"), body.Errors[0])
		}
	})
}
