package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"docstream/internal/sitetest"
)

const itemDocType = `{"name": "Test Item", "autoname": "field:title", "fields": [
	{"fieldname": "title", "fieldtype": "Data"},
	{"fieldname": "qty", "fieldtype": "Int"},
	{"fieldname": "price", "fieldtype": "Float"},
	{"fieldname": "active", "fieldtype": "Check"},
	{"fieldname": "category", "fieldtype": "Select", "options": "A\nB\nC"},
	{"fieldname": "day", "fieldtype": "Date"},
	{"fieldname": "note", "fieldtype": "Data"},
	{"fieldname": "customer", "fieldtype": "Link", "options": "Test Customer"}],
	"permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]}`

// item is the i-th of 25 list fixtures (1-based).
type item struct {
	title    string
	qty      int
	price    float64
	active   int
	category string
	day      string
	note     string // "" means null
	customer string
}

func items() []item {
	var out []item
	for i := 1; i <= 25; i++ {
		it := item{title: fmt.Sprintf("item-%02d", i), qty: i, price: float64(i) * 1.5, active: i % 2,
			category: string(rune('A' + i%3)), day: fmt.Sprintf("2025-01-%02d", i)}
		if i <= 5 {
			it.note = fmt.Sprintf("Note %d", i)
		}
		if i%2 == 0 {
			it.customer = "ACME"
		}
		out = append(out, it)
	}
	return out
}

func newListSite(t *testing.T, opts sitetest.Options) *sitetest.Site {
	t.Helper()
	s := newFixtureSite(t, opts)
	c := s.Admin()
	c.MustCreateDocType(t, itemDocType)
	for _, it := range items() {
		d := map[string]any{"title": it.title, "qty": it.qty, "price": it.price, "active": it.active,
			"category": it.category, "day": it.day, "customer": it.customer}
		if it.note != "" {
			d["note"] = it.note
		}
		c.MustInsert(t, "Test Item", d)
	}
	return s
}

func titles(rows []map[string]any) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprint(r["name"]))
	}
	return out
}

func TestList_Params(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newListSite(t, opts)
		c := s.Admin()
		c.MustInsert(t, "Test Order", order(2)) // rows ITEM-A, ITEM-B
		c.MustInsert(t, "Test Order", order(1)) // row ITEM-A
		all := items()
		// Filter cases: params and the fixtures they must return (as a set).
		filterCases := []struct {
			name   string
			params map[string]any
			want   func(it item) bool
		}{
			{"dict equals", map[string]any{"filters": map[string]any{"category": "A"}}, func(it item) bool { return it.category == "A" }},
			{"dict with operator", map[string]any{"filters": map[string]any{"qty": []any{">", 20}}}, func(it item) bool { return it.qty > 20 }},
			{"list of triples", map[string]any{"filters": [][]any{{"qty", ">=", 10}, {"qty", "<", 15}}}, func(it item) bool { return it.qty >= 10 && it.qty < 15 }},
			{"four-item form", map[string]any{"filters": [][]any{{"Test Item", "qty", "=", 3}}}, func(it item) bool { return it.qty == 3 }},
			{"!=", map[string]any{"filters": [][]any{{"category", "!=", "A"}}}, func(it item) bool { return it.category != "A" }},
			{"<=", map[string]any{"filters": [][]any{{"price", "<=", 3}}}, func(it item) bool { return it.price <= 3 }},
			{"like", map[string]any{"filters": [][]any{{"title", "like", "%-1%"}}}, func(it item) bool { return strings.Contains(it.title, "-1") }},
			{"LIKE is case-insensitive as an operator", map[string]any{"filters": [][]any{{"title", "LIKE", "item-2%"}}}, func(it item) bool { return strings.HasPrefix(it.title, "item-2") }},
			{"not like", map[string]any{"filters": [][]any{{"title", "not like", "%0%"}}}, func(it item) bool { return !strings.Contains(it.title, "0") }},
			{"in list", map[string]any{"filters": [][]any{{"qty", "in", []int{1, 2, 30}}}}, func(it item) bool { return it.qty == 1 || it.qty == 2 }},
			{"in comma string", map[string]any{"filters": [][]any{{"title", "in", "item-01, item-03"}}}, func(it item) bool { return it.qty == 1 || it.qty == 3 }},
			{"not in", map[string]any{"filters": [][]any{{"category", "not in", []string{"A", "B"}}}}, func(it item) bool { return it.category == "C" }},
			{"is set", map[string]any{"filters": [][]any{{"note", "is", "set"}}}, func(it item) bool { return it.note != "" }},
			{"is not set", map[string]any{"filters": [][]any{{"note", "is", "not set"}}}, func(it item) bool { return it.note == "" }},
			{"between numbers", map[string]any{"filters": [][]any{{"qty", "between", []int{5, 7}}}}, func(it item) bool { return it.qty >= 5 && it.qty <= 7 }},
			{"between dates", map[string]any{"filters": [][]any{{"day", "between", []string{"2025-01-03", "2025-01-04"}}}}, func(it item) bool { return it.qty == 3 || it.qty == 4 }},
			{"check field", map[string]any{"filters": map[string]any{"active": 1}}, func(it item) bool { return it.active == 1 }},
			{"link field", map[string]any{"filters": map[string]any{"customer": "ACME"}}, func(it item) bool { return it.customer == "ACME" }},
			{"NULL equals empty", map[string]any{"filters": map[string]any{"note": ""}}, func(it item) bool { return it.note == "" }},
			{"!= matches NULL", map[string]any{"filters": [][]any{{"note", "!=", "Note 1"}}}, func(it item) bool { return it.note != "Note 1" }},
			{"or_filters", map[string]any{"or_filters": [][]any{{"qty", "=", 1}, {"qty", "=", 25}}}, func(it item) bool { return it.qty == 1 || it.qty == 25 }},
			{"or_filters dict", map[string]any{"or_filters": map[string]any{"qty": 2, "title": "item-04"}}, func(it item) bool { return it.qty == 2 || it.qty == 4 }},
			{"filters AND or_filters", map[string]any{"filters": map[string]any{"category": "B"}, "or_filters": [][]any{{"qty", "<", 5}, {"qty", ">", 20}}},
				func(it item) bool { return it.category == "B" && (it.qty < 5 || it.qty > 20) }},
			{"no filters", map[string]any{}, func(it item) bool { return true }},
		}
		for _, fc := range filterCases {
			t.Run(fc.name, func(t *testing.T) {
				p := map[string]any{"limit_page_length": 0}
				for k, v := range fc.params {
					p[k] = v
				}
				rows := c.Get(t, sitetest.Path("Test Item"), p).MustOK(t).Rows()
				got := titles(rows)
				var want []string
				for _, it := range all {
					if fc.want(it) {
						want = append(want, it.title)
					}
				}
				slices.Sort(got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
				// frappe.client.get_count agrees with the list.
				if f, ok := fc.params["filters"]; ok && fc.params["or_filters"] == nil {
					if n := c.MustCount(t, "Test Item", f); n != len(want) {
						t.Errorf("get_count %d, want %d", n, len(want))
					}
				}
			})
		}

		list := sitetest.Path("Test Item")
		q := sitetest.Query
		countIs := func(n int) func(*testing.T, *sitetest.Response) {
			return func(t *testing.T, r *sitetest.Response) {
				t.Helper()
				if got := len(r.Rows()); got != n {
					t.Errorf("%d rows, want %d: %s", got, n, r.Body)
				}
			}
		}
		firstIs := func(field string, want any) func(*testing.T, *sitetest.Response) {
			return func(t *testing.T, r *sitetest.Response) {
				t.Helper()
				rows := r.Rows()
				if len(rows) == 0 || rows[0][field] != want {
					t.Errorf("first row %v, want %s = %v", rows, field, want)
				}
			}
		}
		sitetest.Run(t, s, []sitetest.Scenario{
			{Name: "default page of 20, names only", Path: list, Check: func(t *testing.T, r *sitetest.Response) {
				rows := r.Rows()
				if len(rows) != 20 {
					t.Errorf("%d rows, want 20", len(rows))
				}
				if len(rows) > 0 && len(rows[0]) != 1 {
					t.Errorf("row %v, want only name", rows[0])
				}
			}},
			{Name: "limit_page_length", Path: list + q(map[string]any{"limit_page_length": "5"}), Check: countIs(5)},
			{Name: "limit alias", Path: list + q(map[string]any{"limit": "7"}), Check: countIs(7)},
			{Name: "limit 0 is no limit", Path: list + q(map[string]any{"limit_page_length": "0"}), Check: countIs(25)},
			{Name: "limit_start", Path: list + q(map[string]any{"limit_start": "20", "limit": "10", "order_by": "qty asc", "fields": []string{"qty"}}),
				Check: func(t *testing.T, r *sitetest.Response) {
					if diff := cmp.Diff([]map[string]any{{"qty": 21.0}, {"qty": 22.0}, {"qty": 23.0}, {"qty": 24.0}, {"qty": 25.0}}, r.Rows()); diff != "" {
						t.Errorf("page (-want +got):\n%s", diff)
					}
				}},
			{Name: "order_by asc", Path: list + q(map[string]any{"order_by": "qty asc", "fields": []string{"qty"}}), Check: firstIs("qty", 1.0)},
			{Name: "order_by desc", Path: list + q(map[string]any{"order_by": "qty desc", "fields": []string{"qty"}}), Check: firstIs("qty", 25.0)},
			{Name: "order_by two terms", Path: list + q(map[string]any{"order_by": "category asc, qty desc", "fields": []string{"qty"}}), Check: firstIs("qty", 24.0)},
			{Name: "order_by quoted", Path: list + q(map[string]any{"order_by": "`tabTest Item`.`qty` desc", "fields": []string{"qty"}}), Check: firstIs("qty", 25.0)},
			{Name: "empty order_by (frappe-js-sdk)", Path: list + "?order_by=", Check: countIs(20)},
			{Name: "default order is modified desc", Path: list + q(map[string]any{"limit": "1"}), Check: firstIs("name", "item-25")},
			{Name: "fields", Path: list + q(map[string]any{"fields": []string{"name", "qty", "note"}, "filters": map[string]any{"qty": 6}}),
				Check: func(t *testing.T, r *sitetest.Response) {
					if diff := cmp.Diff([]map[string]any{{"name": "item-06", "qty": 6.0, "note": nil}}, r.Rows()); diff != "" {
						t.Errorf("rows keep nulls (-want +got):\n%s", diff)
					}
				}},
			{Name: "fields star", Path: list + q(map[string]any{"fields": []string{"*"}, "filters": map[string]any{"qty": 2}}),
				Check: func(t *testing.T, r *sitetest.Response) {
					row := r.Rows()[0]
					for _, k := range []string{"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "title", "qty", "price", "active", "category", "day", "note", "customer"} {
						if _, ok := row[k]; !ok {
							t.Errorf("fields [*] row lacks %s: %v", k, row)
						}
					}
				}},
			{Name: "as_dict=0", Path: list + q(map[string]any{"fields": []string{"name", "qty"}, "filters": map[string]any{"qty": 3}, "as_dict": "0"}),
				Check: func(t *testing.T, r *sitetest.Response) {
					if diff := cmp.Diff([]any{[]any{"item-03", 3.0}}, r.Data()); diff != "" {
						t.Errorf("rows as lists (-want +got):\n%s", diff)
					}
				}},
			{Name: "child table filter", Path: sitetest.Path("Test Order") + q(map[string]any{"filters": [][]any{{"Test Order Item", "item_code", "=", "ITEM-B"}}}), Check: countIs(1)},
			{Name: "unknown filter field", Path: list + q(map[string]any{"filters": map[string]any{"nope": 1}}), Status: 417, ExcType: "DataError"},
			{Name: "bad operator", Path: list + q(map[string]any{"filters": [][]any{{"qty", "<>", 1}}}), Status: 417, ExcType: "DataError"},
			{Name: "filters not JSON", Path: list + "?filters=%7Bnope", Status: 417, ExcType: "DataError"},
			{Name: "unknown field", Path: list + q(map[string]any{"fields": []string{"name", "nope"}}), Status: 417, ExcType: "DataError"},
			{Name: "fields not a JSON list", Path: list + "?fields=name", Status: 417, ExcType: "DataError"},
			{Name: "SQL in fields", Path: list + q(map[string]any{"fields": []string{"name; drop table x"}}), Status: 417, ExcType: "DataError"},
			{Name: "bad order_by", Path: list + "?order_by=qty%3B%20select%201", Status: 417, ExcType: "DataError"},
			{Name: "bad limit", Path: list + "?limit_page_length=-1", Status: 417},
		})
	})
}

func TestClientMethods(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newListSite(t, opts)
		c := s.Admin()
		m := "/api/method/"
		q := sitetest.Query
		msg := func(want any) func(*testing.T, *sitetest.Response) {
			return func(t *testing.T, r *sitetest.Response) {
				t.Helper()
				if diff := cmp.Diff(want, r.Message()); diff != "" {
					t.Errorf("message (-want +got):\n%s", diff)
				}
			}
		}
		orderDoc := func(t *testing.T) map[string]any {
			return c.MustInsert(t, "Test Order", order(1))
		}
		o1 := orderDoc(t)
		o2 := orderDoc(t)
		docJSON, _ := json.Marshal(map[string]any{"doctype": "Test Customer", "customer_name": "Via Form"})
		sitetest.Run(t, s, []sitetest.Scenario{
			{Name: "get_list", Path: m + "frappe.client.get_list" + q(map[string]any{"doctype": "Test Item", "fields": []string{"name"}, "filters": map[string]any{"qty": []any{"<", 3}}, "order_by": "qty asc"}),
				Check: msg([]any{map[string]any{"name": "item-01"}, map[string]any{"name": "item-02"}})},
			{Name: "get_list default page", Path: m + "frappe.client.get_list?doctype=Test%20Item", Check: func(t *testing.T, r *sitetest.Response) {
				if n := len(r.Message().([]any)); n != 20 {
					t.Errorf("%d rows, want 20", n)
				}
			}},
			{Name: "get_list limit_page_length", Path: m + "frappe.client.get_list?doctype=Test%20Item&limit_page_length=3", Check: func(t *testing.T, r *sitetest.Response) {
				if n := len(r.Message().([]any)); n != 3 {
					t.Errorf("%d rows, want 3", n)
				}
			}},
			{Name: "get_count", Path: m + "frappe.client.get_count" + q(map[string]any{"doctype": "Test Item", "filters": [][]any{{"active", "=", 1}}}), Check: msg(13.0)},
			{Name: "get_count all", Path: m + "frappe.client.get_count?doctype=Test%20Item", Check: msg(25.0)},
			{Name: "get by name", Path: m + "frappe.client.get" + q(map[string]any{"doctype": "Test Item", "name": "item-07"}),
				Check: func(t *testing.T, r *sitetest.Response) {
					d := r.Message().(map[string]any)
					if d["qty"] != 7.0 || d["doctype"] != "Test Item" {
						t.Errorf("doc %v", d)
					}
					if v, ok := d["note"]; !ok || v != nil {
						t.Errorf("frappe.client.get keeps nulls: note = %v (present %v)", v, ok)
					}
				}},
			{Name: "get by filters", Path: m + "frappe.client.get" + q(map[string]any{"doctype": "Test Item", "filters": map[string]any{"qty": 8}}),
				Check: func(t *testing.T, r *sitetest.Response) {
					if r.Message().(map[string]any)["name"] != "item-08" {
						t.Errorf("doc %v", r.Message())
					}
				}},
			{Name: "get missing", Path: m + "frappe.client.get?doctype=Test%20Item&name=nope", Status: 404, ExcType: "DoesNotExistError"},
			{Name: "get_value one field by name", Path: m + "frappe.client.get_value?doctype=Test%20Item&filters=item-09&fieldname=qty", Check: msg(map[string]any{"qty": 9.0})},
			{Name: "get_value list of fields by dict", Path: m + "frappe.client.get_value" + q(map[string]any{"doctype": "Test Item", "filters": map[string]any{"qty": 10}, "fieldname": []string{"name", "price"}}),
				Check: msg(map[string]any{"name": "item-10", "price": 15.0})},
			{Name: "get_value as_dict false in a JSON body", Method: "POST", Path: m + "frappe.client.get_value",
				Body: map[string]any{"doctype": "Test Item", "filters": "item-09", "fieldname": "qty", "as_dict": false}, Check: msg(9.0)},
			{Name: "get_value as_dict=0 in the query is a truthy string in Frappe", Path: m + "frappe.client.get_value?doctype=Test%20Item&filters=item-09&fieldname=qty&as_dict=0",
				Check: msg(map[string]any{"qty": 9.0})},
			{Name: "get_value no match", Path: m + "frappe.client.get_value" + q(map[string]any{"doctype": "Test Item", "filters": map[string]any{"qty": 99}, "fieldname": "qty"}), Check: msg(map[string]any{})},
			{Name: "get_value SDK defaults", Path: m + "frappe.client.get_value" + q(map[string]any{"doctype": "Test Item", "fieldname": "[]", "filters": map[string]any{"qty": 11}, "as_dict": "false", "debug": "false"}),
				Check: msg(map[string]any{"name": "item-11"})},
			{Name: "insert JSON", Method: "POST", Path: m + "frappe.client.insert", Body: map[string]any{"doc": map[string]any{"doctype": "Test Customer", "customer_name": "Via Insert"}},
				Check: func(t *testing.T, r *sitetest.Response) {
					if r.Message().(map[string]any)["name"] != "Via Insert" {
						t.Errorf("inserted %v", r.Message())
					}
				}},
			{Name: "insert form with doc as JSON text", Method: "POST", Path: m + "frappe.client.insert", Body: sitetest.Form{"doc": {string(docJSON)}},
				Contains: []string{`"name":"Via Form"`}},
			{Name: "insert by GET refused", Method: "GET", Path: m + "frappe.client.insert" + q(map[string]any{"doc": string(docJSON)}), Status: 403, ExcType: "PermissionError"},
			{Name: "insert invalid", Method: "POST", Path: m + "frappe.client.insert", Body: map[string]any{"doc": map[string]any{"doctype": "Test Customer"}},
				Status: 417, ExcType: "MandatoryError"},
			{Name: "insert without doc", Method: "POST", Path: m + "frappe.client.insert", Body: map[string]any{}, Status: 400},
			{Name: "set_value field and value", Method: "POST", Path: m + "frappe.client.set_value",
				Body: map[string]any{"doctype": "Test Item", "name": "item-12", "fieldname": "note", "value": "set"}, Contains: []string{`"note":"set"`}},
			{Name: "set_value dict", Method: "POST", Path: m + "frappe.client.set_value",
				Body: map[string]any{"doctype": "Test Item", "name": "item-12", "fieldname": map[string]any{"qty": 120, "note": "both"}}, Contains: []string{`"qty":120`, `"note":"both"`}},
			{Name: "set_value standard field refused", Method: "POST", Path: m + "frappe.client.set_value",
				Body: map[string]any{"doctype": "Test Item", "name": "item-12", "fieldname": "owner", "value": "x"}, Status: 417},
			{Name: "save with current modified", Method: "POST", Path: m + "frappe.client.save",
				Body:     map[string]any{"doc": map[string]any{"doctype": "Test Order", "name": o1["name"], "modified": o1["modified"], "customer": "ACME", "remarks": "saved"}},
				Contains: []string{`"remarks":"saved"`}},
			{Name: "save with stale modified", Method: "POST", Path: m + "frappe.client.save",
				Body:   map[string]any{"doc": map[string]any{"doctype": "Test Order", "name": o1["name"], "modified": o1["modified"], "customer": "ACME", "remarks": "again"}},
				Status: 417, ExcType: "TimestampMismatchError"},
			{Name: "submit", Method: "POST", Path: m + "frappe.client.submit", Body: map[string]any{"doc": map[string]any{"doctype": "Test Order", "name": o2["name"], "modified": o2["modified"]}},
				Check: func(t *testing.T, r *sitetest.Response) {
					if r.Message().(map[string]any)["docstatus"] != 1.0 {
						t.Errorf("submitted %v", r.Message())
					}
				}},
			{Name: "cancel", Method: "POST", Path: m + "frappe.client.cancel", Body: map[string]any{"doctype": "Test Order", "name": o2["name"]},
				Check: func(t *testing.T, r *sitetest.Response) {
					if r.Message().(map[string]any)["docstatus"] != 2.0 {
						t.Errorf("cancelled %v", r.Message())
					}
				}},
			{Name: "delete", Method: "POST", Path: m + "frappe.client.delete", Body: map[string]any{"doctype": "Test Customer", "name": "Via Insert"},
				Check: func(t *testing.T, r *sitetest.Response) {
					if diff := cmp.Diff(map[string]any{}, r.JSON); diff != "" {
						t.Errorf("a method returning nothing answers {} (-want +got):\n%s", diff)
					}
				}},
			{Name: "deleted", Path: sitetest.Path("Test Customer", "Via Insert"), Status: 404},
			{Name: "delete missing", Method: "POST", Path: m + "frappe.client.delete", Body: map[string]any{"doctype": "Test Customer", "name": "Via Insert"}, Status: 404},

			// Root cmd= calls, as FrappeClient makes them.
			{Name: "cmd GET query", Path: "/?cmd=frappe.client.get_value&doctype=Test%20Item&fieldname=qty&filters=" + urlq(`{"title":"item-13"}`), Check: msg(map[string]any{"qty": 13.0})},
			{Name: "cmd POST form", Method: "POST", Path: "/", Body: sitetest.Form{"cmd": {"frappe.client.get_count"}, "doctype": {"Test Item"}, "filters": {`{"category":"C"}`}}, Check: msg(8.0)},
			{Name: "cmd POST JSON body", Method: "POST", Path: "/", Body: map[string]any{"cmd": "frappe.client.get_count", "doctype": "Test Item"}, Check: msg(25.0)},
			{Name: "cmd POST query only (post_api)", Method: "POST", Path: "/api/method/frappe.client.get_count?doctype=Test%20Item", Check: msg(25.0)},
			{Name: "cmd insert form", Method: "POST", Path: "/", Body: sitetest.Form{"cmd": {"frappe.client.insert"}, "doc": {`{"doctype":"Test Customer","customer_name":"Via Cmd"}`}},
				Contains: []string{`"name":"Via Cmd"`}},
			{Name: "unknown method", Path: m + "no.such.method", Status: 404},
			{Name: "unknown method POST", Method: "POST", Path: m + "no.such.method", Body: map[string]any{}, Status: 404},
			{Name: "unknown cmd", Path: "/?cmd=no.such.method", Status: 404},
			{Name: "unknown api path", Path: "/api/nothing/here", Status: 404},
			{Name: "site root", Path: "/", Contains: []string{"docstream"}},

			// Resource writes in FrappeClient's form: a `data` field holding JSON.
			{Name: "resource POST data form", Method: "POST", Path: sitetest.Path("Test Customer"), Body: sitetest.Form{"data": {`{"customer_name":"Form Data","tier":"Gold"}`}},
				Contains: []string{`"name":"Form Data"`, `"tier":"Gold"`}},
			{Name: "resource PUT data form", Method: "PUT", Path: sitetest.Path("Test Customer", "Form Data"), Body: sitetest.Form{"data": {`{"tier":"Silver"}`}},
				Contains: []string{`"tier":"Silver"`}},
			{Name: "resource POST plain form fields", Method: "POST", Path: sitetest.Path("Test Customer"), Body: sitetest.Form{"customer_name": {"Plain Form"}},
				Contains: []string{`"name":"Plain Form"`}},
			{Name: "resource POST bad JSON", Method: "POST", Path: sitetest.Path("Test Customer"), Body: sitetest.Raw{ContentType: "application/json", Body: `{"customer_name":`},
				Status: 400},
			{Name: "resource PATCH not allowed", Method: "PATCH", Path: sitetest.Path("Test Customer", "ACME"), Body: map[string]any{}, Status: 400},
			{Name: "v1 alias", Path: "/api/v1/resource/Test%20Customer/ACME", Contains: []string{`"name":"ACME"`}},
		})
		// A method's answer to a POST is the doc with nulls; resource answers drop them.
		r := c.Do(t, http.MethodPost, m+"frappe.client.insert", map[string]any{"doc": map[string]any{"doctype": "Test Customer", "customer_name": "Nulls"}}).MustOK(t)
		if v, ok := r.Message().(map[string]any)["email"]; !ok || v != nil {
			t.Errorf("frappe.client.insert answer: email = %v (present %v), want null", v, ok)
		}
	})
}

func urlq(s string) string {
	return strings.NewReplacer("{", "%7B", "}", "%7D", `"`, "%22", ":", "%3A", " ", "%20").Replace(s)
}
