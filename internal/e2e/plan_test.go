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
// producer's other reads of its log go by creation or (ref_doctype, seq):
// the log has no index on seq alone, to keep each write cheap.
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
	seqAfter := func(n int64) filter.Cond { return filter.Cond{Field: "seq", Op: ">", Value: n, Kind: meta.KindInt} }
	creation := func(op string) filter.Cond {
		return filter.Cond{Field: "creation", Op: op, Value: "2025-01-10 09:00:00.000000", Kind: meta.KindDatetime}
	}
	bySeq := []filter.Order{{Field: "seq"}}
	newest := []filter.Order{{Field: "creation", Desc: true}}
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
		{"a page for one DocType", "Event Update Log", "ref_doctype_seq", []filter.Cond{text("ref_doctype", "in", []any{"Note"}),
			text("origin", "!=", "http://c"), seqAfter(10)}, bySeq, 101, true},
		{"a page for two DocTypes", "Event Update Log", "ref_doctype_seq", []filter.Cond{text("ref_doctype", "in", []any{"Note", "Memo"}),
			text("origin", "!=", "http://c"), seqAfter(10)}, bySeq, 101, false},
		{"a Frappe consumer's cursor as a seq", "Event Update Log", "creation", []filter.Cond{creation(">")},
			[]filter.Order{{Field: "creation"}}, 1, true},
		{"a Frappe consumer's page", "Event Update Log", "ref_doctype_seq", []filter.Cond{text("ref_doctype", "in", []any{"Note"}),
			text("origin", "!=", "http://c"), creation(">"), {Field: "seq", Op: ">=", Value: int64(10), Kind: meta.KindInt}}, bySeq, 1001, true},
		{"the same page for the two DocTypes", "Event Update Log", "ref_doctype_seq (ref_doctype=? AND seq>?)", []filter.Cond{text("ref_doctype", "in", []any{"Note", "Memo"}),
			text("origin", "!=", "http://c"), creation(">"), {Field: "seq", Op: ">=", Value: int64(10), Kind: meta.KindInt}}, bySeq, 1001, false},
		{"a Frappe consumer's acknowledgement", "Event Update Log", "creation", []filter.Cond{creation("<=")}, newest, 1, true},
		{"the head for a new consumer", "Event Update Log", "creation", nil, newest, 1, true},
		{"the oldest unacknowledged log of a DocType", "Event Update Log", "ref_doctype_seq", []filter.Cond{text("ref_doctype", "=", "Note"),
			seqAfter(10)}, bySeq, 1, true},
		{"logs old enough to prune", "Event Update Log", "creation", []filter.Cond{creation("<")},
			[]filter.Order{{Field: "creation"}}, 10000, true},
		{"the list's default order (sort_field)", "Event Update Log", "creation", nil, nil, 20, true},
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
			// A SCAN may only walk the index in order, stopped by the limit.
			scans := false
			for _, l := range strings.Split(plan, "\n") {
				if strings.HasPrefix(l, "SCAN") && !(c.ordered && c.limit > 0 && strings.Contains(l, "USING INDEX")) {
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
