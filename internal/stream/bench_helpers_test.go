package stream_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/site"
	"docstream/internal/stream"
)

// The benchmark helpers mirror the test helpers for testing.B.

func startSiteB(b *testing.B) *testSite { return startSiteCfgB(b, fastStream()) }

func startSiteCfgB(b *testing.B, cfg stream.Config) *testSite {
	b.Helper()
	ctx := context.Background()
	s, err := site.Open(ctx, site.Config{Addr: "127.0.0.1:0", DataDir: b.TempDir(), AdminPassword: "admin",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stream: cfg})
	if err != nil {
		b.Fatal(err)
	}
	s.Start()
	b.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Close(cctx)
	})
	ts := &testSite{Site: s}
	if _, err := s.App.Insert(ctx, app.Admin(), "User", doc.Doc{"email": subscriber, "first_name": "Sync",
		"roles": []doc.Doc{{"role": "System Manager"}}}, app.Opts{}); err != nil {
		b.Fatal(err)
	}
	if ts.secret, err = s.App.GenerateKeys(ctx, app.Admin(), subscriber); err != nil {
		b.Fatal(err)
	}
	u, _ := s.App.Get(ctx, app.Admin(), "User", subscriber)
	ts.key = u.Str("api_key")
	return ts
}

func noteDocTypesB(b *testing.B, s *testSite) {
	b.Helper()
	for _, d := range []doc.Doc{
		{"name": "Note Item", "istable": int64(1), "fields": []doc.Doc{{"fieldname": "item", "fieldtype": "Data"}, {"fieldname": "qty", "fieldtype": "Float"}}},
		{"name": "Note", "autoname": "field:title", "fields": []doc.Doc{{"fieldname": "title", "fieldtype": "Data"},
			{"fieldname": "public", "fieldtype": "Check"}, {"fieldname": "items", "fieldtype": "Table", "options": "Note Item"}}, "permissions": sysPerm()},
	} {
		if _, err := s.App.Insert(context.Background(), app.Admin(), "DocType", d, app.Opts{}); err != nil {
			b.Fatal(err)
		}
	}
}

func subscribeB(b *testing.B, p, c *testSite, rows ...doc.Doc) {
	b.Helper()
	ctx := context.Background()
	if _, err := c.App.Insert(ctx, app.Admin(), "Event Producer", doc.Doc{"producer_url": p.URL, "api_key": p.key, "api_secret": p.secret,
		"user": subscriber, "producer_doctypes": rows}, app.Opts{}); err != nil {
		b.Fatal(err)
	}
	ec, err := p.App.Get(ctx, app.Admin(), "Event Consumer", c.URL)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range ec.Rows("consumer_doctypes") {
		r["status"] = "Approved"
	}
	if _, err := p.App.Save(ctx, app.Admin(), "Event Consumer", c.URL, doc.Doc{"consumer_doctypes": ec["consumer_doctypes"]}, app.Opts{}); err != nil {
		b.Fatal(err)
	}
}
