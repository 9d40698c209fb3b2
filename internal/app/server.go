package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/broker"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/httpserver"
	"github.com/switchboardhq/switchboard/internal/inbound"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/mail"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/outbox"
	"github.com/switchboardhq/switchboard/internal/presence"
	"github.com/switchboardhq/switchboard/internal/querycache"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
	"github.com/switchboardhq/switchboard/internal/routing"
	"github.com/switchboardhq/switchboard/internal/search"
	"github.com/switchboardhq/switchboard/internal/ticketing"
	"github.com/switchboardhq/switchboard/internal/tracing"
	"github.com/switchboardhq/switchboard/internal/viewer"
	"github.com/switchboardhq/switchboard/internal/wallboard"
	"github.com/switchboardhq/switchboard/internal/wstransport"
)

// Server is `switchboard serve`: everything built, nothing running until
// Run.
type Server struct {
	data *Data
	// redis is the client of the broker, presence, persisted queries and
	// rate limits; nil without REDIS_URL (or degraded).
	redis  redis.UniversalClient
	broker broker.Broker
	hub    *live.Hub
	// mailer delivers the outbox; nil without SWITCHBOARD_SMTP_URL.
	mailer *outbox.Worker
	// inbound takes mail on smtpLn; nil without SWITCHBOARD_SMTP_ADDR.
	inbound  *mail.Listener
	smtpLn   net.Listener
	tracing  *tracing.Tracing
	http     *httpserver.Server
	metrics  *httpserver.Server // nil unless SWITCHBOARD_METRICS_ADDR is set
	shutdown time.Duration
}

// NewServer builds the server on d and the bound listeners, in dependency
// order: Redis and the broker, the live hub (which reads the log's
// position), the ticket service that announces to it, wallboards,
// search, the GraphQL resolver, tracing, and the HTTP servers. getenv is
// read for the standard OTEL_ variables. On error, what was built is
// closed (the listeners too).
func NewServer(ctx context.Context, d *Data, ln *Listeners, getenv func(string) string) (s *Server, err error) {
	cfg := d.Config
	s = &Server{data: d, shutdown: cfg.ShutdownTimeout}
	built := s // s is nil once an error is returned
	defer func() {
		if err != nil {
			ln.Close()
			_ = built.closeShared(context.WithoutCancel(ctx))
		}
	}()
	if err := routing.EnsureDefaultGroup(ctx, d.Client, cfg.DefaultGroup); err != nil {
		return nil, err
	}
	var store presence.Store
	if s.broker, store, s.redis, err = connectRedis(ctx, d); err != nil {
		return nil, err
	}
	if s.redis != nil {
		// Password reset requests are counted across the instances of
		// this deployment (its cache prefix sets it apart from others on
		// the same Redis).
		d.Auth.SetResetLimiter(ratelimit.NewRedis(s.redis, cfg.CachePrefix+"limits:"))
	}
	s.hub = live.New(d.Client, s.broker, store, d.Auth, live.Options{
		Retention:             cfg.EventRetention,
		PollInterval:          cfg.LivePollInterval,
		RevalidateInterval:    cfg.LiveRevalidateInterval,
		SubscriberQueue:       cfg.SubscriptionQueue,
		MaxConnectionsPerUser: cfg.MaxConnectionsPerUser,
		PresenceTTL:           cfg.PresenceTTL,
		StaffOnlyFields:       graph.StaffOnlyFields("Ticket"),
		EventLag:              d.Metrics.EventLag,
	}, d.Log)
	if err := s.hub.Init(ctx); err != nil {
		return nil, err
	}
	if cfg.SMTP != nil {
		opts := cfg.Outbox
		opts.Sent, opts.Failed = d.Metrics.MailSent, d.Metrics.MailFailed
		s.mailer = outbox.NewWorker(d.Client, cfg.SMTP, opts, d.Log)
		d.Outbox.SetWake(s.mailer.Notify)
	}
	tickets := ticketing.New(d.Client, ticketing.Options{Announce: s.hub.Announce, Online: s.hub.AgentsOnline, Attachments: d.Attachments, Outbox: d.Outbox})
	if ln.SMTP != nil {
		s.inbound, s.smtpLn = newInbound(d, tickets), ln.SMTP
	}
	resolver := &graph.Resolver{
		Client: d.Client, Auth: d.Auth, Tickets: tickets, Live: s.hub, MaxPageSize: cfg.MaxPageSize, Attachments: d.Attachments, Outbox: d.Outbox,
		Search: search.New(d.Client, Dialect(cfg), search.Options{
			Language: cfg.SearchLanguage, MaxQueryLength: cfg.SearchMaxQueryLength, MaxCandidates: cfg.SearchMaxCandidates,
		}),
		Wallboards: wallboard.New(d.Client, s.hub, wallboard.Options{
			Coalesce: cfg.WallboardCoalesce, Refresh: cfg.WallboardRefresh, DueSoonWindow: cfg.WallboardDueSoon,
		}),
	}
	// The two types have the same fields, so that the hub need not know
	// of Prometheus; the conversion stops compiling if they part.
	d.Metrics.Live(func() metrics.LiveStats { return metrics.LiveStats(s.hub.Stats()) })
	name := "sqlite"
	if cfg.DatabaseURL != "" {
		name = "postgres"
	}
	d.Metrics.DB(name, d.DB)
	if s.tracing, err = tracing.Start(ctx, cfg.OTLPEndpoint, getenv); err != nil {
		return nil, config.Errorf("tracing: %v", err)
	}
	if s.tracing.Enabled {
		d.Log.Info("tracing: exporting spans over OTLP/HTTP", "endpoint", s.tracing.Endpoint)
	}
	handler := httpserver.Handler(d.Log, resolver, httpserver.Options{
		DefaultPageSize: cfg.DefaultPageSize,
		MaxPageSize:     cfg.MaxPageSize,
		Playground:      cfg.Playground,
		AllowedOrigins:  cfg.AllowedOrigins,
		TrustedProxies:  cfg.TrustedProxies,
		Checks:          s.readinessChecks(),
		QueryCache:      s.queryCache(),
		RateLimit:       s.rateLimit(),
		Metrics:         d.Metrics,
		ServeMetrics:    cfg.MetricsAddr == "",
		MetricsToken:    cfg.MetricsToken,
		Tracer:          s.tracing.Provider,
		WebSocket: wstransport.Options{
			InitTimeout:      cfg.WSInitTimeout,
			KeepAlive:        cfg.WSKeepAlive,
			OutboundQueue:    cfg.WSOutboundQueue,
			OutboundBytes:    cfg.WSOutboundBytes,
			MaxSubscriptions: cfg.MaxSubscriptionsPerConn,
		},
		MaxBodyBytes:     cfg.MaxBodyBytes,
		QueryLimits:      queryLimits(cfg),
		OperationTimeout: cfg.OperationTimeout,
		Introspection:    cfg.Introspection,
		FieldSuggestions: cfg.FieldSuggestions,
		Attachments:      d.Attachments,
		Outbox:           d.Outbox,
	})
	if s.http, err = httpserver.NewServer(ln.HTTP, handler, d.Log, serverOptions(cfg)); err != nil {
		return nil, config.Errorf("%v", err)
	}
	if ln.Metrics != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", httpserver.MetricsHandler(d.Metrics, cfg.MetricsToken))
		s.metrics, _ = httpserver.NewServer(ln.Metrics, mux, d.Log, httpserver.DefaultServerOptions)
	}
	return s, nil
}

// newInbound is the listener of inbound mail, delivering to tickets.
func newInbound(d *Data, tickets *ticketing.Service) *mail.Listener {
	cfg := d.Config
	addresses := cfg.InboundAddresses
	if len(addresses) == 0 {
		addresses = map[string]string{d.Outbox.ReplyAddress(): ""}
	}
	svc := inbound.New(d.Client, tickets, d.Attachments, d.Outbox.Tokens(), addresses, d.Outbox.Domain(), d.Log)
	svc.Received = d.Metrics.MailReceived
	opts := cfg.Listener
	opts.Log = d.Log
	return mail.NewListener(opts, svc, svc.Ours)
}

// queryLimits are the GraphQL limits of the settings.
func queryLimits(cfg *config.Config) *graph.QueryLimits {
	return &graph.QueryLimits{
		MaxDepth:              cfg.MaxQueryDepth,
		MaxComplexity:         cfg.MaxQueryComplexity,
		MaxAliases:            cfg.MaxQueryAliases,
		MaxFields:             cfg.MaxQueryFields,
		MaxDirectivesPerField: cfg.MaxDirectivesPerField,
		MaxTokens:             cfg.MaxQueryTokens,
		MaxOperations:         cfg.MaxOperationsPerRequest,
	}
}

// serverOptions are the API server's timeouts and TLS files of the
// settings.
func serverOptions(cfg *config.Config) httpserver.ServerOptions {
	return httpserver.ServerOptions{
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		TLSCert:           cfg.TLSCert,
		TLSKey:            cfg.TLSKey,
	}
}

// Addr is the address the API is served on.
func (s *Server) Addr() net.Addr { return s.http.Addr() }

// Run serves until ctx ends, then shuts down within
// SWITCHBOARD_SHUTDOWN_TIMEOUT, and returns once every goroutine it
// started has returned. The shutdown order, the one place it is written:
//
//  1. The API stops accepting and lets in-flight requests (mutations
//     included) finish. At the same time the live connections, which
//     never end on their own and which the HTTP server forgets once
//     upgraded, are closed with 1001 so that their clients reconnect to
//     another instance, and waited for until their close frames are on
//     the wire.
//  2. The metrics listener stops (it is scraped until then).
//  3. The hub's loops, the attachments' sweeper and the outbox's worker
//     stop, and are joined (a mail being sent is finished and recorded,
//     or given back for the next worker).
//  4. The broker (its receiving loop joined by Close), presence and the
//     Redis client close: nothing uses them any more.
//  5. Tracing flushes the spans of all the above.
//
// The cache and the database are Data's, closed by the caller after Run.
func (s *Server) Run(ctx context.Context) error {
	log := s.data.Log
	if s.metrics != nil {
		log.Info("metrics are served apart", "addr", s.metrics.Addr().String()+"/metrics")
	}
	cfg := s.data.Config
	log.Info("switchboard is serving", "addr", s.Addr().String(), "tls", cfg.TLSCert != "", "env", cfg.Env,
		"playground", cfg.Playground, "database", DatabaseKind(cfg))
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHub()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.hub.Run(hubCtx) })
	g.Go(func() error { return s.data.Attachments.Run(hubCtx) })
	if s.mailer != nil {
		log.Info("mail: delivering the outbox", "smtp", s.data.Config.SMTP.Addr(), "from", cfg.MailFrom)
		g.Go(func() error { return s.mailer.Run(hubCtx) })
	} else {
		log.Warn("mail: SWITCHBOARD_SMTP_URL is not set: no mail is sent; mails (replies to customers, password resets) wait in the outbox until it is")
	}
	g.Go(s.http.Serve)
	if s.metrics != nil {
		g.Go(s.metrics.Serve)
	}
	if s.inbound != nil {
		log.Info("mail: taking inbound mail", "addr", s.smtpLn.Addr().String(), "lmtp", cfg.Listener.LMTP)
		g.Go(func() error { return s.inbound.Serve(s.smtpLn) })
	}
	// The deadline starts when the shutdown does; g.Wait orders its
	// setting before its use below.
	var dctx context.Context
	var cancel context.CancelFunc
	g.Go(func() error {
		<-gctx.Done() // ctx ended, or a server failed
		log.Info("shutting down", "deadline", s.shutdown.String())
		dctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), s.shutdown) // #nosec G118 -- cancelled after g.Wait, below
		err := s.stopServing(dctx)
		if s.inbound != nil {
			// Mails being received finish (their senders get an answer);
			// new connections are refused.
			err = errors.Join(err, s.inbound.Shutdown(dctx))
			s.inbound.Close()
		}
		if s.metrics != nil {
			err = errors.Join(err, s.metrics.Shutdown(dctx))
		}
		stopHub()
		return err
	})
	err := g.Wait()
	defer cancel()
	return errors.Join(err, s.closeShared(dctx))
}

// stopServing is step 1 of the shutdown.
func (s *Server) stopServing(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.http.Shutdown(ctx) }()
	s.hub.Close()
	liveErr := s.hub.Wait(ctx)
	httpErr := <-done
	if liveErr == nil {
		// An upgrade that was under way when the hub closed is refused
		// with 1001 by its handler; wait for that too.
		liveErr = s.hub.Wait(ctx)
	}
	if liveErr != nil {
		liveErr = fmt.Errorf("live connections still closing: %w", liveErr)
	}
	if httpErr != nil {
		httpErr = fmt.Errorf("shutdown: %w", httpErr)
	}
	return errors.Join(httpErr, liveErr)
}

// closeShared is steps 4 and 5 of the shutdown (and undoes a NewServer
// that failed half-way).
func (s *Server) closeShared(ctx context.Context) error {
	if s.broker != nil {
		_ = s.broker.Close()
	}
	if s.redis != nil {
		_ = s.redis.Close()
	}
	if s.tracing != nil {
		if err := s.tracing.Shutdown(ctx, 5*time.Second); err != nil {
			s.data.Log.Warn("tracing: flushing spans", "err", err)
		}
	}
	return nil
}

// connectRedis returns the broker and presence store of the settings:
// Redis with REDIS_URL, in-process otherwise (or when Redis is
// unreachable and --redis-optional is set).
func connectRedis(ctx context.Context, d *Data) (broker.Broker, presence.Store, redis.UniversalClient, error) {
	cfg := d.Config
	if cfg.RedisURL == "" {
		return broker.NewMemory(), presence.NewMemory(), nil, nil
	}
	rdb, err := broker.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, nil, config.Errorf("REDIS_URL: %v", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	rb, err := broker.NewRedis(sctx, rdb, broker.DefaultChannel)
	cancel()
	switch {
	case err != nil && cfg.RedisOptional:
		_ = rdb.Close()
		d.Log.Warn("Redis is unreachable: running degraded until restarted (live updates by reading the event log, presence and persisted queries local to this instance)", "err", err)
		return broker.NewMemory(), presence.NewMemory(), nil, nil
	case err != nil:
		_ = rdb.Close()
		return nil, nil, nil, config.Errorf("REDIS_URL: %v (start with --redis-optional to run without it)", err)
	}
	return rb, presence.NewRedis(rdb, presence.DefaultPrefix), rdb, nil
}

// queryCache stores automatic persisted queries: in Redis when configured
// (shared by all instances), else in memory.
func (s *Server) queryCache() graphql.Cache[string] {
	cfg := s.data.Config
	if s.redis != nil {
		return querycache.NewRedis(s.redis, querycache.DefaultPrefix, cfg.APQTTL, s.data.Log)
	}
	return querycache.NewMemory(cfg.APQCacheSize)
}

// rateLimit limits operations per user and address, in Redis when
// configured (limits then hold across instances), else in memory.
func (s *Server) rateLimit() *graph.RateLimit {
	cfg := s.data.Config
	if cfg.RateLimitUser == 0 && cfg.RateLimitIP == 0 {
		return nil
	}
	var limiter ratelimit.Limiter = ratelimit.NewMemory()
	if s.redis != nil {
		limiter = ratelimit.NewRedis(s.redis, ratelimit.DefaultPrefix)
	}
	return &graph.RateLimit{
		Limiter:  limiter,
		User:     ratelimit.PerMinute(cfg.RateLimitUser),
		IP:       ratelimit.PerMinute(cfg.RateLimitIP),
		FailOpen: cfg.RateLimitFailOpen,
		Log:      s.data.Log,
	}
}

// readinessChecks are what /readyz checks: the database, the
// attachments' storage, and Redis when configured.
func (s *Server) readinessChecks() map[string]func(context.Context) error {
	client := s.data.Client
	checks := map[string]func(context.Context) error{
		"database": func(ctx context.Context) error {
			_, err := client.Sequence.Query().Exist(viewer.SystemContext(ctx))
			return err
		},
	}
	if files := s.data.Attachments; files != nil {
		checks["attachments"] = files.Store().Check
	}
	if rdb := s.redis; rdb != nil {
		checks["redis"] = func(ctx context.Context) error { return rdb.Ping(ctx).Err() }
	}
	return checks
}
