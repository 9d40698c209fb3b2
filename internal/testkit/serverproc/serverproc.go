// Package serverproc runs the switchboard binary as a child process, for
// the tests and benchmarks that talk to it as a client would
// (securitytest/, bench/): it builds the binary, starts `serve` with the
// settings the caller names and nothing from the caller's environment
// that would change what is measured, finds the address in the server's
// JSON log, and stops it.
package serverproc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// StartTimeout bounds how long Start waits for the server to listen (it
// migrates the database first).
const StartTimeout = time.Minute

// Build compiles the switchboard binary into dir and returns its path. It
// runs in the caller's directory, which must be inside the module.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "switchboard")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/switchboardhq/switchboard") // #nosec G204 -- a path in the caller's directory
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// Env is the environment of a child process: this process's, without any
// Switchboard, database, Redis or Go runtime setting, plus settings.
func Env(settings map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "SWITCHBOARD_"), k == "DATABASE_URL", k == "REDIS_URL",
			k == "GODEBUG", k == "GOTRACEBACK", k == "GOGC", k == "GOMEMLIMIT":
			continue
		}
		env = append(env, kv)
	}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	return env
}

// Proc is `switchboard serve` running as a child process.
type Proc struct {
	Cmd     *exec.Cmd
	URL     string // http://host:port
	LogPath string // its standard output and error

	done    chan struct{}
	waitErr error
}

// Start runs `bin serve` with env (see Env), its output going to logPath,
// and returns once it serves (the "switchboard is serving" log line, so
// SWITCHBOARD_LOG_FORMAT must be json). A server that exits or does not
// listen within StartTimeout is an error that carries its log.
func Start(bin string, env []string, logPath string) (*Proc, error) {
	logFile, err := os.Create(logPath) // #nosec G304 -- the caller's temporary file
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve") // #nosec G204 -- the binary this package built
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	err = cmd.Start()
	_ = logFile.Close() // the child holds its own descriptor
	if err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(StartTimeout)
	for time.Now().Before(deadline) {
		if addr := p.servingAddr(); addr != "" {
			p.URL = "http://" + addr
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("server exited before serving: %v\n%s", p.waitErr, p.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = p.Stop(os.Kill, 0) // killed: its exit error says nothing
	return nil, fmt.Errorf("server did not serve within %v:\n%s", StartTimeout, p.Log())
}

// Log is what the server has written so far.
func (p *Proc) Log() []byte {
	b, _ := os.ReadFile(p.LogPath)
	return b
}

// Done is closed when the server has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Stop sends sig (unless the server has exited), waits up to grace for it
// to exit, then kills it. It returns the server's exit error.
func (p *Proc) Stop(sig os.Signal, grace time.Duration) error {
	select {
	case <-p.done:
		return p.waitErr
	default:
	}
	_ = p.Cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
	return p.waitErr
}

// servingAddr finds the address in the "switchboard is serving" line.
func (p *Proc) servingAddr() string {
	sc := bufio.NewScanner(bytes.NewReader(p.Log()))
	for sc.Scan() {
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "switchboard is serving" {
			return line.Addr
		}
	}
	return ""
}
