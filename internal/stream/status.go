package stream

import (
	"context"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// Peer states for the dashboard.
const (
	StateConnected = "connected"
	StateLagging   = "lagging"
	StateFailing   = "failing"
	StatePending   = "pending"
)

// Thresholds above which a peer shows as lagging.
const (
	lagEventsWarn  = 100
	lagSecondsWarn = 30.0
)

// Overview is the streaming state of this site, for the desk dashboard.
type Overview struct{ Producers, Consumers []PeerStatus }

// PeerStatus is one Event Producer or Event Consumer.
type PeerStatus struct {
	Name                               string
	State                              string
	LagEvents                          int64
	LagSeconds                         float64
	EventsPerMinute, FailuresPerMinute []Point
	LastError                          string
	Backfill                           *Progress
}

// Point is one sample of a per-minute series.
type Point struct {
	T time.Time
	V float64
}

// Progress is a running backfill.
type Progress struct {
	Done, Total int64
	DocType     string
}

// Overview reads every producer and consumer of this site.
func (s *Streamer) Overview(ctx context.Context) (Overview, error) {
	var o Overview
	err := s.App.View(ctx, func(t *app.Tx) error {
		var err error
		if o.Producers, err = s.producerStatuses(ctx, t); err != nil {
			return err
		}
		o.Consumers, err = s.consumerStatuses(ctx, t)
		return err
	})
	return o, err
}

func (s *Streamer) producerStatuses(ctx context.Context, t *app.Tx) ([]PeerStatus, error) {
	ep, _ := t.Meta("Event Producer")
	rows, err := t.Select(ctx, &filter.Query{DocType: ep, Fields: []string{"name"}, OrderBy: []filter.Order{{Field: "name"}}})
	if err != nil {
		return nil, err
	}
	since := s.Now().Add(-time.Hour)
	var out []PeerStatus
	for _, r := range rows {
		d, err := t.Load(ctx, ep, r.Name(), false)
		if err != nil {
			return nil, err
		}
		ps := PeerStatus{Name: d.Name(), State: StatePending}
		approved := false
		for _, row := range d.Rows("producer_doctypes") {
			if row.Str("status") != "Approved" {
				continue
			}
			approved = true
			if row.Int("backfill") != 0 && row.Str("backfill_status") != "Done" && row.Str("backfill_status") != "Failed" {
				ps.Backfill = &Progress{Done: row.Int("backfill_done"), Total: row.Int("backfill_total"), DocType: row.Str("ref_doctype")}
			}
		}
		lu, _ := t.Meta("Event Producer Last Update")
		cur, err := t.Find(ctx, lu, d.Name(), false)
		if err != nil {
			return nil, err
		}
		if cur != nil {
			ps.LagEvents = max(cur.Int("head_seq")-cur.Int("last_seq"), 0)
			if ps.LagEvents > 0 {
				if ts, err := time.ParseInLocation(doc.DatetimeLayout, cur.Str("last_event_time"), time.Local); err == nil {
					ps.LagSeconds = max(s.Now().Sub(ts).Seconds(), 0)
				}
			}
		}
		esl, _ := t.Meta("Event Sync Log")
		logs, err := t.Select(ctx, &filter.Query{DocType: esl, Fields: []string{"creation", "status", "error", "attempts"}, Limit: 20000,
			OrderBy: []filter.Order{{Field: "creation", Desc: true}},
			Where: []filter.Cond{{Field: "event_producer", Op: "=", Value: d.Name(), Kind: meta.KindText},
				{Field: "creation", Op: ">", Value: doc.FormatDatetime(since), Kind: meta.KindDatetime}}})
		if err != nil {
			return nil, err
		}
		events, failures := make([]float64, 60), make([]float64, 60)
		for _, l := range logs {
			ts, err := time.ParseInLocation(doc.DatetimeLayout, l.Str("creation"), time.Local)
			if err != nil {
				continue
			}
			i := 59 - int(s.Now().Sub(ts)/time.Minute)
			if i < 0 || i > 59 {
				continue
			}
			// An event that failed counts as a failure in the minute it
			// arrived, even once a retry or Resync has synced it since.
			if l.Str("status") == "Failed" || l.Int("attempts") > 0 {
				failures[i]++
			}
			switch l.Str("status") {
			case "Synced":
				events[i]++
			case "Failed":
				if ps.LastError == "" {
					ps.LastError = l.Str("error")
				}
			}
		}
		ps.EventsPerMinute, ps.FailuresPerMinute = series(s.Now(), events), series(s.Now(), failures)
		failed, err := t.Count(ctx, &filter.Query{DocType: esl, Where: []filter.Cond{
			{Field: "event_producer", Op: "=", Value: d.Name(), Kind: meta.KindText},
			{Field: "status", Op: "=", Value: "Failed", Kind: meta.KindText}}})
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		w := s.workers[d.Name()]
		var werr string
		var werrAt time.Time
		if w != nil {
			werr, werrAt = w.lastErr, w.lastErrAt
		}
		s.mu.Unlock()
		recentErr := werr != "" && s.Now().Sub(werrAt) < 2*time.Minute
		if recentErr {
			ps.LastError = werr
		}
		switch {
		case !approved:
			ps.State = StatePending
		case recentErr || failed > 0:
			ps.State = StateFailing
		case ps.LagEvents > lagEventsWarn || ps.LagSeconds > lagSecondsWarn:
			ps.State = StateLagging
		default:
			ps.State = StateConnected
		}
		out = append(out, ps)
	}
	return out, nil
}

func (s *Streamer) consumerStatuses(ctx context.Context, t *app.Tx) ([]PeerStatus, error) {
	ec, _ := t.Meta("Event Consumer")
	rows, err := t.Select(ctx, &filter.Query{DocType: ec, Fields: []string{"name"}, OrderBy: []filter.Order{{Field: "name"}}})
	if err != nil {
		return nil, err
	}
	head, err := t.StreamHead(ctx)
	if err != nil {
		return nil, err
	}
	eul, _ := t.Meta("Event Update Log")
	since := s.Now().Add(-time.Hour)
	var out []PeerStatus
	for _, r := range rows {
		d, err := t.Load(ctx, ec, r.Name(), false)
		if err != nil {
			return nil, err
		}
		ps := PeerStatus{Name: d.Name(), State: StatePending}
		var names []string
		var dts []any // the same, for an IN filter
		for _, row := range d.Rows("consumer_doctypes") {
			if row.Str("status") == "Approved" && row.Int("unsubscribed") == 0 {
				names = append(names, row.Str("ref_doctype"))
				dts = append(dts, row.Str("ref_doctype"))
			}
		}
		if len(dts) > 0 {
			ps.State = StateConnected
			ps.LagEvents = max(head-d.Int("acked_seq"), 0)
			if ps.LagEvents > 0 {
				oldest, err := OldestLogAfter(ctx, t, names, d.Int("acked_seq"))
				if err != nil {
					return nil, err
				}
				if ts, err := time.ParseInLocation(doc.DatetimeLayout, oldest, time.Local); err == nil {
					ps.LagSeconds = max(s.Now().Sub(ts).Seconds(), 0)
				}
			}
			var logs []doc.Doc
			if from, ok, err := firstLogAfter(ctx, t, doc.FormatDatetime(since), false); err != nil {
				return nil, err
			} else if ok {
				logs, err = t.Select(ctx, &filter.Query{DocType: eul, Fields: []string{"creation"}, Limit: 20000,
					Where: []filter.Cond{{Field: "ref_doctype", Op: "in", Value: dts, Kind: meta.KindText},
						{Field: "seq", Op: ">=", Value: from, Kind: meta.KindInt}}})
				if err != nil {
					return nil, err
				}
			}
			events := make([]float64, 60)
			for _, l := range logs {
				if ts, err := time.ParseInLocation(doc.DatetimeLayout, l.Str("creation"), time.Local); err == nil {
					if i := 59 - int(s.Now().Sub(ts)/time.Minute); i >= 0 && i <= 59 {
						events[i]++
					}
				}
			}
			ps.EventsPerMinute, ps.FailuresPerMinute = series(s.Now(), events), series(s.Now(), make([]float64, 60))
			if ps.LagEvents > lagEventsWarn || ps.LagSeconds > lagSecondsWarn {
				ps.State = StateLagging
			}
		}
		out = append(out, ps)
	}
	return out, nil
}

// OldestLogAfter returns the creation of the oldest update log of doctypes
// after seq ("" if none).
func OldestLogAfter(ctx context.Context, t *app.Tx, doctypes []string, seq int64) (string, error) {
	eul, err := t.Meta("Event Update Log")
	if err != nil {
		return "", err
	}
	dts := make([]any, len(doctypes))
	for i, d := range doctypes {
		dts[i] = d
	}
	rows, err := t.Select(ctx, &filter.Query{DocType: eul, Fields: []string{"creation"}, Limit: 1,
		OrderBy: []filter.Order{{Field: "seq"}},
		Where: []filter.Cond{{Field: "ref_doctype", Op: "in", Value: dts, Kind: meta.KindText},
			{Field: "seq", Op: ">", Value: seq, Kind: meta.KindInt}}})
	if err != nil || len(rows) == 0 {
		return "", err
	}
	return rows[0].Str("creation"), nil
}

func series(now time.Time, v []float64) []Point {
	out := make([]Point, len(v))
	base := now.Truncate(time.Minute)
	for i, x := range v {
		out[i] = Point{T: base.Add(-time.Duration(len(v)-1-i) * time.Minute), V: x}
	}
	return out
}

// ResyncAs is Resync with the caller's permission checked (desk button).
func (s *Streamer) ResyncAs(ctx context.Context, u perm.User, syncLog string) (string, error) {
	if !u.HasRole("System Manager") {
		return "", errs.Permission("Only a System Manager can resync events")
	}
	return s.Resync(ctx, syncLog)
}

// ResyncAllAs is ResyncAll with the caller's permission checked.
func (s *Streamer) ResyncAllAs(ctx context.Context, u perm.User, producer string) (int, error) {
	if !u.HasRole("System Manager") {
		return 0, errs.Permission("Only a System Manager can resync events")
	}
	return s.ResyncAll(ctx, producer)
}
