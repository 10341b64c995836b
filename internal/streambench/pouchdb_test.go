package streambench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A baseline run that fails before printing its result (as pouchdb-bench.js
// does when removing its work folder races its server) is run once more; a
// second failure is reported.
func TestPouchDBRunRetriesOnce(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	// Fails on its first n runs (a counter file), then prints a result.
	script := `const fs = require('fs');
const n = +fs.readFileSync('fail-first', 'utf8');
const runs = (fs.existsSync('runs') ? +fs.readFileSync('runs', 'utf8') : 0) + 1;
fs.writeFileSync('runs', String(runs));
if (runs <= n) { console.error('Error: ENOTEMPTY'); process.exit(1); }
console.log(JSON.stringify({scenario: process.argv[2], docs_per_sec: 42}));
`
	if err := os.WriteFile(filepath.Join(dir, "pouchdb-bench.js"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		failFirst string
		runs      string
		ok        bool
	}{{"0", "1", true}, {"1", "2", true}, {"2", "2", false}} {
		os.Remove(filepath.Join(dir, "runs"))
		if err := os.WriteFile(filepath.Join(dir, "fail-first"), []byte(c.failFirst), 0o644); err != nil {
			t.Fatal(err)
		}
		p := &PouchDB{Cache: dir}
		m, err := p.Run(context.Background(), "oneshot")
		if (err == nil) != c.ok || (c.ok && Num(m, "docs_per_sec") != 42) {
			t.Errorf("failing first %s: %v, %v", c.failFirst, m, err)
		}
		if runs, _ := os.ReadFile(filepath.Join(dir, "runs")); string(runs) != c.runs {
			t.Errorf("failing first %s: ran %s times, want %s", c.failFirst, runs, c.runs)
		}
	}
}
