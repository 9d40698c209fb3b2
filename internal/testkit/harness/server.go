package harness

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// StartTimeout bounds how long a server may take to serve (it migrates
// the database first).
const StartTimeout = 60 * time.Second

// Server is Switchboard serving on URL: in-process (Start), as a process
// of its own (StartProcess, StartBinary), or anything else at an address
// (a proxy in front of servers: set URL and Out).
type Server struct {
	// URL is http://host:port.
	URL string
	// Out is what the server has written to its standard output and
	// error (nil for StartBinary's, see Log).
	Out *Buffer

	stop func()
	done chan struct{} // closed once it exited, with code set
	code int
	log  func() string
}

// Stop asks the server to shut down (the context of an in-process server
// ends, a process gets SIGTERM). It returns at once; see Wait.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
	}
}

// Wait returns the exit code, waiting at most d for the server to exit
// (false when it is still running).
func (s *Server) Wait(d time.Duration) (int, bool) {
	if s.done == nil {
		return 0, false
	}
	select {
	case <-s.done:
		return s.code, true
	case <-time.After(d):
		return 0, false
	}
}

// Log is the server's output so far.
func (s *Server) Log() string {
	switch {
	case s.log != nil:
		return s.log()
	case s.Out != nil:
		return s.Out.String()
	}
	return ""
}

// Start runs `switchboard serve` in-process against tg, with env over
// TargetEnv's settings and args after serve, and returns once it serves.
// When the test ends it is stopped, and must exit with 0 within a minute;
// its output is logged if the test failed.
func Start(t *testing.T, tg dbtest.Target, env map[string]string, args ...string) *Server {
	t.Helper()
	return StartWith(t, tg, env, nil, args...)
}

// StartWith is Start with the process's environment adjusted by configure
// (nil: as is) before the program runs, e.g. to add DBOptions.
func StartWith(t *testing.T, tg dbtest.Target, env map[string]string, configure func(*cli.Env), args ...string) *Server {
	t.Helper()
	full := MergeEnv(TargetEnv(tg), env)
	out := &Buffer{}
	ready := make(chan net.Addr, 1)
	e := cli.Env{Getenv: EnvOf(full), Stdin: strings.NewReader(""), Stdout: out, Stderr: out, Ready: func(a net.Addr) { ready <- a }}
	if configure != nil {
		configure(&e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Out: out, stop: cancel, done: make(chan struct{})}
	go func() {
		s.code = cli.Run(ctx, e, append([]string{"serve"}, args...))
		close(s.done)
	}()
	select {
	case addr := <-ready:
		s.URL = "http://" + addr.String()
	case <-s.done:
		cancel()
		t.Fatalf("server exited with %d before serving: %s", s.code, out)
	case <-time.After(StartTimeout):
		cancel()
		t.Fatalf("server did not start: %s", out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", out)
		}
		cancel()
		if code, ok := s.Wait(time.Minute); !ok {
			t.Errorf("server still running a minute after it was stopped")
		} else if code != cli.ExitOK {
			t.Errorf("server exited with %d: %s", code, out)
		}
	})
	return s
}

// RunCLI runs a command in-process, as `switchboard args...` with the
// environment env and stdin, and returns its exit code and output
// (standard output and error together).
func RunCLI(t *testing.T, env map[string]string, stdin string, args ...string) (int, string) {
	t.Helper()
	out := &Buffer{}
	e := cli.Env{Getenv: EnvOf(env), Stdin: strings.NewReader(stdin), Stdout: out, Stderr: out}
	return cli.Run(context.Background(), e, args), out.String()
}

// CreateUser runs `switchboard user create` against tg (the password on
// standard input), failing the test unless it succeeds.
func CreateUser(t *testing.T, tg dbtest.Target, email, name, role, password string) {
	t.Helper()
	CreateUserEnv(t, tg, nil, email, name, role, password)
}

// CreateUserEnv is CreateUser with extra settings over TargetEnv's.
func CreateUserEnv(t *testing.T, tg dbtest.Target, extra map[string]string, email, name, role, password string) {
	t.Helper()
	env := MergeEnv(TargetEnv(tg), extra)
	if code, out := RunCLI(t, env, password+"\n", "user", "create", "--email", email, "--name", name, "--role", role); code != cli.ExitOK {
		t.Fatalf("user create exited %d: %s", code, out)
	}
}
