package cli_test

import (
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

func TestMigrateCommand(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		env := harness.TargetEnv(tg)
		delete(env, "SWITCHBOARD_MIGRATE")

		code, out := harness.RunCLI(t, env, "", "migrate", "status")
		if code != cli.ExitOK || !strings.Contains(out, "pending") || !strings.Contains(out, "0 applied") {
			t.Fatalf("status of an empty database: exit %d\n%s", code, out)
		}
		if tg.Dialect == dbtest.Postgres {
			t.Run("ServeRefusesASchemaThatIsBehind", func(t *testing.T) {
				code, out := harness.RunCLI(t, env, "", "serve")
				if code != cli.ExitError || !strings.Contains(out, "switchboard migrate up") || !strings.Contains(out, "--migrate") {
					t.Fatalf("exit %d\n%s", code, out)
				}
			})
		}
		code, out = harness.RunCLI(t, env, "", "migrate", "up")
		if code != cli.ExitOK || !strings.Contains(out, "applied ") {
			t.Fatalf("up: exit %d\n%s", code, out)
		}
		code, out = harness.RunCLI(t, env, "", "migrate", "up")
		if code != cli.ExitOK || !strings.Contains(out, "up to date") {
			t.Fatalf("second up: exit %d\n%s", code, out)
		}
		code, out = harness.RunCLI(t, env, "", "migrate", "status")
		if code != cli.ExitOK || strings.Contains(out, "pending ") || !strings.Contains(out, ", 0 pending") {
			t.Fatalf("status after up: exit %d\n%s", code, out)
		}
		t.Run("ServeStartsOnAMigratedSchema", func(t *testing.T) {
			srv := harness.Start(t, tg, map[string]string{"SWITCHBOARD_MIGRATE": "false"})
			if got := srv.Do(t, "", `{ __typename }`, nil).OK(t)["__typename"]; got != "Query" {
				t.Fatalf("__typename = %v", got)
			}
		})
	})
	t.Run("ErrUsage", func(t *testing.T) {
		for _, args := range [][]string{{"migrate"}, {"migrate", "down"}} {
			if code, out := harness.RunCLI(t, nil, "", args...); code != cli.ExitUsage || !strings.Contains(out, "migrate up|status") {
				t.Fatalf("%v: exit %d\n%s", args, code, out)
			}
		}
	})
}
