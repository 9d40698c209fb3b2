package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/database/dbtest"
	"github.com/switchboardhq/switchboard/internal/faultnet"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// cacheEnv gives the test's servers Redis when TEST_REDIS_URL is set
// (targetEnv gives them a cache key prefix of their own).
func cacheEnv(t *testing.T) (env map[string]string, withRedis bool) {
	env = map[string]string{}
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		env["REDIS_URL"] = u
		return env, true
	}
	t.Log("TEST_REDIS_URL not set: the instances share only the database and cache in memory")
	return env, false
}

// changeBound is what the cache promises: a change made through one
// instance is seen by every other within a second. Polling goes on a little
// longer so that a failure says how late it was.
const changeBound = time.Second

// takesEffect polls until cond holds and fails when that took longer than
// changeBound after the change returned (at started).
func takesEffect(t *testing.T, what string, started time.Time, cond func() bool) {
	t.Helper()
	deadline := started.Add(changeBound + 500*time.Millisecond)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so %v after the change", what, time.Since(started).Round(time.Millisecond))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(started); took > changeBound {
		t.Fatalf("%s took %v, more than %v", what, took.Round(time.Millisecond), changeBound)
	} else {
		t.Logf("%s after %v", what, took.Round(time.Millisecond))
	}
}

func TestCacheAcrossInstances(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		env, withRedis := cacheEnv(t)
		createUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		a := startServer(t, tg, env)
		b := startServer(t, tg, env)
		admin := login(t, a, "admin@example.com", "amber canyon whistle")
		// direct changes the database without the servers' hooks, as if
		// behind the cache's back: what it changes, the cache hides.
		direct := tg.Open(t)
		sys := viewer.SystemContext(context.Background())

		invite := func(email string) string {
			r := a.do(t, admin, `mutation($e: String!) { inviteUser(input: {email: $e, name: "Agent", role: AGENT, password: "copper fox meadow 77"}) { id } }`,
				map[string]any{"e": email}).ok(t)
			return str(r, "inviteUser", "id")
		}
		agent1, agent2 := invite("agent1@example.com"), invite("agent2@example.com")
		_, custID := signup(t, a, "cust@example.com", "Cust")
		g := a.do(t, admin, `mutation($m: [ID!]) { createGroup(input: {name: "Billing", memberIDs: $m}) { id } }`, map[string]any{"m": []string{agent1, agent2}}).ok(t)
		groupID := str(g, "createGroup", "id")
		tk := a.do(t, admin, createTicket, map[string]any{"input": map[string]any{"subject": "invoice", "body": "x", "requesterID": custID, "groupID": groupID}}).ok(t)
		ticketID := str(tk, "createTicket", "id")

		signedIn := func(s *testServer, token string) bool {
			r := s.do(t, token, `{ me { id } }`, nil)
			if r.Status != http.StatusOK && r.Status != http.StatusUnauthorized {
				t.Fatalf("me: status %d %+v", r.Status, r.Errors)
			}
			return r.Status == http.StatusOK
		}
		seesTicket := func(s *testServer, token string) bool {
			r := s.do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ticketID})
			return len(r.Errors) == 0 && str(r.Data, "node", "id") == ticketID
		}
		// pastLocalTTL waits until B's memory tier has forgotten what it
		// read, so that what B answers next comes from Redis.
		pastLocalTTL := func() { time.Sleep(600 * time.Millisecond) }

		t.Run("SessionRevokedOnAEndsOnB", func(t *testing.T) {
			behindBack, revoked := login(t, a, "agent1@example.com", "copper fox meadow 77"), login(t, a, "agent1@example.com", "copper fox meadow 77")
			if !signedIn(b, behindBack) || !signedIn(b, revoked) {
				t.Fatal("fresh sessions refused on B")
			}
			if withRedis {
				t.Run("CacheAnswers", func(t *testing.T) {
					n, err := direct.Session.Update().Where(session.TokenHash(auth.HashToken(behindBack))).SetRevokedAt(time.Now()).Save(sys)
					if err != nil || n != 1 {
						t.Fatalf("revoking behind the cache's back: %d rows, %v", n, err)
					}
					pastLocalTTL()
					if !signedIn(b, behindBack) {
						t.Fatal("B read the session from the database: the cache was not used, so this test would prove nothing")
					}
				})
			}
			started := time.Now()
			if r := a.do(t, revoked, `mutation { logout }`, nil).ok(t); r["logout"] != true {
				t.Fatalf("logout = %v", r)
			}
			takesEffect(t, "B refuses the logged-out session", started, func() bool { return !signedIn(b, revoked) })
		})

		t.Run("GroupMembershipRemovedOnAEndsOnB", func(t *testing.T) {
			removed, other := login(t, a, "agent1@example.com", "copper fox meadow 77"), login(t, a, "agent2@example.com", "copper fox meadow 77")
			if !seesTicket(b, removed) || !seesTicket(b, other) {
				t.Fatal("group members cannot see the group's ticket on B")
			}
			if withRedis {
				t.Run("CacheAnswers", func(t *testing.T) {
					if err := direct.Group.UpdateOneID(globalid.ID(groupID)).RemoveMemberIDs(globalid.ID(agent2)).Exec(sys); err != nil {
						t.Fatal(err)
					}
					pastLocalTTL()
					if !seesTicket(b, other) {
						t.Fatal("B read the groups from the database: the cache was not used, so this test would prove nothing")
					}
				})
			}
			started := time.Now()
			a.do(t, admin, `mutation($g: ID!, $a: ID!) { updateGroup(id: $g, input: {removeMemberIDs: [$a]}) { id } }`, map[string]any{"g": groupID, "a": agent1}).ok(t)
			takesEffect(t, "B hides the group's ticket from the removed agent", started, func() bool { return !seesTicket(b, removed) })
			if !signedIn(b, removed) {
				t.Fatal("removing a membership ended the session")
			}
		})

		t.Run("SLAPolicyChangedOnAAppliesOnB", func(t *testing.T) {
			sp := a.do(t, admin, `mutation { createSLAPolicy(input: {priority: HIGH, firstResponseMinutes: 60, resolutionMinutes: 240}) { id } }`, nil).ok(t)
			policyID := str(sp, "createSLAPolicy", "id")
			responseTarget := func() time.Duration {
				r := b.do(t, admin, `mutation($input: CreateTicketInput!) { createTicket(input: $input) { createdAt firstResponseDueAt } }`,
					map[string]any{"input": map[string]any{"subject": "sla", "body": "x", "requesterID": custID, "priority": "HIGH"}}).ok(t)
				created, err1 := time.Parse(time.RFC3339Nano, str(r, "createTicket", "createdAt"))
				due, err2 := time.Parse(time.RFC3339Nano, str(r, "createTicket", "firstResponseDueAt"))
				if err1 != nil || err2 != nil {
					t.Fatalf("createTicket = %v", r)
				}
				return due.Sub(created).Round(time.Minute)
			}
			if got := responseTarget(); got != time.Hour {
				t.Fatalf("first response due after %v on B, want the policy's 1h", got)
			}
			started := time.Now()
			a.do(t, admin, `mutation($id: ID!) { updateSLAPolicy(id: $id, input: {firstResponseMinutes: 30}) { id } }`, map[string]any{"id": policyID}).ok(t)
			takesEffect(t, "B applies the changed SLA policy", started, func() bool { return responseTarget() == 30*time.Minute })
		})

		t.Run("DeactivatedOnAStopsOnB", func(t *testing.T) {
			token := login(t, a, "agent2@example.com", "copper fox meadow 77")
			apiToken := str(a.do(t, token, `mutation { createAPIToken(input: {name: "ci", scope: READ}) { token } }`, nil).ok(t), "createAPIToken", "token")
			if !signedIn(b, token) || !signedIn(b, apiToken) {
				t.Fatal("fresh session or API token refused on B")
			}
			started := time.Now()
			a.do(t, admin, `mutation($id: ID!) { updateUser(id: $id, input: {active: false}) { active } }`, map[string]any{"id": agent2}).ok(t)
			takesEffect(t, "B refuses the deactivated user's session", started, func() bool { return !signedIn(b, token) })
			takesEffect(t, "B refuses the deactivated user's API token", started, func() bool { return !signedIn(b, apiToken) })
		})

		// The command line's erasure and import write through ent: the hooks
		// on the command's client drop the cached credentials (in Redis).
		t.Run("ErasedOnTheCommandLineEndsOnB", func(t *testing.T) {
			token, _ := signup(t, a, "erase-me@example.com", "Eve")
			if !signedIn(b, token) {
				t.Fatal("fresh session refused on B")
			}
			started := time.Now()
			if code, out := runCLI(t, envWith(targetEnv(tg), env), "", "user", "erase", "erase-me@example.com"); code != exitOK {
				t.Fatalf("user erase exited %d: %s", code, out)
			}
			takesEffect(t, "B refuses the erased customer's session", started, func() bool { return !signedIn(b, token) })
		})
		t.Run("DeactivatedByImportStopsOnB", func(t *testing.T) {
			invite("agent3@example.com")
			token := login(t, a, "agent3@example.com", "copper fox meadow 77")
			if !signedIn(b, token) {
				t.Fatal("fresh session refused on B")
			}
			file := filepath.Join(t.TempDir(), "agent3.jsonl")
			if code, out := runCLI(t, envWith(targetEnv(tg), env), "", "export", "--user", "agent3@example.com", "--output", file); code != exitOK {
				t.Fatalf("export exited %d: %s", code, out)
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Fatal(err)
				}
				if rec["type"] == "user" && rec["email"] == "agent3@example.com" {
					rec["active"] = false
				}
				b, _ := json.Marshal(rec)
				lines = append(lines, string(b))
			}
			started := time.Now()
			if code, out := runCLI(t, envWith(targetEnv(tg), env), strings.Join(lines, "\n")+"\n", "import", "-"); code != exitOK {
				t.Fatalf("import exited %d: %s", code, out)
			}
			takesEffect(t, "B refuses the session of the user the import deactivated", started, func() bool { return !signedIn(b, token) })
		})
	})
}

// queryCounter counts the statements ent sends to the database.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) options(p *program) {
	p.dbOptions = []ent.Option{ent.Debug(), ent.Log(func(args ...any) {
		if s := fmt.Sprint(args...); strings.Contains(s, ".Query:") || strings.Contains(s, ".Exec:") {
			c.n.Add(1)
		}
	})}
}

// TestCacheSavesQueries: an authenticated request reads its session, user
// and groups from the database only when the cache does not hold them.
func TestCacheSavesQueries(t *testing.T) {
	perRequest := func(t *testing.T, cacheTTL string) float64 {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		createUser(t, tg, "agent@example.com", "Agent", "agent", "copper fox meadow 77")
		counter := &queryCounter{}
		s := startServerWith(t, tg, map[string]string{
			"SWITCHBOARD_CACHE_TTL": cacheTTL,
			// Nothing in the background while counting.
			"SWITCHBOARD_LIVE_POLL_INTERVAL": "1h",
		}, counter.options)
		token := login(t, s, "agent@example.com", "copper fox meadow 77")
		const requests = 20
		before := counter.n.Load()
		for range requests {
			// In bursts, as a page load sends them: the memory tier keeps an
			// entry for half a second.
			s.do(t, token, `{ me { id name } }`, nil).ok(t)
		}
		return float64(counter.n.Load()-before) / requests
	}
	without := perRequest(t, "0")
	with := perRequest(t, "1m")
	t.Logf("database statements per authenticated request: %.2f without the cache, %.2f with it", without, with)
	if with >= without-1 {
		t.Fatalf("the cache saves too little: %.2f statements a request with it, %.2f without", with, without)
	}
}

// TestCacheRedisLost: with Redis gone while the server runs, requests keep
// working from the database, a logout still ends its session at once on
// the instance that made it, and the outage is logged once, not per
// request; when Redis is back the cache uses it again.
func TestCacheRedisLost(t *testing.T) {
	redisURL := os.Getenv("TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("set TEST_REDIS_URL to run the Redis outage test of the cache")
	}
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	gate := faultnet.NewGate(t, u.Host)
	u.Host = gate.Addr()
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	createUser(t, tg, "agent@example.com", "Agent", "agent", "copper fox meadow 77")
	env, _ := cacheEnv(t)
	env["REDIS_URL"] = u.String()
	env["SWITCHBOARD_LOG_LEVEL"] = "info"
	s := startServer(t, tg, env)
	kept, ended := login(t, s, "agent@example.com", "copper fox meadow 77"), login(t, s, "agent@example.com", "copper fox meadow 77")
	s.do(t, kept, `{ me { id } }`, nil).ok(t)

	gate.Cut()
	t.Run("RequestsKeepWorking", func(t *testing.T) {
		for range 20 {
			s.do(t, kept, `{ me { id } }`, nil).ok(t)
			time.Sleep(50 * time.Millisecond) // past the memory tier now and then
		}
	})
	t.Run("LogoutEndsTheSessionAtOnce", func(t *testing.T) {
		s.do(t, ended, `{ me { id } }`, nil).ok(t)
		s.do(t, ended, `mutation { logout }`, nil).ok(t)
		if r := s.do(t, ended, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("logged-out session still works with Redis gone: %d", r.Status)
		}
	})
	t.Run("OutageLoggedOnce", func(t *testing.T) {
		if n := strings.Count(s.out.String(), "cache: Redis is unreachable"); n != 1 {
			t.Fatalf("the outage was logged %d times, want once:\n%s", n, s.out)
		}
	})
	gate.Restore()
	t.Run("RedisUsedAgainWhenBack", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(s.out.String(), "cache: Redis is back") {
			if time.Now().After(deadline) {
				t.Fatalf("no recovery logged 10s after Redis returned:\n%s", s.out)
			}
			s.do(t, kept, `{ me { id } }`, nil).ok(t)
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// envWith is base with extra's settings added.
func envWith(base, extra map[string]string) map[string]string {
	for k, v := range extra {
		base[k] = v
	}
	return base
}
