package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/stream"
	sb "docstream/internal/streambench"
)

const pullMethod = "event_streaming.event_streaming.doctype.event_update_log.event_update_log.get_update_logs_for_consumer"

// TestCommitOrderedSeq runs concurrent writers on a producer, some of which
// take their update log's seq and then keep the transaction open for a while
// before committing, while a consumer site and two hand-made pullers (native
// after_seq with small pages, and Frappe-style last_update) pull all along.
// No change may be skipped: every puller sees seq 1, 2, 3… with no gap and
// nothing twice, the consumer ends with every document, and `creation`
// strictly increases with seq (the cursor Frappe consumers use).
//
// The producer runs on SQLite (writers are serial there) and, when
// DOCSTREAM_TEST_POSTGRES holds a DSN, on PostgreSQL in a schema of its own.
func TestCommitOrderedSeq(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			dsn := ""
			if kind == "postgres" {
				base := strings.TrimSpace(os.Getenv("DOCSTREAM_TEST_POSTGRES"))
				if base == "" {
					t.Skip("PostgreSQL tests are off: set DOCSTREAM_TEST_POSTGRES to a DSN to run them")
				}
				var drop func() error
				var err error
				if dsn, drop, err = sb.NewSchema(context.Background(), base, "ds_seq"); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := drop(); err != nil {
						t.Errorf("drop schema: %v", err)
					}
				})
			}
			runSeq(t, dsn)
		})
	}
}

func runSeq(t *testing.T, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	fast := stream.Config{CatchUp: 500 * time.Millisecond, PullWait: time.Second, RetryBase: 200 * time.Millisecond,
		NotifyRetry: 200 * time.Millisecond, PageSize: 10}
	p, err := sb.OpenSite(ctx, sb.SiteOptions{Dir: t.TempDir(), DB: dsn, Stream: fast})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sb.OpenSite(ctx, sb.SiteOptions{Dir: t.TempDir(), Stream: fast})
	if err != nil {
		p.Close(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c.Close(cctx)
		p.Close(cctx)
	})
	if got := p.Store.Dialect(); (dsn != "") != (got == "postgres") {
		t.Fatalf("producer store is %s", got)
	}
	pc, cc := sb.NewClient(p.URL), sb.NewClient(c.URL)
	pkeys, err := sb.SetUpSubscriber(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.SetUpSubscriber(ctx, cc); err != nil {
		t.Fatal(err)
	}
	seqDoc := map[string]any{"name": "Seq Doc", "autoname": "field:title",
		"permissions": []any{map[string]any{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}},
		"fields": []any{map[string]any{"fieldname": "title", "fieldtype": "Data", "reqd": 1},
			map[string]any{"fieldname": "writer", "fieldtype": "Int"}}}
	for _, cl := range []*sb.Client{pc, cc} {
		if err := sb.CreateDocTypes(ctx, cl, seqDoc); err != nil {
			t.Fatal(err)
		}
	}
	if err := sb.Subscribe(ctx, cc, pc, p.URL, c.URL, pkeys, sb.Subscription{DocType: "Seq Doc", UseSameName: true}); err != nil {
		t.Fatal(err)
	}

	// Pullers run until the writers are done and they have reached the head.
	var writersDone atomic.Bool
	var total atomic.Int64
	native := &puller{cl: pc, consumer: c.URL, native: true}
	frappe := &puller{cl: pc, consumer: c.URL, lastUpdate: "2000-01-01 00:00:00.000000"}
	var pw sync.WaitGroup
	for _, pl := range []*puller{native, frappe} {
		if err := pl.cl.Login(ctx, "Administrator", sb.AdminPassword); err != nil {
			t.Fatal(err)
		}
		pw.Go(func() { pl.run(ctx, &writersDone, &total) })
	}

	// Writers: each inserts in its own transactions through the document
	// service; one transaction in four sleeps 20-60 ms after its insert (the
	// update log, and so its seq, is already written) before committing.
	const writers, perWriter = 8, 40
	var ww sync.WaitGroup
	werr := make(chan error, writers)
	for w := range writers {
		ww.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range perWriter {
				err := p.App.Update(ctx, func(tx *app.Tx) error {
					if _, err := tx.Insert(ctx, app.Admin(), "Seq Doc", doc.Doc{"title": fmt.Sprintf("w%d-%03d", w, i), "writer": int64(w)}, app.Opts{}); err != nil {
						return err
					}
					if rng.IntN(4) == 0 {
						time.Sleep(time.Duration(20+rng.IntN(40)) * time.Millisecond)
					}
					return nil
				})
				if err != nil {
					werr <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				total.Add(1)
			}
		})
	}
	ww.Wait()
	writersDone.Store(true)
	close(werr)
	for err := range werr {
		t.Fatal(err)
	}
	pw.Wait()
	const n = writers * perWriter
	for _, pl := range []*puller{native, frappe} {
		name := map[bool]string{true: "native (after_seq) puller", false: "Frappe (last_update) puller"}[pl.native]
		for _, e := range pl.errs {
			t.Errorf("%s: %s", name, e)
		}
		if len(pl.seen) != n || pl.cursor != n {
			t.Errorf("%s saw %d logs up to seq %d, want %d", name, len(pl.seen), pl.cursor, n)
		}
	}

	// The consumer site has every document.
	deadline := time.Now().Add(30 * time.Second)
	var got []map[string]any
	for {
		if got, err = cc.List(ctx, "Seq Doc", "", nil); err != nil {
			t.Fatal(err)
		}
		if len(got) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	names := map[string]bool{}
	for _, d := range got {
		names[sb.Str(d["name"])] = true
	}
	for w := range writers {
		for i := range perWriter {
			if k := fmt.Sprintf("w%d-%03d", w, i); !names[k] {
				t.Errorf("consumer lacks %s", k)
			}
		}
	}
	if len(got) != n {
		t.Errorf("consumer has %d documents, want %d", len(got), n)
	}

	// creation strictly increases with seq, as stored on the producer.
	logs, err := pc.List(ctx, "Event Update Log", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	type lc struct {
		seq      int64
		creation time.Time
	}
	var ls []lc
	for _, l := range logs {
		ct, err := time.Parse(doc.DatetimeLayout, sb.Str(l["creation"]))
		if err != nil {
			t.Fatalf("creation %q: %v", l["creation"], err)
		}
		ls = append(ls, lc{sb.Int(l["seq"]), ct})
	}
	if len(ls) != n {
		t.Fatalf("%d update logs, want %d", len(ls), n)
	}
	bySeq := make([]time.Time, n+1)
	for _, l := range ls {
		if l.seq < 1 || l.seq > n || !bySeq[l.seq].IsZero() {
			t.Fatalf("update log seq %d out of range or repeated", l.seq)
		}
		bySeq[l.seq] = l.creation
	}
	for s := 2; s <= n; s++ {
		if !bySeq[s].After(bySeq[s-1]) {
			t.Errorf("creation of seq %d (%s) is not after seq %d (%s)", s, bySeq[s].Format(doc.DatetimeLayout), s-1, bySeq[s-1].Format(doc.DatetimeLayout))
		}
	}
}

// puller pulls update logs by hand, natively (after_seq, small pages,
// long-poll) or as a Frappe consumer does (last_update = creation of the last
// log, strict >), and checks that seq advances by exactly one each time.
type puller struct {
	cl       *sb.Client
	consumer string
	native   bool

	cursor     int64
	lastUpdate string
	seen       map[int64]bool
	errs       []string
}

func (pl *puller) run(ctx context.Context, writersDone *atomic.Bool, total *atomic.Int64) {
	pl.seen = map[int64]bool{}
	if pl.native {
		pl.lastUpdate = ""
	}
	for ctx.Err() == nil && len(pl.errs) < 10 {
		if writersDone.Load() && pl.cursor >= total.Load() {
			return
		}
		args := map[string]any{"event_consumer": pl.consumer, "doctypes": `["Seq Doc"]`}
		if pl.native {
			args["after_seq"] = strconv.FormatInt(pl.cursor, 10)
			args["limit"] = "7"
			args["wait"] = "1"
		} else {
			args["last_update"] = pl.lastUpdate
		}
		msg, err := pl.cl.Call(ctx, pullMethod, args)
		if err != nil {
			pl.errs = append(pl.errs, "pull: "+err.Error())
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var logs []struct {
			Seq      int64  `json:"seq"`
			Creation string `json:"creation"`
			DocName  string `json:"docname"`
		}
		if err := json.Unmarshal(msg, &logs); err != nil {
			pl.errs = append(pl.errs, "decode: "+err.Error())
			continue
		}
		for _, l := range logs {
			if l.Seq != pl.cursor+1 {
				pl.errs = append(pl.errs, fmt.Sprintf("after seq %d got seq %d (%s): a change was skipped or repeated", pl.cursor, l.Seq, l.DocName))
			}
			if l.Creation <= pl.lastUpdate {
				pl.errs = append(pl.errs, fmt.Sprintf("seq %d: creation %s is not after %s", l.Seq, l.Creation, pl.lastUpdate))
			}
			pl.seen[l.Seq] = true
			pl.cursor, pl.lastUpdate = max(pl.cursor, l.Seq), l.Creation
		}
		if !pl.native {
			time.Sleep(5 * time.Millisecond)
		}
	}
}
