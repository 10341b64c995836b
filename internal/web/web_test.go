package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"docstream/internal/app"
	"docstream/internal/doc"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, nil, false)
	c := e.client()

	r := c.get("/login")
	wantCode(t, r, http.StatusOK, "login page")
	wantContains(t, r, "login page", `name="usr"`, `name="pwd"`, `<label for="login-usr">`, `action="/login"`)

	r = c.post("/login", url.Values{"usr": {"Administrator"}, "pwd": {"wrong"}})
	wantFormError(t, r, "AuthenticationError", "wrong password")
	wantContains(t, r, "wrong password", "Incorrect user or password", `value="Administrator"`)
	if strings.Contains(r.hdr.Get("Set-Cookie"), "sid=") {
		t.Error("a failed login set a session cookie")
	}

	r = c.post("/login", url.Values{"usr": {"nobody@example.com"}, "pwd": {"x"}})
	wantFormError(t, r, "AuthenticationError", "unknown user")
	wantContains(t, r, "unknown user", "Incorrect user or password")

	r = c.post("/login", url.Values{"usr": {""}, "pwd": {""}})
	wantFormError(t, r, "AuthenticationError", "empty login")
	wantContains(t, r, "empty login", "Enter your user name")

	r = c.post("/login", url.Values{"usr": {"Administrator"}, "pwd": {adminPW}, "redirect-to": {"/app/user?x=1"}})
	wantCode(t, r, http.StatusSeeOther, "login")
	if loc := r.hdr.Get("Location"); loc != "/app/user?x=1" {
		t.Errorf("login redirect = %q", loc)
	}
	var sid *http.Cookie
	for _, ck := range (&http.Response{Header: r.hdr}).Cookies() {
		if ck.Name == "sid" {
			sid = ck
		}
	}
	if sid == nil || sid.Value == "" || !sid.HttpOnly || sid.SameSite != http.SameSiteLaxMode || sid.Path != "/" {
		t.Fatalf("sid cookie = %+v, want HttpOnly, SameSite=Lax, Path=/", sid)
	}
	// The desk session is the API's session.
	r = c.get("/api/method/frappe.auth.get_logged_user")
	wantCode(t, r, http.StatusOK, "API with the desk's cookie")
	wantContains(t, r, "API with the desk's cookie", `"message":"Administrator"`)
	// Logged in: /login goes to the desk.
	r = c.get("/login")
	wantCode(t, r, http.StatusSeeOther, "login page when logged in")
}

func TestLoginRedirectStaysOnSite(t *testing.T) {
	e := newEnv(t, nil, false)
	for _, target := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`, "javascript:alert(1)", "/logout"} {
		c := e.client()
		r := c.post("/login", url.Values{"usr": {"Administrator"}, "pwd": {adminPW}, "redirect-to": {target}})
		wantCode(t, r, http.StatusSeeOther, "login")
		if loc := r.hdr.Get("Location"); loc != "/app" {
			t.Errorf("redirect-to %q: Location %q, want /app", target, loc)
		}
	}
	// The target is echoed into the form escaped.
	r := e.client().get("/login?redirect-to=" + url.QueryEscape(`/app"><script>x</script>`))
	wantNotContains(t, r, "login form", "<script>x</script>")
}

func TestEveryPageRequiresLogin(t *testing.T) {
	e := newEnv(t, &fakeStream{}, false)
	e.probeDocTypes()
	c := e.client()
	for _, p := range []string{"/app", "/app/", "/app/user", "/app/user/Administrator", "/app/user/new", "/app/event-streaming",
		"/app/automation", "/app/event-streaming/dashboard", "/app/_/link?doctype=User", "/app/web-probe", "/app/event-sync-log",
		"/app/_/stream-peer?kind=consumer&name=x", "/app/no-such-doctype", "/logout"} {
		r := c.get(p)
		if p == "/logout" {
			wantCode(t, r, http.StatusSeeOther, p)
			continue
		}
		wantCode(t, r, http.StatusSeeOther, p)
		want := "/login?redirect-to=" + url.QueryEscape(p)
		if loc := r.hdr.Get("Location"); loc != want {
			t.Errorf("%s: Location %q, want %q", p, loc, want)
		}
	}
	r := c.post("/app/user/new", url.Values{"email": {"x@example.com"}})
	wantCode(t, r, http.StatusSeeOther, "POST as guest")
	if _, err := e.site.App.Get(context.Background(), app.Admin(), "User", "x@example.com"); err == nil {
		t.Error("a guest POST created a user")
	}
	// htmx requests are told where to go.
	r = c.get("/app/event-streaming/dashboard", "HX-Request", "true", "HX-Current-URL", e.base+"/app/event-streaming")
	wantCode(t, r, http.StatusUnauthorized, "htmx poll as guest")
	if got := r.hdr.Get("HX-Redirect"); got != "/login?redirect-to="+url.QueryEscape("/app/event-streaming") {
		t.Errorf("HX-Redirect = %q", got)
	}
	// A made-up session is a guest.
	c.hdr.Set("Cookie", "sid=made-up")
	wantCode(t, c.get("/app"), http.StatusSeeOther, "made-up sid")
}

func TestLogout(t *testing.T) {
	e := newEnv(t, nil, false)
	c := e.admin()
	r := c.get("/logout")
	wantCode(t, r, http.StatusOK, "logout page")
	wantContains(t, r, "logout page", `action="/logout"`)
	wantCode(t, c.get("/app"), http.StatusOK, "still logged in after GET /logout")
	r = c.post("/logout", url.Values{})
	wantCode(t, r, http.StatusSeeOther, "logout")
	wantCode(t, c.get("/app"), http.StatusSeeOther, "after logout")
	r = c.get("/login")
	wantContains(t, r, "login after logout", "You are logged out.")
}

func TestCrossOriginRequestsRefused(t *testing.T) {
	e := newEnv(t, nil, false)
	e.probeDocTypes()
	c := e.admin()
	form := url.Values{"title": {"cross"}}
	r := c.post("/app/web-probe/new", form, "Sec-Fetch-Site", "cross-site")
	wantCode(t, r, http.StatusForbidden, "cross-site POST")
	wantContains(t, r, "cross-site POST", "cross-origin")
	r = c.post("/app/web-probe/new", form, "Origin", "https://evil.example")
	wantCode(t, r, http.StatusForbidden, "foreign Origin")
	r = c.post("/logout", url.Values{}, "Sec-Fetch-Site", "cross-site")
	wantCode(t, r, http.StatusForbidden, "cross-site logout")
	r = c.post("/login", url.Values{"usr": {"Administrator"}, "pwd": {adminPW}}, "Sec-Fetch-Site", "cross-site")
	wantCode(t, r, http.StatusForbidden, "cross-site login")
	if _, err := e.site.App.Get(context.Background(), app.Admin(), "Web Probe", "cross"); err == nil {
		t.Error("a cross-site POST created a document")
	}
	// The same origin passes.
	r = c.post("/app/web-probe/new", form, "Sec-Fetch-Site", "same-origin", "Origin", e.base)
	wantCode(t, r, http.StatusSeeOther, "same-origin POST")
}

func TestPagesRender(t *testing.T) {
	e := newEnv(t, &fakeStream{}, false)
	e.probeDocTypes()
	e.insert("Web Probe", doc.Doc{"title": "First", "rows": []doc.Doc{{"item": "one"}}})
	c := e.admin()
	for _, tc := range []struct {
		path string
		code int
		want []string
	}{
		{"/app", 200, []string{"<h1>Home</h1>", `href="/app/automation"`, `href="/app/event-streaming"`, `href="/app/user"`, `href="/app/web-probe"`}},
		{"/desk", 301, nil},
		{"/app/automation", 200, []string{`href="/app/event-streaming"`, "Event Producer"}},
		{"/app/event-streaming", 200, []string{"Home", "Automation", "Event Streaming", `href="/app/event-producer"`, `href="/app/event-consumer"`,
			`href="/app/event-update-log"`, `href="/app/event-sync-log"`, `href="/app/document-type-mapping"`, `id="stream-dashboard"`}},
		{"/app/event-streaming/dashboard", 200, []string{`id="stream-dashboard"`, `hx-trigger="every 5s"`}},
		{"/app/users", 200, []string{`href="/app/user"`, `href="/app/role"`}},
		{"/app/build", 200, []string{`href="/app/doctype"`}},
		{"/app/user", 200, []string{"<h1>User</h1>", "Administrator", `href="/app/user/new"`}},
		{"/app/user/Administrator", 200, []string{`data-fieldname="email"`, "API Access", "Generate Keys", `data-fieldname="roles"`}},
		{"/app/user/new", 200, []string{"New User", `data-fieldname="first_name"`, `data-fieldname="new_password"`}},
		{"/app/role", 200, []string{"System Manager"}},
		{"/app/doctype", 200, []string{"Web Probe"}},
		{"/app/doctype/Web%20Probe", 200, []string{`data-fieldname="fields"`}},
		{"/app/web-probe", 200, []string{"First", `data-filter="status"`}},
		{"/app/web-probe/First", 200, []string{`value="one"`, `data-fieldname="rows"`}},
		{"/app/web-probe/new", 200, []string{"New Web Probe", `data-add-row`, "<template>"}},
		{"/app/event-producer", 200, []string{"Event Producer"}},
		{"/app/event-producer/new", 200, []string{`data-fieldname="producer_url"`, `data-fieldname="api_key"`, `type="password"`,
			`data-fieldname="user"`, `data-fieldname="producer_doctypes"`, `data-fieldname="ref_doctype"`, `data-fieldname="use_same_name"`,
			`data-fieldname="has_mapping"`, `data-fieldname="mapping"`, `data-fieldname="condition"`, `data-fieldname="unsubscribe"`}},
		{"/app/event-consumer", 200, []string{"Event Consumer"}},
		{"/app/event-consumer/new", 403, []string{"created by the system"}},
		{"/app/event-update-log", 200, []string{"Update Type", "Document Type", "Document Name"}},
		{"/app/event-sync-log", 200, []string{`data-filter="status"`, `data-filter="event_producer"`, `data-filter="ref_doctype"`}},
		{"/app/document-type-mapping/new", 200, []string{`data-fieldname="local_doctype"`, `data-fieldname="field_mapping"`}},
		{"/app/web-probe-row", 404, []string{"child table"}},
		{"/app/web-probe/Nope", 404, []string{"not found"}},
		{"/app/no-such-thing", 404, []string{"Not found"}},
		{"/app/_/nothing", 404, nil},
		{"/nowhere", 404, nil},
		{"/favicon.ico", 301, nil},
	} {
		r := c.get(tc.path)
		wantCode(t, r, tc.code, tc.path)
		wantContains(t, r, tc.path, tc.want...)
		if tc.code == 200 && !strings.HasSuffix(tc.path, "dashboard") {
			wantContains(t, r, tc.path, `<html lang="en">`, "/assets/desk.css?v=", "/assets/vendor/htmx/htmx.min.js?v=")
			if cc := r.hdr.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: Cache-Control %q", tc.path, cc)
			}
		}
	}
}

func TestAssets(t *testing.T) {
	e := newEnv(t, nil, false)
	c := e.client() // no login needed
	r := c.get("/login")
	for _, name := range []string{"desk.css", "desk.js", "vendor/htmx/htmx.min.js", "vendor/frappe-charts/frappe-charts.min.umd.js", "favicon.svg"} {
		i := strings.Index(r.body, "/assets/"+name+"?v=")
		if i < 0 {
			t.Fatalf("login page does not reference %s", name)
		}
		ref := r.body[i:]
		ref = ref[:strings.IndexByte(ref, '"')]
		a := c.get(ref)
		wantCode(t, a, http.StatusOK, ref)
		if !strings.Contains(a.hdr.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: Cache-Control %q", ref, a.hdr.Get("Cache-Control"))
		}
		if strings.HasSuffix(name, ".js") && !strings.HasPrefix(a.hdr.Get("Content-Type"), "text/javascript") {
			t.Errorf("%s: Content-Type %q", name, a.hdr.Get("Content-Type"))
		}
	}
	if a := c.get("/assets/desk.css"); a.hdr.Get("Cache-Control") != "no-cache" {
		t.Errorf("unversioned asset: Cache-Control %q", a.hdr.Get("Cache-Control"))
	}
	wantCode(t, c.get("/assets/nope.js"), http.StatusNotFound, "missing asset")
	wantCode(t, c.get("/assets/../web.go"), http.StatusNotFound, "asset outside static")
	wantCode(t, c.get("/assets/vendor/htmx/LICENSE"), http.StatusOK, "htmx licence")
}

func TestPermissions(t *testing.T) {
	sv := &fakeStream{ov: fakeOverview()}
	e := newEnv(t, sv, false)
	e.probeDocTypes()
	e.insert("Web Probe", doc.Doc{"title": "Private plan", "summary": "top secret summary"})
	e.addUser("plain@example.com", "plain-pw")
	e.addUser("reader@example.com", "reader-pw", "Probe Reader")
	plain := e.login("plain@example.com", "plain-pw")

	for _, p := range []string{"/app/user", "/app/user/Administrator", "/app/user/new", "/app/web-probe", "/app/web-probe/Private%20plan",
		"/app/web-probe/new", "/app/event-sync-log", "/app/event-producer/new", "/app/event-streaming/dashboard",
		"/app/_/stream-peer?kind=producer&name=" + url.QueryEscape("http://producer.example")} {
		r := plain.get(p)
		wantCode(t, r, http.StatusForbidden, p)
		wantNotContains(t, r, p, "top secret summary", "Private plan</a>", `data-fieldname="email"`, "producer.example</a>")
	}
	// POSTs are refused too, and change nothing.
	wantCode(t, plain.post("/app/web-probe/new", url.Values{"title": {"sneaky"}}), http.StatusForbidden, "create without role")
	wantCode(t, plain.post("/app/web-probe/Private%20plan", url.Values{"summary": {"changed"}}), http.StatusForbidden, "save without role")
	wantCode(t, plain.post("/app/web-probe/Private%20plan", url.Values{"_action": {"delete"}}), http.StatusForbidden, "delete without role")
	wantCode(t, plain.post("/app/user/Administrator", url.Values{"_action": {"generate_keys"}}), http.StatusForbidden, "generate keys without role")
	if d := e.get("Web Probe", "Private plan"); d.Str("summary") != "top secret summary" {
		t.Errorf("summary changed to %q", d.Str("summary"))
	}
	// Home lists nothing the user cannot open; suggestions reveal nothing.
	r := plain.get("/app")
	wantCode(t, r, http.StatusOK, "home")
	wantNotContains(t, r, "home", `href="/app/user"`, `href="/app/web-probe"`, `href="/app/event-producer"`,
		`href="/app/automation"`, `href="/app/event-streaming"`)
	r = plain.get("/app/_/link?doctype=User&txt=adm")
	wantCode(t, r, http.StatusOK, "link suggestions without permission")
	wantNotContains(t, r, "link suggestions without permission", "Administrator")
	// The streaming workspace without the role: no dashboard data.
	r = plain.get("/app/event-streaming")
	wantCode(t, r, http.StatusOK, "workspace without role")
	wantNotContains(t, r, "workspace without role", "producer.example")

	// A reader sees the document but no inputs and no Save.
	reader := e.login("reader@example.com", "reader-pw")
	r = reader.get("/app/web-probe/Private%20plan")
	wantCode(t, r, http.StatusOK, "reader form")
	wantContains(t, r, "reader form", "top secret summary")
	wantNotContains(t, r, "reader form", `data-action="save"`, ` name="summary"`, "<textarea", "data-add-row", `data-action="delete"`)
	r = reader.get("/app/web-probe")
	wantCode(t, r, http.StatusOK, "reader list")
	wantNotContains(t, r, "reader list", `href="/app/web-probe/new"`)
	wantCode(t, reader.post("/app/web-probe/Private%20plan", url.Values{"summary": {"changed"}}), http.StatusForbidden, "reader save")
	wantCode(t, reader.get("/app/web-probe/new"), http.StatusForbidden, "reader new")
}

func TestCreateAndEditThroughForms(t *testing.T) {
	e := newEnv(t, nil, false)
	e.probeDocTypes()
	e.addUser("writer@example.com", "writer-pw", "Probe Writer")
	c := e.login("writer@example.com", "writer-pw")

	form := url.Values{
		"title": {"Quarterly"}, "status": {"Closed"}, "owner_user": {"writer@example.com"}, "active": {"1"},
		"count": {"42"}, "amount": {"12.5"}, "due": {"2026-03-31"}, "at": {"2026-03-31T10:20:30"}, "clock": {"09:15:00"},
		"secret": {"s3cret"}, "phone": {"+1 555"}, "summary": {"short"}, "body": {"line 1\nline 2"}, "script": {`{"a": 1}`},
		"fixed":          {"must be ignored"},
		"rows.__present": {"1"},
		"rows.1.name":    {""}, "rows.1.item": {"apples"}, "rows.1.kind": {"B"}, "rows.1.done": {"1"}, "rows.1.qty": {"3"},
		"rows.7.name": {""}, "rows.7.item": {"pears"}, "rows.7.kind": {"A"}, "rows.7.qty": {"5"},
	}
	r := c.post("/app/web-probe/new", form)
	wantCode(t, r, http.StatusSeeOther, "create")
	if loc := r.hdr.Get("Location"); loc != "/app/web-probe/Quarterly" {
		t.Fatalf("Location %q", loc)
	}
	d := e.get("Web Probe", "Quarterly")
	for k, want := range map[string]any{"status": "Closed", "count": int64(42), "amount": 12.5, "due": "2026-03-31",
		"at": "2026-03-31 10:20:30.000000", "clock": "9:15:00", "active": int64(1), "body": "line 1\nline 2", "owner_user": "writer@example.com"} {
		if d[k] != want {
			t.Errorf("%s = %#v, want %#v", k, d[k], want)
		}
	}
	if d["fixed"] != nil && d["fixed"] != "" {
		t.Errorf("read-only field was written: %v", d["fixed"])
	}
	rows := d.Rows("rows")
	if len(rows) != 2 || rows[0].Str("item") != "apples" || rows[0].Int("done") != 1 || rows[1].Str("item") != "pears" || rows[1].Int("done") != 0 {
		t.Fatalf("rows = %v", rows)
	}

	r = c.get("/app/web-probe/Quarterly")
	wantCode(t, r, http.StatusOK, "form")
	wantContains(t, r, "form", "Saved", `value="2026-03-31T10:20:30"`, `value="09:15:00"`, `value="apples"`, "line 1\nline 2")
	if v, _ := inputValue(r.body, "secret"); v != "********" {
		t.Errorf("password shown as %q, want the mask", v)
	}
	wantNotContains(t, r, "form", "s3cret")
	r = c.get("/app/web-probe")
	wantContains(t, r, "list", `href="/app/web-probe/Quarterly"`, "Closed")

	// Edit: change fields, untick the Check, drop a row, add one, keep the password.
	form = url.Values{
		"modified": {d.Str("modified")}, "title": {"Quarterly"}, "status": {"Open"}, "owner_user": {"writer@example.com"},
		"count": {"43"}, "amount": {"12.5"}, "due": {""}, "at": {""}, "clock": {""}, "secret": {"********"}, "phone": {""},
		"summary": {"longer"}, "body": {""}, "long_body": {""}, "script": {""},
		"rows.__present": {"1"},
		"rows.2.name":    {rows[1].Name()}, "rows.2.item": {"pears!"}, "rows.2.kind": {"A"}, "rows.2.qty": {"6"},
		"rows.9.name": {""}, "rows.9.item": {"plums"}, "rows.9.kind": {"B"}, "rows.9.qty": {"1"},
	}
	r = c.post("/app/web-probe/Quarterly", form)
	wantCode(t, r, http.StatusSeeOther, "save")
	d2 := e.get("Web Probe", "Quarterly")
	if d2.Str("status") != "Open" || d2.Int("count") != 43 || d2.Int("active") != 0 || d2["due"] != nil {
		t.Errorf("after save: %v", d2)
	}
	rows2 := d2.Rows("rows")
	if len(rows2) != 2 || rows2[0].Name() != rows[1].Name() || rows2[0].Str("item") != "pears!" || rows2[1].Str("item") != "plums" || rows2[0].Int("idx") != 1 {
		t.Fatalf("rows after save = %v", rows2)
	}
	err := e.site.App.View(context.Background(), func(tx *app.Tx) error {
		got, err := tx.Password(context.Background(), "Web Probe", "Quarterly", "secret")
		if err == nil && got != "s3cret" {
			t.Errorf("password after save with the mask = %q", got)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// A stale form is refused with Frappe's message, the input kept.
	form.Set("summary", "stale edit")
	r = c.post("/app/web-probe/Quarterly", form)
	wantFormError(t, r, "TimestampMismatchError", "stale save")
	wantContains(t, r, "stale save", "modified after you have opened it", "stale edit")

	// Delete.
	r = c.post("/app/web-probe/Quarterly", url.Values{"_action": {"delete"}})
	wantCode(t, r, http.StatusSeeOther, "delete")
	if _, err := e.site.App.Get(context.Background(), app.Admin(), "Web Probe", "Quarterly"); err == nil {
		t.Error("still there after delete")
	}
	r = c.get("/app/web-probe")
	wantContains(t, r, "list after delete", "Deleted Web Probe Quarterly")
}

func TestValidationErrorsKeepInput(t *testing.T) {
	e := newEnv(t, nil, false)
	e.probeDocTypes()
	c := e.admin()

	// Mandatory field missing (and a child row without its mandatory item).
	r := c.post("/app/web-probe/new", url.Values{"title": {"Kept title"}, "summary": {"kept summary"}, "count": {"7"},
		"rows.__present": {"1"}, "rows.1.name": {""}, "rows.1.item": {""}, "rows.1.qty": {"9"}})
	wantFormError(t, r, "MandatoryError", "missing row item")
	wantContains(t, r, "missing row item", `id="form-error"`, "Value missing", "Item", "kept summary", `value="Kept title"`, `value="9"`)
	if !regexp.MustCompile(`<input[^>]*name="rows\.1\.item"[^>]*aria-invalid="true"`).MatchString(r.body) {
		t.Error("the empty row item is not marked invalid")
	}

	// Wrong type.
	r = c.post("/app/web-probe/new", url.Values{"title": {"Typed"}, "count": {"many"}})
	wantFormError(t, r, "FrappeTypeError", "bad int")
	wantContains(t, r, "bad int", "Count", "is not an integer", `value="many"`, `value="Typed"`)
	if !regexp.MustCompile(`<input[^>]*name="count"[^>]*aria-invalid="true"`).MatchString(r.body) {
		t.Error("the bad Count is not marked invalid")
	}
	r = c.post("/app/web-probe/new", url.Values{"title": {"Dated"}, "due": {"not a date"}})
	wantFormError(t, r, "FrappeTypeError", "bad date")
	wantContains(t, r, "bad date", "Due", "is not a date", `value="not a date"`, `value="Dated"`)

	// Bad Select value.
	r = c.post("/app/web-probe/new", url.Values{"title": {"Sel"}, "status": {"Maybe"}})
	wantFormError(t, r, "", "bad select")
	wantContains(t, r, "bad select", "Maybe")

	// Duplicate name: 409 with the reason.
	e.insert("Web Probe", doc.Doc{"title": "Taken"})
	r = c.post("/app/web-probe/new", url.Values{"title": {"Taken"}, "summary": {"second"}})
	wantFormError(t, r, "", "duplicate")
	wantContains(t, r, "duplicate", `id="form-error"`, "second")

	// A user without an email: the message says what is wrong, in words.
	r = c.post("/app/user/new", url.Values{"email": {"not-an-email"}, "first_name": {"Kim"}})
	wantFormError(t, r, "InvalidEmailAddressError", "bad email")
	wantContains(t, r, "bad email", "not a valid Email Address", `value="not-an-email"`, `value="Kim"`)
	if _, err := e.site.App.Get(context.Background(), app.Admin(), "Web Probe", "Kept title"); err == nil {
		t.Error("an invalid form was saved")
	}
}

func TestEscapingInEveryFieldType(t *testing.T) {
	sv := &fakeStream{ov: fakeOverview()}
	sv.ov.Producers[0].Name = `http://p.example/?a=1&b="2"` + xss
	sv.ov.Producers[0].LastError = xss
	sv.ov.Producers[0].Backfill = &webProgress{Done: 1, Total: 2, DocType: xss}
	e := newEnv(t, sv, false)
	e.probeDocTypes()
	name := `Q'&x" onmouseover="alert(1)`
	e.insert("Web Probe", doc.Doc{"title": name, "status": xss, "owner_user": "Administrator", "summary": xss, "body": xss,
		"long_body": xss, "script": xss, "fixed": xss, "phone": xss, "secret": xss,
		"rows": []doc.Doc{{"item": xss, "kind": "A", "ref": "Administrator"}}})
	// A read-only Select value and a Link value that are payloads too.
	c := e.admin()
	pages := []string{"/app/web-probe", "/app/web-probe/" + url.PathEscape(name), "/app/web-probe?title=" + url.QueryEscape(xss),
		"/app/web-probe?sort=" + url.QueryEscape(xss), "/app/" + url.PathEscape(xss), "/app/web-probe/" + url.PathEscape(xss),
		"/app/event-streaming", "/app/event-streaming/dashboard", "/app/_/link?doctype=Web+Probe&txt=Q",
		"/app/web-probe/new?summary=" + url.QueryEscape(xss) + "&title=" + url.QueryEscape(xss)}
	for _, p := range pages {
		r := c.get(p)
		if r.code >= 500 {
			t.Fatalf("%s: %d", p, r.code)
		}
		if strings.Contains(r.body, xss) || strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<b>label</b>") {
			t.Errorf("%s: unescaped payload in\n%s", p, r.body)
		}
		if strings.Contains(r.body, `x" onmouseover="`) || strings.Contains(r.body, `Q'&`) {
			t.Errorf("%s: unescaped name in\n%s", p, r.body)
		}
	}
	r := c.get("/app/web-probe/" + url.PathEscape(name))
	wantCode(t, r, http.StatusOK, "form with payloads")
	esc := html.EscapeString(xss)
	wantContains(t, r, "form with payloads", "Phone &lt;b&gt;label&lt;/b&gt;")
	if strings.Count(r.body, esc)+strings.Count(r.body, strings.ReplaceAll(esc, "&#34;", "&quot;")) < 6 {
		t.Errorf("expected the escaped payload in every text field; got\n%s", r.body)
	}
	// The name round-trips through the link the list makes.
	r = c.get("/app/web-probe")
	i := strings.Index(r.body, `href="/app/web-probe/Q`)
	if i < 0 {
		t.Fatalf("no link to the document in the list:\n%s", r.body)
	}
	href := html.UnescapeString(r.body[i+6 : i+6+strings.IndexByte(r.body[i+6:], '"')])
	wantCode(t, c.get(href), http.StatusOK, "link from the list "+href)

	// A validation error that quotes the payload, shown with the input kept.
	r = c.post("/app/web-probe/new", url.Values{"title": {"bad"}, "status": {xss + "!"}, "summary": {xss}})
	wantFormError(t, r, "", "payload in an error")
	wantNotContains(t, r, "payload in an error", xss)
	// A flash message carrying a name.
	c.post("/app/web-probe/"+url.PathEscape(name), url.Values{"_action": {"delete"}})
	r = c.get("/app/web-probe")
	wantContains(t, r, "flash", "Deleted Web Probe")
	wantNotContains(t, r, "flash", `x" onmouseover="`)
	// The login form echoes the user name escaped.
	r = e.client().post("/login", url.Values{"usr": {xss}, "pwd": {"x"}})
	wantNotContains(t, r, "login echo", xss)
}

func TestNamesWithSlashesAndURLs(t *testing.T) {
	e := newEnv(t, nil, false)
	e.probeDocTypes()
	name := "http://127.0.0.1:8000/a b/c?d=1#e"
	e.insert("Web Probe", doc.Doc{"title": name, "summary": "found me"})
	c := e.admin()
	r := c.get("/app/web-probe")
	want := `href="/app/web-probe/` + url.PathEscape(name) + `"`
	wantContains(t, r, "list link", strings.ReplaceAll(want, "&", "&amp;"))
	r = c.get("/app/web-probe/" + url.PathEscape(name))
	wantCode(t, r, http.StatusOK, "escaped name")
	wantContains(t, r, "escaped name", "found me")
	// A name typed with its slashes as they are also opens.
	r = c.get("/app/web-probe/http://127.0.0.1:8000/a%20b/c%3Fd=1%23e")
	wantCode(t, r, http.StatusOK, "raw slashes")
	wantContains(t, r, "raw slashes", "found me")
	// Saving posts back to the same name.
	d := e.get("Web Probe", name)
	r = c.post("/app/web-probe/"+url.PathEscape(name), url.Values{"modified": {d.Str("modified")}, "title": {name}, "summary": {"saved again"}})
	wantCode(t, r, http.StatusSeeOther, "save with slashes")
	if got := e.get("Web Probe", name).Str("summary"); got != "saved again" {
		t.Errorf("summary = %q", got)
	}
}

func TestListFiltersSortingPaging(t *testing.T) {
	e := newEnv(t, nil, false)
	e.probeDocTypes()
	for i := range 45 {
		st := "Open"
		if i%3 == 0 {
			st = "Closed"
		}
		e.insert("Web Probe", doc.Doc{"title": "Item " + string(rune('A'+i/26)) + string(rune('a'+i%26)), "status": st, "count": int64(i), "active": int64(i % 2)})
	}
	c := e.admin()
	r := c.get("/app/web-probe")
	wantContains(t, r, "first page", "1–20 of 45", `rel="next"`)
	wantNotContains(t, r, "first page", `rel="prev"`)
	r = c.get("/app/web-probe?start=40")
	wantContains(t, r, "last page", "41–45 of 45", `rel="prev"`)
	wantNotContains(t, r, "last page", `rel="next"`)
	r = c.get("/app/web-probe?page_length=100")
	wantContains(t, r, "page length", "1–45 of 45")
	r = c.get("/app/web-probe?status=Closed")
	wantContains(t, r, "filtered", "1–15 of 15", "Clear")
	wantNotContains(t, r, "filtered", `<span class="pill orange">Open</span>`)
	r = c.get("/app/web-probe?active=Yes&status=Closed")
	wantContains(t, r, "two filters", "of 7")
	r = c.get("/app/web-probe?name=Ab")
	wantContains(t, r, "name contains", "1–1 of 1", "Item Ab")
	r = c.get("/app/web-probe?name=item+b")
	wantContains(t, r, "ID contains (any case)", "of 19")
	r = c.get("/app/web-probe?sort=name&order=asc")
	if i, j := strings.Index(r.body, "Item Aa"), strings.Index(r.body, "Item Ab"); i < 0 || j < 0 || i > j {
		t.Error("sort by title ascending: Item Aa should come before Item Ab")
	}
	wantContains(t, r, "sorted", `aria-sort="ascending"`)
	r = c.get("/app/web-probe?sort=name&order=desc")
	if i, j := strings.Index(r.body, "Item Bs"), strings.Index(r.body, "Item Br"); i < 0 || j < 0 || i > j {
		t.Error("sort by title descending: Item Bs should come before Item Br")
	}
	// Unknown sort fields and bad paging fall back to defaults.
	wantCode(t, c.get("/app/web-probe?sort=password&order=sideways&start=-5&page_length=7"), http.StatusOK, "bad list params")
}

func TestLinkSuggestions(t *testing.T) {
	e := newEnv(t, nil, false)
	e.probeDocTypes()
	e.addUser("alice@example.com", "x")
	e.addUser("bob@example.com", "x")
	c := e.admin()
	r := c.get("/app/_/link?doctype=User&txt=ali")
	wantCode(t, r, http.StatusOK, "suggestions")
	wantContains(t, r, "suggestions", `<option value="alice@example.com">`)
	wantNotContains(t, r, "suggestions", "bob@example.com", "<html")
	r = c.get("/app/_/link?doctype=DocType&txt=web&for=" + url.QueryEscape("Event Producer Document Type.ref_doctype"))
	wantContains(t, r, "doctype suggestions", `value="Web Probe"`)
	wantNotContains(t, r, "doctype suggestions", "Web Probe Row")
	r = c.get("/app/_/link?doctype=Nope&txt=x")
	wantCode(t, r, http.StatusOK, "unknown doctype")
	// The form wires inputs to the endpoint.
	r = c.get("/app/web-probe/new")
	wantContains(t, r, "link input", `list="dl-f-owner_user"`, `data-suggest="/app/_/link?doctype=User"`, `<datalist id="dl-f-owner_user">`)
}

func TestGenerateKeys(t *testing.T) {
	e := newEnv(t, nil, false)
	e.addUser("sync@example.com", "sync-pw", "System Manager")
	e.addUser("plain@example.com", "plain-pw")
	c := e.admin()
	r := c.get("/app/user/sync@example.com")
	wantContains(t, r, "user form", "API Access", `form="gen-keys-form"`, `id="gen-keys-form"`, "Not generated yet")

	// htmx: the API Access box alone, with the secret once.
	r = c.post("/app/user/sync@example.com", url.Values{"_action": {"generate_keys"}}, "HX-Request", "true")
	wantCode(t, r, http.StatusOK, "generate keys (htmx)")
	wantNotContains(t, r, "generate keys (htmx)", "<html")
	wantContains(t, r, "generate keys (htmx)", `id="api-access"`, "shown only this once", `data-copy="#api-secret-value"`)
	sec := secretFrom(t, r.body)
	key := e.get("User", "sync@example.com").Str("api_key")
	if key == "" || !strings.Contains(r.body, key) {
		t.Fatalf("API key %q not shown", key)
	}
	// The keys work against the API.
	api := e.client()
	api.hdr.Set("Authorization", "token "+key+":"+sec)
	r = api.get("/api/method/frappe.auth.get_logged_user")
	wantContains(t, r, "token auth with the new keys", "sync@example.com")

	// Afterwards the form shows the key, never the secret.
	r = c.get("/app/user/sync@example.com")
	wantContains(t, r, "user form after", key, "It is not shown again", "hx-confirm")
	wantNotContains(t, r, "user form after", sec)

	// Without htmx: the whole form with the secret.
	r = c.post("/app/user/sync@example.com", url.Values{"_action": {"generate_keys"}})
	wantCode(t, r, http.StatusOK, "generate keys (form post)")
	wantContains(t, r, "generate keys (form post)", "<html", `data-fieldname="email"`)
	if sec2 := secretFrom(t, r.body); sec2 == sec {
		t.Error("the secret did not change")
	}

	// Only System Managers may generate keys.
	p := e.login("plain@example.com", "plain-pw")
	wantCode(t, p.post("/app/user/plain@example.com", url.Values{"_action": {"generate_keys"}}), http.StatusForbidden, "own keys without System Manager")
}
