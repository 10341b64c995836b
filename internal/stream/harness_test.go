package stream_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/site"
	"docstream/internal/sitetest"
	"docstream/internal/stream"
)

// testSite is a real site on a loopback port with a SQLite file.
type testSite struct {
	*site.Site
	key, secret string // API keys of the Event Subscriber (sync@example.com)
}

const subscriber = "sync@example.com"

func fastStream() stream.Config {
	return stream.Config{CatchUp: 500 * time.Millisecond, PullWait: 2 * time.Second, RetryBase: 200 * time.Millisecond,
		NotifyRetry: 200 * time.Millisecond, PageSize: 100}
}

func startSite(t *testing.T, cfg stream.Config) *testSite {
	t.Helper()
	return startSiteAt(t, t.TempDir(), "127.0.0.1:0", cfg)
}

// startSiteAt opens (or reopens) the site in dir on addr.
func startSiteAt(t testing.TB, dir, addr string, cfg stream.Config) *testSite {
	t.Helper()
	return startSiteDB(t, dir, addr, "", cfg)
}

// starter opens a fresh site of one store kind.
type starter func(t *testing.T, cfg stream.Config) *testSite

// forEachStore runs body on SQLite sites, and on PostgreSQL sites (one
// schema each) when DOCSTREAM_TEST_POSTGRES is set.
func forEachStore(t *testing.T, body func(t *testing.T, start starter)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		body(t, startSite)
	})
	t.Run("postgres", func(t *testing.T) {
		if sitetest.PostgresDSN() == "" {
			t.Skipf("PostgreSQL tests are off: set %s to run them", sitetest.EnvPostgres)
		}
		t.Parallel()
		body(t, func(t *testing.T, cfg stream.Config) *testSite {
			t.Helper()
			return startSiteDB(t, t.TempDir(), "127.0.0.1:0", sitetest.NewSchema(t), cfg)
		})
	})
}

// startSiteDB opens (or reopens) a site; dsn "" means SQLite in dir.
func startSiteDB(t testing.TB, dir, addr, dsn string, cfg stream.Config) *testSite {
	t.Helper()
	ctx := context.Background()
	s := openSite(t, site.Config{Addr: addr, DataDir: dir, DB: dsn, Stream: cfg})
	ts := &testSite{Site: s}
	if u := find(s, "User", subscriber); u != nil {
		ts.key = u.Str("api_key")
		return ts
	}
	mustInsert(t, s, "User", doc.Doc{"email": subscriber, "first_name": "Sync", "new_password": "sync-pass",
		"roles": []doc.Doc{{"role": "System Manager"}}})
	var err error
	if ts.secret, err = s.App.GenerateKeys(ctx, app.Admin(), subscriber); err != nil {
		t.Fatal(err)
	}
	u := mustGet(t, s, "User", subscriber)
	ts.key = u.Str("api_key")
	return ts
}

// openSite opens and starts a site (admin password "admin", the test's log),
// closed when the test ends.
func openSite(t testing.TB, cfg site.Config) *site.Site {
	t.Helper()
	cfg.AdminPassword, cfg.Log = "admin", testLog(t)
	return sitetest.StartSite(t, cfg)
}

func mustInsert(t testing.TB, s *site.Site, doctype string, d doc.Doc) doc.Doc {
	t.Helper()
	out, err := s.App.Insert(context.Background(), app.Admin(), doctype, d, app.Opts{})
	if err != nil {
		t.Fatalf("insert %s: %v", doctype, err)
	}
	return out
}

func mustSave(t testing.TB, s *site.Site, doctype, name string, d doc.Doc) doc.Doc {
	t.Helper()
	out, err := s.App.Save(context.Background(), app.Admin(), doctype, name, d, app.Opts{})
	if err != nil {
		t.Fatalf("save %s %s: %v", doctype, name, err)
	}
	return out
}

func mustGet(t testing.TB, s *site.Site, doctype, name string) doc.Doc {
	t.Helper()
	d, err := s.App.Get(context.Background(), app.Admin(), doctype, name)
	if err != nil {
		t.Fatalf("get %s %s: %v", doctype, name, err)
	}
	return d
}

func find(s *site.Site, doctype, name string) doc.Doc {
	d, _ := s.App.Get(context.Background(), app.Admin(), doctype, name)
	return d
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", d, what)
}

// noteDocTypes defines a Note with a child table on a site.
func noteDocTypes(t testing.TB, s *site.Site) {
	t.Helper()
	mustInsert(t, s, "DocType", doc.Doc{"name": "Note Item", "istable": int64(1), "fields": []doc.Doc{
		{"fieldname": "item", "fieldtype": "Data", "reqd": int64(1)}, {"fieldname": "qty", "fieldtype": "Float"}}})
	mustInsert(t, s, "DocType", doc.Doc{"name": "Note", "autoname": "field:title", "is_submittable": int64(1), "fields": []doc.Doc{
		{"fieldname": "title", "fieldtype": "Data", "reqd": int64(1)},
		{"fieldname": "body", "fieldtype": "Text"},
		{"fieldname": "public", "fieldtype": "Check"},
		{"fieldname": "items", "fieldtype": "Table", "options": "Note Item"}},
		"permissions": []doc.Doc{{"role": "System Manager", "read": int64(1), "write": int64(1), "create": int64(1), "delete": int64(1), "submit": int64(1), "cancel": int64(1)}}})
}

// subscribe registers consumer c with producer p for the rows and approves
// them all on the producer.
func subscribe(t testing.TB, p, c *testSite, rows ...doc.Doc) {
	t.Helper()
	mustInsert(t, c.Site, "Event Producer", doc.Doc{"producer_url": p.URL, "api_key": p.key, "api_secret": p.secret,
		"user": subscriber, "producer_doctypes": rows})
	ec := mustGet(t, p.Site, "Event Consumer", c.URL)
	for _, r := range ec.Rows("consumer_doctypes") {
		r["status"] = "Approved"
	}
	mustSave(t, p.Site, "Event Consumer", c.URL, doc.Doc{"consumer_doctypes": ec["consumer_doctypes"]})
}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// postForm sends form to path on s as a peer does (urlencoded, with the
// Event Subscriber's token) and returns the answer, its body read.
func postForm(t testing.TB, s *testSite, path string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "token "+s.key+":"+s.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// memoAndConsumer adds a Memo DocType beside Note (noteDocTypes) and an
// Event Consumer named consumer approved for both, made on the producer as
// register_consumer would, with no consumer site behind it.
func memoAndConsumer(t testing.TB, s *site.Site, consumer string) {
	t.Helper()
	mustInsert(t, s, "DocType", doc.Doc{"name": "Memo", "autoname": "field:title", "fields": []doc.Doc{
		{"fieldname": "title", "fieldtype": "Data", "reqd": int64(1)}},
		"permissions": []doc.Doc{{"role": "System Manager", "read": int64(1), "write": int64(1), "create": int64(1)}}})
	mustInsert(t, s, "Event Consumer", doc.Doc{"callback_url": consumer, "user": subscriber, "api_key": "k", "api_secret": "s",
		"incoming_change": int64(1), "consumer_doctypes": []doc.Doc{{"ref_doctype": "Note", "status": "Approved"}, {"ref_doctype": "Memo", "status": "Approved"}}})
}
