package streambench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"docstream/internal/app"
)

// TestNeighborKeepsFew: the neighbor inserts documents and deletes the
// oldest beyond keep, so its database stays small however long it runs.
func TestNeighborKeepsFew(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "neighbor")
	var out strings.Builder
	if err := RunNeighbor(ctx, dir, 5, 40, &out); err != nil {
		t.Fatalf("RunNeighbor: %v", err)
	}
	if !strings.Contains(out.String(), "neighbor: inserting") {
		t.Fatalf("the neighbor did not say it started: %q", out.String())
	}
	s, err := OpenSite(ctx, SiteOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	rows, err := s.App.List(ctx, app.Admin(), app.ListArgs{DocType: BenchDocType, Fields: []string{"name"}, OrderBy: "name asc"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r.Name())
	}
	var want []string
	for i := 35; i < 40; i++ {
		want = append(want, CustomerDoc("N-", i)["code"].(string))
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("documents left: %v, want the last five inserted: %v", names, want)
	}
}
