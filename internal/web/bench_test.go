package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"docstream/internal/doc"
)

// BenchmarkPages measures the desk's main pages over loopback HTTP with a
// session, rendering included: go test -run - -bench Pages ./internal/web/
func BenchmarkPages(b *testing.B) {
	e := newEnv(b, &fakeStream{ov: fakeOverview()}, false)
	customerDocTypes(e)
	for i := range 200 {
		e.insert("Customer", doc.Doc{"customer_name": fmt.Sprintf("Customer %03d", i), "customer_group": "Commercial",
			"territory": "Germany", "credit_limit": float64(i * 1000),
			"contacts": []doc.Doc{{"contact_name": "A", "role": "Buyer"}, {"contact_name": "B", "role": "Owner"}}})
	}
	c := e.admin()
	for _, p := range []string{"/app", "/app/customer", "/app/customer?page_length=100", "/app/customer/Customer%20007",
		"/app/customer/new", "/app/user/Administrator", "/app/event-streaming", "/app/event-streaming/dashboard"} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				if r := c.get(p); r.code != http.StatusOK {
					b.Fatalf("%s: %d", p, r.code)
				}
			}
		})
	}
}
