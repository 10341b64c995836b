// Package obs holds docstream's Prometheus metrics on a private registry (no
// global default registry, so tests can build as many sites as they like).
package obs

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the streaming metrics of one site.
type Metrics struct {
	Registry *prometheus.Registry

	// Producer side, per consumer.
	ConsumerLagEvents *prometheus.GaugeVec
	LogsWritten       *prometheus.CounterVec
	LogsServed        *prometheus.CounterVec
	PullsServed       *prometheus.CounterVec
	// Consumer side, per producer.
	ProducerLagEvents  *prometheus.GaugeVec
	ProducerLagSeconds *prometheus.GaugeVec
	EventsApplied      *prometheus.CounterVec
	EventsFailed       *prometheus.CounterVec
	PullSeconds        *prometheus.HistogramVec
	PullErrors         *prometheus.CounterVec
	Notifications      *prometheus.CounterVec

	// written keeps LogsWritten's counter of each DocType and update type
	// (LogWritten).
	writtenMu sync.Mutex
	written   map[[2]string]prometheus.Counter
}

// LogWritten counts an Event Update Log written. The counter of each DocType
// and update type is kept: WithLabelValues hashed the labels and took the
// vector's lock on every logged change, about 1 µs of a logged insert's CPU
// (a profile of BenchmarkProducerInsert/consumer=stopped on one CPU).
func (m *Metrics) LogWritten(doctype, updateType string) {
	k := [2]string{doctype, updateType}
	m.writtenMu.Lock()
	c, ok := m.written[k]
	if !ok {
		if m.written == nil {
			m.written = map[[2]string]prometheus.Counter{}
		}
		c = m.LogsWritten.WithLabelValues(doctype, updateType)
		m.written[k] = c
	}
	m.writtenMu.Unlock()
	c.Inc()
}

// NewMetrics registers the metrics on a fresh registry.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: r,
		ConsumerLagEvents: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "docstream_consumer_lag_events",
			Help: "Update logs a consumer has not acknowledged yet (producer side)."}, []string{"consumer"}),
		LogsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docstream_update_logs_written_total",
			Help: "Event Update Logs written, by DocType and update type."}, []string{"doctype", "update_type"}),
		LogsServed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docstream_update_logs_served_total",
			Help: "Event Update Logs served to consumers."}, []string{"consumer"}),
		PullsServed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docstream_pulls_served_total",
			Help: "Pulls answered to consumers (producer side), by where the page was read: table or memory (the newest logs)."}, []string{"consumer", "from"}),
		ProducerLagEvents: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "docstream_producer_lag_events",
			Help: "Producer events not yet applied here (consumer side)."}, []string{"producer"}),
		ProducerLagSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "docstream_producer_lag_seconds",
			Help: "Age of the oldest producer event not yet applied here; 0 when caught up."}, []string{"producer"}),
		EventsApplied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docstream_events_applied_total",
			Help: "Events applied from a producer."}, []string{"producer"}),
		EventsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docstream_events_failed_total",
			Help: "Event applications that failed (each is retried)."}, []string{"producer"}),
		PullSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "docstream_pull_seconds",
			Help:    "Latency of one pull from a producer (including long-poll waits that returned events).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"producer"}),
		PullErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docstream_pull_errors_total",
			Help: "Pulls that failed (producer down, auth, protocol)."}, []string{"producer"}),
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docstream_notifications_sent_total",
			Help: "new_event_notification calls to a consumer (producer side), by result."}, []string{"consumer", "result"}),
	}
	r.MustRegister(m.ConsumerLagEvents, m.LogsWritten, m.LogsServed, m.PullsServed, m.ProducerLagEvents, m.ProducerLagSeconds,
		m.EventsApplied, m.EventsFailed, m.PullSeconds, m.PullErrors, m.Notifications)
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// WALStats is what a SQLite store tells of its write-ahead log (sqlstore).
type WALStats struct {
	Frames       int64 // frames in the WAL at the last background checkpoint
	WriterPasses int64 // checkpoint passes the writer made so the WAL could start over
}

// WatchWAL exports a SQLite store's WAL figures, read at each scrape.
func (m *Metrics) WatchWAL(stats func() WALStats) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "docstream_sqlite_wal_frames",
			Help: "Pages in SQLite's write-ahead log at the last background checkpoint (4 KB each); it starts over from 0."},
			func() float64 { return float64(stats().Frames) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "docstream_sqlite_writer_checkpoints_total",
			Help: "Checkpoint passes the writer made before a write so that a long write-ahead log could start over."},
			func() float64 { return float64(stats().WriterPasses) }))
}
