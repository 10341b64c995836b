package streambench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/site"
	"docstream/internal/stream"
)

// BenchDocType is the benchmark document: the "Customer" of the PouchDB
// baseline (shared/bench/pouchdb), 11 business fields plus its name.
const BenchDocType = "Bench Customer"

// BenchDocTypeDef is its definition (named by the code field, like PouchDB's _id).
func BenchDocTypeDef() map[string]any {
	f := func(name, typ string) map[string]any { return map[string]any{"fieldname": name, "fieldtype": typ} }
	return map[string]any{"name": BenchDocType, "autoname": "field:code",
		"permissions": []any{map[string]any{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}},
		"fields": []any{f("code", "Data"), f("customer_name", "Data"), f("email", "Data"), f("phone", "Data"),
			f("city", "Data"), f("country", "Data"), f("territory", "Data"), f("credit_limit", "Float"),
			f("status", "Data"), f("last_change", "Datetime"), f("notes", "Data")}}
}

var cities = []string{"Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Stuttgart", "Dresden", "Leipzig", "Bremen", "Hanover"}

// CustomerDoc is document i, as pouchdb-bench.js makeDoc builds it.
func CustomerDoc(prefix string, i int) map[string]any {
	return map[string]any{
		"code":          fmt.Sprintf("%s%07d", prefix, i),
		"customer_name": fmt.Sprintf("Customer number %d", i),
		"email":         fmt.Sprintf("customer%d@example.com", i),
		"phone":         fmt.Sprintf("+49-30-%08d", i),
		"city":          cities[i%len(cities)],
		"country":       "Germany",
		"territory":     "Europe",
		"credit_limit":  float64(i%1000)*100.5 + 1,
		"status":        "Active",
		"last_change":   doc.FormatDatetime(time.UnixMilli(1700000000000 + int64(i)*1000).UTC()),
		"notes":         "Payment terms 30 days net, v1",
	}
}

// Options configure the Event Streaming benchmarks.
type Options struct {
	Dir      string    // work folder (site data); removed by the caller
	DB       string    // PostgreSQL DSN; empty runs on SQLite
	Bin      string    // docstream binary, for the subprocess consumer of (d)
	Progress io.Writer // progress lines (nil: none)
	Stream   stream.Config
}

func (o *Options) logf(format string, a ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", a...)
	}
}

// pair is a producer and a consumer site in this process.
type pair struct {
	o        *Options
	p, c     *site.Site
	pc, cc   *Client
	cDir     string
	cAddr    string
	cDB      string
	pKeys    Keys
	cleanups []func()
	hook     func(*site.Site)
}

func (o *Options) dsn(ctx context.Context, prefix string, cleanups *[]func()) (string, error) {
	if o.DB == "" {
		return "", nil
	}
	dsn, drop, err := NewSchema(ctx, o.DB, prefix)
	if err != nil {
		return "", err
	}
	*cleanups = append(*cleanups, func() { drop() })
	return dsn, nil
}

// newPair opens a producer and a consumer, creates the benchmark DocType on
// both and subscribes the consumer (approved). pHook and hook, if set, run on
// the producer and the consumer before they start (each time the consumer
// is opened).
func newPair(ctx context.Context, o *Options, name string, pHook, hook func(*site.Site)) (*pair, error) {
	pr := &pair{o: o, hook: hook}
	root, err := os.MkdirTemp(o.Dir, name+"-")
	if err != nil {
		return nil, err
	}
	pDB, err := o.dsn(ctx, "bench_p", &pr.cleanups)
	if err != nil {
		return nil, err
	}
	if pr.cDB, err = o.dsn(ctx, "bench_c", &pr.cleanups); err != nil {
		pr.close()
		return nil, err
	}
	if pr.p, err = OpenSite(ctx, SiteOptions{Dir: filepath.Join(root, "producer"), DB: pDB, Stream: o.Stream, BeforeStart: pHook}); err != nil {
		pr.close()
		return nil, err
	}
	pr.cDir = filepath.Join(root, "consumer")
	if pr.cAddr, err = FreeAddr(); err != nil {
		pr.close()
		return nil, err
	}
	if err := pr.openConsumer(ctx); err != nil {
		pr.close()
		return nil, err
	}
	pr.pc, pr.cc = NewClient(pr.p.URL), NewClient(pr.c.URL)
	if pr.pKeys, err = SetUpSubscriber(ctx, pr.pc); err == nil {
		_, err = SetUpSubscriber(ctx, pr.cc)
	}
	if err == nil {
		err = CreateDocTypes(ctx, pr.pc, BenchDocTypeDef())
	}
	if err == nil {
		err = CreateDocTypes(ctx, pr.cc, BenchDocTypeDef())
	}
	if err == nil {
		err = Subscribe(ctx, pr.cc, pr.pc, pr.p.URL, pr.c.URL, pr.pKeys, Subscription{DocType: BenchDocType, UseSameName: true, NoBackfill: true})
	}
	if err != nil {
		pr.close()
		return nil, err
	}
	return pr, nil
}

func (pr *pair) openConsumer(ctx context.Context) error {
	c, err := OpenSite(ctx, SiteOptions{Dir: pr.cDir, Addr: pr.cAddr, DB: pr.cDB, Stream: pr.o.Stream, BeforeStart: pr.hook})
	if err != nil {
		return err
	}
	pr.c = c
	return nil
}

func (pr *pair) closeConsumer() error {
	if pr.c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := pr.c.Close(ctx)
	pr.c = nil
	return err
}

func (pr *pair) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if pr.c != nil {
		pr.c.Close(ctx)
	}
	if pr.p != nil {
		pr.p.Close(ctx)
	}
	for _, f := range pr.cleanups {
		f()
	}
}

// writeBatched inserts n benchmark documents on s, batch per transaction.
func writeBatched(ctx context.Context, s *site.Site, prefix string, n, batch int, progress func(done int)) error {
	for start := 0; start < n; start += batch {
		err := s.App.Update(ctx, func(t *app.Tx) error {
			for i := start; i < min(n, start+batch); i++ {
				if _, err := t.Insert(ctx, app.Admin(), BenchDocType, doc.Doc(CustomerDoc(prefix, i)), app.Opts{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if progress != nil {
			progress(min(n, start+batch))
		}
	}
	return nil
}

// streamHead is the producer's newest seq.
func streamHead(ctx context.Context, s *site.Site) (int64, error) {
	var h int64
	err := s.App.View(ctx, func(t *app.Tx) error {
		var err error
		h, err = t.StreamHead(ctx)
		return err
	})
	return h, err
}

// localCursor is the consumer's last applied seq from producer.
func localCursor(ctx context.Context, c *site.Site, producer string) (int64, error) {
	var seq int64
	err := c.App.View(ctx, func(t *app.Tx) error {
		dt, err := t.Meta("Event Producer Last Update")
		if err != nil {
			return err
		}
		d, err := t.Find(ctx, dt, producer, false)
		if d != nil {
			seq = d.Int("last_seq")
		}
		return err
	})
	return seq, err
}

func countDocs(ctx context.Context, s *site.Site) (int, error) {
	n, err := s.App.Count(ctx, app.Admin(), app.ListArgs{DocType: BenchDocType})
	return int(n), err
}

// BacklogResult is benchmark (a).
type BacklogResult struct {
	N           int
	LoadSeconds float64 // writing the backlog on the producer (not timed)
	Seconds     float64 // consumer start to every change applied
	DocsPerSec  float64
}

// Backlog is benchmark (a): n changes are written on the producer while the
// approved consumer is stopped; the consumer is then started and timed until
// it has applied them all (its cursor reaches the producer's head).
func Backlog(ctx context.Context, o *Options, n int) (BacklogResult, error) {
	pr, err := newPair(ctx, o, "backlog", nil, nil)
	if err != nil {
		return BacklogResult{}, err
	}
	defer pr.close()
	if err := pr.closeConsumer(); err != nil {
		return BacklogResult{}, err
	}
	t0 := time.Now()
	step := max(n/10, 1000)
	next := step
	if err := writeBatched(ctx, pr.p, "CUST-", n, 1000, func(d int) {
		if d >= next {
			o.logf("  (a) backlog: %d/%d written", d, n)
			next += step
		}
	}); err != nil {
		return BacklogResult{}, err
	}
	res := BacklogResult{N: n, LoadSeconds: time.Since(t0).Seconds()}
	head, err := streamHead(ctx, pr.p)
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := pr.openConsumer(ctx); err != nil {
		return res, err
	}
	if err := waitCursor(ctx, pr.c, pr.p.URL, head, 10*time.Millisecond, func(cur int64) {
		o.logf("  (a) backlog: consumer at %d/%d", cur, head)
	}); err != nil {
		return res, err
	}
	res.Seconds = time.Since(start).Seconds()
	res.DocsPerSec = float64(n) / res.Seconds
	if got, err := countDocs(ctx, pr.c); err != nil || got != n {
		return res, fmt.Errorf("consumer has %d documents after the backlog, want %d (%v)", got, n, err)
	}
	return res, nil
}

// waitCursor polls the consumer's cursor until it reaches head.
func waitCursor(ctx context.Context, c *site.Site, producer string, head int64, every time.Duration, progress func(int64)) error {
	lastLog := time.Now()
	lastMove, lastCur := time.Now(), int64(-1)
	for {
		cur, err := localCursor(ctx, c, producer)
		if err != nil {
			return err
		}
		if cur >= head {
			return nil
		}
		if cur != lastCur {
			lastMove, lastCur = time.Now(), cur
		} else if time.Since(lastMove) > 2*time.Minute {
			return fmt.Errorf("the consumer's cursor stayed at %d of %d for 2 minutes", cur, head)
		}
		if progress != nil && time.Since(lastLog) > 5*time.Second {
			progress(cur)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// Stats are latency percentiles in milliseconds (nearest-rank, as
// pouchdb-bench.js computes them).
type Stats struct {
	Count                         int
	Min, P50, P90, P99, Max, Mean float64
}

// NewStats summarizes durations.
func NewStats(d []time.Duration) Stats {
	if len(d) == 0 {
		return Stats{}
	}
	ms := make([]float64, len(d))
	sum := 0.0
	for i, x := range d {
		ms[i] = float64(x) / float64(time.Millisecond)
		sum += ms[i]
	}
	slices.Sort(ms)
	pct := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(ms)))) - 1
		return ms[max(0, min(i, len(ms)-1))]
	}
	return Stats{Count: len(ms), Min: ms[0], P50: pct(50), P90: pct(90), P99: pct(99), Max: ms[len(ms)-1], Mean: sum / float64(len(ms))}
}

// LiveResult is benchmark (b).
type LiveResult struct {
	K               int
	PutToVisible    Stats // HTTP insert on the producer until committed on the consumer
	PutAck          Stats // the HTTP insert alone
	CommitToVisible Stats // producer commit until consumer commit
}

// Live is benchmark (b): with the consumer streaming, k documents are
// inserted one at a time through the producer's HTTP API; each is timed from
// just before the request until the consumer's transaction that applied it
// has committed (an after-commit hook on the consumer), before the next is
// sent. warmup changes are made first and not counted.
func Live(ctx context.Context, o *Options, k, warmup int) (LiveResult, error) {
	var mu sync.Mutex
	waiters := map[string]chan time.Time{}
	committed := map[string]time.Time{}
	pHook := func(s *site.Site) {
		s.App.On(app.AfterInsert, BenchDocType, func(ctx context.Context, e *app.HookEvent) error {
			name := e.Doc.Name()
			e.Tx.AfterCommit(func() {
				now := time.Now()
				mu.Lock()
				committed[name] = now
				mu.Unlock()
			})
			return nil
		})
	}
	hook := func(s *site.Site) {
		s.App.On(app.AfterInsert, BenchDocType, func(ctx context.Context, e *app.HookEvent) error {
			name := e.Doc.Name()
			e.Tx.AfterCommit(func() {
				now := time.Now()
				mu.Lock()
				ch := waiters[name]
				delete(waiters, name)
				mu.Unlock()
				if ch != nil {
					ch <- now
				}
			})
			return nil
		})
	}
	pr, err := newPair(ctx, o, "live", pHook, hook)
	if err != nil {
		return LiveResult{}, err
	}
	defer pr.close()
	// Let the consumer's first long-poll settle.
	time.Sleep(500 * time.Millisecond)
	var total, ack, c2v []time.Duration
	for i := range warmup + k {
		d := CustomerDoc("LIVE-", i)
		name := d["code"].(string)
		ch := make(chan time.Time, 1)
		mu.Lock()
		waiters[name] = ch
		mu.Unlock()
		t0 := time.Now()
		if _, err := pr.pc.Insert(ctx, BenchDocType, d); err != nil {
			return LiveResult{}, err
		}
		t1 := time.Now()
		var t2 time.Time
		select {
		case t2 = <-ch:
		case <-time.After(10 * time.Second):
			return LiveResult{}, fmt.Errorf("change %s not visible on the consumer within 10 s", name)
		case <-ctx.Done():
			return LiveResult{}, ctx.Err()
		}
		mu.Lock()
		tc, ok := committed[name]
		delete(committed, name)
		mu.Unlock()
		if i >= warmup {
			total = append(total, t2.Sub(t0))
			ack = append(ack, t1.Sub(t0))
			if ok {
				c2v = append(c2v, t2.Sub(tc))
			}
		}
	}
	return LiveResult{K: k, PutToVisible: NewStats(total), PutAck: NewStats(ack), CommitToVisible: NewStats(c2v)}, nil
}

// WriteResult is benchmark (c): single-document inserts per second on a
// producer, through the document service in-process and through the REST
// API, median of the repetitions.
type WriteResult struct {
	N, Reps int
	InProc  WriteRates
	HTTP    WriteRates
	// Split: this process (the producers) ran on CPU 0 with GOMAXPROCS 1,
	// the streaming consumer in a `docstream serve` of its own on CPU 1.
	Split bool
}

// WriteRates are insert rates on three producers.
type WriteRates struct {
	None       float64 // no consumer
	LoggedIdle float64 // one approved consumer, stopped: update logs are written, nobody pulls
	LoggedLive float64 // one approved consumer streaming from the producer meanwhile
	RatioIdle  float64 // LoggedIdle / None
	RatioLive  float64 // LoggedLive / None, or / NoneSplit when measured
	// NoneSplit: no consumer, measured as LoggedLive is when the streaming
	// consumer has a CPU of its own (WriteResult.Split): on the other CPU.
	NoneSplit    float64
	AllNone      []float64
	AllIdle      []float64
	AllLive      []float64
	AllNoneSplit []float64
}

// finish takes the medians. Each ratio is the median of the repetitions'
// ratios: the three rates of a repetition were measured side by side.
func (w *WriteRates) finish() {
	w.None, w.LoggedIdle, w.LoggedLive = median(w.AllNone), median(w.AllIdle), median(w.AllLive)
	base := w.AllNone
	if len(w.AllNoneSplit) > 0 {
		w.NoneSplit, base = median(w.AllNoneSplit), w.AllNoneSplit
	}
	var idle, live []float64
	for i := range w.AllNone {
		idle, live = append(idle, w.AllIdle[i]/w.AllNone[i]), append(live, w.AllLive[i]/base[i])
	}
	w.RatioIdle, w.RatioLive = median(idle), median(live)
}

// writeBlock is how many inserts one producer makes before the next one
// takes over, within a repetition: on a shared machine the speed changes
// from one second to the next, and small interleaved blocks expose the
// three producers to the same changes.
const writeBlock = 100

// WriteCost is benchmark (c): n documents inserted one per transaction
// through the document service, and n through the REST API, on three
// producers (no consumer; an approved consumer that is stopped; an approved
// consumer streaming), reps times, interleaved in blocks of writeBlock so
// that the three tables grow alike and share the machine's moods.
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
	alone, err := OpenSite(ctx, SiteOptions{Dir: filepath.Join(root, "alone"), DB: dsn, Stream: o.Stream})
	if err != nil {
		return res, err
	}
	cleanups = append(cleanups, func() { alone.Close(context.Background()) })
	if err := SetUpAndCreate(ctx, NewClient(alone.URL)); err != nil {
		return res, err
	}
	idle, err := newPair(ctx, o, "write-idle", nil, nil)
	if err != nil {
		return res, err
	}
	cleanups = append(cleanups, idle.close)
	if err := idle.closeConsumer(); err != nil {
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
			for give := time.Now().Add(2 * time.Minute); err == nil; time.Sleep(20 * time.Millisecond) {
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
				err = waitCursor(ctx, live.c, live.p.URL, head, 20*time.Millisecond, nil)
			}
			return err
		}
	}

	aloneClient := NewClient(alone.URL)
	if err := aloneClient.Login(ctx, "Administrator", AdminPassword); err != nil {
		return res, err
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
	}
	targets := []target{{alone, aloneClient, &res.InProc.AllNone, &res.HTTP.AllNone, false, "W"},
		{idle.p, idle.pc, &res.InProc.AllIdle, &res.HTTP.AllIdle, false, "W"},
		{liveP, livePC, &res.InProc.AllLive, &res.HTTP.AllLive, res.Split, "W"}}
	if res.Split {
		targets = append(targets, target{alone, aloneClient, &res.InProc.AllNoneSplit, &res.HTTP.AllNoneSplit, true, "P"})
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
			unpin, err = pinProcess(0)
			return err
		case !on && unpin != nil:
			unpin()
			unpin = nil
		}
		return nil
	}
	for r := range reps {
		inProc, rest := make([]time.Duration, len(targets)), make([]time.Duration, len(targets))
		for start := 0; start < n; start += writeBlock {
			end := min(start+writeBlock, n)
			for k := range targets {
				j := (k + start/writeBlock) % len(targets) // each goes first in turn
				v := targets[j]
				if err := pin(v.pinned); err != nil {
					return res, err
				}
				t0 := time.Now()
				for i := start; i < end; i++ {
					if _, err := v.s.App.Insert(ctx, app.Admin(), BenchDocType, doc.Doc(CustomerDoc(fmt.Sprintf("%s%d-", v.prefix, r), i)), app.Opts{}); err != nil {
						return res, err
					}
				}
				t1 := time.Now()
				for i := start; i < end; i++ {
					if _, err := v.c.Insert(ctx, BenchDocType, CustomerDoc(fmt.Sprintf("H%s%d-", v.prefix, r), i)); err != nil {
						return res, err
					}
				}
				inProc[j] += t1.Sub(t0)
				rest[j] += time.Since(t1)
			}
		}
		if err := pin(false); err != nil {
			return res, err
		}
		for j, v := range targets {
			*v.in = append(*v.in, float64(n)/inProc[j].Seconds())
			*v.out = append(*v.out, float64(n)/rest[j].Seconds())
		}
		o.logf("  (c) rep %d in-process: none %.0f/s, consumer stopped %.0f/s, consumer streaming %.0f/s; REST API: %.0f/s, %.0f/s, %.0f/s", r+1,
			res.InProc.AllNone[r], res.InProc.AllIdle[r], res.InProc.AllLive[r], res.HTTP.AllNone[r], res.HTTP.AllIdle[r], res.HTTP.AllLive[r])
		if res.Split {
			o.logf("      no consumer on CPU 0 only (the streaming one's baseline): in-process %.0f/s, REST API %.0f/s", res.InProc.AllNoneSplit[r], res.HTTP.AllNoneSplit[r])
		}
	}
	res.InProc.finish()
	res.HTTP.finish()
	return res, liveDone()
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

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// RSSResult is benchmark (d).
type RSSResult struct {
	N          int
	Seconds    float64
	DocsPerSec float64
	PeakRSS    int64 // VmHWM of the consumer process, bytes
	// Samples are the consumer's RSS (bytes) when its cursor passed each
	// tenth of the backlog.
	Samples []RSSSample
}

// RSSSample is the consumer's resident memory at a point of the drain.
type RSSSample struct {
	Percent int   // of the backlog, a multiple of 10
	Applied int64 // the consumer's cursor when sampled
	RSS     int64
}

// procPair is an in-process producer and a `docstream serve` consumer
// subprocess (on cpus only, if set), subscribed to the benchmark DocType and
// streaming.
type procPair struct {
	p        *site.Site
	cons     *Server
	pc, cc   *Client
	cleanups []func()
}

func newProcPair(ctx context.Context, o *Options, name, cpus string) (*procPair, error) {
	if o.Bin == "" {
		return nil, errors.New("no docstream binary for the subprocess consumer")
	}
	pp := &procPair{}
	root, err := os.MkdirTemp(o.Dir, name+"-")
	if err != nil {
		return nil, err
	}
	schema := "bench_" + strings.ReplaceAll(name, "-", "_") // a PostgreSQL schema name prefix
	pDB, err := o.dsn(ctx, schema+"_p", &pp.cleanups)
	if err != nil {
		pp.close()
		return nil, err
	}
	cDB, err := o.dsn(ctx, schema+"_c", &pp.cleanups)
	if err != nil {
		pp.close()
		return nil, err
	}
	if pp.p, err = OpenSite(ctx, SiteOptions{Dir: filepath.Join(root, "producer"), DB: pDB, Stream: o.Stream}); err != nil {
		pp.close()
		return nil, err
	}
	p := pp.p
	pp.cleanups = append(pp.cleanups, func() { p.Close(context.Background()) })
	addr, err := FreeAddr()
	if err != nil {
		pp.close()
		return nil, err
	}
	pp.cons = &Server{Bin: o.Bin, Addr: addr, Dir: filepath.Join(root, "consumer"), DB: cDB, CPUs: cpus}
	if err := pp.cons.Start(ctx); err != nil {
		pp.close()
		return nil, err
	}
	pp.cleanups = append(pp.cleanups, pp.cons.Stop)
	pp.pc, pp.cc = NewClient(p.URL), NewClient(pp.cons.URL())
	keys, err := SetUpSubscriber(ctx, pp.pc)
	if err == nil {
		_, err = SetUpSubscriber(ctx, pp.cc)
	}
	if err == nil {
		err = CreateDocTypes(ctx, pp.pc, BenchDocTypeDef())
	}
	if err == nil {
		err = CreateDocTypes(ctx, pp.cc, BenchDocTypeDef())
	}
	if err == nil {
		err = Subscribe(ctx, pp.cc, pp.pc, p.URL, pp.cons.URL(), keys, Subscription{DocType: BenchDocType, UseSameName: true, NoBackfill: true})
	}
	if err != nil {
		pp.close()
		return nil, err
	}
	return pp, nil
}

func (pp *procPair) close() {
	for i := len(pp.cleanups) - 1; i >= 0; i-- {
		pp.cleanups[i]()
	}
	pp.cleanups = nil
}

// DrainRSS is benchmark (d): the consumer runs as a `docstream serve`
// subprocess; n changes are written on the (in-process) producer while it is
// stopped; it is started again and its resident memory is sampled while it
// drains the backlog. PeakRSS is its VmHWM at the end.
func DrainRSS(ctx context.Context, o *Options, n int) (RSSResult, error) {
	res := RSSResult{N: n}
	pp, err := newProcPair(ctx, o, "rss", "")
	if err != nil {
		return res, err
	}
	defer pp.close()
	p, cons, cc := pp.p, pp.cons, pp.cc
	cons.Stop()
	step := max(n/10, 1000)
	next := step
	if err := writeBatched(ctx, p, "RSS-", n, 2000, func(d int) {
		if d >= next {
			o.logf("  (d) backlog: %d/%d written", d, n)
			next += step
		}
	}); err != nil {
		return res, err
	}
	head, err := streamHead(ctx, p)
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := cons.Start(ctx); err != nil {
		return res, err
	}
	pid := cons.PID()
	pct := 0
	var hwm int64
	lastMove, lastCur := time.Now(), int64(-1)
	for {
		cur, err := ReadCursor(ctx, cc, p.URL)
		if err != nil {
			return res, fmt.Errorf("read the consumer's cursor: %w", err)
		}
		rss, h, err := ProcStatus(pid)
		if err != nil {
			return res, err
		}
		hwm = max(hwm, h)
		for pct <= 100 && cur.LastSeq >= head*int64(pct)/100 {
			res.Samples = append(res.Samples, RSSSample{Percent: pct, Applied: cur.LastSeq, RSS: rss})
			o.logf("  (d) consumer at %d/%d, RSS %.0f MB, peak %.0f MB, %.0f s", cur.LastSeq, head, mb(rss), mb(h), time.Since(start).Seconds())
			pct += 10
		}
		if cur.LastSeq >= head {
			break
		}
		if cur.LastSeq != lastCur {
			lastMove, lastCur = time.Now(), cur.LastSeq
		} else if time.Since(lastMove) > 2*time.Minute {
			return res, fmt.Errorf("the consumer's cursor stayed at %d of %d for 2 minutes (log: %s)", cur.LastSeq, head, cons.LogTail(10))
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.DocsPerSec = float64(n) / res.Seconds
	if _, h, err := ProcStatus(pid); err == nil {
		hwm = max(hwm, h)
	}
	res.PeakRSS = hwm
	return res, nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

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
