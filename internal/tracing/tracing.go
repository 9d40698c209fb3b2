// Package tracing sets up OpenTelemetry tracing: off by default (a no-op
// tracer, no exporter, nothing sent), and exporting spans over OTLP/HTTP
// when SWITCHBOARD_OTLP_ENDPOINT or the standard OTEL_EXPORTER_OTLP_ENDPOINT
// / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variables name a collector. The
// spans themselves are made where requests are handled (internal/httpserver).
package tracing

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ServiceName is the service.name of the spans unless OTEL_SERVICE_NAME
// says otherwise.
const ServiceName = "switchboard"

// Tracing is the tracer provider and how to flush it.
type Tracing struct {
	Provider trace.TracerProvider
	// Enabled tells whether spans are exported.
	Enabled bool
	// Endpoint is where spans go (empty when off or when the exporter
	// reads the standard variables itself).
	Endpoint string
	sdk      *sdktrace.TracerProvider
}

// Start returns tracing as configured: endpoint is SWITCHBOARD_OTLP_ENDPOINT
// (a URL such as http://collector:4318); getenv reads the standard OTEL_*
// variables. Without either, tracing is off.
func Start(ctx context.Context, endpoint string, getenv func(string) string) (*Tracing, error) {
	standard := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	if endpoint == "" && !standard {
		return &Tracing{Provider: noop.NewTracerProvider()}, nil
	}
	var opts []otlptracehttp.Option
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, err
		}
		// A base URL, like OTEL_EXPORTER_OTLP_ENDPOINT: traces go to
		// /v1/traces unless the URL names a path.
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces"
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	name := ServiceName
	if n := getenv("OTEL_SERVICE_NAME"); n != "" {
		name = n
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name))),
	)
	return &Tracing{Provider: sdk, Enabled: true, Endpoint: endpoint, sdk: sdk}, nil
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
