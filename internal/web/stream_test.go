package web_test

import (
	"encoding/json"
	"errors"
	"html"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/site"
	"docstream/internal/web"
)

type webProgress = web.Progress

// fakeOverview is one producer that is lagging with a backfill running and
// one consumer that is failing.
func fakeOverview() web.Overview {
	now := time.Now()
	var ev, fail []web.Point
	for i := range 60 {
		// A working day's rhythm: a slow wave with some jitter, a few failures.
		v := 22 + 12*math.Sin(float64(i)/7) + float64((i*37)%11)
		ev = append(ev, web.Point{T: now.Add(-time.Duration(59-i) * time.Minute), V: math.Round(v)})
		if i%13 == 5 || i == 52 {
			fail = append(fail, web.Point{T: now.Add(-time.Duration(59-i) * time.Minute), V: float64(1 + i%3)})
		}
	}
	return web.Overview{
		Producers: []web.PeerStatus{{Name: "http://producer.example", State: web.StateLagging, LagEvents: 1234, LagSeconds: 75,
			EventsPerMinute: ev, FailuresPerMinute: fail, Backfill: &web.Progress{Done: 30, Total: 120, DocType: "Customer"}}},
		Consumers: []web.PeerStatus{{Name: "http://consumer.example/", State: web.StateFailing, LagEvents: 5, LagSeconds: 3.5,
			EventsPerMinute: ev[:10], LastError: "connection refused"}},
	}
}

func TestDashboard(t *testing.T) {
	t.Run("not enabled", func(t *testing.T) {
		e := newEnv(t, nil, false)
		c := e.admin()
		for _, p := range []string{"/app/event-streaming", "/app/event-streaming/dashboard"} {
			r := c.get(p)
			wantCode(t, r, http.StatusOK, p)
			wantContains(t, r, p, "Event Streaming is not enabled")
			wantNotContains(t, r, p, "hx-trigger")
		}
	})
	t.Run("peers", func(t *testing.T) {
		sv := &fakeStream{ov: fakeOverview()}
		e := newEnv(t, sv, false)
		c := e.admin()
		r := c.get("/app/event-streaming")
		wantCode(t, r, http.StatusOK, "workspace")
		wantContains(t, r, "workspace",
			`hx-get="/app/event-streaming/dashboard"`, `hx-trigger="every 5s"`,
			`href="/app/event-producer/http:%2F%2Fproducer.example"`, `href="/app/event-consumer/http:%2F%2Fconsumer.example%2F"`,
			`<span class="pill orange" data-peer-state>Lagging</span>`, `<span class="pill red" data-peer-state>Failing</span>`,
			"1,234", "1 min 15 s", "3.5 s", "Customer", `<progress max="120" value="30"`, "connection refused",
			"Events per minute", "Failures per minute", `data-chart-type="line"`, `data-chart-type="bar"`)
		// Chart data: 60 labelled minutes; the values sum to the hour's total.
		m := regexp.MustCompile(`id="chart-producer-0-events" data-chart="([^"]*)"`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("no chart data in\n%s", r.body)
		}
		var data struct {
			Labels   []string
			Datasets []struct{ Values []float64 }
		}
		if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &data); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, v := range data.Datasets[0].Values {
			sum += v
		}
		if len(data.Labels) != 60 || len(data.Datasets[0].Values) != 60 || sum < 150 {
			t.Errorf("chart data: %d labels, %d values, sum %v", len(data.Labels), len(data.Datasets[0].Values), sum)
		}
		// The partial is the same box, alone.
		r = c.get("/app/event-streaming/dashboard", "HX-Request", "true")
		wantCode(t, r, http.StatusOK, "partial")
		wantContains(t, r, "partial", `id="stream-dashboard"`, "Lagging")
		wantNotContains(t, r, "partial", "<html")
		// It follows the stream: a new state on the next poll.
		sv.mu.Lock()
		sv.ov.Producers[0].State = web.StateConnected
		sv.mu.Unlock()
		wantContains(t, c.get("/app/event-streaming/dashboard"), "next poll", `<span class="pill green" data-peer-state>Connected</span>`)
		// Errors from the stream are shown, not thrown.
		sv.mu.Lock()
		sv.err = errs.Unavailable("database busy")
		sv.mu.Unlock()
		r = c.get("/app/event-streaming/dashboard")
		wantCode(t, r, http.StatusOK, "overview error")
		wantContains(t, r, "overview error", "database busy")
		sv.mu.Lock()
		sv.err = errors.New("boom internal")
		sv.mu.Unlock()
		r = c.get("/app/event-streaming/dashboard")
		wantContains(t, r, "internal overview error", "Internal error")
		wantNotContains(t, r, "internal overview error", "boom internal")
	})
	t.Run("empty", func(t *testing.T) {
		e := newEnv(t, &fakeStream{}, false)
		r := e.admin().get("/app/event-streaming")
		wantContains(t, r, "no peers", "No Event Producers yet", "No Event Consumers yet", `href="/app/event-producer/new"`)
	})
}

func TestEventSyncLogAndResync(t *testing.T) {
	sv := &fakeStream{status: "Synced", n: 2}
	e := newEnv(t, sv, false)
	failed := e.insert("Event Sync Log", doc.Doc{"update_type": "Update", "ref_doctype": "User", "status": "Failed",
		"event_producer": "http://producer.example", "docname": "Administrator", "producer_doc": "Administrator",
		"data":  `{"changed": {"first_name": "Ada"}, "added": {}, "removed": {}, "row_changed": {}}`,
		"error": "Traceback: LinkValidationError: Could not find Customer: ACME"})
	e.insert("Event Sync Log", doc.Doc{"update_type": "Create", "ref_doctype": "Role", "status": "Synced",
		"event_producer": "http://other.example", "docname": "Clerk", "data": `{"role_name": "Clerk"}`})
	c := e.admin()

	r := c.get("/app/event-sync-log")
	wantCode(t, r, http.StatusOK, "sync log list")
	wantContains(t, r, "sync log list", `<span class="pill red">Failed</span>`, `<span class="pill green">Synced</span>`,
		"Resync all failed (1)", `value="resync_all"`)
	r = c.get("/app/event-sync-log?status=Failed")
	wantContains(t, r, "filter by status", "1–1 of 1", "producer.example")
	wantNotContains(t, r, "filter by status", "other.example")
	r = c.get("/app/event-sync-log?event_producer=" + url.QueryEscape("other"))
	wantContains(t, r, "filter by producer", "1–1 of 1")
	r = c.get("/app/event-sync-log?ref_doctype=User")
	wantContains(t, r, "filter by DocType", "1–1 of 1")
	wantNotContains(t, r, "filter by DocType", "Resync all failed (0)")

	// A failed entry shows its error and a Resync button.
	path := "/app/event-sync-log/" + url.PathEscape(failed.Name())
	r = c.get(path)
	wantCode(t, r, http.StatusOK, "failed entry")
	wantContains(t, r, "failed entry", "This event failed to sync", "LinkValidationError: Could not find Customer: ACME",
		`value="resync"`, "Changed fields", "first_name", "Ada")
	wantNotContains(t, r, "failed entry", `data-action="save"`)
	r = c.post(path, url.Values{"_action": {"resync"}})
	wantCode(t, r, http.StatusSeeOther, "resync")
	if len(sv.resynced) != 1 || sv.resynced[0] != failed.Name() || sv.users[0] != "Administrator" {
		t.Fatalf("Resync calls %v by %v", sv.resynced, sv.users)
	}
	wantContains(t, c.get(path), "after resync", "Resynced. The event is now Synced.")
	sv.status = "Failed"
	c.post(path, url.Values{"_action": {"resync"}})
	wantContains(t, c.get(path), "resync failing again", "failed again")
	sv.resyncErr = errs.Validation("Only Failed events can be resynced")
	c.post(path, url.Values{"_action": {"resync"}})
	wantContains(t, c.get(path), "resync refused", "Only Failed events can be resynced")
	sv.resyncErr = nil

	// Resync all failed, for one producer.
	r = c.post("/app/event-sync-log", url.Values{"_action": {"resync_all"}, "event_producer": {"http://producer.example"}})
	wantCode(t, r, http.StatusSeeOther, "resync all")
	if loc := r.hdr.Get("Location"); !strings.Contains(loc, "status=Failed") || !strings.Contains(loc, "event_producer=http") {
		t.Errorf("resync all went to %q", loc)
	}
	if len(sv.allFor) != 1 || sv.allFor[0] != "http://producer.example" {
		t.Fatalf("ResyncAll calls %v", sv.allFor)
	}
	wantContains(t, c.get(r.hdr.Get("Location")), "after resync all", "Resync started for 2 failed events.")
	wantCode(t, c.post("/app/event-sync-log", url.Values{"_action": {"bogus"}}), http.StatusBadRequest, "unknown list action")

	// Without streaming there is no Resync button, and the action says why.
	e2 := newEnv(t, nil, false)
	l := e2.insert("Event Sync Log", doc.Doc{"update_type": "Delete", "ref_doctype": "User", "status": "Failed", "error": "x"})
	c2 := e2.admin()
	r = c2.get("/app/event-sync-log/" + url.PathEscape(l.Name()))
	wantContains(t, r, "no streaming", "not enabled")
	wantNotContains(t, r, "no streaming", `value="resync"`)
	wantCode(t, c2.post("/app/event-sync-log/"+url.PathEscape(l.Name()), url.Values{"_action": {"resync"}}), http.StatusExpectationFailed, "resync without streaming")
}

func TestEventUpdateLogDiff(t *testing.T) {
	e := newEnv(t, nil, false)
	// Logs numbered by hand (the producer takes seq from the stream clock).
	upd := e.insert("Event Update Log", doc.Doc{"seq": int64(1), "update_type": "Update", "ref_doctype": "User", "docname": "Administrator",
		"data": `{"changed": {"first_name": "Ada", "enabled": 0}, "added": {"roles": [{"name": "r9", "role": "Clerk"}]},` +
			` "removed": {"roles": ["r1", "r2"]}, "row_changed": {"roles": [{"name": "r3", "role": "Auditor"}]}}`})
	cre := e.insert("Event Update Log", doc.Doc{"seq": int64(2), "update_type": "Create", "ref_doctype": "Role", "docname": "Clerk", "data": `{"role_name":"Clerk","doctype":"Role"}`})
	del := e.insert("Event Update Log", doc.Doc{"seq": int64(3), "update_type": "Delete", "ref_doctype": "Role", "docname": "Gone"})
	c := e.admin()
	r := c.get("/app/event-update-log")
	wantCode(t, r, http.StatusOK, "update log list")
	wantContains(t, r, "update log list", "Update Type", "Document Type", "Document Name", "Administrator", "Clerk", "Gone")

	r = c.get("/app/event-update-log/" + url.PathEscape(upd.Name()))
	wantCode(t, r, http.StatusOK, "update entry")
	wantContains(t, r, "update entry", "Changed fields", "<code>first_name</code>", "Ada", "Added rows", "Clerk",
		"Removed rows", "<code>r1</code>", "<code>r2</code>", "Changed rows", "Auditor", `href="/app/user/Administrator"`)
	r = c.get("/app/event-update-log/" + url.PathEscape(cre.Name()))
	wantContains(t, r, "create entry", `<pre class="json">{`+"\n"+`  &#34;role_name&#34;: &#34;Clerk&#34;`)
	r = c.get("/app/event-update-log/" + url.PathEscape(del.Name()))
	wantContains(t, r, "delete entry", "the document was deleted")
}

// noteDocType is the DocType streamed between the two sites of the
// end-to-end tests.
const noteDocType = `{"name": "Web Note", "module": "Custom", "autoname": "field:title", "title_field": "title", "fields": [
	{"fieldname": "title", "label": "Title", "fieldtype": "Data", "reqd": 1, "in_list_view": 1},
	{"fieldname": "priority", "label": "Priority", "fieldtype": "Select", "options": "Low\nMedium\nHigh", "in_list_view": 1},
	{"fieldname": "body", "label": "Body", "fieldtype": "Text"}
], "permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]}`

// streamingPair is a producer and a consumer site, both serving on their own
// listeners with streaming running, each with the DocType "Web Note" and an
// Event Subscriber "sync@example.com".
func streamingPair(t *testing.T) (prod, cons *env) {
	t.Helper()
	// Failed events are retried by hand only (Resync), not after 2 s.
	noAutoRetry := func(c *site.Config) { c.Stream.RetryBase = time.Hour }
	prod, cons = newEnv(t, nil, true, noAutoRetry), newEnv(t, nil, true, noAutoRetry)
	for _, e := range []*env{prod, cons} {
		d, err := doc.FromJSON([]byte(noteDocType))
		if err != nil {
			t.Fatal(err)
		}
		e.insert("DocType", d)
		e.addUser("sync@example.com", "sync-pw", "System Manager")
	}
	return prod, cons
}

// generateKeys presses Generate Keys on a User form and returns key and secret.
func generateKeys(t *testing.T, e *env, c *client, user string) (string, string) {
	t.Helper()
	r := c.post("/app/user/"+url.PathEscape(user), url.Values{"_action": {"generate_keys"}}, "HX-Request", "true")
	wantCode(t, r, http.StatusOK, "generate keys")
	return e.get("User", user).Str("api_key"), secretFrom(t, r.body)
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestStreamingSetupThroughForms follows the guide with the desk's forms:
// keys on both sites, the Event Producer on the consumer, approval on the
// producer's Event Consumer, then a document created on the producer
// appears in the consumer's list.
func TestStreamingSetupThroughForms(t *testing.T) {
	prod, cons := streamingPair(t)
	pc, cc := prod.admin(), cons.admin()
	pkey, psec := generateKeys(t, prod, pc, "sync@example.com")
	generateKeys(t, cons, cc, "sync@example.com")

	// A producer that cannot be reached: the error, and the input kept.
	bad := url.Values{"producer_url": {"http://127.0.0.1:1"}, "api_key": {pkey}, "api_secret": {psec}, "user": {"sync@example.com"},
		"producer_doctypes.__present": {"1"}, "producer_doctypes.1.name": {""}, "producer_doctypes.1.ref_doctype": {"Web Note"}}
	r := cc.post("/app/event-producer/new", bad)
	wantFormError(t, r, "", "unreachable producer")
	wantContains(t, r, "unreachable producer", "Not registered with the producer", "Failed to connect", `value="http://127.0.0.1:1"`, `value="Web Note"`)

	form := url.Values{"producer_url": {prod.site.URL}, "api_key": {pkey}, "api_secret": {psec}, "user": {"sync@example.com"},
		"producer_doctypes.__present": {"1"}, "producer_doctypes.1.name": {""}, "producer_doctypes.1.ref_doctype": {"Web Note"},
		"producer_doctypes.1.use_same_name": {"1"}}
	r = cc.post("/app/event-producer/new", form)
	wantCode(t, r, http.StatusSeeOther, "create Event Producer")
	epURL := "/app/event-producer/" + url.PathEscape(prod.site.URL)
	if loc := r.hdr.Get("Location"); loc != epURL {
		t.Fatalf("Location %q, want %q", loc, epURL)
	}
	r = cc.get(epURL)
	wantContains(t, r, "Event Producer form", "Registered with the producer", `<span class="pill orange">Pending</span>`)

	// The producer approves on its Event Consumer form.
	ecURL := "/app/event-consumer/" + url.PathEscape(cons.site.URL)
	r = pc.get(ecURL)
	wantCode(t, r, http.StatusOK, "Event Consumer form")
	wantContains(t, r, "Event Consumer form", `name="consumer_doctypes.1.status"`, `<option value="Approved">`, "Web Note")
	wantNotContains(t, r, "Event Consumer form", "data-add-row", `name="consumer_doctypes.1.ref_doctype"`)
	ec := prod.get("Event Consumer", cons.site.URL)
	row := ec.Rows("consumer_doctypes")[0]
	r = pc.post(ecURL, url.Values{"modified": {ec.Str("modified")}, "api_key": {ec.Str("api_key")}, "api_secret": {"********"},
		"consumer_doctypes.__present": {"1"}, "consumer_doctypes.1.name": {row.Name()}, "consumer_doctypes.1.status": {"Approved"}})
	wantCode(t, r, http.StatusSeeOther, "approve")
	wantContains(t, pc.get(ecURL), "after approval", "The consumer has been sent the new approval status")
	if st := cons.get("Event Producer", prod.site.URL).Rows("producer_doctypes")[0].Str("status"); st != "Approved" {
		t.Fatalf("consumer's row status = %q after approval", st)
	}
	wantContains(t, cc.get(epURL), "consumer form after approval", `<span class="pill green">Approved</span>`)

	// A document made on the producer's form reaches the consumer's list.
	r = pc.post("/app/web-note/new", url.Values{"title": {"Hello from the producer"}, "priority": {"High"}, "body": {"streamed"}})
	wantCode(t, r, http.StatusSeeOther, "create note")
	waitFor(t, "the note on the consumer", func() bool {
		_, err := cons.site.App.Get(t.Context(), app.Admin(), "Web Note", "Hello from the producer")
		return err == nil
	})
	r = cc.get("/app/web-note")
	wantContains(t, r, "consumer list", "Hello from the producer", "High")
	// And the producer's Event Update Log shows it readably.
	r = pc.get("/app/event-update-log")
	wantContains(t, r, "update log", "Web Note", "Hello from the producer", `<span class="pill green">Create</span>`)
}

// TestPeerPanel: the Event Producer form shows the producer's streaming
// state and its backfill progress, and refreshes it from a partial.
func TestPeerPanel(t *testing.T) {
	sv := &fakeStream{ov: fakeOverview()}
	e := newEnv(t, sv, false)
	e.addUser("sync@example.com", "x", "System Manager")
	d, err := doc.FromJSON([]byte(noteDocType))
	if err != nil {
		t.Fatal(err)
	}
	e.insert("DocType", d)
	// incoming_change: stored as the producer pushed it, without a handshake.
	e.insert("Event Producer", doc.Doc{"producer_url": "http://producer.example", "api_key": "k", "api_secret": "s",
		"user": "sync@example.com", "incoming_change": int64(1),
		"producer_doctypes": []doc.Doc{{"ref_doctype": "Web Note", "status": "Approved"}}})
	c := e.admin()
	path := "/app/event-producer/" + url.PathEscape("http://producer.example")
	r := c.get(path)
	wantCode(t, r, http.StatusOK, "Event Producer form")
	poll := "/app/_/stream-peer?kind=producer&amp;name=http%3A%2F%2Fproducer.example"
	wantContains(t, r, "Event Producer form", `id="peer-panel"`, `hx-get="`+poll+`"`, "Lagging", "1,234",
		"Copying existing documents: Customer", `<progress max="120" value="30"`)
	r = c.get(html.UnescapeString(poll), "HX-Request", "true")
	wantCode(t, r, http.StatusOK, "peer partial")
	wantContains(t, r, "peer partial", `id="peer-panel"`, "Lagging")
	wantNotContains(t, r, "peer partial", "<html")
	// Another name: no status, said plainly.
	r = c.get("/app/_/stream-peer?kind=consumer&name=nobody")
	wantCode(t, r, http.StatusNotFound, "unknown consumer")
	wantCode(t, c.get("/app/_/stream-peer?kind=other&name=x"), http.StatusBadRequest, "bad kind")
}
