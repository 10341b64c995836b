package e2e

import (
	"context"
	"strings"
	"testing"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/store/sqlstore"
	sb "docstream/internal/streambench"
)

// TestStreamQueriesUseIndexes checks, on SQLite, that the queries Event
// Streaming runs for every page or every event are served by an index: the
// producer's page of update logs (per DocType, after a seq), the consumer's
// lookup of its Failed and Queued events, and its lookup of a local copy by
// remote_docname. Each was a scan of a table that grows by one row per event,
// which made draining a large backlog quadratic (docs/benchmarks.md). The
// update log is keyed by seq and has no other index, to keep each logged
// write cheap: every read of it is a range of its key ("INTEGER PRIMARY
// KEY"), a creation is found by a binary search over seq.
func TestStreamQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := sb.OpenSite(ctx, sb.SiteOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	if _, err := s.App.Insert(ctx, app.Admin(), "DocType", doc.Doc{"name": "Plan Doc", "autoname": "hash",
		"fields": []doc.Doc{{"fieldname": "remote_docname", "fieldtype": "Data"}, {"fieldname": "remote_site_name", "fieldtype": "Data"}}}, app.Opts{}); err != nil {
		t.Fatal(err)
	}
	text := func(f, op string, v any) filter.Cond {
		return filter.Cond{Field: f, Op: op, Value: v, Kind: meta.KindText}
	}
	seq := func(op string, n int64) filter.Cond {
		return filter.Cond{Field: "seq", Op: op, Value: n, Kind: meta.KindInt}
	}
	creation := func(op string) filter.Cond {
		return filter.Cond{Field: "creation", Op: op, Value: "2025-01-10 09:00:00.000000", Kind: meta.KindDatetime}
	}
	bySeq := []filter.Order{{Field: "seq"}}
	newest := []filter.Order{{Field: "seq", Desc: true}}
	const key = "INTEGER PRIMARY KEY"
	// ordered: the index also gives the order, so a LIMIT stops early
	// instead of sorting every match (no temp B-tree). No order with a limit
	// is a list's default order (the DocType's sort_field).
	cases := []struct {
		what, doctype, index string
		where                []filter.Cond
		order                []filter.Order
		limit                int
		ordered              bool
	}{
		{"a page for one DocType", "Event Update Log", key, []filter.Cond{text("ref_doctype", "in", []any{"Note"}),
			text("origin", "!=", "http://c"), seq(">", 10)}, bySeq, 101, true},
		{"a page for two DocTypes", "Event Update Log", key, []filter.Cond{text("ref_doctype", "in", []any{"Note", "Memo"}),
			text("origin", "!=", "http://c"), seq(">", 10)}, bySeq, 101, true},
		{"a step of the search for a creation", "Event Update Log", key, []filter.Cond{seq(">=", 10)}, bySeq, 1, true},
		{"a Frappe consumer's page", "Event Update Log", key, []filter.Cond{text("ref_doctype", "in", []any{"Note", "Memo"}),
			text("origin", "!=", "http://c"), creation(">"), seq(">=", 10)}, bySeq, 1001, true},
		{"the head for a new consumer", "Event Update Log", "SCAN tabEvent Update Log", nil, newest, 1, true},
		{"the oldest unacknowledged log", "Event Update Log", key, []filter.Cond{text("ref_doctype", "in", []any{"Note", "Memo"}),
			seq(">", 10)}, bySeq, 1, true},
		{"logs to prune", "Event Update Log", key, []filter.Cond{seq("<=", 10)}, bySeq, 10000, true},
		{"events per minute", "Event Update Log", key, []filter.Cond{text("ref_doctype", "in", []any{"Note"}), seq(">=", 10)}, nil, 20000, true},
		{"the list's default order (sort_field)", "Event Update Log", "SCAN tabEvent Update Log", nil, nil, 20, true},
		{"blocked documents", "Event Sync Log", "status_producer", []filter.Cond{text("event_producer", "=", "http://p"),
			text("status", "in", []any{"Failed", "Queued"})}, nil, 0, false},
		{"retries due", "Event Sync Log", "status_producer", []filter.Cond{text("event_producer", "=", "http://p"), text("status", "=", "Failed"),
			{Field: "next_retry", Op: "<=", Value: "2030-01-01 00:00:00", Kind: meta.KindDatetime}}, nil, 0, false},
		{"failed events to resync, in order", "Event Sync Log", "status_producer", []filter.Cond{text("status", "=", "Failed")},
			bySeq, 0, false},
		{"local copy by remote_docname", "Plan Doc", "remote_docname", []filter.Cond{text("remote_docname", "=", "N-1"),
			text("remote_site_name", "=", "http://p")}, nil, 0, false},
	}
	err = s.App.View(ctx, func(tx *app.Tx) error {
		for _, c := range cases {
			dt, err := tx.Meta(c.doctype)
			if err != nil {
				return err
			}
			order := c.order
			if order == nil && c.limit > 0 {
				if order, err = filter.ParseOrder(dt, ""); err != nil {
					return err
				}
			}
			plan, err := tx.Tx.(*sqlstore.Tx).ExplainSelect(ctx, &filter.Query{DocType: dt, Where: c.where, OrderBy: order, Limit: c.limit})
			if err != nil {
				return err
			}
			// A SCAN may only walk the index (or the table in its key order)
			// in order, stopped by the limit.
			scans := false
			for _, l := range strings.Split(plan, "\n") {
				inOrder := strings.Contains(l, "USING INDEX") || l == "SCAN "+quoted(c.doctype)
				if strings.HasPrefix(l, "SCAN") && !(c.ordered && c.limit > 0 && inOrder) {
					scans = true
				}
			}
			if !strings.Contains(plan, c.index) || scans {
				t.Errorf("%s (%s): plan %q, want a search using the %s index", c.what, c.doctype, plan, c.index)
			}
			if c.ordered && strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("%s (%s): plan %q sorts, want the order of the %s index", c.what, c.doctype, plan, c.index)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// quoted is a table's name as SQLite's plans print it.
func quoted(doctype string) string { return "tab" + doctype }
