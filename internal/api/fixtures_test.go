package api_test

import (
	"net/url"
	"testing"

	"docstream/internal/sitetest"
)

// Fixture DocTypes, in creation order (children and link targets first).
var fixtureDocTypes = []string{
	`{"name": "Test Customer", "module": "Test", "autoname": "field:customer_name", "custom": 1,
	  "fields": [
	    {"fieldname": "customer_name", "label": "Customer Name", "fieldtype": "Data", "reqd": 1},
	    {"fieldname": "email", "label": "Email", "fieldtype": "Data", "unique": 1},
	    {"fieldname": "tier", "label": "Tier", "fieldtype": "Select", "options": "\nGold\nSilver"},
	    {"fieldname": "credit", "label": "Credit", "fieldtype": "Currency", "non_negative": 1}
	  ],
	  "permissions": [
	    {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
	    {"role": "Test Reader", "read": 1, "write": 0, "create": 0, "delete": 0}
	  ]}`,
	`{"name": "Test Order Item", "module": "Test", "istable": 1, "custom": 1,
	  "fields": [
	    {"fieldname": "item_code", "label": "Item Code", "fieldtype": "Data", "reqd": 1},
	    {"fieldname": "qty", "label": "Qty", "fieldtype": "Int"},
	    {"fieldname": "rate", "label": "Rate", "fieldtype": "Currency"},
	    {"fieldname": "note", "label": "Note", "fieldtype": "Data", "length": 20},
	    {"fieldname": "customer", "label": "Customer", "fieldtype": "Link", "options": "Test Customer"}
	  ]}`,
	`{"name": "Test Tag Row", "module": "Test", "istable": 1, "custom": 1,
	  "fields": [{"fieldname": "tag", "label": "Tag", "fieldtype": "Data"}]}`,
	`{"name": "Test Order", "module": "Test", "autoname": "naming_series:", "is_submittable": 1, "custom": 1,
	  "fields": [
	    {"fieldname": "naming_series", "label": "Series", "fieldtype": "Select", "options": "TO-.YYYY.-.####\nTX-.####"},
	    {"fieldname": "customer", "label": "Customer", "fieldtype": "Link", "options": "Test Customer", "reqd": 1},
	    {"fieldname": "order_date", "label": "Order Date", "fieldtype": "Date"},
	    {"fieldname": "delivered_at", "label": "Delivered At", "fieldtype": "Datetime"},
	    {"fieldname": "slot", "label": "Slot", "fieldtype": "Time"},
	    {"fieldname": "qty", "label": "Qty", "fieldtype": "Int"},
	    {"fieldname": "amount", "label": "Amount", "fieldtype": "Float"},
	    {"fieldname": "total", "label": "Total", "fieldtype": "Currency"},
	    {"fieldname": "discount", "label": "Discount", "fieldtype": "Percent"},
	    {"fieldname": "paid", "label": "Paid", "fieldtype": "Check"},
	    {"fieldname": "status", "label": "Status", "fieldtype": "Select", "options": "Draft\nOpen\nClosed"},
	    {"fieldname": "sb1", "fieldtype": "Section Break"},
	    {"fieldname": "notes", "label": "Notes", "fieldtype": "Small Text"},
	    {"fieldname": "description", "label": "Description", "fieldtype": "Text"},
	    {"fieldname": "long_text", "label": "Long", "fieldtype": "Long Text"},
	    {"fieldname": "snippet", "label": "Snippet", "fieldtype": "Code"},
	    {"fieldname": "editor", "label": "Editor", "fieldtype": "Text Editor"},
	    {"fieldname": "cb1", "fieldtype": "Column Break"},
	    {"fieldname": "payload", "label": "Payload", "fieldtype": "JSON"},
	    {"fieldname": "secret", "label": "Secret", "fieldtype": "Password"},
	    {"fieldname": "attachment", "label": "Attachment", "fieldtype": "Attach"},
	    {"fieldname": "ro", "label": "Read Only", "fieldtype": "Read Only"},
	    {"fieldname": "remarks", "label": "Remarks", "fieldtype": "Data", "allow_on_submit": 1},
	    {"fieldname": "ref_code", "label": "Ref Code", "fieldtype": "Data", "set_only_once": 1},
	    {"fieldname": "short", "label": "Short", "fieldtype": "Data", "length": 5},
	    {"fieldname": "party_type", "label": "Party Type", "fieldtype": "Link", "options": "DocType"},
	    {"fieldname": "party", "label": "Party", "fieldtype": "Dynamic Link", "options": "party_type"},
	    {"fieldname": "tb1", "fieldtype": "Tab Break"},
	    {"fieldname": "items", "label": "Items", "fieldtype": "Table", "options": "Test Order Item"},
	    {"fieldname": "tags", "label": "Tags", "fieldtype": "Table MultiSelect", "options": "Test Tag Row"}
	  ],
	  "permissions": [
	    {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "submit": 1, "cancel": 1},
	    {"role": "Test Reader", "read": 1, "write": 0, "create": 0, "delete": 0}
	  ]}`,
}

// newFixtureSite starts a site with the fixture DocTypes and a customer "ACME".
func newFixtureSite(t *testing.T, opts sitetest.Options) *sitetest.Site {
	t.Helper()
	s := sitetest.NewSite(t, opts)
	c := s.Admin()
	c.MustInsert(t, "Role", map[string]any{"role_name": "Test Reader"})
	for _, def := range fixtureDocTypes {
		c.MustCreateDocType(t, def)
	}
	c.MustInsert(t, "Test Customer", map[string]any{"customer_name": "ACME", "email": "acme@example.com", "tier": "Gold"})
	return s
}

// order is a valid Test Order body with n item rows.
func order(n int) map[string]any {
	items := make([]any, n)
	for i := range items {
		items[i] = map[string]any{"item_code": "ITEM-" + string(rune('A'+i)), "qty": i + 1, "rate": 2.5}
	}
	return map[string]any{"customer": "ACME", "qty": 3, "status": "Open", "items": items}
}

// newUser creates an enabled system user with the given roles and password
// and returns a client logged in as that user through API keys.
func newUser(t *testing.T, s *sitetest.Site, email string, roles ...string) *sitetest.Client {
	t.Helper()
	rs := make([]any, len(roles))
	for i, r := range roles {
		rs[i] = map[string]any{"role": r}
	}
	s.Admin().MustInsert(t, "User", map[string]any{"email": email, "first_name": "Test", "new_password": "pw-" + email, "roles": rs})
	sec, key := s.MustGenerateKeys(t, email)
	return s.As("token " + key + ":" + sec)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
