// Package stream is Event Streaming, wire-compatible with Frappe's (v13/v14
// core and the event_streaming app): the producer side (update log written in
// the document's transaction, consumer registration and approval, paged and
// long-polled pulls, notifications, retention) and the consumer side
// (registration, pull loop per producer, apply with the cursor in the same
// transaction, sync log, retries, resync).
//
// Where Frappe loses or duplicates events (reference §10), this package keeps
// Frappe's wire format and fixes the behaviour; each fix is named where it is.
package stream

import (
	"context"
	"embed"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"docstream/internal/api"
	"docstream/internal/app"
	"docstream/internal/frappeclient"
	"docstream/internal/obs"
)

//go:embed doctypes/*.json
var doctypesFS embed.FS

// Method prefixes: Frappe v13/v14 core, and the event_streaming app (v15+).
const (
	PrefixCore = "frappe.event_streaming.doctype"
	PrefixApp  = "event_streaming.event_streaming.doctype"
)

// Config tunes streaming. Zero values take the defaults.
type Config struct {
	PageSize     int           // events per native pull (default 500)
	FrappePage   int           // events per pull for consumers that send no limit (default 1000)
	PullWait     time.Duration // long-poll wait a native consumer asks for (default 25s)
	CatchUp      time.Duration // periodic pull when no notification came (default 30s)
	Retention    time.Duration // keep acknowledged logs this long (default 7 days; <0 keeps all)
	RetryBase    time.Duration // first retry delay of a failed event (default 2s, doubling, max 10m)
	NotifyRetry  time.Duration // retry delay for a failed notification (default 5s)
	PruneEvery   time.Duration // how often retention runs (default 10m)
	LeaseTimeout time.Duration // one pull worker per producer across processes (default 60s)
	BatchWindow  time.Duration // a busy native consumer is answered at most this often (default 50ms; <0: off)
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.PageSize <= 0 {
		c.PageSize = 500
	}
	if c.FrappePage <= 0 {
		c.FrappePage = 1000
	}
	def(&c.PullWait, 25*time.Second)
	def(&c.CatchUp, 30*time.Second)
	def(&c.Retention, 7*24*time.Hour)
	def(&c.RetryBase, 2*time.Second)
	def(&c.NotifyRetry, 5*time.Second)
	def(&c.PruneEvery, 10*time.Minute)
	def(&c.LeaseTimeout, 60*time.Second)
	def(&c.BatchWindow, 50*time.Millisecond)
}

// Streamer is Event Streaming for one site.
type Streamer struct {
	App     *app.Service
	URL     string // this site's canonical URL: its identity on the wire
	Log     *slog.Logger
	Metrics *obs.Metrics
	Cfg     Config
	Now     func() time.Time
	// HTTP is used for every call to a peer (tests may shorten timeouts).
	HTTP *http.Client
	// Owner identifies this process in pull leases. A process restarted on
	// the same host, address and data folder is the same owner, so it takes
	// its leases back at once after a crash; other processes sharing a
	// PostgreSQL database wait for the lease to expire.
	Owner string

	logged    loggedCache
	consumers consumerCache // producer side: Event Consumers of native pulls
	newLogs   *broadcast    // wakes long-polls when update logs commit
	syncNames syncNamer     // consumer side, on SQLite (syncnames.go)

	mu        sync.Mutex
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	workers   map[string]*worker // consumer side, by producer URL
	notifiers map[string]*notifier
	owner     string                // lease owner id of this process
	polls     map[string]*pollState // producer side: native consumers' long-polls, by consumer
	acks      map[string]ackState   // producer side: the acknowledgement last written here, by consumer
	noTail    atomic.Bool           // tests: serve every pull from the table
	// frappeScans: producer side, by Frappe consumer (frappescan.go).
	frappeScans map[string]frappeScan
}

// New builds the streamer and registers its DocTypes and hooks on a. Call
// before a.Setup; call Register to expose its methods and Start to run it.
func New(a *app.Service, url string, log *slog.Logger, m *obs.Metrics, cfg Config) (*Streamer, error) {
	cfg.defaults()
	s := &Streamer{App: a, URL: url, Log: log, Metrics: m, Cfg: cfg, Now: time.Now,
		HTTP:    &http.Client{Timeout: 90 * time.Second},
		newLogs: newBroadcast(), workers: map[string]*worker{}, notifiers: map[string]*notifier{},
		polls: map[string]*pollState{}, acks: map[string]ackState{}, frappeScans: map[string]frappeScan{}}
	if err := a.RegisterBuiltin(doctypesFS, "doctypes"); err != nil {
		return nil, err
	}
	s.registerProducerHooks()
	s.registerConsumerHooks()
	return s, nil
}

func (s *Streamer) client(base, key, secret string) *frappeclient.Client {
	c := frappeclient.New(base, key, secret)
	c.HTTP = s.HTTP
	return c
}

// Register exposes the whitelisted methods under both Frappe prefixes.
func (s *Streamer) Register(srv *api.Server) {
	for _, p := range []string{PrefixCore, PrefixApp} {
		srv.Register(p+".event_consumer.event_consumer.register_consumer", api.Method{Fn: s.apiRegisterConsumer})
		srv.Register(p+".event_update_log.event_update_log.get_update_logs_for_consumer", api.Method{Fn: s.apiGetUpdateLogs})
		srv.Register(p+".event_consumer.event_consumer.notify_event_consumers", api.Method{Fn: s.apiNotifyConsumers})
		srv.Register(p+".event_producer.event_producer.new_event_notification", api.Method{Fn: s.apiNewEventNotification})
		srv.Register(p+".event_producer.event_producer.pull_producer_data", api.Method{Fn: s.apiPullProducerData})
		srv.Register(p+".event_producer.event_producer.pull_from_node", api.Method{Fn: s.apiPullFromNode})
		srv.Register(p+".event_producer.event_producer.resync", api.Method{Fn: s.apiResync})
	}
	srv.Register(backfillMethod, api.Method{Fn: s.apiBackfillPage})
	srv.Register("docstream.stream.resync_all", api.Method{Fn: s.apiResyncAll, HTTP: []string{http.MethodPost}})
}

// Start runs the pull workers of every producer, the notifiers and the
// retention job until Close.
func (s *Streamer) Start(ctx context.Context) error {
	s.mu.Lock()
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.owner = s.Owner
	if s.owner == "" {
		s.owner = randomID()
	}
	s.mu.Unlock()
	if err := s.syncWorkers(s.ctx); err != nil {
		return err
	}
	s.wg.Go(func() { s.housekeeping(s.ctx) })
	return nil
}

// Close stops every background loop and waits for them.
func (s *Streamer) Close() {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// housekeeping starts workers for new producers, prunes logs, and keeps
// metrics fresh.
func (s *Streamer) housekeeping(ctx context.Context) {
	tick := time.NewTicker(s.Cfg.CatchUp)
	defer tick.Stop()
	prune := time.NewTicker(s.Cfg.PruneEvery)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := s.syncWorkers(ctx); err != nil && ctx.Err() == nil {
				s.Log.Warn("stream: start workers", "err", err)
			}
			s.notifyAll(ctx)
		case <-prune.C:
			if _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
				s.Log.Warn("stream: retention", "err", err)
			}
		}
	}
}
