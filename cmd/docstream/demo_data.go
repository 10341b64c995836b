package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
)

// demoProgress counts what the generator has done on the producer.
type demoProgress struct {
	start   time.Time
	created atomic.Int64 // documents inserted
	changes atomic.Int64 // inserts, saves, submits, cancels and deletes
}

// Sample data. Every choice comes from a math/rand/v2 generator with a fixed
// seed, so the same --n gives the same documents on every run (dates are
// relative to the current year).
var (
	demoCompanies = []struct{ name, abbr, currency, country string }{
		{"Acme Trading Ltd", "ATL", "GBP", "United Kingdom"},
		{"Globex Corporation", "GC", "USD", "United States"},
		{"Initech GmbH", "IG", "EUR", "Germany"},
	}
	demoItemGroups = []string{"Products", "Raw Material", "Sub Assemblies", "Consumables", "Services"}
	demoMaterials  = []string{"Steel", "Brass", "Copper", "Aluminium", "Oak", "Nylon", "Rubber", "Carbon", "Glass", "Ceramic"}
	demoParts      = []string{"Bolt", "Washer", "Bracket", "Hinge", "Valve", "Gasket", "Pipe", "Panel", "Spring", "Bearing", "Clamp", "Flange"}
	demoSizes      = []string{"M4", "M6", "M8", "M10", "12 mm", "25 mm", "50 mm", "Small", "Medium", "Large"}
	demoServices   = []string{"Installation", "Maintenance Visit", "Consulting", "Training", "Calibration", "Repair", "Inspection"}
	demoCustFirst  = []string{"Northwind", "Blue Harbor", "Summit", "Redwood", "Silverline", "Evergreen", "Pinnacle", "Horizon",
		"Ironclad", "Lakeside", "Cedar Point", "Maple Ridge", "Atlas", "Orion", "Vertex", "Riverside"}
	demoCustTrade = []string{"Foods", "Retail", "Logistics", "Builders", "Hotels", "Pharma", "Motors", "Studios", "Farms", "Energy"}
	demoCustForm  = []string{"Ltd", "Inc", "GmbH", "LLC", "SARL", "BV"}
	demoSuppFirst = []string{"Contoso", "Fabrikam", "Tailspin", "Wingtip", "Litware", "Proseware", "Coho", "Alpine", "Woodgrove", "Trey"}
	demoSuppTrade = []string{"Metals", "Plastics", "Components", "Supplies", "Industrial", "Electronics", "Packaging", "Chemicals"}
	demoCities    = []struct{ city, state, country, territory string }{
		{"Hamburg", "Hamburg", "Germany", "Europe"}, {"Lyon", "Auvergne-Rhone-Alpes", "France", "Europe"},
		{"Leeds", "West Yorkshire", "United Kingdom", "Europe"}, {"Porto", "Porto", "Portugal", "Europe"},
		{"Austin", "Texas", "United States", "North America"}, {"Toronto", "Ontario", "Canada", "North America"},
		{"Osaka", "Osaka", "Japan", "Asia"}, {"Pune", "Maharashtra", "India", "Asia"},
		{"Melbourne", "Victoria", "Australia", "Oceania"}, {"Curitiba", "Parana", "Brazil", "South America"},
		{"Nairobi", "Nairobi", "Kenya", "Africa"},
	}
	demoStreets = []string{"Harbour Road", "Market Street", "Station Road", "Mill Lane", "High Street", "Park Avenue", "Church Street", "Bridge Street"}
)

// sampleGen creates the sample documents on the producer through the
// document service, as the Administrator.
type sampleGen struct {
	ctx  context.Context
	a    *app.Service
	r    *rand.Rand
	prog *demoProgress
}

func (g *sampleGen) insert(doctype string, d doc.Doc) (doc.Doc, error) {
	out, err := g.a.Insert(g.ctx, app.Admin(), doctype, d, app.Opts{})
	if err != nil {
		return nil, fmt.Errorf("insert %s: %w", doctype, err)
	}
	g.prog.created.Add(1)
	g.prog.changes.Add(1)
	return out, nil
}

func (g *sampleGen) save(doctype, name string, patch doc.Doc) (doc.Doc, error) {
	out, err := g.a.Save(g.ctx, app.Admin(), doctype, name, patch, app.Opts{})
	if err != nil {
		return nil, fmt.Errorf("save %s %s: %w", doctype, name, err)
	}
	g.prog.changes.Add(1)
	return out, nil
}

func (g *sampleGen) delete(doctype, name string) error {
	if err := g.a.Delete(g.ctx, app.Admin(), doctype, name, app.Opts{}); err != nil {
		return fmt.Errorf("delete %s %s: %w", doctype, name, err)
	}
	g.prog.changes.Add(1)
	return nil
}

func pick[T any](r *rand.Rand, l []T) T { return l[r.IntN(len(l))] }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// uniqueName returns name, or name with a number when it is taken already.
func uniqueName(seen map[string]bool, name string) string {
	n := name
	for i := 2; seen[n]; i++ {
		n = fmt.Sprintf("%s %d", name, i)
	}
	seen[n] = true
	return n
}

type sampleItem struct {
	code, name, uom string
	rate            float64
}

// generateSample creates, on the producer: the companies, the item groups,
// n items, n/5 customers and n/10 suppliers (at least a few of each), an
// address for every customer (linked through the Dynamic Link table) and for
// some suppliers, and n sales invoices with 1-5 item rows. Along the way it
// edits some drafts, changes item prices, submits most invoices, cancels two
// and deletes them, and deletes one draft.
func generateSample(ctx context.Context, a *app.Service, n int, seed uint64, prog *demoProgress) error {
	g := &sampleGen{ctx: ctx, a: a, r: rand.New(rand.NewPCG(seed, 0x646f6373747265)), prog: prog}
	r := g.r

	var companies []string
	for _, c := range demoCompanies {
		d, err := g.insert("Company", doc.Doc{"company_name": c.name, "abbr": c.abbr, "default_currency": c.currency,
			"country": c.country, "date_of_establishment": fmt.Sprintf("%d-%02d-01", 1990+r.IntN(30), 1+r.IntN(12))})
		if err != nil {
			return err
		}
		companies = append(companies, d.Name())
	}

	if _, err := g.insert("Item Group", doc.Doc{"item_group_name": "All Item Groups", "is_group": 1}); err != nil {
		return err
	}
	for _, ig := range demoItemGroups {
		if _, err := g.insert("Item Group", doc.Doc{"item_group_name": ig, "parent_item_group": "All Item Groups"}); err != nil {
			return err
		}
	}

	items := make([]sampleItem, 0, n)
	seenItems := map[string]bool{}
	for i := range n {
		it := sampleItem{code: fmt.Sprintf("SKU-%04d", i+1)}
		group := pick(r, demoItemGroups)
		stock := 1
		if group == "Services" {
			it.name = uniqueName(seenItems, pick(r, demoServices)+" "+pick(r, []string{"Standard", "Premium", "On Site", "Remote"}))
			it.uom, it.rate, stock = "Hour", round2(40+r.Float64()*160), 0
		} else {
			it.name = uniqueName(seenItems, fmt.Sprintf("%s %s %s", pick(r, demoMaterials), pick(r, demoParts), pick(r, demoSizes)))
			it.uom, it.rate = pick(r, []string{"Nos", "Nos", "Nos", "Box", "Kg", "Meter"}), round2(0.2+r.Float64()*250)
		}
		if _, err := g.insert("Item", doc.Doc{"item_code": it.code, "item_name": it.name, "item_group": group,
			"stock_uom": it.uom, "is_stock_item": stock, "standard_rate": it.rate,
			"description": fmt.Sprintf("%s, sold per %s.", it.name, it.uom)}); err != nil {
			return err
		}
		items = append(items, it)
	}

	seenParties := map[string]bool{}
	customers := make([]string, 0, max(4, n/5))
	for range max(4, n/5) {
		name := uniqueName(seenParties, fmt.Sprintf("%s %s %s", pick(r, demoCustFirst), pick(r, demoCustTrade), pick(r, demoCustForm)))
		city := pick(r, demoCities)
		ctype, group := "Company", pick(r, []string{"Commercial", "Commercial", "Government", "Non Profit"})
		if r.IntN(6) == 0 {
			ctype, group = "Individual", "Individual"
		}
		if _, err := g.insert("Customer", doc.Doc{"customer_name": name, "customer_type": ctype, "customer_group": group,
			"territory": city.territory, "company": pick(r, companies),
			"email_id": fmt.Sprintf("accounts@customer%d.example.com", len(customers)+1)}); err != nil {
			return err
		}
		if err := g.address(name, "Customer", "Billing", city); err != nil {
			return err
		}
		if len(customers)%3 == 2 {
			if err := g.address(name, "Customer", "Shipping", pick(r, demoCities)); err != nil {
				return err
			}
		}
		customers = append(customers, name)
	}
	suppliers := make([]string, 0, max(3, n/10))
	for range max(3, n/10) {
		name := uniqueName(seenParties, fmt.Sprintf("%s %s", pick(r, demoSuppFirst), pick(r, demoSuppTrade)))
		city := pick(r, demoCities)
		if _, err := g.insert("Supplier", doc.Doc{"supplier_name": name, "supplier_group": pick(r, []string{"Raw Material", "Services", "Hardware", "Local", "Distributor"}),
			"country": city.country}); err != nil {
			return err
		}
		if len(suppliers)%2 == 0 {
			if err := g.address(name, "Supplier", "Office", city); err != nil {
				return err
			}
		}
		suppliers = append(suppliers, name)
	}

	// Sales invoices, with some drafts edited and some prices changed on the way.
	year := time.Now().Year()
	jan1 := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	days := max(1, time.Now().YearDay())
	invoices := make([]doc.Doc, 0, n)
	for i := range n {
		posting := jan1.AddDate(0, 0, r.IntN(days))
		var rows []doc.Doc
		for range 1 + r.IntN(5) {
			it := items[r.IntN(len(items))]
			qty := float64(1 + r.IntN(20))
			rows = append(rows, doc.Doc{"item_code": it.code, "item_name": it.name, "uom": it.uom, "qty": qty, "rate": it.rate, "amount": round2(qty * it.rate)})
		}
		cust := pick(r, customers)
		inv := doc.Doc{"customer": cust, "customer_name": cust, "company": pick(r, companies),
			"posting_date": posting.Format(time.DateOnly), "due_date": posting.AddDate(0, 0, 30).Format(time.DateOnly), "items": rows}
		totals(inv)
		d, err := g.insert("Sales Invoice", inv)
		if err != nil {
			return err
		}
		invoices = append(invoices, d)

		if i%5 == 4 { // edit an earlier draft: one more of a row, and a new row
			j := r.IntN(len(invoices))
			if invoices[j], err = g.editInvoice(invoices[j], items); err != nil {
				return err
			}
		}
		if i%10 == 9 { // a price change
			k := r.IntN(len(items))
			items[k].rate = round2(items[k].rate * (0.9 + r.Float64()*0.25))
			if _, err := g.save("Item", items[k].code, doc.Doc{"standard_rate": items[k].rate}); err != nil {
				return err
			}
		}
	}

	// Submit about two thirds; cancel two submitted invoices and delete
	// them, and delete one draft.
	var submitted, drafts []string
	for _, inv := range invoices {
		if r.IntN(3) < 2 {
			if _, err := g.save("Sales Invoice", inv.Name(), doc.Doc{"docstatus": 1}); err != nil {
				return err
			}
			submitted = append(submitted, inv.Name())
		} else {
			drafts = append(drafts, inv.Name())
		}
	}
	for _, name := range submitted[:min(2, len(submitted))] {
		if _, err := g.save("Sales Invoice", name, doc.Doc{"docstatus": 2}); err != nil {
			return err
		}
		if err := g.delete("Sales Invoice", name); err != nil {
			return err
		}
	}
	if len(drafts) > 0 {
		if err := g.delete("Sales Invoice", drafts[len(drafts)-1]); err != nil {
			return err
		}
	}

	// A few customers move, one supplier is disabled.
	for range max(1, len(customers)/10) {
		if _, err := g.save("Customer", pick(r, customers), doc.Doc{"territory": pick(r, demoCities).territory}); err != nil {
			return err
		}
	}
	_, err := g.save("Supplier", suppliers[len(suppliers)-1], doc.Doc{"disabled": 1})
	return err
}

// address creates an Address of party, linked to it through the Dynamic Link table.
func (g *sampleGen) address(party, partyType, addrType string, city struct{ city, state, country, territory string }) error {
	_, err := g.insert("Address", doc.Doc{"address_title": party, "address_type": addrType,
		"address_line1": fmt.Sprintf("%d %s", 1+g.r.IntN(250), pick(g.r, demoStreets)),
		"city":          city.city, "state": city.state, "country": city.country, "pincode": fmt.Sprintf("%05d", g.r.IntN(100000)),
		"is_primary_address": boolInt(addrType == "Billing"), "is_shipping_address": boolInt(addrType == "Shipping"),
		"links": []doc.Doc{{"link_doctype": partyType, "link_name": party, "link_title": party}}})
	return err
}

// editInvoice changes a draft invoice: one more of its first row, and a new
// row. Rows are sent with their names, so they are updated, not replaced.
func (g *sampleGen) editInvoice(inv doc.Doc, items []sampleItem) (doc.Doc, error) {
	if inv.Int("docstatus") != 0 {
		return inv, nil
	}
	var rows []doc.Doc
	for _, r := range inv.Rows("items") {
		rows = append(rows, doc.Doc{"name": r.Name(), "item_code": r["item_code"], "item_name": r["item_name"], "uom": r["uom"],
			"qty": r["qty"], "rate": r["rate"], "amount": r["amount"]})
	}
	first := rows[0]
	first["qty"] = toFloat(first["qty"]) + 1
	first["amount"] = round2(toFloat(first["qty"]) * toFloat(first["rate"]))
	it := items[g.r.IntN(len(items))]
	qty := float64(1 + g.r.IntN(10))
	rows = append(rows, doc.Doc{"item_code": it.code, "item_name": it.name, "uom": it.uom, "qty": qty, "rate": it.rate, "amount": round2(qty * it.rate)})
	patch := doc.Doc{"items": rows, "remarks": "Added " + it.name + " at the customer's request."}
	totals(patch)
	return g.save("Sales Invoice", inv.Name(), patch)
}

// totals sets total_qty and grand_total from the item rows.
func totals(inv doc.Doc) {
	var qty, total float64
	for _, r := range inv.Rows("items") {
		qty += toFloat(r["qty"])
		total += toFloat(r["amount"])
	}
	inv["total_qty"], inv["grand_total"] = qty, round2(total)
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return 0
}
