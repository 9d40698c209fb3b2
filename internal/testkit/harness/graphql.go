package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/auth"
)

// The operations most tests start with.
const (
	SignupMutation       = `mutation($input: SignupInput!) { signup(input: $input) { token user { id email role } } }`
	LoginMutation        = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id name role } } }`
	CreateTicketMutation = `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id number subject status priority requester { email } messages { totalCount edges { node { body } } } } }`
	AddMessageMutation   = `mutation($id: ID!, $body: String!, $internal: Boolean) { addMessage(ticketID: $id, body: $body, internal: $internal) { id body internal author { name } } }`
)

// SignupPassword is the password of the accounts Signup makes.
const SignupPassword = "correct horse battery"

// GQLError is one GraphQL error.
type GQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a GraphQL response with its HTTP status, headers and body.
type Response struct {
	Status int            `json:"-"`
	Header http.Header    `json:"-"`
	Raw    string         `json:"-"`
	Data   map[string]any `json:"data"`
	Errors []GQLError     `json:"errors"`
}

// Code returns the extensions.code of the only error, failing otherwise.
func (r Response) Code(t testing.TB) string {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("want exactly one error, got %+v (data %v)", r.Errors, r.Data)
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// FirstCode is the extensions.code of the first error ("" without
// errors).
func (r Response) FirstCode() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// OK fails unless the response is a success (200, no errors) and returns
// its data.
func (r Response) OK(t testing.TB) map[string]any {
	t.Helper()
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Fatalf("status %d, errors %+v", r.Status, r.Errors)
	}
	return r.Data
}

// Do posts a GraphQL operation as a client would, with a bearer token
// unless token is "", failing the test if there is no JSON answer.
func (s *Server) Do(t testing.TB, token, query string, vars map[string]any) Response {
	t.Helper()
	var header map[string]string
	if token != "" {
		header = map[string]string{"Authorization": "Bearer " + token}
	}
	_, r := s.post(t, map[string]any{"query": query, "variables": vars}, header, nil)
	return r
}

// Post sends a GraphQL query (no variables) with the given headers and
// the cookie's name and value, failing the test if there is no JSON
// answer.
func (s *Server) Post(t testing.TB, query string, headers map[string]string, cookie *http.Cookie) (*http.Response, Response) {
	t.Helper()
	return s.post(t, map[string]any{"query": query}, headers, cookie)
}

func (s *Server) post(t testing.TB, payload map[string]any, headers map[string]string, cookie *http.Cookie) (*http.Response, Response) {
	t.Helper()
	body, _ := json.Marshal(payload)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value}) // #nosec G124 -- a request cookie: the attributes are the server's to set
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := Response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("status %d, body not JSON: %s", res.StatusCode, raw)
	}
	return res, r
}

// Client posts GraphQL operations without a test to fail: for goroutines
// other than the test's, servers that may die mid-request, and load
// generators. Its methods return errors.
type Client struct {
	// URL is the server's, http://host:port.
	URL  string
	HTTP *http.Client
}

// Client is a client of s with http.DefaultClient.
func (s *Server) Client() *Client { return &Client{URL: s.URL, HTTP: http.DefaultClient} }

// Query is Do for goroutines other than the test's: it returns the data,
// or an error instead of failing (a GraphQL error, a status other than
// 200, no answer).
func (s *Server) Query(token, query string, vars map[string]any) (map[string]any, error) {
	return s.Client().Query(context.Background(), token, query, vars)
}

// QueryWithin is Query for servers that may die mid-request: no answer
// within d is an error too.
func (s *Server) QueryWithin(d time.Duration, token, query string, vars map[string]any) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.Client().Query(ctx, token, query, vars)
}

// SessionCookie is the session cookie a response sets (nil if none).
func SessionCookie(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == auth.SessionCookieName {
			return c
		}
	}
	return nil
}

// Query runs an operation and returns its data; a GraphQL error or a
// status other than 200 is an error.
func (c *Client) Query(ctx context.Context, token, query string, vars map[string]any) (map[string]any, error) {
	status, raw, err := c.send(ctx, token, query, vars)
	if err != nil {
		return nil, err
	}
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("status %d, body not JSON: %.200s", status, raw)
	}
	if status != http.StatusOK || len(r.Errors) > 0 {
		return nil, fmt.Errorf("status %d, errors %+v", status, r.Errors)
	}
	return r.Data, nil
}

// Do runs an operation and decodes its data into out (unless nil); a
// GraphQL error or a status other than 200 is an error.
func (c *Client) Do(ctx context.Context, token, query string, vars map[string]any, out any) error {
	status, raw, err := c.send(ctx, token, query, vars)
	if err != nil {
		return err
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("status %d, body not JSON: %.200s", status, raw)
	}
	if len(r.Errors) > 0 || status != http.StatusOK {
		msgs := make([]string, len(r.Errors))
		for i, e := range r.Errors {
			msgs[i] = e.Message
		}
		return fmt.Errorf("status %d: %s", status, strings.Join(msgs, "; "))
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

// Login signs in with a password and returns the session token.
func (c *Client) Login(ctx context.Context, email, password string) (string, error) {
	var out struct{ Login struct{ Token string } }
	err := c.Do(ctx, "", `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token } }`,
		map[string]any{"email": email, "password": password}, &out)
	if err == nil && out.Login.Token == "" {
		err = errors.New("login returned no token")
	}
	return out.Login.Token, err
}

func (c *Client) send(ctx context.Context, token, query string, vars map[string]any) (int, []byte, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/query", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// Login signs in with a password, failing the test unless it succeeds,
// and returns the session token.
func Login(t testing.TB, s *Server, email, password string) string {
	t.Helper()
	data := s.Do(t, "", LoginMutation, map[string]any{"email": email, "password": password}).OK(t)
	return Str(data, "login", "token")
}

// Signup makes a customer account with SignupPassword and returns its
// session token and ID.
func Signup(t testing.TB, s *Server, email, name string) (token, id string) {
	t.Helper()
	data := s.Do(t, "", SignupMutation, map[string]any{"input": map[string]any{"email": email, "password": SignupPassword, "name": name}}).OK(t)
	return Str(data, "signup", "token"), Str(data, "signup", "user", "id")
}

// Path digs into decoded JSON: Path(m, "login", "user", "id"), ints
// index lists (nil when out of range).
func Path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// Str is the string at Path(v, keys...) ("" if it is none).
func Str(v any, keys ...any) string { s, _ := Path(v, keys...).(string); return s }

// Num is the number at Path(v, keys...) as an int (0 if it is none).
func Num(v any, keys ...any) int { f, _ := Path(v, keys...).(float64); return int(f) }

// JSON is v encoded, failing the test if it cannot be.
func JSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
