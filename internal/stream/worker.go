package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/frappeclient"
)

// worker pulls from one producer: long-polled pages from a docstream
// producer, notification-driven pulls plus a periodic catch-up from a Frappe
// producer. One worker per producer runs across all processes (a lease).
type worker struct {
	producer string
	wake     chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}

	// leaseUntil is when this worker's pull lease ends, as last written.
	leaseUntil time.Time
	// forgetAt: when forgetBackfills may look at the Sync Log again.
	forgetAt time.Time

	// For the dashboard and metrics.
	lastErr   string
	lastErrAt time.Time
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// syncWorkers starts a worker for every Event Producer that has none.
func (s *Streamer) syncWorkers(ctx context.Context) error {
	var names []string
	err := s.App.View(ctx, func(t *app.Tx) error {
		ep, err := t.Meta("Event Producer")
		if err != nil {
			return err
		}
		rows, err := t.Select(ctx, &filter.Query{DocType: ep, Fields: []string{"name"}})
		for _, r := range rows {
			names = append(names, r.Name())
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		s.wakeWorker(n)
	}
	return nil
}

// wakeWorker starts the producer's worker if needed and wakes it.
func (s *Streamer) wakeWorker(producer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.ctx.Err() != nil {
		return
	}
	w := s.workers[producer]
	if w == nil {
		ctx, cancel := context.WithCancel(s.ctx)
		w = &worker{producer: producer, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
		s.workers[producer] = w
		s.wg.Go(func() {
			defer close(w.done)
			s.runWorker(ctx, w)
		})
	}
	w.poke()
}

func (s *Streamer) stopWorker(producer string) {
	s.mu.Lock()
	w := s.workers[producer]
	delete(s.workers, producer)
	s.mu.Unlock()
	if w != nil {
		w.cancel()
	}
}

func (s *Streamer) runWorker(ctx context.Context, w *worker) {
	defer s.releaseLease(w.producer)
	backoff := time.Second
	for ctx.Err() == nil {
		idle, err := s.step(ctx, w)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.lastErr, w.lastErrAt = err.Error(), s.Now()
			s.Metrics.PullErrors.WithLabelValues(w.producer).Inc()
			s.Log.Warn("stream: pull failed; will retry", "producer", w.producer, "in", backoff, "err", err)
			if !sleep(ctx, w.wake, backoff) {
				return
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		if idle && !sleep(ctx, w.wake, s.Cfg.CatchUp) {
			return
		}
	}
}

// releaseLease gives up this process's pull lease on a producer when its
// worker stops (shutdown, producer deleted), so a restarted process or another
// one takes over at once instead of after LeaseTimeout. The lease is made
// expired only if this process still holds it.
func (s *Streamer) releaseLease(producer string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	past := s.Now().Add(-time.Second)
	err := s.App.Update(ctx, func(t *app.Tx) error {
		_, err := t.TryLease(ctx, "pull:"+producer, s.owner, past, past)
		return err
	})
	if err != nil {
		s.Log.Debug("stream: release pull lease", "producer", producer, "err", err)
	}
}

// sleep waits d, or until woken; false when ctx ends.
func sleep(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-t.C:
	}
	return true
}

// producerCfg is what a worker needs to know about its producer.
type producerCfg struct {
	name, user string
	client     *frappeclient.Client
	prefix     string
	native     bool
	rows       map[string]doc.Doc // remote DocType → approved subscription row
	lastUpdate string
	lastSeq    int64
}

func (s *Streamer) loadProducer(ctx context.Context, t *app.Tx, name string) (*producerCfg, error) {
	ep, _ := t.Meta("Event Producer")
	d, err := t.Find(ctx, ep, name, false)
	if err != nil || d == nil {
		return nil, err
	}
	sec, err := t.Password(ctx, "Event Producer", name, "api_secret")
	if err != nil {
		return nil, err
	}
	p := &producerCfg{name: name, user: d.Str("user"), client: s.client(d.Str("producer_url"), d.Str("api_key"), sec),
		prefix: d.Str("method_prefix"), native: d.Int("native") != 0, rows: map[string]doc.Doc{}}
	if p.prefix == "" {
		p.prefix = PrefixApp
	}
	for _, r := range d.Rows("producer_doctypes") {
		if r.Str("status") != "Approved" {
			continue // Frappe also ignores unsubscribe here; the producer stops serving it (W14 is fixed there)
		}
		dt, err := remoteDocType(ctx, t, r)
		if err != nil {
			return nil, err
		}
		p.rows[dt] = r
	}
	lu, _ := t.Meta("Event Producer Last Update")
	c, err := t.Find(ctx, lu, name, false)
	if err != nil {
		return nil, err
	}
	if c != nil {
		p.lastUpdate, p.lastSeq = c.Str("last_update"), c.Int("last_seq")
	}
	return p, nil
}

// step retries due failures, then pulls and applies one page. idle reports
// that there was nothing to do (the worker then waits for a notification or
// the catch-up interval).
func (s *Streamer) step(ctx context.Context, w *worker) (idle bool, err error) {
	var p *producerCfg
	var leased bool
	now := s.Now()
	if w.leaseUntil.Sub(now) > s.Cfg.LeaseTimeout*2/3 {
		// The lease is ours for a while yet: no write to renew it (on
		// PostgreSQL every commit waits for a flush, and a live stream takes
		// a step per change).
		leased = true
		err = s.App.View(ctx, func(t *app.Tx) error {
			var err error
			p, err = s.loadProducer(ctx, t, w.producer)
			return err
		})
	} else {
		w.leaseUntil = time.Time{}
		err = s.App.Update(ctx, func(t *app.Tx) error {
			var err error
			if leased, err = t.TryLease(ctx, "pull:"+w.producer, s.owner, now, now.Add(s.Cfg.LeaseTimeout)); err != nil || !leased {
				return err
			}
			p, err = s.loadProducer(ctx, t, w.producer)
			return err
		})
		if err == nil && leased {
			w.leaseUntil = now.Add(s.Cfg.LeaseTimeout)
		}
	}
	if err != nil || !leased || p == nil {
		return true, err
	}
	retried, err := s.retryDue(ctx, p)
	if err != nil {
		return false, err
	}
	if len(p.rows) == 0 {
		return retried == 0, nil
	}
	if err := s.forgetBackfills(ctx, w, p); err != nil {
		return false, err
	}
	backfilled, err := s.backfillStep(ctx, p)
	if err != nil {
		return false, err
	}
	if backfilled {
		// One live page between backfill pages, without waiting: changes
		// keep flowing while history arrives.
		if err := s.livePage(ctx, p, false); err != nil {
			return false, err
		}
		return false, nil
	}
	return s.liveStep(ctx, p, retried)
}

// maxPagesPerStep bounds how many pages one step applies back to back
// before the worker renews its lease, reloads its configuration and retries
// due failures.
const maxPagesPerStep = 20

// liveStep pulls and applies live changes. While the producer reports more
// than a page waiting, the next page is fetched (and its documents decoded)
// while the current one is applied: the producer's answer and the
// consumer's apply then overlap instead of adding up.
func (s *Streamer) liveStep(ctx context.Context, p *producerCfg, retried int) (idle bool, err error) {
	pg, err := s.pullAt(ctx, p, p.cursor(), true)
	if err != nil {
		return false, err
	}
	if len(pg.logs) == 0 {
		// The producer examined logs this consumer may not see (conditions,
		// echoes, other DocTypes): the cursor moves past them.
		if end := pg.end(p); end.lastSeq > p.lastSeq {
			if err := s.App.Update(ctx, func(t *app.Tx) error {
				return s.moveCursor(ctx, t, p.name, p.lastUpdate, end.lastSeq, pg.head, "")
			}); err != nil {
				return false, err
			}
			p.lastSeq = end.lastSeq
			return false, nil
		}
		s.recordLag(p, pg.head, nil)
		// A native pull already long-polled; a Frappe producer notifies us.
		return !p.native && retried == 0, nil
	}
	for i := 1; ; i++ {
		var next chan pageResult
		stop := func() {}
		if i < maxPagesPerStep && pg.more(p) {
			pctx, cancel := context.WithCancel(ctx)
			next = make(chan pageResult, 1)
			at := pg.end(p)
			go func() {
				r, err := s.pullAt(pctx, p, at, false)
				if err == nil {
					r.decode()
				}
				next <- pageResult{r, err}
			}()
			stop = func() { cancel(); <-next }
		}
		if err := s.applyPage(ctx, p, pg); err != nil {
			stop()
			return false, err
		}
		if next == nil {
			return false, nil
		}
		r := <-next
		if r.err != nil {
			return false, r.err
		}
		if len(r.page.logs) == 0 {
			// Everything left was withheld (conditions, echoes): the next
			// step moves the cursor past it.
			return false, nil
		}
		pg = r.page
	}
}

// livePage pulls one page without a long-poll wait.
func (s *Streamer) livePage(ctx context.Context, p *producerCfg, wait bool) error {
	pg, err := s.pullAt(ctx, p, p.cursor(), wait)
	if err != nil || len(pg.logs) == 0 {
		return err
	}
	return s.applyPage(ctx, p, pg)
}

// cursor is a position in a producer's log: the seq of the last log applied
// (native producers) and the creation of the last log seen (Frappe's cursor).
type cursor struct {
	lastUpdate string
	lastSeq    int64
}

func (p *producerCfg) cursor() cursor { return cursor{p.lastUpdate, p.lastSeq} }

// page is one answer of the producer.
type page struct {
	at      cursor
	logs    []remoteLog
	head    int64 // X-Docstream-Head-Seq (0 from a Frappe producer)
	scanned int64 // X-Docstream-Scanned-Seq
}

type pageResult struct {
	page page
	err  error
}

// end is the cursor once the page is applied: past its last log, and past
// every log the producer examined for it (X-Docstream-Scanned-Seq).
func (pg *page) end(p *producerCfg) cursor {
	c := pg.at
	for _, l := range pg.logs {
		if l.Creation > c.lastUpdate {
			c.lastUpdate = l.Creation
		}
		if l.Seq != nil && *l.Seq > c.lastSeq {
			c.lastSeq = *l.Seq
		}
	}
	if p.native && pg.scanned > c.lastSeq {
		c.lastSeq = pg.scanned
	}
	return c
}

// more reports that the producer has logs beyond this page. Only a docstream
// producer pages (and says where its head is); Frappe sends everything.
func (pg *page) more(p *producerCfg) bool {
	return p.native && pg.head > pg.end(p).lastSeq
}

// decode decodes the page's payloads ahead of the apply.
func (pg *page) decode() { decodeLogs(pg.logs) }

func decodeLogs(logs []remoteLog) {
	for i := range logs {
		l := &logs[i]
		l.dataString()
		if l.UpdateType == "Create" {
			l.createDoc() // a bad payload fails again, with its error, when applied
		}
	}
}

// remoteLog is one update log as the producer sent it.
type remoteLog struct {
	Name       string          `json:"name"`
	UpdateType string          `json:"update_type"`
	RefDocType string          `json:"ref_doctype"`
	DocName    string          `json:"docname"`
	Data       json.RawMessage `json:"data"`
	Creation   string          `json:"creation"`
	Seq        *int64          `json:"seq"`

	// Decoded once per page (ahead of the apply when pages are pipelined):
	// the dependency scan, the apply and the Sync Log all need them, and
	// decoding was a third of a backlog's cost.
	text    *string // data as text
	decoded doc.Doc // a Create's document
}

// createDoc decodes a Create's document.
func (l *remoteLog) createDoc() (doc.Doc, error) {
	if l.decoded != nil {
		return l.decoded, nil
	}
	d, err := doc.FromJSON([]byte(l.dataString()))
	if err != nil {
		return nil, err
	}
	l.decoded = d
	return d, nil
}

// dataString returns data as text: Frappe sends a JSON string (or null).
func (l *remoteLog) dataString() string {
	if l.text != nil {
		return *l.text
	}
	var s string
	switch {
	case len(l.Data) == 0 || string(l.Data) == "null":
	case l.Data[0] == '"' && unquote(l.Data, &s):
	case json.Unmarshal(l.Data, &s) == nil:
		// What unquote leaves: invalid UTF-8, which encoding/json replaces.
	default:
		s = string(l.Data) // tolerate a producer that sends the object itself
	}
	l.text = &s
	return s
}

// decodeLogPage decodes a pull answer's message: encoding/json's semantics
// in one pass (frappeclient.do says why).
func decodeLogPage(msg []byte) ([]remoteLog, error) {
	var logs []remoteLog
	err := jsonv1.Unmarshal(msg, &logs)
	return logs, err
}

// unquote sets *s to the text of the JSON string q when q is one, valid
// UTF-8 included: in one pass, where encoding/json checks q first and then
// decodes it (a tenth of decoding a page of Creates).
func unquote(q []byte, s *string) bool {
	b, err := jsontext.AppendUnquote(nil, q)
	if err != nil {
		return false
	}
	*s = string(b)
	return true
}

// pullAt asks the producer for the page after cursor c (C4 in reference
// §2.6). wait long-polls a docstream producer when nothing is new.
func (s *Streamer) pullAt(ctx context.Context, p *producerCfg, c cursor, wait bool) (page, error) {
	pg := page{at: c}
	dts := make([]string, 0, len(p.rows))
	for dt := range p.rows {
		dts = append(dts, dt)
	}
	b, _ := json.Marshal(dts)
	args := url.Values{"event_consumer": {s.URL}, "doctypes": {string(b)}, "last_update": {c.lastUpdate}}
	if p.native {
		args.Set("after_seq", strconv.FormatInt(c.lastSeq, 10))
		args.Set("limit", strconv.Itoa(s.Cfg.PageSize))
		if wait {
			args.Set("wait", strconv.Itoa(int(s.Cfg.PullWait/time.Second)))
		}
	}
	start := time.Now()
	msg, hdr, err := p.client.Call(ctx, p.prefix+".event_update_log.event_update_log.get_update_logs_for_consumer", args)
	if err != nil {
		return pg, err
	}
	s.Metrics.PullSeconds.WithLabelValues(p.name).Observe(time.Since(start).Seconds())
	if len(msg) > 0 {
		if pg.logs, err = decodeLogPage(msg); err != nil {
			return pg, fmt.Errorf("the producer's update logs are not understood: %w", err)
		}
	}
	pg.head, _ = strconv.ParseInt(hdr.Get("X-Docstream-Head-Seq"), 10, 64)
	pg.scanned, _ = strconv.ParseInt(hdr.Get("X-Docstream-Scanned-Seq"), 10, 64)
	return pg, nil
}
