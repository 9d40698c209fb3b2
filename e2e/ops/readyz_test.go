package ops_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

func TestReadyz(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		env := map[string]string{}
		want := map[string]string{"database": "ok", "attachments": "ok"}
		if url := os.Getenv("TEST_REDIS_URL"); url != "" {
			env["REDIS_URL"] = url
			want["redis"] = "ok"
		}
		s := harness.Start(t, tg, env)
		res, err := http.Get(s.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Ready  bool              `json:"ready"`
			Checks map[string]string `json:"checks"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || !body.Ready || len(body.Checks) != len(want) {
			t.Fatalf("status %d, %+v, want %v", res.StatusCode, body, want)
		}
		for k, v := range want {
			if body.Checks[k] != v {
				t.Fatalf("check %s = %q, want %q", k, body.Checks[k], v)
			}
		}
	})
}
