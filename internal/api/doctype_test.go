package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"docstream/internal/sitetest"
)

// TestDocType_AsDocuments: DocTypes are created, extended and deleted through
// /api/resource/DocType, child tables included, and Custom Fields add columns.
func TestDocType_AsDocuments(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newFixtureSite(t, opts)
		c := s.Admin()
		var def map[string]any
		sitetest.Run(t, s, []sitetest.Scenario{
			{Name: "definition is a document", Path: sitetest.Path("DocType", "Test Order"),
				Check: func(t *testing.T, r *sitetest.Response) {
					def = r.Doc()
					if def["is_submittable"] != float64(1) || def["autoname"] != "naming_series:" {
						t.Errorf("DocType document %v", def)
					}
					fields, _ := def["fields"].([]any)
					var names []string
					for _, f := range fields {
						m := f.(map[string]any)
						names = append(names, m["fieldname"].(string))
						if m["parenttype"] != "DocType" || m["parentfield"] != "fields" || m["parent"] != "Test Order" {
							t.Errorf("DocField row %v", m)
						}
					}
					if !slices.Contains(names, "items") || !slices.Contains(names, "customer") {
						t.Errorf("fields %v", names)
					}
				}},
			{Name: "child rows stored in the child table", Method: "POST", Path: sitetest.Path("Test Order"), Body: order(3),
				Check: func(t *testing.T, r *sitetest.Response) {
					items, _ := r.Doc()["items"].([]any)
					if len(items) != 3 {
						t.Fatalf("items %v", r.Doc()["items"])
					}
					for i, it := range items {
						m := it.(map[string]any)
						want := map[string]any{"parent": r.Doc()["name"], "parenttype": "Test Order", "parentfield": "items",
							"idx": float64(i + 1), "doctype": "Test Order Item"}
						for k, v := range want {
							if m[k] != v {
								t.Errorf("row %d: %s = %v, want %v", i, k, m[k], v)
							}
						}
					}
				}},
			{Name: "child rows listed with parent", Path: sitetest.Path("Test Order Item") + sitetest.Query(map[string]any{"parent": "Test Order", "fields": []string{"item_code", "parent"}}),
				Check: func(t *testing.T, r *sitetest.Response) {
					if n := len(r.Rows()); n != 3 {
						t.Errorf("%d child rows, want 3: %s", n, r.Body)
					}
				}},
			{Name: "child rows need the parent parameter", Path: sitetest.Path("Test Order Item"), Status: 403, ExcType: "PermissionError"},
			{Name: "child doctype cannot be inserted alone", Method: "POST", Path: sitetest.Path("Test Order Item"),
				Body: map[string]any{"item_code": "X"}, Status: 417},
		})

		t.Run("re-saving the DocType adds fields", func(t *testing.T) {
			cust := c.Get(t, sitetest.Path("DocType", "Test Customer"), nil).MustOK(t).Doc()
			fields := append(cust["fields"].([]any), map[string]any{"fieldname": "phone", "label": "Phone", "fieldtype": "Data"},
				map[string]any{"fieldname": "visits", "label": "Visits", "fieldtype": "Int"})
			c.Do(t, http.MethodPut, sitetest.Path("DocType", "Test Customer"), map[string]any{"fields": fields}).MustOK(t)
			got := c.MustInsert(t, "Test Customer", map[string]any{"customer_name": "Phoner", "phone": "+1 555"})
			if got["phone"] != "+1 555" || got["visits"] != float64(0) {
				t.Errorf("new fields: phone %v visits %v", got["phone"], got["visits"])
			}
			old := c.Get(t, sitetest.Path("Test Customer", "ACME"), nil).MustOK(t).Doc()
			if old["email"] != "acme@example.com" || old["visits"] != float64(0) {
				t.Errorf("old document after the new fields: %v", old)
			}
		})

		t.Run("Custom Field", func(t *testing.T) {
			cf := c.MustInsert(t, "Custom Field", map[string]any{"dt": "Test Customer", "fieldname": "region", "label": "Region",
				"fieldtype": "Data", "insert_after": "email"})
			if cf["name"] != "Test Customer-region" {
				t.Errorf("Custom Field name %v, want Test Customer-region", cf["name"])
			}
			c.MustInsert(t, "Test Customer", map[string]any{"customer_name": "Regional", "region": "EMEA"})
			rows := c.Get(t, sitetest.Path("Test Customer"), map[string]any{"fields": []string{"name", "region"}, "filters": map[string]any{"region": "EMEA"}}).MustOK(t).Rows()
			if diff := cmp.Diff([]map[string]any{{"name": "Regional", "region": "EMEA"}}, rows); diff != "" {
				t.Errorf("filter on the custom field (-want +got):\n%s", diff)
			}
			// A later save of the DocType keeps the Custom Field.
			cust := c.Get(t, sitetest.Path("DocType", "Test Customer"), nil).MustOK(t).Doc()
			c.Do(t, http.MethodPut, sitetest.Path("DocType", "Test Customer"), map[string]any{"fields": cust["fields"], "title_field": "customer_name"}).MustOK(t)
			got := c.Get(t, sitetest.Path("Test Customer", "Regional"), nil).MustOK(t).Doc()
			if got["region"] != "EMEA" {
				t.Errorf("custom field lost after saving the DocType: %v", got)
			}
			c.Do(t, http.MethodPost, sitetest.Path("Custom Field"), map[string]any{"dt": "Test Customer", "fieldname": "region", "fieldtype": "Data"}).
				MustStatus(t, http.StatusExpectationFailed) // the field exists already
			// Custom Fields work on built-in DocTypes too (Event Streaming adds remote_docname).
			c.MustInsert(t, "Custom Field", map[string]any{"dt": "Role", "fieldname": "remote_docname", "fieldtype": "Data"})
			r := c.MustInsert(t, "Role", map[string]any{"role_name": "Remote Role", "remote_docname": "R-1"})
			if r["remote_docname"] != "R-1" {
				t.Errorf("custom field on a built-in DocType: %v", r)
			}
		})

		sitetest.Run(t, s, []sitetest.Scenario{
			{Name: "bad field type refused", Method: "POST", Path: sitetest.Path("DocType"),
				Body:   map[string]any{"name": "Test Bad", "fields": []any{map[string]any{"fieldname": "x", "fieldtype": "Nope"}}},
				Status: 417, ExcType: "ValidationError"},
			{Name: "refused DocType leaves no table", Path: sitetest.Path("Test Bad"), Status: 404, ExcType: "DoesNotExistError"},
			{Name: "table field must name a child DocType", Method: "POST", Path: sitetest.Path("DocType"),
				Body:   map[string]any{"name": "Test Bad", "fields": []any{map[string]any{"fieldname": "rows", "fieldtype": "Table", "options": "Test Customer"}}},
				Status: 417},
			{Name: "link target must exist", Method: "POST", Path: sitetest.Path("DocType"),
				Body:   map[string]any{"name": "Test Bad", "fields": []any{map[string]any{"fieldname": "l", "fieldtype": "Link", "options": "Nowhere"}}},
				Status: 417},
			{Name: "bad fieldname", Method: "POST", Path: sitetest.Path("DocType"),
				Body:   map[string]any{"name": "Test Bad", "fields": []any{map[string]any{"fieldname": "Bad Name", "fieldtype": "Data"}}},
				Status: 417},
			{Name: "create then delete a DocType", Method: "POST", Path: sitetest.Path("DocType"),
				Body: map[string]any{"name": "Test Temp", "fields": []any{map[string]any{"fieldname": "x", "fieldtype": "Data"}},
					"permissions": []any{map[string]any{"role": "System Manager", "read": 1, "create": 1}}}},
			{Name: "temp usable", Method: "POST", Path: sitetest.Path("Test Temp"), Body: map[string]any{"x": "1"}},
			{Name: "delete DocType", Method: "DELETE", Path: sitetest.Path("DocType", "Test Temp"), Status: 202},
			{Name: "deleted DocType is gone", Path: sitetest.Path("Test Temp"), Status: 404},
			{Name: "built-in DocType cannot be deleted", Method: "DELETE", Path: sitetest.Path("DocType", "User"), Status: 417},
			{Name: "a child table in use cannot be deleted", Method: "DELETE", Path: sitetest.Path("DocType", "Test Order Item"),
				Status: 417, ExcType: "LinkExistsError", Contains: []string{"Test Order"}},
			{Name: "a Link target in use cannot be deleted", Method: "DELETE", Path: sitetest.Path("DocType", "Test Customer"),
				Status: 417, ExcType: "LinkExistsError"},
			{Name: "the parent still works", Method: "POST", Path: sitetest.Path("Test Order"), Body: order(1)},
		})
	})
}

// TestDocType_BuiltinsServed: the built-in DocTypes are documents served
// through the same API.
func TestDocType_BuiltinsServed(t *testing.T) {
	t.Parallel()
	s := sitetest.NewSite(t, sitetest.Options{})
	builtins := []string{"DocType", "DocField", "DocPerm", "Custom Field", "User", "Has Role", "Role"}
	sitetest.Run(t, s, []sitetest.Scenario{
		{Name: "list DocTypes", Path: sitetest.Path("DocType") + "?limit=0",
			Check: func(t *testing.T, r *sitetest.Response) {
				var names []string
				for _, row := range r.Rows() {
					names = append(names, row["name"].(string))
				}
				for _, b := range builtins {
					if !slices.Contains(names, b) {
						t.Errorf("DocType list lacks %s: %v", b, names)
					}
				}
			}},
		{Name: "User definition", Path: sitetest.Path("DocType", "User"), Contains: []string{`"fieldname":"api_secret"`, `"fieldtype":"Password"`}},
		{Name: "Has Role definition", Path: sitetest.Path("DocType", "Has Role"), Contains: []string{`"istable":1`}},
		{Name: "Administrator with roles", Path: sitetest.Path("User", "Administrator"),
			Contains: []string{`"role":"System Manager"`, `"parenttype":"User"`}, NotContains: []string{sitetest.AdminPassword}},
		{Name: "roles", Path: sitetest.Path("Role") + sitetest.Query(map[string]any{"fields": []string{"name"}, "order_by": "name asc", "limit": 0}),
			Contains: []string{`"Administrator"`, `"System Manager"`, `"Guest"`, `"All"`}},
		{Name: "DocField rows of a DocType", Path: sitetest.Path("DocField") + sitetest.Query(map[string]any{"parent": "DocType", "fields": []string{"fieldname"}, "filters": [][]any{{"parent", "=", "Role"}}}),
			Contains: []string{`"role_name"`}},
		{Name: "Has Role rows", Path: sitetest.Path("Has Role") + sitetest.Query(map[string]any{"parent": "User", "fields": []string{"role"}, "filters": map[string]any{"parent": "Administrator"}}),
			Contains: []string{`"System Manager"`}},
		{Name: "Custom Field list", Path: sitetest.Path("Custom Field"), Check: func(t *testing.T, r *sitetest.Response) {
			if len(r.Rows()) != 0 {
				t.Errorf("custom fields on a new site: %s", r.Body)
			}
		}},
		{Name: "DocPerm definition", Path: sitetest.Path("DocType", "DocPerm"), Contains: []string{`"fieldname":"role"`}},
		{Name: "unknown DocType", Path: sitetest.Path("Nope"), Status: 404, ExcType: "DoesNotExistError"},
		{Name: "unknown document", Path: sitetest.Path("User", "nobody@example.com"), Status: 404, ExcType: "DoesNotExistError",
			Contains: []string{"User nobody@example.com not found"}},
	})
}

// TestChildTable_Replace: a Table field in a PUT replaces the whole table:
// rows with a known name are updated (keeping name and creation), rows
// without a name are added, missing rows are deleted (reference §1.5).
func TestChildTable_Replace(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newFixtureSite(t, opts)
		c := s.Admin()
		d := c.MustInsert(t, "Test Order", order(3))
		name := d["name"].(string)
		rows := d["items"].([]any)
		first, third := rows[0].(map[string]any), rows[2].(map[string]any)
		first["qty"] = 42
		put := map[string]any{"items": []any{first, map[string]any{"item_code": "NEW", "qty": 1}, third}}
		got := c.Do(t, http.MethodPut, sitetest.Path("Test Order", name), put).MustOK(t).Doc()
		again := c.Get(t, sitetest.Path("Test Order", name), nil).MustOK(t).Doc()
		if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("PUT answer and GET differ (-put +get):\n%s", diff)
		}
		items := again["items"].([]any)
		if len(items) != 3 {
			t.Fatalf("%d rows, want 3: %v", len(items), items)
		}
		r0, r1, r2 := items[0].(map[string]any), items[1].(map[string]any), items[2].(map[string]any)
		if r0["name"] != first["name"] || r0["qty"] != 42.0 || r0["creation"] != first["creation"] {
			t.Errorf("kept row: %v", r0)
		}
		if r1["item_code"] != "NEW" || r1["name"] == nil || r1["creation"] != again["modified"] {
			t.Errorf("added row: %v", r1)
		}
		if r2["name"] != third["name"] {
			t.Errorf("third row %v, want %v", r2["name"], third["name"])
		}
		n := len(c.Get(t, sitetest.Path("Test Order Item"), map[string]any{"parent": "Test Order", "filters": map[string]any{"parent": name}}).MustOK(t).Rows())
		if n != 3 {
			t.Errorf("%d stored rows, want 3 (the removed row must be deleted)", n)
		}
		// A PUT without the table field leaves the rows alone.
		c.Do(t, http.MethodPut, sitetest.Path("Test Order", name), map[string]any{"notes": "x"}).MustOK(t)
		if k := len(c.Get(t, sitetest.Path("Test Order", name), nil).MustOK(t).Doc()["items"].([]any)); k != 3 {
			t.Errorf("%d rows after a PUT without items, want 3", k)
		}
		// An empty list empties the table.
		c.Do(t, http.MethodPut, sitetest.Path("Test Order", name), map[string]any{"items": []any{}}).MustOK(t)
		if k := len(c.Get(t, sitetest.Path("Test Order", name), nil).MustOK(t).Doc()["items"].([]any)); k != 0 {
			t.Errorf("%d rows after PUT items=[], want 0", k)
		}
	})
}
