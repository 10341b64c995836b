package stream_test

// Wire compatibility with Frappe (reference frappe-event-streaming.md §2, §3,
// Appendix A). Each test plays a Frappe peer byte for byte, with raw HTTP
// built by hand (wire_helpers_test.go), never with docstream's own client:
//
//   - TestWireFrappeConsumer: docstream is the producer; the test is a Frappe
//     v14 consumer (core prefix, Basic auth) and an event_streaming-app
//     consumer (app prefix, token auth).
//   - TestWireFrappeProducer: docstream is the consumer; the test is a Frappe
//     v14 producer that serves only the core prefix.
//   - FuzzPullAnswer: arbitrary bytes as a Frappe producer's pull answer.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/site"
	"docstream/internal/stream"
)

const (
	mRegister   = ".event_consumer.event_consumer.register_consumer"
	mGetLogs    = ".event_update_log.event_update_log.get_update_logs_for_consumer"
	mNewEvent   = ".event_producer.event_producer.new_event_notification"
	creationFmt = `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$`
)

var (
	reCreation   = regexp.MustCompile(creationFmt)
	reLastUpdate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$`)
)

// ============================================================================
// A. docstream as PRODUCER; the test is a Frappe consumer.
// ============================================================================

// frappeConsumer is a Frappe consumer site: it registers and pulls with raw
// requests as FrappeClient builds them, and serves what a Frappe consumer
// serves to its producer (GET /, new_event_notification, GET/PUT
// /api/resource/Event Producer/<url>). Like Frappe, a notification that
// arrives while a pull job is queued or running is dropped (reference §2.6
// step 5, W9): it pulls once per accepted notification.
type frappeConsumer struct {
	t           *testing.T
	srv         *httptest.Server
	URL         string
	prefix      string
	key, secret string // its Event Subscriber's keys: the producer calls it with them
	producer    *testSite
	authz       string // how it authenticates to the producer
	applyDelay  time.Duration

	mu         sync.Mutex
	cursor     string
	paused     bool // the job queue is not worked (a busy RQ worker)
	jobActive  bool // a pull_from_node job is queued or running
	notified   []wireReq
	dropped    int
	pulls      int
	logs       []map[string]any
	epReqs     []wireReq // GET/PUT Event Producer
	epDoc      map[string]any
	violations []string
}

func newFrappeConsumer(t *testing.T, p *testSite, prefix, authz string, n int) *frappeConsumer {
	fc := &frappeConsumer{t: t, prefix: prefix, producer: p, authz: authz,
		key: fmt.Sprintf("ckey%011d", n), secret: fmt.Sprintf("csecret%08d", n), applyDelay: 30 * time.Millisecond}
	fc.srv = httptest.NewServer(fc)
	t.Cleanup(fc.srv.Close)
	fc.URL = fc.srv.URL
	// The consumer's own Event Producer record (what P3 reads).
	fc.epDoc = map[string]any{"name": p.URL, "producer_url": p.URL, "doctype": "Event Producer", "api_key": p.key,
		"api_secret": "*************", "user": subscriber, "incoming_change": 0, "docstatus": 0,
		"owner": "Administrator", "creation": "2024-03-01 09:00:00.000000", "modified": "2024-03-01 09:00:00.000000",
		"producer_doctypes": []any{map[string]any{"name": "a1b2c3d4e5", "doctype": "Event Producer Document Type",
			"parent": p.URL, "parentfield": "producer_doctypes", "parenttype": "Event Producer", "idx": 1,
			"ref_doctype": "Note", "status": "Pending", "use_same_name": 1, "unsubscribe": 0, "has_mapping": 0}}}
	return fc
}

func (fc *frappeConsumer) violate(format string, a ...any) {
	fc.mu.Lock()
	fc.violations = append(fc.violations, fmt.Sprintf(format, a...))
	fc.mu.Unlock()
}

func (fc *frappeConsumer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := readWireReq(r)
	switch {
	case req.Cmd != "":
		if req.Cmd != fc.prefix+mNewEvent {
			frappeNoMethod(w, req.Cmd)
			return
		}
		if req.Authz != basicAuth(fc.key, fc.secret) {
			fc.violate("new_event_notification with Authorization %q, want Basic of the consumer's keys", req.Authz)
			frappeError(w, http.StatusUnauthorized, "AuthenticationError", "Invalid API key or secret")
			return
		}
		fc.mu.Lock()
		fc.notified = append(fc.notified, req)
		start := !fc.jobActive
		if start {
			fc.jobActive = true
		} else {
			fc.dropped++ // frappe: a pull_from_node job is already queued or running
		}
		paused := fc.paused
		fc.mu.Unlock()
		writeWire(w, http.StatusOK, "{}") // new_event_notification returns None
		if start && !paused {
			go fc.job()
		}
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html>frappe</html>"))
	case strings.HasPrefix(r.URL.Path, "/api/resource/Event Producer/"):
		name := strings.TrimPrefix(r.URL.Path, "/api/resource/Event Producer/")
		if req.Authz != basicAuth(fc.key, fc.secret) {
			fc.violate("%s Event Producer with Authorization %q", r.Method, req.Authz)
			frappeError(w, http.StatusUnauthorized, "AuthenticationError", "Invalid API key or secret")
			return
		}
		fc.mu.Lock()
		defer fc.mu.Unlock()
		fc.epReqs = append(fc.epReqs, req)
		if name != fc.producer.URL {
			frappeError(w, http.StatusNotFound, "DoesNotExistError", "Event Producer "+name+" not found")
			return
		}
		if r.Method == http.MethodPut {
			var d map[string]any
			if err := json.Unmarshal([]byte(req.Form.Get("data")), &d); err != nil {
				frappeError(w, http.StatusExpectationFailed, "ValidationError", "bad data")
				return
			}
			fc.epDoc["producer_doctypes"] = d["producer_doctypes"]
		}
		writeWire(w, http.StatusOK, pyResponse(pyObj{{"data", fc.epDoc}}))
	default:
		frappeError(w, http.StatusNotFound, "DoesNotExistError", "Page "+r.URL.Path+" not found")
	}
}

// idle: no pull job queued or running.
func (fc *frappeConsumer) idle() bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return !fc.jobActive
}

// setPaused holds the job queue (a busy RQ worker), or frees it and lets
// the queued job run.
func (fc *frappeConsumer) setPaused(p bool) {
	fc.mu.Lock()
	fc.paused = p
	run := !p && fc.jobActive
	fc.mu.Unlock()
	if run {
		go fc.job()
	}
}

// job is pull_from_node: one pull (C4: root POST with cmd=, Frappe's
// post_request), then each log is applied and the cursor moved to its
// creation.
func (fc *frappeConsumer) job() {
	defer func() {
		fc.mu.Lock()
		fc.jobActive = false
		fc.mu.Unlock()
	}()
	fc.mu.Lock()
	cursor := fc.cursor
	fc.pulls++
	fc.mu.Unlock()
	body := pyForm("cmd", fc.prefix+mGetLogs, "event_consumer", fc.URL, "doctypes", pyAsJSON([]any{"Note"}), "last_update", cursor)
	resp := frappeDoNoFatal(http.MethodPost, fc.producer.URL, "/", body, fc.authz)
	if resp.err != nil {
		fc.violate("pull: %v", resp.err)
		return
	}
	res, raised, ok := pyPostProcess(resp.Body)
	if !ok || raised {
		fc.violate("pull answer raised in FrappeClient (HTTP %d): %s", resp.Status, resp.Body)
		return
	}
	list, isList := res.([]any)
	if res != nil && !isList {
		fc.violate("pull message is %T, want a list", res)
		return
	}
	for _, e := range list {
		l, _ := e.(map[string]any)
		if problem := frappeLogProblem(l); problem != "" {
			fc.violate("log %v: %s", e, problem)
		}
		time.Sleep(fc.applyDelay) // sync(update): a Frappe consumer applies and commits each log
		fc.mu.Lock()
		fc.logs = append(fc.logs, l)
		fc.cursor, _ = l["creation"].(string)
		fc.mu.Unlock()
	}
}

// frappeLogProblem checks a log record against what pull_from_node reads
// (reference §2.6 step 6, Appendix A.9).
func frappeLogProblem(l map[string]any) string {
	if l == nil {
		return "not an object"
	}
	for _, k := range []string{"update_type", "ref_doctype", "docname", "data", "name", "creation"} {
		if _, ok := l[k]; !ok {
			return "missing key " + k
		}
	}
	for k := range l {
		switch k {
		case "update_type", "ref_doctype", "docname", "data", "name", "creation", "seq": // seq: docstream's documented extra
		default:
			return "unexpected key " + k
		}
	}
	c, _ := l["creation"].(string)
	if !reCreation.MatchString(c) {
		return fmt.Sprintf("creation %q is not YYYY-MM-DD HH:MM:SS[.ffffff]", c)
	}
	switch l["update_type"] {
	case "Create", "Update":
		s, ok := l["data"].(string) // json.loads(update.data)
		if !ok {
			return fmt.Sprintf("data is %T, want a JSON string", l["data"])
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return "data does not decode to an object: " + err.Error()
		}
	case "Delete":
		if l["data"] != nil {
			return "Delete data is not null"
		}
	default:
		return fmt.Sprintf("update_type %v", l["update_type"])
	}
	return ""
}

type wireResult struct {
	wireResp
	err error
}

// frappeDoNoFatal is frappeDo for goroutines other than the test's.
func frappeDoNoFatal(method, base, target, body, authz string) wireResult {
	var out wireResult
	ok := func() (ok bool) {
		defer func() {
			if p := recover(); p != nil {
				out.err = fmt.Errorf("%v", p)
			}
		}()
		out.wireResp = frappeDo(panicTB{}, method, base, target, body, authz)
		return true
	}()
	_ = ok
	return out
}

// panicTB turns Fatal into a panic (recovered by frappeDoNoFatal).
type panicTB struct{ testing.TB }

func (panicTB) Helper()                           {}
func (panicTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (fc *frappeConsumer) snapshot() (logs []map[string]any, notified []wireReq, pulls, dropped int, violations []string) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return slices.Clone(fc.logs), slices.Clone(fc.notified), fc.pulls, fc.dropped, slices.Clone(fc.violations)
}

func (fc *frappeConsumer) epCount() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.epReqs)
}

// register is C1 exactly as EventProducer.create_event_consumer sends it:
// post_api → POST /api/method/<prefix>…register_consumer?data=<json>, empty
// body, consumer_doctypes double-encoded.
func (fc *frappeConsumer) register(apiKey string) wireResp {
	rows := pyDumps([]any{pyObj{{"doctype", "Note"}, {"condition", nil}}})
	data := pyDumps(pyObj{{"event_consumer", fc.URL}, {"consumer_doctypes", rows}, {"user", subscriber},
		{"api_key", apiKey}, {"api_secret", fc.secret}})
	return frappeDo(fc.t, http.MethodPost, fc.producer.URL, "/api/method/"+fc.prefix+mRegister+"?"+pyForm("data", data), "", fc.authz)
}

// pull is C4 outside the job (for assertions), as root POST or /api/method.
func (fc *frappeConsumer) pull(root bool, lastUpdate string) []any {
	fc.t.Helper()
	form := []string{"event_consumer", fc.URL, "doctypes", pyAsJSON([]any{"Note"}), "last_update", lastUpdate}
	var resp wireResp
	if root {
		resp = frappeDo(fc.t, http.MethodPost, fc.producer.URL, "/", pyForm(append([]string{"cmd", fc.prefix + mGetLogs}, form...)...), fc.authz)
	} else {
		resp = frappeDo(fc.t, http.MethodPost, fc.producer.URL, "/api/method/"+fc.prefix+mGetLogs, pyForm(form...), fc.authz)
	}
	top := resp.JSON(fc.t)
	if resp.Status != http.StatusOK || len(top) != 1 {
		fc.t.Fatalf("pull: HTTP %d %s, want 200 {\"message\": […]}", resp.Status, resp.Body)
	}
	l, ok := top["message"].([]any)
	if !ok {
		fc.t.Fatalf("pull: message is %T, want a list: %s", top["message"], resp.Body)
	}
	return l
}

func TestWireFrappeConsumer(t *testing.T) {
	t.Parallel()
	cfg := fastStream()
	cfg.FrappePage = 3
	cfg.CatchUp = time.Hour // no periodic catch-up notification: only the backlog re-notification drains
	p := startSite(t, cfg)
	noteDocTypes(t, p.Site)

	// Liveness: plain GET <url>, no auth, 200.
	if r := frappeDo(t, http.MethodGet, p.URL, "/", "", ""); r.Status != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", r.Status)
	}

	v14 := newFrappeConsumer(t, p, stream.PrefixCore, basicAuth(p.key, p.secret), 1)
	esapp := newFrappeConsumer(t, p, stream.PrefixApp, tokenAuth(p.key, p.secret), 2)

	// C1 register_consumer, both prefixes, Basic and token auth.
	for _, fc := range []*frappeConsumer{v14, esapp} {
		r := fc.register(fc.key)
		if r.Status != http.StatusOK {
			t.Fatalf("%s register_consumer: HTTP %d %s", fc.prefix, r.Status, r.Body)
		}
		if !strings.HasPrefix(string(r.Body), `{"message":"{`) {
			t.Errorf("%s register_consumer body %s: want {\"message\": \"<JSON string>\"}", fc.prefix, r.Body)
		}
		top := r.JSON(t)
		msg, ok := top["message"].(string)
		if len(top) != 1 || !ok {
			t.Fatalf("%s register_consumer body %s: want exactly {\"message\": \"<JSON string>\"}", fc.prefix, r.Body)
		}
		// What create_event_consumer does: json.loads(response)["last_update"].
		var last map[string]any
		if err := json.Unmarshal([]byte(msg), &last); err != nil {
			t.Fatalf("message %q is not JSON: %v", msg, err)
		}
		lu, _ := last["last_update"].(string)
		if !reLastUpdate.MatchString(lu) {
			t.Errorf("last_update %q, want YYYY-MM-DD HH:MM:SS.ffffff", lu)
		}
		fc.cursor = lu

		ec := mustGet(t, p.Site, "Event Consumer", fc.URL)
		rows := ec.Rows("consumer_doctypes")
		if ec.Str("callback_url") != fc.URL || ec.Str("user") != subscriber || ec.Str("api_key") != fc.key ||
			len(rows) != 1 || rows[0].Str("ref_doctype") != "Note" || rows[0].Str("status") != "Pending" {
			t.Errorf("%s: Event Consumer %v, want callback_url %s, key %s, one Note row Pending", fc.prefix, ec, fc.URL, fc.key)
		}
		if got := ec.Str("method_prefix"); got != fc.prefix {
			t.Errorf("Event Consumer method_prefix %q, want %q (the prefix the consumer registered with)", got, fc.prefix)
		}
	}

	// A second registration of the same URL. Frappe answers {} ("returns
	// nothing") and the consumer throws "Failed to create an Event Consumer
	// or … already registered". Any answer on which FrappeClient raises, or
	// that has no truthy message, makes the Python consumer fail the same
	// way; a truthy message would make it think it registered.
	r := v14.register("another-key")
	res, raised, ok := pyPostProcess(r.Body)
	if !ok {
		t.Fatalf("duplicate register_consumer: answer is not JSON (the Python client crashes with ValueError): HTTP %d %s", r.Status, r.Body)
	}
	if !raised && pyTruthy(res) {
		t.Fatalf("duplicate register_consumer answered %s: a Frappe consumer would take it as a new registration", r.Body)
	}
	t.Logf("duplicate register_consumer: HTTP %d %s (FrappeClient raises: %v)", r.Status, r.Body, raised)
	if k := mustGet(t, p.Site, "Event Consumer", v14.URL).Str("api_key"); k != v14.key {
		t.Fatalf("duplicate registration changed the Event Consumer's api_key to %q", k)
	}

	// C2 then C3, as update_event_consumer does on every save of the Event
	// Producer: GET /api/resource/Event Consumer/<url> (name unencoded, as
	// Frappe concatenates it; REST answers in data, never message), rebuild
	// consumer_doctypes from the local rows with the producer's statuses,
	// set user and incoming_change, and PUT the whole doc back as
	// data=<json>. The api_secret sent back is a mask: all-* means unchanged.
	// Frappe sends incoming_change as True; 1 is tried too.
	target := "/api/resource/Event%20Consumer/" + v14.URL
	for _, incoming := range []any{true, 1} {
		r = frappeDo(t, http.MethodGet, p.URL, target, "", v14.authz)
		top := r.JSON(t)
		if r.Status != http.StatusOK || top["data"] == nil || top["message"] != nil {
			t.Fatalf("GET %s: HTTP %d %s, want 200 {\"data\": …} without message", target, r.Status, r.Body)
		}
		ecDoc, _ := top["data"].(map[string]any)
		if ecDoc["name"] != v14.URL {
			t.Fatalf("GET %s: name %v", target, ecDoc["name"])
		}
		if s, _ := ecDoc["api_secret"].(string); s == v14.secret {
			t.Errorf("GET Event Consumer returns the api_secret in clear")
		}
		config, _ := ecDoc["consumer_doctypes"].([]any)
		status := "Pending"
		for _, e := range config {
			if m, _ := e.(map[string]any); m["ref_doctype"] == "Note" {
				status, _ = m["status"].(string)
			}
		}
		ecDoc["consumer_doctypes"] = []any{pyObj{{"ref_doctype", "Note"}, {"status", status}, {"unsubscribed", 0}, {"condition", nil}}}
		ecDoc["user"] = subscriber
		ecDoc["incoming_change"] = incoming
		ecDoc["api_secret"] = "**********"
		before := v14.epCount()
		r = frappeDo(t, http.MethodPut, p.URL, target, pyForm("data", pyDumps(ecDoc)), v14.authz)
		if top := r.JSON(t); r.Status != http.StatusOK || top["data"] == nil || top["message"] != nil {
			t.Fatalf("PUT %s (incoming_change %v): HTTP %d %s, want 200 {\"data\": …}", target, incoming, r.Status, r.Body)
		}
		if _, n, _, _, _ := v14.snapshot(); v14.epCount() != before || len(n) != 0 {
			t.Fatalf("the PUT with incoming_change %v was echoed back to the consumer", incoming)
		}
		ec := mustGet(t, p.Site, "Event Consumer", v14.URL)
		rows := ec.Rows("consumer_doctypes")
		if ec.Str("api_key") != v14.key || ec.Int("incoming_change") != 0 || len(rows) != 1 || rows[0].Str("ref_doctype") != "Note" || rows[0].Str("status") != "Pending" {
			t.Fatalf("Event Consumer after the PUT: %v", ec)
		}
	}

	// The producer admin approves: P3 GET + P5 PUT on the consumer's Event
	// Producer, with the consumer keys. The stored secret is still the one
	// registered (the all-* PUT left it alone), or the fake consumer refuses.
	for _, fc := range []*frappeConsumer{v14, esapp} {
		ec := mustGet(t, p.Site, "Event Consumer", fc.URL)
		for _, row := range ec.Rows("consumer_doctypes") {
			row["status"] = "Approved"
		}
		mustSave(t, p.Site, "Event Consumer", fc.URL, doc.Doc{"consumer_doctypes": ec["consumer_doctypes"]})
		fc.mu.Lock()
		reqs := slices.Clone(fc.epReqs)
		fc.mu.Unlock()
		if len(reqs) < 2 || reqs[len(reqs)-2].Method != http.MethodGet || reqs[len(reqs)-1].Method != http.MethodPut {
			t.Fatalf("%s: approval reached the consumer as %v, want GET then PUT /api/resource/Event Producer/%s", fc.prefix, reqs, p.URL)
		}
		var put map[string]any
		if err := json.Unmarshal([]byte(reqs[len(reqs)-1].Form.Get("data")), &put); err != nil {
			t.Fatalf("P5 data: %v", err)
		}
		rows, _ := put["producer_doctypes"].([]any)
		if pyTruthy(put["incoming_change"]) != true || len(rows) != 1 || rows[0].(map[string]any)["status"] != "Approved" {
			t.Fatalf("P5 PUT data %v: want incoming_change and the Note row Approved", put)
		}
	}

	t.Cleanup(func() {
		for _, fc := range []*frappeConsumer{v14, esapp} {
			logs, n, pulls, dropped, v := fc.snapshot()
			t.Logf("%s: %d logs, %d notifications, %d dropped, %d pulls, violations %v", fc.prefix, len(logs), len(n), dropped, pulls, v)
		}
	})
	// A Frappe consumer runs one pull job at a time and drops a notification
	// that arrives while one is queued or running (W9); the producer's
	// periodic catch-up notification (CatchUp, off here) recovers such a
	// loss. To test the backlog re-notification alone, each consumer's job
	// queue is held busy while documents are written: it then has one queued
	// job and has dropped every other notification.
	whileBusy := func(write func()) {
		var before []int
		for _, fc := range []*frappeConsumer{v14, esapp} {
			eventually(t, fc.prefix+" consumer idle", 10*time.Second, fc.idle)
			fc.setPaused(true)
			_, n, _, _, _ := fc.snapshot()
			before = append(before, len(n))
		}
		write()
		for i, fc := range []*frappeConsumer{v14, esapp} {
			eventually(t, fc.prefix+" consumer notified while busy", 5*time.Second, func() bool {
				_, n, _, _, _ := fc.snapshot()
				return len(n) > before[i]
			})
			fc.setPaused(false)
		}
	}

	// Backlog bigger than a page (FrappePage 3): 10 documents.
	whileBusy(func() {
		for i := range 10 {
			mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("n%d", i), "items": []doc.Doc{{"item": "a", "qty": 1.0}, {"item": "b", "qty": 2.0}}})
		}
	})
	for _, fc := range []*frappeConsumer{v14, esapp} {
		eventually(t, fc.prefix+" consumer has the 10 Creates", 20*time.Second, func() bool {
			logs, _, _, _, _ := fc.snapshot()
			return len(logs) >= 10
		})
	}

	// Update with child rows changed, added and removed; then a Delete.
	n0 := mustGet(t, p.Site, "Note", "n0")
	items := n0.Rows("items")
	items[0]["qty"] = 5.0
	kept, removed := items[0].Name(), items[1].Name()
	whileBusy(func() {
		mustSave(t, p.Site, "Note", "n0", doc.Doc{"body": "edited", "items": []doc.Doc{items[0], {"item": "c", "qty": 3.0}}})
		if err := p.App.Delete(t.Context(), adminUser(), "Note", "n1", optsNone()); err != nil {
			t.Fatal(err)
		}
	})
	for _, fc := range []*frappeConsumer{v14, esapp} {
		eventually(t, fc.prefix+" consumer has the Update and the Delete", 20*time.Second, func() bool {
			logs, _, _, _, _ := fc.snapshot()
			return len(logs) >= 12
		})
	}

	for _, fc := range []*frappeConsumer{v14, esapp} {
		logs, notified, pulls, dropped, violations := fc.snapshot()
		for _, v := range violations {
			t.Errorf("%s consumer: %s", fc.prefix, v)
		}
		t.Logf("%s consumer: %d notifications (%d dropped as a job was queued or running), %d pulls, %d logs", fc.prefix, len(notified), dropped, pulls, len(logs))
		if len(logs) != 12 {
			t.Fatalf("%s consumer got %d logs, want 12 (10 Create, 1 Update, 1 Delete): %v", fc.prefix, len(logs), logs)
		}
		// Oldest first, strictly increasing creation, each log once.
		seen := map[string]bool{}
		for i, l := range logs {
			if seen[l["name"].(string)] {
				t.Errorf("log %v served twice", l["name"])
			}
			seen[l["name"].(string)] = true
			if i > 0 && !(l["creation"].(string) > logs[i-1]["creation"].(string)) {
				t.Errorf("log %d creation %v not after %v", i, l["creation"], logs[i-1]["creation"])
			}
			want := "Create"
			switch i {
			case 10:
				want = "Update"
			case 11:
				want = "Delete"
			}
			if l["update_type"] != want || l["ref_doctype"] != "Note" {
				t.Errorf("log %d: %v %v, want %s Note", i, l["update_type"], l["ref_doctype"], want)
			}
		}
		// Create data: the whole document, child rows with their names.
		var created map[string]any
		json.Unmarshal([]byte(logs[0]["data"].(string)), &created)
		if created["name"] != "n0" || created["title"] != "n0" || len(created["items"].([]any)) != 2 {
			t.Errorf("Create data %v", created)
		}
		// set_insert runs frappe.get_doc(update.data): the parent needs its
		// doctype; child rows keep their names.
		if created["doctype"] != "Note" {
			t.Errorf("Create data has doctype %v, want Note (frappe.get_doc needs it): %v", created["doctype"], created)
		}
		for _, r := range created["items"].([]any) {
			if row, _ := r.(map[string]any); row["name"] == nil || row["name"] == "" {
				t.Errorf("Create data child row without a name: %v", row)
			}
		}
		// Update data: the four keys of §3.3, row_changed a list of partial rows with name.
		upd := logs[10]
		if upd["docname"] != "n0" {
			t.Errorf("Update docname %v", upd["docname"])
		}
		var diff map[string]any
		if err := json.Unmarshal([]byte(upd["data"].(string)), &diff); err != nil {
			t.Fatal(err)
		}
		if len(diff) != 4 || diff["changed"] == nil || diff["added"] == nil || diff["removed"] == nil || diff["row_changed"] == nil {
			t.Fatalf("Update data keys %v, want exactly changed, added, removed, row_changed", diff)
		}
		if ch := diff["changed"].(map[string]any); ch["body"] != "edited" {
			t.Errorf("changed %v", ch)
		}
		rc, ok := diff["row_changed"].(map[string]any)["items"].([]any)
		if !ok || len(rc) != 1 {
			t.Fatalf("row_changed %v, want {\"items\": [ {…, name} ]}", diff["row_changed"])
		}
		if r := rc[0].(map[string]any); r["name"] != kept || r["qty"] != 5.0 {
			t.Errorf("row_changed row %v, want name %s qty 5", r, kept)
		}
		ad, _ := diff["added"].(map[string]any)["items"].([]any)
		if len(ad) != 1 || ad[0].(map[string]any)["item"] != "c" || ad[0].(map[string]any)["name"] == nil {
			t.Errorf("added %v, want one full row with a name", diff["added"])
		}
		rm, _ := diff["removed"].(map[string]any)["items"].([]any)
		if len(rm) != 1 || rm[0] != removed {
			t.Errorf("removed %v, want [%s]", diff["removed"], removed)
		}
		if d := logs[11]; d["docname"] != "n1" || d["data"] != nil {
			t.Errorf("Delete log %v, want docname n1 and data null", d)
		}

		// Notifications: new_event_notification with this consumer's prefix,
		// producer_url = the producer's URL, Basic auth with the consumer keys
		// (checked by the handler).
		for _, n := range notified {
			if n.Method != http.MethodPost || n.Cmd != fc.prefix+mNewEvent || n.Form.Get("producer_url") != p.URL {
				t.Errorf("notification %s %s form %v, want POST cmd=%s producer_url=%s", n.Method, n.Target, n.Form, fc.prefix+mNewEvent, p.URL)
			}
			if !n.Root {
				t.Logf("note: notification sent as POST %s (body %s), not Frappe's root POST with cmd= in the form; a Frappe consumer accepts both", n.Target, n.Body)
				break
			}
		}

		// Strict > cursor: the last creation gives nothing; the one before
		// it gives exactly the last log. Both call forms.
		last, prev := logs[11]["creation"].(string), logs[10]["creation"].(string)
		for _, root := range []bool{true, false} {
			if got := fc.pull(root, last); len(got) != 0 {
				t.Errorf("pull (root=%v) with last_update = last creation returned %v", root, got)
			}
			got := fc.pull(root, prev)
			if len(got) != 1 || got[0].(map[string]any)["name"] != logs[11]["name"] {
				t.Errorf("pull (root=%v) after %s returned %v, want only %v", root, prev, got, logs[11]["name"])
			}
		}
	}
}

// ============================================================================
// B. docstream as CONSUMER; the test is a Frappe v14 producer.
// ============================================================================

// frappeLog is an Event Update Log on the fake producer.
type frappeLog struct {
	name, updateType, refDocType, docname, creation string
	data                                            any // JSON string, or nil for Delete
}

// frappeProducer is a Frappe v14 site as a producer: it serves GET /,
// register_consumer and get_update_logs_for_consumer under ONE method
// prefix only (the other answers 417 "Failed to get method for command",
// as a real site does), and GET/PUT /api/resource/Event Consumer/<url>.
// It records every request.
type frappeProducer struct {
	srv         *httptest.Server
	URL         string
	prefix      string
	key, secret string                                  // the producer-side Event Subscriber's keys
	regLast     string                                  // last_update answered to register_consumer
	missing     func(w http.ResponseWriter, cmd string) // answer for a method it does not serve

	mu       sync.Mutex
	reqs     []wireReq
	consumer map[string]any // the Event Consumer record, once registered
	logs     []frappeLog

	// Fuzzing: the next pull gets these bytes as its answer; others get
	// an empty list whatever the cursor.
	fuzzMode   bool
	fuzz       []byte
	fuzzArmed  bool
	fuzzServed int // pull count at which the armed answer was served
	pullCount  int
}

func newFrappeProducer(tb testing.TB, prefix string) *frappeProducer {
	fp := &frappeProducer{prefix: prefix, key: "fpkey0123456789", secret: "fpsecret0123456", regLast: "2024-03-01 09:00:00.123456"}
	fp.srv = httptest.NewServer(fp)
	tb.Cleanup(fp.srv.Close)
	fp.URL = fp.srv.URL
	return fp
}

func (fp *frappeProducer) requests() []wireReq {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return slices.Clone(fp.reqs)
}

func (fp *frappeProducer) addLog(l frappeLog) {
	fp.mu.Lock()
	fp.logs = append(fp.logs, l)
	fp.mu.Unlock()
}

func (fp *frappeProducer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := readWireReq(r)
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.reqs = append(fp.reqs, req)
	if req.Cmd == "" && r.URL.Path == "/" && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html>frappe</html>"))
		return
	}
	if req.Authz != basicAuth(fp.key, fp.secret) && req.Authz != tokenAuth(fp.key, fp.secret) {
		frappeError(w, http.StatusUnauthorized, "AuthenticationError", "Invalid API key or secret")
		return
	}
	switch {
	case req.Cmd == fp.prefix+mRegister:
		var data map[string]any
		if err := json.Unmarshal([]byte(req.Form.Get("data")), &data); err != nil {
			frappeError(w, http.StatusExpectationFailed, "JSONDecodeError", "Expecting value: line 1 column 1 (char 0)")
			return
		}
		if fp.consumer != nil && fp.consumer["name"] == data["event_consumer"] {
			writeWire(w, http.StatusOK, "{}") // "If an Event Consumer named event_consumer already exists, it returns nothing"
			return
		}
		var rows []map[string]any
		s, _ := data["consumer_doctypes"].(string)
		if err := json.Unmarshal([]byte(s), &rows); err != nil { // json.loads(data["consumer_doctypes"])
			frappeError(w, http.StatusExpectationFailed, "TypeError", "the JSON object must be str, bytes or bytearray")
			return
		}
		var crows []any
		for i, r := range rows {
			crows = append(crows, map[string]any{"name": fmt.Sprintf("ecdt%06d", i), "doctype": "Event Consumer Document Type",
				"idx": i + 1, "parentfield": "consumer_doctypes", "parenttype": "Event Consumer", "parent": data["event_consumer"],
				"ref_doctype": r["doctype"], "status": "Pending", "unsubscribed": 0, "condition": r["condition"]})
		}
		fp.consumer = map[string]any{"name": data["event_consumer"], "doctype": "Event Consumer", "callback_url": data["event_consumer"],
			"user": data["user"], "api_key": data["api_key"], "api_secret": "*******", "incoming_change": 0,
			"owner": "Administrator", "creation": fp.regLast, "modified": fp.regLast, "docstatus": 0, "consumer_doctypes": crows,
			"_secret": data["api_secret"]}
		writeWire(w, http.StatusOK, pyResponse(pyObj{{"message", pyDumps(pyObj{{"last_update", fp.regLast}})}}))
	case req.Cmd == fp.prefix+mGetLogs:
		fp.pullCount++
		if fp.fuzzArmed {
			fp.fuzzArmed, fp.fuzzServed = false, fp.pullCount
			w.Header().Set("Content-Type", "application/json")
			w.Write(fp.fuzz)
			return
		}
		if fp.fuzzMode {
			writeWire(w, http.StatusOK, `{"message":[]}`)
			return
		}
		if fp.consumer == nil || req.Form.Get("event_consumer") != fp.consumer["name"] {
			frappeError(w, http.StatusNotFound, "DoesNotExistError", "Event Consumer "+req.Form.Get("event_consumer")+" not found")
			return
		}
		var dts []string
		if err := json.Unmarshal([]byte(req.Form.Get("doctypes")), &dts); err != nil {
			frappeError(w, http.StatusExpectationFailed, "JSONDecodeError", err.Error())
			return
		}
		after, ok := frappeDatetime(req.Form.Get("last_update"))
		if !ok {
			frappeError(w, http.StatusExpectationFailed, "ValidationError", "Invalid datetime "+req.Form.Get("last_update"))
			return
		}
		var out []any
		for _, l := range fp.logs { // kept oldest first
			c, _ := frappeDatetime(l.creation)
			if slices.Contains(dts, l.refDocType) && c.After(after) {
				out = append(out, pyObj{{"update_type", l.updateType}, {"ref_doctype", l.refDocType}, {"docname", l.docname},
					{"data", l.data}, {"name", l.name}, {"creation", l.creation}})
			}
		}
		if out == nil {
			out = []any{}
		}
		writeWire(w, http.StatusOK, pyResponse(pyObj{{"message", out}}))
	case req.Cmd != "":
		if fp.missing != nil {
			fp.missing(w, req.Cmd)
		} else {
			frappeNoMethod(w, req.Cmd)
		}
	case strings.HasPrefix(r.URL.Path, "/api/resource/Event Consumer/"):
		name := strings.TrimPrefix(r.URL.Path, "/api/resource/Event Consumer/")
		if fp.consumer == nil || name != fp.consumer["name"] {
			frappeError(w, http.StatusNotFound, "DoesNotExistError", "Event Consumer "+name+" not found")
			return
		}
		if r.Method == http.MethodPut {
			var d map[string]any
			if err := json.Unmarshal([]byte(req.Form.Get("data")), &d); err != nil {
				frappeError(w, http.StatusExpectationFailed, "ValidationError", err.Error())
				return
			}
			for k, v := range d {
				if k == "api_secret" && strings.Trim(v.(string), "*") == "" {
					continue
				}
				fp.consumer[k] = v
			}
		}
		out := maps.Clone(fp.consumer)
		delete(out, "_secret")
		writeWire(w, http.StatusOK, pyResponse(pyObj{{"data", out}}))
	default:
		frappeError(w, http.StatusNotFound, "DoesNotExistError", "Page "+r.URL.Path+" not found")
	}
}

// notify is P2 as Frappe's notify() sends it: root POST, form
// cmd=…new_event_notification&producer_url=<producer url>, consumer keys.
func (fp *frappeProducer) notify(tb testing.TB, c *testSite) {
	tb.Helper()
	r := frappeDo(tb, http.MethodPost, c.URL, "/", pyForm("cmd", fp.prefix+mNewEvent, "producer_url", fp.URL), basicAuth(c.key, c.secret))
	if r.Status != http.StatusOK || string(r.Body) != "{}\n" && string(r.Body) != "{}" {
		tb.Fatalf("new_event_notification: HTTP %d %q, want 200 {}", r.Status, r.Body)
	}
}

// approve is update_consumer_status (P3, P5): GET the consumer's Event
// Producer, set each row's status, incoming_change = True, PUT it back.
func (fp *frappeProducer) approve(tb testing.TB, c *testSite, status string) {
	tb.Helper()
	fp.mu.Lock() // the admin's edit of the Event Consumer on the producer
	if fp.consumer != nil {
		for _, r := range fp.consumer["consumer_doctypes"].([]any) {
			r.(map[string]any)["status"] = status
		}
	}
	fp.mu.Unlock()
	target := "/api/resource/Event%20Producer/" + fp.URL
	r := frappeDo(tb, http.MethodGet, c.URL, target, "", basicAuth(c.key, c.secret))
	top := r.JSON(tb)
	ep, ok := top["data"].(map[string]any)
	if r.Status != http.StatusOK || !ok || top["message"] != nil {
		tb.Fatalf("GET %s: HTTP %d %s", target, r.Status, r.Body)
	}
	rows, _ := ep["producer_doctypes"].([]any)
	for _, e := range rows {
		e.(map[string]any)["status"] = status
	}
	ep["incoming_change"] = true
	r = frappeDo(tb, http.MethodPut, c.URL, target, pyForm("data", pyDumps(ep)), basicAuth(c.key, c.secret))
	if top := r.JSON(tb); r.Status != http.StatusOK || top["data"] == nil || top["message"] != nil {
		tb.Fatalf("PUT %s: HTTP %d %s", target, r.Status, r.Body)
	}
}

// noteJSON is frappe.as_json(doc) of a Note with child rows, as written in a
// Create log's data (indent 1, sorted keys, nulls omitted, __islocal set).
func noteJSON(name, body string, rows ...[2]any) string {
	var items []any
	for i, r := range rows {
		items = append(items, map[string]any{"name": r[0], "item": r[1], "qty": 1.0 + float64(i), "idx": i + 1, "docstatus": 0,
			"doctype": "Note Item", "parent": name, "parentfield": "items", "parenttype": "Note",
			"owner": "Administrator", "creation": "2024-03-01 09:00:01.000000", "modified": "2024-03-01 09:00:01.000000", "modified_by": "Administrator"})
	}
	return pyAsJSON(map[string]any{"doctype": "Note", "name": name, "title": name, "body": body, "public": 0, "docstatus": 0, "idx": 0,
		"owner": "Administrator", "creation": "2024-03-01 09:00:01.000000", "modified": "2024-03-01 09:00:01.000000",
		"modified_by": "Administrator", "__islocal": 1, "items": items})
}

func TestWireFrappeProducer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, prefix string
		missing      func(w http.ResponseWriter, cmd string)
	}{
		{"v14", stream.PrefixCore, frappeNoMethod},
		{"v14-not-whitelisted", stream.PrefixCore, frappeNotWhitelisted},
		{"app", stream.PrefixApp, frappeNoMethod},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fp := newFrappeProducer(t, tc.prefix)
			fp.missing = tc.missing
			wireProducerFlow(t, fp)
		})
	}
}

// frappeNotWhitelisted is the other refusal seen in the field (erpnext
// #36239): 403 PermissionError "Function … is not whitelisted."
func frappeNotWhitelisted(w http.ResponseWriter, cmd string) {
	frappeError(w, http.StatusForbidden, "PermissionError", "Function "+cmd+" is not whitelisted.")
}

func wireProducerFlow(t *testing.T, fp *frappeProducer) {
	c := startSite(t, fastStream())
	noteDocTypes(t, c.Site)
	other := stream.PrefixApp
	if fp.prefix == stream.PrefixApp {
		other = stream.PrefixCore
	}

	// Registration: the consumer tries the app prefix first; against a v14
	// site that is refused and it falls back to the core prefix.
	mustInsert(t, c.Site, "Event Producer", doc.Doc{"producer_url": fp.URL, "api_key": fp.key, "api_secret": fp.secret,
		"user": subscriber, "producer_doctypes": []doc.Doc{{"ref_doctype": "Note", "use_same_name": int64(1)}}})

	var reg *wireReq
	var sawLiveness, sawFallback bool
	for _, r := range fp.requests() {
		switch {
		case r.Method == http.MethodGet && r.Path == "/" && r.Cmd == "":
			sawLiveness = true
		case r.Cmd == other+mRegister:
			sawFallback = true
		case r.Cmd == fp.prefix+mRegister:
			reg = &r
		}
	}
	if !sawLiveness || reg == nil {
		t.Fatalf("registration requests %v: want GET / and register_consumer", fp.requests())
	}
	t.Logf("register_consumer: tried the other prefix first (refused there): %v; then %s %s", sawFallback, reg.Method, reg.Target)
	if reg.Method != http.MethodPost || reg.Authz != basicAuth(fp.key, fp.secret) {
		t.Errorf("register_consumer: %s with Authorization %q, want POST with Basic of the producer keys", reg.Method, reg.Authz)
	}
	if strings.Contains(reg.Query, "data") || strings.Contains(reg.Query, "secret") || strings.Contains(reg.Query, c.secret) {
		t.Errorf("register_consumer query string %q: the credentials must travel in the body", reg.Query)
	}
	body, _ := url.ParseQuery(reg.Body)
	var data map[string]any
	if err := json.Unmarshal([]byte(body.Get("data")), &data); err != nil {
		t.Fatalf("register_consumer body %q: data is not JSON: %v", reg.Body, err)
	}
	cd, isStr := data["consumer_doctypes"].(string)
	var rows []map[string]any
	if !isStr || json.Unmarshal([]byte(cd), &rows) != nil || len(rows) != 1 || rows[0]["doctype"] != "Note" {
		t.Errorf("consumer_doctypes %#v: want a JSON string of [{doctype: Note, condition: null}]", data["consumer_doctypes"])
	} else if v, has := rows[0]["condition"]; !has || v != nil {
		t.Errorf("consumer_doctypes row %v: want condition null", rows[0])
	}
	if data["event_consumer"] != c.URL || data["user"] != subscriber || data["api_key"] != c.key || data["api_secret"] != c.secret {
		t.Errorf("register_consumer data %v: want event_consumer %s, user %s, the consumer's keys", data, c.URL, subscriber)
	}
	ep := mustGet(t, c.Site, "Event Producer", fp.URL)
	if ep.Str("method_prefix") != fp.prefix || ep.Int("native") != 0 || ep.Rows("producer_doctypes")[0].Str("status") != "Pending" {
		t.Errorf("Event Producer %v: want method_prefix %s, native 0, the row Pending", ep, fp.prefix)
	}
	if lu := lastUpdateOf(c.Site, fp.URL); lu != fp.regLast {
		t.Errorf("cursor after registration %q, want %q", lu, fp.regLast)
	}

	// The producer approves (update_consumer_status): no call back.
	n := len(fp.requests())
	fp.approve(t, c, "Approved")
	if st := mustGet(t, c.Site, "Event Producer", fp.URL).Rows("producer_doctypes")[0].Str("status"); st != "Approved" {
		t.Fatalf("status after the producer's PUT: %q", st)
	}
	for _, r := range fp.requests()[n:] {
		if strings.HasPrefix(r.Path, "/api/resource/") {
			t.Errorf("the incoming_change PUT was echoed to the producer: %s %s", r.Method, r.Target)
		}
	}

	// A later save of the Event Producer on the consumer pushes the
	// subscription to the Frappe producer (C2 GET, C3 PUT of its Event
	// Consumer): the producer's statuses kept, the condition carried,
	// incoming_change set, the secret masked, the producer keys.
	n = len(fp.requests())
	ep = mustGet(t, c.Site, "Event Producer", fp.URL)
	epRows := ep.Rows("producer_doctypes")
	epRows[0]["condition"] = "doc.public == 0"
	mustSave(t, c.Site, "Event Producer", fp.URL, doc.Doc{"producer_doctypes": epRows})
	var getReq, putReq *wireReq
	for _, r := range fp.requests()[n:] {
		if r.Path == "/api/resource/Event Consumer/"+c.URL {
			switch r.Method {
			case http.MethodGet:
				getReq = &r
			case http.MethodPut:
				putReq = &r
			}
		}
	}
	if getReq == nil || putReq == nil {
		t.Fatalf("saving the Event Producer sent %v, want GET and PUT /api/resource/Event Consumer/%s", fp.requests()[n:], c.URL)
	}
	t.Logf("C2/C3 sent as %s %s and %s %s", getReq.Method, getReq.Target, putReq.Method, putReq.Target)
	var put map[string]any
	if err := json.Unmarshal([]byte(putReq.Form.Get("data")), &put); err != nil {
		t.Fatalf("C3 body %q: data is not JSON: %v", putReq.Body, err)
	}
	prow, _ := put["consumer_doctypes"].([]any)
	if getReq.Authz != basicAuth(fp.key, fp.secret) || putReq.Authz != basicAuth(fp.key, fp.secret) || !pyTruthy(put["incoming_change"]) ||
		put["user"] != subscriber || len(prow) != 1 {
		t.Fatalf("C3 PUT data %v (auth %q)", put, putReq.Authz)
	}
	if r := prow[0].(map[string]any); r["ref_doctype"] != "Note" || r["status"] != "Approved" || r["condition"] != "doc.public == 0" {
		t.Errorf("C3 row %v: want Note, the producer's status Approved, the new condition", r)
	}
	if sec, _ := put["api_secret"].(string); sec != "" && strings.Trim(sec, "*") != "" {
		t.Errorf("C3 sends api_secret %q: want a mask (all *) or nothing", sec)
	}

	// Create, Update, Delete logs; a log older than the cursor is never served.
	fp.addLog(frappeLog{name: "old0000001", updateType: "Create", refDocType: "Note", docname: "old", creation: "2024-03-01 08:59:59.999999", data: noteJSON("old", "x")})
	c1, c2, c3 := "2024-03-01 09:00:01", "2024-03-01 09:00:02.000500", "2024-03-01 09:00:03.500000"
	fp.addLog(frappeLog{name: "log0000001", updateType: "Create", refDocType: "Note", docname: "w1", creation: c1,
		data: noteJSON("w1", "first", [2]any{"row-a1", "apple"}, [2]any{"row-a2", "pear"})})
	fp.notify(t, c)
	eventually(t, "w1 on the consumer", 10*time.Second, func() bool { return find(c.Site, "Note", "w1") != nil })
	w1 := mustGet(t, c.Site, "Note", "w1")
	if w1.Str("body") != "first" || len(w1.Rows("items")) != 2 || w1.Rows("items")[0].Name() != "row-a1" || w1.Rows("items")[1].Name() != "row-a2" {
		t.Fatalf("w1 on the consumer: %v", w1)
	}

	diff := pyAsJSON(map[string]any{
		"added":       map[string]any{"items": []any{map[string]any{"name": "row-a3", "item": "plum", "qty": 3.0, "idx": 3, "docstatus": 0, "doctype": "Note Item", "parent": "w1", "parentfield": "items", "parenttype": "Note"}}},
		"changed":     map[string]any{"body": "second"},
		"removed":     map[string]any{"items": []any{"row-a2"}},
		"row_changed": map[string]any{"items": []any{map[string]any{"name": "row-a1", "qty": 7.0}}},
	})
	fp.addLog(frappeLog{name: "log0000002", updateType: "Update", refDocType: "Note", docname: "w1", creation: c2, data: diff})
	fp.notify(t, c)
	eventually(t, "the Update on the consumer", 10*time.Second, func() bool {
		d := find(c.Site, "Note", "w1")
		return d != nil && d.Str("body") == "second"
	})
	w1 = mustGet(t, c.Site, "Note", "w1")
	items := w1.Rows("items")
	if len(items) != 2 || items[0].Name() != "row-a1" || items[0]["qty"] != 7.0 || items[1].Name() != "row-a3" || items[1].Str("item") != "plum" {
		t.Fatalf("w1 rows after the Update: %v", items)
	}

	fp.addLog(frappeLog{name: "log0000003", updateType: "Delete", refDocType: "Note", docname: "w1", creation: c3, data: nil})
	fp.notify(t, c)
	eventually(t, "w1 deleted on the consumer", 10*time.Second, func() bool { return find(c.Site, "Note", "w1") == nil })
	eventually(t, "the cursor at the last creation", 5*time.Second, func() bool { return lastUpdateOf(c.Site, fp.URL) == c3 })
	if find(c.Site, "Note", "old") != nil {
		t.Errorf("a log older than the registration cursor was applied")
	}

	// One Event Sync Log per applied event, all Synced.
	sl, err := c.App.List(t.Context(), adminUser(), app.ListArgs{DocType: "Event Sync Log", Fields: `["update_type", "status", "producer_doc"]`,
		Filters: pyDumps(pyObj{{"event_producer", fp.URL}}), OrderBy: "creation asc", Limit: "0"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range sl {
		got = append(got, l.Str("update_type")+" "+l.Str("producer_doc")+" "+l.Str("status"))
	}
	if want := []string{"Create w1 Synced", "Update w1 Synced", "Delete w1 Synced"}; !slices.Equal(got, want) {
		t.Errorf("Event Sync Log %v, want %v", got, want)
	}

	// Every pull: the core prefix, the producer keys, event_consumer = the
	// consumer URL, doctypes = the approved remote DocTypes, and last_update =
	// a cursor it had reached.
	cursors := map[string]bool{}
	pulls := 0
	for _, r := range fp.requests() {
		if !strings.HasSuffix(r.Cmd, mGetLogs) {
			continue
		}
		pulls++
		var dts []string
		json.Unmarshal([]byte(r.Form.Get("doctypes")), &dts)
		if r.Cmd != fp.prefix+mGetLogs || r.Method != http.MethodPost || r.Authz != basicAuth(fp.key, fp.secret) ||
			r.Form.Get("event_consumer") != c.URL || !slices.Equal(dts, []string{"Note"}) {
			t.Errorf("pull %s %s form %v auth %q", r.Method, r.Target, r.Form, r.Authz)
		}
		lu := r.Form.Get("last_update")
		if !slices.Contains([]string{fp.regLast, c1, c2, c3}, lu) {
			t.Errorf("pull with last_update %q: not a cursor the consumer reached", lu)
		}
		cursors[lu] = true
	}
	for _, want := range []string{fp.regLast, c1, c2} {
		if !cursors[want] {
			t.Errorf("no pull with last_update %q (pulls carried %v)", want, cursors)
		}
	}
	t.Logf("%d pulls; cursors sent: %v", pulls, cursors)

	// A Frappe producer serves only Frappe's methods: a docstream extension
	// (e.g. backfill) may be tried once, and must not be retried in a loop.
	// (Twice is tolerated: the Event Producer save above may carry a stale
	// copy of the row's backfill status and so reset it.)
	foreign := map[string]int{}
	for _, r := range fp.requests() {
		if r.Cmd != "" && r.Cmd != fp.prefix+mGetLogs && !strings.HasSuffix(r.Cmd, mRegister) {
			foreign[r.Cmd]++
		}
	}
	for cmd, k := range foreign {
		if k > 2 {
			t.Errorf("the consumer called %s, which a Frappe producer does not have, %d times (along with %d pulls): it must give up after the first refusal", cmd, k, pulls)
		}
	}

	// Re-registering the same consumer: Frappe answers {} and the consumer
	// must refuse cleanly, leaving nothing half-made.
	if err := c.App.Delete(t.Context(), adminUser(), "Event Producer", fp.URL, optsNone()); err != nil {
		t.Fatal(err)
	}
	_, err = c.App.Insert(context.Background(), adminUser(), "Event Producer", doc.Doc{"producer_url": fp.URL, "api_key": fp.key,
		"api_secret": fp.secret, "user": subscriber, "producer_doctypes": []doc.Doc{{"ref_doctype": "Note", "use_same_name": int64(1)}}}, optsNone())
	if err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("re-registration answered {}: err %v, want the 'already registered' refusal", err)
	}
	if find(c.Site, "Event Producer", fp.URL) != nil || find(c.Site, "Event Producer Last Update", fp.URL) != nil {
		t.Errorf("a refused registration left an Event Producer or its Last Update behind")
	}
}

// ============================================================================
// C. Fuzz: arbitrary bytes as a Frappe producer's pull answer.
// ============================================================================

// FuzzPullAnswer feeds arbitrary bytes to a real docstream consumer as the
// answer of a Frappe producer's get_update_logs_for_consumer, over HTTP. The
// pair of sites lives for the whole fuzz target. For each input the consumer
// must not panic, and must apply nothing it should not:
//   - nothing at all (no document, no Event Sync Log, no cursor move) when
//     the answer is not {"message": [ … ]} or FrappeClient would raise on it;
//   - only documents named by a Note log of the answer (Note is the only
//     subscribed DocType; "Fuzz Secret" exists locally but is not subscribed
//     and must never be written);
//   - the cursor only moves forward, to a creation of the answer.
func FuzzPullAnswer(f *testing.F) {
	cfg := fastStream()
	cfg.RetryBase, cfg.CatchUp = time.Hour, time.Hour // nothing happens between inputs unless notified
	c := startSiteDB(f, f.TempDir(), "127.0.0.1:0", "", cfg)
	for _, dt := range []doc.Doc{
		{"name": "Note Item", "istable": int64(1), "fields": []doc.Doc{{"fieldname": "item", "fieldtype": "Data", "reqd": int64(1)}, {"fieldname": "qty", "fieldtype": "Float"}}},
		{"name": "Note", "autoname": "field:title", "is_submittable": int64(1), "fields": []doc.Doc{
			{"fieldname": "title", "fieldtype": "Data", "reqd": int64(1)}, {"fieldname": "body", "fieldtype": "Text"},
			{"fieldname": "public", "fieldtype": "Check"}, {"fieldname": "items", "fieldtype": "Table", "options": "Note Item"}},
			"permissions": []doc.Doc{{"role": "System Manager", "read": int64(1), "write": int64(1), "create": int64(1), "delete": int64(1), "submit": int64(1), "cancel": int64(1)}}},
		{"name": "Fuzz Secret", "autoname": "field:title", "fields": []doc.Doc{{"fieldname": "title", "fieldtype": "Data", "reqd": int64(1)}},
			"permissions": []doc.Doc{{"role": "System Manager", "read": int64(1), "write": int64(1), "create": int64(1), "delete": int64(1)}}},
	} {
		mustInsert(f, c.Site, "DocType", dt)
	}
	fp := newFrappeProducer(f, stream.PrefixCore)
	fp.fuzzMode = true
	mustInsert(f, c.Site, "Event Producer", doc.Doc{"producer_url": fp.URL, "api_key": fp.key, "api_secret": fp.secret,
		"user": subscriber, "producer_doctypes": []doc.Doc{{"ref_doctype": "Note", "use_same_name": int64(1)}}})
	fp.approve(f, c, "Approved")

	rec := func(typ, dt, name string, data any, creation string) pyObj {
		return pyObj{{"update_type", typ}, {"ref_doctype", dt}, {"docname", name}, {"data", data}, {"name", "log" + name + typ}, {"creation", creation}}
	}
	msg := func(logs ...any) []byte { return []byte(pyResponse(pyObj{{"message", logs}})) }
	upd := pyAsJSON(map[string]any{"added": map[string]any{}, "changed": map[string]any{"body": "b2"}, "removed": map[string]any{},
		"row_changed": map[string]any{"items": []any{map[string]any{"name": "f1-r1", "qty": 4.0}}}})
	for _, seed := range [][]byte{
		msg(),
		msg(rec("Create", "Note", "f1", noteJSON("f1", "b1", [2]any{"f1-r1", "x"}), "2024-03-01 10:00:00.000001")),
		msg(rec("Update", "Note", "f1", upd, "2024-03-01 10:00:01")),
		msg(rec("Create", "Note", "f2", noteJSON("f2", "b"), "2024-03-01 10:00:02"), rec("Delete", "Note", "f2", nil, "2024-03-01 10:00:03")),
		msg(rec("Create", "Fuzz Secret", "s1", pyDumps(pyObj{{"title", "s1"}}), "2024-03-01 10:00:04")),
		msg(rec("Create", "Note", "f3", map[string]any{"title": "f3"}, "2024-03-01 10:00:05")), // data as an object, not a string
		msg(rec("Update", "Note", "nosuch", `{"changed": {"body": 1}}`, "2024-03-01 10:00:06"), nil, 1, "x"),
		[]byte(pyResponse(pyObj{{"exc", `["Traceback"]`}, {"message", []any{rec("Create", "Note", "f4", noteJSON("f4", ""), "2024-03-01 10:00:07")}}})),
		[]byte(`{"message": "not a list"}`),
		[]byte(`{"message": null}`),
		[]byte(`{}`),
		[]byte(`[]`),
		[]byte(`null`),
		[]byte(`<html>502 Bad Gateway</html>`),
		[]byte(`{"exc_type": "ValidationError", "_server_messages": "[\"{\\\"message\\\": \\\"x\\\"}\"]"}`),
		[]byte(`{"message": [{"update_type": "Create", "ref_doctype": "Note", "docname": "f5", "data": "{\"title\": \"f5\", \"items\": [{\"name\": \"r\", \"item\": 1}]}", "creation": "2024-03-01 10:00:08", "seq": 5}]}`),
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, answer []byte) {
		before, secrets := fuzzState(t, c.Site)
		cursor := lastUpdateOf(c.Site, fp.URL)
		syncLogs := countOf(t, c.Site, "Event Sync Log")

		fp.arm(answer)
		deadline := time.Now().Add(10 * time.Second)
		for !fp.fuzzDone() {
			if time.Now().After(deadline) {
				fp.mu.Lock()
				armed, served, pulls := fp.fuzzArmed, fp.fuzzServed, fp.pullCount
				fp.mu.Unlock()
				t.Fatalf("the consumer did not pull again after the answer %q (armed %v, served at pull %d, pulls %d)", answer, armed, served, pulls)
			}
			n := fp.pulls()
			fp.notify(t, c) // wakes the worker, also from an error backoff
			for i := 0; i < 20 && !fp.fuzzDone() && fp.pulls() == n; i++ {
				time.Sleep(time.Millisecond)
			}
		}

		after, secretsAfter := fuzzState(t, c.Site)
		if secretsAfter != secrets {
			t.Fatalf("answer %q wrote Fuzz Secret, a DocType that is not subscribed (%d → %d)", answer, secrets, secretsAfter)
		}
		allowed, creations, valid := fuzzOracle(answer)
		for name, m := range after {
			if before[name] != m && !allowed[name] {
				t.Fatalf("answer %q changed Note %q, which it does not name in a Note log", answer, name)
			}
		}
		for name := range before {
			if _, ok := after[name]; !ok && !allowed[name] {
				t.Fatalf("answer %q deleted Note %q, which it does not name in a Note log", answer, name)
			}
		}
		now := lastUpdateOf(c.Site, fp.URL)
		if !valid {
			if !maps.Equal(before, after) || now != cursor || countOf(t, c.Site, "Event Sync Log") != syncLogs {
				t.Fatalf("answer %q is not a usable pull answer, yet something was applied (cursor %q → %q)", answer, cursor, now)
			}
			return
		}
		if now != cursor && (!creations[now] || now < cursor) {
			t.Fatalf("answer %q moved the cursor %q → %q: not forward to one of its creations", answer, cursor, now)
		}
	})
}

// fuzzOracle reads an answer as FrappeClient and pull_from_node would:
// valid when it is a JSON object without a truthy exc whose message is a
// list; allowed = the docnames of its Note logs; creations = its creation
// values. Keys are matched case-insensitively as Go's decoder into a struct
// does (a superset of what a Python consumer would apply).
func fuzzOracle(answer []byte) (allowed, creations map[string]bool, valid bool) {
	allowed, creations = map[string]bool{}, map[string]bool{}
	var env map[string]json.RawMessage
	if json.Unmarshal(answer, &env) != nil {
		return allowed, creations, false
	}
	var exc any
	json.Unmarshal(env["exc"], &exc)
	if pyTruthy(exc) {
		return allowed, creations, false
	}
	var list []json.RawMessage
	if json.Unmarshal(env["message"], &list) != nil || list == nil {
		return allowed, creations, false
	}
	for _, raw := range list {
		var e map[string]any
		if json.Unmarshal(raw, &e) != nil {
			continue
		}
		isNote := false
		var names []string
		for k, v := range e {
			s, _ := v.(string)
			switch {
			case strings.EqualFold(k, "ref_doctype"):
				isNote = isNote || s == "Note"
			case strings.EqualFold(k, "docname"):
				names = append(names, s)
			case strings.EqualFold(k, "creation"):
				creations[s] = true
			}
		}
		for _, n := range names {
			allowed[n] = allowed[n] || isNote
		}
	}
	return allowed, creations, true
}

// fuzzState is every Note's name → modified, and the number of Fuzz Secret
// documents.
func fuzzState(tb testing.TB, s *site.Site) (map[string]string, int) {
	tb.Helper()
	rows, err := s.App.List(context.Background(), adminUser(), app.ListArgs{DocType: "Note", Fields: `["name", "modified"]`, Limit: "0"})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Name()] = r.Str("modified")
	}
	return out, countOf(tb, s, "Fuzz Secret")
}

func countOf(tb testing.TB, s *site.Site, doctype string) int {
	tb.Helper()
	n, err := s.App.Count(context.Background(), adminUser(), app.ListArgs{DocType: doctype})
	if err != nil {
		tb.Fatal(err)
	}
	return int(n)
}

func (fp *frappeProducer) pulls() int {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return fp.pullCount
}

// arm makes the next pull get answer as its body.
func (fp *frappeProducer) arm(answer []byte) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.fuzz, fp.fuzzArmed, fp.fuzzServed = answer, true, 0
}

// fuzzDone: the armed answer was served and the consumer pulled again after
// it (so it has finished with it: one pull worker per producer).
func (fp *frappeProducer) fuzzDone() bool {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return !fp.fuzzArmed && fp.fuzzServed > 0 && fp.pullCount > fp.fuzzServed
}
