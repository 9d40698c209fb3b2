package securitytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/harness"
)

// binary is the switchboard binary built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "securitytest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if binary, err = harness.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a switchboard process serving on a random port.
type server struct {
	*harness.Binary
	settings map[string]string
}

// startServer runs `switchboard serve` with settings over the defaults
// (the suite runs on the embedded SQLite database) and stops it when the
// test ends.
func startServer(t *testing.T, settings map[string]string) *server {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"SWITCHBOARD_DATA_DIR":        dir,
		"SWITCHBOARD_ADDR":            "127.0.0.1:0",
		"SWITCHBOARD_LOG_FORMAT":      "json",
		"SWITCHBOARD_RATE_LIMIT_USER": "0",
		"SWITCHBOARD_RATE_LIMIT_IP":   "0",
	}
	for k, v := range settings {
		all[k] = v
	}
	return &server{Binary: harness.StartBinary(t, binary, all, filepath.Join(dir, "server.log")), settings: all}
}

// createUser runs `switchboard user create` against the server's data.
func (s *server) createUser(t *testing.T, email, role string) {
	t.Helper()
	settings := map[string]string{"SWITCHBOARD_PASSWORD": password}
	for k, v := range s.settings {
		settings[k] = v
	}
	harness.RunBinary(t, binary, settings, "user", "create", "--email", email, "--name", email, "--role", role)
}

const password = "correct horse battery staple"

// response is a GraphQL response with its HTTP status, headers and raw
// body.
type response = harness.Response

// request is one HTTP request to /query.
type request struct {
	method, contentType, body, query string
	header                           map[string]string
}

func (s *server) send(t *testing.T, req request) response {
	t.Helper()
	if req.method == "" {
		req.method = http.MethodPost
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, req.method, s.URL+"/query"+req.query, strings.NewReader(req.body))
	if err != nil {
		t.Fatal(err)
	}
	if req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s /query: %v", req.method, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &out)
	return out
}

// do posts an operation as a client would, with a bearer token if given.
// Unlike harness.Server.Do, it takes any answer (the status and raw body
// tell what came back) and gives up after 30 seconds.
func (s *server) do(t *testing.T, token, query string, vars map[string]any) response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	header := map[string]string{}
	if token != "" {
		header["Authorization"] = "Bearer " + token
	}
	return s.send(t, request{contentType: "application/json", body: string(body), header: header})
}

var uniq atomic.Int64

// signup makes a customer account and returns its token and ID.
func (s *server) signup(t *testing.T, name string) (token, id string) {
	t.Helper()
	email := fmt.Sprintf("%s-%d@example.com", name, uniq.Add(1))
	d := s.do(t, "", `mutation($i: SignupInput!) { signup(input: $i) { token user { id } } }`,
		map[string]any{"i": map[string]any{"email": email, "name": name, "password": password}}).OK(t)
	signup := d["signup"].(map[string]any)
	return signup["token"].(string), signup["user"].(map[string]any)["id"].(string)
}

// stillServes checks the server answers a normal query.
func (s *server) stillServes(t *testing.T) {
	t.Helper()
	if r := s.do(t, "", `{ __typename }`, nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("server no longer serves: %d %s", r.Status, r.Raw)
	}
}
