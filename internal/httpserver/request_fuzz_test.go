package httpserver

import (
	"bytes"
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

// FuzzTopLevelMembers: the in-place scan of a body finds the members
// encoding/json decodes, with the same values.
func FuzzTopLevelMembers(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ __typename }"}`, `{}`, ` { } `, `{"a":1,"b":[1,{"c":"]}"}],"d":"\"}"}`,
		`{"query":"x","variables":{"n":[1,2,{"m":null}]},"operationName":null,"extensions":{}}`,
		`{"q\u0075ery":"x"}`, `{"a":true , "b" : false,"c":-1.5e3}`, `[1]`, `"x"`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) || !utf8.Valid(body) {
			return // checkBody refuses these before the scan
		}
		members, ok := topLevelMembers(body, nil)
		var fields map[string]json.RawMessage
		isObject := json.Unmarshal(body, &fields) == nil && fields != nil
		if !ok {
			if isObject && !bytes.Contains(body, []byte(`\`)) {
				t.Fatalf("%q is an object without escapes, and the scan gave up", body)
			}
			return
		}
		if !isObject {
			t.Fatalf("the scan took %q for an object", body)
		}
		last := map[string]json.RawMessage{}
		for _, m := range members {
			last[string(m.name)] = m.raw
		}
		if len(last) != len(fields) {
			t.Fatalf("%q: the scan found %d members, encoding/json %d", body, len(last), len(fields))
		}
		for name, raw := range fields {
			if !bytes.Equal(last[name], raw) {
				t.Fatalf("%q: member %q is %q by the scan, %q by encoding/json", body, name, last[name], raw)
			}
		}
	})
}
