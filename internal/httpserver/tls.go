package httpserver

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/switchboardhq/switchboard/graph"
)

// ServerOptions are the HTTP server's timeouts and TLS.
type ServerOptions struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// TLSCert and TLSKey are PEM files; with both set the server speaks
	// HTTPS only (TLS 1.2 or later).
	TLSCert, TLSKey string
}

// DefaultServerOptions are the timeouts of the settings' defaults.
var DefaultServerOptions = ServerOptions{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       120 * time.Second,
}

// ListenWith binds addr with the given timeouts, and TLS when configured.
func ListenWith(addr string, h http.Handler, log *slog.Logger, opts ServerOptions) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s, err := NewServer(ln, h, log, opts)
	if err != nil {
		_ = ln.Close()
	}
	return s, err
}

// NewServer serves h on ln, which is already bound (so that a busy port
// is found before anything else is done), with the given timeouts, and
// TLS when configured.
func NewServer(ln net.Listener, h http.Handler, log *slog.Logger, opts ServerOptions) (*Server, error) {
	var tlsConfig *tls.Config
	if opts.TLSCert != "" || opts.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			// Websockets need HTTP/1.1.
			NextProtos: []string{"http/1.1"},
		}
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return &Server{
		listener: ln,
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: opts.ReadHeaderTimeout,
			ReadTimeout:       opts.ReadTimeout,
			WriteTimeout:      opts.WriteTimeout,
			IdleTimeout:       opts.IdleTimeout,
			TLSConfig:         tlsConfig,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}, nil
}

// queryLimits are the configured limits, or the defaults.
func queryLimits(opts Options) graph.QueryLimits {
	l := graph.DefaultQueryLimits
	if opts.QueryLimits != nil {
		l = *opts.QueryLimits
	}
	l.Introspection = opts.Introspection
	return l
}
