// Package config defines Switchboard's settings (each one's environment
// variable, flag name, default and check), applies the defaults and checks
// them, so that a bad setting stops start-up with one readable line
// instead of a surprise later. Flags are internal/cli's.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/internal/database"
	"github.com/switchboardhq/switchboard/internal/gcfloor"
	"github.com/switchboardhq/switchboard/internal/live"
	"github.com/switchboardhq/switchboard/internal/search"
	"github.com/switchboardhq/switchboard/internal/wallboard"
	"github.com/switchboardhq/switchboard/internal/wstransport"
)

// Config holds every setting; docs/configuration.md lists them.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	// EncryptionKey is SWITCHBOARD_ENCRYPTION_KEY (never a flag: flags
	// show up in process lists).
	EncryptionKey string

	SignupEnabled          bool
	SessionIdleTimeout     time.Duration
	SessionAbsoluteTimeout time.Duration

	AllowedOrigins []string

	DefaultPageSize int
	DefaultGroup    string
	MaxPageSize     int
	Playground      bool

	// Hardening: production mode, query limits, HTTP timeouts and TLS
	// (see hardening.go).
	Hardening

	// PostgreSQL pool.
	DBMaxConns         int
	DBConnMaxLifetime  time.Duration
	DBStatementTimeout time.Duration
	DBRandomPageCost   string
	// Migrate applies pending migrations at start (PostgreSQL; the
	// embedded database always does).
	Migrate bool

	// Automatic persisted queries.
	APQCacheSize int
	APQTTL       time.Duration

	// Cache of hot reads (see internal/cache); CacheTTL 0 turns it off.
	CacheTTL    time.Duration
	CacheSize   int
	CachePrefix string
	// GCHeapFloor is the heap growth the garbage collector allows at least
	// (internal/gcfloor); 0 leaves Go's own pacing.
	GCHeapFloor int64

	// Rate limits, in cost units per minute (0: off).
	RateLimitUser     int
	RateLimitIP       int
	RateLimitFailOpen bool

	// TrustedProxies may set X-Forwarded-For (addresses or CIDR ranges).
	TrustedProxies []netip.Prefix

	// Live updates (see internal/live and internal/wstransport).
	RedisURL                string
	RedisOptional           bool
	EventRetention          time.Duration
	LivePollInterval        time.Duration
	LiveRevalidateInterval  time.Duration
	SubscriptionQueue       int
	WSInitTimeout           time.Duration
	WSKeepAlive             time.Duration
	WSOutboundQueue         int
	WSOutboundBytes         int
	MaxSubscriptionsPerConn int
	MaxConnectionsPerUser   int
	PresenceTTL             time.Duration
	WallboardCoalesce       time.Duration
	WallboardRefresh        time.Duration
	WallboardDueSoon        time.Duration

	// Files on tickets (attachments.go).
	Attachments

	// Outgoing mail (mail.go).
	Mail
	// The inbound mail listener (mail_inbound.go).
	MailInbound

	// Full-text search (internal/search).
	SearchLanguage       string
	SearchMaxQueryLength int
	SearchMaxCandidates  int

	ShutdownTimeout time.Duration
	LogFormat       string
	LogLevel        string

	// Observability (docs/production.md, Operations).
	MetricsAddr  string
	MetricsToken string
	OTLPEndpoint string
}

// LogJSON tells whether logs are JSON: as SWITCHBOARD_LOG_FORMAT says, by
// default in production.
func (c *Config) LogJSON() bool {
	return c.LogFormat == "json" || c.LogFormat == "" && c.Production()
}

// Setting describes one setting: its flag, environment variable and default.
type Setting struct {
	Flag, Env, Default, Usage string
	set                       func(c *Config, v string) error
}

// Defaults a package owns are read from it (its DefaultOptions or
// Default… values), so that each is written once; the documentation's
// tables are checked against them (docs/docs_test.go).

func itoa[N int | int64](n N) string { return strconv.FormatInt(int64(n), 10) }

// duration writes d as the documentation does: 24h, 30m, 1s, 1m30s.
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Settings lists every setting in the order of the documentation's tables
// (docs/configuration.md): the server's, the hardening ones, then live
// updates and the rest.
var Settings = slices.Concat(serverSettings, hardeningSettings, liveSettings, attachmentSettings, mailSettings, mailInboundSettings)

var serverSettings = []Setting{
	{"addr", "SWITCHBOARD_ADDR", ":8080", "address to listen on", func(c *Config, v string) error { c.Addr = v; return nil }},
	{"data-dir", "SWITCHBOARD_DATA_DIR", "./data", "directory of the embedded SQLite database", func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"database-url", "DATABASE_URL", "", "postgres://… for PostgreSQL; empty for SQLite in the data directory", func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
	{"db-max-conns", "SWITCHBOARD_DB_MAX_CONNS", itoa(database.DefaultPool.MaxConns), "PostgreSQL: most open connections per instance", intSetter(func(c *Config, n int) { c.DBMaxConns = n })},
	{"db-conn-max-lifetime", "SWITCHBOARD_DB_CONN_MAX_LIFETIME", duration(database.DefaultPool.ConnMaxLifetime), "PostgreSQL: connections older than this are replaced", durationSetter(func(c *Config, d time.Duration) { c.DBConnMaxLifetime = d })},
	{"db-statement-timeout", "SWITCHBOARD_DB_STATEMENT_TIMEOUT", duration(database.DefaultPool.StatementTimeout), "PostgreSQL: statements running longer are cancelled (unless DATABASE_URL sets statement_timeout)", durationSetter(func(c *Config, d time.Duration) { c.DBStatementTimeout = d })},
	{"db-random-page-cost", "SWITCHBOARD_DB_RANDOM_PAGE_COST", database.DefaultPool.RandomPageCost, "PostgreSQL: the planner's random_page_cost for Switchboard's sessions (1.1 suits SSDs; empty leaves the server's setting; a random_page_cost in DATABASE_URL wins)", func(c *Config, v string) error {
		if v != "" {
			if f, err := strconv.ParseFloat(v, 64); err != nil || f <= 0 {
				return fmt.Errorf("%q is not a positive number", v)
			}
		}
		c.DBRandomPageCost = v
		return nil
	}},
	{"migrate", "SWITCHBOARD_MIGRATE", "false", "PostgreSQL: apply pending database migrations at start (the embedded database always does); without it an instance whose database lacks migrations refuses to start", boolSetter(func(c *Config, b bool) { c.Migrate = b })},
	{"", "SWITCHBOARD_ENCRYPTION_KEY", "", "key(s) for confidential fields: id:base64 of 32 bytes, current first, comma-separated; embedded mode generates one into the data directory", func(c *Config, v string) error { c.EncryptionKey = v; return nil }},
	{"signup", "SWITCHBOARD_SIGNUP", "true", "allow anonymous callers to create customer accounts", boolSetter(func(c *Config, b bool) { c.SignupEnabled = b })},
	{"session-idle-timeout", "SWITCHBOARD_SESSION_IDLE_TIMEOUT", "30m", "end sessions unused for this long", durationSetter(func(c *Config, d time.Duration) { c.SessionIdleTimeout = d })},
	{"session-absolute-timeout", "SWITCHBOARD_SESSION_ABSOLUTE_TIMEOUT", "12h", "end sessions this long after sign-in", durationSetter(func(c *Config, d time.Duration) { c.SessionAbsoluteTimeout = d })},
	{"allowed-origins", "SWITCHBOARD_ALLOWED_ORIGINS", "", "comma-separated origins (https://desk.example.com) allowed to send cookie-authenticated requests besides the server's own", func(c *Config, v string) error {
		c.AllowedOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.Count(o, "/") != 2 {
					return fmt.Errorf("%q is not an origin such as https://desk.example.com", o)
				}
				c.AllowedOrigins = append(c.AllowedOrigins, o)
			}
		}
		return nil
	}},
	{"apq-cache-size", "SWITCHBOARD_APQ_CACHE_SIZE", "1000", "automatic persisted queries kept in memory (embedded mode)", intSetter(func(c *Config, n int) { c.APQCacheSize = n })},
	{"apq-ttl", "SWITCHBOARD_APQ_TTL", "24h", "how long Redis keeps an automatic persisted query (with REDIS_URL)", durationSetter(func(c *Config, d time.Duration) { c.APQTTL = d })},
	{"cache-ttl", "SWITCHBOARD_CACHE_TTL", "1m", "how long Redis keeps a cached session lookup or SLA policy (with REDIS_URL; in memory they live 500ms); 0 turns the cache off", durationSetter(func(c *Config, d time.Duration) { c.CacheTTL = d })},
	{"cache-size", "SWITCHBOARD_CACHE_SIZE", "10000", "cached entries kept in memory per instance", intSetter(func(c *Config, n int) { c.CacheSize = n })},
	{"gc-heap-floor", "SWITCHBOARD_GC_HEAP_FLOOR", itoa(int64(gcfloor.DefaultFloor)), "bytes the heap may grow by between garbage collections, at least: less CPU spent collecting for that much memory, once per process; 0 keeps Go's default pacing, and GOGC in the environment overrides it", int64Setter(func(c *Config, n int64) { c.GCHeapFloor = n })},
	{"cache-prefix", "SWITCHBOARD_CACHE_PREFIX", "switchboard:cache:", "prefix of the cache's Redis keys: the same on every instance of a deployment, different for deployments sharing one Redis", func(c *Config, v string) error { c.CachePrefix = v; return nil }},
	{"rate-limit-user", "SWITCHBOARD_RATE_LIMIT_USER", "1200", "cost units a signed-in user may spend a minute, also in one burst (a request costs 1 + its GraphQL complexity / 10); 0 turns it off", intSetter(func(c *Config, n int) { c.RateLimitUser = n })},
	{"rate-limit-ip", "SWITCHBOARD_RATE_LIMIT_IP", "2400", "cost units one client address may spend a minute (see --trusted-proxies); 0 turns it off", intSetter(func(c *Config, n int) { c.RateLimitIP = n })},
	{"rate-limit-fail-open", "SWITCHBOARD_RATE_LIMIT_FAIL_OPEN", "true", "when the limiter's Redis is down, let requests through (true) or refuse them with UNAVAILABLE (false)", boolSetter(func(c *Config, b bool) { c.RateLimitFailOpen = b })},
	{"trusted-proxies", "SWITCHBOARD_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For (for per-IP limits and logs) and X-Forwarded-Proto (for the Origin check) are believed", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if !strings.Contains(p, "/") {
				addr, err := netip.ParseAddr(p)
				if err != nil {
					return fmt.Errorf("%q is not an IP address or CIDR range", p)
				}
				p = netip.PrefixFrom(addr, addr.BitLen()).String()
			}
			prefix, err := netip.ParsePrefix(p)
			if err != nil {
				return fmt.Errorf("%q is not an IP address or CIDR range", p)
			}
			c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
		}
		return nil
	}},
	{"default-group", "SWITCHBOARD_DEFAULT_GROUP", "", "name of the group that tickets no routing rule places go to, made the default (and created if missing) at start when no group is the default yet; admins change it with setDefaultGroup", func(c *Config, v string) error { c.DefaultGroup = v; return nil }},
	{"default-page-size", "SWITCHBOARD_DEFAULT_PAGE_SIZE", "20", "page size of connections when first/last are not given", intSetter(func(c *Config, n int) { c.DefaultPageSize = n })},
	{"max-page-size", "SWITCHBOARD_MAX_PAGE_SIZE", "100", "largest first/last a client may ask for", intSetter(func(c *Config, n int) { c.MaxPageSize = n })},
	{"playground", "SWITCHBOARD_PLAYGROUND", "", "serve the GraphiQL playground at / (default: on in development, off in production)", optionalBoolSetter(func(c *Config) **bool { return &c.playground })},
}

var liveSettings = []Setting{
	{"redis-url", "REDIS_URL", "", "redis://… to fan live updates out between instances; empty for one process", func(c *Config, v string) error { c.RedisURL = v; return nil }},
	{"redis-optional", "SWITCHBOARD_REDIS_OPTIONAL", "false", "start even when Redis is unreachable, degraded (live updates by polling the log; presence and persisted queries local)", boolSetter(func(c *Config, b bool) { c.RedisOptional = b })},
	{"event-retention", "SWITCHBOARD_EVENT_RETENTION", duration(live.DefaultOptions().Retention), "how long the event log keeps events, so how far back subscriptions resume with after:", durationSetter(func(c *Config, d time.Duration) { c.EventRetention = d })},
	{"live-poll-interval", "SWITCHBOARD_LIVE_POLL_INTERVAL", duration(live.DefaultOptions().PollInterval), "how often each instance reads the event log without an announcement (the delay when one is lost)", durationSetter(func(c *Config, d time.Duration) { c.LivePollInterval = d })},
	{"live-revalidate-interval", "SWITCHBOARD_LIVE_REVALIDATE_INTERVAL", duration(live.DefaultOptions().RevalidateInterval), "how often live connections' sessions, tokens and groups are checked again", durationSetter(func(c *Config, d time.Duration) { c.LiveRevalidateInterval = d })},
	{"subscription-queue", "SWITCHBOARD_SUBSCRIPTION_QUEUE", itoa(live.DefaultOptions().SubscriberQueue), "events waiting for one subscription before it is disconnected as too slow", intSetter(func(c *Config, n int) { c.SubscriptionQueue = n })},
	{"ws-init-timeout", "SWITCHBOARD_WS_INIT_TIMEOUT", duration(wstransport.DefaultOptions().InitTimeout), "time a websocket client has to send connection_init (then 4408)", durationSetter(func(c *Config, d time.Duration) { c.WSInitTimeout = d })},
	{"ws-keepalive", "SWITCHBOARD_WS_KEEPALIVE", duration(wstransport.DefaultOptions().KeepAlive), "interval of websocket pings (graphql-transport-ws) and keep-alives (graphql-ws)", durationSetter(func(c *Config, d time.Duration) { c.WSKeepAlive = d })},
	{"ws-outbound-queue", "SWITCHBOARD_WS_OUTBOUND_QUEUE", itoa(wstransport.DefaultOptions().OutboundQueue), "messages waiting to be written to one websocket before it is disconnected as too slow (1013)", intSetter(func(c *Config, n int) { c.WSOutboundQueue = n })},
	{"ws-outbound-bytes", "SWITCHBOARD_WS_OUTBOUND_BYTES", itoa(wstransport.DefaultOptions().OutboundBytes), "bytes of messages waiting to be written to one websocket before it is disconnected as too slow (1013)", intSetter(func(c *Config, n int) { c.WSOutboundBytes = n })},
	{"max-subscriptions-per-connection", "SWITCHBOARD_MAX_SUBSCRIPTIONS_PER_CONNECTION", itoa(wstransport.DefaultOptions().MaxSubscriptions), "operations one websocket may run at once", intSetter(func(c *Config, n int) { c.MaxSubscriptionsPerConn = n })},
	{"max-connections-per-user", "SWITCHBOARD_MAX_CONNECTIONS_PER_USER", itoa(live.DefaultOptions().MaxConnectionsPerUser), "live connections (websockets, event streams) one user may hold on an instance", intSetter(func(c *Config, n int) { c.MaxConnectionsPerUser = n })},
	{"presence-ttl", "SWITCHBOARD_PRESENCE_TTL", duration(live.DefaultOptions().PresenceTTL), "how long a viewTicket heartbeat keeps an agent on a ticket's viewers", durationSetter(func(c *Config, d time.Duration) { c.PresenceTTL = d })},
	{"wallboard-coalesce", "SWITCHBOARD_WALLBOARD_COALESCE", duration(wallboard.DefaultOptions().Coalesce), "shortest time between two computations of a wallboard: changes within it are shown together", durationSetter(func(c *Config, d time.Duration) { c.WallboardCoalesce = d })},
	{"wallboard-refresh", "SWITCHBOARD_WALLBOARD_REFRESH", duration(wallboard.DefaultOptions().Refresh), "how often a subscribed wallboard is recomputed without any change (SLA clocks run out by themselves)", durationSetter(func(c *Config, d time.Duration) { c.WallboardRefresh = d })},
	{"wallboard-due-soon", "SWITCHBOARD_WALLBOARD_DUE_SOON", duration(wallboard.DefaultOptions().DueSoonWindow), "how far ahead a wallboard counts a first response or resolution as due soon", durationSetter(func(c *Config, d time.Duration) { c.WallboardDueSoon = d })},
	{"search-language", "SWITCHBOARD_SEARCH_LANGUAGE", "english", "search stemming and stop words: a PostgreSQL text search configuration (english, simple, german, …); SQLite stems only english; a change rebuilds the index at start", func(c *Config, v string) error { c.SearchLanguage = v; return nil }},
	{"search-max-query-length", "SWITCHBOARD_SEARCH_MAX_QUERY_LENGTH", itoa(search.DefaultMaxQueryLength), "longest search query, in characters", intSetter(func(c *Config, n int) { c.SearchMaxQueryLength = n })},
	{"search-max-candidates", "SWITCHBOARD_SEARCH_MAX_CANDIDATES", itoa(search.DefaultMaxCandidates), "most matching tickets a relevance-ordered search ranks (bounds its cost; sort:newest/oldest are not bounded)", intSetter(func(c *Config, n int) { c.SearchMaxCandidates = n })},
	{"shutdown-timeout", "SWITCHBOARD_SHUTDOWN_TIMEOUT", "10s", "how long to wait for in-flight requests on shutdown", durationSetter(func(c *Config, d time.Duration) { c.ShutdownTimeout = d })},
	{"log-format", "SWITCHBOARD_LOG_FORMAT", "", "text or json (default: json with SWITCHBOARD_ENV=production, else text)", func(c *Config, v string) error { c.LogFormat = v; return nil }},
	{"log-level", "SWITCHBOARD_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"metrics-addr", "SWITCHBOARD_METRICS_ADDR", "", "serve /metrics on this address of its own (e.g. 127.0.0.1:9090) instead of the main one", func(c *Config, v string) error { c.MetricsAddr = v; return nil }},
	{"", "SWITCHBOARD_METRICS_TOKEN", "", "if set, /metrics needs \"Authorization: Bearer <token>\"", func(c *Config, v string) error { c.MetricsToken = v; return nil }},
	{"otlp-endpoint", "SWITCHBOARD_OTLP_ENDPOINT", "", "OTLP/HTTP collector URL (http://collector:4318) to export traces to; tracing is off unless this or OTEL_EXPORTER_OTLP_ENDPOINT is set", func(c *Config, v string) error {
		if v != "" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return fmt.Errorf("%q is not a URL such as http://collector:4318", v)
		}
		c.OTLPEndpoint = v
		return nil
	}},
}

// Error is a bad setting: the program cannot run as configured. Its
// message names the setting.
type Error struct{ err error }

func (e *Error) Error() string { return e.err.Error() }
func (e *Error) Unwrap() error { return e.err }

// Errorf returns an *Error.
func Errorf(format string, args ...any) error { return &Error{fmt.Errorf(format, args...)} }

// Read reads every setting through value (an environment variable's
// value, or the flag that overrides it: internal/cli decides), applies the
// defaults of the unset ones and validates the whole. Its errors are
// *Error.
func Read(value func(env string) string) (*Config, error) {
	c := &Config{}
	for _, s := range Settings {
		v := value(s.Env)
		if v == "" {
			v = s.Default
		}
		if err := s.set(c, v); err != nil {
			return nil, Errorf("%s: %v", s.Env, err)
		}
	}
	if err := c.validate(); err != nil {
		return nil, &Error{err}
	}
	return c, nil
}

// IsBool tells whether the setting is on/off, so that its flag may be
// given bare (--redis-optional means --redis-optional=true).
func (s Setting) IsBool() bool {
	return s.Default == "true" || s.Default == "false" || optionalBool[s.Env]
}

func (c *Config) validate() error {
	if err := c.resolveHardening(); err != nil {
		return err
	}
	if err := c.validateAttachments(); err != nil {
		return err
	}
	if err := c.validateMail(); err != nil {
		return err
	}
	if err := c.validateMailInbound(); err != nil {
		return err
	}
	for env, d := range map[string]time.Duration{
		"SWITCHBOARD_DB_CONN_MAX_LIFETIME": c.DBConnMaxLifetime, "SWITCHBOARD_DB_STATEMENT_TIMEOUT": c.DBStatementTimeout,
		"SWITCHBOARD_EVENT_RETENTION": c.EventRetention, "SWITCHBOARD_LIVE_POLL_INTERVAL": c.LivePollInterval,
		"SWITCHBOARD_LIVE_REVALIDATE_INTERVAL": c.LiveRevalidateInterval, "SWITCHBOARD_WS_INIT_TIMEOUT": c.WSInitTimeout,
		"SWITCHBOARD_WS_KEEPALIVE": c.WSKeepAlive, "SWITCHBOARD_PRESENCE_TTL": c.PresenceTTL,
		"SWITCHBOARD_APQ_TTL": c.APQTTL, "SWITCHBOARD_WALLBOARD_COALESCE": c.WallboardCoalesce,
		"SWITCHBOARD_WALLBOARD_REFRESH": c.WallboardRefresh, "SWITCHBOARD_WALLBOARD_DUE_SOON": c.WallboardDueSoon,
	} {
		if d <= 0 {
			return fmt.Errorf("%s: must be a positive duration", env)
		}
	}
	for env, n := range map[string]int{
		"SWITCHBOARD_DB_MAX_CONNS": c.DBMaxConns, "SWITCHBOARD_SUBSCRIPTION_QUEUE": c.SubscriptionQueue,
		"SWITCHBOARD_WS_OUTBOUND_QUEUE": c.WSOutboundQueue, "SWITCHBOARD_WS_OUTBOUND_BYTES": c.WSOutboundBytes, "SWITCHBOARD_MAX_SUBSCRIPTIONS_PER_CONNECTION": c.MaxSubscriptionsPerConn,
		"SWITCHBOARD_MAX_CONNECTIONS_PER_USER": c.MaxConnectionsPerUser, "SWITCHBOARD_APQ_CACHE_SIZE": c.APQCacheSize,
		"SWITCHBOARD_CACHE_SIZE":              c.CacheSize,
		"SWITCHBOARD_SEARCH_MAX_QUERY_LENGTH": c.SearchMaxQueryLength, "SWITCHBOARD_SEARCH_MAX_CANDIDATES": c.SearchMaxCandidates,
	} {
		if n < 1 {
			return fmt.Errorf("%s: must be at least 1", env)
		}
	}
	if c.GCHeapFloor < 0 {
		return errors.New("SWITCHBOARD_GC_HEAP_FLOOR: must be 0 (off) or a number of bytes")
	}
	if c.CacheTTL < 0 {
		return errors.New("SWITCHBOARD_CACHE_TTL: must be 0 (off) or a positive duration")
	}
	if c.RateLimitUser < 0 || c.RateLimitIP < 0 {
		return errors.New("SWITCHBOARD_RATE_LIMIT_USER and SWITCHBOARD_RATE_LIMIT_IP: must be 0 (off) or more")
	}
	if err := search.ValidLanguage(c.SearchLanguage); err != nil {
		return fmt.Errorf("SWITCHBOARD_SEARCH_LANGUAGE: %v", err)
	}
	switch {
	case c.Addr == "":
		return errors.New("--addr / SWITCHBOARD_ADDR: must not be empty")
	case c.DatabaseURL == "" && c.DataDir == "":
		return errors.New("--data-dir / SWITCHBOARD_DATA_DIR: must not be empty")
	case c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		return errors.New("DATABASE_URL: must start with postgres:// (leave it empty for the embedded SQLite database)")
	case c.DatabaseURL != "" && c.EncryptionKey == "":
		return errors.New("SWITCHBOARD_ENCRYPTION_KEY is required with DATABASE_URL (make one with: switchboard keys generate)")
	case c.DefaultPageSize < 1:
		return errors.New("SWITCHBOARD_DEFAULT_PAGE_SIZE: must be at least 1")
	case c.MaxPageSize < c.DefaultPageSize:
		return errors.New("SWITCHBOARD_MAX_PAGE_SIZE: must be at least SWITCHBOARD_DEFAULT_PAGE_SIZE")
	case c.SessionIdleTimeout <= 0 || c.SessionAbsoluteTimeout <= 0:
		return errors.New("session timeouts must be positive durations such as 30m or 12h")
	case c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://"):
		return errors.New("REDIS_URL: must start with redis:// or rediss://")
	case c.ShutdownTimeout <= 0:
		return errors.New("SWITCHBOARD_SHUTDOWN_TIMEOUT: must be a positive duration")
	case c.LogFormat != "" && c.LogFormat != "text" && c.LogFormat != "json":
		return errors.New("SWITCHBOARD_LOG_FORMAT: must be text or json")
	case c.LogLevel != "debug" && c.LogLevel != "info" && c.LogLevel != "warn" && c.LogLevel != "error":
		return errors.New("SWITCHBOARD_LOG_LEVEL: must be debug, info, warn or error")
	}
	return nil
}

func boolSetter(f func(*Config, bool)) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		f(c, b)
		return nil
	}
}

func intSetter(f func(*Config, int)) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		f(c, n)
		return nil
	}
}

func durationSetter(f func(*Config, time.Duration)) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s, 10m or 12h", v)
		}
		f(c, d)
		return nil
	}
}
