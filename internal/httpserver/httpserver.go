// Package httpserver owns the HTTP surface: the GraphQL endpoint at /query,
// the GraphiQL playground at /, health checks, request ids, and turning a
// bearer token into the viewer of the request.
package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/requestid"
	"github.com/switchboardhq/switchboard/internal/viewer"

	"github.com/switchboardhq/switchboard/graph"
)

// Options configure the handler.
type Options struct {
	DefaultPageSize int
	MaxPageSize     int
	Playground      bool
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes is the largest request body accepted (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// Handler returns the HTTP handler of the whole server.
func Handler(log *slog.Logger, resolver *graph.Resolver, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	gql := handler.New(graph.NewSchema(resolver))
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.Use(extension.Introspection{})
	gql.SetErrorPresenter(graph.ErrorPresenter(log))
	gql.SetRecoverFunc(graph.RecoverFunc(log))
	gql.AroundFields(graph.PageLimits(opts.DefaultPageSize, opts.MaxPageSize))

	mux := http.NewServeMux()
	mux.Handle("/query", limitBody(opts.MaxBodyBytes, authenticate(log, resolver.Auth, gql)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	if opts.Playground {
		mux.Handle("GET /{$}", playground.Handler("Switchboard", "/query"))
	}
	return requestid.Middleware(mux)
}

// authenticate puts the viewer of a bearer token into the request context.
// A request without a token is anonymous; a bad token is refused outright
// (401), so that a client with an expired session learns it at once.
func authenticate(log *slog.Logger, svc *auth.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := auth.WithClient(r.Context(), auth.Client{UserAgent: r.UserAgent(), IP: clientIP(r)})
		var signedIn *viewer.Viewer
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := auth.BearerToken(h)
			if !ok {
				writeError(w, http.StatusUnauthorized, apierr.Errorf(apierr.Unauthenticated, "Authorization header must be \"Bearer <token>\""))
				return
			}
			v, err := svc.Authenticate(ctx, token)
			if err != nil {
				var e *apierr.Error
				if errors.As(err, &e) {
					writeError(w, http.StatusUnauthorized, e)
					return
				}
				id := requestid.FromContext(ctx)
				log.ErrorContext(ctx, "authentication failed", "request_id", id, "err", err)
				writeError(w, http.StatusInternalServerError, apierr.Errorf(apierr.Internal, "internal error (request id %s)", id))
				return
			}
			signedIn = v
		}
		ctx = viewer.NewContext(ctx, signedIn)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// limitBody refuses bodies over max bytes with 413, before reading them
// when the length is declared, and cuts off undeclared ones at max.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeError(w, http.StatusRequestEntityTooLarge, apierr.Errorf(apierr.BadUserInput, "request body is larger than %d bytes", max))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// writeError answers with a GraphQL-shaped error body.
func writeError(w http.ResponseWriter, status int, e *apierr.Error) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": e.Message, "extensions": map[string]any{"code": e.Code}}},
	})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Server is the HTTP server with its timeouts.
type Server struct {
	http     *http.Server
	listener net.Listener
}

// Listen binds addr; Addr then tells the bound address (useful with :0).
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Server{
		listener: ln,
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	err := s.http.Serve(s.listener)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }
