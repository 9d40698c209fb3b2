package httpserver

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/switchboardhq/switchboard/internal/apierr"
)

// readyTimeout bounds each readiness check.
const readyTimeout = 2 * time.Second

// readiness answers /readyz: 200 when every check passes, else 503 naming
// the failed ones, so that a load balancer stops sending traffic to an
// instance that cannot reach its database or Redis.
func readiness(checks map[string]func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names := make([]string, 0, len(checks))
		for name := range checks {
			names = append(names, name)
		}
		sort.Strings(names)
		status := map[string]string{}
		ready := true
		for _, name := range names {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			err := checks[name](ctx)
			cancel()
			if err != nil {
				ready = false
				status[name] = "unavailable"
				continue
			}
			status[name] = "ok"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !ready {
			// Not an error body (load balancers read the checks), but the
			// status of the code it stands for, from the one table.
			w.WriteHeader(apierr.HTTPStatus(apierr.Unavailable))
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ready": ready, "checks": status})
	})
}
