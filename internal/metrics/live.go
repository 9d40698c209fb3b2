package metrics

import "github.com/prometheus/client_golang/prometheus"

var (
	liveConnections = prometheus.NewDesc("switchboard_live_connections",
		"Open live connections (websockets after connection_init, event streams).", nil, nil)
	liveSubscriptions = prometheus.NewDesc("switchboard_live_subscriptions",
		"Running subscriptions (ticketEvents and ticketViewers).", nil, nil)
	livePublished = prometheus.NewDesc("switchboard_live_events_published_total",
		"Announcements of new events published to the broker (Redis or in-process).", nil, nil)
	liveDispatched = prometheus.NewDesc("switchboard_live_events_dispatched_total",
		"Events read from the event log and dispatched to this instance's subscriptions.", nil, nil)
	liveDelivered = prometheus.NewDesc("switchboard_live_events_delivered_total",
		"Events queued to a subscription.", nil, nil)
	liveDropped = prometheus.NewDesc("switchboard_live_events_dropped_total",
		"Events or announcements dropped: subscriber_behind (a subscription's queue was full; it re-reads them from the log), notice_queue_full (an announcement was not published; other instances find the events by polling).",
		[]string{"reason"}, nil)
)

// liveCollector reads the hub's numbers at each scrape, so the hub keeps
// plain counters and knows nothing of Prometheus.
type liveCollector struct{ stats func() LiveStats }

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{liveConnections, liveSubscriptions, livePublished, liveDispatched, liveDelivered, liveDropped} {
		ch <- d
	}
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(liveConnections, prometheus.GaugeValue, float64(s.Connections))
	ch <- prometheus.MustNewConstMetric(liveSubscriptions, prometheus.GaugeValue, float64(s.Subscriptions))
	ch <- prometheus.MustNewConstMetric(livePublished, prometheus.CounterValue, float64(s.NoticesPublished))
	ch <- prometheus.MustNewConstMetric(liveDispatched, prometheus.CounterValue, float64(s.EventsDispatched))
	ch <- prometheus.MustNewConstMetric(liveDelivered, prometheus.CounterValue, float64(s.EventsDelivered))
	ch <- prometheus.MustNewConstMetric(liveDropped, prometheus.CounterValue, float64(s.EventsBehind), "subscriber_behind")
	ch <- prometheus.MustNewConstMetric(liveDropped, prometheus.CounterValue, float64(s.NoticesDropped), "notice_queue_full")
}
