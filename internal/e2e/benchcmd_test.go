package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"docstream/internal/sitetest"
	sb "docstream/internal/streambench"
)

// TestBenchStreamRuns runs `docstream bench stream` at a tiny scale, (a) to
// (d) without the PouchDB baseline, on SQLite and (when configured) on
// PostgreSQL, as docs/benchmarks.md tells a reader to: every benchmark
// completes and reports its row. The figures themselves are not checked
// here (speed is measured, not asserted); the harness is: it starts
// subprocess consumers, pins CPUs and makes PostgreSQL schemas.
func TestBenchStreamRuns(t *testing.T) {
	bin := docstreamBinary(t)
	stores := map[string]string{"sqlite": ""}
	if sitetest.PostgresDSN() != "" {
		stores["postgres"] = sitetest.PostgresDSN()
	}
	for name, dsn := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			args := []string{"bench", "stream", "--pouchdb", "off", "--dir", work,
				"--n", "300", "--live", "20", "--warmup", "2", "--write-n", "150", "--write-reps", "1", "--write-block", "50", "--rss-n", "1000"}
			dir := t.TempDir()
			profile, trace, raw := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "run.trace"), filepath.Join(dir, "raw.json")
			args = append(args, "--json", raw)
			if dsn != "" {
				args = append(args, "--db", dsn)
			} else {
				args = append(args, "--cpuprofile", profile, "--trace", trace)
			}
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("docstream %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			if dsn == "" {
				for _, f := range []string{profile, trace} {
					if st, err := os.Stat(f); err != nil || st.Size() == 0 {
						t.Errorf("%s: %v, want a profile or trace written", f, err)
					}
				}
			}
			// The raw results have every block's rate: 150 inserts in blocks
			// of 50, once, for each producer.
			var res struct{ C sb.WriteResult }
			if b, err := os.ReadFile(raw); err != nil {
				t.Error(err)
			} else if err := json.Unmarshal(b, &res); err != nil {
				t.Errorf("%s: %v", raw, err)
			} else if len(res.C.InProcBlocks) < 3 {
				t.Errorf("(c) blocks recorded for %d producers, want 3 or more: %v", len(res.C.InProcBlocks), res.C.InProcBlocks)
			} else {
				for label, rates := range res.C.InProcBlocks {
					if len(rates) != 3 || slices.Min(rates) <= 0 {
						t.Errorf("(c) blocks of %q: %v, want 3 rates", label, rates)
					}
				}
			}
			for _, row := range []string{"| (a) backlog", "| (b) live", "| (c) producer writes, in-process", "| (c) producer writes, REST API", "| (d) memory", "interleaved in blocks of 50,", "then the middle half of the repetitions' ratios"} {
				if !strings.Contains(string(out), row) {
					t.Errorf("no %q row in the report:\n%s", row, out)
				}
			}
			// With the streaming consumer on a CPU of its own, (c) also has the
			// stopped consumer on CPU 0, and counts the pulls served while the
			// streaming producer was timed (the consumer's long-poll is
			// answered when the first log commits).
			split, pulls := 0, 0
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "| (c) producer writes") && strings.Contains(line, "CPU 0 only") {
					split++
					if !strings.Contains(line, ", consumer stopped ") {
						t.Errorf("(c) row without the stopped consumer on CPU 0:\n%s", line)
					}
					// One repetition: the middle half of its ratios is the
					// ratio itself.
					if m := spreadRe.FindAllStringSubmatch(line, -1); len(m) != 2 || m[0][1] != m[0][2] || m[0][2] != m[0][3] || m[1][1] != m[1][2] || m[1][2] != m[1][3] {
						t.Errorf("(c) ratios and their spread %q, want two, each spread over one repetition:\n%s", m, line)
					}
					if strings.Contains(line, "pulls served meanwhile") {
						pulls++
					}
				}
			}
			if split > 0 && pulls == 0 {
				t.Errorf("no (c) row counts the pulls served to the streaming consumer:\n%s", out)
			}
			// There, the neighbor kept CPU 1 busy during the phases on CPU 0
			// (it said so in its log), the rows say so, and it is gone.
			if split > 0 {
				logs, _ := filepath.Glob(filepath.Join(work, "write-*", "neighbor.log"))
				if len(logs) != 1 {
					t.Fatalf("neighbor logs %v, want one", logs)
				}
				if b, _ := os.ReadFile(logs[0]); !strings.Contains(string(b), "neighbor: inserting") {
					t.Errorf("the neighbor never inserted: its log says %q", b)
				}
				if !strings.Contains(string(out), "CPU 1 kept busy throughout") {
					t.Errorf("the (c) rows do not say CPU 1 was kept busy:\n%s", out)
				}
				if ps := processesRunning(t, "bench neighbor --dir "+filepath.Dir(logs[0])); len(ps) > 0 {
					t.Errorf("the neighbor still runs after the benchmark: pids %v", ps)
				}
			}
		})
	}
}

// spreadRe finds a (c) ratio and the middle half of its repetitions' ratios.
var spreadRe = regexp.MustCompile(`\(\*\*(\d\.\d\d)\*\*, (\d\.\d\d)–(\d\.\d\d)\)`)

// processesRunning lists the processes whose command line (arguments joined
// by spaces) contains s, from /proc (the split of (c) runs only on Linux).
func processesRunning(t *testing.T, s string) []string {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no processes listed in /proc: %v", err)
	}
	var pids []string
	self := false // the listing must find this very process
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		line := strings.TrimSuffix(strings.ReplaceAll(string(b), "\x00", " "), " ")
		if err == nil && strings.Contains(line, s) {
			pids = append(pids, filepath.Base(d))
		}
		self = self || filepath.Base(d) == strconv.Itoa(os.Getpid()) && line == strings.Join(os.Args, " ")
	}
	if !self {
		t.Fatal("/proc does not list this process's command line: cannot tell which processes run")
	}
	return pids
}

// TestServeTwiceOnOneFolder: a second `docstream serve` on the data folder
// of a running one stops at once with an error that says why, and the
// first keeps serving.
func TestServeTwiceOnOneFolder(t *testing.T) {
	bin := docstreamBinary(t)
	addr, err := sb.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	first := &sb.Server{Bin: bin, Addr: addr, Dir: filepath.Join(t.TempDir(), "site")}
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.Stop)
	addr2, err := sb.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--addr", addr2, "--data", first.Dir, "--admin-password", sb.AdminPassword).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "open in another process") {
		t.Fatalf("second serve on %s: %v, output %q; want it to stop with the site lock error", first.Dir, err, out)
	}
	if err := sb.NewClient(first.URL()).WaitUp(ctx); err != nil {
		t.Errorf("the first serve stopped answering: %v", err)
	}
}
