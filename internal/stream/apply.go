package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// applyPage applies a page of logs in ONE transaction with the cursor, so a
// crash anywhere loses nothing and applies nothing twice (W3, W12).
func (s *Streamer) applyPage(ctx context.Context, p *producerCfg, pg page) error {
	end := pg.end(p)
	last := &pg.logs[len(pg.logs)-1]
	err := s.applyBatch(ctx, p, pg.logs, true, func(t *app.Tx) error {
		return s.moveCursor(ctx, t, p.name, end.lastUpdate, end.lastSeq, pg.head, last.Creation)
	})
	if err != nil {
		return err
	}
	p.lastUpdate, p.lastSeq = end.lastUpdate, end.lastSeq
	s.recordLag(p, pg.head, last)
	return nil
}

// applyBatch applies events in one transaction and calls finish in it
// (moving the cursor, or a backfill's progress). queue puts events of a
// document with an earlier failed event behind it.
//
// The batch is first applied straight through. If an event fails, that
// attempt is rolled back and the batch is applied again with a savepoint
// around each event: the failing event is rolled back alone and recorded as
// Failed (to be retried), while the others commit with finish. Savepoints
// cost three statements per event, and a backlog rarely fails.
func (s *Streamer) applyBatch(ctx context.Context, p *producerCfg, logs []remoteLog, queue bool, finish func(*app.Tx) error) error {
	var out pageOutcome
	decodeLogs(logs)
	deps, err := s.fetchDependencies(ctx, p, logs)
	if err != nil {
		return err
	}
	b := batch{logs: logs, deps: deps, queue: queue, finish: finish}
	err = s.App.Update(ctx, func(t *app.Tx) error { return s.applyLogs(ctx, t, p, b, &out) })
	if errors.Is(err, errEventFailed) {
		b.guarded = true
		err = s.App.Update(ctx, func(t *app.Tx) error { return s.applyLogs(ctx, t, p, b, &out) })
	}
	if err != nil {
		return err
	}
	s.Metrics.EventsApplied.WithLabelValues(p.name).Add(float64(out.applied))
	s.Metrics.EventsFailed.WithLabelValues(p.name).Add(float64(out.failed))
	return nil
}

// batch is what applyLogs applies.
type batch struct {
	logs    []remoteLog
	deps    []dependency
	queue   bool // queue events behind a document's failed one
	guarded bool // a savepoint per event (after an unguarded attempt failed)
	finish  func(*app.Tx) error
}

// errEventFailed ends an unguarded attempt at a page: one event failed.
var errEventFailed = errors.New("an event of the page failed")

type pageOutcome struct{ applied, failed int }

// applyLogs applies a batch inside t. Unguarded, it stops at the first
// failing event with errEventFailed; guarded, it isolates each event in a
// savepoint and records failures.
func (s *Streamer) applyLogs(ctx context.Context, t *app.Tx, p *producerCfg, b batch, out *pageOutcome) error {
	*out = pageOutcome{}
	logs, guarded := b.logs, b.guarded
	u, err := t.LoadUser(ctx, p.user)
	if err != nil {
		return fmt.Errorf("event subscriber %s: %w", p.user, err)
	}
	if err := s.insertDependencies(ctx, t, p, b.deps); err != nil {
		return err
	}
	blocked := map[string]bool{}
	if b.queue {
		if blocked, err = s.blockedDocs(ctx, t, p.name); err != nil {
			return err
		}
	}
	absent, err := s.probeAbsent(ctx, t, p, logs)
	if err != nil {
		return err
	}
	synced := make([]doc.Doc, 0, len(logs))
	for i, l := range logs {
		key := l.RefDocType + "\x00" + l.DocName
		ev := syncEvent{log: l, producer: p.name, row: p.rows[l.RefDocType], absent: absent[key]}
		delete(absent, key) // this event may create it: later ones look
		if guarded && l.decoded != nil {
			// The unguarded attempt changed its copy of the document.
			logs[i].decoded = nil
			ev.log.decoded = nil
		}
		switch {
		case ev.row == nil:
			// Not (or no longer) subscribed here: skip, but move on.
		case blocked[key]:
			// An earlier event of this document failed: keep order by
			// queueing behind it; other documents flow on.
			if err := s.writeSyncLog(ctx, t, ev, "Queued", "", "waiting for an earlier failed event of this document"); err != nil {
				return err
			}
		case !guarded:
			local, err := s.applyLog(ctx, t, u, ev)
			if err != nil {
				return errEventFailed
			}
			synced = append(synced, s.syncLogRow(t, ev, "Synced", local, ""))
			out.applied++
		default:
			status, local, err := s.applyEvent(ctx, t, u, ev)
			if err != nil {
				return err
			}
			if status == "Failed" {
				blocked[key] = true
				out.failed++
			} else {
				synced = append(synced, s.syncLogRow(t, ev, "Synced", local, ""))
				out.applied++
			}
		}
	}
	if err := s.insertSyncLogs(ctx, t, synced); err != nil {
		return err
	}
	return b.finish(t)
}

type syncEvent struct {
	log      remoteLog
	producer string
	row      doc.Doc // the subscription row
	syncLog  string  // the Event Sync Log being retried, if any
	attempts int64
	absent   bool // known not to be here (probed for the whole page)
}

// probeAbsent finds, in one query per DocType, which documents named by the
// page's events (use_same_name) are not here yet: in a backlog most events
// are Creates of new documents, and a query per event to learn that was a
// tenth of the apply.
func (s *Streamer) probeAbsent(ctx context.Context, t *app.Tx, p *producerCfg, logs []remoteLog) (map[string]bool, error) {
	names := map[string][]any{} // remote DocType → names
	for _, l := range logs {
		row := p.rows[l.RefDocType]
		if row == nil || row.Int("use_same_name") == 0 || row.Str("mapping") != "" {
			continue
		}
		names[l.RefDocType] = append(names[l.RefDocType], l.DocName)
	}
	absent := map[string]bool{}
	for remote, list := range names {
		dt, err := t.Meta(p.rows[remote].Str("ref_doctype"))
		if err != nil {
			continue // the events fail with their own error
		}
		rows, err := t.Select(ctx, &filter.Query{DocType: dt, Fields: []string{"name"},
			Where: []filter.Cond{{Field: "name", Op: "in", Value: list, Kind: meta.KindText}}})
		if err != nil {
			return nil, err
		}
		here := make(map[string]bool, len(rows))
		for _, r := range rows {
			here[r.Name()] = true
		}
		for _, n := range list {
			if !here[n.(string)] {
				absent[remote+"\x00"+n.(string)] = true
			}
		}
	}
	return absent, nil
}

// applyEvent applies one event under a savepoint. A failed event is rolled
// back alone and recorded in the Event Sync Log; a synced one is left for
// the caller to record (in a batch). It returns an error only when the
// transaction itself is broken.
func (s *Streamer) applyEvent(ctx context.Context, t *app.Tx, u perm.User, ev syncEvent) (status, local string, err error) {
	if err := t.Savepoint(ctx, "ev"); err != nil {
		return "", "", err
	}
	local, aerr := s.applyLog(ctx, t, u, ev)
	if aerr != nil {
		if err := t.RollbackTo(ctx, "ev"); err != nil {
			return "", "", err
		}
		if err := t.Release(ctx, "ev"); err != nil {
			return "", "", err
		}
		return "Failed", local, s.writeSyncLog(ctx, t, ev, "Failed", local, errorText(aerr))
	}
	if err := t.Release(ctx, "ev"); err != nil {
		return "", "", err
	}
	return "Synced", local, nil
}

// applyAndRecord applies one event under a savepoint and records its
// outcome, whatever it is (retries and backfill: an event at a time).
func (s *Streamer) applyAndRecord(ctx context.Context, t *app.Tx, u perm.User, ev syncEvent) (string, error) {
	status, local, err := s.applyEvent(ctx, t, u, ev)
	if err != nil || status != "Synced" {
		return status, err
	}
	return status, s.writeSyncLog(ctx, t, ev, "Synced", local, "")
}

func errorText(err error) string {
	if e, ok := errs.As(err); ok {
		return e.ExcType + ": " + e.Message
	}
	return err.Error()
}

// applyLog applies one Create, Update or Delete as the Event Subscriber, with
// the producer as origin (so it is not streamed back there: echo guard).
func (s *Streamer) applyLog(ctx context.Context, t *app.Tx, u perm.User, ev syncEvent) (string, error) {
	l := &ev.log
	var m *mapping
	localDT := ev.row.Str("ref_doctype")
	if ev.row.Str("mapping") != "" && (ev.row.Int("has_mapping") != 0 || ev.syncLog != "") {
		var err error
		if m, err = loadMapping(ctx, t, ev.row.Str("mapping"), 0); err != nil {
			return "", err
		}
		localDT = m.local
	}
	dt, err := t.Meta(localDT)
	if err != nil {
		return "", err
	}
	sameName := ev.row.Int("use_same_name") != 0
	var local doc.Doc
	if !ev.absent {
		var err error
		if local, err = s.findLocal(ctx, t, dt, l.DocName, ev.producer, sameName); err != nil {
			return "", err
		}
	}
	localName := ""
	if local != nil {
		localName = local.Name()
	}
	if done, err := s.supersededBy(ctx, t, ev); err != nil || done {
		return localName, err // already in the backfilled copy (backfill.go)
	}
	opts := app.Opts{Origin: ev.producer, KeepChildNames: true}
	data := l.dataString()
	switch l.UpdateType {
	case "Create":
		d, err := l.createDoc()
		if err != nil {
			return localName, errs.Validation("Create data is not a JSON document: %v", err)
		}
		// The decoded copy is the page's own (the dependency scan only read
		// it); a guarded retry of the page decodes it again.
		if m != nil {
			p, err := s.producerClient(ctx, t, ev.producer)
			if err != nil {
				return localName, err
			}
			if d, err = s.mapDoc(ctx, t, p.client, p, m, d, true); err != nil {
				return localName, err
			}
		}
		d = incoming(d)
		if local != nil {
			// Replayed or re-sent Create: bring the local copy to this state
			// instead of inserting a duplicate (Create is idempotent).
			_, err = t.Save(ctx, u, dt.Name, localName, d, opts)
			return localName, err
		}
		if sameName {
			opts.SetName = l.DocName
		} else {
			d["remote_docname"], d["remote_site_name"] = l.DocName, ev.producer
		}
		out, err := t.Insert(ctx, u, dt.Name, d, opts)
		if err != nil {
			return "", err
		}
		return out.Name(), nil
	case "Update":
		if local == nil {
			return "", errs.NotFound("%s %s (producer name) does not exist here yet: Resync fetches it from the producer", dt.Name, l.DocName)
		}
		diff, err := doc.DecodeUpdate([]byte(data))
		if err != nil {
			return localName, errs.Validation("Update data is not a valid diff: %v", err)
		}
		if m != nil {
			p, err := s.producerClient(ctx, t, ev.producer)
			if err != nil {
				return localName, err
			}
			if diff, err = s.mapUpdate(ctx, t, p.client, p, m, diff); err != nil {
				return localName, err
			}
		}
		next, err := doc.Apply(dt, local, diff)
		if err != nil {
			return localName, err
		}
		_, err = t.Save(ctx, u, dt.Name, localName, incoming(next), opts)
		return localName, err
	case "Delete":
		if local == nil {
			return "", nil // already gone: deleting is idempotent
		}
		if local.Int("docstatus") == 1 {
			if _, err := t.Save(ctx, u, dt.Name, localName, doc.Doc{"docstatus": int64(2)}, opts); err != nil {
				return localName, err
			}
		}
		return localName, t.Delete(ctx, u, dt.Name, localName, opts)
	}
	return localName, errs.Validation("unknown update type %q", l.UpdateType)
}

// incoming strips what the consumer sets itself: timestamps, owner and
// private keys; child rows keep their names.
func incoming(d doc.Doc) doc.Doc {
	d.StripPrivate()
	for _, k := range []string{"owner", "creation", "modified", "modified_by", "doctype"} {
		delete(d, k)
	}
	for k, v := range d {
		if rows, ok := v.([]doc.Doc); ok {
			for _, r := range rows {
				r.StripPrivate()
				for _, ck := range []string{"owner", "creation", "modified", "modified_by", "parent", "parenttype", "parentfield", "doctype", "docstatus"} {
					delete(r, ck)
				}
			}
			d[k] = rows
		}
	}
	return d
}

// findLocal finds the local copy of a producer document: by name, or by
// remote_docname AND remote_site_name (Frappe matches on remote_docname
// alone, so two producers with the same names collide).
func (s *Streamer) findLocal(ctx context.Context, t *app.Tx, dt *meta.DocType, remoteName, producer string, sameName bool) (doc.Doc, error) {
	if sameName {
		// Most events of a backlog are Creates of documents not here yet: a
		// primary-key probe is far cheaper than loading rows and children.
		if ok, err := t.Exists(ctx, dt, remoteName); err != nil || !ok {
			return nil, err
		}
		return t.Find(ctx, dt, remoteName, true)
	}
	if dt.Field("remote_docname") == nil {
		return nil, errs.Validation("%s has no remote_docname field: save the Event Producer again to add it", dt.Name)
	}
	rows, err := t.Select(ctx, &filter.Query{DocType: dt, Fields: []string{"name"}, Limit: 1, Where: []filter.Cond{
		{Field: "remote_docname", Op: "=", Value: remoteName, Kind: meta.KindText},
		{Field: "remote_site_name", Op: "=", Value: producer, Kind: meta.KindText},
	}})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return t.Find(ctx, dt, rows[0].Name(), true)
}

// writeSyncLog records one event's outcome. Failed and Queued entries keep
// the raw event so that it can be retried or resynced exactly. Retrying an
// event updates its existing entry.
func (s *Streamer) writeSyncLog(ctx context.Context, t *app.Tx, ev syncEvent, status, localName, errText string) error {
	esl, err := t.Meta("Event Sync Log")
	if err != nil {
		return err
	}
	row := s.syncLogRow(t, ev, status, localName, errText)
	if ev.syncLog != "" {
		old, err := t.GetRow(ctx, esl, ev.syncLog, true)
		if err != nil || old == nil {
			return err
		}
		for k, v := range row {
			switch k {
			case "name", "owner", "creation", "docstatus", "idx":
				continue
			}
			old[k] = v
		}
		if status != "Failed" {
			old["next_retry"] = nil
		}
		return t.UpdateRow(ctx, esl, old)
	}
	names, err := s.syncLogNames(ctx, t, 1)
	if err != nil {
		return err
	}
	row["name"] = names[0]
	return t.InsertRow(ctx, esl, row)
}

// syncLogRow is a new Event Sync Log row for an event (without its name).
func (s *Streamer) syncLogRow(t *app.Tx, ev syncEvent, status, localName, errText string) doc.Doc {
	data := ev.log.dataString()
	now := t.Now()
	ts := doc.FormatDatetime(now)
	row := doc.Doc{"update_type": ev.log.UpdateType, "ref_doctype": ev.row.Str("ref_doctype"), "status": status,
		"event_producer": ev.producer, "producer_doc": ev.log.DocName, "docname": nilIfEmpty(localName),
		"use_same_name": strconv.FormatInt(ev.row.Int("use_same_name"), 10), "mapping": nilIfEmpty(ev.row.Str("mapping")),
		"data": nilIfEmpty(data), "error": nilIfEmpty(errText), "remote_doctype": ev.log.RefDocType,
		"remote_creation": ev.log.Creation, "attempts": ev.attempts, "modified": ts, "modified_by": "Administrator",
		"owner": "Administrator", "creation": ts, "docstatus": int64(0), "idx": int64(0)}
	if ev.log.Seq != nil {
		row["seq"] = *ev.log.Seq
	}
	if status == "Failed" {
		row["attempts"] = ev.attempts + 1
		row["next_retry"] = doc.FormatDatetime(now.Add(s.retryDelay(ev.attempts + 1)))
	}
	return row
}

// insertSyncLogs records the synced events of a page in a few statements.
func (s *Streamer) insertSyncLogs(ctx context.Context, t *app.Tx, rows []doc.Doc) error {
	if len(rows) == 0 {
		return nil
	}
	esl, err := t.Meta("Event Sync Log")
	if err != nil {
		return err
	}
	names, err := s.syncLogNames(ctx, t, len(rows))
	if err != nil {
		return err
	}
	for i, r := range rows {
		r["name"] = names[i]
	}
	return t.InsertRows(ctx, esl, rows)
}

// retryDelay doubles from RetryBase up to 10 minutes.
func (s *Streamer) retryDelay(attempts int64) time.Duration {
	d := s.Cfg.RetryBase
	for i := int64(1); i < attempts && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// moveCursor stores the new cursor in the same transaction as the page.
func (s *Streamer) moveCursor(ctx context.Context, t *app.Tx, producer, lastUpdate string, lastSeq, head int64, lastCreation string) error {
	lu, _ := t.Meta("Event Producer Last Update")
	row, err := t.GetRow(ctx, lu, producer, true)
	if err != nil {
		return err
	}
	if row == nil {
		_, err := t.Insert(ctx, app.Admin(), "Event Producer Last Update", doc.Doc{"event_producer": producer,
			"last_update": lastUpdate, "last_seq": lastSeq, "head_seq": head, "last_event_time": lastCreation}, app.Opts{IgnorePermissions: true})
		return err
	}
	row["last_update"], row["last_seq"], row["head_seq"] = lastUpdate, lastSeq, max(head, lastSeq)
	if lastCreation != "" {
		row["last_event_time"] = lastCreation
	}
	row["modified"] = doc.FormatDatetime(t.Now())
	return t.UpdateRow(ctx, lu, row)
}

// blockedDocs lists the documents of a producer with a Failed or Queued event.
func (s *Streamer) blockedDocs(ctx context.Context, t *app.Tx, producer string) (map[string]bool, error) {
	esl, _ := t.Meta("Event Sync Log")
	rows, err := t.Select(ctx, &filter.Query{DocType: esl, Fields: []string{"remote_doctype", "producer_doc"}, Where: []filter.Cond{
		{Field: "event_producer", Op: "=", Value: producer, Kind: meta.KindText},
		{Field: "status", Op: "in", Value: []any{"Failed", "Queued"}, Kind: meta.KindText},
	}})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range rows {
		out[r.Str("remote_doctype")+"\x00"+r.Str("producer_doc")] = true
	}
	return out, nil
}

// recordLag updates the lag gauges after a pull.
func (s *Streamer) recordLag(p *producerCfg, head int64, last *remoteLog) {
	if head > 0 {
		s.Metrics.ProducerLagEvents.WithLabelValues(p.name).Set(float64(max(head-p.lastSeq, 0)))
	}
	lagSec := 0.0
	if last != nil && head > p.lastSeq {
		if t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", last.Creation, time.Local); err == nil {
			lagSec = max(s.Now().Sub(t).Seconds(), 0)
		}
	}
	s.Metrics.ProducerLagSeconds.WithLabelValues(p.name).Set(lagSec)
}

// producerClient loads the producer's configuration for the calls a mapped
// event makes (Document dependencies).
func (s *Streamer) producerClient(ctx context.Context, t *app.Tx, producer string) (*producerCfg, error) {
	p, err := s.loadProducer(ctx, t, producer)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errs.NotFound("Event Producer %s not found", producer)
	}
	return p, nil
}
