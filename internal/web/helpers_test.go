package web_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/perm"
	"docstream/internal/site"
	"docstream/internal/web"
)

const adminPW = "admin-pw-1"

// xss is put into every field of the escaping tests; it must never come
// back unescaped.
const xss = `<script>alert("x")</script>`

// env is one site with the desk mounted, served by httptest (or by the
// site's own listener when started).
type env struct {
	t    testing.TB
	site *site.Site
	base string
	sv   *fakeStream
}

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("DOCSTREAM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newEnv opens a site in a temp dir and mounts the desk with sv. start
// serves on the site's own listener and starts streaming, as `docstream
// serve` does, and with sv nil keeps the desk exactly as package site wires
// it; otherwise httptest serves the API handler, nothing runs in the
// background, and sv nil means a desk without a StreamView.
func newEnv(t testing.TB, sv *fakeStream, start bool, opts ...func(*site.Config)) *env {
	t.Helper()
	ctx := context.Background()
	cfg := site.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AdminPassword: adminPW, Log: testLog(t)}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := site.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case sv != nil:
		s.Web = web.New(s.App, sv, testLog(t))
	case !start:
		s.Web = web.New(s.App, nil, testLog(t))
	}
	e := &env{t: t, site: s, sv: sv}
	if start {
		s.Start()
		e.base = s.URL
	} else {
		ts := httptest.NewServer(s.API)
		t.Cleanup(ts.Close)
		e.base = ts.URL
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(cctx)
	})
	return e
}

// client is a browser-like HTTP client: a cookie jar, no automatic redirects.
type client struct {
	e   *env
	hc  *http.Client
	hdr http.Header
}

type resp struct {
	code int
	hdr  http.Header
	body string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hdr: http.Header{}, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values, hdr ...string) *resp {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.base+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range c.hdr {
		req.Header[k] = vs
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &resp{code: res.StatusCode, hdr: res.Header, body: string(b)}
}

func (c *client) get(path string, hdr ...string) *resp {
	return c.do(http.MethodGet, path, nil, hdr...)
}

func (c *client) post(path string, form url.Values, hdr ...string) *resp {
	return c.do(http.MethodPost, path, form, hdr...)
}

// login logs in through the desk's form.
func (e *env) login(usr, pwd string) *client {
	e.t.Helper()
	c := e.client()
	r := c.post("/login", url.Values{"usr": {usr}, "pwd": {pwd}})
	if r.code != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d\n%s", usr, r.code, r.body)
	}
	return c
}

func (e *env) admin() *client { return e.login("Administrator", adminPW) }

// addUser creates a user with a password and roles (creating missing roles).
func (e *env) addUser(email, pwd string, roles ...string) {
	e.t.Helper()
	var rows []doc.Doc
	for _, r := range roles {
		e.ensure("Role", r, doc.Doc{"role_name": r})
		rows = append(rows, doc.Doc{"role": r})
	}
	e.insert("User", doc.Doc{"email": email, "first_name": strings.Split(email, "@")[0], "new_password": pwd, "roles": rows})
}

func (e *env) ensure(doctype, name string, d doc.Doc) {
	e.t.Helper()
	if _, err := e.site.App.Get(context.Background(), app.Admin(), doctype, name); err == nil {
		return
	}
	e.insert(doctype, d)
}

func (e *env) insert(doctype string, d doc.Doc) doc.Doc {
	e.t.Helper()
	out, err := e.site.App.Insert(context.Background(), app.Admin(), doctype, d, app.Opts{IgnorePermissions: true})
	if err != nil {
		e.t.Fatalf("insert %s: %v", doctype, err)
	}
	return out
}

func (e *env) get(doctype, name string) doc.Doc {
	e.t.Helper()
	d, err := e.site.App.Get(context.Background(), app.Admin(), doctype, name)
	if err != nil {
		e.t.Fatalf("get %s %s: %v", doctype, name, err)
	}
	return d
}

// probeDocTypes creates "Web Probe" (one field of every input type, a child
// table, named by its title) and "Web Probe Row", readable and writable by
// "Probe Writer", readable only by "Probe Reader".
func (e *env) probeDocTypes() {
	e.t.Helper()
	e.ensure("Role", "Probe Writer", doc.Doc{"role_name": "Probe Writer"})
	e.ensure("Role", "Probe Reader", doc.Doc{"role_name": "Probe Reader"})
	row, err := doc.FromJSON([]byte(`{"name": "Web Probe Row", "module": "Custom", "istable": 1, "fields": [
		{"fieldname": "item", "label": "Item", "fieldtype": "Data", "reqd": 1, "in_list_view": 1},
		{"fieldname": "kind", "label": "Kind", "fieldtype": "Select", "options": "A\nB"},
		{"fieldname": "done", "label": "Done", "fieldtype": "Check"},
		{"fieldname": "qty", "label": "Qty", "fieldtype": "Int"},
		{"fieldname": "ref", "label": "Ref User", "fieldtype": "Link", "options": "User"}
	]}`))
	if err != nil {
		e.t.Fatal(err)
	}
	e.insert("DocType", row)
	probe, err := doc.FromJSON([]byte(`{"name": "Web Probe", "module": "Custom", "autoname": "field:title", "title_field": "title", "fields": [
		{"fieldname": "title", "label": "Title", "fieldtype": "Data", "reqd": 1, "in_list_view": 1},
		{"fieldname": "status", "label": "Status", "fieldtype": "Select", "options": "Open\nClosed\n<script>alert(\"x\")</script>", "in_list_view": 1},
		{"fieldname": "owner_user", "label": "Owner User", "fieldtype": "Link", "options": "User", "in_list_view": 1},
		{"fieldname": "active", "label": "Active", "fieldtype": "Check", "default": "1", "in_list_view": 1},
		{"fieldname": "count", "label": "Count", "fieldtype": "Int"},
		{"fieldname": "amount", "label": "Amount", "fieldtype": "Float"},
		{"fieldname": "col1", "fieldtype": "Column Break"},
		{"fieldname": "due", "label": "Due", "fieldtype": "Date"},
		{"fieldname": "at", "label": "At", "fieldtype": "Datetime"},
		{"fieldname": "clock", "label": "Clock", "fieldtype": "Time"},
		{"fieldname": "secret", "label": "Secret", "fieldtype": "Password"},
		{"fieldname": "phone", "label": "Phone <b>label</b>", "fieldtype": "Phone"},
		{"fieldname": "notes_section", "label": "Notes", "fieldtype": "Section Break"},
		{"fieldname": "summary", "label": "Summary", "fieldtype": "Small Text"},
		{"fieldname": "body", "label": "Body", "fieldtype": "Text"},
		{"fieldname": "long_body", "label": "Long Body", "fieldtype": "Long Text"},
		{"fieldname": "script", "label": "Script", "fieldtype": "Code"},
		{"fieldname": "fixed", "label": "Fixed", "fieldtype": "Data", "read_only": 1},
		{"fieldname": "rows", "label": "Rows", "fieldtype": "Table", "options": "Web Probe Row"}
	], "permissions": [
		{"role": "Probe Writer", "read": 1, "write": 1, "create": 1, "delete": 1},
		{"role": "Probe Reader", "read": 1, "write": 0, "create": 0, "delete": 0}
	]}`))
	if err != nil {
		e.t.Fatal(err)
	}
	e.insert("DocType", probe)
}

// fakeStream is a StreamView for tests.
type fakeStream struct {
	mu        sync.Mutex
	ov        web.Overview
	err       error
	status    string // what Resync answers
	resynced  []string
	allFor    []string
	resyncErr error
	n         int
	users     []string
}

func (f *fakeStream) Overview(context.Context) (web.Overview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ov, f.err
}

func (f *fakeStream) Resync(_ context.Context, u perm.User, syncLog string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resynced = append(f.resynced, syncLog)
	f.users = append(f.users, u.Name)
	return f.status, f.resyncErr
}

func (f *fakeStream) ResyncAll(_ context.Context, u perm.User, producer string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allFor = append(f.allFor, producer)
	f.users = append(f.users, u.Name)
	return f.n, f.resyncErr
}

// --- assertions ---

func wantCode(t *testing.T, r *resp, code int, what string) {
	t.Helper()
	if r.code != code {
		body := r.body
		if len(body) > 3000 {
			body = body[:3000]
		}
		t.Fatalf("%s: status %d, want %d\n%s", what, r.code, code, body)
	}
}

// wantFormError checks a form shown again after a refused submission: 200,
// the error box, and the exception type in X-Docstream-Error ("" = any).
func wantFormError(t *testing.T, r *resp, excType, what string) {
	t.Helper()
	wantCode(t, r, http.StatusOK, what)
	got := r.hdr.Get("X-Docstream-Error")
	if got == "" || (excType != "" && got != excType) {
		t.Errorf("%s: X-Docstream-Error %q, want %q", what, got, excType)
	}
	if !strings.Contains(r.body, `id="form-error"`) && !strings.Contains(r.body, `id="login-error"`) {
		t.Errorf("%s: no error box in\n%s", what, r.body)
	}
}

func wantContains(t *testing.T, r *resp, what string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Errorf("%s: body lacks %q", what, s)
		}
	}
}

func wantNotContains(t *testing.T, r *resp, what string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(r.body, s) {
			t.Errorf("%s: body contains %q", what, s)
		}
	}
}

// inputValue finds the value attribute of the element with the given
// data-fieldname (the first one), unescaped.
func inputValue(body, fieldname string) (string, bool) {
	re := regexp.MustCompile(`<input[^>]*data-fieldname="` + regexp.QuoteMeta(fieldname) + `"[^>]*>`)
	tag := re.FindString(body)
	if tag == "" {
		return "", false
	}
	m := regexp.MustCompile(`\svalue="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return "", true
	}
	return html.UnescapeString(m[1]), true
}

// secretFrom reads the API secret shown once by Generate Keys.
func secretFrom(t *testing.T, body string) string {
	t.Helper()
	v, ok := inputValue(body, "api_secret")
	if !ok || v == "" {
		t.Fatalf("no API secret in\n%s", body)
	}
	return v
}
