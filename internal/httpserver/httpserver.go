// Package httpserver owns the HTTP surface: the GraphQL endpoint at /query,
// the GraphiQL playground at /, the wallboard page at /wallboard, health
// checks, request ids, and turning a bearer token into the viewer of the
// request.
package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/attachments"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/outbox"
	"github.com/switchboardhq/switchboard/internal/querycache"
	"github.com/switchboardhq/switchboard/internal/requestid"
	"github.com/switchboardhq/switchboard/internal/viewer"
	"github.com/switchboardhq/switchboard/internal/wstransport"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/web"
)

// Options configure the handler.
type Options struct {
	DefaultPageSize int
	MaxPageSize     int
	Playground      bool
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
	// AllowedOrigins may send cookie-authenticated requests (besides the
	// server's own origin), e.g. "https://desk.example.com", and open
	// websockets.
	AllowedOrigins []string
	// TrustedProxies may tell the client's address in X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// QueryCache stores automatic persisted queries (nil: an in-process
	// LRU of 1000).
	QueryCache graphql.Cache[string]
	// RateLimit limits operations per user and address (nil: off).
	RateLimit *graph.RateLimit
	// Checks are what /readyz checks (the database, Redis), by name.
	Checks map[string]func(context.Context) error
	// WebSocket configures subscriptions over websockets; the resolver's
	// Live hub serves them and event streams (SSE).
	WebSocket wstransport.Options
	// Metrics, if set, count requests and operations (see observe.go);
	// ServeMetrics serves them at /metrics, behind MetricsToken if set.
	Metrics      *metrics.Metrics
	ServeMetrics bool
	MetricsToken string
	// Tracer makes spans of requests and operations (nil: tracing off).
	Tracer trace.TracerProvider
	// Hardening: query limits (nil: graph.DefaultQueryLimits), the
	// deadline of queries and mutations, and what production mode turns
	// off.
	QueryLimits      *graph.QueryLimits
	OperationTimeout time.Duration
	Introspection    bool
	FieldSuggestions bool
	// Attachments serves uploads (multipart requests to /query) and
	// downloads (/attachments/…); nil: neither.
	Attachments *attachments.Service
	// Outbox serves the one-click unsubscribe of notification mails.
	Outbox *outbox.Outbox
}

// DefaultMaxBodyBytes is the largest request body accepted (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// Handler returns the HTTP handler of the whole server.
func Handler(log *slog.Logger, resolver *graph.Resolver, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Tracer == nil {
		opts.Tracer = noopTracer()
	}
	gql := handler.New(graph.NewSchema(resolver, opts.DefaultPageSize))
	gql.Use(newOperationObserver(log, opts.Metrics, opts.Tracer))
	ips := clientIPs{trusted: opts.TrustedProxies}
	ws := opts.WebSocket
	ws.AllowedOrigins = opts.AllowedOrigins
	ws.Scheme = ips.scheme
	gql.AddTransport(wstransport.New(resolver.Live, resolver.Auth, log, ws))
	if opts.QueryCache == nil {
		opts.QueryCache = querycache.NewMemory(1000)
	}
	gql.AddTransport(eventStream{hub: resolver.Live, keepAlive: ws.KeepAlive, queries: opts.QueryCache, maxTokens: queryLimits(opts).MaxTokens})
	gql.AddTransport(transport.Options{})
	if opts.Attachments != nil {
		gql.AddTransport(requestErrors{multipartUpload{svc: opts.Attachments, maxOperations: opts.MaxBodyBytes}})
	}
	gql.AddTransport(requestErrors{transport.GET{}})
	gql.AddTransport(requestErrors{transport.POST{}})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Introspection {
		gql.Use(extension.Introspection{})
	}
	gql.Use(extension.AutomaticPersistedQuery{Cache: opts.QueryCache})
	presenter := graph.WithRetryAfter(graph.ErrorPresenter(log))
	if !opts.FieldSuggestions {
		gql.SetDisableSuggestion(true)
		presenter = graph.WithoutSuggestions(presenter)
	}
	gql.SetErrorPresenter(presenter)
	gql.SetRecoverFunc(graph.RecoverFunc(log))
	// A field middleware is not called for scalar struct fields, which
	// the executor marshals at once (graph/codegen): none takes arguments.
	gql.AroundFields(graph.PageLimits(opts.DefaultPageSize, opts.MaxPageSize))
	gql.Use(graph.Complexity())
	gql.Use(queryLimits(opts))
	if opts.RateLimit != nil {
		gql.Use(*opts.RateLimit)
	}
	gql.AroundRootFields(graph.RestrictFilters())
	gql.AroundOperations(graph.RestrictSubscriptionFilters())
	if opts.OperationTimeout > 0 {
		gql.AroundResponses(graph.OperationDeadline(opts.OperationTimeout))
	}

	mux := http.NewServeMux()
	var uploadMax int64
	if svc := opts.Attachments; svc != nil {
		uploadMax = svc.Limits().MaxRequestBytes
		// Downloads are GETs without side effects, made by <a> and <img>
		// which cannot send the CSRF header: a cookie alone will do.
		mux.Handle("GET /attachments/{id}/{filename}", authenticateWith(log, resolver.Auth, ips, func(*http.Request) bool { return true }, download(svc)))
	}
	mux.Handle("/query", cors(opts.AllowedOrigins, limitBody(opts.MaxBodyBytes, uploadMax, checkRequest(uploadMax > 0, authenticate(log, resolver.Auth, opts.AllowedOrigins, ips, gql)))))
	if opts.Outbox != nil {
		mux.Handle(outbox.UnsubscribePath, unsubscribe(opts.Outbox, resolver.Client))
	}
	mux.Handle("GET /readyz", readiness(opts.Checks))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	// The wallboard page is a product page, not a developer tool: served
	// in production too, unlike the playground.
	wallboard := web.Handler()
	mux.Handle("GET "+web.WallboardPath, wallboard)
	mux.Handle("GET "+web.WallboardPath+"/", wallboard)
	if opts.Playground {
		// GraphiQL from files embedded in the binary: it works offline.
		pg := web.PlaygroundHandler()
		mux.Handle("GET "+web.PlaygroundPath+"{$}", pg)
		mux.Handle("GET "+web.PlaygroundAssets, pg)
	}
	if opts.Metrics != nil && opts.ServeMetrics {
		mux.Handle("GET /metrics", MetricsHandler(opts.Metrics, opts.MetricsToken))
	}
	return requestid.Middleware(observe(log, opts.Metrics, opts.Tracer, securityHeaders(mux)))
}

// authenticate puts the viewer of a bearer token or session cookie into
// the request context. A request without either is anonymous; a bad token
// is refused outright (401), so that a client with an expired session
// learns it at once. Cookie-authenticated requests must also pass the CSRF
// check; bearer requests need none (browsers never add them on their own).
func authenticate(log *slog.Logger, svc *auth.Service, allowedOrigins []string, ips clientIPs, next http.Handler) http.Handler {
	return authenticateWith(log, svc, ips, func(r *http.Request) bool {
		return sameOriginOrAllowed(r, ips.scheme(r), allowedOrigins)
	}, next)
}

// authenticateWith is authenticate with the CSRF check csrfOK of
// cookie-authenticated requests.
func authenticateWith(log *slog.Logger, svc *auth.Service, ips clientIPs, csrfOK func(*http.Request) bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &cookieWriter{ResponseWriter: w}
		w = cw
		ctx := auth.WithClient(r.Context(), auth.Client{UserAgent: r.UserAgent(), IP: ips.of(r)})
		ctx, cw.hint = graph.WithResponseHint(ctx)
		ctx = auth.WithCookieSink(ctx, cw.add)
		var signedIn *viewer.Viewer
		token, fromCookie := "", false
		if h := r.Header.Get("Authorization"); h != "" {
			var ok bool
			if token, ok = auth.BearerToken(h); !ok {
				writeError(w, apierr.Errorf(apierr.Unauthenticated, "Authorization header must be \"Bearer <token>\""))
				return
			}
		} else if c, err := r.Cookie(auth.SessionCookieName); err == nil && c.Value != "" {
			if !csrfOK(r) {
				writeError(w, apierr.Errorf(apierr.Forbidden, "cross-site request refused: send the %s header or call from an allowed origin", auth.CSRFHeader))
				return
			}
			token, fromCookie = c.Value, true
		}
		if token != "" {
			v, err := svc.Authenticate(ctx, token)
			if err != nil {
				var e *apierr.Error
				if errors.As(err, &e) && isWebsocket(r) {
					// Refused in the websocket protocol instead (4403).
					ctx = wstransport.WithCredentialsRefused(ctx, e.Message)
					next.ServeHTTP(w, r.WithContext(viewer.NewContext(ctx, nil)))
					return
				}
				if errors.As(err, &e) {
					if fromCookie {
						cw.add(auth.ClearedSessionCookie())
					}
					writeError(w, e)
					return
				}
				id := requestid.FromContext(ctx)
				log.ErrorContext(ctx, "authentication failed", "request_id", id, "err", err)
				if graph.DatabaseUnreachable(err) {
					e := apierr.Wrap(apierr.Unavailable, err, "the database is unavailable; try again shortly (request id %s)", id)
					e.RetryAfter = databaseRetry
					writeError(w, e)
					return
				}
				writeError(w, apierr.Wrap(apierr.Internal, err, "internal error (request id %s)", id))
				return
			}
			signedIn = v
		}
		ctx = viewer.NewContext(ctx, signedIn)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// databaseRetry is the Retry-After of a request refused because the
// database could not be reached while checking its credentials.
const databaseRetry = 5 * time.Second

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// sameOriginOrAllowed is the CSRF check of cookie-authenticated requests:
// the custom header, or an Origin that is the server's own or allowed.
// Browsers send Origin on cross-site requests, and cannot add the custom
// header cross-site without a CORS preflight.
func sameOriginOrAllowed(r *http.Request, scheme string, allowed []string) bool {
	if r.Header.Get(auth.CSRFHeader) != "" {
		return true
	}
	// Without an Origin there is no proof (the websocket check lets such
	// requests through: they come from non-browser clients).
	return r.Header.Get("Origin") != "" && wstransport.OriginAllowed(r, scheme, allowed)
}

// cookieWriter adds the cookies set while handling a request (login,
// logout) to the response headers before they are written.
type cookieWriter struct {
	http.ResponseWriter
	mu      sync.Mutex
	cookies []*http.Cookie
	written bool
	// hint is the status an operation asked for (429 when rate limited).
	hint *graph.ResponseHint
}

func (w *cookieWriter) add(c *http.Cookie) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cookies = append(w.cookies, c)
}

// flushCookies adds the cookies to the headers, once; it reports whether
// this was the first call (the headers are not written yet).
func (w *cookieWriter) flushCookies() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.written {
		return false
	}
	w.written = true
	for _, c := range w.cookies {
		http.SetCookie(w.ResponseWriter, c)
	}
	return true
}

func (w *cookieWriter) WriteHeader(status int) {
	if w.flushCookies() && w.hint != nil && status == http.StatusOK {
		if hinted, retryAfter := w.hint.Status(); hinted != 0 {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			status = hinted
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *cookieWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	first := !w.written
	w.mu.Unlock()
	if first {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Hijack hands the connection to the websocket transport.
func (w *cookieWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Flush sends what is buffered (event streams).
func (w *cookieWriter) Flush() {
	w.flushCookies()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *cookieWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// limitBody refuses bodies over max bytes with 413, before reading them
// when the length is declared, and cuts off undeclared ones at max.
// Multipart uploads (when uploadMax > 0) are streamed, not read here, and
// bounded by uploadMax instead.
func limitBody(max, uploadMax int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if uploadMax > 0 && r.Method == http.MethodPost && isMultipart(r) {
			if r.ContentLength > uploadMax {
				writeError(w, apierr.Errorf(apierr.PayloadTooLarge, "the request is larger than %d bytes (SWITCHBOARD_ATTACHMENTS_MAX_REQUEST_BYTES)", uploadMax))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, uploadMax)
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > max {
			writeError(w, apierr.Errorf(apierr.PayloadTooLarge, "request body is larger than %d bytes", max))
			return
		}
		// Bodies without a declared length are read here, within the
		// limit, so that an oversized one also gets 413.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, apierr.Errorf(apierr.PayloadTooLarge, "request body is larger than %d bytes", max))
			return
		}
		if err != nil {
			writeError(w, apierr.Wrap(apierr.BadUserInput, err, "reading the request body: %v", err))
			return
		}
		r.Body = readBody{bytes.NewReader(body), body}
		next.ServeHTTP(w, r)
	})
}

// readBody is a request body limitBody has read into memory: checks further
// in take its bytes instead of copying them again.
type readBody struct {
	*bytes.Reader
	data []byte
}

func (readBody) Close() error { return nil }

// bodyOf returns the request's body: the bytes limitBody read, or else
// the body read now (and put back for the handlers after).
func bodyOf(r *http.Request) ([]byte, error) {
	if b, ok := r.Body.(readBody); ok && b.Len() == len(b.data) {
		return b.data, nil
	}
	data, err := io.ReadAll(r.Body)
	r.Body = readBody{bytes.NewReader(data), data}
	return data, err
}

// writeError answers every HTTP request refused outside GraphQL execution
// (bad credentials, CSRF, body limits, request checks, event streams,
// metrics) with a GraphQL-shaped error body. The status is always the one
// of the error's code (apierr.HTTPStatus), never chosen here: the table of
// docs/errors.md. An error that is not an *apierr.Error is INTERNAL, and
// only its message is shown, never its cause.
func writeError(w http.ResponseWriter, err error) {
	var e *apierr.Error
	if !errors.As(err, &e) {
		e = apierr.Wrap(apierr.Internal, err, "internal error")
	}
	w.Header().Set("Content-Type", "application/json")
	if e.Code == apierr.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
	}
	// RATE_LIMITED always says when to try again; other codes when they
	// know (the database while checking credentials).
	if e.RetryAfter > 0 || e.Code == apierr.RateLimited {
		w.Header().Set("Retry-After", strconv.Itoa(apierr.RetrySeconds(e.RetryAfter)))
	}
	w.WriteHeader(apierr.HTTPStatus(e.Code))
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []*gqlerror.Error{graph.NewError(e)}})
}

// Server is the HTTP server with its timeouts.
type Server struct {
	http     *http.Server
	listener net.Listener
}

// Listen binds addr with the default timeouts; Addr then tells the bound
// address (useful with :0).
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	return ListenWith(addr, h, log, DefaultServerOptions)
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
