package streambench

import (
	"context"
	"os"
	"os/exec"
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

// startNeighbor returns once the neighbor says it inserts, so that its
// set-up does not fall into the phases it is resumed for; a neighbor that
// ends first is an error that shows its output. The child here is a script
// standing in for `docstream bench neighbor`.
func TestStartNeighborWaitsUntilItInserts(t *testing.T) {
	for _, tool := range []string{"nice", "taskset", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
	}
	script := func(body string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "neighbor.sh")
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("sets up, then inserts", func(t *testing.T) {
		o := &Options{Bin: script("sleep 0.3; echo 'neighbor: inserting'; exec sleep 60")}
		dir := filepath.Join(t.TempDir(), "neighbor")
		n, err := startNeighbor(o, dir, "0")
		if err != nil {
			t.Fatal(err)
		}
		defer n.stop()
		if b, _ := os.ReadFile(dir + ".log"); !strings.Contains(string(b), "neighbor: inserting") {
			t.Errorf("startNeighbor returned before the neighbor inserted: its log says %q", b)
		}
	})
	t.Run("ends first", func(t *testing.T) {
		o := &Options{Bin: script("echo 'cannot open the site'; exit 3")}
		n, err := startNeighbor(o, filepath.Join(t.TempDir(), "neighbor"), "0")
		if err == nil {
			n.stop()
			t.Fatal("startNeighbor succeeded with a neighbor that exited")
		}
		if !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "cannot open the site") {
			t.Errorf("error %q, want it to say the neighbor exited, with its output", err)
		}
	})
}
