package stream_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/site"
)

// On SQLite a consumer names its Event Sync Logs in increasing order (so
// they are appended to the name index): the live events' logs, in the order
// of their seq, have increasing names. When it restarts with its clock set
// back, the names it gives next still come after every earlier one.
func TestSyncLogNamesIncrease(t *testing.T) {
	t.Parallel()
	p := startSite(t, fastStream())
	dir := t.TempDir()
	c := startSiteAt(t, dir, "127.0.0.1:0", fastStream())
	addr := strings.TrimPrefix(c.URL, "http://")
	noteDocTypes(t, p.Site)
	noteDocTypes(t, c.Site)
	subscribe(t, p, c, doc.Doc{"ref_doctype": "Note", "use_same_name": int64(1)})
	for i := range 150 {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("first-%03d", i)})
	}
	eventually(t, "first sync logs", 20*time.Second, func() bool { return len(liveSyncLogs(t, c.Site)) == 150 })
	first := checkSyncLogNames(t, c.Site)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Back with its clock two hours behind.
	c2, err := site.Open(context.Background(), site.Config{Addr: addr, DataDir: dir, Stream: fastStream(), AdminPassword: "admin", Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	c2.Stream.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	c2.Start()
	t.Cleanup(func() { c2.Close(context.Background()) })
	for i := range 50 {
		mustInsert(t, p.Site, "Note", doc.Doc{"title": fmt.Sprintf("second-%03d", i)})
	}
	eventually(t, "second sync logs", 20*time.Second, func() bool { return len(liveSyncLogs(t, c2)) == 200 })
	all := checkSyncLogNames(t, c2)
	last := slices.Max(first)
	for _, n := range all {
		if !slices.Contains(first, n) && n <= last {
			t.Errorf("sync log %s, named after the restart, does not come after %s", n, last)
		}
	}
}

// liveSyncLogs lists the names of a site's Event Sync Logs of live events
// (seq > 0; a backfill's have none) in seq order.
func liveSyncLogs(t *testing.T, s *site.Site) []string {
	t.Helper()
	return syncLogNamesWhere(t, s, filter.Cond{Field: "seq", Op: ">", Value: 0, Kind: meta.KindInt})
}

// syncLogNamesWhere lists the names of a site's Event Sync Logs that match
// where, in seq order.
func syncLogNamesWhere(t *testing.T, s *site.Site, where ...filter.Cond) []string {
	t.Helper()
	var names []string
	err := s.App.View(context.Background(), func(tx *app.Tx) error {
		esl, err := tx.Meta("Event Sync Log")
		if err != nil {
			return err
		}
		rows, err := tx.Select(context.Background(), &filter.Query{DocType: esl, Fields: []string{"name", "seq"},
			Where: where, OrderBy: []filter.Order{{Field: "seq"}}, Limit: 1000})
		for _, r := range rows {
			names = append(names, r.Name())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// checkSyncLogNames checks that every Event Sync Log of s has a name of ten
// [0-9a-z] characters, and that the live ones increase with their seq; it
// returns all the names.
func checkSyncLogNames(t *testing.T, s *site.Site) []string {
	t.Helper()
	live := liveSyncLogs(t, s)
	for i, n := range live {
		if i > 0 && n <= live[i-1] {
			t.Fatalf("live sync log %d is named %s, after %s", i, n, live[i-1])
		}
	}
	all := syncLogNamesWhere(t, s)
	for _, n := range all {
		if len(n) != 10 || strings.Trim(n, "0123456789abcdefghijklmnopqrstuvwxyz") != "" {
			t.Fatalf("sync log name %q is not 10 characters of [0-9a-z]", n)
		}
	}
	return all
}
