package e2e_test

import (
	"os"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"
)

// TestReadmeDocumentsEverySetting: every setting (and limit) a user can
// change is in the README's configuration table, with its default.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	raw, err := os.ReadFile(harness.RepoFile(t, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		for _, cell := range strings.Split(line, "|") {
			if env := strings.Trim(strings.TrimSpace(cell), "`"); strings.HasPrefix(env, "SWITCHBOARD_") || env == "DATABASE_URL" || env == "REDIS_URL" {
				rows[env] = line
			}
		}
	}
	for _, s := range config.Settings {
		row, ok := rows[s.Env]
		if !ok {
			t.Errorf("%s has no row in the README's tables", s.Env)
			continue
		}
		if s.Default != "" && !strings.Contains(row, "`"+s.Default+"`") {
			t.Errorf("the README's row of %s does not give its default %q:\n%s", s.Env, s.Default, row)
		}
	}
}
