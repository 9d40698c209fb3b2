package clients_test

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// chromiumPath is Debian's Chromium, which playwright-core drives (it
// downloads no browser of its own).
const chromiumPath = "/usr/bin/chromium"

// wallboardBoard is one line of clients/wallboard-page.mjs: what the page
// shows, read from its data-field elements.
type wallboardBoard struct {
	State         string `json:"state"`
	Group         string `json:"group"`
	Waiting       string `json:"waiting"`
	New           string `json:"new"`
	Unassigned    string `json:"unassigned"`
	Breached      string `json:"breached"`
	BreachedLevel string `json:"breachedLevel"`
	OldestWaiting string `json:"oldestWaiting"`
	AgentsOnline  string `json:"agentsOnline"`
	AgentNames    string `json:"agentNames"`
	Updated       string `json:"updated"`
	Message       string `json:"message"`
	Sockets       int    `json:"sockets"`
}

// TestWallboardPage opens the wallboard page (package web) in headless
// Chromium against the real server in production mode: with a READ API
// token in the fragment it must go live, show the numbers and count a new
// ticket within seconds, all under its CSP (the script fails on any
// console error or CSP violation); refused credentials must end in a
// message on screen after a single connection, not a retry loop.
func TestWallboardPage(t *testing.T) {
	wallboardPageAvailable(t)
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "ADMIN", "correct horse battery staple 1")
	s := harness.Start(t, tg, map[string]string{"SWITCHBOARD_ENV": "production"})
	admin := harness.Login(t, s, "admin@example.com", "correct horse battery staple 1")
	screen := harness.Str(s.Do(t, admin, `mutation { createAPIToken(input: {name: "wall screen", scope: READ}) { token } }`, nil).OK(t), "createAPIToken", "token")
	customer, _ := harness.Signup(t, s, "cara@example.com", "Cara")

	t.Run("LiveWithReadToken", func(t *testing.T) {
		p := startRefClient(t, "wallboard-page.mjs", s.URL, screen, "watch")
		p.waitReady(t)
		first := nextBoard(t, p)
		if first.State != "live" || first.Group != "All groups" || first.Breached != "0" || first.BreachedLevel != "none" ||
			first.OldestWaiting != "—" || first.Updated == "" || first.Updated == "—" {
			t.Fatalf("first board shown: %+v", first)
		}
		before := atoi(t, first.Waiting)

		s.Do(t, customer, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "Printer on fire", "body": "help"}}).OK(t)

		// The server coalesces changes for up to a second
		// (SWITCHBOARD_WALLBOARD_COALESCE); the script exits once the
		// waiting count has changed.
		deadline := time.Now().Add(10 * time.Second)
		for {
			b := nextBoard(t, p)
			if b.Waiting == first.Waiting {
				if time.Now().After(deadline) {
					t.Fatalf("waiting count still %s after 10s", b.Waiting)
				}
				continue
			}
			if got := atoi(t, b.Waiting); got != before+1 || b.New != strconv.Itoa(atoi(t, first.New)+1) ||
				b.Unassigned != strconv.Itoa(atoi(t, first.Unassigned)+1) || b.State != "live" || b.OldestWaiting != "<1m" ||
				// The screen's own connection, with the admin's token, makes
				// the admin an agent online.
				b.AgentsOnline != "1" || b.AgentNames != "Ada Admin" {
				t.Fatalf("after one new ticket the page shows %+v (before: %+v)", b, first)
			}
			break
		}
		if code := p.Wait(t); code != 0 {
			t.Fatalf("wallboard-page.mjs exited %d\nstderr:\n%s", code, p.stderr)
		}
	})

	for _, c := range []struct {
		name, token, message string
	}{
		{"ErrCustomerForbidden", customer, "FORBIDDEN"},
		{"ErrNoCredentials", "", "Not signed in"},
		{"ErrBadToken", "not-a-valid-token", "The token was refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startRefClient(t, "wallboard-page.mjs", s.URL, c.token, "refused")
			b := nextBoard(t, p)
			if b.State != "error" || !strings.Contains(b.Message, c.message) {
				t.Fatalf("page shows %+v, want state error and a message with %q", b, c.message)
			}
			if b.Sockets != 1 {
				t.Fatalf("the page opened %d websockets, want 1 (no retrying a refusal)", b.Sockets)
			}
			if code := p.Wait(t); code != 0 {
				t.Fatalf("wallboard-page.mjs exited %d\nstderr:\n%s", code, p.stderr)
			}
		})
	}
}

// wallboardPageAvailable skips the test unless the reference clients,
// playwright-core among them, and Debian's Chromium are installed.
func wallboardPageAvailable(t *testing.T) {
	t.Helper()
	refClientsAvailable(t)
	if _, err := os.Stat(harness.RepoFile(t, "clients", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Skip("wallboard page test skipped: clients/node_modules/playwright-core is missing; install with `npm ci --prefix clients`")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("wallboard page test skipped: %s is missing; install Debian's chromium package (apt-get install chromium)", chromiumPath)
	}
}

func nextBoard(t *testing.T, p *refClient) wallboardBoard {
	t.Helper()
	l := p.Next(t, 20*time.Second, "a board")
	var b wallboardBoard
	if err := json.Unmarshal([]byte(l), &b); err != nil {
		t.Fatalf("%s printed a line that is not a board: %q", p.script, l)
	}
	return b
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}
