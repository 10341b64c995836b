package stream_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"docstream/internal/doc"
)

// Documents that existed before the subscription arrive in pages, with
// progress on the subscription row; an interrupted backfill resumes after a
// restart without duplicates; changes made meanwhile are not lost.
func TestBackfillResumes(t *testing.T) {
	t.Parallel()
	cfg := fastStream()
	cfg.PageSize = 20
	p := startSite(t, cfg)
	dir := t.TempDir()
	c := startSiteAt(t, dir, "127.0.0.1:0", cfg)
	addr := strings.TrimPrefix(c.URL, "http://")
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	const n = 200
	for i := range n {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("old-%03d", i), "items": []doc.Doc{{"item": "x", "qty": float64(i)}}})
	}
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(0)})
	// Stop the consumer part-way through.
	eventually(t, "backfill under way", 10*time.Second, func() bool { return count(t, c.Site, "Note") >= 40 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mustSave(t, p.Site, "Note", "old-150", doc.Doc{"body": "changed during the outage"})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "new-1"})
	c2 := startSiteAt(t, dir, addr, cfg)
	eventually(t, "backfill done", 20*time.Second, func() bool {
		ep := find(c2.Site, "Event Producer", p.URL)
		return ep != nil && ep.Rows("producer_doctypes")[0].Str("backfill_status") == "Done" && count(t, c2.Site, "Note") == n+1
	})
	row := mustGet(t, c2.Site, "Event Producer", p.URL).Rows("producer_doctypes")[0]
	if row.Int("backfill_total") < n || row.Int("backfill_done") < n {
		t.Errorf("progress %d of %d, want at least %d", row.Int("backfill_done"), row.Int("backfill_total"), n)
	}
	for i := range n {
		if k := count(t, c2.Site, "Note", eq("remote_docname", fmt.Sprintf("old-%03d", i))); k != 1 {
			t.Fatalf("old-%03d: %d copies", i, k)
		}
	}
	eventually(t, "the change made during the outage", 10*time.Second, func() bool {
		return count(t, c2.Site, "Note", eq("remote_docname", "old-150"), eq("body", "changed during the outage")) == 1
	})
}

// With backfill switched off, only changes after approval stream.
func TestBackfillOff(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		p, c := start(t, fastStream()), start(t, fastStream())
		noteDocTypes(t, p.Site)
		noteDocTypes(t, c.Site)
		mustInsert(t, p.Site, "Note", doc.Doc{"title": "before"})
		subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})
		mustInsert(t, p.Site, "Note", doc.Doc{"title": "after"})
		eventually(t, "new note", 10*time.Second, func() bool { return find(c.Site, "Note", "after") != nil })
		if find(c.Site, "Note", "before") != nil {
			t.Fatal("an existing document arrived though backfill is off")
		}
	})
}

// A backfill page with a document the consumer refuses: the others of the
// page arrive, the refused one is a Failed sync log (retried later), and
// the backfill completes. Numbers keep their exact value on the way.
func TestBackfillPageWithFailure(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		cfg := fastStream()
		cfg.PageSize = 50
		p, c := start(t, cfg), start(t, cfg)
		noteDocTypes(t, p.Site)
		noteDocTypes(t, c.Site)
		mustInsert(t, p.Site, "Custom Field", doc.Doc{"dt": "Note", "fieldname": "approver", "fieldtype": "Data"})
		mustInsert(t, c.Site, "Custom Field", doc.Doc{"dt": "Note", "fieldname": "approver", "fieldtype": "Data", "reqd": int64(1)})
		const n = 30
		for i := range n {
			d := doc.Doc{"title": fmt.Sprintf("b%02d", i), "approver": "a", "items": []doc.Doc{{"item": "x", "qty": float64(i) + 0.25}}}
			if i == 7 {
				delete(d, "approver")
			}
			mustInsert(t, p.Site, "Note", d)
		}
		subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1)})
		eventually(t, "backfill done", 15*time.Second, func() bool {
			ep := find(c.Site, "Event Producer", p.URL)
			return ep != nil && ep.Rows("producer_doctypes")[0].Str("backfill_status") == "Done"
		})
		if got := count(t, c.Site, "Note"); got != n-1 {
			t.Errorf("%d notes backfilled, want %d", got, n-1)
		}
		if find(c.Site, "Note", "b07") != nil {
			t.Error("the refused document was applied")
		}
		if got := count(t, c.Site, "Event Sync Log", eq("status", "Failed")); got != 1 {
			t.Errorf("%d Failed sync logs, want 1", got)
		}
		if q := mustGet(t, c.Site, "Note", "b12").Rows("items")[0]["qty"]; q != 12.25 {
			t.Errorf("b12 qty = %v (%T), want 12.25", q, q)
		}
	})
}
