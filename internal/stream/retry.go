package stream

import (
	"context"
	"encoding/json"

	"docstream/internal/api"
	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/meta"
)

// retryDue retries the producer's Failed events whose backoff has passed,
// oldest first (Frappe never retries: W2).
func (s *Streamer) retryDue(ctx context.Context, p *producerCfg) (int, error) {
	var due []string
	err := s.App.View(ctx, func(t *app.Tx) error {
		esl, _ := t.Meta("Event Sync Log")
		rows, err := t.Select(ctx, &filter.Query{DocType: esl, Fields: []string{"name"}, Limit: 50,
			OrderBy: []filter.Order{{Field: "seq"}, {Field: "creation"}},
			Where: []filter.Cond{
				{Field: "event_producer", Op: "=", Value: p.name, Kind: meta.KindText},
				{Field: "status", Op: "=", Value: "Failed", Kind: meta.KindText},
				{Field: "next_retry", Op: "<=", Value: doc.FormatDatetime(s.Now()), Kind: meta.KindDatetime},
			}})
		for _, r := range rows {
			due = append(due, r.Name())
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, name := range due {
		if _, err := s.retryOne(ctx, p, name); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// retryOne re-runs one Failed (or Queued) event from its Event Sync Log and,
// if it succeeds, the events of the same document queued behind it.
func (s *Streamer) retryOne(ctx context.Context, p *producerCfg, syncLog string) (string, error) {
	var ev syncEvent
	var missing bool
	err := s.App.View(ctx, func(t *app.Tx) error {
		var err error
		if ev, err = loadSyncEvent(ctx, t, p, syncLog); err != nil {
			return err
		}
		if ev.log.UpdateType != "Update" {
			return nil
		}
		dt, err := t.Meta(ev.row.Str("ref_doctype"))
		if err != nil {
			return err
		}
		local, err := s.findLocal(ctx, t, dt, ev.log.DocName, p.name, ev.row.Int("use_same_name") != 0)
		missing = local == nil
		return err
	})
	if err != nil {
		return "", err
	}
	if missing {
		// The document never reached us (it predates the subscription, or its
		// Create failed for good): fetch its current state and create it.
		remote, err := p.client.GetDoc(ctx, ev.log.RefDocType, ev.log.DocName)
		if err == nil {
			b, _ := json.Marshal(remote)
			data, _ := json.Marshal(string(b))
			ev.log.UpdateType, ev.log.Data = "Create", data
		} else if !errs.Is(err, errs.KindUnavailable) {
			s.Log.Warn("stream: fetch for retry failed", "doc", ev.log.DocName, "err", err)
		}
	}
	deps, err := s.fetchDependencies(ctx, p, []remoteLog{ev.log})
	if err != nil {
		return "", err
	}
	status := ""
	err = s.App.Update(ctx, func(t *app.Tx) error {
		u, err := t.LoadUser(ctx, p.user)
		if err != nil {
			return err
		}
		if err := s.insertDependencies(ctx, t, p, deps); err != nil {
			return err
		}
		if status, err = s.applyAndRecord(ctx, t, u, ev); err != nil || status != "Synced" {
			return err
		}
		return s.drainQueued(ctx, t, p, ev)
	})
	if status == "Synced" {
		s.Metrics.EventsApplied.WithLabelValues(p.name).Inc()
	}
	return status, err
}

// drainQueued applies, in order, the events queued behind a document's
// failed event, stopping at the first that fails.
func (s *Streamer) drainQueued(ctx context.Context, t *app.Tx, p *producerCfg, first syncEvent) error {
	esl, _ := t.Meta("Event Sync Log")
	rows, err := t.Select(ctx, &filter.Query{DocType: esl, Fields: []string{"name"},
		OrderBy: []filter.Order{{Field: "seq"}, {Field: "creation"}},
		Where: []filter.Cond{
			{Field: "event_producer", Op: "=", Value: p.name, Kind: meta.KindText},
			{Field: "status", Op: "=", Value: "Queued", Kind: meta.KindText},
			{Field: "remote_doctype", Op: "=", Value: first.log.RefDocType, Kind: meta.KindText},
			{Field: "producer_doc", Op: "=", Value: first.log.DocName, Kind: meta.KindText},
		}})
	if err != nil {
		return err
	}
	user, err := t.LoadUser(ctx, p.user)
	if err != nil {
		return err
	}
	for _, r := range rows {
		ev, err := loadSyncEvent(ctx, t, p, r.Name())
		if err != nil {
			return err
		}
		st, err := s.applyAndRecord(ctx, t, user, ev)
		if err != nil || st != "Synced" {
			return err
		}
	}
	return nil
}

// loadSyncEvent rebuilds an event from its Event Sync Log.
func loadSyncEvent(ctx context.Context, t *app.Tx, p *producerCfg, name string) (syncEvent, error) {
	esl, _ := t.Meta("Event Sync Log")
	r, err := t.Load(ctx, esl, name, false)
	if err != nil {
		return syncEvent{}, err
	}
	var data json.RawMessage
	if r.Str("data") != "" {
		data, _ = json.Marshal(r.Str("data"))
	}
	remoteDT := r.Str("remote_doctype")
	if remoteDT == "" {
		remoteDT = r.Str("ref_doctype")
	}
	ev := syncEvent{producer: r.Str("event_producer"), syncLog: name, attempts: r.Int("attempts"),
		log: remoteLog{UpdateType: r.Str("update_type"), RefDocType: remoteDT, DocName: r.Str("producer_doc"),
			Data: data, Creation: r.Str("remote_creation")}}
	if seq := r.Int("seq"); seq > 0 {
		ev.log.Seq = &seq
	}
	ev.row = p.rows[remoteDT]
	if ev.row == nil {
		// The subscription row is gone or not approved: resync still uses the
		// naming and mapping the event was recorded with.
		ev.row = doc.Doc{"ref_doctype": r.Str("ref_doctype"), "use_same_name": boolInt(r.Str("use_same_name") == "1"), "mapping": r.Str("mapping")}
	}
	return ev, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Resync re-runs one Event Sync Log now (the Resync button, §8) and returns
// the resulting status. It moves nothing else: not the cursor, not other logs
// except the ones queued behind it.
func (s *Streamer) Resync(ctx context.Context, syncLog string) (string, error) {
	var producer string
	err := s.App.View(ctx, func(t *app.Tx) error {
		esl, _ := t.Meta("Event Sync Log")
		r, err := t.Load(ctx, esl, syncLog, false)
		if err != nil {
			return err
		}
		if r.Str("status") == "Synced" {
			return errs.Validation("Event Sync Log %s is already Synced", syncLog)
		}
		producer = r.Str("event_producer")
		return nil
	})
	if err != nil {
		return "", err
	}
	var p *producerCfg
	if err := s.App.View(ctx, func(t *app.Tx) error {
		var err error
		p, err = s.loadProducer(ctx, t, producer)
		return err
	}); err != nil {
		return "", err
	}
	if p == nil {
		return "", errs.NotFound("Event Producer %s not found", producer)
	}
	return s.retryOne(ctx, p, syncLog)
}

// ResyncAll re-runs every Failed event of a producer ("" for all producers).
func (s *Streamer) ResyncAll(ctx context.Context, producer string) (int, error) {
	var names []string
	err := s.App.View(ctx, func(t *app.Tx) error {
		esl, _ := t.Meta("Event Sync Log")
		where := []filter.Cond{{Field: "status", Op: "=", Value: "Failed", Kind: meta.KindText}}
		if producer != "" {
			where = append(where, filter.Cond{Field: "event_producer", Op: "=", Value: producer, Kind: meta.KindText})
		}
		rows, err := t.Select(ctx, &filter.Query{DocType: esl, Fields: []string{"name"}, Where: where, OrderBy: []filter.Order{{Field: "seq"}}})
		for _, r := range rows {
			names = append(names, r.Name())
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		st, err := s.Resync(ctx, name)
		if err != nil && !errs.Is(err, errs.KindValidation) {
			return n, err
		}
		if st == "Synced" {
			n++
		}
	}
	return n, nil
}

// apiResync is Frappe's resync(update=<Event Sync Log JSON>): answers
// "Synced" or "Failed".
func (s *Streamer) apiResync(c *api.Call) (any, error) {
	if !c.User.HasRole("System Manager") {
		return nil, errs.Permission("Only a System Manager can resync events")
	}
	d, err := c.Args.Doc("update")
	if err != nil {
		return nil, err
	}
	return s.Resync(c.Ctx, d.Name())
}

func (s *Streamer) apiResyncAll(c *api.Call) (any, error) {
	if !c.User.HasRole("System Manager") {
		return nil, errs.Permission("Only a System Manager can resync events")
	}
	return s.ResyncAll(c.Ctx, c.Args.Str("event_producer"))
}
