package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// persisted sends an APQ request: the hash, and the query when given.
func persisted(t *testing.T, s *harness.Server, query, hash string) harness.Response {
	t.Helper()
	body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
	if query != "" {
		body["query"] = query
	}
	raw, _ := json.Marshal(body)
	res, err := http.Post(s.URL+"/query", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var r harness.Response
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("status %d: %s", res.StatusCode, data)
	}
	r.Status = res.StatusCode
	return r
}

func TestPersistedQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		const query = `{ __typename }`
		sum := sha256.Sum256([]byte(query))
		hash := hex.EncodeToString(sum[:])
		env := map[string]string{}
		shared := os.Getenv("TEST_REDIS_URL") != ""
		if shared {
			env["REDIS_URL"] = os.Getenv("TEST_REDIS_URL")
		}
		a := harness.Start(t, tg, env)
		t.Run("UnknownHashAsksForTheQuery", func(t *testing.T) {
			unknown := sha256.Sum256([]byte("{ me { id } } # " + t.Name() + tg.String()))
			r := persisted(t, a, "", hex.EncodeToString(unknown[:]))
			if len(r.Errors) == 0 || r.Errors[0].Message != "PersistedQueryNotFound" {
				t.Fatalf("got %+v", r)
			}
		})
		t.Run("RegisteredThenByHashAlone", func(t *testing.T) {
			if r := persisted(t, a, query, hash); len(r.Errors) > 0 {
				t.Fatalf("registering: %+v", r.Errors)
			}
			if r := persisted(t, a, "", hash); len(r.Errors) > 0 || harness.Path(r.Data, "__typename") != "Query" {
				t.Fatalf("by hash: %+v", r)
			}
		})
		t.Run("WrongHashRefused", func(t *testing.T) {
			r := persisted(t, a, `{ me { id } }`, hash)
			if len(r.Errors) == 0 {
				t.Fatalf("a query with another query's hash was accepted: %+v", r)
			}
		})
		t.Run("KnownToEveryInstanceWithRedis", func(t *testing.T) {
			if !shared {
				t.Skip("set TEST_REDIS_URL to check that instances share persisted queries")
			}
			b := harness.Start(t, tg, env)
			if r := persisted(t, b, "", hash); len(r.Errors) > 0 {
				t.Fatalf("instance B does not know the query registered on A: %+v", r.Errors)
			}
		})
	})
}
