package stream_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
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

// holdPulls keeps the consumer's pull worker for producer from working (the
// test holds its lease, as another process would) until release is called.
func holdPulls(t *testing.T, c *testSite, producer string) (release func()) {
	t.Helper()
	lease := func(until time.Time) {
		t.Helper()
		err := c.App.Update(context.Background(), func(tx *app.Tx) error {
			ok, err := tx.TryLease(context.Background(), "pull:"+producer, "test", time.Now(), until)
			if err == nil && !ok {
				err = fmt.Errorf("the pull lease of %s is taken", producer)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	lease(time.Now().Add(time.Hour))
	return func() { lease(time.Now().Add(-time.Second)) }
}

// A backfill page read after live changes the consumer has not applied yet
// holds the document in a later state than those changes: they are in the
// copy already and are not applied over it. (Applied, a draft's edit over a
// copy that is already submitted failed for good, and held back the
// document's later changes: the cancel below never arrived.) Both edits
// are needed: the first one's value differs from the copy's.
func TestBackfillAheadOfLiveChanges(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		p, c := start(t, fastStream()), start(t, fastStream())
		noteDocTypes(t, p.Site)
		noteDocTypes(t, c.Site)
		mustInsert(t, p.Site, "Note", doc.Doc{"title": "old-1", "body": "first"})
		release := holdPulls(t, c, p.URL)
		subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1)})
		mustSave(t, p.Site, "Note", "old-1", doc.Doc{"body": "edited"})
		mustSave(t, p.Site, "Note", "old-1", doc.Doc{"body": "edited again"})
		mustSave(t, p.Site, "Note", "old-1", doc.Doc{"docstatus": int64(1)})
		release()
		eventually(t, "old-1 submitted on the consumer", 10*time.Second, func() bool {
			d := find(c.Site, "Note", "old-1")
			return d != nil && d.Int("docstatus") == 1
		})
		mustSave(t, p.Site, "Note", "old-1", doc.Doc{"docstatus": int64(2)})
		eventually(t, "old-1 cancelled on the consumer", 10*time.Second, func() bool {
			d := find(c.Site, "Note", "old-1")
			return d != nil && d.Int("docstatus") == 2
		})
		if d := find(c.Site, "Note", "old-1"); d.Str("body") != "edited again" {
			t.Errorf("body %q", d.Str("body"))
		}
		if n := count(t, c.Site, "Event Sync Log", eq("status", "Failed")); n != 0 {
			t.Errorf("%d Failed sync logs, want none", n)
		}
		// The three live changes the page already held are recorded as
		// synced, with the cancel after them.
		if n := count(t, c.Site, "Event Sync Log", eq("docname", "old-1"), eq("update_type", "Update"), eq("status", "Synced")); n != 4 {
			t.Errorf("%d synced Updates of old-1, want 4 (two edits, submit, cancel)", n)
		}
		// With the live stream past the page, the page's marks are dropped.
		eventually(t, "the backfill's marks forgotten", 10*time.Second, func() bool {
			row := mustGet(t, c.Site, "Event Producer", p.URL).Rows("producer_doctypes")[0]
			var there bool
			err := c.App.View(context.Background(), func(tx *app.Tx) error {
				var err error
				_, there, err = tx.GetKV(context.Background(), "backfilled\x1f"+p.URL+"\x1fNote\x1fold-1")
				return err
			})
			return err == nil && !there && row.Int("backfill_head") == 0
		})
	})
}
