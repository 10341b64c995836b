package site_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/site"
	"docstream/internal/sitetest"
)

// Two serve processes on one PostgreSQL database are one site: a DocType
// made through one is usable through the other at once, a session made on
// one is valid on the other, and series numbers never repeat.
func TestTwoProcessesOneDatabase(t *testing.T) {
	if sitetest.PostgresDSN() == "" {
		t.Skipf("PostgreSQL tests are off: set %s to run them", sitetest.EnvPostgres)
	}
	t.Parallel()
	dsn := sitetest.NewSchema(t)
	dir := t.TempDir() // shared site_config.json: the same encryption key
	open := func() *site.Site {
		return sitetest.StartSite(t, site.Config{Addr: "127.0.0.1:0", DataDir: dir, DB: dsn, AdminPassword: "admin",
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	a, b := open(), open()
	ctx := context.Background()
	if _, err := a.App.Insert(ctx, app.Admin(), "DocType", doc.Doc{"name": "Ticket", "autoname": "naming_series:",
		"fields":      []doc.Doc{{"fieldname": "naming_series", "fieldtype": "Select", "options": "TCK-.#####"}, {"fieldname": "subject", "fieldtype": "Data"}},
		"permissions": []doc.Doc{{"role": "System Manager", "read": int64(1), "write": int64(1), "create": int64(1), "delete": int64(1)}}}, app.Opts{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		d, err := s.App.Insert(ctx, app.Admin(), "Ticket", doc.Doc{"subject": "x"}, app.Opts{})
		if err != nil {
			t.Fatalf("insert through process %d: %v", i%2, err)
		}
		if seen[d.Name()] {
			t.Fatalf("series number %s handed out twice", d.Name())
		}
		seen[d.Name()] = true
	}
	// A session from A works on B.
	resp, err := http.Post(a.URL+"/api/method/login", "application/json", strings.NewReader(`{"usr":"Administrator","pwd":"admin"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sid *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "sid" {
			sid = c
		}
	}
	if sid == nil {
		t.Fatal("no sid cookie")
	}
	req, _ := http.NewRequest(http.MethodGet, b.URL+"/api/method/frappe.auth.get_logged_user", nil)
	req.AddCookie(sid)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Administrator") {
		t.Fatalf("session from A on B: %d %s", resp.StatusCode, body)
	}
	// A Custom Field added through B is seen by A.
	if _, err := b.App.Insert(ctx, app.Admin(), "Custom Field", doc.Doc{"dt": "Ticket", "fieldname": "priority", "fieldtype": "Data"}, app.Opts{}); err != nil {
		t.Fatal(err)
	}
	d, err := a.App.Insert(ctx, app.Admin(), "Ticket", doc.Doc{"subject": "y", "priority": "High"}, app.Opts{})
	if err != nil || d.Str("priority") != "High" {
		t.Fatalf("custom field through the other process: %v %v", d, err)
	}
}
