package app

import (
	"testing"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/httpserver"
)

// TestHardeningDefaults: the limits and timeouts the packages fall back on
// (graph.DefaultQueryLimits, httpserver.DefaultServerOptions) are the
// settings' defaults, so that the two cannot drift apart.
func TestHardeningDefaults(t *testing.T) {
	cfg, err := config.Read(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := *queryLimits(cfg); got != graph.DefaultQueryLimits {
		t.Errorf("query limits of the default settings %+v, graph.DefaultQueryLimits %+v", got, graph.DefaultQueryLimits)
	}
	if got := serverOptions(cfg); got != httpserver.DefaultServerOptions {
		t.Errorf("server options of the default settings %+v, httpserver.DefaultServerOptions %+v", got, httpserver.DefaultServerOptions)
	}
}
