package stream_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/stream"
)

// TestPullFromTailAsFromTable: a native pull answered from the in-memory log
// tail is byte for byte the answer the table gives (body, head and scanned
// headers), for every cursor and page size, with creates, updates and
// deletes, text that JSON escapes, echoes of the consumer's own changes and
// logs of a DocType it does not follow; and the tail did answer.
func TestPullFromTailAsFromTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startSite(t, fastStream())
	noteDocTypes(t, p.Site)
	consumer := "http://127.0.0.1:1"
	memoAndConsumer(t, p.Site, consumer)
	odd := "a <b> & \"c\" \\ \u2028 \u2029 é 漢 \x01"
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "n1", "body": odd, "items": []doc.Doc{{"item": odd, "qty": 1.5}}})
	mustInsert(t, p.Site, "Memo", doc.Doc{"title": "m1"})
	if _, err := p.App.Insert(ctx, app.Admin(), "Note", doc.Doc{"title": "echo"}, app.Opts{Origin: consumer}); err != nil {
		t.Fatal(err)
	}
	mustSave(t, p.Site, "Note", "n1", doc.Doc{"body": "changed " + odd})
	mustInsert(t, p.Site, "Note", doc.Doc{"title": "n2"})
	if err := p.App.Delete(ctx, app.Admin(), "Note", "n2", app.Opts{}); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, p.Site, "Memo", doc.Doc{"title": "m2"})

	pull := func(after, limit int, doctypes string) string {
		t.Helper()
		form := url.Values{"cmd": {stream.PrefixApp + ".event_update_log.event_update_log.get_update_logs_for_consumer"},
			"event_consumer": {consumer}, "doctypes": {doctypes}, "after_seq": {strconv.Itoa(after)}, "limit": {strconv.Itoa(limit)}}
		resp, body := postForm(t, p, "/", form)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("pull: %d %s", resp.StatusCode, body)
		}
		return fmt.Sprintf("head %s scanned %s type %s\n%s", resp.Header.Get("X-Docstream-Head-Seq"),
			resp.Header.Get("X-Docstream-Scanned-Seq"), resp.Header.Get("Content-Type"), body)
	}
	fromMemory := func() float64 {
		return testutil.ToFloat64(p.Stream.Metrics.PullsServed.WithLabelValues(consumer, "memory"))
	}
	head := 0
	for _, after := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 100} {
		for _, limit := range []int{1, 2, 3, 500} {
			for _, dts := range []string{`["Note", "Memo"]`, `["Note"]`, `["Memo", "Other"]`} {
				stream.ServeFromTable(p.Stream, false)
				// A pull whose acknowledgement is due (at most one a second)
				// writes it and reads the table; once written, the same
				// cursor's pulls only read. On a slow run (-race) the
				// acknowledgement can come due between two pulls, so pull
				// until one is answered from the tail.
				var fromTail string
				for try := 1; ; try++ {
					before := fromMemory()
					fromTail = pull(after, limit, dts)
					if fromMemory() > before || after >= 100 {
						break
					}
					if try == 3 {
						t.Fatalf("after %d, limit %d: not answered from the tail", after, limit)
					}
				}
				stream.ServeFromTable(p.Stream, true)
				tableBefore := testutil.ToFloat64(p.Stream.Metrics.PullsServed.WithLabelValues(consumer, "table"))
				fromTable := pull(after, limit, dts)
				if testutil.ToFloat64(p.Stream.Metrics.PullsServed.WithLabelValues(consumer, "table")) != tableBefore+1 {
					t.Fatalf("after %d, limit %d: the pull from the table not counted as from=\"table\"", after, limit)
				}
				if fromTail != fromTable {
					t.Fatalf("after %d, limit %d, %s:\nfrom the tail:  %s\nfrom the table: %s", after, limit, dts, fromTail, fromTable)
				}
				fmt.Sscanf(fromTable, "head %d", &head)
			}
		}
	}
	if head < 7 {
		t.Fatalf("head %d: the logs were not written", head)
	}
}
