package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/secret"
	"docstream/internal/store/sqlstore"
)

const fuzzParent = `{"name": "Fuzz Doc", "autoname": "hash", "is_submittable": 1, "fields": [
	{"fieldname": "title", "fieldtype": "Data", "length": 20},
	{"fieldname": "qty", "fieldtype": "Int", "non_negative": 1},
	{"fieldname": "price", "fieldtype": "Currency"},
	{"fieldname": "ok", "fieldtype": "Check"},
	{"fieldname": "day", "fieldtype": "Date"},
	{"fieldname": "at", "fieldtype": "Datetime"},
	{"fieldname": "slot", "fieldtype": "Time"},
	{"fieldname": "state", "fieldtype": "Select", "options": "A\nB"},
	{"fieldname": "payload", "fieldtype": "JSON"},
	{"fieldname": "secret", "fieldtype": "Password"},
	{"fieldname": "role", "fieldtype": "Link", "options": "Role"},
	{"fieldname": "link_type", "fieldtype": "Link", "options": "DocType"},
	{"fieldname": "link_name", "fieldtype": "Dynamic Link", "options": "link_type"},
	{"fieldname": "code", "fieldtype": "Data", "unique": 1},
	{"fieldname": "rows", "fieldtype": "Table", "options": "Fuzz Row"}],
	"permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "submit": 1, "cancel": 1}]}`

const fuzzChild = `{"name": "Fuzz Row", "istable": 1, "fields": [
	{"fieldname": "label", "fieldtype": "Data", "reqd": 1},
	{"fieldname": "n", "fieldtype": "Float"},
	{"fieldname": "when", "fieldtype": "Date"}]}`

// FuzzDocFromJSON sends arbitrary bodies to the resource insert path
// (POST /api/resource/<DocType>: argument decoding, document decoding,
// coercion, validation, insert) and update path (PUT on an existing
// document), as JSON and as FrappeClient's `data` form field. Every answer must be a Frappe envelope with a client-error status
// and an exc_type, or a 200 with the document: never a panic or a 500.
func FuzzDocFromJSON(f *testing.F) {
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	key, _ := secret.NewKey(rand.Reader)
	box, err := secret.New(key, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	a := app.New(st, box)
	if err := a.Setup(ctx, ""); err != nil {
		f.Fatal(err)
	}
	for _, def := range []string{fuzzChild, fuzzParent} {
		d, err := doc.FromJSON([]byte(def))
		if err != nil {
			f.Fatal(err)
		}
		if _, err := a.Insert(ctx, app.Admin(), "DocType", d, app.Opts{}); err != nil {
			f.Fatalf("create DocType: %v", err)
		}
	}
	sec, err := a.GenerateKeys(ctx, app.Admin(), "Administrator")
	if err != nil {
		f.Fatal(err)
	}
	adm, err := a.Get(ctx, app.Admin(), "User", "Administrator")
	if err != nil {
		f.Fatal(err)
	}
	authz := "token " + adm.Str("api_key") + ":" + sec
	srv := NewServer(a, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, s := range []string{
		`{"title": "t", "qty": 1, "rows": [{"label": "a", "n": 1.5}]}`,
		`{"title": "t", "qty": "7", "price": "1,000.5", "ok": "yes", "day": "2025-01-10", "at": "2025-01-10T10:00:00Z", "slot": "9:00"}`,
		`{"payload": {"a": [1, {"b": null}]}, "secret": "s3cret", "state": "B", "role": "System Manager"}`,
		`{"link_type": "Role", "link_name": "Guest", "code": "c1"}`,
		`{"qty": -1}`, `{"qty": 1e300}`, `{"qty": 9223372036854775808}`, `{"price": "NaN"}`, `{"day": "2025-02-30"}`,
		`{"rows": [{"n": "x"}]}`, `{"rows": [1, 2]}`, `{"rows": {"label": "a"}}`, `{"rows": [{"rows": [{"label": 1}]}]}`,
		`{"docstatus": 1}`, `{"docstatus": 2}`, `{"docstatus": "x"}`, `{"docstatus": 1.5}`, `{"idx": "a"}`,
		`{"name": 12, "__newname": ["x"], "doctype": {"a": 1}, "modified": 5}`,
		`{"title": {"nested": true}}`, `{"title": ["a"]}`, `{"secret": "****"}`, `{"state": "C"}`,
		`[{"title": "list body"}]`, `"string"`, `null`, `{}`, `{"data": {"title": "wrapped"}}`, `{"data": "{\"title\": 1}"}`,
		`{"title": "` + "\u0000\uFFFD" + `"}`, `{`, `{"a":}`, ``,
	} {
		f.Add([]byte(s), false, false)
		f.Add([]byte(s), true, false)
		f.Add([]byte(s), false, true)
	}
	// A document for the update path (PUT overlays the body on it).
	target, err := a.Insert(ctx, app.Admin(), "Fuzz Doc", doc.Doc{"title": "target", "rows": []doc.Doc{{"label": "r"}}}, app.Opts{})
	if err != nil {
		f.Fatal(err)
	}
	putPath := "/api/resource/Fuzz%20Doc/" + target.Name()
	f.Fuzz(func(t *testing.T, body []byte, form, put bool) {
		method, path := http.MethodPost, "/api/resource/Fuzz%20Doc"
		if put {
			method, path = http.MethodPut, putPath
		}
		var req *http.Request
		if form {
			req = httptest.NewRequest(method, path, bytes.NewReader([]byte(url.Values{"data": {string(body)}}.Encode())))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(method, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", authz)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var env map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("body %q: answer is not JSON: %q", body, rec.Body.String())
		}
		switch rec.Code {
		case http.StatusOK:
			if _, ok := env["data"].(map[string]any); !ok {
				t.Fatalf("body %q: 200 without a document: %s", body, rec.Body.String())
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusExpectationFailed:
			if s, _ := env["exc_type"].(string); s == "" {
				t.Fatalf("body %q: %d without exc_type: %s", body, rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("body %q (form %v): status %d: %s", body, form, rec.Code, rec.Body.String())
		}
	})
}
