package streambench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"slices"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/site"
)

// WriteResult is benchmark (c): single-document inserts per second on a
// producer, through the document service in-process and through the REST
// API, median of the repetitions.
type WriteResult struct {
	N, Reps int
	Block   int // inserts per producer before the next takes over
	InProc  WriteRates
	HTTP    WriteRates
	// Split: this process (the producers) ran on CPU 0 with GOMAXPROCS 1,
	// the streaming consumer in a `docstream serve` of its own on CPU 1.
	Split bool
	// Neighbor: CPU 1 was kept busy during every phase on CPU 0
	// (neighbor.go).
	Neighbor bool
	// InProcBlocks: each producer's in-process rate in every block, in the
	// order run, by producer (its label), for other estimators than the
	// medians above (the JSON output).
	InProcBlocks map[string][]float64
}

// WriteRates are insert rates on the producers of WriteCost.
type WriteRates struct {
	None       float64 // no consumer
	LoggedIdle float64 // one approved consumer, stopped: update logs are written, nobody pulls
	LoggedLive float64 // one approved consumer streaming from the producer meanwhile
	RatioIdle  float64 // LoggedIdle / None
	RatioLive  float64 // LoggedLive / None, or / NoneSplit when measured
	// NoneSplit and IdleSplit: no consumer, and the consumer stopped,
	// measured as LoggedLive is when the streaming consumer has a CPU of its
	// own (WriteResult.Split): on the other CPU. RatioIdleSplit against
	// RatioLive tells what serving the pulls costs from what the log costs
	// on one CPU.
	NoneSplit      float64
	IdleSplit      float64
	RatioIdleSplit float64
	// QuartilesIdle and QuartilesLive: the 25th and 75th percentiles of the
	// repetitions' ratios behind RatioIdle and RatioLive. On a disk that
	// stalls now and then they span a fifth or more; the median of fifteen
	// moves by a few hundredths from one run to the next (docs/benchmarks.md,
	// ninth session).
	QuartilesIdle, QuartilesLive [2]float64
	AllNone                      []float64
	AllIdle                      []float64
	AllLive                      []float64
	AllNoneSplit                 []float64
	AllIdleSplit                 []float64
	// LivePulls and LiveServed: the pulls the streaming producer answered
	// while its inserts were timed, and the changes they carried.
	LivePulls, LiveServed float64
}

// finish takes the medians. Each ratio is the median of the repetitions'
// ratios: the three rates of a repetition were measured side by side.
func (w *WriteRates) finish() {
	w.None, w.LoggedIdle, w.LoggedLive = median(w.AllNone), median(w.AllIdle), median(w.AllLive)
	base := w.AllNone
	if len(w.AllNoneSplit) > 0 {
		w.NoneSplit, base = median(w.AllNoneSplit), w.AllNoneSplit
	}
	var idle, live, idleSplit []float64
	for i := range w.AllNone {
		idle, live = append(idle, w.AllIdle[i]/w.AllNone[i]), append(live, w.AllLive[i]/base[i])
		if i < len(w.AllIdleSplit) {
			idleSplit = append(idleSplit, w.AllIdleSplit[i]/base[i])
		}
	}
	w.RatioIdle, w.RatioLive = median(idle), median(live)
	w.QuartilesIdle = [2]float64{quantile(idle, 0.25), quantile(idle, 0.75)}
	w.QuartilesLive = [2]float64{quantile(live, 0.25), quantile(live, 0.75)}
	if len(idleSplit) > 0 {
		w.IdleSplit, w.RatioIdleSplit = median(w.AllIdleSplit), median(idleSplit)
	}
}

// WriteBlock is how many inserts one producer makes before the next one
// takes over, within a repetition: on a shared machine the speed changes
// from one second to the next, and interleaved blocks expose the producers
// to the same changes. Blocks of 100 (about 10 ms in-process) measured the
// cost of switching between sites as well: the logging producer, with the
// larger working set, came out at 0.73 of the lone one, against 0.82 with
// blocks of 1,000 and 0.88 with no switching at all (BenchmarkProducerInsert,
// GOGC=400). So blocks are 1,000. But a producer also pauses between its
// blocks, which a real one writing without pause does not: before the
// checkpointer let a busy writer's WAL start over (sqlstore/checkpoint.go),
// one block of 5,000 per repetition put the logged producers at 0.69-0.73
// of the lone one, against 0.81-0.87 with blocks of 1,000 (docs/benchmarks.md,
// eighth session). `bench stream --write-block` sets the size
// (Options.WriteBlock).
const WriteBlock = 1000

// WriteCost is benchmark (c): n documents inserted one per transaction
// through the document service, and n through the REST API, on three
// producers (no consumer; an approved consumer that is stopped; an approved
// consumer streaming), and with Split on two more measured as the streaming
// one is (no consumer, consumer stopped), reps times, interleaved in blocks
// of WriteBlock so that the tables grow alike and share the machine's moods.
func WriteCost(ctx context.Context, o *Options, n, reps int) (WriteResult, error) {
	res := WriteResult{N: n, Reps: reps}
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	root, err := os.MkdirTemp(o.Dir, "write-")
	if err != nil {
		return res, err
	}
	dsn, err := o.dsn(ctx, "bench_w", &cleanups)
	if err != nil {
		return res, err
	}
	openAlone := func(name, dsn string) (*site.Site, *Client, error) {
		s, err := OpenSite(ctx, SiteOptions{Dir: filepath.Join(root, name), DB: dsn, Stream: o.Stream})
		if err != nil {
			return nil, nil, err
		}
		cleanups = append(cleanups, func() { s.Close(context.Background()) })
		c := NewClient(s.URL)
		if err := SetUpAndCreate(ctx, c); err != nil {
			return nil, nil, err
		}
		return s, c, c.Login(ctx, "Administrator", AdminPassword)
	}
	openIdle := func(name string) (*pair, error) {
		idle, err := newPair(ctx, o, name, nil, nil)
		if err != nil {
			return nil, err
		}
		cleanups = append(cleanups, idle.close)
		return idle, idle.closeConsumer()
	}
	alone, aloneClient, err := openAlone("alone", dsn)
	if err != nil {
		return res, err
	}
	idle, err := openIdle("write-idle")
	if err != nil {
		return res, err
	}
	// The streaming consumer: on its own core in a process of its own, as
	// it would be on a machine of its own, with the producers on the other
	// core, when the machine allows; otherwise in this process.
	var liveP *site.Site
	var livePC *Client
	var liveDone func() error
	res.Split = o.Bin != "" && runtime.NumCPU() >= 2 && hasTaskset()
	if res.Split {
		pp, err := newProcPair(ctx, o, "write-live", "1")
		if err != nil {
			return res, err
		}
		cleanups = append(cleanups, pp.close)
		liveP, livePC = pp.p, pp.pc
		liveDone = func() error { // the consumer has applied every change
			head, err := streamHead(ctx, pp.p)
			for give := time.Now().Add(2 * time.Minute); err == nil; time.Sleep(2 * time.Millisecond) {
				var cur Cursor
				if cur, err = ReadCursor(ctx, pp.cc, pp.p.URL); err == nil && cur.LastSeq >= head {
					return nil
				}
				if err == nil && time.Now().After(give) {
					err = fmt.Errorf("the streaming consumer is at %d of %d after 2 minutes (log: %s)", cur.LastSeq, head, pp.cons.LogTail(10))
				}
			}
			return err
		}
	} else {
		live, err := newPair(ctx, o, "write-live", nil, nil)
		if err != nil {
			return res, err
		}
		cleanups = append(cleanups, live.close)
		liveP, livePC = live.p, live.pc
		liveDone = func() error {
			head, err := streamHead(ctx, live.p)
			if err == nil {
				err = waitCursor(ctx, live.c, live.p.URL, head, 2*time.Millisecond, nil)
			}
			return err
		}
	}

	// With Split, the streaming producer and a second run of the lone one
	// are measured on CPU 0 only, the consumer having CPU 1; the lone and
	// the stopped-consumer producers keep both CPUs, as nothing else runs.
	type target struct {
		s       *site.Site
		c       *Client
		in, out *[]float64
		pinned  bool
		prefix  string
		live    bool
		label   string // its region in an execution trace (--trace)
	}
	targets := []target{{alone, aloneClient, &res.InProc.AllNone, &res.HTTP.AllNone, false, "W", false, "no consumer"},
		{idle.p, idle.pc, &res.InProc.AllIdle, &res.HTTP.AllIdle, false, "W", false, "consumer stopped"},
		{liveP, livePC, &res.InProc.AllLive, &res.HTTP.AllLive, res.Split, "W", true, "consumer streaming"}}
	if res.Split {
		// Producers of their own, so that every table gets as many rows.
		sdsn, err := o.dsn(ctx, "bench_ws", &cleanups)
		if err != nil {
			return res, err
		}
		aloneSplit, aloneSplitClient, err := openAlone("alone-split", sdsn)
		if err != nil {
			return res, err
		}
		idleSplit, err := openIdle("write-idle-split")
		if err != nil {
			return res, err
		}
		targets = append(targets, target{aloneSplit, aloneSplitClient, &res.InProc.AllNoneSplit, &res.HTTP.AllNoneSplit, true, "W", false, "no consumer, CPU 0"},
			target{idleSplit.p, idleSplit.pc, &res.InProc.AllIdleSplit, &res.HTTP.AllIdleSplit, true, "W", false, "consumer stopped, CPU 0"})
	}
	var nb *neighbor
	if res.Split && o.Neighbor {
		if nb, err = startNeighbor(o, filepath.Join(root, "neighbor"), "1"); err != nil {
			return res, err
		}
		defer nb.stop()
		res.Neighbor = true
	}
	var unpin func()
	defer func() {
		if unpin != nil {
			unpin()
		}
	}()
	pin := func(on bool) error {
		switch {
		case on && unpin == nil:
			var err error
			if unpin, err = pinProcess(0); err == nil && nb != nil {
				nb.resume()
			}
			return err
		case !on && unpin != nil:
			if nb != nil {
				nb.pause()
			}
			unpin()
			unpin = nil
		}
		return nil
	}
	block := o.writeBlock()
	res.Block = block
	res.InProcBlocks = map[string][]float64{}
	for r := range reps {
		inProc, rest := make([]time.Duration, len(targets)), make([]time.Duration, len(targets))
		for start := 0; start < n; start += block {
			end := min(start+block, n)
			for k := range targets {
				j := (k + r + start/block) % len(targets) // each goes first in turn
				v := targets[j]
				if err := pin(v.pinned); err != nil {
					return res, err
				}
				p0, s0 := pullsServed(v.s)
				// A region per timed phase, so that an execution trace
				// (--trace) tells what every goroutine did meanwhile
				// (tools/tracewin); nearly free when not tracing.
				region := trace.StartRegion(ctx, "(c) in-process, "+v.label)
				t0 := time.Now()
				for i := start; i < end; i++ {
					if _, err := v.s.App.Insert(ctx, app.Admin(), BenchDocType, doc.Doc(CustomerDoc(fmt.Sprintf("%s%d-", v.prefix, r), i)), app.Opts{}); err != nil {
						return res, err
					}
				}
				t1 := time.Now()
				region.End()
				p1, s1 := pullsServed(v.s)
				region = trace.StartRegion(ctx, "(c) REST API, "+v.label)
				for i := start; i < end; i++ {
					if _, err := v.c.Insert(ctx, BenchDocType, CustomerDoc(fmt.Sprintf("H%s%d-", v.prefix, r), i)); err != nil {
						return res, err
					}
				}
				inProc[j] += t1.Sub(t0)
				res.InProcBlocks[v.label] = append(res.InProcBlocks[v.label], float64(end-start)/t1.Sub(t0).Seconds())
				rest[j] += time.Since(t1)
				region.End()
				if v.live {
					p2, s2 := pullsServed(v.s)
					res.InProc.LivePulls, res.InProc.LiveServed = res.InProc.LivePulls+p1-p0, res.InProc.LiveServed+s1-s0
					res.HTTP.LivePulls, res.HTTP.LiveServed = res.HTTP.LivePulls+p2-p1, res.HTTP.LiveServed+s2-s1
				}
				// The consumer catches up before the next producer's block
				// (not timed): it would otherwise still be applying this
				// block while that one is measured.
				if v.live {
					if err := liveDone(); err != nil {
						return res, err
					}
				}
			}
		}
		if err := pin(false); err != nil {
			return res, err
		}
		if nb != nil {
			if err := nb.exited(); err != nil {
				return res, err
			}
		}
		for j, v := range targets {
			*v.in = append(*v.in, float64(n)/inProc[j].Seconds())
			*v.out = append(*v.out, float64(n)/rest[j].Seconds())
		}
		o.logf("  (c) rep %d in-process: none %.0f/s, consumer stopped %.0f/s, consumer streaming %.0f/s; REST API: %.0f/s, %.0f/s, %.0f/s", r+1,
			res.InProc.AllNone[r], res.InProc.AllIdle[r], res.InProc.AllLive[r], res.HTTP.AllNone[r], res.HTTP.AllIdle[r], res.HTTP.AllLive[r])
		if res.Split {
			o.logf("      on CPU 0 only: no consumer (the streaming one's baseline) in-process %.0f/s, REST API %.0f/s; consumer stopped %.0f/s, %.0f/s",
				res.InProc.AllNoneSplit[r], res.HTTP.AllNoneSplit[r], res.InProc.AllIdleSplit[r], res.HTTP.AllIdleSplit[r])
		}
	}
	res.InProc.finish()
	res.HTTP.finish()
	return res, liveDone()
}

// writeBlock is the block size (c) uses.
func (o *Options) writeBlock() int {
	if o.WriteBlock > 0 {
		return o.WriteBlock
	}
	return WriteBlock
}

// pullsServed is how many pulls s has answered as a producer, and how many
// changes they carried, from its metrics.
func pullsServed(s *site.Site) (pulls, changes float64) {
	families, _ := s.Stream.Metrics.Registry.Gather()
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "docstream_pulls_served_total":
				pulls += m.GetCounter().GetValue()
			case "docstream_update_logs_served_total":
				changes += m.GetCounter().GetValue()
			}
		}
	}
	return pulls, changes
}

// hasTaskset reports whether taskset(1) can pin a child process to a CPU.
func hasTaskset() bool {
	_, err := exec.LookPath("taskset")
	return err == nil
}

// SetUpAndCreate logs in as Administrator and creates the benchmark DocType.
func SetUpAndCreate(ctx context.Context, c *Client) error {
	if err := c.Login(ctx, "Administrator", AdminPassword); err != nil {
		return err
	}
	return CreateDocTypes(ctx, c, BenchDocTypeDef())
}

// quantile is the q-quantile of v, interpolated between the two nearest
// ranks (the usual "type 7" of statistics packages); 0 for no values.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

// median is the middle value of v (the mean of the two middle ones for an
// even count); 0 for no values.
func median(v []float64) float64 { return quantile(v, 0.5) }

// ProducerForWrites opens a producer with the benchmark DocType and, unless
// consumer is "", an approved consumer that keeps streaming ("streaming") or
// is stopped ("stopped": every insert writes an update log, nobody pulls).
// cleanup closes everything.
func ProducerForWrites(ctx context.Context, o *Options, consumer string) (*site.Site, func(), error) {
	if consumer != "" {
		pr, err := newPair(ctx, o, "writes", nil, nil)
		if err != nil {
			return nil, nil, err
		}
		if consumer == "stopped" {
			if err := pr.closeConsumer(); err != nil {
				pr.close()
				return nil, nil, err
			}
		}
		return pr.p, pr.close, nil
	}
	var cleanups []func()
	done := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	dsn, err := o.dsn(ctx, "bench_w", &cleanups)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp(o.Dir, "alone-")
	if err != nil {
		done()
		return nil, nil, err
	}
	s, err := OpenSite(ctx, SiteOptions{Dir: dir, DB: dsn, Stream: o.Stream})
	if err != nil {
		done()
		return nil, nil, err
	}
	cleanups = append(cleanups, func() { s.Close(context.Background()) })
	if err := SetUpAndCreate(ctx, NewClient(s.URL)); err != nil {
		done()
		return nil, nil, err
	}
	return s, done, nil
}
