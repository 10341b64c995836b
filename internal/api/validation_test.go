package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"docstream/internal/sitetest"
)

// TestValidation: each failure answers with Frappe's status and exc_type.
func TestValidation(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newFixtureSite(t, opts)
		c := s.Admin()
		with := func(kv ...any) map[string]any {
			b := order(1)
			for i := 0; i < len(kv); i += 2 {
				b[kv[i].(string)] = kv[i+1]
			}
			return b
		}
		row := func(kv ...any) []any {
			r := map[string]any{"item_code": "X", "qty": 1}
			for i := 0; i < len(kv); i += 2 {
				r[kv[i].(string)] = kv[i+1]
			}
			return []any{r}
		}
		orders := sitetest.Path("Test Order")
		sitetest.Run(t, s, []sitetest.Scenario{
			{Name: "reqd", Method: "POST", Path: orders, Body: with("customer", ""),
				Status: 417, ExcType: "MandatoryError", Contains: []string{"Customer"}},
			{Name: "reqd in child row", Method: "POST", Path: orders, Body: with("items", row("item_code", nil)),
				Status: 417, ExcType: "MandatoryError", Contains: []string{"Row #1: Item Code"}},
			{Name: "unique", Method: "POST", Path: sitetest.Path("Test Customer"), Body: map[string]any{"customer_name": "Dup", "email": "acme@example.com"},
				Status: 417, ExcType: "UniqueValidationError"},
			{Name: "many empty unique values are fine", Method: "POST", Path: sitetest.Path("Test Customer"), Body: map[string]any{"customer_name": "NoMail1", "email": ""}},
			{Name: "many empty unique values are fine 2", Method: "POST", Path: sitetest.Path("Test Customer"), Body: map[string]any{"customer_name": "NoMail2"}},
			{Name: "length", Method: "POST", Path: orders, Body: with("short", "abcdef"),
				Status: 417, ExcType: "CharacterLengthExceededError"},
			{Name: "default Data length 140", Method: "POST", Path: sitetest.Path("Test Customer"),
				Body:   map[string]any{"customer_name": "Long", "email": strings.Repeat("x", 141)},
				Status: 417, ExcType: "CharacterLengthExceededError"},
			{Name: "length in child row", Method: "POST", Path: orders, Body: with("items", row("note", strings.Repeat("n", 21))),
				Status: 417, ExcType: "CharacterLengthExceededError"},
			{Name: "select", Method: "POST", Path: orders, Body: with("status", "Bogus"),
				Status: 417, ExcType: "ValidationError", Contains: []string{"Bogus"}},
			{Name: "non negative", Method: "POST", Path: sitetest.Path("Test Customer"), Body: map[string]any{"customer_name": "Neg", "credit": -1},
				Status: 417, ExcType: "NonNegativeError"},
			{Name: "link", Method: "POST", Path: orders, Body: with("customer", "Nobody"),
				Status: 417, ExcType: "LinkValidationError", Contains: []string{"Could not find Customer: Nobody"}},
			{Name: "link in child row", Method: "POST", Path: orders, Body: with("items", row("customer", "Nobody")),
				Status: 417, ExcType: "LinkValidationError", Contains: []string{"Nobody"}},
			{Name: "dynamic link target missing", Method: "POST", Path: orders, Body: with("party_type", "Test Customer", "party", "Nobody"),
				Status: 417, ExcType: "LinkValidationError"},
			{Name: "dynamic link type missing", Method: "POST", Path: orders, Body: with("party", "ACME"),
				Status: 417, ExcType: "ValidationError", Contains: []string{"Party Type must be set first"}},
			{Name: "dynamic link to another DocType", Method: "POST", Path: orders, Body: with("party_type", "User", "party", "Administrator")},
			{Name: "dynamic link type not a DocType", Method: "POST", Path: orders, Body: with("party_type", "Nope", "party", "ACME"),
				Status: 417, ExcType: "LinkValidationError"},
			{Name: "insert cancelled", Method: "POST", Path: orders, Body: with("docstatus", 2),
				Status: 417, ExcType: "DocstatusTransitionError"},
			{Name: "submit a non-submittable DocType", Method: "POST", Path: sitetest.Path("Test Customer"), Body: map[string]any{"customer_name": "Sub", "docstatus": 1},
				Status: 417, ExcType: "DocstatusTransitionError"},
			{Name: "insert submitted", Method: "POST", Path: orders, Body: with("docstatus", 1),
				Check: func(t *testing.T, r *sitetest.Response) {
					d := r.Doc()
					if d["docstatus"] != float64(1) || d["items"].([]any)[0].(map[string]any)["docstatus"] != float64(1) {
						t.Errorf("docstatus of the document and its rows: %v", d)
					}
				}},
			{Name: "missing document PUT", Method: "PUT", Path: sitetest.Path("Test Order", "nope"), Body: map[string]any{"qty": 1},
				Status: 404, ExcType: "DoesNotExistError"},
			{Name: "missing document DELETE", Method: "DELETE", Path: sitetest.Path("Test Order", "nope"),
				Status: 404, ExcType: "DoesNotExistError"},
			{Name: "delete a linked document", Method: "DELETE", Path: sitetest.Path("Test Customer", "ACME"),
				Status: 417, ExcType: "LinkExistsError"},
		})

		t.Run("lifecycle", func(t *testing.T) {
			d := c.MustInsert(t, "Test Order", with("ref_code", "R1", "remarks", "first"))
			p := sitetest.Path("Test Order", d["name"].(string))
			stale := d["modified"].(string)
			sitetest.Run(t, s, []sitetest.Scenario{
				{Name: "set_only_once unchanged", Method: "PUT", Path: p, Body: map[string]any{"ref_code": "R1", "qty": 4}},
				{Name: "set_only_once changed", Method: "PUT", Path: p, Body: map[string]any{"ref_code": "R2"},
					Status: 417, ExcType: "CannotChangeConstantError"},
				{Name: "stale modified", Method: "PUT", Path: p, Body: map[string]any{"qty": 5, "modified": stale},
					Status: 417, ExcType: "TimestampMismatchError", Contains: []string{"has been modified after you have opened it"}},
				{Name: "current modified", Method: "PUT", Path: p, Body: map[string]any{"qty": 5},
					Check: func(t *testing.T, r *sitetest.Response) {
						// Save again with the exact modified just returned: accepted.
						again := c.Do(t, "PUT", p, map[string]any{"qty": 6, "modified": r.Doc()["modified"]})
						if again.Status != 200 {
							t.Errorf("save with the current modified: %s", again)
						}
					}},
				{Name: "submit", Method: "PUT", Path: p, Body: map[string]any{"docstatus": 1},
					Contains: []string{`"docstatus":1`}},
				{Name: "allow_on_submit field", Method: "PUT", Path: p, Body: map[string]any{"remarks": "after submit"},
					Contains: []string{`"remarks":"after submit"`}},
				{Name: "other field after submit", Method: "PUT", Path: p, Body: map[string]any{"qty": 99},
					Status: 417, ExcType: "UpdateAfterSubmitError"},
				{Name: "add rows after submit", Method: "PUT", Path: p, Body: map[string]any{"items": row("item_code", "NEW")},
					Status: 417, ExcType: "UpdateAfterSubmitError"},
				{Name: "back to draft", Method: "PUT", Path: p, Body: map[string]any{"docstatus": 0},
					Status: 417, ExcType: "DocstatusTransitionError"},
				{Name: "delete submitted", Method: "DELETE", Path: p,
					Status: 417, ExcType: "ValidationError", Contains: []string{"Cancel it first"}},
				{Name: "cancel", Method: "PUT", Path: p, Body: map[string]any{"docstatus": 2},
					Contains: []string{`"docstatus":2`}},
				{Name: "edit cancelled", Method: "PUT", Path: p, Body: map[string]any{"remarks": "x"},
					Status: 417, ExcType: "ValidationError", Contains: []string{"Cannot edit cancelled document"}},
				{Name: "re-submit cancelled", Method: "PUT", Path: p, Body: map[string]any{"docstatus": 1},
					Status: 417},
				{Name: "delete cancelled", Method: "DELETE", Path: p, Status: 202,
					Check: func(t *testing.T, r *sitetest.Response) {
						if diff := cmp.Diff(map[string]any{"data": "ok"}, r.JSON); diff != "" {
							t.Errorf("DELETE body (-want +got):\n%s", diff)
						}
					}},
				{Name: "deleted", Path: p, Status: 404},
			})
		})
	})
}

// TestValidation_NoPartialWrite: a request that fails writes nothing: not the
// parent when a child row fails, not a series number, not a half update.
func TestValidation_NoPartialWrite(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newFixtureSite(t, opts)
		c := s.Admin()
		c.MustCreateDocType(t, `{"name": "Test Uniq Row", "istable": 1, "fields": [{"fieldname": "code", "fieldtype": "Data", "unique": 1}]}`)
		c.MustCreateDocType(t, `{"name": "Test Uniq Parent", "autoname": "UP-.###", "fields": [
			{"fieldname": "title", "fieldtype": "Data"},
			{"fieldname": "rows", "fieldtype": "Table", "options": "Test Uniq Row"}]}`)
		counts := func(t *testing.T) (parents, children int) {
			t.Helper()
			parents = c.MustCount(t, "Test Uniq Parent", nil)
			r := c.Get(t, sitetest.Path("Test Uniq Row"), map[string]any{"parent": "Test Uniq Parent", "limit": 0}).MustOK(t)
			return parents, len(r.Rows())
		}

		// The parent row is valid and written first; the second child row
		// breaks a unique index in the database, after the parent INSERT ran.
		r := c.Do(t, http.MethodPost, sitetest.Path("Test Uniq Parent"), map[string]any{"title": "t",
			"rows": []any{map[string]any{"code": "same"}, map[string]any{"code": "same"}}})
		if r.Status != http.StatusExpectationFailed || r.ExcType() != "UniqueValidationError" {
			t.Errorf("duplicate child values: %s, want 417 UniqueValidationError", r)
		}
		if p, ch := counts(t); p != 0 || ch != 0 {
			t.Errorf("after the failed insert: %d parents, %d child rows; want none", p, ch)
		}
		d := c.MustInsert(t, "Test Uniq Parent", map[string]any{"title": "ok", "rows": []any{map[string]any{"code": "a"}}})
		if d["name"] != "UP-001" {
			t.Errorf("name %v after a failed insert, want UP-001 (the failed insert's series number is rolled back too)", d["name"])
		}

		// A failed update leaves the stored document as it was.
		before := c.Get(t, sitetest.Path("Test Uniq Parent", "UP-001"), nil).MustOK(t).Doc()
		r = c.Do(t, http.MethodPut, sitetest.Path("Test Uniq Parent", "UP-001"), map[string]any{"title": "changed",
			"rows": []any{map[string]any{"code": "b"}, map[string]any{"code": "c"}, map[string]any{"code": "b"}}})
		if r.Status != http.StatusExpectationFailed {
			t.Errorf("update with duplicate child values: %s", r)
		}
		after := c.Get(t, sitetest.Path("Test Uniq Parent", "UP-001"), nil).MustOK(t).Doc()
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("document changed by a failed update (-before +after):\n%s", diff)
		}
		if p, ch := counts(t); p != 1 || ch != 1 {
			t.Errorf("after the failed update: %d parents, %d child rows; want 1 and 1", p, ch)
		}

		// A child row failing link validation (the parent is fine) writes nothing either.
		n := c.MustCount(t, "Test Order", nil)
		bad := order(3)
		bad["items"].([]any)[2].(map[string]any)["customer"] = "Nobody"
		c.Do(t, http.MethodPost, sitetest.Path("Test Order"), bad).MustStatus(t, http.StatusExpectationFailed)
		if got := c.MustCount(t, "Test Order", nil); got != n {
			t.Errorf("%d orders after a failed insert, want %d", got, n)
		}
		// A failed DocType save leaves neither the DocType nor its table.
		c.Do(t, http.MethodPost, sitetest.Path("DocType"), map[string]any{"name": "Test Half", "fields": []any{
			map[string]any{"fieldname": "a", "fieldtype": "Data"}, map[string]any{"fieldname": "a", "fieldtype": "Data"}}}).
			MustStatus(t, http.StatusExpectationFailed)
		if got := c.MustCount(t, "DocType", map[string]any{"name": "Test Half"}); got != 0 {
			t.Errorf("failed DocType stored")
		}
	})
}
