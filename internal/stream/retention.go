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
		cutoff := doc.FormatDatetime(t.Now().Add(-s.Cfg.Retention))
		// The oldest logs, in creation order, which is seq order (the stream
		// clock hands out both; seq alone is not indexed): the first one
		// past minAck ends the batch, and every later one is past it too.
		rows, err := t.Select(ctx, &filter.Query{DocType: eul, Fields: []string{"name", "seq"}, Limit: 10000,
			OrderBy: []filter.Order{{Field: "creation"}},
			Where:   []filter.Cond{{Field: "creation", Op: "<", Value: cutoff, Kind: meta.KindDatetime}}})
		if err != nil {
			return err
		}
		for i, r := range rows {
			if r.Int("seq") > minAck {
				rows = rows[:i]
				break
			}
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
