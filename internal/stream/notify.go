package stream

import (
	"context"
	"net/url"
	"time"

	"docstream/internal/api"
	"docstream/internal/app"
	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/meta"
)

// notifier tells one consumer that new logs are waiting (P2 in reference
// §2.6). Pokes coalesce: a notification is sent after the latest poke, so
// none is lost while one is in flight (Frappe's job dedup loses them, W9).
type notifier struct {
	consumer string
	wake     chan struct{}
}

// kickNotifiers pokes the notifiers of consumers approved for doctype.
func (s *Streamer) kickNotifiers(doctype string) {
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	var consumers []string
	_ = s.App.View(ctx, func(t *app.Tx) error {
		cdt, err := t.Meta("Event Consumer Document Type")
		if err != nil {
			return err
		}
		where := []filter.Cond{{Field: "status", Op: "=", Value: "Approved", Kind: meta.KindText},
			{Field: "unsubscribed", Op: "=", Value: int64(0), Kind: meta.KindCheck}}
		if doctype != "" {
			where = append(where, filter.Cond{Field: "ref_doctype", Op: "=", Value: doctype, Kind: meta.KindText})
		}
		rows, err := t.Select(ctx, &filter.Query{DocType: cdt, Fields: []string{"parent"}, Where: where})
		for _, r := range rows {
			consumers = append(consumers, r.Str("parent"))
		}
		return err
	})
	for _, c := range consumers {
		s.kickConsumer(c)
	}
}

// pollState is what this process knows of a native consumer's long-polls.
type pollState struct {
	open int       // long-polls being served now
	last time.Time // when the last one ended
	// busy: the last answer carried more than one change, at answered
	// (wall clock): the consumer is following a stream (batchWait).
	busy     bool
	answered time.Time
}

// pollGrace is how long after its last long-poll ended a native consumer is
// taken to be coming back for the next one (it applies the page between).
const pollGrace = 5 * time.Second

// pollStarted and pollEnded track a native consumer's long-polls.
func (s *Streamer) pollStarted(consumer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.polls[consumer]
	if ps == nil {
		ps = &pollState{}
		s.polls[consumer] = ps
	}
	ps.open++
}

func (s *Streamer) pollEnded(consumer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ps := s.polls[consumer]; ps != nil {
		ps.open--
		ps.last = s.Now()
	}
}

// batchWait is how long a native consumer's long-poll waits before it reads
// a page. A consumer that keeps up with a stream of changes pulls every few
// changes, and serving a pull costs the producer more than writing several
// logs (an HTTP exchange, a read transaction, the page query): while its last
// answer carried more than one change (and less than a page), its next one
// comes Cfg.BatchWindow after it at the earliest, with what gathered
// meanwhile. A change that comes alone is answered at once: one-at-a-time
// latency is not traded. In bench stream (c) a window of 5 ms took the
// producer's REST inserts with a consumer streaming from 0.62–0.63 to
// 0.71–0.74 of its rate without one. Each pull costs a producer that writes
// at full speed more than serving it takes (on one CPU, roughly 10 ms of its
// inserts' time per pull, against under 0.5 ms to serve one): with 50 ms its
// in-process inserts ran at 0.81, 0.83 and 0.74 of the rate without a
// consumer, against 0.72, 0.69 and 0.69 with 5 ms, for 89-92 pulls of about
// 320 changes instead of 135-145 of 220 (docs/benchmarks.md). A busy stream
// waits up to 50 ms more for its next page; Frappe's pull job takes seconds.
func (s *Streamer) batchWait(consumer string) time.Duration {
	if s.Cfg.BatchWindow <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.polls[consumer]
	if ps == nil || !ps.busy {
		return 0
	}
	return s.Cfg.BatchWindow - time.Since(ps.answered)
}

// pollAnswered records a native consumer's long-poll answer of n changes,
// of a page of limit. A full page says the consumer is behind: its next page
// is full too without waiting.
func (s *Streamer) pollAnswered(consumer string, n, limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ps := s.polls[consumer]; ps != nil {
		ps.busy, ps.answered = n > 1 && n < limit, time.Now()
	}
}

// newLogsCommitted wakes the long-polls of this process and notifies the
// consumers that are not long-polling here. A native consumer that is (or
// just was) in a long-poll sees the logs through it: a notification per
// change would cost both sites an HTTP call and tell it nothing. Frappe
// consumers never long-poll, so they are always notified; a long-poll served
// by another process sharing the database does not count here.
func (s *Streamer) newLogsCommitted(consumers []string) {
	s.newLogs.Fire()
	for _, c := range consumers {
		s.mu.Lock()
		ps := s.polls[c]
		polling := ps != nil && (ps.open > 0 || s.Now().Sub(ps.last) < pollGrace)
		s.mu.Unlock()
		if !polling {
			s.kickConsumer(c)
		}
	}
}

// kickConsumer starts or pokes one consumer's notifier.
func (s *Streamer) kickConsumer(consumer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.ctx.Err() != nil {
		return
	}
	n := s.notifiers[consumer]
	if n == nil {
		n = &notifier{consumer: consumer, wake: make(chan struct{}, 1)}
		s.notifiers[consumer] = n
		ctx := s.ctx
		s.wg.Go(func() { s.runNotifier(ctx, n) })
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (s *Streamer) notifyAll(ctx context.Context) { s.kickNotifiers("") }

// renotifyUntilPulled keeps notifying a Frappe consumer that was served a
// page with more logs waiting, until it pulls again. Frappe's
// new_event_notification drops a notification while a pull_from_node job is
// queued or running (reference §2.6 step 5, W9), and the one sent as the
// page is served always arrives while the job runs; so more follow, after
// NotifyRetry and doubling, until the consumer's next pull (which starts a
// new round if there is still more) or until CatchUp, when the periodic
// notification takes over.
func (s *Streamer) renotifyUntilPulled(consumer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.ctx.Err() != nil {
		return
	}
	ctx := s.ctx
	lastPull := func() (string, error) {
		var v string
		err := s.App.View(ctx, func(t *app.Tx) error {
			ec, err := t.Meta("Event Consumer")
			if err != nil {
				return err
			}
			row, err := t.GetRow(ctx, ec, consumer, false)
			if row != nil {
				v = row.Str("last_pull")
			}
			return err
		})
		return v, err
	}
	s.wg.Go(func() {
		served, err := lastPull() // the serve that scheduled this (or a later pull)
		if err != nil {
			return
		}
		for d, waited := s.Cfg.NotifyRetry, time.Duration(0); waited < s.Cfg.CatchUp; d = min(2*d, s.Cfg.CatchUp) {
			if !sleep(ctx, nil, d) {
				return
			}
			waited += d
			if now, err := lastPull(); err != nil || now != served {
				return // it pulled again
			}
			s.kickConsumer(consumer)
		}
	})
}

func (s *Streamer) runNotifier(ctx context.Context, n *notifier) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		}
		for attempt := 0; ctx.Err() == nil; attempt++ {
			err := s.notifyOnce(ctx, n.consumer)
			if err == nil {
				s.Metrics.Notifications.WithLabelValues(n.consumer, "ok").Inc()
				break
			}
			s.Metrics.Notifications.WithLabelValues(n.consumer, "error").Inc()
			s.Log.Debug("stream: notify failed; will retry", "consumer", n.consumer, "err", err)
			if attempt >= 5 {
				break // the consumer's periodic catch-up covers the rest
			}
			if !sleep(ctx, nil, s.Cfg.NotifyRetry) {
				return
			}
		}
	}
}

// notifyOnce posts new_event_notification to the consumer, as Frappe's
// notify does: a root POST with cmd= and producer_url, consumer keys.
func (s *Streamer) notifyOnce(ctx context.Context, consumer string) error {
	var base, key, secret, prefix string
	err := s.App.View(ctx, func(t *app.Tx) error {
		ec, _ := t.Meta("Event Consumer")
		d, err := t.Find(ctx, ec, consumer, false)
		if err != nil || d == nil {
			return err
		}
		base, key, prefix = d.Str("callback_url"), d.Str("api_key"), d.Str("method_prefix")
		secret, err = t.Password(ctx, "Event Consumer", consumer, "api_secret")
		return err
	})
	if err != nil || base == "" {
		return err
	}
	if prefix == "" {
		prefix = PrefixApp
	}
	c := s.client(base, key, secret)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, _, err = c.Call(cctx, prefix+".event_producer.event_producer.new_event_notification", url.Values{"producer_url": {s.URL}})
	return err
}

// apiNewEventNotification wakes the pull worker of the notifying producer
// (consumer side). It answers {} like Frappe.
func (s *Streamer) apiNewEventNotification(c *api.Call) (any, error) {
	if !c.User.HasRole("System Manager") {
		return nil, errs.Permission("Only the Event Subscriber can notify")
	}
	s.wakeWorker(c.Args.Str("producer_url"))
	return nil, nil
}

// apiPullProducerData wakes every producer's worker ("pull now"). Frappe
// pulls synchronously and answers "success".
func (s *Streamer) apiPullProducerData(c *api.Call) (any, error) {
	if !c.User.HasRole("System Manager") {
		return nil, errs.Permission("Only a System Manager can pull")
	}
	if err := s.syncWorkers(c.Ctx); err != nil {
		return nil, err
	}
	return "success", nil
}

func (s *Streamer) apiPullFromNode(c *api.Call) (any, error) {
	if !c.User.HasRole("System Manager") {
		return nil, errs.Permission("Only a System Manager can pull")
	}
	s.wakeWorker(c.Args.Str("event_producer"))
	return nil, nil
}
