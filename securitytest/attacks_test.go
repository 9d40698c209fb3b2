package securitytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// attack is one hostile request and how it must be refused.
type attack struct {
	name   string
	req    request
	status int
	code   string
	// check, if set, looks further at the response.
	check func(t *testing.T, r response)
}

func jsonBody(query string, vars map[string]any) string {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return string(b)
}

func post(query string, vars map[string]any) request {
	return request{contentType: "application/json", body: jsonBody(query, vars)}
}

func withToken(r request, token string) request {
	r.header = map[string]string{"Authorization": "Bearer " + token}
	return r
}

func TestAttacks(t *testing.T) {
	s := startServer(t, nil)
	token, _ := s.signup(t, "mallory")

	var aliases, fields, ops strings.Builder
	for i := range 101 {
		fmt.Fprintf(&aliases, "a%d: __typename ", i)
	}
	for range 500 {
		fields.WriteString("id ")
	}
	for i := range 50 {
		fmt.Fprintf(&ops, "query Q%d { __typename } ", i)
	}
	batch := make([]map[string]any, 50)
	for i := range batch {
		batch[i] = map[string]any{"query": "{ __typename }"}
	}
	batchBody, _ := json.Marshal(batch)
	deep := "me { " + strings.Repeat("groups { members { ", 10) + "id" + strings.Repeat(" } }", 10) + " }"
	foreign := map[string]string{"Origin": "https://evil.example"}

	attacks := []attack{
		{name: "AliasOverload", req: post("{ "+aliases.String()+"}", nil), status: 400, code: "QUERY_TOO_COMPLEX"},
		{name: "BatchOf50Operations", req: request{contentType: "application/json", body: string(batchBody)}, status: 400, code: "BAD_USER_INPUT"},
		{name: "DocumentOf50Operations", req: request{contentType: "application/json", body: `{"query":` + mustJSON(ops.String()) + `,"operationName":"Q0"}`}, status: 400, code: "QUERY_TOO_COMPLEX"},
		{name: "500RepeatedFields", req: withToken(post("{ me { "+fields.String()+"} }", nil), token), status: 400, code: "QUERY_TOO_COMPLEX"},
		{name: "RepeatedDirectives", req: post("{ __typename @include(if: true) @include(if: true) @include(if: true) }", nil), status: 200, code: "BAD_USER_INPUT"},
		{name: "CircularFragments", req: post("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", nil), status: 200, code: "BAD_USER_INPUT"},
		{name: "DeepNesting", req: withToken(post("{ "+deep+" }", nil), token), status: 400, code: "QUERY_TOO_COMPLEX"},
		{name: "HugeFirst", req: withToken(post("{ tickets(first: 2000000000) { edges { node { id messages(first: 2000000000) { totalCount } } } } }", nil), token), status: 400, code: "QUERY_TOO_COMPLEX"},
		{name: "FirstOverMaxPageSize", req: withToken(post("{ tickets(first: 101) { totalCount } }", nil), token), status: 200, code: "BAD_USER_INPUT"},
		{name: "MutationOverGET", req: request{method: "GET", query: "?query=mutation%7Blogout%7D"}, status: 405, code: "METHOD_NOT_ALLOWED"},
		{name: "TextPlainPOST", req: request{contentType: "text/plain", body: jsonBody("mutation { logout }", nil)}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "FormPOST", req: request{contentType: "application/x-www-form-urlencoded", body: "query=mutation%7Blogout%7D"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "MultipartPOST", req: request{contentType: "multipart/form-data; boundary=b", body: "--b\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n{ __typename }\r\n--b--\r\n"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "CORSForeignOrigin", req: request{contentType: "application/json", body: jsonBody("{ __typename }", nil), header: foreign}, status: 200, code: "",
			check: func(t *testing.T, r response) {
				if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
					t.Fatalf("CORS headers for a foreign origin: %v", r.Header)
				}
			}},
		{name: "CORSPreflightForeignOrigin", req: request{method: "OPTIONS", header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}}, status: 204, code: "",
			check: func(t *testing.T, r response) {
				if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Methods") != "" {
					t.Fatalf("preflight allowed a foreign origin: %v", r.Header)
				}
			}},
		{name: "OversizedBody", req: post("{ __typename }", map[string]any{"pad": strings.Repeat("a", 2<<20)}), status: 413, code: "PAYLOAD_TOO_LARGE"},
		{name: "MalformedJSON", req: request{contentType: "application/json", body: `{"query": "{ __typename }", "variables": {`}, status: 400, code: "BAD_USER_INPUT"},
		{name: "InvalidUTF8", req: request{contentType: "application/json", body: "{\"query\": \"{ __typename }\", \"operationName\": \"\xc3\x28\"}"}, status: 400, code: "BAD_USER_INPUT"},
		{name: "MemberNameInOtherCase", req: request{contentType: "application/json", body: `{"query": "query($n: Int) { tickets(first: $n) { totalCount } }", "Variables": "many"}`}, status: 400, code: "BAD_USER_INPUT"},
		{name: "WrongVariableType", req: withToken(post("query($n: Int) { tickets(first: $n) { totalCount } }", map[string]any{"n": "many"}), token), status: 200, code: "BAD_USER_INPUT"},
		{name: "UnknownFieldSuggestsInDevelopment", req: post("{ ticketz { id } }", nil), status: 200, code: "BAD_USER_INPUT",
			check: func(t *testing.T, r response) {
				if !strings.Contains(r.Errors[0].Message, "Did you mean") {
					t.Fatalf("development mode should suggest: %s", r.Raw)
				}
			}},
		{name: "IntrospectionInDevelopment", req: post("{ __schema { queryType { name } } }", nil), status: 200, code: ""},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			r := s.send(t, a.req)
			if r.Status != a.status || r.FirstCode() != a.code {
				t.Fatalf("got %d %q, want %d %q: %.300s", r.Status, r.FirstCode(), a.status, a.code, r.Raw)
			}
			if a.check != nil {
				a.check(t, r)
			}
			s.stillServes(t)
		})
	}

	t.Run("WebsocketForeignOriginWithCookie", func(t *testing.T) {
		cookie := signupCookie(t, s)
		wsURL := "ws" + strings.TrimPrefix(s.URL, "http") + "/query"
		dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
		header := http.Header{"Origin": {"https://evil.example"}, "Cookie": {cookie}}
		conn, res, err := dialer.Dial(wsURL, header)
		if err == nil {
			conn.Close()
			t.Fatal("websocket from a foreign origin with a session cookie was accepted")
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign-origin upgrade: %v %v", err, res)
		}
		// The same cookie from the server's own origin is accepted.
		header.Set("Origin", s.URL)
		conn, _, err = dialer.Dial(wsURL, header)
		if err != nil {
			t.Fatalf("same-origin upgrade refused: %v", err)
		}
		conn.Close()
		s.stillServes(t)
	})
}

// signupCookie signs a new customer up in browser mode and returns the
// session cookie ("name=value").
func signupCookie(t *testing.T, s *server) string {
	t.Helper()
	body := jsonBody(`mutation($i: SignupInput!) { signup(input: $i, cookie: true) { user { id } } }`,
		map[string]any{"i": map[string]any{"email": fmt.Sprintf("cookie-%d@example.com", uniq.Add(1)), "name": "Cookie", "password": password}})
	r := s.send(t, request{contentType: "application/json", body: body})
	r.OK(t)
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no session cookie: %v", r.Header)
	return ""
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestProductionMode(t *testing.T) {
	s := startServer(t, map[string]string{"SWITCHBOARD_ENV": "production"})
	t.Run("ErrIntrospection", func(t *testing.T) {
		for _, q := range []string{`{ __schema { types { name } } }`, `{ __type(name: "Ticket") { fields { name } } }`} {
			r := s.send(t, post(q, nil))
			if r.Status != http.StatusForbidden || r.FirstCode() != "FORBIDDEN" || strings.Contains(r.Raw, "queryType") || strings.Contains(r.Raw, "fields") {
				t.Fatalf("introspection in production: %d %s", r.Status, r.Raw)
			}
		}
		s.stillServes(t)
	})
	t.Run("ErrNoSuggestions", func(t *testing.T) {
		for _, q := range []string{`{ ticketz { id } }`, `{ tickets(frist: 1) { totalCount } }`, `{ me { nmae } }`} {
			r := s.send(t, post(q, nil))
			if r.FirstCode() != "BAD_USER_INPUT" || strings.Contains(r.Raw, "Did you mean") {
				t.Fatalf("suggestion in production: %d %s", r.Status, r.Raw)
			}
		}
	})
	t.Run("ErrNoPlayground", func(t *testing.T) {
		res, err := http.Get(s.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("playground in production: %d", res.StatusCode)
		}
	})
	t.Run("ErrorsAreMasked", func(t *testing.T) {
		// A transport-level fault and a refused operation say what is
		// wrong, never how the server is built.
		for _, req := range []request{
			{contentType: "application/json", body: `{"query": 42}`},
			post("{ __typename", nil),
			post(`query($t: Time!) { __typename }`, map[string]any{"t": "not a time"}),
		} {
			// A request error is 200 with application/json, as GraphQL
			// over HTTP says, and then has no data member.
			r := s.send(t, req)
			if r.FirstCode() == "" || r.Status >= 500 || r.Status < 400 && strings.Contains(r.Raw, `"data"`) {
				t.Fatalf("not refused: %d %s", r.Status, r.Raw)
			}
			for _, leak := range []string{"goroutine", ".go:", "exception", "stacktrace", "runtime error", "github.com/"} {
				if strings.Contains(r.Raw, leak) {
					t.Fatalf("response leaks %q: %s", leak, r.Raw)
				}
			}
		}
		s.stillServes(t)
	})
}

// TestWebsocketLimits: the query limits hold on websockets too, and the
// socket stays usable after a refusal.
func TestWebsocketLimits(t *testing.T) {
	s := startServer(t, nil)
	token, _ := s.signup(t, "mallory")
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/query", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send := func(v any) {
		t.Helper()
		if err := conn.WriteJSON(v); err != nil {
			t.Fatal(err)
		}
	}
	read := func(id string) map[string]any {
		t.Helper()
		for {
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			var msg map[string]any
			if err := conn.ReadJSON(&msg); err != nil {
				t.Fatalf("reading: %v", err)
			}
			if msg["type"] == "ping" || (id != "" && msg["id"] != id) {
				continue
			}
			return msg
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + token}})
	if ack := read(""); ack["type"] != "connection_ack" {
		t.Fatalf("no ack: %v", ack)
	}
	var aliases strings.Builder
	for i := range 101 {
		fmt.Fprintf(&aliases, "a%d: __typename ", i)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "{ " + aliases.String() + "}"}})
	msg := read("1")
	if msg["type"] != "error" || !strings.Contains(mustJSON(msg), "QUERY_TOO_COMPLEX") {
		t.Fatalf("alias overload over a websocket: %v", msg)
	}
	send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": "{ me { id } }"}})
	if msg := read("2"); msg["type"] != "next" {
		t.Fatalf("the socket no longer serves: %v", msg)
	}
}
