package stream_test

import (
	"github.com/prometheus/client_golang/prometheus/testutil"

	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/site"
	"docstream/internal/sitetest"
)

func count(t *testing.T, s *site.Site, doctype string, where ...filter.Cond) int {
	t.Helper()
	var n int64
	err := s.App.View(context.Background(), func(tx *app.Tx) error {
		dt, err := tx.Meta(doctype)
		if err != nil {
			return err
		}
		n, err = tx.Count(context.Background(), &filter.Query{DocType: dt, Where: where})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func eq(field string, v any) filter.Cond {
	return filter.Cond{Field: field, Op: "=", Value: v, Kind: meta.KindText}
}

// Two-way: A streams Note to B and B streams Note to A. One change on A is
// applied once on B and never comes back to A as a new event.
func TestEchoGuardTwoWay(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		a, b := start(t, fastStream()), start(t, fastStream())
		noteDocTypes(t, a.Site)
		noteDocTypes(t, b.Site)
		subscribe(t, a, b, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(0)})
		subscribe(t, b, a, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(0)})

		mustInsert(t, a.Site, "Note", doc.Doc{"title": "from-a"})
		eventually(t, "note on B", 10*time.Second, func() bool { return count(t, b.Site, "Note") == 1 })
		mustSave(t, a.Site, "Note", "from-a", doc.Doc{"body": "changed on A"})
		eventually(t, "update on B", 10*time.Second, func() bool {
			return count(t, b.Site, "Note", eq("body", "changed on A")) == 1
		})
		// Give any echo time to travel, then check nothing came back.
		time.Sleep(1500 * time.Millisecond)
		if n := count(t, a.Site, "Note"); n != 1 {
			t.Fatalf("A has %d notes, want 1 (echo)", n)
		}
		if n := count(t, b.Site, "Note"); n != 1 {
			t.Fatalf("B has %d notes, want 1", n)
		}
		// B logged the applied changes for its own consumer A, marked with their
		// origin, and A was never served them.
		if n := count(t, b.Site, "Event Update Log", eq("origin", a.URL)); n != 2 {
			t.Fatalf("B logged %d changes from A, want 2 (create and update)", n)
		}
		if n := count(t, a.Site, "Event Sync Log"); n != 0 {
			t.Fatalf("A applied %d events from B, want 0", n)
		}
		// Withheld echoes do not count as lag: A's cursor on B moves past them.
		eventually(t, "no lag either way", 10*time.Second, func() bool {
			ob, err1 := b.Stream.Overview(context.Background())
			oa, err2 := a.Stream.Overview(context.Background())
			return err1 == nil && err2 == nil && ob.Consumers[0].LagEvents == 0 && oa.Consumers[0].LagEvents == 0
		})
	})
}

// A failing event is retried with backoff, stays visible as Failed, later
// events of the same document wait behind it, and other documents flow on.
func TestFailedEventRetriedAndOrdered(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		p, c := start(t, fastStream()), start(t, fastStream())
		noteDocTypes(t, p.Site)
		noteDocTypes(t, c.Site)
		// The consumer's Note requires a field the producer never sets: every
		// Create fails until the consumer relaxes the rule.
		mustInsert(t, c.Site, "Custom Field", doc.Doc{"dt": "Note", "fieldname": "approver", "fieldtype": "Data", "reqd": int64(1)})
		subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1)})

		mustInsert(t, p.Site, "Note", doc.Doc{"title": "blocked"})
		mustSave(t, p.Site, "Note", "blocked", doc.Doc{"body": "second change"})
		eventually(t, "a Failed sync log", 10*time.Second, func() bool {
			// The Create fails; the Update waits behind it. (If the backfill that
			// follows approval saw the document first, its Create is the failed
			// one and the live Create waits too.)
			return count(t, c.Site, "Event Sync Log", eq("status", "Failed")) == 1 &&
				count(t, c.Site, "Event Sync Log", eq("status", "Queued")) >= 1
		})
		failed := firstSyncLog(t, c.Site, "Failed")
		if !strings.Contains(failed.Str("error"), "approver") {
			t.Fatalf("error = %q, want it to name the missing field", failed.Str("error"))
		}
		// Retried with backoff: attempts grow.
		eventually(t, "retries", 10*time.Second, func() bool { return firstSyncLog(t, c.Site, "Failed").Int("attempts") >= 2 })

		// Another document is not held up.
		mustInsert(t, c.Site, "Note", doc.Doc{"title": "local", "approver": "x"}) // unrelated local doc
		mustSave(t, c.Site, "Custom Field", "Note-approver", doc.Doc{"reqd": int64(0)})
		_ = mustGet
		eventually(t, "blocked doc applied in order after the fix", 15*time.Second, func() bool {
			d := find(c.Site, "Note", "blocked")
			return d != nil && d.Str("body") == "second change"
		})
		eventually(t, "no Failed or Queued left", 10*time.Second, func() bool {
			return count(t, c.Site, "Event Sync Log", eq("status", "Failed")) == 0 &&
				count(t, c.Site, "Event Sync Log", eq("status", "Queued")) == 0
		})
	})
}

// One page that mixes events that apply with one that fails: the failing
// event (and the later change of the same document) is set aside, every
// other event of the page is applied, and the cursor moves past the page.
// The page is first tried without savepoints; this proves the fallback.
func TestFailedEventInPageOthersApplied(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		p, c := start(t, fastStream()), start(t, fastStream())
		noteDocTypes(t, p.Site)
		noteDocTypes(t, c.Site)
		mustInsert(t, p.Site, "Custom Field", doc.Doc{"dt": "Note", "fieldname": "approver", "fieldtype": "Data"})
		mustInsert(t, c.Site, "Custom Field", doc.Doc{"dt": "Note", "fieldname": "approver", "fieldtype": "Data", "reqd": int64(1)})
		subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})

		// One producer transaction: its logs reach the consumer in one page.
		ctx := context.Background()
		err := p.Site.App.Update(ctx, func(tx *app.Tx) error {
			for _, d := range []doc.Doc{
				{"title": "ok-1", "approver": "a"},
				{"title": "bad"},
				{"title": "ok-2", "approver": "b"},
			} {
				if _, err := tx.Insert(ctx, app.Admin(), "Note", d, app.Opts{}); err != nil {
					return err
				}
			}
			_, err := tx.Save(ctx, app.Admin(), "Note", "bad", doc.Doc{"body": "later"}, app.Opts{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the good events applied", 10*time.Second, func() bool {
			return find(c.Site, "Note", "ok-1") != nil && find(c.Site, "Note", "ok-2") != nil
		})
		if find(c.Site, "Note", "bad") != nil {
			t.Error("the failing Create was applied")
		}
		if n := count(t, c.Site, "Event Sync Log", eq("status", "Synced")); n != 2 {
			t.Errorf("%d Synced sync logs, want 2", n)
		}
		if n := count(t, c.Site, "Event Sync Log", eq("status", "Failed")); n != 1 {
			t.Errorf("%d Failed sync logs, want 1", n)
		}
		if n := count(t, c.Site, "Event Sync Log", eq("status", "Queued")); n != 1 {
			t.Errorf("%d Queued sync logs, want 1", n)
		}
	})
}

func firstSyncLog(t *testing.T, s *site.Site, status string) doc.Doc {
	t.Helper()
	rows, err := s.App.List(context.Background(), app.Admin(), app.ListArgs{DocType: "Event Sync Log",
		Fields: []any{"*"}, Filters: map[string]any{"status": status}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return doc.Doc{}
	}
	return rows[0]
}

// A backlog larger than a page is drained page by page, with no loss and no
// duplicate, and use_same_name=0 names documents locally.
func TestPagedBacklogLocalNames(t *testing.T) {
	t.Parallel()
	cfg := fastStream()
	cfg.PageSize = 7
	p, c := startSite(t, cfg), startSite(t, cfg)
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	// Switch the consumer's Note to hash names so local names differ.
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(0)})
	for i := range 40 {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("bulk-%02d", i)})
	}
	eventually(t, "40 notes", 15*time.Second, func() bool { return count(t, c.Site, "Note") == 40 })
	for i := range 40 {
		if n := count(t, c.Site, "Note", eq("remote_docname", fmt.Sprintf("bulk-%02d", i)), eq("remote_site_name", p.URL)); n != 1 {
			t.Fatalf("bulk-%02d: %d copies", i, n)
		}
	}
}

// A consumer that was down catches up by itself when it comes back.
func TestOfflineConsumerCatchesUp(t *testing.T) {
	t.Parallel()
	p := startSite(t, fastStream())
	dir := t.TempDir()
	c := startSiteAt(t, dir, "127.0.0.1:0", fastStream())
	addr := strings.TrimPrefix(c.URL, "http://")
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1)})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "before"})
	eventually(t, "first note", 10*time.Second, func() bool { return find(c.Site, "Note", "before") != nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("while-down-%d", i)})
	}
	c2 := startSiteAt(t, dir, addr, fastStream())
	eventually(t, "catch-up", 15*time.Second, func() bool { return count(t, c2.Site, "Note") == 11 })
}

// /metrics exposes lag and throughput per producer and consumer.
func TestMetrics(t *testing.T) {
	t.Parallel()
	p, c := startSite(t, fastStream()), startSite(t, fastStream())
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1)})
	m := mustInsert(t, p.Site, "Note", doc.Doc{"title": "m"})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "m2"})
	mustSave(t, p.Site, "Note", m.Name(), doc.Doc{"title": "m, edited"})
	eventually(t, "note", 10*time.Second, func() bool { return find(c.Site, "Note", "m2") != nil })
	for _, tc := range []struct {
		s    *site.Site
		want []string
	}{
		{c.Site, []string{`docstream_events_applied_total{producer="` + p.URL + `"}`, "docstream_producer_lag_events", "docstream_pull_seconds_bucket"}},
		{p.Site, []string{"docstream_consumer_lag_events{consumer=\"" + c.URL + "\"}", `docstream_update_logs_written_total{doctype="Note",update_type="Create"} 2`,
			`docstream_update_logs_written_total{doctype="Note",update_type="Update"} 1`,
			"docstream_sqlite_wal_frames ", "docstream_sqlite_writer_checkpoints_total "}},
	} {
		// The worker counts a page just after committing it, so the
		// document can be visible a moment before its metrics.
		var missing []string
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp, err := http.Get(tc.s.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			missing = missing[:0]
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					missing = append(missing, w)
				}
			}
			if len(missing) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, w := range missing {
			t.Errorf("%s/metrics lacks %q", tc.s.URL, w)
		}
	}
}

// The dashboard's overview: states, lag and per-minute series on both sides.
func TestOverview(t *testing.T) {
	t.Parallel()
	p, c := startSite(t, fastStream()), startSite(t, fastStream())
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1)})
	for i := range 3 {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("o%d", i)})
	}
	eventually(t, "notes", 10*time.Second, func() bool { return count(t, c.Site, "Note") == 3 })
	eventually(t, "consumer acknowledged", 10*time.Second, func() bool {
		o, err := p.Stream.Overview(context.Background())
		return err == nil && len(o.Consumers) == 1 && o.Consumers[0].LagEvents == 0
	})
	co, err := c.Stream.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(co.Producers) != 1 || co.Producers[0].Name != p.URL || co.Producers[0].State != "connected" {
		t.Fatalf("consumer overview = %+v", co)
	}
	sum := 0.0
	for _, pt := range co.Producers[0].EventsPerMinute {
		sum += pt.V
	}
	if len(co.Producers[0].EventsPerMinute) != 60 || sum < 3 {
		t.Fatalf("events per minute: %d points summing to %v, want 60 points and at least 3 events", len(co.Producers[0].EventsPerMinute), sum)
	}
	po, _ := p.Stream.Overview(context.Background())
	if po.Consumers[0].Name != c.URL || po.Consumers[0].State != "connected" {
		t.Fatalf("producer overview = %+v", po.Consumers[0])
	}
}

// Two producer processes on one PostgreSQL database: a change written
// through the process the consumer is not long-polling still arrives well
// before the long-poll's end.
func TestLongPollSeesOtherProcess(t *testing.T) {
	if sitetest.PostgresDSN() == "" {
		t.Skipf("PostgreSQL tests are off: set %s to run them", sitetest.EnvPostgres)
	}
	t.Parallel()
	cfg := fastStream()
	cfg.PullWait, cfg.CatchUp = 20*time.Second, time.Minute
	dsn, dir := sitetest.NewSchema(t), t.TempDir()
	p := startSiteDB(t, dir, "127.0.0.1:0", dsn, cfg)
	p2 := startSiteDB(t, dir, "127.0.0.1:0", dsn, cfg) // same site, another process
	c := startSite(t, cfg)
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "first"})
	eventually(t, "first", 10*time.Second, func() bool { return find(c.Site, "Note", "first") != nil })
	time.Sleep(300 * time.Millisecond) // the consumer is now long-polling p
	mustInsert(t, p2.Site, "Note", doc.Doc{"title": "via-the-other-process"})
	eventually(t, "change written through the other process", 5*time.Second, func() bool {
		return find(c.Site, "Note", "via-the-other-process") != nil
	})
}

// A docstream consumer long-polls, so its producer does not send it a
// notification per change (each would cost both sites an HTTP call); the
// changes still arrive one by one.
func TestNoNotificationsWhileLongPolling(t *testing.T) {
	t.Parallel()
	p, c := startSite(t, fastStream()), startSite(t, fastStream())
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "first"})
	eventually(t, "first", 10*time.Second, func() bool { return find(c.Site, "Note", "first") != nil })
	before := testutil.ToFloat64(p.Metrics.Notifications.WithLabelValues(c.URL, "ok"))
	const n = 20
	for i := range n {
		title := fmt.Sprintf("live-%02d", i)
		mustInsert(t, p.Site, "Note", doc.Doc{"title": title})
		eventually(t, title, 10*time.Second, func() bool { return find(c.Site, "Note", title) != nil })
	}
	if sent := testutil.ToFloat64(p.Metrics.Notifications.WithLabelValues(c.URL, "ok")) - before; sent > 2 {
		t.Errorf("%v notifications sent to a long-polling consumer for %d changes", sent, n)
	}
}

// A page that creates a document and then changes it: the change finds the
// document the same page created (the page's probe for documents not here
// yet must not outlive the event that creates one).
func TestCreateThenUpdateInOnePage(t *testing.T) {
	forEachStore(t, func(t *testing.T, start starter) {
		p, c := start(t, fastStream()), start(t, fastStream())
		noteDocTypes(t, p.Site)
		noteDocTypes(t, c.Site)
		subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})
		ctx := context.Background()
		err := p.Site.App.Update(ctx, func(tx *app.Tx) error {
			if _, err := tx.Insert(ctx, app.Admin(), "Note", doc.Doc{"title": "twice"}, app.Opts{}); err != nil {
				return err
			}
			_, err := tx.Save(ctx, app.Admin(), "Note", "twice", doc.Doc{"body": "changed in the same page"}, app.Opts{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the change", 10*time.Second, func() bool {
			d := find(c.Site, "Note", "twice")
			return d != nil && d.Str("body") == "changed in the same page"
		})
		if n := testutil.ToFloat64(c.Metrics.EventsFailed.WithLabelValues(p.URL)); n != 0 {
			t.Errorf("%v events failed on the way (the change did not find the document)", n)
		}
	})
}

// TestBusyConsumerAnsweredInBatches: a native consumer whose last answer
// carried several changes is answered at most once per BatchWindow, so
// changes that come one after another reach it in one page (one transaction
// on the consumer: its Sync Log rows share a creation time) rather than a
// pull each. With a window of a second: two changes in one transaction make
// an answer of two, then three changes 20 ms apart are one page.
func TestBusyConsumerAnsweredInBatches(t *testing.T) {
	t.Parallel()
	cfg := fastStream()
	cfg.BatchWindow = time.Second
	p, c := startSite(t, cfg), startSite(t, fastStream())
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})
	ctx := context.Background()
	err := p.App.Update(ctx, func(tx *app.Tx) error {
		for _, title := range []string{"first", "second"} {
			if _, err := tx.Insert(ctx, app.Admin(), "Note", doc.Doc{"title": title}, app.Opts{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "first and second", 10*time.Second, func() bool { return find(c.Site, "Note", "second") != nil })
	for _, title := range []string{"a", "b", "c"} {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": title})
		time.Sleep(20 * time.Millisecond)
	}
	eventually(t, "a, b and c", 10*time.Second, func() bool { return find(c.Site, "Note", "c") != nil })
	created := map[string]bool{}
	for _, title := range []string{"a", "b", "c"} {
		rows, err := c.App.List(ctx, app.Admin(), app.ListArgs{DocType: "Event Sync Log", Fields: []any{"creation"},
			Filters: map[string]any{"docname": title}})
		if err != nil || len(rows) != 1 {
			t.Fatalf("sync log of %s: %v %v", title, rows, err)
		}
		created[rows[0].Str("creation")] = true
	}
	if len(created) != 1 {
		t.Errorf("a, b and c were applied in %d transactions (%v), want one page", len(created), created)
	}
}
