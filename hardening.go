package main

import (
	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/httpserver"
)

// queryLimits are the configured query limits. Whether introspection is
// allowed comes from httpserver.Options.Introspection, which also installs
// gqlgen's introspection extension.
func (a *app) queryLimits() *graph.QueryLimits {
	c := a.cfg
	return &graph.QueryLimits{
		MaxDepth:              c.MaxQueryDepth,
		MaxComplexity:         c.MaxQueryComplexity,
		MaxAliases:            c.MaxQueryAliases,
		MaxFields:             c.MaxQueryFields,
		MaxDirectivesPerField: c.MaxDirectivesPerField,
		MaxTokens:             c.MaxQueryTokens,
		MaxOperations:         c.MaxOperationsPerRequest,
	}
}

// serverOptions are the configured HTTP timeouts and TLS.
func (a *app) serverOptions() httpserver.ServerOptions {
	c := a.cfg
	return httpserver.ServerOptions{
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		TLSCert:           c.TLSCert,
		TLSKey:            c.TLSKey,
	}
}
