package stream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
)

func field(name, typ, opts string) doc.Doc {
	return doc.Doc{"fieldname": name, "fieldtype": typ, "options": opts}
}

// A mapping with a rename, a default, a Child Table and a Document row:
// creates, updates (changed, added, removed, row_changed) and deletes flow
// through it.
func TestMapping(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		p, c := start(t, fastStream()), start(t, fastStream())
		for _, d := range []doc.Doc{
			{"name": "Remote Lead", "autoname": "Prompt", "fields": []doc.Doc{field("lead_title", "Data", ""), field("phone", "Data", "")}},
			{"name": "Remote Opp Line", "istable": int64(1), "fields": []doc.Doc{field("product_code", "Data", ""), field("quantity", "Float", "")}},
			{"name": "Remote Opportunity", "autoname": "Prompt", "fields": []doc.Doc{field("full_name", "Data", ""),
				field("amount", "Currency", ""), field("stage", "Data", ""), field("lines", "Table", "Remote Opp Line")}},
		} {
			if d["istable"] == nil {
				d["permissions"] = sysPerm()
			}
			mustInsert(t, p.Site, "DocType", d)
		}
		for _, d := range []doc.Doc{
			{"name": "Lead", "autoname": "Prompt", "fields": []doc.Doc{field("lead_name", "Data", ""), field("mobile", "Data", "")}},
			{"name": "Opp Item", "istable": int64(1), "fields": []doc.Doc{field("item", "Data", ""), field("qty", "Float", "")}},
			{"name": "Opportunity", "autoname": "Prompt", "fields": []doc.Doc{field("title", "Data", ""), field("amount", "Currency", ""),
				field("status", "Data", ""), field("party_name", "Link", "Lead"), field("items", "Table", "Opp Item")}},
		} {
			if d["istable"] == nil {
				d["permissions"] = sysPerm()
			}
			mustInsert(t, c.Site, "DocType", d)
		}
		fm := func(local, remote, def, kind, inner, filters string) doc.Doc {
			return doc.Doc{"local_fieldname": local, "remote_fieldname": remote, "default_value": def, "mapping_type": kind, "mapping": inner, "remote_value_filters": filters}
		}
		mustInsert(t, c.Site, "Document Type Mapping", doc.Doc{"mapping_name": "Opp Item Map", "local_doctype": "Opp Item", "remote_doctype": "Remote Opp Line",
			"field_mapping": []doc.Doc{fm("item", "product_code", "", "", "", ""), fm("qty", "quantity", "", "", "", "")}})
		mustInsert(t, c.Site, "Document Type Mapping", doc.Doc{"mapping_name": "Lead Map", "local_doctype": "Lead", "remote_doctype": "Remote Lead",
			"field_mapping": []doc.Doc{fm("lead_name", "lead_title", "", "", "", ""), fm("mobile", "phone", "", "", "", "")}})
		mustInsert(t, c.Site, "Document Type Mapping", doc.Doc{"mapping_name": "Opp Map", "local_doctype": "Opportunity", "remote_doctype": "Remote Opportunity",
			"field_mapping": []doc.Doc{
				fm("title", "full_name", "", "", "", ""),
				fm("status", "stage", "Open", "", "", ""),
				fm("items", "lines", "", "Child Table", "Opp Item Map", ""),
				fm("party_name", "", "", "Document", "Lead Map", `{"lead_title": "full_name"}`),
			}})
		// A mapping naming a field the local DocType lacks is refused.
		_, err := c.App.Insert(context.Background(), app.Admin(), "Document Type Mapping", doc.Doc{"mapping_name": "Bad", "local_doctype": "Lead",
			"remote_doctype": "Remote Lead", "field_mapping": []doc.Doc{fm("no_such_field", "phone", "", "", "", "")}}, app.Opts{})
		if !errs.Is(err, errs.KindValidation) || !strings.Contains(err.Error(), "no_such_field") {
			t.Fatalf("bad mapping: err = %v, want a ValidationError naming the field", err)
		}

		// One that existed before the subscription: it arrives by backfill, mapped.
		mustInsert(t, p.Site, "Remote Opportunity", doc.Doc{"name": "O0", "full_name": "Old", "stage": "Won"})
		subscribe(t, p, c, doc.Doc{"ref_doctype": "Opportunity", "use_same_name": int64(1), "has_mapping": int64(1), "mapping": "Opp Map"})
		if ec := mustGet(t, p.Site, "Event Consumer", c.URL); ec.Rows("consumer_doctypes")[0].Str("ref_doctype") != "Remote Opportunity" {
			t.Fatalf("the producer was asked for %q, want the mapping's remote DocType", ec.Rows("consumer_doctypes")[0].Str("ref_doctype"))
		}
		mustInsert(t, p.Site, "Remote Lead", doc.Doc{"name": "L1", "lead_title": "Acme", "phone": "555"})
		mustInsert(t, p.Site, "Remote Opportunity", doc.Doc{"name": "O1", "full_name": "Acme", "amount": 100.0,
			"lines": []doc.Doc{{"product_code": "P1", "quantity": 2.0}, {"product_code": "P2", "quantity": 1.0}}})
		defer dumpSyncLogs(t, c)
		defer func() {
			t.Logf("consumer EP: %v", find(c.Site, "Event Producer", p.URL).Rows("producer_doctypes"))
			t.Logf("producer EC: %v", find(p.Site, "Event Consumer", c.URL).Rows("consumer_doctypes"))
			rows, _ := p.App.List(context.Background(), app.Admin(), app.ListArgs{DocType: "Event Update Log", Fields: []any{"update_type", "ref_doctype", "seq"}, Limit: 0})
			t.Logf("producer logs: %v", rows)
			t.Logf("consumer LU: %v", find(c.Site, "Event Producer Last Update", p.URL))
		}()
		eventually(t, "mapped opportunity", 10*time.Second, func() bool { return find(c.Site, "Opportunity", "O1") != nil })
		eventually(t, "backfilled mapped opportunity", 10*time.Second, func() bool { return find(c.Site, "Opportunity", "O0") != nil })
		if o0 := mustGet(t, c.Site, "Opportunity", "O0"); o0.Str("title") != "Old" || o0.Str("status") != "Won" {
			t.Fatalf("backfilled mapped opportunity = %v", o0)
		}
		o := mustGet(t, c.Site, "Opportunity", "O1")
		if o.Str("title") != "Acme" || o.Str("status") != "Open" || o.Str("party_name") != "L1" || len(o.Rows("items")) != 2 {
			t.Fatalf("mapped opportunity = %v", o)
		}
		for _, r := range o.Rows("items") {
			if r.Str("doctype") != "Opp Item" || r.Str("item") == "" {
				t.Fatalf("mapped row = %v", r)
			}
		}
		if l := mustGet(t, c.Site, "Lead", "L1"); l.Str("lead_name") != "Acme" || l.Str("mobile") != "555" {
			t.Fatalf("mapped dependency = %v", l)
		}

		// Update: changed, row_changed, removed, added.
		src := mustGet(t, p.Site, "Remote Opportunity", "O1")
		lines := src.Rows("lines")
		lines[0]["quantity"] = 7.0
		mustSave(t, p.Site, "Remote Opportunity", "O1", doc.Doc{"amount": 250.0, "lines": []doc.Doc{lines[0], {"product_code": "P3", "quantity": 3.0}}})
		eventually(t, "mapped update", 10*time.Second, func() bool {
			d := find(c.Site, "Opportunity", "O1")
			return d != nil && d["amount"] == 250.0
		})
		o = mustGet(t, c.Site, "Opportunity", "O1")
		got := map[string]float64{}
		for _, r := range o.Rows("items") {
			got[r.Str("item")] = r["qty"].(float64)
		}
		if len(got) != 2 || got["P1"] != 7 || got["P3"] != 3 {
			t.Fatalf("mapped rows after update = %v", got)
		}
		if n := count(t, c.Site, "Lead"); n != 1 {
			t.Fatalf("%d Leads, want 1: a mapped dependency must not be duplicated", n)
		}

		if err := p.App.Delete(context.Background(), app.Admin(), "Remote Opportunity", "O1", app.Opts{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "mapped delete", 10*time.Second, func() bool { return find(c.Site, "Opportunity", "O1") == nil })
	})
}

func dumpSyncLogs(t *testing.T, s *testSite) {
	rows, _ := s.App.List(context.Background(), app.Admin(), app.ListArgs{DocType: "Event Sync Log", Fields: []any{"status", "error", "update_type", "ref_doctype"}, Limit: 0})
	for _, r := range rows {
		t.Logf("sync log: %v", r)
	}
}
