package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// serveVariable, set to 1, makes a test binary that imports this package
// run `switchboard serve` instead of its tests (see StartProcess).
const serveVariable = "SWITCHBOARD_HARNESS_SERVE"

// listeningLine prefixes the address on the server process's standard
// output once it serves.
const listeningLine = "HARNESS-LISTENING "

// init is the server process of StartProcess: main, with the address
// printed once bound.
func init() {
	if os.Getenv(serveVariable) != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Ready: func(a net.Addr) { fmt.Printf("%s%s\n", listeningLine, a) }}
	code := cli.Run(ctx, env, []string{"serve"})
	stop()
	os.Exit(code)
}

// Process is the program serving as a process of its own: this test
// binary run again (see init), so that it gets a real SIGTERM, or can be
// killed, and exits as the binary does (with the race detector of the
// test, unlike StartBinary's). Stop sends SIGTERM.
type Process struct {
	*Server
	Cmd *exec.Cmd
	// Exited receives how the process ended once it has; whoever reads
	// it puts it back.
	Exited chan error
}

// StartProcess starts the program on tg with env over TargetEnv's and
// returns once it listens. It is killed when the test ends.
func StartProcess(t *testing.T, tg dbtest.Target, env map[string]string) *Process {
	t.Helper()
	// -test.run: should the variable not reach it, the binary runs no test.
	cmd := exec.Command(os.Args[0], "-test.run=^$") // #nosec G204 G702 -- this test binary
	cmd.Env = append(os.Environ(), serveVariable+"=1")
	for k, v := range MergeEnv(TargetEnv(tg), env) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &Buffer{}
	cmd.Stderr = out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{Out: out, done: make(chan struct{})}
	s.stop = func() { _ = cmd.Process.Signal(syscall.SIGTERM) }
	p := &Process{Server: s, Cmd: cmd, Exited: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), listeningLine); ok {
				addr <- a
			}
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			s.code = ee.ExitCode()
		}
		close(s.done)
		p.Exited <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case err := <-p.Exited:
			p.Exited <- err
		case <-time.After(10 * time.Second):
		}
		if t.Failed() {
			t.Logf("server log:\n%s", out)
		}
	})
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case err := <-p.Exited:
		p.Exited <- err // for the cleanup, which would otherwise wait 10s
		t.Fatalf("server process exited before serving (%v): %s", err, out)
	case <-time.After(StartTimeout):
		t.Fatalf("server process did not start: %s", out)
	}
	return p
}
