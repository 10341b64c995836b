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
// which made draining a large backlog quadratic (docs/benchmarks.md).
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
	cases := []struct {
		what, doctype, index string
		where                []filter.Cond
	}{
		{"a page for one DocType", "Event Update Log", "ref_doctype_seq", []filter.Cond{text("ref_doctype", "in", []any{"Note"}),
			text("origin", "!=", "http://c"), {Field: "seq", Op: ">", Value: int64(10), Kind: meta.KindInt}}},
		{"a page for two DocTypes", "Event Update Log", "ref_doctype_seq", []filter.Cond{text("ref_doctype", "in", []any{"Note", "Memo"}),
			text("origin", "!=", "http://c"), {Field: "seq", Op: ">", Value: int64(10), Kind: meta.KindInt}}},
		{"blocked documents", "Event Sync Log", "status_producer", []filter.Cond{text("event_producer", "=", "http://p"),
			text("status", "in", []any{"Failed", "Queued"})}},
		{"retries due", "Event Sync Log", "status_producer", []filter.Cond{text("event_producer", "=", "http://p"), text("status", "=", "Failed"),
			{Field: "next_retry", Op: "<=", Value: "2030-01-01 00:00:00", Kind: meta.KindDatetime}}},
		{"local copy by remote_docname", "Plan Doc", "remote_docname", []filter.Cond{text("remote_docname", "=", "N-1"),
			text("remote_site_name", "=", "http://p")}},
	}
	err = s.App.View(ctx, func(tx *app.Tx) error {
		for _, c := range cases {
			dt, err := tx.Meta(c.doctype)
			if err != nil {
				return err
			}
			plan, err := tx.Tx.(*sqlstore.Tx).ExplainSelect(ctx, &filter.Query{DocType: dt, Where: c.where})
			if err != nil {
				return err
			}
			if !strings.Contains(plan, c.index) || strings.Contains(plan, "SCAN") {
				t.Errorf("%s (%s): plan %q, want a search using the %s index", c.what, c.doctype, plan, c.index)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
