package stream_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/stream"
)

// Logs every approved consumer has acknowledged and that are older than the
// retention age are pruned; a consumer asking for pruned logs is told so.
func TestRetention(t *testing.T) {
	t.Parallel()
	cfg := fastStream()
	cfg.Retention = time.Millisecond
	cfg.PruneEvery = time.Hour // pruned by hand below
	p, c := startSite(t, cfg), startSite(t, cfg)
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})
	// A second consumer that never pulls, still pending: it does not hold logs back.
	if _, err := p.App.Insert(context.Background(), app.Admin(), "Event Consumer", doc.Doc{"callback_url": "http://127.0.0.1:1",
		"user": subscriber, "api_key": "k", "api_secret": "s", "incoming_change": int64(1),
		"consumer_doctypes": []doc.Doc{{"ref_doctype": "Note", "status": "Pending"}}}, app.Opts{IgnorePermissions: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("r%d", i)})
	}
	eventually(t, "notes", 10*time.Second, func() bool { return count(t, c.Site, "Note") == 5 })
	eventually(t, "acknowledged", 10*time.Second, func() bool {
		o, _ := p.Stream.Overview(context.Background())
		for _, pc := range o.Consumers {
			if pc.Name == c.URL {
				return pc.LagEvents == 0
			}
		}
		return false
	})
	time.Sleep(5 * time.Millisecond)
	n, err := p.Stream.Prune(context.Background())
	if err != nil || n != 5 {
		t.Fatalf("Prune = %d, %v; want the 5 acknowledged logs", n, err)
	}
	if k := count(t, p.Site, "Event Update Log"); k != 0 {
		t.Fatalf("%d logs left", k)
	}
	// The pending consumer, approved now, asks from the start: told clearly.
	form := url.Values{"cmd": {stream.PrefixApp + ".event_update_log.event_update_log.get_update_logs_for_consumer"},
		"event_consumer": {"http://127.0.0.1:1"}, "doctypes": {`["Note"]`}, "after_seq": {"0"}, "limit": {"10"}}
	resp, body := postForm(t, p, "/", form)
	if resp.StatusCode != 417 || !strings.Contains(string(body), "pruned") {
		t.Fatalf("behind the window: %d %s", resp.StatusCode, body)
	}
	// Streaming to the caught-up consumer goes on.
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "after-prune"})
	eventually(t, "note after prune", 10*time.Second, func() bool { return find(c.Site, "Note", "after-prune") != nil })
}

// A docstream consumer's acknowledgement is not written on every pull, but
// one that stopped moving is on record within about a second, though the
// consumer is in the middle of a long-poll.
func TestAcknowledgementCatchesUpAtRest(t *testing.T) {
	t.Parallel()
	cfg := fastStream()
	cfg.PullWait = 20 * time.Second
	p, c := startSite(t, cfg), startSite(t, cfg)
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})
	const n = 15
	for i := range n {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("a%02d", i)})
	}
	eventually(t, "notes", 10*time.Second, func() bool { return count(t, c.Site, "Note") == n })
	var head int64
	err := p.Site.App.View(context.Background(), func(tx *app.Tx) error {
		var err error
		head, err = tx.StreamHead(context.Background())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the acknowledgement of the last change", 3*time.Second, func() bool {
		return mustGet(t, p.Site, "Event Consumer", c.URL).Int("acked_seq") == head
	})
}
