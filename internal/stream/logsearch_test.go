package stream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/site"
	"docstream/internal/stream"
)

// TestFirstLogAfter: the binary search over seq finds the same log as
// reading every log in order, for logs with gaps in seq (pruned or deleted
// ones) and a creation that increases with seq, for a creation before, at,
// between and after them.
func TestFirstLogAfter(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		testFirstLogAfter(t, start(t, stream.Config{}).Site)
	})
}

func testFirstLogAfter(t *testing.T, s *site.Site) {
	ctx := context.Background()
	base := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	rapid.Check(t, func(rt *rapid.T) {
		type log struct {
			seq      int64
			creation string
		}
		var logs []log
		seq, at := int64(0), base
		for range rapid.IntRange(0, 60).Draw(rt, "logs") {
			seq += rapid.Int64Range(1, 1000).Draw(rt, "gap")
			at = at.Add(time.Duration(rapid.Int64Range(1, 5_000_000).Draw(rt, "µs")) * time.Microsecond)
			logs = append(logs, log{seq, doc.FormatDatetime(at)})
		}
		// The creation looked for: one of the logs', or a moment around them.
		var creation string
		if len(logs) > 0 && rapid.Bool().Draw(rt, "exact") {
			creation = logs[rapid.IntRange(0, len(logs)-1).Draw(rt, "which")].creation
		} else {
			creation = doc.FormatDatetime(base.Add(time.Duration(rapid.Int64Range(-1e6, 1e6*int64(len(logs)+2)).Draw(rt, "at")) * time.Microsecond))
		}
		inclusive := rapid.Bool().Draw(rt, "inclusive")
		var want int64
		for _, l := range logs {
			if l.creation > creation || inclusive && l.creation == creation {
				want = l.seq
				break
			}
		}
		err := s.App.Update(ctx, func(t *app.Tx) error {
			eul, err := t.Meta("Event Update Log")
			if err != nil {
				return err
			}
			old, err := t.Select(ctx, &filter.Query{DocType: eul, Fields: []string{"name"}})
			if err != nil {
				return err
			}
			for _, r := range old {
				if err := t.DeleteRow(ctx, eul, r.Name()); err != nil {
					return err
				}
			}
			for _, l := range logs {
				if err := t.InsertRow(ctx, eul, doc.Doc{"name": doc.UpdateLogName(l.seq), "creation": l.creation, "modified": l.creation,
					"update_type": "Delete", "ref_doctype": "Note", "docname": fmt.Sprint(l.seq), "seq": l.seq}); err != nil {
					return err
				}
			}
			got, ok, err := stream.FirstLogAfter(ctx, t, creation, inclusive)
			if err != nil {
				return err
			}
			if ok != (want != 0) || got != want {
				rt.Fatalf("first log after %s (inclusive %v): %d %v, want %d", creation, inclusive, got, ok, want)
			}
			return nil
		})
		if err != nil {
			rt.Fatal(err)
		}
	})
}
