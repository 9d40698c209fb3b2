package metrics_test

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/switchboardhq/switchboard/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Run("OperationNamesAreCapped", func(t *testing.T) {
		m := metrics.New()
		for i := range metrics.MaxOperationNames + 50 {
			m.Operation(fmt.Sprintf("Op%d", i), "query", "ok", time.Millisecond)
		}
		m.Operation("Op0", "query", "ok", time.Millisecond) // seen before the cap: keeps its name
		m.Operation("", "mutation", "BAD_USER_INPUT", time.Millisecond)
		body := scrape(t, m)
		mustContain(t, body,
			`switchboard_graphql_operations_total{operation="Op0",outcome="ok",type="query"} 2`,
			`switchboard_graphql_operations_total{operation="other",outcome="ok",type="query"} 50`,
			`switchboard_graphql_operations_total{operation="anonymous",outcome="BAD_USER_INPUT",type="mutation"} 1`)
		if n := strings.Count(body, "switchboard_graphql_operations_total{"); n != metrics.MaxOperationNames+2 {
			t.Fatalf("%d operation series, want %d", n, metrics.MaxOperationNames+2)
		}
	})
	t.Run("SubscriptionsCountedWithoutLatency", func(t *testing.T) {
		m := metrics.New()
		m.Operation("Events", "subscription", "subscribed", time.Hour)
		body := scrape(t, m)
		mustContain(t, body, `switchboard_graphql_operations_total{operation="Events",outcome="subscribed",type="subscription"} 1`)
		if strings.Contains(body, `switchboard_graphql_operation_duration_seconds_count{operation="Events"`) {
			t.Fatal("a subscription's lifetime was recorded as an operation's latency")
		}
	})
	t.Run("HTTPByRouteAndStatusClass", func(t *testing.T) {
		m := metrics.New()
		for _, c := range []struct {
			path   string
			status int
		}{{"/query", 200}, {"/query", 429}, {"/query", 101}, {"/", 200}, {"/x/../etc", 404}, {"/readyz", 503},
			{"/wallboard", 200}, {"/wallboard/wallboard.js", 304}, {"/wallboardx", 404}, {"/playground/playground.js", 304}} {
			done := m.HTTPStarted()
			done(metrics.RouteOf(c.path), "GET", c.status, time.Millisecond)
		}
		done := m.HTTPStarted()
		done("/query", "PROPFIND", 405, time.Millisecond)
		mustContain(t, scrape(t, m),
			`switchboard_http_requests_total{method="GET",route="/query",status="2xx"} 1`,
			`switchboard_http_requests_total{method="GET",route="/query",status="4xx"} 1`,
			`switchboard_http_requests_total{method="GET",route="/query",status="101"} 1`,
			`switchboard_http_requests_total{method="GET",route="/playground",status="2xx"} 1`,
			`switchboard_http_requests_total{method="GET",route="/playground",status="3xx"} 1`,
			`switchboard_http_requests_total{method="GET",route="other",status="4xx"} 2`,
			`switchboard_http_requests_total{method="GET",route="/wallboard",status="2xx"} 1`,
			`switchboard_http_requests_total{method="GET",route="/wallboard",status="3xx"} 1`,
			`switchboard_http_requests_total{method="GET",route="/readyz",status="5xx"} 1`,
			`switchboard_http_requests_total{method="other",route="/query",status="4xx"} 1`,
			`switchboard_http_requests_in_flight 0`)
	})
	t.Run("LiveNumbersReadAtScrape", func(t *testing.T) {
		m := metrics.New()
		s := metrics.LiveStats{Connections: 3, Subscriptions: 5, NoticesPublished: 7, EventsDispatched: 11, EventsDelivered: 13, EventsBehind: 2, NoticesDropped: 1}
		m.Live(func() metrics.LiveStats { return s })
		m.EventLag(20 * time.Millisecond)
		mustContain(t, scrape(t, m),
			"switchboard_live_connections 3", "switchboard_live_subscriptions 5",
			"switchboard_live_events_published_total 7", "switchboard_live_events_dispatched_total 11",
			"switchboard_live_events_delivered_total 13",
			`switchboard_live_events_dropped_total{reason="subscriber_behind"} 2`,
			`switchboard_live_events_dropped_total{reason="notice_queue_full"} 1`,
			`switchboard_live_event_lag_seconds_bucket{le="0.025"} 1`)
		s.Connections = 4
		mustContain(t, scrape(t, m), "switchboard_live_connections 4")
	})
	t.Run("DatabasePool", func(t *testing.T) {
		db, err := sql.Open("sqlite", ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(3)
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		m := metrics.New()
		m.DB("sqlite", db)
		mustContain(t, scrape(t, m), `go_sql_max_open_connections{db_name="sqlite"} 3`, `go_sql_open_connections{db_name="sqlite"} 1`)
	})
	t.Run("LoginFailuresByReason", func(t *testing.T) {
		m := metrics.New()
		m.LoginFailed("invalid_credentials")
		m.LoginFailed("invalid_credentials")
		m.LoginFailed("throttled")
		mustContain(t, scrape(t, m),
			`switchboard_login_failures_total{reason="invalid_credentials"} 2`,
			`switchboard_login_failures_total{reason="throttled"} 1`)
	})
	t.Run("RegistriesAreSeparate", func(t *testing.T) {
		a, b := metrics.New(), metrics.New()
		a.LoginFailed("throttled")
		if strings.Contains(scrape(t, b), "switchboard_login_failures_total{") {
			t.Fatal("one server's numbers show in another's")
		}
	})
}
