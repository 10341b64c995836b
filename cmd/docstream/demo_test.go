package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/site"
)

// TestDemo runs the demo in-process with a small n, as `docstream demo`
// does, and checks once it reports that everything has streamed that the
// consumer holds the producer's Items and Sales Invoices. The producer's
// port is taken, so the demo must fall back to a free one. A second run on
// the same folder reuses the set-up demo.
func TestDemo(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()

	var out bytes.Buffer
	var pAddr, cAddr string
	err = runWithin(t, 90*time.Second, &out, demoOptions{Dir: dir, N: 20, ProducerAddr: busy.Addr().String(), ConsumerAddr: "127.0.0.1:0",
		Tick: 100 * time.Millisecond}, func(p, c *site.Site) {
		pAddr, cAddr = strings.TrimPrefix(p.URL, "http://"), strings.TrimPrefix(c.URL, "http://")
		compareSites(t, p, c)
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"is in use: the producer listens on a free port instead",
		"Event Consumer http://" + cAddr + " approved on the producer",
		"Caught up in",
		"http://" + cAddr + "/app",
		"Administrator / admin",
		"sync@example.com / admin",
		"Authorization: token ",
		"curl -s http://" + cAddr + "/metrics",
		"Press Ctrl-C to stop.",
		"Both sites stopped.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if t.Failed() {
		return
	}

	// Again on the same folder and addresses: nothing is set up or created
	// twice, and the sites still match.
	out.Reset()
	err = runWithin(t, 60*time.Second, &out, demoOptions{Dir: dir, N: 20, ProducerAddr: pAddr, ConsumerAddr: cAddr,
		Tick: 100 * time.Millisecond}, func(p, c *site.Site) { compareSites(t, p, c) })
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"already subscribes to http://" + pAddr, "from an earlier run: not creating more", "Press Ctrl-C to stop."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("second run: output lacks %q:\n%s", want, out.String())
		}
	}
}

// runWithin runs the demo until it calls OnReady, runs check there, then
// cancels it and waits for it to stop.
func runWithin(t *testing.T, limit time.Duration, out *bytes.Buffer, o demoOptions, check func(p, c *site.Site)) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := false
	o.OnReady = func(p, c *site.Site) {
		ready = true
		check(p, c)
		cancel()
	}
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, out, o) }()
	select {
	case err := <-done:
		if !ready && err == nil {
			return fmt.Errorf("the demo stopped before it was ready")
		}
		return err
	case <-time.After(limit):
		cancel()
		<-done
		return fmt.Errorf("not ready after %s", limit)
	}
}

// compareSites checks that the consumer holds what the producer holds: the
// same number of documents of each streamed DocType, the same Items, and
// each Sales Invoice under the consumer's own name with the producer's name
// in remote_docname, with the same status, totals and rows.
func compareSites(t *testing.T, p, c *site.Site) {
	t.Helper()
	ctx := context.Background()
	list := func(s *site.Site, doctype string, fields ...string) []doc.Doc {
		t.Helper()
		l, err := s.App.List(ctx, app.Admin(), app.ListArgs{DocType: doctype, Fields: fields, Limit: 0})
		if err != nil {
			t.Fatalf("list %s on %s: %v", doctype, s.URL, err)
		}
		return l
	}
	for _, d := range demoDocTypes {
		np, nc := len(list(p, d.name)), len(list(c, d.name))
		if np == 0 || np != nc {
			t.Errorf("%s: %d on the producer, %d on the consumer", d.name, np, nc)
		}
	}

	itemFields := []string{"name", "item_name", "item_group", "stock_uom", "standard_rate", "is_stock_item"}
	items := map[string]string{}
	for _, it := range list(p, "Item", itemFields...) {
		items[it.Name()] = fmt.Sprint(it)
	}
	for _, it := range list(c, "Item", itemFields...) {
		if want, ok := items[it.Name()]; !ok {
			t.Errorf("Item %s is on the consumer only", it.Name())
		} else if got := fmt.Sprint(it); got != want {
			t.Errorf("Item %s differs:\nproducer %s\nconsumer %s", it.Name(), want, got)
		}
	}

	invoices := map[string]doc.Doc{}
	var submitted int
	for _, si := range list(p, "Sales Invoice", "name", "docstatus") {
		d, err := p.App.Get(ctx, app.Admin(), "Sales Invoice", si.Name())
		if err != nil {
			t.Fatal(err)
		}
		invoices[si.Name()] = d
		if d.Int("docstatus") == 1 {
			submitted++
		}
	}
	if submitted == 0 || submitted == len(invoices) {
		t.Errorf("the sample should have draft and submitted invoices: %d of %d submitted", submitted, len(invoices))
	}
	for _, si := range list(c, "Sales Invoice", "name", "remote_docname", "remote_site_name") {
		pd, ok := invoices[si.Str("remote_docname")]
		if !ok {
			t.Errorf("Sales Invoice %s (remote_docname %q) has no counterpart on the producer", si.Name(), si.Str("remote_docname"))
			continue
		}
		delete(invoices, si.Str("remote_docname"))
		if si.Str("remote_site_name") != p.URL {
			t.Errorf("Sales Invoice %s: remote_site_name %q, want %q", si.Name(), si.Str("remote_site_name"), p.URL)
		}
		cd, err := c.App.Get(ctx, app.Admin(), "Sales Invoice", si.Name())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := invoiceText(cd), invoiceText(pd); got != want {
			t.Errorf("Sales Invoice %s (producer %s) differs:\nproducer %s\nconsumer %s", si.Name(), pd.Name(), want, got)
		}
	}
	for name := range invoices {
		t.Errorf("Sales Invoice %s is missing on the consumer", name)
	}

	n, err := c.App.Count(ctx, app.Admin(), app.ListArgs{DocType: "Event Sync Log", Filters: map[string]any{"status": "Failed"}})
	if err != nil || n != 0 {
		t.Errorf("failed events on the consumer: %d (%v)", n, err)
	}
}

// invoiceText renders what must match between the two copies of an invoice.
func invoiceText(d doc.Doc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "docstatus=%d customer=%s company=%s posting_date=%s total_qty=%v grand_total=%v remarks=%q",
		d.Int("docstatus"), d.Str("customer"), d.Str("company"), d.Str("posting_date"), d["total_qty"], d["grand_total"], d.Str("remarks"))
	for _, r := range d.Rows("items") {
		fmt.Fprintf(&b, " | %s #%d %s qty=%v rate=%v amount=%v", r.Name(), r.Int("idx"), r.Str("item_code"), r["qty"], r["rate"], r["amount"])
	}
	return b.String()
}
