package api_test

import (
	"testing"

	"docstream/internal/sitetest"
)

const permDocType = `{"name": "Test Perms", "autoname": "Prompt", "is_submittable": 1,
  "fields": [{"fieldname": "x", "fieldtype": "Data"}],
  "permissions": [
    {"role": "Test Writer", "read": 1, "write": 1, "create": 0, "delete": 0},
    {"role": "Test Creator", "read": 1, "write": 0, "create": 1, "delete": 0},
    {"role": "Test Submitter", "read": 1, "write": 1, "create": 1, "delete": 0, "submit": 1},
    {"role": "Test Deleter", "read": 1, "write": 1, "create": 0, "delete": 1, "cancel": 1},
    {"role": "Test Owner", "read": 1, "write": 1, "create": 1, "delete": 0, "if_owner": 1},
    {"role": "Test Defaults"}
  ]}`

// TestPermissions: DocPerm rows decide who may do what; Administrator
// bypasses them, System Manager does not, Guest gets 403. As in Frappe, a
// DocPerm row that omits read/write/create/delete gets them from the DocPerm
// defaults (1), so rows that grant less must say 0.
func TestPermissions(t *testing.T) {
	t.Parallel()
	s := newFixtureSite(t, sitetest.Options{})
	admin := s.Admin()
	for _, r := range []string{"Test Writer", "Test Creator", "Test Submitter", "Test Deleter", "Test Owner", "Test Defaults", "Nobody Has This"} {
		admin.MustInsert(t, "Role", map[string]any{"role_name": r})
	}
	admin.MustCreateDocType(t, permDocType)
	admin.MustCreateDocType(t, `{"name": "Test Locked", "autoname": "Prompt", "fields": [{"fieldname": "x", "fieldtype": "Data"}],
		"permissions": [{"role": "Nobody Has This", "read": 1, "write": 1, "create": 1, "delete": 1}]}`)
	reader := newUser(t, s, "reader@example.com", "Test Reader")
	norole := newUser(t, s, "norole@example.com")
	sysman := newUser(t, s, "sysman@example.com", "System Manager")
	writer := newUser(t, s, "writer@example.com", "Test Writer")
	creator := newUser(t, s, "creator@example.com", "Test Creator")
	submitter := newUser(t, s, "submitter@example.com", "Test Submitter")
	deleter := newUser(t, s, "deleter@example.com", "Test Deleter")
	owner1 := newUser(t, s, "owner1@example.com", "Test Owner")
	owner2 := newUser(t, s, "owner2@example.com", "Test Owner")
	defaults := newUser(t, s, "defaults@example.com", "Test Defaults")
	guest := s.Guest()
	for _, n := range []string{"P1", "P2", "P3"} {
		admin.MustInsert(t, "Test Perms", map[string]any{"name": n})
	}
	p := sitetest.Path
	body := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	sitetest.Run(t, s, []sitetest.Scenario{
		{Name: "reader lists", Client: reader, Path: p("Test Customer")},
		{Name: "reader gets", Client: reader, Path: p("Test Customer", "ACME")},
		{Name: "reader counts", Client: reader, Path: "/api/method/frappe.client.get_count?doctype=Test%20Customer"},
		{Name: "reader may not create", Client: reader, Method: "POST", Path: p("Test Customer"), Body: body("customer_name", "R"),
			Status: 403, ExcType: "PermissionError"},
		{Name: "reader may not create through frappe.client.insert", Client: reader, Method: "POST", Path: "/api/method/frappe.client.insert",
			Body: body("doc", body("doctype", "Test Customer", "customer_name", "R")), Status: 403, ExcType: "PermissionError"},
		{Name: "reader may not write", Client: reader, Method: "PUT", Path: p("Test Customer", "ACME"), Body: body("tier", "Silver"),
			Status: 403, ExcType: "PermissionError"},
		{Name: "reader may not set_value", Client: reader, Method: "POST", Path: "/api/method/frappe.client.set_value",
			Body: body("doctype", "Test Customer", "name", "ACME", "fieldname", "tier", "value", "Silver"), Status: 403, ExcType: "PermissionError"},
		{Name: "reader may not delete", Client: reader, Method: "DELETE", Path: p("Test Customer", "ACME"),
			Status: 403, ExcType: "PermissionError"},
		{Name: "reader may not read users", Client: reader, Path: p("User"), Status: 403, ExcType: "PermissionError"},
		{Name: "reader may not read another DocType's child rows through a parent it can read", Client: reader,
			Path: p("Has Role") + "?parent=Test%20Customer", Status: 403, ExcType: "PermissionError"},
		{Name: "reader may not read roles through User", Client: reader, Path: p("Has Role") + "?parent=User", Status: 403, ExcType: "PermissionError"},
		{Name: "reader reads child rows of a parent it can read", Client: reader, Path: p("Test Order Item") + "?parent=Test%20Order"},
		{Name: "child rows are those of the named parent DocType", Path: p("DocField") + "?parent=DocType&limit=0&fields=%5B%22parenttype%22%5D",
			NotContains: []string{`"parenttype":"Custom`}, Contains: []string{`"parenttype":"DocType"`}},
		{Name: "reader may not create DocTypes", Client: reader, Method: "POST", Path: p("DocType"), Body: body("name", "Test Sneaky"),
			Status: 403, ExcType: "PermissionError"},
		{Name: "no role: list", Client: norole, Path: p("Test Customer"), Status: 403, ExcType: "PermissionError"},
		{Name: "no role: get", Client: norole, Path: p("Test Customer", "ACME"), Status: 403, ExcType: "PermissionError"},
		{Name: "no role: get_value", Client: norole, Path: "/api/method/frappe.client.get_value?doctype=Test%20Customer&filters=ACME&fieldname=tier",
			Status: 403, ExcType: "PermissionError"},
		{Name: "no role: but logged in", Client: norole, Path: "/api/method/frappe.auth.get_logged_user", Contains: []string{`"norole@example.com"`}},
		{Name: "guest list", Client: guest, Path: p("Test Customer"), Status: 403, ExcType: "PermissionError"},
		{Name: "guest get", Client: guest, Path: p("Test Customer", "ACME"), Status: 403, ExcType: "PermissionError"},
		{Name: "guest create", Client: guest, Method: "POST", Path: p("Test Customer"), Body: body("customer_name", "G"), Status: 403, ExcType: "PermissionError"},

		{Name: "Administrator bypasses DocPerm: create", Method: "POST", Path: p("Test Locked"), Body: body("name", "L1")},
		{Name: "Administrator bypasses DocPerm: read", Path: p("Test Locked", "L1")},
		{Name: "Administrator bypasses DocPerm: list", Path: p("Test Locked"), Contains: []string{`"L1"`}},
		{Name: "System Manager is no bypass: create", Client: sysman, Method: "POST", Path: p("Test Locked"), Body: body("name", "L2"),
			Status: 403, ExcType: "PermissionError"},
		{Name: "System Manager is no bypass: read", Client: sysman, Path: p("Test Locked", "L1"), Status: 403, ExcType: "PermissionError"},
		{Name: "System Manager has its DocPerm rows", Client: sysman, Method: "POST", Path: p("Test Customer"), Body: body("customer_name", "SM")},
		{Name: "Administrator bypasses DocPerm: delete", Method: "DELETE", Path: p("Test Locked", "L1"), Status: 202},

		{Name: "writer may write", Client: writer, Method: "PUT", Path: p("Test Perms", "P1"), Body: body("x", "w")},
		{Name: "writer may not create", Client: writer, Method: "POST", Path: p("Test Perms"), Body: body("name", "W"), Status: 403},
		{Name: "writer may not submit", Client: writer, Method: "PUT", Path: p("Test Perms", "P1"), Body: body("docstatus", 1), Status: 403},
		{Name: "writer may not delete", Client: writer, Method: "DELETE", Path: p("Test Perms", "P1"), Status: 403},
		{Name: "creator may create", Client: creator, Method: "POST", Path: p("Test Perms"), Body: body("name", "C1")},
		{Name: "creator may not insert submitted", Client: creator, Method: "POST", Path: p("Test Perms"), Body: body("name", "C2", "docstatus", 1), Status: 403},
		{Name: "creator may not write", Client: creator, Method: "PUT", Path: p("Test Perms", "C1"), Body: body("x", "c"), Status: 403},
		{Name: "submitter may submit", Client: submitter, Method: "PUT", Path: p("Test Perms", "P2"), Body: body("docstatus", 1), Contains: []string{`"docstatus":1`}},
		{Name: "submitter may not cancel", Client: submitter, Method: "PUT", Path: p("Test Perms", "P2"), Body: body("docstatus", 2), Status: 403},
		{Name: "deleter may cancel", Client: deleter, Method: "PUT", Path: p("Test Perms", "P2"), Body: body("docstatus", 2), Contains: []string{`"docstatus":2`}},
		{Name: "deleter may delete", Client: deleter, Method: "DELETE", Path: p("Test Perms", "P3"), Status: 202},

		{Name: "DocPerm defaults: read", Client: defaults, Path: p("Test Perms", "P1")},
		{Name: "DocPerm defaults: create", Client: defaults, Method: "POST", Path: p("Test Perms"), Body: body("name", "D1")},
		{Name: "DocPerm defaults: delete", Client: defaults, Method: "DELETE", Path: p("Test Perms", "D1"), Status: 202},
		{Name: "DocPerm defaults: no submit", Client: defaults, Method: "PUT", Path: p("Test Perms", "P1"), Body: body("docstatus", 1), Status: 403},
		{Name: "if_owner: create own", Client: owner1, Method: "POST", Path: p("Test Perms"), Body: body("name", "O1")},
		{Name: "if_owner: other user's doc", Client: owner2, Path: p("Test Perms", "O1"), Status: 403},
		{Name: "if_owner: write other's", Client: owner2, Method: "PUT", Path: p("Test Perms", "O1"), Body: body("x", "o"), Status: 403},
		{Name: "if_owner: own doc", Client: owner1, Path: p("Test Perms", "O1")},
		{Name: "if_owner: list shows own only", Client: owner1, Path: p("Test Perms"), Check: func(t *testing.T, r *sitetest.Response) {
			if rows := r.Rows(); len(rows) != 1 || rows[0]["name"] != "O1" {
				t.Errorf("rows %v, want only O1", rows)
			}
		}},
		{Name: "if_owner: other lists nothing", Client: owner2, Path: p("Test Perms"), Check: func(t *testing.T, r *sitetest.Response) {
			if rows := r.Rows(); len(rows) != 0 {
				t.Errorf("rows %v, want none", rows)
			}
		}},
	})
}
