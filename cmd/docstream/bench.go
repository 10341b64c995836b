package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strings"
	"time"

	"docstream/internal/streambench"
)

// benches are the `docstream bench <name>` subcommands. Other files add
// theirs in an init function.
var benches = map[string]func(ctx context.Context, args []string) error{
	"stream":   benchStream,
	"neighbor": benchNeighbor,
}

// benchNeighbor is the load bench stream's (c) runs on CPU 1 while it
// measures producers on CPU 0 (streambench/neighbor.go); bench stream
// starts, pauses and kills it.
func benchNeighbor(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench neighbor", flag.ContinueOnError)
	dir := fs.String("dir", "", "data folder of the neighbor's site (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("bench neighbor: --dir is required")
	}
	return streambench.RunNeighbor(ctx, *dir, streambench.NeighborKeep, 0, os.Stdout)
}

func bench(ctx context.Context, args []string) error {
	var names []string
	for n := range benches {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return fmt.Errorf("bench: name a benchmark: %s", strings.Join(names, ", "))
	}
	f := benches[args[0]]
	if f == nil {
		return fmt.Errorf("bench: unknown benchmark %q (have %s)", args[0], strings.Join(names, ", "))
	}
	return f(ctx, args[1:])
}

// benchStream is `docstream bench stream`: Event Streaming between two sites
// over loopback HTTP, with the PouchDB baseline run on the same machine for
// (a) and (b). Progress goes to stderr, the report (Markdown) to stdout.
func benchStream(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench stream", flag.ContinueOnError)
	n := fs.Int("n", 100000, "(a) backlog: changes waiting for the consumer")
	k := fs.Int("live", 1000, "(b) live: changes made one at a time")
	warmup := fs.Int("warmup", 20, "(b) live: uncounted changes first")
	writeN := fs.Int("write-n", 10000, "(c) write cost: inserts per producer and repetition")
	writeReps := fs.Int("write-reps", 3, "(c) write cost: repetitions (the median is reported)")
	neighbor := fs.Bool("write-neighbor", true, "(c) write cost: keep CPU 1 busy (a low-priority load) while producers are measured on CPU 0, as the streaming consumer keeps it busy")
	writeBlock := fs.Int("write-block", streambench.WriteBlock, "(c) write cost: inserts one producer makes before the next one takes over")
	rssN := fs.Int("rss-n", 1000000, "(d) memory: backlog drained by a `docstream serve` consumer")
	only := fs.String("only", "abcd", "which benchmarks to run (letters of a, b, c, d)")
	db := fs.String("db", "", "PostgreSQL DSN: run every site on PostgreSQL, each in a schema of its own (dropped after)")
	dir := fs.String("dir", "", "work folder for site data (default: a temporary folder, removed after)")
	pouch := fs.String("pouchdb", "auto", "run the PouchDB baseline for (a) and (b): auto (when node and npm are installed) or off")
	pouchSrc := fs.String("pouchdb-src", "../shared/bench/pouchdb", "the PouchDB baseline folder (pouchdb-bench.js, package.json)")
	cacheDir, _ := os.UserCacheDir()
	pouchCache := fs.String("pouchdb-cache", filepath.Join(cacheDir, "docstream", "pouchdb-bench"), "copy of the baseline where npm installs its dependencies")
	pouchN := fs.Int("pouchdb-n", 0, "PouchDB one-shot size (default: --n)")
	jsonOut := fs.String("json", "", "also write the raw results as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (both in-process sites) to this file")
	traceOut := fs.String("trace", "", "write an execution trace of this process to this file (go tool trace)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *writeBlock < 1 {
		return fmt.Errorf("bench stream: --write-block must be at least 1, got %d", *writeBlock)
	}
	if *traceOut != "" {
		f, err := os.Create(*traceOut)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *pouchN == 0 {
		*pouchN = *n
	}
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "docstream-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	o := &streambench.Options{Dir: work, DB: *db, Bin: bin, Progress: os.Stderr, Neighbor: *neighbor, WriteBlock: *writeBlock}
	if o.Stream, err = streamConfigFromEnv(); err != nil { // the in-process sites take the same settings as serve
		return err
	}
	store := "SQLite (WAL, synchronous=NORMAL)"
	if *db != "" {
		store = "PostgreSQL"
	}
	run := func(letter string) bool { return strings.Contains(*only, letter) }
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	results := map[string]any{"store": store, "started": time.Now().UTC().Format(time.RFC3339)}

	var pdb *streambench.PouchDB
	pouchWhy := "not run (--pouchdb off)"
	if *pouch != "off" && (run("a") || run("b")) {
		pdb = &streambench.PouchDB{Src: *pouchSrc, Cache: *pouchCache, Progress: os.Stderr}
		logf("PouchDB baseline: preparing %s", *pouchCache)
		if err := pdb.Prepare(ctx); err != nil {
			pouchWhy = "not run: " + err.Error()
			logf("PouchDB baseline %s", pouchWhy)
			pdb = nil
		}
	}

	var a streambench.BacklogResult
	var pa map[string]any
	if run("a") {
		logf("(a) backlog of %d changes, store %s", *n, store)
		if a, err = streambench.Backlog(ctx, o, *n); err != nil {
			return fmt.Errorf("(a) backlog: %w", err)
		}
		logf("(a) docstream: %d docs in %.2f s = %.0f docs/s", a.N, a.Seconds, a.DocsPerSec)
		results["a"] = a
		if pdb != nil {
			logf("(a) PouchDB: node pouchdb-bench.js oneshot transport=http adapter=leveldb n=%d", *pouchN)
			if pa, err = pdb.Run(ctx, "oneshot", "transport=http", "adapter=leveldb", fmt.Sprintf("n=%d", *pouchN)); err != nil {
				logf("(a) PouchDB failed: %v", err)
			} else {
				results["a_pouchdb"] = pa
				logf("(a) PouchDB: %.0f docs/s", streambench.Num(pa, "docs_per_s"))
			}
		}
	}
	var b streambench.LiveResult
	var pb map[string]any
	if run("b") {
		logf("(b) live: %d changes one at a time", *k)
		if b, err = streambench.Live(ctx, o, *k, *warmup); err != nil {
			return fmt.Errorf("(b) live: %w", err)
		}
		logf("(b) docstream: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms", b.PutToVisible.P50, b.PutToVisible.P90, b.PutToVisible.P99)
		results["b"] = b
		if pdb != nil {
			logf("(b) PouchDB: node pouchdb-bench.js live transport=http adapter=leveldb k=%d", *k)
			if pb, err = pdb.Run(ctx, "live", "transport=http", "adapter=leveldb", fmt.Sprintf("k=%d", *k)); err != nil {
				logf("(b) PouchDB failed: %v", err)
			} else {
				results["b_pouchdb"] = pb
				logf("(b) PouchDB: p50 %.2f ms, p99 %.2f ms", streambench.Num(pb, "put_to_visible_ms.p50"), streambench.Num(pb, "put_to_visible_ms.p99"))
			}
		}
	}
	var c streambench.WriteResult
	if run("c") {
		logf("(c) write cost: %d inserts x %d repetitions on each producer (no consumer, consumer stopped, consumer streaming; and the first two again on CPU 0 only when the streaming consumer gets CPU 1)", *writeN, *writeReps)
		if c, err = streambench.WriteCost(ctx, o, *writeN, *writeReps); err != nil {
			return fmt.Errorf("(c) write cost: %w", err)
		}
		results["c"] = c
	}
	var d streambench.RSSResult
	if run("d") && *rssN > 0 {
		logf("(d) memory: consumer subprocess drains %d changes", *rssN)
		if d, err = streambench.DrainRSS(ctx, o, *rssN); err != nil {
			return fmt.Errorf("(d) memory: %w", err)
		}
		results["d"] = d
	}

	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "Command: `docstream bench stream %s`\n\n", strings.Join(args, " "))
	fmt.Fprintf(w, "Machine: %s; store: %s; PouchDB baseline: %s.\n\n", machine(), store, pouchNote(pdb, pouchWhy, pa, pb))
	fmt.Fprintln(w, "| Benchmark | docstream | PouchDB (same machine, same run) | docstream / PouchDB | Aim | Met |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	if run("a") {
		pr, ratio, met := "–", "–", "–"
		if pa != nil {
			p := streambench.Num(pa, "docs_per_s")
			pr = fmt.Sprintf("%s docs/s (n=%d, replicate %.1f s)", thousands(p), *pouchN, streambench.Num(pa, "replicate_ms")/1000)
			ratio = fmt.Sprintf("%.1fx", a.DocsPerSec/p)
			met = yesNo(a.DocsPerSec >= 5*p)
		}
		fmt.Fprintf(w, "| (a) backlog: %s changes waiting, consumer start → all applied | **%s docs/s** (%.1f s; writing the backlog took %.1f s, not timed) | %s | %s | ≥ 5x | %s |\n",
			thousands(float64(a.N)), thousands(a.DocsPerSec), a.Seconds, a.LoadSeconds, pr, ratio, met)
	}
	if run("b") {
		pr, ratio, met := "–", "–", "–"
		if pb != nil {
			p99 := streambench.Num(pb, "put_to_visible_ms.p99")
			pr = fmt.Sprintf("p50 %.2f / p90 %.2f / p99 %.2f ms", streambench.Num(pb, "put_to_visible_ms.p50"), streambench.Num(pb, "put_to_visible_ms.p90"), p99)
			ratio = fmt.Sprintf("p99 %.2fx", b.PutToVisible.P99/p99)
			met = yesNo(b.PutToVisible.P99 < p99)
		}
		fmt.Fprintf(w, "| (b) live: %d changes one at a time, HTTP insert on the producer → committed on the consumer | **p50 %.2f / p90 %.2f / p99 %.2f ms** (max %.1f; insert ack p50 %.2f ms; producer commit → consumer commit p50 %.2f / p99 %.2f ms) | %s | %s | p99 below PouchDB's | %s |\n",
			b.K, b.PutToVisible.P50, b.PutToVisible.P90, b.PutToVisible.P99, b.PutToVisible.Max, b.PutAck.P50, b.CommitToVisible.P50, b.CommitToVisible.P99, pr, ratio, met)
	}
	if run("c") {
		where := func(r streambench.WriteRates) string {
			if c.Split {
				busy := "CPU 1 idle but for the streaming consumer"
				if c.Neighbor {
					busy = "CPU 1 kept busy throughout by a load at nice 19, `--write-neighbor`"
				}
				return fmt.Sprintf("with the producer on CPU 0 only (GOMAXPROCS 1; %s): no consumer %s/s, consumer stopped %s/s (%.2f), consumer streaming meanwhile (a `docstream serve` of its own on CPU 1)",
					busy, thousands(r.NoneSplit), thousands(r.IdleSplit), r.RatioIdleSplit)
			}
			return "consumer streaming meanwhile in this process"
		}
		spread := func(q [2]float64) string { return fmt.Sprintf("%.2f–%.2f", q[0], q[1]) }
		pulls := func(r streambench.WriteRates) string {
			if r.LivePulls == 0 {
				return ""
			}
			return fmt.Sprintf(" (%s pulls served meanwhile, %.1f changes each)", thousands(r.LivePulls), r.LiveServed/r.LivePulls)
		}
		for _, v := range []struct {
			how string
			r   streambench.WriteRates
		}{{"in-process (document service)", c.InProc}, {"REST API (POST /api/resource, keep-alive)", c.HTTP}} {
			fmt.Fprintf(w, "| (c) producer writes, %s: %s single-insert transactions, interleaved in blocks of %s, median of %d (ratios: median of each repetition's, then the middle half of the repetitions' ratios) | no consumer %s/s; consumer approved but stopped %s/s (**%.2f**, %s); %s %s/s (**%.2f**, %s)%s | – | – | ≥ 0.75 of no consumer | %s |\n",
				v.how, thousands(float64(c.N)), thousands(float64(c.Block)), c.Reps, thousands(v.r.None), thousands(v.r.LoggedIdle), v.r.RatioIdle, spread(v.r.QuartilesIdle), where(v.r), thousands(v.r.LoggedLive), v.r.RatioLive, spread(v.r.QuartilesLive), pulls(v.r),
				yesNo(v.r.RatioIdle >= 0.75 && v.r.RatioLive >= 0.75))
		}
	}
	if run("d") && *rssN > 0 {
		var parts []string
		for _, s := range d.Samples {
			parts = append(parts, fmt.Sprintf("%d%%: %.0f", s.Percent, float64(s.RSS)/(1<<20)))
		}
		fmt.Fprintf(w, "| (d) memory: `docstream serve` consumer drains %s changes | **peak RSS (VmHWM) %.0f MB**; RSS by progress (MB) %s; drain %.0f s = %s docs/s | – | – | flat, < 200 MB | %s |\n",
			thousands(float64(d.N)), float64(d.PeakRSS)/(1<<20), strings.Join(parts, ", "), d.Seconds, thousands(d.DocsPerSec),
			yesNo(d.PeakRSS < 200<<20))
	}
	if *jsonOut != "" {
		bts, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(*jsonOut, bts, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

func pouchNote(p *streambench.PouchDB, why string, a, b map[string]any) string {
	if p == nil {
		return why
	}
	for _, m := range []map[string]any{a, b} {
		if m != nil {
			return fmt.Sprintf("pouchdb %v on node %v, run from %s", m["pouchdb"], m["node"], p.Src)
		}
	}
	return "failed (see stderr)"
}

// thousands formats a number with thousands separators, no decimals.
func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// machine describes this machine for the report.
func machine() string {
	model := ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				var kb int64
				fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:")), "%d", &kb)
				mem = fmt.Sprintf(", %.0f GB RAM", float64(kb)/(1<<20))
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s/%s, %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
