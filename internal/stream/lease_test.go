package stream_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"docstream/internal/doc"
	"docstream/internal/site"
	"docstream/internal/sitetest"
)

// Two processes of one consumer site (one PostgreSQL database, the same
// canonical URL): exactly one of them pulls from the producer, for longer
// than several lease timeouts, and every change is applied once. The pull
// lease is renewed without a write on every step, so this also proves that
// the holder renews it before another process may take it.
func TestOneConsumerProcessPulls(t *testing.T) {
	if sitetest.PostgresDSN() == "" {
		t.Skipf("PostgreSQL tests are off: set %s to run them", sitetest.EnvPostgres)
	}
	t.Parallel()
	cfg := fastStream()
	cfg.LeaseTimeout, cfg.PullWait = 900*time.Millisecond, 300*time.Millisecond
	p := startSite(t, cfg)
	dsn, dir := sitetest.NewSchema(t), t.TempDir()
	c := startSiteDB(t, dir, "127.0.0.1:0", dsn, cfg)
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)

	// The second process: same database and URL, its own listener.
	c2 := openSite(t, site.Config{Addr: "127.0.0.1:0", URL: c.URL, DataDir: dir, DB: dsn, Stream: cfg})
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1), "backfill": int64(0)})

	const n = 40
	for i := range n {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("n%02d", i)})
		time.Sleep(100 * time.Millisecond) // 4 s in all: more than four lease timeouts
	}
	eventually(t, "every change applied", 15*time.Second, func() bool { return count(t, c.Site, "Note") == n })
	if got := count(t, c.Site, "Event Sync Log", eq("status", "Synced")); got != n {
		t.Errorf("%d Synced sync logs for %d changes: a change was applied twice", got, n)
	}
	pulled := 0
	for _, s := range []*site.Site{c.Site, c2} {
		if pulls(t, s) > 0 {
			pulled++
		}
	}
	if pulled != 1 {
		t.Errorf("%d consumer processes pulled, want exactly 1", pulled)
	}
}

// pulls is how many pulls the process made (its own /metrics).
func pulls(t *testing.T, s *site.Site) int {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "docstream_pull_seconds_count") {
			var v int
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			n += v
		}
	}
	return n
}
