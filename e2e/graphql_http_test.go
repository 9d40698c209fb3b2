package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// TestRequestErrors: a request error (a document that does not parse or
// validate) is answered as the GraphQL-over-HTTP spec says: no data
// member at all, in 200 with application/json and in 400 with
// application/graphql-response+json.
func TestRequestErrors(t *testing.T) {
	s := harness.Start(t, dbtest.NewTarget(t, dbtest.SQLite), nil)
	send := func(t *testing.T, method, query, accept string) (int, string, map[string]json.RawMessage) {
		t.Helper()
		var req *http.Request
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, s.URL+"/query?query="+url.QueryEscape(query), nil)
		} else {
			body, _ := json.Marshal(map[string]any{"query": query})
			req, _ = http.NewRequest(method, s.URL+"/query", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			t.Fatalf("status %d, body not JSON: %s", res.StatusCode, raw)
		}
		return res.StatusCode, res.Header.Get("Content-Type"), members
	}
	for _, tc := range []struct{ name, query string }{
		{"ParseError", "{ me { id "},
		{"ValidationError", "{ ticketz { id } }"},
	} {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			for _, accept := range []struct{ name, header, contentType string }{
				{"JSON", "application/json", "application/json"},
				{"NoAccept", "", "application/json"},
				{"GraphQLResponseJSON", "application/graphql-response+json", "application/graphql-response+json"},
			} {
				t.Run(tc.name+"Over"+method+"With"+accept.name, func(t *testing.T) {
					status, ct, members := send(t, method, tc.query, accept.header)
					want := http.StatusOK
					if accept.contentType == "application/graphql-response+json" {
						want = http.StatusBadRequest
					}
					if status != want || ct != accept.contentType {
						t.Fatalf("status %d %s, want %d %s", status, ct, want, accept.contentType)
					}
					if _, ok := members["data"]; ok {
						t.Fatalf("a request error has a data member: %s", members["data"])
					}
					var errs []harness.GQLError
					if err := json.Unmarshal(members["errors"], &errs); err != nil || len(errs) == 0 || errs[0].Extensions["code"] != "BAD_USER_INPUT" {
						t.Fatalf("errors %s, want BAD_USER_INPUT", members["errors"])
					}
				})
			}
		}
	}
	t.Run("ExecutedOperationKeepsData", func(t *testing.T) {
		status, _, members := send(t, http.MethodPost, "{ me { id } }", "application/json")
		if status != http.StatusOK || string(members["data"]) != `{"me":null}` {
			t.Fatalf("status %d, data %s", status, members["data"])
		}
	})
}
