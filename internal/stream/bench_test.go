package stream_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/stream"
)

// BenchmarkConditionCost measures what a consumer's condition costs the
// producer per served event: one pull of a 1,000-event page with no
// condition, and with `doc.public == 1` (which loads each document).
//
//	go test ./internal/stream -run '^$' -bench ConditionCost -benchtime 20x
func BenchmarkConditionCost(b *testing.B) {
	for _, tc := range []struct{ name, condition string }{{"none", ""}, {"condition", "doc.public == 1"}} {
		b.Run(tc.name, func(b *testing.B) {
			p := startSiteDB(b, b.TempDir(), "127.0.0.1:0", "", fastStream())
			noteDocTypes(b, p.Site)
			consumer := "http://127.0.0.1:1"
			if _, err := p.App.Insert(context.Background(), app.Admin(), "Event Consumer", doc.Doc{"callback_url": consumer,
				"user": subscriber, "api_key": "k", "api_secret": "s", "incoming_change": int64(1),
				"consumer_doctypes": []doc.Doc{{"ref_doctype": "Note", "status": "Approved", "condition": tc.condition}}},
				app.Opts{IgnorePermissions: true}); err != nil {
				b.Fatal(err)
			}
			const n = 1000
			for i := range n {
				if _, err := p.App.Insert(context.Background(), app.Admin(), "Note", doc.Doc{"title": fmt.Sprintf("c%04d", i), "public": int64(1),
					"items": []doc.Doc{{"item": "x", "qty": 1.0}}}, app.Opts{}); err != nil {
					b.Fatal(err)
				}
			}
			form := url.Values{"cmd": {stream.PrefixApp + ".event_update_log.event_update_log.get_update_logs_for_consumer"},
				"event_consumer": {consumer}, "doctypes": {`["Note"]`}, "after_seq": {"0"}, "limit": {strconv.Itoa(n)}}
			pull := func() {
				req, _ := http.NewRequest(http.MethodPost, p.URL+"/", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", "token "+p.key+":"+p.secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("pull: %v %v", err, resp)
				}
				resp.Body.Close()
			}
			pull() // warm: the first pass also records which documents were sent
			b.ResetTimer()
			for b.Loop() {
				pull()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}

// BenchmarkServePull measures what serving one native pull costs the
// producer, for pages of 1, 5 and 50 events: a consumer that keeps up with
// a stream pulls every few changes, so this fixed cost is most of what a
// streaming consumer adds to the producer (docs/benchmarks.md, aim (c)).
//
//	go test ./internal/stream -run '^$' -bench ServePull
func BenchmarkServePull(b *testing.B) {
	p := startSiteDB(b, b.TempDir(), "127.0.0.1:0", "", fastStream())
	noteDocTypes(b, p.Site)
	consumer := "http://127.0.0.1:1"
	if _, err := p.App.Insert(context.Background(), app.Admin(), "Event Consumer", doc.Doc{"callback_url": consumer,
		"user": subscriber, "api_key": "k", "api_secret": "s", "incoming_change": int64(1),
		"consumer_doctypes": []doc.Doc{{"ref_doctype": "Note", "status": "Approved"}}},
		app.Opts{IgnorePermissions: true}); err != nil {
		b.Fatal(err)
	}
	const n = 400
	for i := range n {
		if _, err := p.App.Insert(context.Background(), app.Admin(), "Note", doc.Doc{"title": fmt.Sprintf("s%04d", i)}, app.Opts{}); err != nil {
			b.Fatal(err)
		}
	}
	client := &http.Client{}
	for _, page := range []int{1, 5, 50, 300} {
		b.Run(fmt.Sprintf("page=%d", page), func(b *testing.B) {
			form := url.Values{"cmd": {stream.PrefixApp + ".event_update_log.event_update_log.get_update_logs_for_consumer"},
				"event_consumer": {consumer}, "doctypes": {`["Note"]`}, "after_seq": {strconv.Itoa(n - page)}, "limit": {"500"}}
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, p.URL+"/", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", "token "+p.key+":"+p.secret)
				resp, err := client.Do(req)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("pull: %v %v", err, resp)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkBackfill measures the backfill rate: N existing documents, each
// with one Link to a dependency the consumer lacks (fetched on the way).
//
//	DOCSTREAM_BENCH_BACKFILL_N=100000 go test ./internal/stream -run '^$' -bench Backfill -benchtime 1x -timeout 30m
func BenchmarkBackfill(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("DOCSTREAM_BENCH_BACKFILL_N")); err == nil && v > 0 {
		n = v
	}
	for b.Loop() {
		b.StopTimer()
		cfg := fastStream()
		cfg.PageSize = 500
		p, c := startSiteDB(b, b.TempDir(), "127.0.0.1:0", "", cfg), startSiteDB(b, b.TempDir(), "127.0.0.1:0", "", cfg)
		for _, s := range []*testSite{p, c} {
			for _, d := range []doc.Doc{
				{"name": "Region", "autoname": "field:region_name", "fields": []doc.Doc{{"fieldname": "region_name", "fieldtype": "Data"}}, "permissions": sysPerm()},
				{"name": "Store", "autoname": "field:store_name", "fields": []doc.Doc{{"fieldname": "store_name", "fieldtype": "Data"},
					{"fieldname": "region", "fieldtype": "Link", "options": "Region"}, {"fieldname": "city", "fieldtype": "Data"}}, "permissions": sysPerm()},
			} {
				if _, err := s.App.Insert(context.Background(), app.Admin(), "DocType", d, app.Opts{}); err != nil {
					b.Fatal(err)
				}
			}
		}
		regions := max(n/100, 1)
		err := p.App.Update(context.Background(), func(t *app.Tx) error {
			for i := range regions {
				if _, err := t.Insert(context.Background(), app.Admin(), "Region", doc.Doc{"region_name": fmt.Sprintf("R%05d", i)}, app.Opts{}); err != nil {
					return err
				}
			}
			for i := range n {
				if _, err := t.Insert(context.Background(), app.Admin(), "Store", doc.Doc{"store_name": fmt.Sprintf("S%07d", i),
					"region": fmt.Sprintf("R%05d", i%regions), "city": "Lyon"}, app.Opts{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		subscribe(b, p, c, doc.Doc{"ref_doctype": "Store", "use_same_name": int64(1)})
		for {
			ep, _ := c.App.Get(context.Background(), app.Admin(), "Event Producer", p.URL)
			if ep != nil && ep.Rows("producer_doctypes")[0].Str("backfill_status") == "Done" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		el := time.Since(start)
		b.ReportMetric(float64(n)/el.Seconds(), "docs/s")
	}
}

// BenchmarkFrappePullRareDocType measures a Frappe consumer's pull (a
// creation cursor) for a DocType with no new log while 20,000 logs of
// another DocType came after its cursor: the first such pull reads them,
// the next ones start where it stopped (frappescan.go).
//
//	go test ./internal/stream -run '^$' -bench FrappePullRare
func BenchmarkFrappePullRareDocType(b *testing.B) {
	p := startSiteDB(b, b.TempDir(), "127.0.0.1:0", "", fastStream())
	noteDocTypes(b, p.Site)
	consumer := "http://127.0.0.1:1"
	memoAndConsumer(b, p.Site, consumer)
	m := mustInsert(b, p.Site, "Memo", doc.Doc{"title": "m1"})
	cursor := m.Str("creation")
	for i := range 20000 {
		mustInsert(b, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("n%05d", i)})
	}
	form := url.Values{"event_consumer": {consumer}, "doctypes": {`["Memo"]`}, "last_update": {cursor}}
	for b.Loop() {
		if resp, body := postForm(b, p, "/api/method/frappe.event_streaming.doctype.event_update_log.event_update_log.get_update_logs_for_consumer", form); resp.StatusCode != 200 {
			b.Fatalf("pull: %d %s", resp.StatusCode, body)
		}
	}
}
