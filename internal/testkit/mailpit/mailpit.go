// Package mailpit runs a private mailpit (github.com/axllent/mailpit, a
// real SMTP server with an HTTP API) for a test, and reads what arrived.
// The binary is found on PATH or in $(go env GOPATH)/bin; without it the
// test is skipped, saying how to install it (.ci/run does).
package mailpit

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Install is how to get the binary.
const Install = "go install github.com/axllent/mailpit@v1.33.1"

// Server is one mailpit process (stopped and started again on the same
// ports and database, so that what arrived survives a restart).
type Server struct {
	t        testing.TB
	bin, dir string
	SMTPAddr string
	HTTPAddr string
	cmd      *exec.Cmd
}

// Binary returns the mailpit binary, or "".
func Binary() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = string(trimNL(out))
		}
	}
	if gopath != "" {
		p := filepath.Join(gopath, "bin", "mailpit")
		if _, err := os.Stat(p); err == nil { // #nosec G703 -- GOPATH of the machine running the tests, not input
			return p
		}
	}
	return ""
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// New reserves ports for a mailpit without starting it; Start starts it.
// The test is skipped when the binary is missing.
func New(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skipf("mailpit is not installed (on PATH or in $(go env GOPATH)/bin): %s", Install)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), SMTPAddr: freeAddr(t), HTTPAddr: freeAddr(t)}
	t.Cleanup(s.Stop)
	return s
}

// Start starts a new mailpit and waits until it answers.
func Start(t testing.TB) *Server {
	s := New(t)
	s.Start()
	return s
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start starts the process (again) and waits for its API and SMTP port.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.bin, "--smtp", s.SMTPAddr, "--listen", s.HTTPAddr,
		"--database", filepath.Join(s.dir, "mailpit.db"), "--quiet", "--disable-version-check") // #nosec G204 -- a test's own binary
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting mailpit: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second)
		if err == nil {
			_ = c.Close()
			if resp, err := http.Get("http://" + s.HTTPAddr + "/api/v1/info"); err == nil {
				_ = resp.Body.Close()
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("mailpit did not start on %s / %s", s.SMTPAddr, s.HTTPAddr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the process (the SMTP server is then down).
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// SMTPURL is the URL Switchboard's settings take for it.
func (s *Server) SMTPURL() string { return "smtp://" + s.SMTPAddr + "?starttls=none" }

// Summary is a message of the list.
type Summary struct {
	ID        string
	MessageID string
	Subject   string
	To        []struct{ Name, Address string }
}

// Messages lists every message that arrived, newest first.
func (s *Server) Messages() []Summary {
	s.t.Helper()
	var out struct {
		Total    int
		Messages []Summary
	}
	s.get("/api/v1/messages?limit=1000", &out)
	return out.Messages
}

// Message is one message in full.
type Message struct {
	ID        string
	MessageID string
	Subject   string
	Text      string
	HTML      string
	From      struct{ Name, Address string }
	To        []struct{ Name, Address string }
	ReplyTo   []struct{ Name, Address string }
	Headers   map[string][]string `json:"-"`
}

// Message reads one message with its headers.
func (s *Server) Message(id string) Message {
	s.t.Helper()
	var m Message
	s.get("/api/v1/message/"+id, &m)
	s.get("/api/v1/message/"+id+"/headers", &m.Headers)
	return m
}

// Header is the first value of a header of m.
func (m Message) Header(name string) string {
	if v := m.Headers[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// WaitFor waits until at least n messages arrived, and returns them.
func (s *Server) WaitFor(n int, timeout time.Duration) []Summary {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ms := s.Messages()
		if len(ms) >= n || time.Now().After(deadline) {
			return ms
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) get(path string, v any) {
	s.t.Helper()
	resp, err := http.Get("http://" + s.HTTPAddr + path)
	if err != nil {
		s.t.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		s.t.Fatalf("mailpit %s: %v", path, err)
	}
}

// String names the server.
func (s *Server) String() string {
	return fmt.Sprintf("mailpit smtp=%s http=%s", s.SMTPAddr, s.HTTPAddr)
}
