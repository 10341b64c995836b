package web_test

// Browser tests: Debian's chromium driven by chromedp (pinned at v0.16.0, the
// classic API). One browser serves the whole test binary; each test opens
// its own tab. They skip when chromium is missing or with -short.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/web"
)

var appAdmin = app.Admin()

var shared struct {
	once   sync.Once
	ctx    context.Context // the browser (allocator + first tab)
	cancel func()
	err    error
	path   string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

// chromiumPath finds Debian's chromium (DOCSTREAM_CHROMIUM overrides).
func chromiumPath() string {
	if p := os.Getenv("DOCSTREAM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserTab opens a new tab in the shared browser. Console errors and
// uncaught exceptions in it fail the test.
func browserTab(t *testing.T) (context.Context, *tab) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	shared.once.Do(func() {
		shared.path = chromiumPath()
		if shared.path == "" {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(shared.path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Headless,
			chromedp.WindowSize(1366, 900),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
		)
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		shared.err = chromedp.Run(bctx) // start the browser
		shared.ctx = bctx
		shared.cancel = func() { bcancel(); acancel() }
	})
	if shared.path == "" {
		t.Skip("chromium not found (install it with `apt-get install -y chromium`, or set DOCSTREAM_CHROMIUM): browser test skipped")
	}
	if shared.err != nil {
		t.Fatalf("start chromium %s: %v", shared.path, shared.err)
	}
	ctx, cancel := chromedp.NewContext(shared.ctx)
	tb := &tab{t: t, dir: screenshotDir(t)}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			tb.problem("uncaught exception: " + e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				tb.problem("console." + string(e.Type) + ": " + strings.Join(parts, " "))
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError && !tb.expected(e.Entry.URL) {
				tb.problem("console error: " + e.Entry.Text + " " + e.Entry.URL)
			}
		}
	})
	// The first Run opens the tab; it must get the tab's own context, since
	// cancelling the context of the first Run closes the tab.
	if err := chromedp.Run(ctx); err != nil {
		cancel()
		t.Fatalf("open a tab: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, p := range tb.problems {
			t.Errorf("browser: %s", p)
		}
	})
	return ctx, tb
}

// tab collects a tab's console problems and names its screenshots.
type tab struct {
	t        *testing.T
	dir      string
	n        int
	mu       sync.Mutex
	problems []string
	allowed  []string // URLs whose error status is expected (a refused login)
}

func (tb *tab) problem(s string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.problems = append(tb.problems, s)
}

func (tb *tab) expect(url string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.allowed = append(tb.allowed, url)
}

func (tb *tab) expected(url string) bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, a := range tb.allowed {
		if strings.HasPrefix(url, a) {
			return true
		}
	}
	return false
}

func screenshotDir(t *testing.T) string {
	if d := os.Getenv("DOCSTREAM_SCREENSHOTS"); d != "" {
		d = filepath.Join(d, t.Name())
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func failDir(t *testing.T) string {
	if d := os.Getenv("DOCSTREAM_SCREENSHOTS"); d != "" {
		return filepath.Join(d, t.Name())
	}
	return os.TempDir()
}

// shot saves a PNG of the whole page at the current step, once the page
// has loaded and its script has run (a capture asked for while a new page
// is still loading can wait for a frame that never comes). The viewport is
// stretched to the page for the capture. A screenshot is a record, not an
// assertion: one that does not come within a few seconds is skipped.
func (tb *tab) shot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 8*time.Second)
		defer cancel()
		skip := func(err error) error {
			tb.t.Logf("screenshot %s skipped: %v", name, err)
			return nil
		}
		if err := deskReady.Do(ctx); err != nil {
			return skip(err)
		}
		_, _, _, _, _, content, err := page.GetLayoutMetrics().Do(ctx)
		if err != nil {
			return skip(err)
		}
		h := int64(900)
		if content != nil && content.Height > 900 {
			h = min(int64(content.Height+0.5), 4000)
		}
		if err := emulation.SetDeviceMetricsOverride(1366, h, 1, false).Do(ctx); err != nil {
			return skip(err)
		}
		defer emulation.ClearDeviceMetricsOverride().Do(ctx) //nolint:errcheck // best effort
		buf, err := page.CaptureScreenshot().WithFormat(page.CaptureScreenshotFormatPng).WithFromSurface(true).Do(ctx)
		if err != nil {
			return skip(err)
		}
		tb.n++
		return os.WriteFile(filepath.Join(tb.dir, fmt.Sprintf("%02d-%s.png", tb.n, name)), buf, 0o644)
	})
}

// deskReady waits until the page's script has set up its controls (grids,
// copy buttons, charts): a click before that would be lost.
var deskReady = chromedp.WaitReady(`html[data-desk-ready]`)

func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var err error
	for i, a := range actions {
		start := time.Now()
		if err = chromedp.Run(sctx, a); err != nil {
			t.Logf("%s: action %d (%T) failed after %v", step, i, a, time.Since(start))
			break
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Logf("%s: action %d (%T) took %v", step, i, a, d)
		}
	}
	if err != nil {
		var buf []byte
		var loc string
		fctx, fcancel := context.WithTimeout(ctx, 10*time.Second)
		defer fcancel()
		if chromedp.Run(fctx, chromedp.Location(&loc), chromedp.CaptureScreenshot(&buf)) == nil {
			p := filepath.Join(failDir(t), "FAILED-"+strings.ReplaceAll(step, " ", "-")+".png")
			_ = os.WriteFile(p, buf, 0o644)
			t.Logf("screenshot of the failure: %s (at %s)", p, loc)
		}
		t.Fatalf("%s: %v", step, err)
	}
}

// customerDocTypes are the DocTypes of the browser test: a customer with a
// contacts table, as an ERP site would have.
func customerDocTypes(e *env) {
	e.t.Helper()
	for _, js := range []string{
		`{"name": "Customer Contact", "module": "Selling", "istable": 1, "fields": [
			{"fieldname": "contact_name", "label": "Contact Name", "fieldtype": "Data", "reqd": 1, "in_list_view": 1},
			{"fieldname": "role", "label": "Role", "fieldtype": "Select", "options": "Buyer\nAccounts\nOwner", "in_list_view": 1},
			{"fieldname": "email", "label": "Email", "fieldtype": "Data", "in_list_view": 1},
			{"fieldname": "is_primary", "label": "Primary", "fieldtype": "Check", "in_list_view": 1}]}`,
		`{"name": "Customer", "module": "Selling", "autoname": "field:customer_name", "title_field": "customer_name", "fields": [
			{"fieldname": "customer_name", "label": "Customer Name", "fieldtype": "Data", "reqd": 1, "in_list_view": 1},
			{"fieldname": "customer_group", "label": "Customer Group", "fieldtype": "Select", "options": "Commercial\nIndividual\nGovernment", "in_list_view": 1},
			{"fieldname": "territory", "label": "Territory", "fieldtype": "Data", "in_list_view": 1},
			{"fieldname": "account_manager", "label": "Account Manager", "fieldtype": "Link", "options": "User"},
			{"fieldname": "cb1", "fieldtype": "Column Break"},
			{"fieldname": "credit_limit", "label": "Credit Limit", "fieldtype": "Currency", "in_list_view": 1},
			{"fieldname": "customer_since", "label": "Customer Since", "fieldtype": "Date"},
			{"fieldname": "disabled", "label": "Disabled", "fieldtype": "Check"},
			{"fieldname": "contacts_section", "label": "Contacts", "fieldtype": "Section Break"},
			{"fieldname": "contacts", "label": "Contacts", "fieldtype": "Table", "options": "Customer Contact"},
			{"fieldname": "notes_section", "label": "Notes", "fieldtype": "Section Break"},
			{"fieldname": "notes", "label": "Notes", "fieldtype": "Small Text"}],
		 "permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]}`,
	} {
		d, err := doc.FromJSON([]byte(js))
		if err != nil {
			e.t.Fatal(err)
		}
		e.insert("DocType", d)
	}
	for _, c := range []doc.Doc{
		{"customer_name": "Acme Industries", "customer_group": "Commercial", "territory": "Germany", "credit_limit": 50000.0},
		{"customer_name": "Globex Corporation", "customer_group": "Commercial", "territory": "United States", "credit_limit": 120000.0},
		{"customer_name": "City of Lyon", "customer_group": "Government", "territory": "France", "credit_limit": 0.0, "disabled": int64(1)},
	} {
		e.insert("Customer", c)
	}
}

// TestBrowserDesk logs in with the keyboard, opens a list, creates a
// document through the form (with a child row), finds it in the list, edits
// and saves it, generates API keys on a User form and watches the streaming
// dashboard update.
func TestBrowserDesk(t *testing.T) {
	ctx, tb := browserTab(t)
	sv := &fakeStream{ov: fakeOverview()}
	e := newEnv(t, sv, false)
	customerDocTypes(e)
	e.addUser("sync@example.com", "sync-pw", "System Manager")
	base := e.base

	// 1. Every page asks for a login first; a wrong password says so.
	tb.expect(base + "/login")
	var loc, msg string
	run(t, ctx, "login page",
		chromedp.Navigate(base+"/app/customer"),
		chromedp.WaitVisible(`#login-usr`),
		chromedp.Location(&loc),
		tb.shot("login"))
	if !strings.Contains(loc, "/login?redirect-to=%2Fapp%2Fcustomer") {
		t.Fatalf("not sent to the login page: %s", loc)
	}
	run(t, ctx, "wrong password",
		chromedp.SendKeys(`#login-usr`, "Administrator"),
		chromedp.SendKeys(`#login-pwd`, "not-the-password"+kb.Enter),
		chromedp.WaitVisible(`#login-error`),
		chromedp.Text(`#login-error`, &msg),
		tb.shot("login-failed"))
	if !strings.Contains(msg, "Incorrect user or password") {
		t.Fatalf("login error = %q", msg)
	}

	// 2. Keyboard only: the user name is kept; type the password, Enter.
	run(t, ctx, "login",
		chromedp.Focus(`#login-pwd`),
		chromedp.KeyEvent(adminPW),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`table.list`),
		chromedp.Location(&loc),
		tb.shot("customer-list"))
	if !strings.HasSuffix(loc, "/app/customer") {
		t.Fatalf("after login at %s, want the page asked for", loc)
	}

	// 3. New customer through the form, with a contact row.
	run(t, ctx, "new customer",
		chromedp.Click(`[data-action="new"]`),
		chromedp.WaitVisible(`[data-fieldname="customer_name"]`),
		deskReady,
		chromedp.SendKeys(`[data-fieldname="customer_name"]`, "Initech GmbH"),
		chromedp.SetValue(`select[data-fieldname="customer_group"]`, "Commercial"),
		chromedp.SendKeys(`[data-fieldname="territory"]`, "Austria"),
		chromedp.SendKeys(`[data-fieldname="account_manager"]`, "sync"),
		chromedp.WaitReady(`#dl-f-account_manager option[value="sync@example.com"]`),
		// The suggestion is there; take it (as picking it from the list does).
		chromedp.SetValue(`[data-fieldname="account_manager"]`, "sync@example.com"),
		chromedp.SendKeys(`[data-fieldname="credit_limit"]`, "75000"),
		chromedp.SetValue(`[data-fieldname="customer_since"]`, "2024-05-01"),
		chromedp.Click(`[data-fieldname="contacts"] [data-add-row]`),
		chromedp.WaitVisible(`[data-fieldname="contacts"] tbody tr [data-fieldname="contact_name"]`),
		chromedp.SendKeys(`[data-fieldname="contacts"] tbody tr [data-fieldname="contact_name"]`, "Bill Lumbergh"),
		chromedp.SetValue(`[data-fieldname="contacts"] tbody tr select[data-fieldname="role"]`, "Owner"),
		chromedp.SendKeys(`[data-fieldname="contacts"] tbody tr [data-fieldname="email"]`, "bill@initech.example"),
		chromedp.Click(`[data-fieldname="contacts"] tbody tr [data-fieldname="is_primary"]`),
		chromedp.Click(`[data-fieldname="contacts"] [data-add-row]`),
		chromedp.SendKeys(`[data-fieldname="contacts"] tbody tr:nth-child(2) [data-fieldname="contact_name"]`, "Milton Waddams"),
		chromedp.SendKeys(`[data-fieldname="notes"]`, "Prefers invoices by post."),
		chromedp.ScrollIntoView(`.page-head`),
		tb.shot("new-customer"),
		// A row added by mistake is removed again.
		chromedp.Click(`[data-fieldname="contacts"] tbody tr:nth-child(2) [data-remove-row]`),
		chromedp.Click(`[data-action="save"]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &msg),
		chromedp.Location(&loc),
		tb.shot("customer-saved"))
	if !strings.Contains(msg, "Saved") || !strings.HasSuffix(loc, "/app/customer/Initech%20GmbH") {
		t.Fatalf("after save: %q at %s", msg, loc)
	}
	d := e.get("Customer", "Initech GmbH")
	if d.Str("account_manager") != "sync@example.com" || d["credit_limit"] != 75000.0 || d.Str("customer_since") != "2024-05-01" ||
		len(d.Rows("contacts")) != 1 || d.Rows("contacts")[0].Int("is_primary") != 1 {
		t.Fatalf("saved customer = %v", d)
	}

	// 4. It is in the list.
	var listText string
	run(t, ctx, "list",
		chromedp.Click(`.crumbs li:nth-last-child(2) a`),
		chromedp.WaitVisible(`table.list`),
		chromedp.Text(`table.list`, &listText))
	if !strings.Contains(listText, "Initech GmbH") {
		t.Fatalf("list lacks the new customer: %q", listText)
	}

	// 5. Edit: a validation error is shown in words and the input is kept;
	// then the fixed form saves.
	var group, limit string
	run(t, ctx, "edit with an error",
		chromedp.Click(`tr[data-name="Initech GmbH"] a`),
		chromedp.WaitVisible(`[data-fieldname="credit_limit"]`),
		chromedp.Clear(`[data-fieldname="customer_name"]`),
		chromedp.SetValue(`select[data-fieldname="customer_group"]`, "Government"),
		chromedp.SetValue(`[data-fieldname="credit_limit"]`, "80000"),
		chromedp.Click(`[data-action="save"]`),
		chromedp.WaitVisible(`#form-error`),
		chromedp.Text(`#form-error`, &msg),
		chromedp.Value(`select[data-fieldname="customer_group"]`, &group),
		chromedp.Value(`[data-fieldname="credit_limit"]`, &limit),
		tb.shot("validation-error"))
	if !strings.Contains(msg, "Customer Name") || group != "Government" || limit != "80000" {
		t.Fatalf("error %q, kept group %q and limit %q", msg, group, limit)
	}
	if d := e.get("Customer", "Initech GmbH"); d.Str("customer_group") != "Commercial" {
		t.Fatalf("a refused save changed the customer: %v", d)
	}
	run(t, ctx, "save edit",
		chromedp.SendKeys(`[data-fieldname="customer_name"]`, "Initech GmbH"),
		chromedp.Click(`[data-action="save"]`),
		chromedp.WaitVisible(`.flash`),
		tb.shot("customer-edited"))
	if d := e.get("Customer", "Initech GmbH"); d["credit_limit"] != 80000.0 || d.Str("customer_group") != "Government" {
		t.Fatalf("after edit: %v", d)
	}

	// 6. User > API Access > Generate Keys: the secret once, with Copy.
	var secret, key string
	run(t, ctx, "generate keys",
		chromedp.Navigate(base+"/app/user/sync@example.com"),
		chromedp.WaitVisible(`#api-access`),
		deskReady,
		chromedp.Click(`[data-action="generate_keys"]`),
		chromedp.WaitVisible(`#api-secret-value`),
		chromedp.Value(`#api-secret-value`, &secret),
		chromedp.Text(`[data-fieldname="api_key"]`, &key),
		chromedp.Click(`[data-copy]`),
		chromedp.ScrollIntoView(`#api-access`),
		tb.shot("generate-keys"))
	if len(secret) < 10 || key != e.get("User", "sync@example.com").Str("api_key") {
		t.Fatalf("secret %q, key %q", secret, key)
	}

	// 7. A failed sync: the list filtered by status, the error, Resync.
	sv.status = "Synced"
	failed := e.insert("Event Sync Log", doc.Doc{"update_type": "Update", "ref_doctype": "Customer", "docname": "Acme Industries",
		"producer_doc": "Acme Industries", "status": "Failed", "event_producer": "http://producer.example",
		"data":  `{"changed": {"credit_limit": 65000.0, "territory": "Austria"}, "added": {}, "removed": {}, "row_changed": {}}`,
		"error": "LinkValidationError: Could not find Account Manager: kim@producer.example"})
	e.insert("Event Sync Log", doc.Doc{"update_type": "Create", "ref_doctype": "Customer", "docname": "Globex Corporation",
		"status": "Synced", "event_producer": "http://producer.example", "data": `{"customer_name": "Globex Corporation"}`})
	run(t, ctx, "sync log",
		chromedp.Navigate(base+"/app/event-sync-log"),
		chromedp.WaitVisible(`select[data-filter="status"]`),
		chromedp.SetValue(`select[data-filter="status"]`, "Failed"),
		chromedp.Submit(`select[data-filter="status"]`),
		chromedp.WaitVisible(`[data-action="resync_all"]`),
		tb.shot("sync-log-failed"),
		chromedp.Click(`tr[data-name="`+failed.Name()+`"] a`),
		chromedp.WaitVisible(`#sync-error`),
		tb.shot("sync-log-entry"),
		chromedp.Click(`[data-action="resync"]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &msg))
	if !strings.Contains(msg, "Synced") || len(sv.resynced) != 1 || sv.resynced[0] != failed.Name() {
		t.Fatalf("resync: flash %q, calls %v", msg, sv.resynced)
	}

	// 8. The streaming dashboard draws its charts and follows the stream.
	var state string
	run(t, ctx, "dashboard",
		chromedp.Navigate(base+"/app/event-streaming"),
		deskReady,
		chromedp.WaitVisible(`#chart-producer-0-events svg`),
		chromedp.WaitVisible(`#chart-consumer-0-failures svg`),
		chromedp.Sleep(500*time.Millisecond), // the charts draw their data just after they appear
		tb.shot("dashboard"))
	sv.mu.Lock()
	sv.ov.Producers[0].State = web.StateConnected
	sv.ov.Producers[0].LagEvents = 0
	sv.mu.Unlock()
	run(t, ctx, "dashboard refresh",
		chromedp.Evaluate(`htmx.ajax('GET', '/app/event-streaming/dashboard', {target: '#stream-dashboard', swap: 'outerHTML'}); 0`, nil),
		chromedp.WaitVisible(`[data-peer="http://producer.example"] .pill.green`),
		chromedp.WaitVisible(`#chart-producer-0-events svg`),
		chromedp.Text(`[data-peer="http://producer.example"] [data-peer-state]`, &state))
	if state != "Connected" {
		t.Fatalf("dashboard state after refresh = %q", state)
	}
}

// TestBrowserStreaming follows the Event Streaming guide in the browser on
// two real sites: keys on both, the Event Producer created on the consumer,
// the Event Consumer approved on the producer, a document created on the
// producer's form that shows up in the consumer's list, the update log; then
// a sync that breaks, shows as Failed (list, entry, dashboard) and is
// repaired with Resync.
// The producer is browsed as localhost and the consumer as 127.0.0.1, so
// the two sites keep separate session cookies.
func TestBrowserStreaming(t *testing.T) {
	ctx, tb := browserTab(t)
	prod, cons := streamingPair(t)
	pBase := strings.Replace(prod.site.URL, "127.0.0.1", "localhost", 1)
	cBase := cons.site.URL

	login := func(base string) chromedp.Action {
		return chromedp.Tasks{
			chromedp.Navigate(base + "/login"),
			chromedp.WaitVisible(`#login-usr`),
			chromedp.SendKeys(`#login-usr`, "Administrator"),
			chromedp.SendKeys(`#login-pwd`, adminPW+kb.Enter),
			chromedp.WaitVisible(`.sidebar`),
		}
	}
	var pKey, pSecret, msg string
	run(t, ctx, "keys on the producer",
		login(pBase),
		chromedp.Navigate(pBase+"/app/user/sync@example.com"),
		deskReady,
		chromedp.Click(`[data-action="generate_keys"]`),
		chromedp.WaitVisible(`#api-secret-value`),
		chromedp.Value(`#api-secret-value`, &pSecret),
		chromedp.Text(`[data-fieldname="api_key"]`, &pKey))
	run(t, ctx, "keys on the consumer",
		login(cBase),
		chromedp.Navigate(cBase+"/app/user/sync@example.com"),
		deskReady,
		chromedp.Click(`[data-action="generate_keys"]`),
		chromedp.WaitVisible(`#api-secret-value`))

	// Home > Automation > Event Streaming > Event Producer > New.
	run(t, ctx, "new Event Producer",
		chromedp.Navigate(cBase+"/app"),
		chromedp.Click(`.sidebar a[href="/app/automation"]`),
		chromedp.WaitVisible(`main a[href="/app/event-streaming"]`),
		chromedp.Click(`main a[href="/app/event-streaming"]`),
		chromedp.WaitVisible(`main a[href="/app/event-producer"]`),
		chromedp.Click(`main a[href="/app/event-producer"]`),
		chromedp.WaitVisible(`[data-action="new"]`),
		chromedp.Click(`[data-action="new"]`),
		chromedp.WaitVisible(`[data-fieldname="producer_url"]`),
		deskReady,
		chromedp.SendKeys(`[data-fieldname="producer_url"]`, prod.site.URL),
		chromedp.Click(`[data-fieldname="producer_doctypes"] [data-add-row]`),
		chromedp.SendKeys(`[data-fieldname="producer_doctypes"] tbody tr [data-fieldname="ref_doctype"]`, "Web"),
		chromedp.WaitReady(`[data-fieldname="producer_doctypes"] tbody tr datalist option[value="Web Note"]`),
		chromedp.SetValue(`[data-fieldname="producer_doctypes"] tbody tr [data-fieldname="ref_doctype"]`, "Web Note"),
		chromedp.Click(`[data-fieldname="producer_doctypes"] tbody tr [data-fieldname="use_same_name"]`),
		chromedp.Click(`[data-fieldname="producer_doctypes"] tbody tr [data-toggle-row]`),
		chromedp.WaitVisible(`[data-fieldname="producer_doctypes"] tbody tr.row-detail [data-fieldname="condition"]`),
		chromedp.SendKeys(`[data-fieldname="user"]`, "sync@example.com"),
		chromedp.SendKeys(`[data-fieldname="api_key"]`, pKey),
		chromedp.SendKeys(`[data-fieldname="api_secret"]`, pSecret),
		tb.shot("event-producer-new"),
		chromedp.Click(`[data-action="save"]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &msg),
		tb.shot("event-producer-registered"))
	if !strings.Contains(msg, "Registered with the producer") {
		t.Fatalf("after saving the Event Producer: %q", msg)
	}

	// On the producer: approve the consumer's Document Type.
	var status string
	run(t, ctx, "approve",
		chromedp.Navigate(pBase+"/app/event-consumer"),
		chromedp.WaitVisible(`table.list tbody tr a`),
		chromedp.Click(`table.list tbody tr a`),
		chromedp.WaitVisible(`select[data-fieldname="status"]`),
		chromedp.SetValue(`select[data-fieldname="status"]`, "Approved"),
		chromedp.Click(`[data-action="save"]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Value(`select[data-fieldname="status"]`, &status),
		tb.shot("event-consumer-approved"))
	if status != "Approved" {
		t.Fatalf("status after approval: %q", status)
	}
	if st := cons.get("Event Producer", prod.site.URL).Rows("producer_doctypes")[0].Str("status"); st != "Approved" {
		t.Fatalf("the consumer's subscription is %q after approval", st)
	}

	// A note written on the producer reaches the consumer's list.
	run(t, ctx, "note on the producer",
		chromedp.Navigate(pBase+"/app/web-note/new"),
		chromedp.WaitVisible(`[data-fieldname="title"]`),
		chromedp.SendKeys(`[data-fieldname="title"]`, "Price list 2026"),
		chromedp.SetValue(`select[data-fieldname="priority"]`, "High"),
		chromedp.SendKeys(`[data-fieldname="body"]`, "New prices apply from March."),
		chromedp.Click(`[data-action="save"]`),
		chromedp.WaitVisible(`.flash`))
	waitFor(t, "the note on the consumer", func() bool {
		_, err := cons.site.App.Get(context.Background(), appAdmin, "Web Note", "Price list 2026")
		return err == nil
	})
	var list string
	run(t, ctx, "consumer list",
		chromedp.Navigate(cBase+"/app/web-note"),
		chromedp.WaitVisible(`table.list`),
		chromedp.Text(`table.list`, &list),
		tb.shot("consumer-list"))
	if !strings.Contains(list, "Price list 2026") {
		t.Fatalf("consumer list: %q", list)
	}

	// An edit on the producer: the Event Update Log shows the change readably.
	run(t, ctx, "edit on the producer",
		chromedp.Navigate(pBase+"/app/web-note/Price%20list%202026"),
		chromedp.WaitVisible(`select[data-fieldname="priority"]`),
		chromedp.SetValue(`select[data-fieldname="priority"]`, "Medium"),
		chromedp.Click(`[data-action="save"]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Navigate(pBase+"/app/event-update-log"),
		chromedp.WaitVisible(`table.list tbody tr a`),
		chromedp.Click(`table.list tbody tr:first-child a`),
		chromedp.WaitVisible(`.diff`),
		chromedp.Text(`.diff`, &msg),
		tb.shot("update-log-diff"))
	if !strings.Contains(msg, "Changed fields") || !strings.Contains(msg, "Medium") {
		t.Fatalf("update log entry: %q", msg)
	}

	// Break a sync on the consumer (a field it requires and the producer
	// lacks), watch it fail, repair the cause and press Resync.
	cons.insert("Custom Field", doc.Doc{"dt": "Web Note", "fieldname": "region", "label": "Region", "fieldtype": "Data", "reqd": int64(1)})
	prod.insert("Web Note", doc.Doc{"title": "Needs a region", "priority": "Low"})
	var failed string
	waitFor(t, "a Failed Event Sync Log on the consumer", func() bool {
		rows, err := cons.site.App.List(context.Background(), appAdmin, app.ListArgs{DocType: "Event Sync Log",
			Filters: []any{[]any{"status", "=", "Failed"}}, Fields: []any{"name"}})
		if err == nil && len(rows) > 0 {
			failed = rows[0].Name()
		}
		return failed != ""
	})
	entry := cBase + "/app/event-sync-log/" + failed
	run(t, ctx, "failed sync",
		chromedp.Navigate(cBase+"/app/event-sync-log?status=Failed"),
		chromedp.WaitVisible(`tr[data-name="`+failed+`"]`),
		tb.shot("sync-log-failed"),
		chromedp.Click(`tr[data-name="`+failed+`"] a`),
		chromedp.WaitVisible(`#sync-error`),
		chromedp.Text(`#sync-error`, &msg),
		tb.shot("sync-log-failed-entry"))
	if !strings.Contains(msg, "Region") {
		t.Fatalf("the failed entry says %q", msg)
	}
	var peerState string
	run(t, ctx, "dashboard while failing", chromedp.Navigate(cBase+"/app/event-streaming"), chromedp.WaitVisible(`[data-peer] .chart svg`),
		chromedp.Text(`[data-peer] [data-peer-state]`, &peerState), chromedp.Sleep(500*time.Millisecond), tb.shot("dashboard-failing"))
	if peerState != "Failing" {
		t.Errorf("dashboard state with a failed event = %q, want Failing", peerState)
	}
	if err := cons.site.App.Delete(context.Background(), appAdmin, "Custom Field", "Web Note-region", app.Opts{}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "resync",
		chromedp.Navigate(entry),
		chromedp.WaitVisible(`[data-action="resync"]`),
		chromedp.Click(`[data-action="resync"]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.Text(`.flash`, &msg),
		tb.shot("resynced"))
	if !strings.Contains(msg, "Synced") {
		t.Fatalf("after Resync: %q", msg)
	}
	cons.get("Web Note", "Needs a region")

	// The dashboard is back to normal.
	run(t, ctx, "dashboard", chromedp.Navigate(cBase+"/app/event-streaming"), chromedp.WaitVisible(`[data-peer] .chart svg`),
		chromedp.Text(`[data-peer] [data-peer-state]`, &peerState), chromedp.Sleep(500*time.Millisecond), tb.shot("dashboard-live"))
	if peerState != "Connected" {
		t.Errorf("dashboard state after Resync = %q, want Connected", peerState)
	}
}
