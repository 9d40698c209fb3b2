package ops_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// scrapeMetrics fetches /metrics from base.
func scrapeMetrics(t *testing.T, base string) (int, string) {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metricValue is the value of the sample named exactly series (name and
// labels as printed), or -1 when absent.
func metricValue(body, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetricsOfRunningServer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
		s := harness.Start(t, tg, nil)
		admin := harness.Login(t, s, scaleAdminEmail, scaleAdminPassword)
		if r := s.Do(t, "", harness.LoginMutation, map[string]any{"email": scaleAdminEmail, "password": "wrong password here"}); r.Code(t) != "UNAUTHENTICATED" {
			t.Fatalf("wrong password: %s", r.Code(t))
		}
		c := harness.ConnectWS(t, s, "graphql-transport-ws", admin)
		c.Subscribe("1", scaleEventsQuery, nil)
		cust, _ := harness.Signup(t, s, "cara@example.com", "Cara")
		// The subscription may start after the first ticket's events:
		// create tickets until one arrives.
		deadline := time.Now().Add(30 * time.Second)
		for got := false; !got; {
			if time.Now().After(deadline) {
				t.Fatal("no event reached the subscription")
			}
			s.Do(t, cust, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "metrics", "body": "x"}}).OK(t)
			m, err := c.Read(2 * time.Second)
			got = err == nil && m.Type == "next"
		}
		status, body := scrapeMetrics(t, s.URL)
		if status != http.StatusOK {
			t.Fatalf("GET /metrics: %d", status)
		}
		dbName := "sqlite"
		if tg.DatabaseURL != "" {
			dbName = "postgres"
		}
		for series, min := range map[string]float64{
			"switchboard_live_connections":                                                             1,
			"switchboard_live_subscriptions":                                                           1,
			"switchboard_live_events_dispatched_total":                                                 1,
			"switchboard_live_events_delivered_total":                                                  1,
			"switchboard_live_event_lag_seconds_count":                                                 1,
			`switchboard_login_failures_total{reason="invalid_credentials"}`:                           1,
			`switchboard_graphql_operations_total{operation="anonymous",outcome="ok",type="mutation"}`: 3,
			`switchboard_http_requests_total{method="GET",route="/query",status="101"}`:                1,
			fmt.Sprintf(`go_sql_open_connections{db_name=%q}`, dbName):                                 1,
		} {
			if v := metricValue(body, series); v < min {
				t.Errorf("%s = %v, want at least %v", series, v, min)
			}
		}
		c.Conn.Close()
		// The hub notices the closed socket soon after.
		for time.Now().Before(deadline) {
			if _, body := scrapeMetrics(t, s.URL); metricValue(body, "switchboard_live_connections") == 0 {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Error("switchboard_live_connections did not go back to 0 after the socket closed")
	})
}

func TestMetricsListenerApart(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	port := harness.FreePort(t)
	s := harness.Start(t, tg, map[string]string{
		"SWITCHBOARD_METRICS_ADDR":  fmt.Sprintf("127.0.0.1:%d", port),
		"SWITCHBOARD_METRICS_TOKEN": "scrape-me",
	})
	t.Run("NotOnTheMainListener", func(t *testing.T) {
		if status, _ := scrapeMetrics(t, s.URL); status != http.StatusNotFound {
			t.Fatalf("GET /metrics on the API: %d", status)
		}
	})
	t.Run("OnItsOwnAddressWithTheToken", func(t *testing.T) {
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		if status, _ := scrapeMetrics(t, base); status != http.StatusUnauthorized {
			t.Fatalf("without the token: %d", status)
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer scrape-me")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "switchboard_live_connections 0") {
			t.Fatalf("with the token: %d %.300s", res.StatusCode, b)
		}
	})
}

func TestProductionLogsAreJSON(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
	s := harness.Start(t, tg, map[string]string{"SWITCHBOARD_ENV": "production", "SWITCHBOARD_LOG_LEVEL": "info"})
	token := harness.Login(t, s, scaleAdminEmail, scaleAdminPassword)
	s.Do(t, token, `query Me { me { id } }`, nil).OK(t)
	c := harness.ConnectWS(t, s, "graphql-transport-ws", token)
	c.Subscribe("1", `subscription Watch { ticketEvents { cursor } }`, nil)
	var sawOperation, sawSubscription bool
	for deadline := time.Now().Add(10 * time.Second); !sawSubscription && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sawSubscription = strings.Contains(s.Out.String(), `"operation":"Watch"`)
	}
	for _, line := range strings.Split(strings.TrimSpace(s.Out.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
		if rec["msg"] == "http request" && rec["operation"] == "Me" && rec["viewer_id"] != nil && rec["request_id"] != nil {
			sawOperation = true
		}
		if rec["msg"] == "graphql operation" && rec["operation"] == "Watch" &&
			(rec["type"] != "subscription" || rec["outcome"] != "subscribed" || rec["viewer_id"] == nil) {
			t.Errorf("websocket operation line: %v", rec)
		}
	}
	if !sawOperation {
		t.Fatalf("no access log line for Me:\n%s", s.Out)
	}
	if !sawSubscription {
		t.Fatalf("no log line for the subscription over the websocket:\n%s", s.Out)
	}
	if out := s.Out.String(); strings.Contains(out, scaleAdminPassword) || strings.Contains(out, token) {
		t.Fatalf("the log holds the password or the token:\n%s", out)
	}
}

func TestTracesExportedWhenConfigured(t *testing.T) {
	var (
		mu     sync.Mutex
		bodies []string
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
	}))
	defer collector.Close()
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	harness.CreateUser(t, tg, scaleAdminEmail, "Ada Admin", "admin", scaleAdminPassword)
	p := harness.Start(t, tg, map[string]string{"SWITCHBOARD_OTLP_ENDPOINT": collector.URL})
	token := harness.Login(t, p, scaleAdminEmail, scaleAdminPassword)
	p.Do(t, token, `query Me { me { id } }`, nil).OK(t)
	p.Stop()
	if code, ok := p.Wait(30 * time.Second); !ok || code != cli.ExitOK {
		t.Fatalf("exit %d (exited: %v)", code, ok)
	}
	mu.Lock()
	defer mu.Unlock()
	// The spans are OTLP JSON; their names are in it as plain strings.
	for _, b := range bodies {
		if strings.HasPrefix(b, "POST /v1/traces ") && strings.Contains(b, "graphql query Me") && strings.Contains(b, "POST /query") {
			return
		}
	}
	t.Fatalf("the collector got %d requests, none with the spans of the Me query", len(bodies))
}
