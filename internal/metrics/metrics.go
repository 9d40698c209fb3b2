// Package metrics holds Switchboard's Prometheus metrics: HTTP requests by
// route and status class, GraphQL operations by name, type and outcome,
// live connections, subscriptions and events, broker lag, the database
// pool and failed logins. Each Metrics has a registry of its own (not the
// global one), so that tests and several servers in one process do not
// share numbers, and every label has a bounded set of values: routes are a
// fixed list, operation names are capped (the first MaxOperationNames
// distinct names, then "other"), outcomes are error codes.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxOperationNames bounds the distinct operation names used as label
// values; operations named otherwise are counted as "other".
const MaxOperationNames = 200

// Metrics is one server's set of metrics.
type Metrics struct {
	registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight prometheus.Gauge

	operations        *prometheus.CounterVec
	operationDuration *prometheus.HistogramVec

	brokerLag    prometheus.Histogram
	loginFailure *prometheus.CounterVec
	mailSent     *prometheus.CounterVec
	mailReceived *prometheus.CounterVec
	mailFailed   *prometheus.CounterVec

	namesMu sync.Mutex
	names   map[string]struct{}
}

// New returns metrics registered in a registry of their own, with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		names:    map[string]struct{}{},
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_http_requests_total",
			Help: "HTTP requests by route, method and status class (2xx, 4xx, ...; 101 for websocket upgrades).",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route (websockets: until the upgrade).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_http_requests_in_flight",
			Help: "HTTP requests being answered (event streams included).",
		}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_graphql_operations_total",
			Help: "GraphQL operations by name, type and outcome (ok, or the first error's code); subscriptions are counted when they start, with outcome \"subscribed\".",
		}, []string{"operation", "type", "outcome"}),
		operationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_graphql_operation_duration_seconds",
			Help:    "Time to execute a GraphQL query or mutation, by name and type.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "type"}),
		brokerLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_live_event_lag_seconds",
			Help:    "Time from an event's commit to its dispatch by this instance's hub (broker and log-read delay).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		loginFailure: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_login_failures_total",
			Help: "Failed sign-ins by reason: invalid_credentials or throttled.",
		}, []string{"reason"}),
		mailSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_mail_sent_total",
			Help: "Mails the SMTP server accepted, by kind (TICKET_REPLY, PASSWORD_RESET).",
		}, []string{"kind"}),
		mailReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_mail_received_total",
			Help: "Mails the inbound listener received, by outcome: ticket, reply, duplicate, automatic, bounce, refused (5xx) or failed (4xx).",
		}, []string{"outcome"}),
		mailFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_mail_failed_total",
			Help: "Failed deliveries of mails, by kind and whether it was the last attempt (final: the mail is FAILED).",
		}, []string{"kind", "final"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.httpInFlight,
		m.operations, m.operationDuration, m.brokerLag, m.loginFailure, m.mailSent, m.mailFailed, m.mailReceived,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format, to anyone:
// internal/httpserver's MetricsHandler puts the token check in front, so
// that its refusal is an HTTP error like every other.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// RouteOf is the route label of a request path: /query, /healthz,
// /readyz, /metrics, /playground (the page at / and its files under
// /playground/), /wallboard (the page and its files), or "other" for every
// other path.
func RouteOf(path string) string {
	switch {
	case path == "/query", path == "/healthz", path == "/readyz", path == "/metrics":
		return path
	case path == "/", strings.HasPrefix(path, "/playground/"):
		return "/playground"
	case path == "/wallboard", strings.HasPrefix(path, "/wallboard/"):
		return "/wallboard"
	}
	return "other"
}

// HTTPStarted counts a request in flight; the returned func ends it with
// its status and duration.
func (m *Metrics) HTTPStarted() func(route, method string, status int, d time.Duration) {
	m.httpInFlight.Inc()
	return func(route, method string, status int, d time.Duration) {
		m.httpInFlight.Dec()
		m.httpRequests.WithLabelValues(route, boundedMethod(method), statusClass(status)).Inc()
		m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
	}
}

// Operation counts a finished GraphQL operation; d is ignored for
// subscriptions (outcome "subscribed").
func (m *Metrics) Operation(name, opType, outcome string, d time.Duration) {
	name = m.boundedName(name)
	m.operations.WithLabelValues(name, opType, outcome).Inc()
	if opType != "subscription" {
		m.operationDuration.WithLabelValues(name, opType).Observe(d.Seconds())
	}
}

// EventLag records the delay between an event's commit and its dispatch.
func (m *Metrics) EventLag(d time.Duration) { m.brokerLag.Observe(max(d, 0).Seconds()) }

// LoginFailed counts a failed sign-in.
func (m *Metrics) LoginFailed(reason string) { m.loginFailure.WithLabelValues(reason).Inc() }

// MailSent counts a mail the SMTP server accepted.
func (m *Metrics) MailSent(kind string) { m.mailSent.WithLabelValues(kind).Inc() }

// MailReceived counts an inbound mail by outcome.
func (m *Metrics) MailReceived(outcome string) { m.mailReceived.WithLabelValues(outcome).Inc() }

// MailFailed counts a failed delivery of a mail.
func (m *Metrics) MailFailed(kind string, final bool) {
	m.mailFailed.WithLabelValues(kind, strconv.FormatBool(final)).Inc()
}

// DB adds the database pool's statistics (connections open, in use, idle,
// waits) as go_sql_* metrics labelled db_name.
func (m *Metrics) DB(name string, db *sql.DB) {
	m.registry.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// LiveStats are the live hub's numbers: the fields of internal/live.Stats,
// which converts to it.
type LiveStats struct {
	// Connections are live connections (websockets after
	// connection_init, event streams); Subscriptions their running
	// subscriptions.
	Connections, Subscriptions int
	// NoticesPublished are announcements of new events sent to the
	// broker; NoticesDropped those dropped because the broker's queue
	// was full.
	NoticesPublished, NoticesDropped int64
	// EventsDispatched are events read from the log and dispatched;
	// EventsDelivered are events queued to a subscription; EventsBehind
	// are live events not queued because the subscription's queue was
	// full (it reads them from the log instead).
	EventsDispatched, EventsDelivered, EventsBehind int64
}

// Live reports the live hub's numbers, read at each scrape.
func (m *Metrics) Live(stats func() LiveStats) {
	m.registry.MustRegister(&liveCollector{stats: stats})
}

// boundedName is name while fewer than MaxOperationNames distinct names
// were seen, "anonymous" for unnamed operations, else "other".
func (m *Metrics) boundedName(name string) string {
	if name == "" {
		return "anonymous"
	}
	if len(name) > 100 {
		return "other"
	}
	m.namesMu.Lock()
	defer m.namesMu.Unlock()
	if _, ok := m.names[name]; ok {
		return name
	}
	if len(m.names) >= MaxOperationNames {
		return "other"
	}
	m.names[name] = struct{}{}
	return name
}

func statusClass(status int) string {
	if status == http.StatusSwitchingProtocols {
		return "101"
	}
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

func boundedMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodHead, http.MethodOptions:
		return method
	}
	return "other"
}
