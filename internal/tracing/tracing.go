// Package tracing sets up OpenTelemetry tracing: off by default (a no-op
// tracer, no exporter, nothing sent), and exporting spans over OTLP/HTTP
// when SWITCHBOARD_OTLP_ENDPOINT or the standard OTEL_EXPORTER_OTLP_ENDPOINT
// / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variables name a collector. The
// spans themselves are made where requests are handled (internal/httpserver).
//
// The exporter is this package's own (exporter.go, otlpjson.go), not the
// official otlptracehttp, which brought gRPC, genproto, grpc-gateway and
// x/net (105 packages) into the binary for an optional feature. It POSTs
// batches to {endpoint}/v1/traces in the JSON encoding of OTLP
// (Content-Type: application/json), which the OpenTelemetry Collector,
// Jaeger, Grafana Tempo and other OTLP/HTTP receivers accept as they do
// protobuf. OTLP over gRPC is not supported: to reach a gRPC-only backend,
// run a collector in between.
//
// Settings, read through Start's getenv (a TRACES_ variable wins over the
// general one):
//
//   - SWITCHBOARD_OTLP_ENDPOINT: a base URL (http://collector:4318);
//     /v1/traces is appended when it has no path, else it is used as is.
//     It wins over the standard variables.
//   - OTEL_EXPORTER_OTLP_ENDPOINT: a base URL; /v1/traces is appended to
//     its path.
//   - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full URL, used as is (/ when
//     it has no path).
//   - OTEL_EXPORTER_OTLP_[TRACES_]HEADERS: k=v,k2=v2, values URL-decoded,
//     sent with every request; neither logged nor put in errors.
//   - OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT: milliseconds a batch may take,
//     retries included (default 10000).
//   - OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION: gzip or none (the default).
//   - OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE: a PEM file of the CAs to
//     trust for https; OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_CERTIFICATE and
//     _CLIENT_KEY: a client certificate for mutual TLS.
//   - OTEL_SERVICE_NAME: the service.name resource attribute (default
//     switchboard).
//
// The URL's scheme (http or https) decides on TLS, so
// OTEL_EXPORTER_OTLP_INSECURE is not read; OTEL_EXPORTER_OTLP_PROTOCOL is
// not read either (the encoding is always JSON over HTTP). A request that
// gets 429, 502, 503 or 504 is retried up to 4 times, after the
// Retry-After the collector names or with exponential backoff from half a
// second, while the timeout lasts; other failures drop the batch, and the
// SDK's error handler logs them.
package tracing

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ServiceName is the service.name of the spans unless OTEL_SERVICE_NAME
// says otherwise.
const ServiceName = "switchboard"

// DefaultTimeout is how long a batch may take to export unless
// OTEL_EXPORTER_OTLP_TIMEOUT says otherwise.
const DefaultTimeout = 10 * time.Second

// Tracing is the tracer provider and how to flush it.
type Tracing struct {
	Provider trace.TracerProvider
	// Enabled tells whether spans are exported.
	Enabled bool
	// Endpoint is the URL spans are posted to, without its password if it
	// has one (empty when off).
	Endpoint string
	sdk      *sdktrace.TracerProvider
}

// Start returns tracing as configured: endpoint is SWITCHBOARD_OTLP_ENDPOINT
// (a URL such as http://collector:4318); getenv reads the standard OTEL_*
// variables. Without either, tracing is off.
func Start(ctx context.Context, endpoint string, getenv func(string) string) (*Tracing, error) {
	cfg, err := readConfig(endpoint, getenv)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return &Tracing{Provider: noop.NewTracerProvider()}, nil
	}
	name := ServiceName
	if n := getenv("OTEL_SERVICE_NAME"); n != "" {
		name = n
	}
	exp := newExporter(*cfg)
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name))),
	)
	return &Tracing{Provider: sdk, Enabled: true, Endpoint: exp.shown, sdk: sdk}, nil
}

// Shutdown sends the spans still buffered, within timeout and ctx.
func (t *Tracing) Shutdown(ctx context.Context, timeout time.Duration) error {
	if t.sdk == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return t.sdk.Shutdown(ctx)
}

// exporterConfig is what the settings say about the exporter.
type exporterConfig struct {
	url     *url.URL
	header  http.Header
	timeout time.Duration
	gzip    bool
	tls     *tls.Config
}

const tracesPath = "/v1/traces"

// readConfig reads the settings; nil without an endpoint.
func readConfig(endpoint string, getenv func(string) string) (*exporterConfig, error) {
	// lookup returns the TRACES_ variable when set, else the general one,
	// and the name of the one it read.
	lookup := func(name string) (string, string) {
		if v := getenv("OTEL_EXPORTER_OTLP_TRACES_" + name); v != "" {
			return v, "OTEL_EXPORTER_OTLP_TRACES_" + name
		}
		return getenv("OTEL_EXPORTER_OTLP_" + name), "OTEL_EXPORTER_OTLP_" + name
	}
	cfg := &exporterConfig{timeout: DefaultTimeout}
	var err error
	switch {
	case endpoint != "":
		// The caller names SWITCHBOARD_OTLP_ENDPOINT in its error.
		if cfg.url, err = parseEndpoint(endpoint); err != nil {
			return nil, err
		}
		if cfg.url.Path == "" || cfg.url.Path == "/" {
			cfg.url.Path = tracesPath
		}
	case getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "":
		if cfg.url, err = parseEndpoint(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")); err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: %w", err)
		}
		if cfg.url.Path == "" {
			cfg.url.Path = "/"
		}
	case getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "":
		if cfg.url, err = parseEndpoint(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
		}
		cfg.url.Path = path.Join("/", cfg.url.Path, tracesPath)
		cfg.url.RawPath = ""
	default:
		return nil, nil
	}
	if v, name := lookup("HEADERS"); v != "" {
		if cfg.header, err = parseHeaders(v); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if v, name := lookup("TIMEOUT"); v != "" {
		ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive number of milliseconds", name, v)
		}
		cfg.timeout = time.Duration(ms) * time.Millisecond
	}
	if v, name := lookup("COMPRESSION"); v != "" {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "gzip":
			cfg.gzip = true
		case "none":
		default:
			return nil, fmt.Errorf("%s: %q is neither gzip nor none", name, v)
		}
	}
	if cfg.tls, err = readTLS(lookup); err != nil {
		return nil, err
	}
	return cfg, nil
}

func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL (OTLP over gRPC is not supported)", u.Redacted())
	}
	return u, nil
}

// parseHeaders reads k=v,k2=v2 with URL-encoded values. Its errors name
// the entry by position, never by content: a value may be a secret.
func parseHeaders(s string) (http.Header, error) {
	h := http.Header{}
	for i, entry := range strings.Split(s, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		k = strings.TrimSpace(k)
		if !ok || !isToken(k) {
			return nil, fmt.Errorf("entry %d is not name=value with a valid header name", i+1)
		}
		v, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("the value of entry %d (%s) is not URL-encoded properly", i+1, k)
		}
		h.Set(k, strings.TrimSpace(v))
	}
	return h, nil
}

// isToken tells whether s is an HTTP header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// readTLS reads the CA and client certificate files; nil when none is set.
func readTLS(lookup func(string) (string, string)) (*tls.Config, error) {
	ca, caName := lookup("CERTIFICATE")
	certFile, certName := lookup("CLIENT_CERTIFICATE")
	keyFile, keyName := lookup("CLIENT_KEY")
	if ca == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca) // #nosec G304 -- the operator's own CA file setting
		if err != nil {
			return nil, fmt.Errorf("%s: %w", caName, err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in %s", caName, ca)
		}
	}
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, fmt.Errorf("%s and %s go together", certName, keyName)
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", certName, keyName, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
