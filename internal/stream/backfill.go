package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"docstream/internal/api"
	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/perm"
	"docstream/internal/store"
)

// Backfill: Frappe streams only changes made after registration (W6,
// event_streaming #3). Here an approved subscription row with `backfill` on
// first receives the documents that already exist on the producer, in pages
// ordered by name, with its progress (done of total) and cursor stored on
// the row in the same transaction as each page, so a restart resumes where
// it stopped. Live changes keep flowing between pages; both paths upsert by
// name (or remote_docname), so the result has no gap and no duplicate.
//
// A page brings each document as it is when the page is read, which can be
// later than live changes of it the consumer has not applied yet: applied
// after the page, such a change would take the document back to an older
// state, or fail for good (a draft's edit on a copy that is already
// submitted), and hold back every later change of it. So the producer says
// which update log was its newest when it read the page (head_seq), and a
// live change of a document of that page numbered up to there is recorded
// as synced without being applied: the copy has it already (supersededBy).

const backfillMethod = "docstream.stream.get_documents_for_consumer"

// backfillPage answers the producer side: up to limit whole documents of
// doctype with name > after that the consumer may receive.
func (s *Streamer) apiBackfillPage(c *api.Call) (any, error) {
	consumer := c.Args.Str("event_consumer")
	doctype := c.Args.Str("doctype")
	after := c.Args.Str("after")
	limit, _ := strconv.Atoi(c.Args.Str("limit"))
	limit = min(max(limit, 1), 1000)
	var out map[string]any
	// One snapshot for the head and the documents (on PostgreSQL too): a
	// change up to the head is in the page, and none after it.
	err := s.App.Update(store.WithSnapshot(c.Ctx), func(t *app.Tx) error {
		eul, _ := t.Meta("Event Update Log")
		if !perm.Can(eul, c.User, perm.Read, "") {
			return errs.Permission("No permission to read Event Update Log")
		}
		ec, _ := t.Meta("Event Consumer")
		cons, err := t.Load(c.Ctx, ec, consumer, false)
		if err != nil {
			return err
		}
		var row doc.Doc
		for _, r := range cons.Rows("consumer_doctypes") {
			if r.Str("ref_doctype") == doctype && r.Str("status") == "Approved" && r.Int("unsubscribed") == 0 {
				row = r
			}
		}
		if row == nil {
			return errs.Permission("%s is not approved for %s", doctype, consumer)
		}
		dt, err := t.Meta(doctype)
		if err != nil {
			return err
		}
		// The backfill covers documents that existed when it started; later
		// ones reach the consumer through the update log anyway.
		until := c.Args.Str("until")
		if until == "" {
			until = doc.FormatDatetime(t.Now())
		}
		total, err := t.Count(c.Ctx, &filter.Query{DocType: dt, Where: []filter.Cond{
			{Field: "creation", Op: "<=", Value: until, Kind: meta.KindDatetime}}})
		if err != nil {
			return err
		}
		names, err := t.Select(c.Ctx, &filter.Query{DocType: dt, Fields: []string{"name"}, Limit: limit,
			Where: []filter.Cond{{Field: "name", Op: ">", Value: after, Kind: meta.KindText},
				{Field: "creation", Op: "<=", Value: until, Kind: meta.KindDatetime}},
			OrderBy: []filter.Order{{Field: "name"}}})
		if err != nil {
			return err
		}
		head, err := t.StreamHead(c.Ctx)
		if err != nil {
			return err
		}
		docs := make([]map[string]any, 0, len(names))
		last := after
		for _, n := range names {
			last = n.Name()
			d, err := t.Find(c.Ctx, dt, n.Name(), false)
			if err != nil || d == nil {
				return err
			}
			if d.Str("remote_site_name") == consumer {
				continue // it came from this consumer: sending it back would be an echo
			}
			if cnd := row.Str("condition"); cnd != "" {
				ok, err := Conditions.Match(c.Ctx, cnd, map[string]any{"doc": d.Plain(), "consumer": cons.Plain()})
				if err != nil || !ok {
					continue
				}
				if err := t.SetKV(c.Ctx, condKey(consumer, doctype, d.Name()), "1"); err != nil {
					return err
				}
			}
			docs = append(docs, d.WithoutNulls().Plain())
		}
		out = map[string]any{"docs": docs, "total": total, "after": last, "done": len(names) < limit, "head_seq": head, "until": until}
		return nil
	})
	return out, err
}

// backfillStep fetches and applies one page of the first subscription row
// whose backfill is not done. It reports whether it did any work.
func (s *Streamer) backfillStep(ctx context.Context, p *producerCfg) (bool, error) {
	var remoteDT string
	var row doc.Doc
	for dt, r := range p.rows {
		// "Failed": a Frappe producer refused the method; asking again on
		// every step would hammer it (and busy-loop this worker).
		if r.Int("backfill") != 0 && r.Str("backfill_status") != "Done" && r.Str("backfill_status") != "Failed" {
			if remoteDT == "" || dt < remoteDT {
				remoteDT, row = dt, r
			}
		}
	}
	if row == nil {
		return false, nil
	}
	args := url.Values{"event_consumer": {s.URL}, "doctype": {remoteDT}, "after": {row.Str("backfill_after")},
		"until": {row.Str("backfill_until")}, "limit": {strconv.Itoa(s.Cfg.PageSize)}}
	msg, _, err := p.client.Call(ctx, backfillMethod, args)
	if err != nil {
		if !p.native {
			// A Frappe producer has no backfill method: say so on the row.
			return true, s.setBackfill(ctx, p, row, func(r doc.Doc) {
				r["backfill_status"], r["backfill_error"] = "Failed", "the producer does not offer backfill (not a docstream site): "+err.Error()
			})
		}
		return false, err
	}
	var page backfillPage
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber() // numbers stay exact, as in a pulled Create
	if err := dec.Decode(&page); err != nil {
		return false, fmt.Errorf("backfill answer not understood: %w", err)
	}
	logs := make([]remoteLog, 0, len(page.Docs))
	for _, d := range page.Docs {
		b, _ := json.Marshal(d)
		text := string(b) // kept in the Event Sync Log
		name, _ := d["name"].(string)
		logs = append(logs, remoteLog{UpdateType: "Create", RefDocType: remoteDT, DocName: name, text: &text, decoded: doc.FromAny(d)})
	}
	if len(logs) == 0 {
		return true, s.setBackfill(ctx, p, row, func(r doc.Doc) { backfillProgress(r, &page, 0) })
	}
	// A backfilled Create brings a document's current state, so it is not
	// queued behind a failed live event of that document.
	err = s.applyBatch(ctx, p, logs, false, func(t *app.Tx) error {
		for _, l := range logs {
			if err := t.SetKV(ctx, backfilledKey(p.name, remoteDT, l.DocName), strconv.FormatInt(page.HeadSeq, 10)); err != nil {
				return err
			}
		}
		return s.updateRow(ctx, t, p.name, row, func(r doc.Doc) { backfillProgress(r, &page, len(logs)) })
	})
	return true, err
}

// backfilledKey names the head_seq of the backfill page that brought a
// producer's document.
func backfilledKey(producer, remoteDT, name string) string {
	return "backfilled\x1f" + producer + "\x1f" + remoteDT + "\x1f" + name
}

// forgetBackfills deletes the per-document marks of a subscription's
// finished backfill once nothing can need them: the live cursor is past the
// last page's head, and no failed or queued event of the DocType numbered up
// to it (nor a failed backfilled Create, numbered 0) waits for a retry. While
// some does, the Sync Log is looked at again at most once a minute.
func (s *Streamer) forgetBackfills(ctx context.Context, w *worker, p *producerCfg) error {
	now := s.Now()
	for dt, r := range p.rows {
		head := r.Int("backfill_head")
		if head <= 0 || p.lastSeq < head || r.Str("backfill_status") == "Running" || now.Before(w.forgetAt) {
			continue
		}
		err := s.App.Update(ctx, func(t *app.Tx) error {
			esl, err := t.Meta("Event Sync Log")
			if err != nil {
				return err
			}
			waiting, err := t.Count(ctx, &filter.Query{DocType: esl, Where: []filter.Cond{
				{Field: "event_producer", Op: "=", Value: p.name, Kind: meta.KindText},
				{Field: "remote_doctype", Op: "=", Value: dt, Kind: meta.KindText},
				{Field: "status", Op: "!=", Value: "Synced", Kind: meta.KindText},
				{Field: "seq", Op: "<=", Value: head, Kind: meta.KindInt}}})
			if err != nil || waiting > 0 {
				w.forgetAt = now.Add(time.Minute)
				return err
			}
			if err := t.DeleteKVPrefix(ctx, backfilledKey(p.name, dt, "")); err != nil {
				return err
			}
			return s.updateRow(ctx, t, p.name, r, func(r doc.Doc) { r["backfill_head"] = int64(0) })
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// supersededBy reports whether live event ev is already in the copy of its
// document that a backfill page brought (see the top of this file). Only an
// event numbered up to the subscription's last backfill head can be, so a
// subscription past its backfill pays nothing for this.
func (s *Streamer) supersededBy(ctx context.Context, t *app.Tx, ev syncEvent) (bool, error) {
	if ev.log.Seq == nil || *ev.log.Seq <= 0 || *ev.log.Seq > ev.row.Int("backfill_head") {
		return false, nil
	}
	v, ok, err := t.GetKV(ctx, backfilledKey(ev.producer, ev.log.RefDocType, ev.log.DocName))
	if err != nil || !ok {
		return false, err
	}
	head, err := strconv.ParseInt(v, 10, 64)
	return err == nil && *ev.log.Seq <= head, nil
}

// backfillPage is the producer's answer to a backfill pull.
type backfillPage struct {
	Docs    []map[string]any `json:"docs"`
	Total   int64            `json:"total"`
	After   string           `json:"after"`
	Until   string           `json:"until"`
	Done    bool             `json:"done"`
	HeadSeq int64            `json:"head_seq"`
}

// backfillProgress records a page on the subscription row.
func backfillProgress(r doc.Doc, page *backfillPage, n int) {
	r["backfill_after"] = page.After
	r["backfill_until"] = page.Until
	r["backfill_total"] = page.Total
	r["backfill_done"] = r.Int("backfill_done") + int64(n)
	r["backfill_status"] = map[bool]string{true: "Done", false: "Running"}[page.Done]
	r["backfill_head"] = max(r.Int("backfill_head"), page.HeadSeq)
}

func (s *Streamer) setBackfill(ctx context.Context, p *producerCfg, row doc.Doc, f func(doc.Doc)) error {
	return s.App.Update(ctx, func(t *app.Tx) error { return s.updateRow(ctx, t, p.name, row, f) })
}

// updateRow changes a subscription row without the Event Producer's hooks
// (nothing to tell the producer) and mirrors it into the worker's copy.
func (s *Streamer) updateRow(ctx context.Context, t *app.Tx, producer string, row doc.Doc, f func(doc.Doc)) error {
	rdt, _ := t.Meta("Event Producer Document Type")
	r, err := t.GetRow(ctx, rdt, row.Name(), true)
	if err != nil {
		return err
	}
	if r == nil {
		return errs.NotFound("subscription row %s of %s is gone", row.Name(), producer)
	}
	f(r)
	if err := t.UpdateRow(ctx, rdt, r); err != nil {
		return err
	}
	f(row)
	return nil
}
