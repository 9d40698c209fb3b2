package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/httpserver"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/tracing"
)

// observability is what serve starts besides the API: tracing, and the
// metrics' own listener when SWITCHBOARD_METRICS_ADDR is set.
type observability struct {
	tracing *tracing.Tracing
	// stop closes the metrics listener and flushes the buffered spans
	// within ctx (once; later calls do nothing).
	stop func(ctx context.Context)
}

// startObservability registers the live hub's and the database pool's
// metrics, starts tracing as configured (off by default), and serves
// /metrics on its own address when one is set.
func (a *app) startObservability(ctx context.Context, getenv func(string) string, hub *live.Hub) (*observability, error) {
	// The two types have the same fields, so that the hub need not know
	// of Prometheus; the conversion stops compiling if they part.
	a.metrics.Live(func() metrics.LiveStats { return metrics.LiveStats(hub.Stats()) })
	if db := database.SQLDB(a.client); db != nil {
		name := "sqlite"
		if a.cfg.DatabaseURL != "" {
			name = "postgres"
		}
		a.metrics.DB(name, db)
	}
	tr, err := tracing.Start(ctx, a.cfg.OTLPEndpoint, getenv)
	if err != nil {
		return nil, fmt.Errorf("SWITCHBOARD_OTLP_ENDPOINT: %w", err)
	}
	if tr.Enabled {
		a.log.Info("tracing: exporting spans over OTLP/HTTP", "endpoint", tr.Endpoint)
	}
	o := &observability{tracing: tr}
	var msrv *httpserver.Server
	if a.cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", httpserver.MetricsHandler(a.metrics, a.cfg.MetricsToken))
		msrv, err = httpserver.Listen(a.cfg.MetricsAddr, mux, a.log)
		if err != nil {
			_ = tr.Shutdown(ctx, time.Second)
			return nil, fmt.Errorf("SWITCHBOARD_METRICS_ADDR: cannot listen on %s: %v", a.cfg.MetricsAddr, err)
		}
		a.log.Info("metrics are served apart", "addr", msrv.Addr().String()+"/metrics")
		go func() {
			if err := msrv.Serve(); err != nil {
				a.log.Error("metrics listener", "err", err)
			}
		}()
	}
	var once sync.Once
	o.stop = func(ctx context.Context) {
		once.Do(func() {
			if msrv != nil {
				_ = msrv.Shutdown(ctx)
			}
			if err := tr.Shutdown(ctx, 5*time.Second); err != nil {
				a.log.Warn("tracing: flushing spans", "err", err)
			}
		})
	}
	return o, nil
}

// shutdown stops the server within ctx's deadline: it stops accepting at
// once and lets in-flight requests (mutations included) finish, while the
// live connections, which never end on their own and which the HTTP
// server forgets once upgraded, are closed with 1001 so that their
// clients reconnect to another instance. It returns once the close frames
// are on the wire: the process exits right after.
func shutdown(ctx context.Context, srv *httpserver.Server, hub *live.Hub) error {
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	hub.Close()
	liveErr := hub.Wait(ctx)
	httpErr := <-done
	if liveErr == nil {
		// An upgrade that was under way when the hub closed is refused
		// with 1001 by its handler; wait for that too.
		liveErr = hub.Wait(ctx)
	}
	if liveErr != nil {
		liveErr = fmt.Errorf("live connections still closing: %w", liveErr)
	}
	return errors.Join(httpErr, liveErr)
}
