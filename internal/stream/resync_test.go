package stream_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/stream"
)

// Resync (Frappe's button, and resync_all) re-runs failed events now, writes
// their result, and moves nothing else.
func TestResync(t *testing.T) {
	t.Parallel()
	cfg := fastStream()
	cfg.RetryBase = time.Hour // no automatic retry during this test
	p, c := startSite(t, cfg), startSite(t, cfg)
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	mustInsert(t, c.Site, "Custom Field", doc.Doc{"dt": "Note", "fieldname": "approver", "fieldtype": "Data", "reqd": int64(1)})
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "one"})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "two"})
	eventually(t, "two failures", 10*time.Second, func() bool { return count(t, c.Site, "Event Sync Log", eq("status", "Failed")) == 2 })
	cursor := mustGet(t, c.Site, "Event Producer Last Update", p.URL).Int("last_seq")
	mustSave(t, c.Site, "Custom Field", "Note-approver", doc.Doc{"reqd": int64(0)})

	// Frappe's form: resync(update=<the Event Sync Log as JSON>), root cmd=.
	failed := firstSyncLog(t, c.Site, "Failed")
	b, _ := json.Marshal(failed)
	form := url.Values{"cmd": {stream.PrefixApp + ".event_producer.event_producer.resync"}, "update": {string(b)}}
	resp, body := postForm(t, c, "/", form)
	if resp.StatusCode != 200 || string(body) != `{"message":"Synced"}`+"\n" {
		t.Fatalf("resync answered %d %s", resp.StatusCode, body)
	}
	if st := mustGet(t, c.Site, "Event Sync Log", failed.Name()).Str("status"); st != "Synced" {
		t.Fatalf("sync log status = %q after resync", st)
	}
	if count(t, c.Site, "Event Sync Log", eq("status", "Failed")) != 1 {
		t.Fatal("resync of one event touched another")
	}
	// Bulk resync of everything still failed.
	n, err := c.Stream.ResyncAll(context.Background(), p.URL)
	if err != nil || n != 1 {
		t.Fatalf("ResyncAll = %d, %v", n, err)
	}
	if find(c.Site, "Note", "one") == nil || find(c.Site, "Note", "two") == nil {
		t.Fatal("resynced documents missing")
	}
	if got := mustGet(t, c.Site, "Event Producer Last Update", p.URL).Int("last_seq"); got != cursor {
		t.Fatalf("resync moved the cursor from %d to %d", cursor, got)
	}
	_ = app.Admin
}
