package stream_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
	mustInsert(t, p.Site, "DocType", doc.Doc{"name": "Memo", "autoname": "field:title", "fields": []doc.Doc{
		{"fieldname": "title", "fieldtype": "Data", "reqd": int64(1)}},
		"permissions": []doc.Doc{{"role": "System Manager", "read": int64(1), "write": int64(1), "create": int64(1)}}})
	consumer := "http://127.0.0.1:1"
	mustInsert(t, p.Site, "Event Consumer", doc.Doc{"callback_url": consumer, "user": subscriber, "api_key": "k", "api_secret": "s",
		"incoming_change": int64(1), "consumer_doctypes": []doc.Doc{{"ref_doctype": "Note", "status": "Approved"}, {"ref_doctype": "Memo", "status": "Approved"}}})
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
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "token "+p.key+":"+p.secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
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
				// A new cursor's first pull may write its acknowledgement,
				// which reads the table; the next one only reads.
				pull(after, limit, dts)
				before := fromMemory()
				fromTail := pull(after, limit, dts)
				if fromMemory() == before && after < 100 {
					t.Fatalf("after %d, limit %d: not answered from the tail", after, limit)
				}
				stream.ServeFromTable(p.Stream, true)
				fromTable := pull(after, limit, dts)
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
