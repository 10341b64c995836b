package e2e

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	sb "docstream/internal/streambench"
)

// TestBackfillSurvivesSIGKILL copies 10,000 documents that existed before the
// subscription, SIGKILLs the consumer part-way through, restarts it, and
// checks that the backfill resumes and ends with every document exactly once
// (use_same_name off, so a replayed page would show as a duplicate).
func TestBackfillSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	const n = 10000
	bin := docstreamBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	root := t.TempDir()
	pdir := filepath.Join(root, "producer")

	// The history: written in-process into the producer's data folder before
	// it is served (one transaction: fast, and not streamed to anyone).
	ps, err := sb.OpenSite(ctx, sb.SiteOptions{Dir: pdir})
	if err != nil {
		t.Fatal(err)
	}
	defs := backfillDocTypes()
	if err := ps.App.Update(ctx, func(tx *app.Tx) error {
		for _, d := range defs {
			if _, err := tx.Insert(ctx, app.Admin(), "DocType", doc.FromAny(d), app.Opts{}); err != nil {
				return err
			}
		}
		for i := range n {
			if _, err := tx.Insert(ctx, app.Admin(), "History Doc", doc.Doc{"title": fmt.Sprintf("H%05d", i),
				"n": int64(i), "rows": []doc.Doc{{"item": "a", "qty": 1.0}, {"item": "b", "qty": 2.0}}}, app.Opts{}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	ps.Close(cctx)
	ccancel()

	pr := startPair(ctx, t, bin, pdir, filepath.Join(root, "consumer"))
	prod, cons, pc, cc, pkeys := pr.prod, pr.cons, pr.pc, pr.cc, pr.pkeys
	if err := sb.CreateDocTypes(ctx, cc, defs...); err != nil {
		t.Fatal(err)
	}
	if err := sb.Subscribe(ctx, cc, pc, prod.URL(), cons.URL(), pkeys, sb.Subscription{DocType: "History Doc"}); err != nil {
		t.Fatal(err)
	}
	count := func() int64 {
		msg, err := cc.Call(ctx, "frappe.client.get_count", map[string]any{"doctype": "History Doc"})
		if err != nil {
			return -1
		}
		var k int64
		fmt.Sscan(string(msg), &k)
		return k
	}
	for count() < n/4 {
		if ctx.Err() != nil {
			t.Fatal("backfill did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	killedAt := count()
	cons.Kill()
	if killedAt >= n {
		t.Fatalf("the backfill finished before the kill (%d documents)", killedAt)
	}
	if err := cons.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		ep, err := cc.Get(ctx, "Event Producer", prod.URL())
		if err == nil {
			rows, _ := ep["producer_doctypes"].([]any)
			if len(rows) == 1 && sb.Str(rows[0].(map[string]any)["backfill_status"]) == "Done" {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("backfill not done after the restart; %d documents", count())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := count(); got != n {
		t.Fatalf("%d documents after the backfill, want %d (killed at %d)", got, n, killedAt)
	}
	// Exactly once each: n distinct remote names.
	q := url.Values{"fields": {`["remote_docname"]`}, "limit_page_length": {"0"}}
	rows, err := cc.ListQuery(ctx, "History Doc", q)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[sb.Str(r["remote_docname"])] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct remote_docname among %d documents", len(seen), len(rows))
	}
	t.Logf("killed at %d of %d documents; resumed and completed", killedAt, n)
}

func backfillDocTypes() []map[string]any {
	perms := []any{map[string]any{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}}
	return []map[string]any{
		{"name": "History Row", "istable": 1, "fields": []any{
			map[string]any{"fieldname": "item", "fieldtype": "Data"}, map[string]any{"fieldname": "qty", "fieldtype": "Float"}}},
		{"name": "History Doc", "autoname": "field:title", "permissions": perms, "fields": []any{
			map[string]any{"fieldname": "title", "fieldtype": "Data", "reqd": 1},
			map[string]any{"fieldname": "n", "fieldtype": "Int"},
			map[string]any{"fieldname": "rows", "fieldtype": "Table", "options": "History Row"}}},
	}
}
