package erp_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/erp"
	"docstream/internal/errs"
	"docstream/internal/site"
	"docstream/internal/sitetest"
)

func openSite(t *testing.T) *site.Site {
	t.Helper()
	return sitetest.StartSite(t, site.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AdminPassword: "admin",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func TestDefinitionsParse(t *testing.T) {
	for _, n := range erp.DocTypes() {
		b, err := erp.Definition(n)
		if err != nil {
			t.Fatal(err)
		}
		d, err := doc.FromJSON(b)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if d.Str("name") != n {
			t.Errorf("%s: the JSON names %q", n, d.Str("name"))
		}
	}
	if _, err := erp.Definition("Journal Entry"); err == nil {
		t.Error("Definition of an unknown DocType: no error")
	}
}

func TestInstallAndInsertOneOfEach(t *testing.T) {
	ctx := context.Background()
	s := openSite(t)
	a := s.App
	if err := erp.Install(ctx, a); err != nil {
		t.Fatal(err)
	}
	// A second run (the next start of the demo) changes nothing.
	if err := erp.Install(ctx, a); err != nil {
		t.Fatalf("second Install: %v", err)
	}
	for _, n := range erp.DocTypes() {
		dt, err := a.Meta(ctx, n)
		if err != nil {
			t.Fatalf("DocType %s missing after Install: %v", n, err)
		}
		// Each is a DocType document, as if POSTed to /api/resource/DocType.
		if _, err := a.Get(ctx, app.Admin(), "DocType", n); err != nil {
			t.Errorf("DocType document %s: %v", n, err)
		}
		if n == "Sales Invoice" && !dt.IsSubmittable {
			t.Error("Sales Invoice is not submittable")
		}
		if (n == "Dynamic Link" || n == "Sales Invoice Item") && !dt.IsTable {
			t.Errorf("%s is not a child table", n)
		}
	}

	ins := func(doctype string, d doc.Doc) doc.Doc {
		t.Helper()
		out, err := a.Insert(ctx, app.Admin(), doctype, d, app.Opts{})
		if err != nil {
			t.Fatalf("insert %s: %v", doctype, err)
		}
		return out
	}
	co := ins("Company", doc.Doc{"company_name": "Acme Trading Ltd", "abbr": "ATL", "country": "Germany"})
	if co.Name() != "Acme Trading Ltd" || co.Str("default_currency") != "USD" {
		t.Errorf("Company: name %q, currency %q", co.Name(), co.Str("default_currency"))
	}
	ins("Item Group", doc.Doc{"item_group_name": "All Item Groups", "is_group": 1})
	ig := ins("Item Group", doc.Doc{"item_group_name": "Products", "parent_item_group": "All Item Groups"})
	it := ins("Item", doc.Doc{"item_code": "SKU-0001", "item_name": "Steel Bolt M8", "item_group": ig.Name(), "standard_rate": 0.35})
	if it.Name() != "SKU-0001" || it.Str("stock_uom") != "Nos" || it.Int("is_stock_item") != 1 {
		t.Errorf("Item: %v", it)
	}
	cu := ins("Customer", doc.Doc{"customer_name": "Northwind Foods", "customer_group": "Commercial", "territory": "Europe", "company": co.Name()})
	su := ins("Supplier", doc.Doc{"supplier_name": "Contoso Metals", "supplier_group": "Raw Material", "country": "Poland"})
	ad := ins("Address", doc.Doc{"address_title": cu.Name(), "address_type": "Billing", "address_line1": "1 Harbour Road",
		"city": "Hamburg", "country": "Germany", "links": []doc.Doc{
			{"link_doctype": "Customer", "link_name": cu.Name()},
			{"link_doctype": "Supplier", "link_name": su.Name()}}})
	if ad.Name() != "Northwind Foods-Billing" {
		t.Errorf("Address name %q, want Northwind Foods-Billing", ad.Name())
	}
	if rows := ad.Rows("links"); len(rows) != 2 || rows[1].Str("link_name") != su.Name() {
		t.Errorf("Address links: %v", rows)
	}
	si := ins("Sales Invoice", doc.Doc{"customer": cu.Name(), "company": co.Name(), "posting_date": "2025-03-01",
		"items": []doc.Doc{{"item_code": it.Name(), "qty": 10, "rate": 0.35, "amount": 3.5}}, "total_qty": 10, "grand_total": 3.5})
	want := fmt.Sprintf("SINV-%d-00001", time.Now().Year())
	if si.Name() != want {
		t.Errorf("Sales Invoice name %q, want %q", si.Name(), want)
	}
	if _, err := a.Save(ctx, app.Admin(), "Sales Invoice", si.Name(), doc.Doc{"docstatus": 1}, app.Opts{}); err != nil {
		t.Fatalf("submit: %v", err)
	}
	if _, err := a.Save(ctx, app.Admin(), "Sales Invoice", si.Name(), doc.Doc{"docstatus": 2}, app.Opts{}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if err := a.Delete(ctx, app.Admin(), "Sales Invoice", si.Name(), app.Opts{}); err != nil {
		t.Fatalf("delete the cancelled invoice: %v", err)
	}

	// Links are checked: a Dynamic Link to a missing Customer, an invoice
	// row with an unknown Item.
	_, err := a.Insert(ctx, app.Admin(), "Address", doc.Doc{"address_title": "Nobody", "address_line1": "x", "city": "y", "country": "z",
		"links": []doc.Doc{{"link_doctype": "Customer", "link_name": "Nobody Ltd"}}}, app.Opts{})
	if e, ok := errs.As(err); !ok || e.ExcType != "LinkValidationError" || !strings.Contains(e.Message, "Nobody Ltd") {
		t.Errorf("Address linking a missing Customer: %v", err)
	}
	_, err = a.Insert(ctx, app.Admin(), "Sales Invoice", doc.Doc{"customer": cu.Name(), "company": co.Name(),
		"items": []doc.Doc{{"item_code": "SKU-9999", "qty": 1}}}, app.Opts{})
	if e, ok := errs.As(err); !ok || e.ExcType != "LinkValidationError" {
		t.Errorf("Sales Invoice with an unknown Item: %v", err)
	}
}
