package ops_test

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/faultnet"
)

// TestDatabaseOutage: with PostgreSQL unreachable, /readyz fails and
// requests get UNAVAILABLE (never a hang or a bare 500); when it is back,
// the server recovers by itself.
func TestDatabaseOutage(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("set TEST_DATABASE_URL to run the PostgreSQL outage test")
	}
	tg := dbtest.NewTarget(t, dbtest.Postgres)
	harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "correct horse battery staple 1")
	u, err := url.Parse(tg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	gate := faultnet.NewGate(t, u.Host)
	u.Host = gate.Addr()
	env := map[string]string{"DATABASE_URL": u.String(), "SWITCHBOARD_DB_CONN_MAX_LIFETIME": "1s"}
	s := harness.Start(t, tg, env)
	admin := harness.Login(t, s, "admin@example.com", "correct horse battery staple 1")
	ready := func() int {
		res, err := http.Get(s.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("readyz = %d before the outage", got)
	}

	gate.Cut()
	t.Run("ReadyzFails", func(t *testing.T) {
		if got := ready(); got != http.StatusServiceUnavailable {
			t.Fatalf("readyz = %d, want 503", got)
		}
	})
	t.Run("RequestsGetUnavailable", func(t *testing.T) {
		r := s.Do(t, admin, `{ tickets(first: 5) { totalCount } }`, nil)
		if r.Status == http.StatusInternalServerError || r.Code(t) != "UNAVAILABLE" {
			t.Fatalf("status %d, errors %+v, want UNAVAILABLE", r.Status, r.Errors)
		}
		for _, e := range r.Errors {
			if strings.Contains(e.Message, "127.0.0.1") || strings.Contains(e.Message, "dial") {
				t.Fatalf("the error tells connection details: %q", e.Message)
			}
		}
	})

	gate.Restore()
	t.Run("RecoversByItself", func(t *testing.T) {
		deadline := time.Now().Add(15 * time.Second)
		for ready() != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatal("readyz did not recover within 15s")
			}
			time.Sleep(200 * time.Millisecond)
		}
		s.Do(t, admin, `{ tickets(first: 5) { totalCount } }`, nil).OK(t)
	})
}
