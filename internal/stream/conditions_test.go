package stream_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/stream"
)

// A condition is evaluated on the producer against the current document: a
// document that starts matching arrives once with its whole state, one that
// stops matching gets no further updates (its copy stays, as in Frappe).
func TestConditions(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		p, c := start(t, fastStream()), start(t, fastStream())
		noteDocTypes(t, p.Site)
		noteDocTypes(t, c.Site)

		// A condition that does not parse is refused when saved.
		_, err := c.App.Insert(context.Background(), app.Admin(), "Event Producer", doc.Doc{"producer_url": p.URL, "api_key": p.key,
			"api_secret": p.secret, "user": subscriber, "producer_doctypes": []doc.Doc{{"ref_doctype": "Note", "condition": "doc.public =="}}}, app.Opts{})
		if !errs.Is(err, errs.KindValidation) || !strings.Contains(err.Error(), "condition") {
			t.Fatalf("bad condition: err = %v, want a ValidationError about the condition", err)
		}
		if find(p.Site, "Event Consumer", c.URL) != nil {
			t.Fatal("a refused Event Producer left an Event Consumer on the producer")
		}

		subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0), "condition": "doc.public == 1"})
		mustInsert(t, p.Site, "Note", doc.Doc{"title": "shown", "public": int64(1)})
		mustInsert(t, p.Site, "Note", doc.Doc{"title": "hidden", "public": int64(0)})
		mustSave(t, p.Site, "Note", "hidden", doc.Doc{"body": "written while hidden"})
		eventually(t, "matching note", 10*time.Second, func() bool { return find(c.Site, "Note", "shown") != nil })

		// Starts matching: arrives once, whole.
		mustSave(t, p.Site, "Note", "hidden", doc.Doc{"public": int64(1)})
		eventually(t, "note that started matching", 10*time.Second, func() bool { return find(c.Site, "Note", "hidden") != nil })
		if got := mustGet(t, c.Site, "Note", "hidden"); got.Str("body") != "written while hidden" {
			t.Fatalf("body = %q, want the full current state", got.Str("body"))
		}
		// Stops matching: no further updates.
		mustSave(t, p.Site, "Note", "shown", doc.Doc{"public": int64(0), "body": "after it stopped matching"})
		mustInsert(t, p.Site, "Note", doc.Doc{"title": "marker", "public": int64(1)})
		eventually(t, "marker", 10*time.Second, func() bool { return find(c.Site, "Note", "marker") != nil })
		if got := mustGet(t, c.Site, "Note", "shown"); got.Str("body") != "" || got.Int("public") != 1 {
			t.Fatalf("a note that stopped matching was updated: %v", got)
		}
		if n := count(t, c.Site, "Event Sync Log", eq("status", "Failed")); n != 0 {
			t.Fatalf("%d failed events", n)
		}
	})
}

// A condition that errors at run time denies the event.
func TestConditionRuntimeError(t *testing.T) {
	t.Parallel()
	p, c := startSite(t, fastStream()), startSite(t, fastStream())
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0), "condition": "doc.missing < 1 or doc.title == 'ok'"})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "denied"})
	time.Sleep(time.Second)
	if find(c.Site, "Note", "denied") != nil {
		t.Fatal("an event whose condition errors was delivered")
	}
	if n := count(t, p.Site, "Error Log", eq("reference_name", "denied")); n == 0 {
		t.Fatal("the condition error is not in the producer's Error Log")
	}
}

// The "cmd: name" form calls a condition function registered in Go.
func TestConditionCmd(t *testing.T) {
	t.Parallel()
	stream.Conditions.Register("notes.title_starts_with_a", func(ctx context.Context, args map[string]any) (any, error) {
		d, _ := args["doc"].(map[string]any)
		title, _ := d["title"].(string)
		return strings.HasPrefix(title, "a"), nil
	})
	p, c := startSite(t, fastStream()), startSite(t, fastStream())
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0), "condition": "cmd: notes.title_starts_with_a"})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "bravo"})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "alpha"})
	eventually(t, "alpha", 10*time.Second, func() bool { return find(c.Site, "Note", "alpha") != nil })
	if find(c.Site, "Note", "bravo") != nil {
		t.Fatal("bravo does not match the cmd condition but arrived")
	}
}

// A Frappe consumer (creation cursor, no limit) is not stuck when a whole
// page is withheld by its condition: the producer scans on.
func TestConditionFrappeConsumerNotStuck(t *testing.T) {
	t.Parallel()
	cfg := fastStream()
	cfg.FrappePage = 2
	p := startSite(t, cfg)
	noteDocTypes(t, p.Site)
	consumer := "http://127.0.0.1:1"
	if _, err := p.App.Insert(context.Background(), app.Admin(), "Event Consumer", doc.Doc{"callback_url": consumer,
		"user": subscriber, "api_key": "k", "api_secret": "s", "incoming_change": int64(1),
		"consumer_doctypes": []doc.Doc{{"ref_doctype": "Note", "status": "Approved", "condition": "doc.public == 1"}}},
		app.Opts{IgnorePermissions: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": "hidden-" + strings.Repeat("x", i+1)})
	}
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "visible", "public": int64(1)})
	form := url.Values{"cmd": {stream.PrefixCore + ".event_update_log.event_update_log.get_update_logs_for_consumer"},
		"event_consumer": {consumer}, "doctypes": {`["Note"]`}, "last_update": {"2000-01-01 00:00:00.000000"}}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.key+":"+p.secret)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Message []map[string]any `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Message) != 1 || body.Message[0]["docname"] != "visible" {
		t.Fatalf("pull answered %v, want the one visible log", body.Message)
	}
}
