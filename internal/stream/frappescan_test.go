package stream_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"docstream/internal/doc"
	"docstream/internal/stream"
)

// TestFrappePullSkipsWhatItRead: a Frappe consumer (a creation cursor, no
// after_seq) following a DocType that rarely changes is not made to read
// the same logs of other DocTypes again on every pull: an empty answer
// remembers the head it read up to, and the next pull with that cursor and
// those DocTypes starts after it. What it then receives is exactly what it
// would have: the next log of its DocType, once; and a pull for other
// DocTypes with the same cursor still gets theirs.
func TestFrappePullSkipsWhatItRead(t *testing.T) {
	t.Parallel()
	p := startSite(t, fastStream())
	noteDocTypes(t, p.Site)
	consumer := "http://frappe-consumer.example"
	memoAndConsumer(t, p.Site, consumer)

	type record struct{ Docname, Creation string }
	pull := func(cursor string, doctypes ...string) []record {
		t.Helper()
		dts, _ := json.Marshal(doctypes)
		form := url.Values{"event_consumer": {consumer}, "doctypes": {string(dts)}, "last_update": {cursor}}
		resp, body := postForm(t, p, "/api/method/frappe.event_streaming.doctype.event_update_log.event_update_log.get_update_logs_for_consumer", form)
		var out struct{ Message []record }
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
			t.Fatalf("pull: %d %s", resp.StatusCode, body)
		}
		return out.Message
	}

	mustInsert(t, p.Site, "Memo", doc.Doc{"title": "m1"})
	got := pull("2000-01-01 00:00:00.000000", "Memo")
	if len(got) != 1 || got[0].Docname != "m1" {
		t.Fatalf("first pull: %v, want m1", got)
	}
	cursor := got[0].Creation
	for i := range 30 {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": "n" + string(rune('a'+i))})
	}
	if got := pull(cursor, "Memo"); len(got) != 0 {
		t.Fatalf("pull after notes only: %v, want nothing", got)
	}
	through := stream.ScannedThrough(p.Stream, consumer, cursor, "Memo")
	if through < 31 {
		t.Fatalf("an empty answer remembered it read up to %d, want the head (31 logs written)", through)
	}
	if got := pull(cursor, "Memo", "Note"); len(got) != 30 {
		t.Fatalf("same cursor, Notes too: %d logs, want the 30 Notes", len(got))
	}
	mustInsert(t, p.Site, "Memo", doc.Doc{"title": "m2"})
	if got := pull(cursor, "Memo"); len(got) != 1 || got[0].Docname != "m2" {
		t.Fatalf("pull after m2: %v, want m2 alone", got)
	}
	if got := pull(cursor, "Memo"); len(got) != 1 || got[0].Docname != "m2" {
		t.Fatalf("the same pull again (the consumer failed to apply it): %v, want m2 again", got)
	}
}
