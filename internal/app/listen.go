package app

import (
	"errors"
	"net"
	"syscall"

	"github.com/switchboardhq/switchboard/internal/config"
)

// Listeners are the server's bound addresses. They are bound first, so
// that a busy port stops the program before it migrates or seeds.
type Listeners struct {
	HTTP net.Listener
	// Metrics is nil unless SWITCHBOARD_METRICS_ADDR is set.
	Metrics net.Listener
	// SMTP is nil unless SWITCHBOARD_SMTP_ADDR is set.
	SMTP net.Listener
}

// Listen binds the addresses of cfg.
func Listen(cfg *config.Config) (*Listeners, error) {
	ln, err := listen(cfg.Addr, "--addr or SWITCHBOARD_ADDR")
	if err != nil {
		return nil, err
	}
	l := &Listeners{HTTP: ln}
	if cfg.MetricsAddr != "" {
		if l.Metrics, err = listen(cfg.MetricsAddr, "--metrics-addr or SWITCHBOARD_METRICS_ADDR"); err != nil {
			_ = ln.Close()
			return nil, err
		}
	}
	if cfg.SMTPAddr != "" {
		if l.SMTP, err = listen(cfg.SMTPAddr, "--smtp-addr or SWITCHBOARD_SMTP_ADDR"); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// Close closes the listeners (Server.Run closes them itself).
func (l *Listeners) Close() {
	_ = l.HTTP.Close()
	if l.Metrics != nil {
		_ = l.Metrics.Close()
	}
	if l.SMTP != nil {
		_ = l.SMTP.Close()
	}
}

func listen(addr, setting string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, config.Errorf("cannot listen on %s: the address is already in use (is another switchboard running?); choose another with %s, e.g. --addr :8081", addr, setting)
	case err != nil:
		return nil, config.Errorf("cannot listen on %s (%s): %v", addr, setting, err)
	}
	return ln, nil
}
