package serverproc_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/serverproc"
)

func TestEnv(t *testing.T) {
	t.Setenv("SWITCHBOARD_RATE_LIMIT_IP", "1")
	t.Setenv("DATABASE_URL", "postgres://elsewhere")
	t.Setenv("GOGC", "off")
	env := serverproc.Env(map[string]string{"SWITCHBOARD_ADDR": "127.0.0.1:0"})
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == "SWITCHBOARD_RATE_LIMIT_IP" || k == "DATABASE_URL" || k == "GOGC" {
			t.Fatalf("the caller's %s reached the child", kv)
		}
	}
	if !slices.Contains(env, "SWITCHBOARD_ADDR=127.0.0.1:0") {
		t.Fatal("the given setting is missing")
	}
}

func TestStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin, err := serverproc.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ServesUntilStopped", func(t *testing.T) {
		p, err := serverproc.Start(bin, serverproc.Env(map[string]string{
			"SWITCHBOARD_ADDR": "127.0.0.1:0", "SWITCHBOARD_DATA_DIR": filepath.Join(dir, "data"), "SWITCHBOARD_LOG_FORMAT": "json",
		}), filepath.Join(dir, "server.log"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(p.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/healthz: %d", res.StatusCode)
		}
		if err := p.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Log())
		}
		select {
		case <-p.Done():
		default:
			t.Fatal("Done is open after Stop")
		}
	})
	t.Run("ErrExitsBeforeServing", func(t *testing.T) {
		_, err := serverproc.Start(bin, serverproc.Env(map[string]string{"SWITCHBOARD_LOG_FORMAT": "xml"}), filepath.Join(dir, "bad.log"))
		if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_LOG_FORMAT") {
			t.Fatalf("error = %v, want one carrying the server's complaint", err)
		}
	})
}
