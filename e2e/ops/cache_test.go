package ops_test

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

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/session"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/globalid"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/faultnet"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// cacheEnv gives the test's servers Redis when TEST_REDIS_URL is set
// (harness.TargetEnv gives them a cache key prefix of their own).
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
		harness.CreateUser(t, tg, "admin@example.com", "Ada Admin", "admin", "amber canyon whistle")
		a := harness.Start(t, tg, env)
		b := harness.Start(t, tg, env)
		admin := harness.Login(t, a, "admin@example.com", "amber canyon whistle")
		// direct changes the database without the servers' hooks, as if
		// behind the cache's back: what it changes, the cache hides.
		direct := tg.Open(t)
		sys := viewer.SystemContext(context.Background())

		invite := func(email string) string {
			r := a.Do(t, admin, `mutation($e: String!) { inviteUser(input: {email: $e, name: "Agent", role: AGENT, password: "copper fox meadow 77"}) { id } }`,
				map[string]any{"e": email}).OK(t)
			return harness.Str(r, "inviteUser", "id")
		}
		agent1, agent2 := invite("agent1@example.com"), invite("agent2@example.com")
		_, custID := harness.Signup(t, a, "cust@example.com", "Cust")
		g := a.Do(t, admin, `mutation($m: [ID!]) { createGroup(input: {name: "Billing", memberIDs: $m}) { id } }`, map[string]any{"m": []string{agent1, agent2}}).OK(t)
		groupID := harness.Str(g, "createGroup", "id")
		tk := a.Do(t, admin, harness.CreateTicketMutation, map[string]any{"input": map[string]any{"subject": "invoice", "body": "x", "requesterID": custID, "groupID": groupID}}).OK(t)
		ticketID := harness.Str(tk, "createTicket", "id")

		signedIn := func(s *harness.Server, token string) bool {
			r := s.Do(t, token, `{ me { id } }`, nil)
			if r.Status != http.StatusOK && r.Status != http.StatusUnauthorized {
				t.Fatalf("me: status %d %+v", r.Status, r.Errors)
			}
			return r.Status == http.StatusOK
		}
		seesTicket := func(s *harness.Server, token string) bool {
			r := s.Do(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ticketID})
			return len(r.Errors) == 0 && harness.Str(r.Data, "node", "id") == ticketID
		}
		// pastLocalTTL waits until B's memory tier has forgotten what it
		// read, so that what B answers next comes from Redis.
		pastLocalTTL := func() { time.Sleep(600 * time.Millisecond) }

		t.Run("SessionRevokedOnAEndsOnB", func(t *testing.T) {
			behindBack, revoked := harness.Login(t, a, "agent1@example.com", "copper fox meadow 77"), harness.Login(t, a, "agent1@example.com", "copper fox meadow 77")
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
			if r := a.Do(t, revoked, `mutation { logout }`, nil).OK(t); r["logout"] != true {
				t.Fatalf("logout = %v", r)
			}
			takesEffect(t, "B refuses the logged-out session", started, func() bool { return !signedIn(b, revoked) })
		})

		t.Run("GroupMembershipRemovedOnAEndsOnB", func(t *testing.T) {
			removed, other := harness.Login(t, a, "agent1@example.com", "copper fox meadow 77"), harness.Login(t, a, "agent2@example.com", "copper fox meadow 77")
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
			a.Do(t, admin, `mutation($g: ID!, $a: ID!) { updateGroup(id: $g, input: {removeMemberIDs: [$a]}) { id } }`, map[string]any{"g": groupID, "a": agent1}).OK(t)
			takesEffect(t, "B hides the group's ticket from the removed agent", started, func() bool { return !seesTicket(b, removed) })
			if !signedIn(b, removed) {
				t.Fatal("removing a membership ended the session")
			}
		})

		t.Run("SLAPolicyChangedOnAAppliesOnB", func(t *testing.T) {
			sp := a.Do(t, admin, `mutation { createSLAPolicy(input: {priority: HIGH, firstResponseMinutes: 60, resolutionMinutes: 240}) { id } }`, nil).OK(t)
			policyID := harness.Str(sp, "createSLAPolicy", "id")
			responseTarget := func() time.Duration {
				r := b.Do(t, admin, `mutation($input: CreateTicketInput!) { createTicket(input: $input) { createdAt firstResponseDueAt } }`,
					map[string]any{"input": map[string]any{"subject": "sla", "body": "x", "requesterID": custID, "priority": "HIGH"}}).OK(t)
				created, err1 := time.Parse(time.RFC3339Nano, harness.Str(r, "createTicket", "createdAt"))
				due, err2 := time.Parse(time.RFC3339Nano, harness.Str(r, "createTicket", "firstResponseDueAt"))
				if err1 != nil || err2 != nil {
					t.Fatalf("createTicket = %v", r)
				}
				return due.Sub(created).Round(time.Minute)
			}
			if got := responseTarget(); got != time.Hour {
				t.Fatalf("first response due after %v on B, want the policy's 1h", got)
			}
			started := time.Now()
			a.Do(t, admin, `mutation($id: ID!) { updateSLAPolicy(id: $id, input: {firstResponseMinutes: 30}) { id } }`, map[string]any{"id": policyID}).OK(t)
			takesEffect(t, "B applies the changed SLA policy", started, func() bool { return responseTarget() == 30*time.Minute })
		})

		t.Run("DeactivatedOnAStopsOnB", func(t *testing.T) {
			token := harness.Login(t, a, "agent2@example.com", "copper fox meadow 77")
			apiToken := harness.Str(a.Do(t, token, `mutation { createAPIToken(input: {name: "ci", scope: READ}) { token } }`, nil).OK(t), "createAPIToken", "token")
			if !signedIn(b, token) || !signedIn(b, apiToken) {
				t.Fatal("fresh session or API token refused on B")
			}
			started := time.Now()
			a.Do(t, admin, `mutation($id: ID!) { updateUser(id: $id, input: {active: false}) { active } }`, map[string]any{"id": agent2}).OK(t)
			takesEffect(t, "B refuses the deactivated user's session", started, func() bool { return !signedIn(b, token) })
			takesEffect(t, "B refuses the deactivated user's API token", started, func() bool { return !signedIn(b, apiToken) })
		})

		// The command line's erasure and import write through ent: the hooks
		// on the command's client drop the cached credentials (in Redis).
		t.Run("ErasedOnTheCommandLineEndsOnB", func(t *testing.T) {
			token, _ := harness.Signup(t, a, "erase-me@example.com", "Eve")
			if !signedIn(b, token) {
				t.Fatal("fresh session refused on B")
			}
			started := time.Now()
			if code, out := harness.RunCLI(t, envWith(harness.TargetEnv(tg), env), "", "user", "erase", "erase-me@example.com"); code != cli.ExitOK {
				t.Fatalf("user erase exited %d: %s", code, out)
			}
			takesEffect(t, "B refuses the erased customer's session", started, func() bool { return !signedIn(b, token) })
		})
		t.Run("DeactivatedByImportStopsOnB", func(t *testing.T) {
			invite("agent3@example.com")
			token := harness.Login(t, a, "agent3@example.com", "copper fox meadow 77")
			if !signedIn(b, token) {
				t.Fatal("fresh session refused on B")
			}
			file := filepath.Join(t.TempDir(), "agent3.jsonl")
			if code, out := harness.RunCLI(t, envWith(harness.TargetEnv(tg), env), "", "export", "--user", "agent3@example.com", "--output", file); code != cli.ExitOK {
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
			if code, out := harness.RunCLI(t, envWith(harness.TargetEnv(tg), env), strings.Join(lines, "\n")+"\n", "import", "-"); code != cli.ExitOK {
				t.Fatalf("import exited %d: %s", code, out)
			}
			takesEffect(t, "B refuses the session of the user the import deactivated", started, func() bool { return !signedIn(b, token) })
		})
	})
}

// queryCounter counts the statements ent sends to the database.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) options(e *cli.Env) {
	e.DBOptions = []ent.Option{ent.Debug(), ent.Log(func(args ...any) {
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
		harness.CreateUser(t, tg, "agent@example.com", "Agent", "agent", "copper fox meadow 77")
		counter := &queryCounter{}
		s := harness.StartWith(t, tg, map[string]string{
			"SWITCHBOARD_CACHE_TTL": cacheTTL,
			// Nothing in the background while counting.
			"SWITCHBOARD_LIVE_POLL_INTERVAL": "1h",
		}, counter.options)
		token := harness.Login(t, s, "agent@example.com", "copper fox meadow 77")
		const requests = 20
		before := counter.n.Load()
		for range requests {
			// In bursts, as a page load sends them: the memory tier keeps an
			// entry for half a second.
			s.Do(t, token, `{ me { id name } }`, nil).OK(t)
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
	harness.CreateUser(t, tg, "agent@example.com", "Agent", "agent", "copper fox meadow 77")
	env, _ := cacheEnv(t)
	env["REDIS_URL"] = u.String()
	env["SWITCHBOARD_LOG_LEVEL"] = "info"
	s := harness.Start(t, tg, env)
	kept, ended := harness.Login(t, s, "agent@example.com", "copper fox meadow 77"), harness.Login(t, s, "agent@example.com", "copper fox meadow 77")
	s.Do(t, kept, `{ me { id } }`, nil).OK(t)

	gate.Cut()
	t.Run("RequestsKeepWorking", func(t *testing.T) {
		for range 20 {
			s.Do(t, kept, `{ me { id } }`, nil).OK(t)
			time.Sleep(50 * time.Millisecond) // past the memory tier now and then
		}
	})
	t.Run("LogoutEndsTheSessionAtOnce", func(t *testing.T) {
		s.Do(t, ended, `{ me { id } }`, nil).OK(t)
		s.Do(t, ended, `mutation { logout }`, nil).OK(t)
		if r := s.Do(t, ended, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("logged-out session still works with Redis gone: %d", r.Status)
		}
	})
	t.Run("OutageLoggedOnce", func(t *testing.T) {
		if n := strings.Count(s.Out.String(), "cache: Redis is unreachable"); n != 1 {
			t.Fatalf("the outage was logged %d times, want once:\n%s", n, s.Out)
		}
	})
	gate.Restore()
	t.Run("RedisUsedAgainWhenBack", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(s.Out.String(), "cache: Redis is back") {
			if time.Now().After(deadline) {
				t.Fatalf("no recovery logged 10s after Redis returned:\n%s", s.Out)
			}
			s.Do(t, kept, `{ me { id } }`, nil).OK(t)
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
