package stream

import (
	"context"

	"docstream/internal/app"
	"docstream/internal/filter"
	"docstream/internal/meta"
)

// firstLogAfter is the seq of the first update log created after creation
// (at or after it when inclusive); ok is false when there is none. The
// stream clock hands out creation and seq together, so creation increases
// with seq and this is a binary search over seq, each step one read of the
// log's key: the log keeps no creation index, since every index costs every
// logged change (store's logtable.go). About 20 reads for a million logs.
func firstLogAfter(ctx context.Context, t *app.Tx, creation string, inclusive bool) (int64, bool, error) {
	eul, err := t.Meta("Event Update Log")
	if err != nil {
		return 0, false, err
	}
	after := func(c string) bool { return c > creation || inclusive && c == creation }
	// probe reads the first log at or after seq (the newest when newest).
	probe := func(seq int64, newest bool) (int64, string, bool, error) {
		q := &filter.Query{DocType: eul, Fields: []string{"seq", "creation"}, Limit: 1,
			OrderBy: []filter.Order{{Field: "seq", Desc: newest}}}
		if !newest {
			q.Where = []filter.Cond{{Field: "seq", Op: ">=", Value: seq, Kind: meta.KindInt}}
		}
		rows, err := t.Select(ctx, q)
		if err != nil || len(rows) == 0 {
			return 0, "", false, err
		}
		return rows[0].Int("seq"), rows[0].Str("creation"), true, nil
	}
	lo, c, ok, err := probe(0, false)
	if err != nil || !ok {
		return 0, false, err
	}
	if after(c) {
		return lo, true, nil
	}
	hi, c, _, err := probe(0, true)
	if err != nil || !after(c) {
		return 0, false, err
	}
	// The first log at or after lo is not after creation, the first at or
	// after hi (found is its seq) is.
	found := hi
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		seq, c, _, err := probe(mid, false)
		if err != nil {
			return 0, false, err
		}
		if after(c) {
			hi, found = mid, seq
		} else {
			lo = seq // no log between mid and seq, and seq < hi
		}
	}
	return found, true, nil
}
