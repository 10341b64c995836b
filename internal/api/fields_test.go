package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"docstream/internal/app"
	"docstream/internal/sitetest"
)

var datetimeRe = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$`)

// TestFields_CoercionAndJSONForm: Frappe's coercion of each field type and the
// JSON form documents come back in (reference §1.2, §5.6).
func TestFields_CoercionAndJSONForm(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newFixtureSite(t, opts)
		c := s.Admin()
		in := map[string]any{
			"customer": "ACME", "order_date": "2025-01-10", "delivered_at": "2025-01-10T09:12:33",
			"slot": "9:05", "qty": "7", "amount": "2.5", "total": nil, "paid": true, "status": "Closed",
			"notes": "small", "description": "text", "long_text": strings.Repeat("long ", 100), "snippet": "x = 1",
			"editor": "<p>hi</p>", "payload": map[string]any{"b": []any{1, 2}, "a": "x"}, "secret": "hunter2",
			"attachment": "/files/a.pdf", "ro": "read only", "short": "abc",
			"owner": "someone@else", "creation": "2000-01-01 00:00:00.000000", "unknown_key": "dropped",
			"party_type": "Test Customer", "party": "ACME",
			"items": []any{map[string]any{"item_code": "A", "qty": "2", "rate": "1.25"}, map[string]any{"item_code": "B"}},
			"tags":  []any{map[string]any{"tag": "red"}},
		}
		posted := c.MustInsert(t, "Test Order", in)
		name := posted["name"].(string)
		got := c.Get(t, sitetest.Path("Test Order", name), nil).MustOK(t).Doc()
		if diff := cmp.Diff(posted, got); diff != "" {
			t.Errorf("POST answer and GET differ (-post +get):\n%s", diff)
		}
		want := map[string]any{
			"name": name, "owner": "Administrator", "modified_by": "Administrator", "docstatus": float64(0), "idx": float64(0),
			"doctype": "Test Order", "naming_series": "TO-.YYYY.-.####",
			"customer": "ACME", "order_date": "2025-01-10", "delivered_at": "2025-01-10 09:12:33.000000",
			"slot": "9:05:00", "qty": float64(7), "amount": 2.5, "total": float64(0), "discount": float64(0), "paid": float64(1),
			"status": "Closed", "notes": "small", "description": "text", "long_text": strings.Repeat("long ", 100),
			"snippet": "x = 1", "editor": "<p>hi</p>", "payload": `{"a":"x","b":[1,2]}`, "secret": "*******",
			"attachment": "/files/a.pdf", "ro": "read only", "short": "abc", "party_type": "Test Customer", "party": "ACME",
		}
		for k, v := range want {
			if diff := cmp.Diff(v, got[k]); diff != "" {
				t.Errorf("%s (-want +got):\n%s", k, diff)
			}
		}
		for _, k := range []string{"creation", "modified"} {
			if s, _ := got[k].(string); !datetimeRe.MatchString(s) || strings.HasPrefix(s, "2000") {
				t.Errorf("%s = %v, want the server's time as YYYY-MM-DD HH:MM:SS.ffffff", k, got[k])
			}
		}
		if got["creation"] != got["modified"] {
			t.Errorf("creation %v != modified %v on a new document", got["creation"], got["modified"])
		}
		for _, k := range []string{"unknown_key", "remarks", "ref_code", "sb1", "cb1", "tb1", "amended_from"} {
			if v, ok := got[k]; ok {
				t.Errorf("%s = %v: nulls, layout fields and unknown keys must be omitted", k, v)
			}
		}
		items := got["items"].([]any)
		if len(items) != 2 {
			t.Fatalf("items: %v", items)
		}
		a, b := items[0].(map[string]any), items[1].(map[string]any)
		if a["qty"] != float64(2) || a["rate"] != 1.25 || b["qty"] != float64(0) || b["rate"] != float64(0) {
			t.Errorf("child numbers: %v / %v", a, b)
		}
		for _, row := range []map[string]any{a, b} {
			if row["creation"] != got["creation"] || row["modified"] != got["modified"] || row["owner"] != "Administrator" || len(row["name"].(string)) != 10 {
				t.Errorf("child standard fields: %v", row)
			}
		}
		if tags := got["tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["tag"] != "red" {
			t.Errorf("Table MultiSelect rows: %v", got["tags"])
		}

		t.Run("frappe.client.get keeps nulls", func(t *testing.T) {
			r := c.Get(t, "/api/method/frappe.client.get", map[string]any{"doctype": "Test Order", "name": name}).MustOK(t)
			m := r.Message().(map[string]any)
			if v, ok := m["remarks"]; !ok || v != nil {
				t.Errorf("remarks = %v (present %v), want null", v, ok)
			}
		})

		t.Run("numbers never null, empty dates are null", func(t *testing.T) {
			d := c.MustInsert(t, "Test Order", map[string]any{"customer": "ACME", "qty": nil, "amount": "", "paid": "0", "order_date": ""})
			for k, v := range map[string]any{"qty": float64(0), "amount": float64(0), "paid": float64(0)} {
				if d[k] != v {
					t.Errorf("%s = %#v, want %v", k, d[k], v)
				}
			}
			if _, ok := d["order_date"]; ok {
				t.Errorf("empty date stored as %v, want null", d["order_date"])
			}
			if d["status"] != "Draft" {
				t.Errorf("Select default %v, want the first option", d["status"])
			}
		})

		sitetest.Run(t, s, []sitetest.Scenario{
			{Name: "Int not a number", Method: "POST", Path: sitetest.Path("Test Order"), Body: map[string]any{"customer": "ACME", "qty": "seven"},
				Status: 417, ExcType: "FrappeTypeError"},
			{Name: "Float not a number", Method: "POST", Path: sitetest.Path("Test Order"), Body: map[string]any{"customer": "ACME", "amount": "x1"},
				Status: 417, ExcType: "FrappeTypeError"},
			{Name: "bad date", Method: "POST", Path: sitetest.Path("Test Order"), Body: map[string]any{"customer": "ACME", "order_date": "10th of May"},
				Status: 417, ExcType: "FrappeTypeError"},
			{Name: "bad datetime", Method: "POST", Path: sitetest.Path("Test Order"), Body: map[string]any{"customer": "ACME", "delivered_at": "yesterday"},
				Status: 417, ExcType: "FrappeTypeError"},
			{Name: "bad time", Method: "POST", Path: sitetest.Path("Test Order"), Body: map[string]any{"customer": "ACME", "slot": "25:99"},
				Status: 417, ExcType: "FrappeTypeError"},
			{Name: "table not a list", Method: "POST", Path: sitetest.Path("Test Order"), Body: map[string]any{"customer": "ACME", "items": "x"},
				Status: 417},
			{Name: "JSON field given as text stays text", Method: "POST", Path: sitetest.Path("Test Order"),
				Body: map[string]any{"customer": "ACME", "payload": `[1, 2]`}, Contains: []string{`"payload":"[1, 2]"`}},
		})

		t.Run("Password encrypted at rest", func(t *testing.T) {
			db := rawDB(t, s)
			var col string
			if err := db.QueryRow(`SELECT secret FROM "tabTest Order" WHERE name = '` + name + `'`).Scan(&col); err != nil {
				t.Fatal(err)
			}
			if col != "*******" {
				t.Errorf("stored column holds %q, want the mask", col)
			}
			var ct string
			if err := db.QueryRow(`SELECT password FROM "__Auth" WHERE doctype = 'Test Order' AND name = '` + name + `' AND fieldname = 'secret'`).Scan(&ct); err != nil {
				t.Fatal(err)
			}
			if ct == "" || strings.Contains(ct, "hunter2") || !strings.HasPrefix(ct, "v1:") {
				t.Errorf("__Auth holds %q, want ciphertext", ct)
			}
			if clear := password(t, s, "Test Order", name, "secret"); clear != "hunter2" {
				t.Errorf("decrypted %q, want hunter2", clear)
			}
			// A mask in a save keeps the secret; a new value replaces it.
			c.Do(t, http.MethodPut, sitetest.Path("Test Order", name), map[string]any{"secret": "*******", "notes": "x"}).MustOK(t)
			if clear := password(t, s, "Test Order", name, "secret"); clear != "hunter2" {
				t.Errorf("after saving the mask: %q, want hunter2", clear)
			}
			r := c.Do(t, http.MethodPut, sitetest.Path("Test Order", name), map[string]any{"secret": "correct horse"}).MustOK(t)
			if r.Doc()["secret"] != "*************" {
				t.Errorf("answer shows %v, want a 13-star mask", r.Doc()["secret"])
			}
			if clear := password(t, s, "Test Order", name, "secret"); clear != "correct horse" {
				t.Errorf("after a new value: %q", clear)
			}
			// User passwords are hashed (argon2id), never stored in the User table.
			var hash string
			if err := db.QueryRow(`SELECT password FROM "__Auth" WHERE doctype = 'User' AND name = 'Administrator' AND fieldname = 'password'`).Scan(&hash); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(hash, "$argon2id$") {
				t.Errorf("password hash %q, want argon2id", hash)
			}
			var np sql.NullString
			if err := db.QueryRow(`SELECT new_password FROM "tabUser" WHERE name = 'Administrator'`).Scan(&np); err != nil {
				t.Fatal(err)
			}
			if np.Valid && np.String != "" {
				t.Errorf("tabUser.new_password holds %q", np.String)
			}
		})
	})
}

// rawDB opens the site's database directly (read only on SQLite).
func rawDB(t *testing.T, s *sitetest.Site) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if s.Opts.Store == sitetest.Postgres {
		db, err = sql.Open("pgx", s.Opts.DSN)
	} else {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(s.Opts.DataDir, "site.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func password(t *testing.T, s *sitetest.Site, doctype, name, field string) string {
	t.Helper()
	var clear string
	err := s.App.View(context.Background(), func(tx *app.Tx) error {
		var err error
		clear, err = tx.Password(context.Background(), doctype, name, field)
		return err
	})
	if err != nil {
		t.Fatalf("read password: %v", err)
	}
	return clear
}
