package harness

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
)

// Buffer collects a program's output from its goroutines.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// EnvOf is m as a getenv function (unset variables read as "").
func EnvOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TargetEnv is the settings of a server on tg: its database and key, a
// random port, quiet logs, no rate limits, and cache keys of its own.
func TargetEnv(tg dbtest.Target) map[string]string {
	return map[string]string{
		"SWITCHBOARD_DATA_DIR":       tg.DataDir,
		"DATABASE_URL":               tg.DatabaseURL,
		"SWITCHBOARD_ENCRYPTION_KEY": tg.EncryptionKey,
		"SWITCHBOARD_ADDR":           "127.0.0.1:0",
		"SWITCHBOARD_LOG_LEVEL":      "warn",
		// Test databases start empty; scaled-out mode migrates only when asked.
		"SWITCHBOARD_MIGRATE": "true",
		// Tests make requests faster than any client and share Redis;
		// TestRateLimits turns the limits on.
		"SWITCHBOARD_RATE_LIMIT_USER": "0",
		"SWITCHBOARD_RATE_LIMIT_IP":   "0",
		// Tests share Redis: each database gets cache keys of its own.
		"SWITCHBOARD_CACHE_PREFIX": fmt.Sprintf("switchboard-test:%x:cache:", sha256.Sum256([]byte(tg.DataDir+tg.DatabaseURL))),
	}
}

// MergeEnv sets over's variables in base and returns base.
func MergeEnv(base, over map[string]string) map[string]string {
	for k, v := range over {
		base[k] = v
	}
	return base
}

// FreePort is a TCP port of 127.0.0.1 that nothing listens on (as of the
// call).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RepoFile is the path of a file of the repository (README.md,
// schema/*.graphql, deploy/nginx.conf, clients/…) given relative to its
// root, the directory of go.mod above the test's working directory.
func RepoFile(t testing.TB, rel ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(append([]string{dir}, rel...)...)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the working directory: cannot find %s", filepath.Join(rel...))
		}
		dir = parent
	}
}
