package cli_test

import (
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/demo"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

func TestCLI(t *testing.T) {
	t.Run("ErrBadConfigurationExits2WithOneLine", func(t *testing.T) {
		for _, env := range []map[string]string{
			{"SWITCHBOARD_SESSION_IDLE_TIMEOUT": "forever"},
			{"DATABASE_URL": "mysql://db"},
			{"SWITCHBOARD_LOG_FORMAT": "xml"},
		} {
			code, out := harness.RunCLI(t, env, "", "serve")
			if code != cli.ExitUsage || strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.HasPrefix(out, "switchboard: ") {
				t.Fatalf("env %v: exit %d, output %q", env, code, out)
			}
		}
	})
	t.Run("ErrUnknownCommand", func(t *testing.T) {
		if code, out := harness.RunCLI(t, nil, "", "frobnicate"); code != cli.ExitUsage || !strings.Contains(out, "frobnicate") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("KeysGenerateFollowsTheConfiguredKeys", func(t *testing.T) {
		code, out := harness.RunCLI(t, nil, "", "keys", "generate")
		if code != cli.ExitOK || !strings.HasPrefix(out, "k1:") {
			t.Fatalf("exit %d, output %q", code, out)
		}
		code, next := harness.RunCLI(t, map[string]string{"SWITCHBOARD_ENCRYPTION_KEY": strings.TrimSpace(out)}, "", "keys", "generate")
		if code != cli.ExitOK || !strings.HasPrefix(next, "k2:") {
			t.Fatalf("exit %d, output %q", code, next)
		}
	})
	t.Run("Help", func(t *testing.T) {
		if code, out := harness.RunCLI(t, nil, "", "help"); code != cli.ExitOK || !strings.Contains(out, "user create") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("UserCreateReadsPasswordFromStdin", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		code, out := harness.RunCLI(t, harness.TargetEnv(tg), "a long admin password\n", "user", "create", "--email", "Boss@Example.com", "--name", "Boss", "--role", "admin")
		if code != cli.ExitOK || !strings.Contains(out, "created admin boss@example.com") {
			t.Fatalf("exit %d, output %q", code, out)
		}
		s := harness.Start(t, tg, nil)
		if tok := harness.Login(t, s, "boss@example.com", "a long admin password"); tok == "" {
			t.Fatal("created admin cannot log in")
		}
	})
	t.Run("UserCreateReadsPasswordFromEnvironment", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		env := harness.TargetEnv(tg)
		env["SWITCHBOARD_PASSWORD"] = "copper fox meadow 77"
		if code, out := harness.RunCLI(t, env, "", "user", "create", "--email", "a@example.com", "--name", "A", "--role", "agent"); code != cli.ExitOK {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("ErrUserCreateWeakPassword", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		code, out := harness.RunCLI(t, harness.TargetEnv(tg), "short\n", "user", "create", "--email", "a@example.com", "--name", "A", "--role", "agent")
		if code != cli.ExitError || !strings.Contains(out, "at least 12") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("ErrUserCreateBadRole", func(t *testing.T) {
		tg := dbtest.NewTarget(t, dbtest.SQLite)
		code, out := harness.RunCLI(t, harness.TargetEnv(tg), "a quiet maple river stone\n", "user", "create", "--email", "a@example.com", "--name", "A", "--role", "king")
		if code != cli.ExitError || !strings.Contains(out, "role") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("ErrUserCreateMissingFlags", func(t *testing.T) {
		if code, out := harness.RunCLI(t, nil, "", "user", "create", "--email", "a@example.com"); code != cli.ExitUsage || !strings.Contains(out, "usage") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
}

func TestDemo(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "seed", "--demo")
	if code != cli.ExitOK || !strings.Contains(out, "admin@demo.example.com") || !strings.Contains(out, demo.Password) {
		t.Fatalf("seed exited %d: %s", code, out)
	}
	t.Run("ErrSeedTwice", func(t *testing.T) {
		if code, out := harness.RunCLI(t, harness.TargetEnv(tg), "", "seed", "--demo"); code != cli.ExitError || !strings.Contains(out, "empty database") {
			t.Fatalf("second seed exited %d: %s", code, out)
		}
	})
	// serve --demo on a seeded database serves what is there.
	s := harness.Start(t, tg, nil, "--demo")
	agent := harness.Login(t, s, "agent1@demo.example.com", demo.Password)
	data := s.Do(t, agent, `{ tickets(first: 5) { totalCount edges { node { number subject group { name } requester { name } messages { totalCount } } } } }`, nil).OK(t)
	if n := harness.Num(data, "tickets", "totalCount"); n < 20 {
		t.Fatalf("agent1 sees only %d demo tickets", n)
	}
	customer := harness.Login(t, s, "customer1@demo.example.com", demo.Password)
	mine := s.Do(t, customer, `{ tickets(first: 100) { totalCount edges { node { requester { email } } } } }`, nil).OK(t)
	for _, e := range harness.Path(mine, "tickets", "edges").([]any) {
		if harness.Str(e, "node", "requester", "email") != "customer1@demo.example.com" {
			t.Fatalf("customer1 sees another customer's ticket: %v", e)
		}
	}
	if !strings.Contains(s.Out.String(), "not seeding") {
		t.Fatalf("serve --demo on a seeded database should say it did not seed: %s", s.Out)
	}
}
