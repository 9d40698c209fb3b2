package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/config"
)

func TestServerRun(t *testing.T) {
	t.Run("ReturnsOnlyWhenEverythingItStartedHasStopped", func(t *testing.T) {
		settings := map[string]string{
			"SWITCHBOARD_DATA_DIR":     t.TempDir(),
			"SWITCHBOARD_ADDR":         "127.0.0.1:0",
			"SWITCHBOARD_METRICS_ADDR": "127.0.0.1:0",
		}
		cfg, err := config.Read(func(k string) string { return settings[k] })
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		ln, err := app.Listen(cfg)
		if err != nil {
			t.Fatal(err)
		}
		metricsAddr := ln.Metrics.Addr().String()
		d, err := app.Open(t.Context(), cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		srv, err := app.NewServer(t.Context(), d, ln, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		for _, url := range []string{"http://" + srv.Addr().String() + "/healthz", "http://" + metricsAddr + "/metrics"} {
			res, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", url, res.StatusCode)
			}
		}
		stop()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		// Running functions, not "created by" lines.
		for _, f := range []string{"(*Hub).dispatchLoop(", "(*Hub).housekeeping(", "(*Hub).revalidating(", "(*Hub).publisher(", "net/http.(*Server).Serve("} {
			if strings.Contains(stacks, f) {
				t.Errorf("a goroutine in %s is still running after Run returned:\n%s", f, stacks)
			}
		}
		if _, err := http.Get("http://" + metricsAddr + "/metrics"); err == nil {
			t.Error("the metrics listener still answers after Run returned")
		}
	})
}
