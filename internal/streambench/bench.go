package streambench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
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
	// Neighbor keeps CPU 1 busy while (c) measures producers on CPU 0
	// (neighbor.go).
	Neighbor bool
	// WriteBlock replaces the package's WriteBlock in (c) when positive.
	WriteBlock int
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
