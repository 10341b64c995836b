package stream_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"docstream/internal/doc"
	"docstream/internal/site"
)

// countingTransport counts GET /api/resource requests per path.
type countingTransport struct {
	mu   sync.Mutex
	gets map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/resource/") {
		c.mu.Lock()
		c.gets[r.URL.Path]++
		c.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func sysPerm() []doc.Doc {
	return []doc.Doc{{"role": "System Manager", "read": int64(1), "write": int64(1), "create": int64(1), "delete": int64(1)}}
}

func depDocTypes(t *testing.T, s *site.Site) {
	t.Helper()
	f := func(name, typ, opts string) doc.Doc {
		return doc.Doc{"fieldname": name, "fieldtype": typ, "options": opts}
	}
	for _, d := range []doc.Doc{
		{"name": "Region", "autoname": "field:region_name", "fields": []doc.Doc{f("region_name", "Data", "")}},
		{"name": "Group", "autoname": "field:group_name", "fields": []doc.Doc{f("group_name", "Data", ""), f("region", "Link", "Region")}},
		{"name": "Product", "autoname": "field:product_name", "fields": []doc.Doc{f("product_name", "Data", ""), f("group", "Link", "Group")}},
		{"name": "Party", "autoname": "field:party_name", "fields": []doc.Doc{f("party_name", "Data", ""), f("parent_party", "Link", "Party")}},
		{"name": "Contact Link", "istable": int64(1), "fields": []doc.Doc{f("link_doctype", "Link", "DocType"), f("link_name", "Dynamic Link", "link_doctype")}},
		{"name": "Invoice Line", "istable": int64(1), "fields": []doc.Doc{f("product", "Link", "Product"), f("qty", "Float", "")}},
		{"name": "Invoice", "autoname": "field:title", "fields": []doc.Doc{f("title", "Data", ""), f("party", "Link", "Party"),
			f("lines", "Table", "Invoice Line"), f("links", "Table", "Contact Link")}},
	} {
		if d["istable"] == nil {
			d["permissions"] = sysPerm()
		}
		mustInsert(t, s, "DocType", d)
	}
}

// Missing Link, Dynamic Link and child-row link targets are fetched from the
// producer, recursively (three levels, with a cycle), once per target, and
// land with the document.
func TestDependencies(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		p, c := start(t, fastStream()), start(t, fastStream())
		counter := &countingTransport{gets: map[string]int{}}
		c.Stream.HTTP = &http.Client{Transport: counter, Timeout: 30 * time.Second}
		depDocTypes(t, p.Site)
		depDocTypes(t, c.Site)
		subscribe(t, p, c, doc.Doc{"ref_doctype": "Invoice", "use_same_name": int64(1)})

		mustInsert(t, p.Site, "Region", doc.Doc{"region_name": "North"})
		mustInsert(t, p.Site, "Group", doc.Doc{"group_name": "Tools", "region": "North"})
		mustInsert(t, p.Site, "Product", doc.Doc{"product_name": "Hammer", "group": "Tools"})
		mustInsert(t, p.Site, "Product", doc.Doc{"product_name": "Saw", "group": "Tools"})
		mustInsert(t, p.Site, "Party", doc.Doc{"party_name": "A"})
		mustInsert(t, p.Site, "Party", doc.Doc{"party_name": "B", "parent_party": "A"})
		mustSave(t, p.Site, "Party", "A", doc.Doc{"parent_party": "B"}) // a cycle
		mustSave(t, p.Site, "Party", "B", doc.Doc{"parent_party": "A"})
		mustInsert(t, p.Site, "Invoice", doc.Doc{"title": "INV-1", "party": "A",
			"lines": []doc.Doc{{"product": "Hammer", "qty": 1.0}, {"product": "Hammer", "qty": 2.0}, {"product": "Saw", "qty": 3.0}},
			"links": []doc.Doc{{"link_doctype": "Group", "link_name": "Tools"}}})

		eventually(t, "invoice on the consumer", 10*time.Second, func() bool { return find(c.Site, "Invoice", "INV-1") != nil })
		for _, k := range [][2]string{{"Party", "A"}, {"Party", "B"}, {"Product", "Hammer"}, {"Product", "Saw"}, {"Group", "Tools"}, {"Region", "North"}} {
			if find(c.Site, k[0], k[1]) == nil {
				t.Errorf("dependency %s %s missing on the consumer", k[0], k[1])
			}
		}
		if got := find(c.Site, "Party", "A").Str("parent_party"); got != "B" {
			t.Errorf("Party A parent = %q, want B", got)
		}
		counter.mu.Lock()
		total := 0
		for path, n := range counter.gets {
			total += n
			if n != 1 {
				t.Errorf("%s fetched %d times, want once", path, n)
			}
		}
		counter.mu.Unlock()
		if total != 6 {
			t.Errorf("fetched %d documents, want 6 (one per missing target): %v", total, counter.gets)
		}

		// A dependency that exists locally is not fetched again.
		mustInsert(t, p.Site, "Invoice", doc.Doc{"title": "INV-2", "party": "B", "lines": []doc.Doc{{"product": "Saw", "qty": 1.0}}})
		eventually(t, "second invoice", 10*time.Second, func() bool { return find(c.Site, "Invoice", "INV-2") != nil })
		if total2 := sumGets(counter); total2 != 6 {
			t.Errorf("second invoice fetched %d more documents, want 0", total2-6)
		}
	})
}

func sumGets(c *countingTransport) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.gets {
		n += v
	}
	return n
}
