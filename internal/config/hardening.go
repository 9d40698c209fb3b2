package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard/graph"
	"github.com/switchboardhq/switchboard/internal/httpserver"
)

// Hardening holds the settings that protect the server from abusive or
// careless clients: production mode (what the API reveals about itself),
// the query limits checked before any resolver runs, the HTTP server's
// timeouts and TLS.
type Hardening struct {
	// Env is "development" or "production".
	Env string
	// Introspection and FieldSuggestions ("Did you mean …") are on in
	// development and off in production unless set explicitly.
	Introspection    bool
	FieldSuggestions bool

	// Query limits.
	MaxBodyBytes            int64
	MaxQueryDepth           int
	MaxQueryComplexity      int
	MaxQueryAliases         int
	MaxQueryFields          int
	MaxDirectivesPerField   int
	MaxQueryTokens          int
	MaxOperationsPerRequest int
	OperationTimeout        time.Duration

	// HTTP server timeouts.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration

	// TLSCert and TLSKey are PEM files; with both set the server speaks
	// HTTPS (and sends HSTS).
	TLSCert string
	TLSKey  string

	// Tri-state settings: nil follows Env.
	playground, introspection, fieldSuggestions *bool
}

// The environments of SWITCHBOARD_ENV.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Production reports whether the server runs in production mode.
func (h Hardening) Production() bool { return h.Env == EnvProduction }

// hardeningSettings are the settings of Hardening.
var hardeningSettings = []Setting{
	{"env", "SWITCHBOARD_ENV", EnvDevelopment, "development or production: production turns introspection, the playground and field suggestions off unless set explicitly, and logs JSON unless SWITCHBOARD_LOG_FORMAT says otherwise", func(c *Config, v string) error { c.Env = v; return nil }},
	{"introspection", "SWITCHBOARD_INTROSPECTION", "", "answer introspection queries (__schema, __type) (default: on in development, off in production)", optionalBoolSetter(func(c *Config) **bool { return &c.introspection })},
	{"field-suggestions", "SWITCHBOARD_FIELD_SUGGESTIONS", "", "add \"Did you mean …\" suggestions to validation errors (default: on in development, off in production)", optionalBoolSetter(func(c *Config) **bool { return &c.fieldSuggestions })},
	{"max-body-bytes", "SWITCHBOARD_MAX_BODY_BYTES", itoa(httpserver.DefaultMaxBodyBytes), "largest request body; larger ones get 413 PAYLOAD_TOO_LARGE", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		c.MaxBodyBytes = n
		return nil
	}},
	{"max-query-depth", "SWITCHBOARD_MAX_QUERY_DEPTH", itoa(graph.DefaultQueryLimits.MaxDepth), "deepest nesting of fields in an operation (fragments expanded)", intSetter(func(c *Config, n int) { c.MaxQueryDepth = n })},
	{"max-query-complexity", "SWITCHBOARD_MAX_QUERY_COMPLEXITY", itoa(graph.DefaultQueryLimits.MaxComplexity), "highest complexity of an operation: each field costs 1 plus its children, connections multiply their children by first/last (or the default page size)", intSetter(func(c *Config, n int) { c.MaxQueryComplexity = n })},
	{"max-query-aliases", "SWITCHBOARD_MAX_QUERY_ALIASES", itoa(graph.DefaultQueryLimits.MaxAliases), "aliases in one operation", intSetter(func(c *Config, n int) { c.MaxQueryAliases = n })},
	{"max-query-fields", "SWITCHBOARD_MAX_QUERY_FIELDS", itoa(graph.DefaultQueryLimits.MaxFields), "field selections in one operation, repeated ones and those of fragments included", intSetter(func(c *Config, n int) { c.MaxQueryFields = n })},
	{"max-directives-per-field", "SWITCHBOARD_MAX_DIRECTIVES_PER_FIELD", itoa(graph.DefaultQueryLimits.MaxDirectivesPerField), "directives on one field, fragment spread or inline fragment", intSetter(func(c *Config, n int) { c.MaxDirectivesPerField = n })},
	{"max-query-tokens", "SWITCHBOARD_MAX_QUERY_TOKENS", itoa(graph.DefaultQueryLimits.MaxTokens), "lexical tokens in a query document, counted before it is parsed", intSetter(func(c *Config, n int) { c.MaxQueryTokens = n })},
	{"max-operations-per-request", "SWITCHBOARD_MAX_OPERATIONS_PER_REQUEST", itoa(graph.DefaultQueryLimits.MaxOperations), "operation definitions in one document (batches of JSON arrays are not accepted at all)", intSetter(func(c *Config, n int) { c.MaxOperationsPerRequest = n })},
	{"operation-timeout", "SWITCHBOARD_OPERATION_TIMEOUT", "30s", "deadline of one query or mutation (not subscriptions); fields still resolving then fail with TIMEOUT", durationSetter(func(c *Config, d time.Duration) { c.OperationTimeout = d })},
	{"read-header-timeout", "SWITCHBOARD_READ_HEADER_TIMEOUT", duration(httpserver.DefaultServerOptions.ReadHeaderTimeout), "time a client has to send a request's headers", durationSetter(func(c *Config, d time.Duration) { c.ReadHeaderTimeout = d })},
	{"read-timeout", "SWITCHBOARD_READ_TIMEOUT", duration(httpserver.DefaultServerOptions.ReadTimeout), "time a client has to send a whole request", durationSetter(func(c *Config, d time.Duration) { c.ReadTimeout = d })},
	{"write-timeout", "SWITCHBOARD_WRITE_TIMEOUT", duration(httpserver.DefaultServerOptions.WriteTimeout), "time to write a response (event streams and websockets set their own deadlines)", durationSetter(func(c *Config, d time.Duration) { c.WriteTimeout = d })},
	{"idle-timeout", "SWITCHBOARD_IDLE_TIMEOUT", duration(httpserver.DefaultServerOptions.IdleTimeout), "how long an idle keep-alive connection is kept", durationSetter(func(c *Config, d time.Duration) { c.IdleTimeout = d })},
	{"tls-cert", "SWITCHBOARD_TLS_CERT", "", "PEM certificate (chain) file: serve HTTPS with --tls-key", func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{"tls-key", "SWITCHBOARD_TLS_KEY", "", "PEM private key file of --tls-cert", func(c *Config, v string) error { c.TLSKey = v; return nil }},
}

// resolveHardening applies production mode's defaults and checks the
// hardening settings.
func (c *Config) resolveHardening() error {
	if c.Env != EnvDevelopment && c.Env != EnvProduction {
		return fmt.Errorf("SWITCHBOARD_ENV: %q is not development or production", c.Env)
	}
	dev := !c.Production()
	c.Playground = orDefault(c.playground, dev)
	c.Introspection = orDefault(c.introspection, dev)
	c.FieldSuggestions = orDefault(c.fieldSuggestions, dev)
	for env, n := range map[string]int{
		"SWITCHBOARD_MAX_QUERY_DEPTH": c.MaxQueryDepth, "SWITCHBOARD_MAX_QUERY_COMPLEXITY": c.MaxQueryComplexity,
		"SWITCHBOARD_MAX_QUERY_ALIASES": c.MaxQueryAliases, "SWITCHBOARD_MAX_QUERY_FIELDS": c.MaxQueryFields,
		"SWITCHBOARD_MAX_DIRECTIVES_PER_FIELD": c.MaxDirectivesPerField, "SWITCHBOARD_MAX_QUERY_TOKENS": c.MaxQueryTokens,
		"SWITCHBOARD_MAX_OPERATIONS_PER_REQUEST": c.MaxOperationsPerRequest,
	} {
		if n < 1 {
			return fmt.Errorf("%s: must be at least 1", env)
		}
	}
	if c.MaxBodyBytes < 1024 {
		return errors.New("SWITCHBOARD_MAX_BODY_BYTES: must be at least 1024")
	}
	for env, d := range map[string]time.Duration{
		"SWITCHBOARD_OPERATION_TIMEOUT": c.OperationTimeout, "SWITCHBOARD_READ_HEADER_TIMEOUT": c.ReadHeaderTimeout,
		"SWITCHBOARD_READ_TIMEOUT": c.ReadTimeout, "SWITCHBOARD_WRITE_TIMEOUT": c.WriteTimeout, "SWITCHBOARD_IDLE_TIMEOUT": c.IdleTimeout,
	} {
		if d <= 0 {
			return fmt.Errorf("%s: must be a positive duration", env)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key (SWITCHBOARD_TLS_CERT, SWITCHBOARD_TLS_KEY): set both or neither")
	}
	for env, path := range map[string]string{"SWITCHBOARD_TLS_CERT": c.TLSCert, "SWITCHBOARD_TLS_KEY": c.TLSKey} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s: %v", env, err)
		}
	}
	return nil
}

// optionalBool names the tri-state settings, which may also be given as
// bare flags.
var optionalBool = map[string]bool{"SWITCHBOARD_PLAYGROUND": true, "SWITCHBOARD_INTROSPECTION": true, "SWITCHBOARD_FIELD_SUGGESTIONS": true}

func orDefault(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// optionalBoolSetter sets a tri-state setting: empty leaves it unset.
func optionalBoolSetter(field func(*Config) **bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v == "" {
			*field(c) = nil
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = &b
		return nil
	}
}
