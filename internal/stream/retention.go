package stream

import (
	"context"
	"strconv"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
)

const prunedKey = "stream.pruned_through"

// Prune deletes update logs that every approved consumer has acknowledged
// and that are older than the retention age (W13). It returns how many went.
// A consumer that later asks for pruned logs is told to resync.
func (s *Streamer) Prune(ctx context.Context) (int, error) {
	if s.Cfg.Retention < 0 {
		return 0, nil
	}
	n := 0
	err := s.App.Update(ctx, func(t *app.Tx) error {
		ec, _ := t.Meta("Event Consumer")
		consumers, err := t.Select(ctx, &filter.Query{DocType: ec, Fields: []string{"name", "acked_seq"}})
		if err != nil {
			return err
		}
		head, err := t.StreamHead(ctx)
		if err != nil {
			return err
		}
		// Only consumers with an approved subscription hold logs back: a
		// pending or rejected one would otherwise keep every log forever. It is
		// told it fell behind if it is approved later (and backfills).
		cdt, _ := t.Meta("Event Consumer Document Type")
		approved, err := t.Select(ctx, &filter.Query{DocType: cdt, Fields: []string{"parent"}, Where: []filter.Cond{
			{Field: "status", Op: "=", Value: "Approved", Kind: meta.KindText}}})
		if err != nil {
			return err
		}
		holds := map[string]bool{}
		for _, r := range approved {
			holds[r.Str("parent")] = true
		}
		minAck := head
		for _, c := range consumers {
			if holds[c.Name()] {
				minAck = min(minAck, c.Int("acked_seq"))
			}
		}
		eul, _ := t.Meta("Event Update Log")
		// The oldest logs up to the first one too young or not yet
		// acknowledged by everyone, in seq order.
		bound := minAck
		young, ok, err := firstLogAfter(ctx, t, doc.FormatDatetime(t.Now().Add(-s.Cfg.Retention)), true)
		if err != nil {
			return err
		}
		if ok {
			bound = min(bound, young-1)
		}
		rows, err := t.Select(ctx, &filter.Query{DocType: eul, Fields: []string{"name", "seq"}, Limit: 10000,
			OrderBy: []filter.Order{{Field: "seq"}},
			Where:   []filter.Cond{{Field: "seq", Op: "<=", Value: bound, Kind: meta.KindInt}}})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			if err := t.DeleteRow(ctx, eul, r.Name()); err != nil {
				return err
			}
		}
		n = len(rows)
		last := rows[len(rows)-1].Int("seq")
		prev, _ := s.prunedThrough(ctx, t)
		return t.SetKV(ctx, prunedKey, strconv.FormatInt(max(prev, last), 10))
	})
	return n, err
}

// prunedThrough is the highest seq retention has deleted.
func (s *Streamer) prunedThrough(ctx context.Context, t *app.Tx) (int64, error) {
	v, ok, err := t.GetKV(ctx, prunedKey)
	if err != nil || !ok {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}
