package main

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/database/dbtest"
	"github.com/switchboardhq/switchboard/internal/demo"
)

func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (int, string) {
	t.Helper()
	out := &syncBuffer{}
	p := &program{getenv: envOf(env), stdin: strings.NewReader(stdin), stdout: out, stderr: out}
	return p.run(context.Background(), args), out.String()
}

func TestCLI(t *testing.T) {
	t.Run("ErrBadConfigurationExits2WithOneLine", func(t *testing.T) {
		for _, env := range []map[string]string{
			{"SWITCHBOARD_SESSION_IDLE_TIMEOUT": "forever"},
			{"DATABASE_URL": "mysql://db"},
			{"SWITCHBOARD_LOG_FORMAT": "xml"},
		} {
			code, out := runCLI(t, env, "", "serve")
			if code != exitConfig || strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.HasPrefix(out, "switchboard: ") {
				t.Fatalf("env %v: exit %d, output %q", env, code, out)
			}
		}
	})
	t.Run("ErrUnknownCommand", func(t *testing.T) {
		if code, out := runCLI(t, nil, "", "frobnicate"); code != exitConfig || !strings.Contains(out, "frobnicate") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("KeysGenerateFollowsTheConfiguredKeys", func(t *testing.T) {
		code, out := runCLI(t, nil, "", "keys", "generate")
		if code != exitOK || !strings.HasPrefix(out, "k1:") {
			t.Fatalf("exit %d, output %q", code, out)
		}
		code, next := runCLI(t, map[string]string{"SWITCHBOARD_ENCRYPTION_KEY": strings.TrimSpace(out)}, "", "keys", "generate")
		if code != exitOK || !strings.HasPrefix(next, "k2:") {
			t.Fatalf("exit %d, output %q", code, next)
		}
	})
	t.Run("Help", func(t *testing.T) {
		if code, out := runCLI(t, nil, "", "help"); code != exitOK || !strings.Contains(out, "user create") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("UserCreateReadsPasswordFromStdin", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		code, out := runCLI(t, targetEnv(tg), "a long admin password\n", "user", "create", "--email", "Boss@Example.com", "--name", "Boss", "--role", "admin")
		if code != exitOK || !strings.Contains(out, "created admin boss@example.com") {
			t.Fatalf("exit %d, output %q", code, out)
		}
		s := startServer(t, tg, nil)
		if tok := login(t, s, "boss@example.com", "a long admin password"); tok == "" {
			t.Fatal("created admin cannot log in")
		}
	})
	t.Run("UserCreateReadsPasswordFromEnvironment", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		env := targetEnv(tg)
		env["SWITCHBOARD_PASSWORD"] = "copper fox meadow 77"
		if code, out := runCLI(t, env, "", "user", "create", "--email", "a@example.com", "--name", "A", "--role", "agent"); code != exitOK {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("ErrUserCreateWeakPassword", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		code, out := runCLI(t, targetEnv(tg), "short\n", "user", "create", "--email", "a@example.com", "--name", "A", "--role", "agent")
		if code != exitError || !strings.Contains(out, "at least 12") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("ErrUserCreateBadRole", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		code, out := runCLI(t, targetEnv(tg), "a quiet maple river stone\n", "user", "create", "--email", "a@example.com", "--name", "A", "--role", "king")
		if code != exitError || !strings.Contains(out, "role") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("ErrUserCreateMissingFlags", func(t *testing.T) {
		if code, out := runCLI(t, nil, "", "user", "create", "--email", "a@example.com"); code != exitConfig || !strings.Contains(out, "usage") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
}

func TestDemo(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	code, out := runCLI(t, targetEnv(tg), "", "seed", "--demo")
	if code != exitOK || !strings.Contains(out, "admin@demo.example.com") || !strings.Contains(out, demo.Password) {
		t.Fatalf("seed exited %d: %s", code, out)
	}
	t.Run("ErrSeedTwice", func(t *testing.T) {
		if code, out := runCLI(t, targetEnv(tg), "", "seed", "--demo"); code != exitError || !strings.Contains(out, "empty database") {
			t.Fatalf("second seed exited %d: %s", code, out)
		}
	})
	// serve --demo on a seeded database serves what is there.
	s := startServer(t, tg, nil, "--demo")
	agent := login(t, s, "agent1@demo.example.com", demo.Password)
	data := s.do(t, agent, `{ tickets(first: 5) { totalCount edges { node { number subject group { name } requester { name } messages { totalCount } } } } }`, nil).ok(t)
	if n := num(data, "tickets", "totalCount"); n < 20 {
		t.Fatalf("agent1 sees only %d demo tickets", n)
	}
	customer := login(t, s, "customer1@demo.example.com", demo.Password)
	mine := s.do(t, customer, `{ tickets(first: 100) { totalCount edges { node { requester { email } } } } }`, nil).ok(t)
	for _, e := range path(mine, "tickets", "edges").([]any) {
		if str(e, "node", "requester", "email") != "customer1@demo.example.com" {
			t.Fatalf("customer1 sees another customer's ticket: %v", e)
		}
	}
	if !strings.Contains(s.out.String(), "not seeding") {
		t.Fatalf("serve --demo on a seeded database should say it did not seed: %s", s.out)
	}
}
