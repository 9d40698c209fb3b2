package harness

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/serverproc"
)

// Build compiles the switchboard binary into dir and returns its path.
// The test's working directory must be inside the module.
func Build(dir string) (string, error) { return serverproc.Build(dir) }

// MustBuild is Build, failing the test on error.
func MustBuild(tb testing.TB, dir string) string {
	tb.Helper()
	bin, err := Build(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// RunBinary runs a command of bin (not serve) to completion with exactly
// settings (see serverproc.Env), failing the test unless it succeeds, and
// returns its output.
func RunBinary(tb testing.TB, bin string, settings map[string]string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(bin, args...) // #nosec G204 -- the binary Build built
	cmd.Env = serverproc.Env(settings)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("switchboard %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Binary is the real binary serving as a child process (see StartBinary).
type Binary struct {
	*Server
	Proc *serverproc.Proc
}

// StopGrace is how long a Binary has to exit after SIGTERM before it is
// killed.
const StopGrace = 30 * time.Second

// StartBinary runs `bin serve` with exactly settings (see serverproc.Env:
// nothing of the test's environment that would change what is measured;
// SWITCHBOARD_LOG_FORMAT must be json), its output going to logPath, and
// returns once it serves. Stop sends SIGTERM. When the test ends it is
// stopped (killed after StopGrace), and the end of its log is logged if
// the test failed.
func StartBinary(tb testing.TB, bin string, settings map[string]string, logPath string) *Binary {
	tb.Helper()
	p, err := serverproc.Start(bin, serverproc.Env(settings), logPath)
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{URL: p.URL, done: make(chan struct{}), log: func() string { return string(p.Log()) }}
	s.stop = func() { _ = p.Cmd.Process.Signal(syscall.SIGTERM) }
	go func() {
		<-p.Done()
		var ee *exec.ExitError
		if errors.As(p.Stop(syscall.SIGTERM, 0), &ee) {
			s.code = ee.ExitCode()
		}
		close(s.done)
	}()
	b := &Binary{Server: s, Proc: p}
	tb.Cleanup(func() {
		_ = b.Proc.Stop(syscall.SIGTERM, StopGrace)
		if tb.Failed() {
			log := p.Log()
			if len(log) > 16<<10 {
				log = append([]byte("…"), log[len(log)-16<<10:]...)
			}
			tb.Logf("server log (%s):\n%s", logPath, log)
		}
	})
	return b
}
