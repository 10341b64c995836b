package stream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"docstream/internal/api"
	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// apiRegisterConsumer is register_consumer (reference §2.4 step 6): it creates
// the Event Consumer named by the consumer's URL with every row Pending and
// answers a JSON *string* {"last_update": …}. We add "last_seq" inside that
// string; Frappe consumers ignore the extra key.
func (s *Streamer) apiRegisterConsumer(c *api.Call) (any, error) {
	if !c.User.HasRole("System Manager") {
		return nil, errs.Permission("Only a System Manager can register an Event Consumer")
	}
	raw, err := c.Args.JSON("data")
	if err != nil {
		return nil, err
	}
	data, ok := raw.(map[string]any)
	if !ok {
		return nil, errs.Validation("register_consumer: data must be a JSON object")
	}
	str := func(k string) string { v, _ := data[k].(string); return v }
	url := strings.TrimSuffix(str("event_consumer"), "/")
	if url == "" {
		return nil, errs.Validation("register_consumer: event_consumer (the consumer's URL) is required")
	}
	var rows []map[string]any
	switch cd := data["consumer_doctypes"].(type) {
	case string: // double-encoded, as Frappe sends it
		if err := json.Unmarshal([]byte(cd), &rows); err != nil {
			return nil, errs.Validation("register_consumer: consumer_doctypes is not a JSON list: %v", err)
		}
	case []any:
		for _, r := range cd {
			if m, ok := r.(map[string]any); ok {
				rows = append(rows, m)
			}
		}
	}
	if len(rows) == 0 {
		return nil, errs.Validation("register_consumer: consumer_doctypes is empty")
	}
	var out map[string]any
	err = s.App.Update(c.Ctx, func(t *app.Tx) error {
		ec, _ := t.Meta("Event Consumer")
		if ok, err := t.Exists(c.Ctx, ec, url); err != nil || ok {
			if ok {
				return errs.Duplicate("An Event Consumer for %s is already registered", url)
			}
			return err
		}
		u, err := t.LoadUser(c.Ctx, str("user"))
		if err != nil || !u.HasRole("System Manager") {
			return errs.Validation("User %s must exist on the producer and have the System Manager role", str("user"))
		}
		var crows []doc.Doc
		for _, r := range rows {
			dt, _ := r["doctype"].(string)
			if _, err := t.Meta(dt); err != nil {
				return errs.Validation("DocType %s does not exist on the producer", dt)
			}
			cond, _ := r["condition"].(string)
			crows = append(crows, doc.Doc{"ref_doctype": dt, "status": "Pending", "condition": nilIfEmpty(cond)})
		}
		d := doc.Doc{"callback_url": url, "user": str("user"), "api_key": str("api_key"), "api_secret": str("api_secret"),
			"incoming_change": int64(1), "consumer_doctypes": crows, "method_prefix": prefixOf(c.R)}
		if _, err := t.Insert(c.Ctx, app.Admin(), "Event Consumer", d, app.Opts{IgnorePermissions: true, Flags: map[string]bool{"incoming_change": true}}); err != nil {
			return err
		}
		head, last, err := s.head(c.Ctx, t)
		if err != nil {
			return err
		}
		out = map[string]any{"last_update": last, "last_seq": head}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(out)
	return string(b), nil
}

// prefixOf tells which method prefix the caller used, so the producer calls
// the consumer back with the prefix it serves (Appendix A.2).
func prefixOf(r *http.Request) string {
	p := r.URL.Path + "?" + r.URL.RawQuery + r.FormValue("cmd")
	if strings.Contains(p, PrefixApp) {
		return PrefixApp
	}
	return PrefixCore
}

// head returns the newest seq and the creation of the newest log ("now" when
// there is none), which a new consumer starts after.
func (s *Streamer) head(ctx context.Context, t *app.Tx) (int64, string, error) {
	seq, err := t.StreamHead(ctx)
	if err != nil {
		return 0, "", err
	}
	eul, _ := t.Meta("Event Update Log")
	rows, err := t.Select(ctx, &filter.Query{DocType: eul, Fields: []string{"creation"}, OrderBy: []filter.Order{{Field: "seq", Desc: true}}, Limit: 1})
	if err != nil {
		return 0, "", err
	}
	if len(rows) == 0 {
		return seq, doc.FormatDatetime(t.Now()), nil
	}
	return seq, rows[0].Str("creation"), nil
}

// pullArgs are get_update_logs_for_consumer's arguments. after_seq, limit
// and wait are docstream's extensions; a Frappe consumer sends none of them
// and gets Frappe's behaviour and shape.
type pullArgs struct {
	consumer   string
	doctypes   []string
	lastUpdate string
	afterSeq   int64
	native     bool
	limit      int
	wait       time.Duration
}

func (s *Streamer) readPullArgs(c *api.Call) (pullArgs, error) {
	p := pullArgs{consumer: strings.TrimSuffix(c.Args.Str("event_consumer"), "/"), lastUpdate: c.Args.Str("last_update")}
	if p.consumer == "" {
		return p, errs.Validation("event_consumer is required")
	}
	raw, err := c.Args.JSON("doctypes")
	if err != nil {
		return p, err
	}
	if l, ok := raw.([]any); ok {
		for _, v := range l {
			if s, ok := v.(string); ok {
				p.doctypes = append(p.doctypes, s)
			}
		}
	}
	num := func(k string) (int64, bool, error) {
		v := c.Args.Str(k)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, true, errs.Validation("%s must be a non-negative integer", k)
		}
		return n, true, nil
	}
	var has bool
	if p.afterSeq, p.native, err = num("after_seq"); err != nil {
		return p, err
	}
	lim, hasLim, err := num("limit")
	if err != nil {
		return p, err
	}
	p.limit = s.Cfg.FrappePage
	if hasLim {
		p.limit = int(min(max(lim, 1), 5000))
	}
	w, has, err := num("wait")
	if err != nil {
		return p, err
	}
	if has {
		p.wait = time.Duration(min(w, 60)) * time.Second
	}
	return p, nil
}

// apiGetUpdateLogs is get_update_logs_for_consumer, paged (W1), ordered by
// the commit-ordered seq (no late commit is skipped), without the changes
// that came from this consumer (echo guard, W4), and long-polled on request.
func (s *Streamer) apiGetUpdateLogs(c *api.Call) (any, error) {
	p, err := s.readPullArgs(c)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(p.wait)
	if p.native && p.wait > 0 {
		s.pollStarted(p.consumer)
		defer s.pollEnded(p.consumer)
	}
	for {
		if p.native && p.wait > 0 {
			if d := s.batchWait(p.consumer); d > 0 {
				t := time.NewTimer(min(d, time.Until(deadline)))
				select {
				case <-t.C:
				case <-c.Ctx.Done():
					t.Stop()
					return []any{}, nil
				}
			}
		}
		wake := s.newLogs.Wait()
		pg, err := s.serveLogs(c.Ctx, c.User, p)
		if err != nil {
			return nil, err
		}
		c.W.Header().Set("X-Docstream-Head-Seq", strconv.FormatInt(pg.head, 10))
		c.W.Header().Set("X-Docstream-Scanned-Seq", strconv.FormatInt(pg.scanned, 10))
		// A native consumer whose cursor can move past logs it may not see
		// (conditions, echoes, other DocTypes) is answered at once, so those
		// are not scanned again on every pull.
		if pg.n > 0 || (p.native && pg.scanned > p.afterSeq) || p.wait <= 0 || time.Now().After(deadline) {
			if pg.more && !p.native {
				// A Frappe consumer takes what it gets and waits for the next
				// notification: send one so it drains the backlog, and more
				// until it pulls again (it drops those that arrive while its
				// pull job still runs).
				s.kickConsumer(p.consumer)
				if pg.n > 0 { // else its cursor cannot move: no use
					s.renotifyUntilPulled(p.consumer)
				}
			}
			if p.native && p.wait > 0 {
				s.pollAnswered(p.consumer, pg.n, p.limit)
			}
			s.Metrics.LogsServed.WithLabelValues(p.consumer).Add(float64(pg.n))
			if pg.raw != nil {
				s.Metrics.PullsServed.WithLabelValues(p.consumer, "memory").Inc()
				return pg.raw, nil
			}
			s.Metrics.PullsServed.WithLabelValues(p.consumer, "table").Inc()
			return pg.logs, nil
		}
		// The broadcast only hears commits of this process; where another
		// process may write the next log (PostgreSQL), look again every
		// half second.
		d := time.Until(deadline)
		if !s.App.Store.SoleWriter() {
			d = min(d, 500*time.Millisecond)
		}
		// An acknowledgement this pull skipped is written once it is due,
		// so a consumer at rest is not shown behind for a whole long-poll.
		if pending, wait := s.ackPending(p.consumer, p.afterSeq); p.native && pending {
			d = min(d, max(wait, time.Millisecond))
		}
		t := time.NewTimer(d)
		select {
		case <-wake:
		case <-t.C:
		case <-c.Ctx.Done():
			t.Stop()
			return []any{}, nil
		}
		t.Stop()
	}
}

// serveLogs reads one page for a consumer and records its acknowledgement
// (the cursor it sent: it has applied everything up to there). scanned is the
// seq up to which every log was examined for this consumer: the head when the
// page is not full (the head is read before the page), else the page's last.
func (s *Streamer) serveLogs(ctx context.Context, u perm.User, p pullArgs) (servedPage, error) {
	var pg servedPage
	// A docstream consumer pulls again as soon as it has applied a page, so
	// writing its acknowledgement on every pull made each live change cost
	// the producer a write transaction (and, on PostgreSQL, a flush). It is
	// written at most every ackEvery, and not again for the same cursor;
	// otherwise the pull only reads. Retention then sees an acknowledgement
	// a moment old, which only prunes later.
	pending, wait := s.ackPending(p.consumer, p.afterSeq)
	write := !p.native || (pending && wait <= 0)
	run := s.App.View
	if write {
		run = s.App.Update
	}
	var scanKey string // a Frappe pull's, without conditions (frappescan.go)
	serve := func(t *app.Tx) error {
		pg, scanKey = servedPage{}, ""
		eul, err := t.Meta("Event Update Log")
		if err != nil {
			return err
		}
		if !perm.Can(eul, u, perm.Read, "") {
			return errs.Permission("No permission to read Event Update Log")
		}
		consumer, err := s.consumerDoc(ctx, t, p.consumer, p.native)
		if err != nil {
			return err
		}
		approved := map[string]doc.Doc{}
		for _, r := range consumer.Rows("consumer_doctypes") {
			if r.Str("status") == "Approved" && r.Int("unsubscribed") == 0 {
				approved[r.Str("ref_doctype")] = r
			}
		}
		var dts []any
		for _, d := range p.doctypes {
			if approved[d] != nil {
				dts = append(dts, d)
				if !write && approved[d].Str("condition") != "" {
					return errServeWrites // conditions record what was sent
				}
			}
		}
		if !write && len(dts) > 0 && s.fromTail(p, dts, &pg) {
			s.setConsumerLag(consumer.Name(), pg.head, p.afterSeq)
			return nil
		}
		if pg.head, err = t.StreamHead(ctx); err != nil {
			return err
		}
		if err := s.ack(ctx, t, consumer, p, pg.head, write); err != nil {
			return err
		}
		pg.scanned = pg.head
		if len(dts) == 0 {
			return nil
		}
		if !p.native {
			scanKey = frappeScanKey(p.lastUpdate, dts)
			for _, d := range dts {
				if approved[d.(string)].Str("condition") != "" {
					scanKey = ""
				}
			}
		}
		// A Frappe consumer's only cursor is the creation of what it receives:
		// if a whole page is withheld (conditions), it would ask for the same
		// page forever, so keep scanning (a bounded number of pages).
		lastUpdate := p.lastUpdate
		for range 50 {
			q := &filter.Query{DocType: eul, Fields: []string{"name", "update_type", "ref_doctype", "docname", "data", "creation", "seq"},
				Where: []filter.Cond{
					{Field: "ref_doctype", Op: "in", Value: dts, Kind: meta.KindText},
					{Field: "origin", Op: "!=", Value: p.consumer, Kind: meta.KindText},
				},
				OrderBy: []filter.Order{{Field: "seq"}}, Limit: p.limit + 1}
			if p.native {
				q.Where = append(q.Where, filter.Cond{Field: "seq", Op: ">", Value: p.afterSeq, Kind: meta.KindInt})
			} else {
				// creation increases with seq, so "creation > cursor" is
				// "seq >= the first such log's": the page is a range of seq.
				from, ok, err := firstLogAfter(ctx, t, lastUpdate, false)
				if err != nil || !ok {
					return err
				}
				if scanKey != "" {
					from = max(from, s.scannedThrough(p.consumer, scanKey)+1)
				}
				q.Where = append(q.Where, filter.Cond{Field: "creation", Op: ">", Value: lastUpdate, Kind: meta.KindDatetime},
					filter.Cond{Field: "seq", Op: ">=", Value: from, Kind: meta.KindInt})
			}
			rows, err := t.Select(ctx, q)
			if err != nil {
				return err
			}
			pg.more = false
			if len(rows) > p.limit {
				rows, pg.more = rows[:p.limit], true
				pg.scanned = rows[len(rows)-1].Int("seq")
			}
			if pg.logs, err = s.filterByCondition(ctx, t, consumer, approved, rows); err != nil {
				return err
			}
			pg.n = len(pg.logs)
			if pg.n > 0 || !pg.more || p.native {
				return nil
			}
			lastUpdate = rows[len(rows)-1].Str("creation")
		}
		return nil
	}
	err := run(ctx, serve)
	if errors.Is(err, errServeWrites) {
		write = true
		err = s.App.Update(ctx, serve)
	}
	if err == nil && write && p.native {
		s.acked(p.consumer, p.afterSeq)
	}
	if err == nil && scanKey != "" && pg.n == 0 && !pg.more {
		s.rememberScan(p.consumer, scanKey, pg.head)
	}
	if pg.logs == nil && pg.raw == nil {
		pg.logs = []map[string]any{}
	}
	return pg, err
}

// errServeWrites ends a read-only serve that turns out to need writes.
var errServeWrites = errors.New("serving this pull writes")

// ackEvery is how often a docstream consumer's acknowledgement is written.
const ackEvery = time.Second

// ackState is the acknowledgement this process last wrote for a consumer.
type ackState struct {
	at  time.Time
	seq int64
}

// ackPending reports whether the acknowledgement of cursor seq is not yet
// written by this process for consumer, and how long until it is due (at
// most one write every ackEvery; due now when wait <= 0).
func (s *Streamer) ackPending(consumer string, seq int64) (pending bool, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acks[consumer]
	return a.seq != seq, a.at.Add(ackEvery).Sub(s.Now())
}

func (s *Streamer) acked(consumer string, seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acks[consumer] = ackState{s.Now(), seq}
}

// ack records how far a consumer has applied, for lag figures and retention.
func (s *Streamer) ack(ctx context.Context, t *app.Tx, consumer doc.Doc, p pullArgs, head int64, write bool) error {
	acked := consumer.Int("acked_seq")
	if p.native {
		acked = p.afterSeq
	} else if p.lastUpdate != "" {
		// Every log before the first one after its cursor.
		next, ok, err := firstLogAfter(ctx, t, p.lastUpdate, false)
		if err != nil {
			return err
		}
		acked = head
		if ok {
			acked = next - 1
		}
	}
	s.setConsumerLag(consumer.Name(), head, acked)
	if pruned, err := s.prunedThrough(ctx, t); err == nil && p.native && acked < pruned {
		return errs.Validation("Consumer %s is behind the producer's retained history (it has applied up to %d, logs up to %d were pruned): resync it from scratch (backfill)", consumer.Name(), acked, pruned)
	}
	if !write {
		return nil
	}
	ec, _ := t.Meta("Event Consumer")
	row, err := t.GetRow(ctx, ec, consumer.Name(), false)
	if err != nil || row == nil {
		return err
	}
	row["acked_seq"] = acked
	row["last_pull"] = doc.FormatDatetime(t.Now())
	return t.UpdateRow(ctx, ec, row)
}

// setConsumerLag shows how many logs consumer has not acknowledged.
func (s *Streamer) setConsumerLag(consumer string, head, acked int64) {
	s.Metrics.ConsumerLagEvents.WithLabelValues(consumer).Set(float64(max(head-acked, 0)))
}

// logRecord is a log as Frappe's consumer expects it, plus seq.
func logRecord(r doc.Doc) map[string]any {
	return map[string]any{"name": r.Name(), "update_type": r["update_type"], "ref_doctype": r["ref_doctype"],
		"docname": r["docname"], "data": r["data"], "creation": r["creation"], "seq": r["seq"]}
}

func (s *Streamer) apiNotifyConsumers(c *api.Call) (any, error) {
	if !c.User.HasRole("System Manager") {
		return nil, errs.Permission("Only a System Manager can notify consumers")
	}
	s.kickNotifiers(c.Args.Str("doctype"))
	return nil, nil
}
