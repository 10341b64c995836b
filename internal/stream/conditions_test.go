package stream_test

import (
	"context"
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
