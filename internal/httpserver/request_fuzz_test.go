package httpserver

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzCheckBody: any body is either refused with BAD_USER_INPUT or
// decodes into one request whose query or persisted-query hash is there.
func FuzzCheckBody(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ __typename }"}`,
		`{"query":"query($n: Int) { tickets(first: $n) { totalCount } }","variables":{"n":3},"operationName":null}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`, `{"query":"","extensions":{"persistedQuery":null}}`,
		`[{"query":"{ a }"},{"query":"{ b }"}]`,
		`{"query": 42}`, `{"query":"x","variables":[1]}`, `{"QUERY": 42}`, `{"query":"{ a }","Variables":"x"}`, "{\"query\":\"\xff\"}", ``, `null`, ` {"query":"{ a }"} `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if e := checkBody(body); e != nil {
			if e.Code != "BAD_USER_INPUT" || e.Message == "" {
				t.Fatalf("refusal %+v", e)
			}
			return
		}
		if !utf8.Valid(body) || !json.Valid(body) {
			t.Fatalf("accepted an invalid body %q", body)
		}
		var req map[string]any
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("accepted %q, which is not an object: %v", body, err)
		}
		for name, ok := range map[string]func(any) bool{
			"query":         func(v any) bool { _, ok := v.(string); return ok },
			"operationName": func(v any) bool { _, ok := v.(string); return ok },
			"variables":     func(v any) bool { _, ok := v.(map[string]any); return ok },
			"extensions":    func(v any) bool { _, ok := v.(map[string]any); return ok },
		} {
			if v := req[name]; v != nil && !ok(v) {
				t.Fatalf("accepted %q with %s of the wrong kind", body, name)
			}
		}
		query, _ := req["query"].(string)
		ext, _ := req["extensions"].(map[string]any)
		if query == "" && ext["persistedQuery"] == nil {
			t.Fatalf("accepted a request without a query: %q", body)
		}
		// What the transport decodes (case-insensitively) is what was checked.
		var params struct {
			Query         any `json:"query"`
			OperationName any `json:"operationName"`
			Variables     any `json:"variables"`
			Extensions    any `json:"extensions"`
		}
		if err := json.Unmarshal(body, &params); err != nil {
			t.Fatalf("accepted %q, which the transport cannot decode: %v", body, err)
		}
		if !reflect.DeepEqual(params.Query, req["query"]) || !reflect.DeepEqual(params.OperationName, req["operationName"]) ||
			!reflect.DeepEqual(params.Variables, req["variables"]) || !reflect.DeepEqual(params.Extensions, req["extensions"]) {
			t.Fatalf("accepted %q, whose members differ in case from the checked ones", body)
		}
	})
}
