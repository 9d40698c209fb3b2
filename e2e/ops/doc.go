// Package ops holds the end-to-end tests of running Switchboard: several
// instances behind nginx, Redis and database outages, slow clients and
// connection churn, shutdown, the hot-read cache across instances,
// readiness, metrics and tracing (see package e2e).
package ops
