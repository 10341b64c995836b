package stream_test

import (
	"fmt"
	"testing"
	"time"

	"docstream/internal/doc"
)

func TestStreamBasic(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		p, c := start(t, fastStream()), start(t, fastStream())
		noteDocTypes(t, p.Site)
		noteDocTypes(t, c.Site)
		subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1)})

		// Approval travelled to the consumer.
		ep := mustGet(t, c.Site, "Event Producer", p.URL)
		if st := ep.Rows("producer_doctypes")[0].Str("status"); st != "Approved" {
			t.Fatalf("consumer row status = %q, want Approved", st)
		}

		for i := range 5 {
			mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("n%d", i), "items": []doc.Doc{{"item": "a", "qty": 1.0}, {"item": "b", "qty": 2.0}}})
		}
		eventually(t, "5 notes on the consumer", 10*time.Second, func() bool { return find(c.Site, "Note", "n4") != nil })

		// Update with child row changes, then submit.
		n0 := mustGet(t, p.Site, "Note", "n0")
		rows := n0.Rows("items")
		rows[0]["qty"] = 5.0
		mustSave(t, p.Site, "Note", "n0", doc.Doc{"body": "edited", "items": []doc.Doc{rows[0], {"item": "c", "qty": 3.0}}})
		mustSave(t, p.Site, "Note", "n0", doc.Doc{"docstatus": int64(1)})
		want := mustGet(t, p.Site, "Note", "n0")
		eventually(t, "n0 submitted on the consumer", 10*time.Second, func() bool {
			d := find(c.Site, "Note", "n0")
			return d != nil && d.Int("docstatus") == 1
		})
		got := mustGet(t, c.Site, "Note", "n0")
		if got.Str("body") != "edited" || len(got.Rows("items")) != 2 {
			t.Fatalf("consumer n0 = %v", got)
		}
		for i, r := range want.Rows("items") {
			g := got.Rows("items")[i]
			if g.Name() != r.Name() || g.Str("item") != r.Str("item") || g["qty"] != r["qty"] {
				t.Fatalf("row %d: got %v want %v", i, g, r)
			}
		}

		// Delete.
		if err := p.App.Delete(t.Context(), adminUser(), "Note", "n1", optsNone()); err != nil {
			t.Fatal(err)
		}
		eventually(t, "n1 deleted on the consumer", 10*time.Second, func() bool { return find(c.Site, "Note", "n1") == nil })
	})
}
