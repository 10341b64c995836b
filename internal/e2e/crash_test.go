package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sb "docstream/internal/streambench"
)

// Short stream timings for `docstream serve` (hidden variables read by
// cmd/docstream): a killed consumer's pull lease expires after 3 s, pages
// are small so that a kill lands between and inside many page commits.
var crashEnv = []string{
	"DOCSTREAM_STREAM_CATCHUP=1s",
	"DOCSTREAM_STREAM_PULL_WAIT=1s",
	"DOCSTREAM_STREAM_LEASE=3s",
	"DOCSTREAM_STREAM_RETRY_BASE=200ms",
	"DOCSTREAM_STREAM_NOTIFY_RETRY=200ms",
	"DOCSTREAM_STREAM_PAGE_SIZE=50",
}

const (
	crashOps     = 3000 // changes written on the producer per test
	crashWriters = 4    // concurrent HTTP writers
)

// Crash Note keeps the producer's names on the consumer (use_same_name=1);
// Crash Memo is named by a series on each site and matched by
// remote_docname (use_same_name=0). Both have a child table.
func crashDocTypes() []map[string]any {
	perms := []any{map[string]any{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}}
	return []map[string]any{
		{"name": "Crash Item", "istable": 1, "fields": []any{
			map[string]any{"fieldname": "item", "fieldtype": "Data", "reqd": 1},
			map[string]any{"fieldname": "qty", "fieldtype": "Float"}}},
		{"name": "Crash Note", "autoname": "field:title", "permissions": perms, "fields": []any{
			map[string]any{"fieldname": "title", "fieldtype": "Data", "reqd": 1},
			map[string]any{"fieldname": "body", "fieldtype": "Text"},
			map[string]any{"fieldname": "counter", "fieldtype": "Int"},
			map[string]any{"fieldname": "items", "fieldtype": "Table", "options": "Crash Item"}}},
		{"name": "Crash Memo", "autoname": "MEMO-.#####", "permissions": perms, "fields": []any{
			map[string]any{"fieldname": "subject", "fieldtype": "Data", "reqd": 1},
			map[string]any{"fieldname": "body", "fieldtype": "Text"},
			map[string]any{"fieldname": "counter", "fieldtype": "Int"},
			map[string]any{"fieldname": "lines", "fieldtype": "Table", "options": "Crash Item"}}},
	}
}

// TestCrashConsumer SIGKILLs the consumer four times while thousands of changes
// stream to it, restarts it on the same data and port, and checks that both
// sites end identical with no duplicate: the cursor and the applied changes
// commit together, and a replayed Create is idempotent.
func TestCrashConsumer(t *testing.T) { runCrash(t, "consumer") }

// TestCrashProducer SIGKILLs the producer twice while it is being written to
// and streamed from, restarts it, keeps writing, and checks the same: an
// update log commits with its change, and the consumer resumes from its
// cursor.
func TestCrashProducer(t *testing.T) { runCrash(t, "producer") }

func runCrash(t *testing.T, victim string) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	bin := docstreamBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	root := t.TempDir()
	pr := startPair(ctx, t, bin, filepath.Join(root, "producer"), filepath.Join(root, "consumer"))
	prod, cons, pc, cc, pkeys := pr.prod, pr.cons, pr.pc, pr.cc, pr.pkeys
	for _, c := range []*sb.Client{pc, cc} {
		if err := sb.CreateDocTypes(ctx, c, crashDocTypes()...); err != nil {
			t.Fatal(err)
		}
	}
	if err := sb.Subscribe(ctx, cc, pc, prod.URL(), cons.URL(), pkeys,
		sb.Subscription{DocType: "Crash Note", UseSameName: true},
		sb.Subscription{DocType: "Crash Memo", UseSameName: false}); err != nil {
		t.Fatal(err)
	}

	// Writers share the op budget; kills happen at fixed fractions of it.
	var done atomic.Int64
	var down atomic.Bool // the producer is being killed and restarted
	wctx, stopWriters := context.WithCancel(ctx)
	defer stopWriters()
	var wg sync.WaitGroup
	werrs := make(chan error, crashWriters)
	for i := range crashWriters {
		w := &crashWriter{id: i, cl: sb.NewClient(prod.URL()), rng: rand.New(rand.NewPCG(uint64(i), 42)),
			tolerate: victim == "producer", down: &down}
		if err := w.cl.Login(ctx, "Administrator", sb.AdminPassword); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for done.Add(1) <= crashOps {
				if err := w.step(wctx); err != nil {
					if wctx.Err() == nil {
						werrs <- fmt.Errorf("writer %d: %w", w.id, err)
					}
					stopWriters()
					return
				}
			}
		})
	}

	// Kill schedule. The consumer is killed once while it keeps up with the
	// writers, stays down long enough for a backlog of a thousand events or
	// more, then is killed three more times 100-250 ms after each restart, in
	// the middle of draining that backlog page by page while the writers go
	// on. The producer is killed twice while the writers write to it and the
	// consumer pulls from it.
	type kill struct {
		atOps        int64         // kill when this many ops have started…
		afterRestart time.Duration // …or this long after the previous restart
		downFor      time.Duration
	}
	target, plan := cons, []kill{
		{atOps: crashOps * 3 / 10, downFor: 1200 * time.Millisecond},
		{afterRestart: 100 * time.Millisecond, downFor: 300 * time.Millisecond},
		{afterRestart: 150 * time.Millisecond, downFor: 200 * time.Millisecond},
		{afterRestart: 250 * time.Millisecond, downFor: 200 * time.Millisecond},
	}
	if victim == "producer" {
		target, plan = prod, []kill{{atOps: crashOps * 3 / 10, downFor: 300 * time.Millisecond}, {atOps: crashOps * 65 / 100, downFor: 800 * time.Millisecond}}
	}
	restarted := time.Now()
	for i, k := range plan {
		if k.afterRestart > 0 {
			time.Sleep(time.Until(restarted.Add(k.afterRestart)))
		}
		for done.Load() < k.atOps && wctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		if wctx.Err() != nil {
			break
		}
		cur, _ := sb.ReadCursor(ctx, cc, prod.URL())
		head, _ := sb.HeadSeq(ctx, pc)
		if victim == "producer" {
			down.Store(true)
		}
		target.Kill()
		t.Logf("SIGKILL %s #%d after %d ops (consumer cursor %d, producer head %d)", victim, i+1, done.Load(), cur.LastSeq, head)
		time.Sleep(k.downFor)
		if err := target.Start(ctx); err != nil {
			t.Fatal(err)
		}
		restarted = time.Now()
		down.Store(false)
	}
	wg.Wait()
	close(werrs)
	for err := range werrs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	// Wait until the consumer's cursor reaches the producer's head, then
	// compare (allowing a few seconds for retries of failed events).
	head, err := sb.HeadSeq(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		cur, err := sb.ReadCursor(ctx, cc, prod.URL())
		if err == nil && cur.LastSeq >= head {
			break
		}
		if ctx.Err() != nil || time.Since(start) > 30*time.Second {
			t.Fatalf("consumer did not catch up: cursor %+v, head %d, err %v", cur, head, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d ops, head seq %d, caught up %s after the last write", crashOps, head, time.Since(start).Round(time.Millisecond))
	var diffs []string
	for range 10 {
		if diffs, err = compareSites(ctx, pc, cc, prod.URL()); err != nil {
			t.Fatal(err)
		}
		if len(diffs) == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(diffs) > 0 {
		if len(diffs) > 30 {
			diffs = append(diffs[:30], fmt.Sprintf("… and %d more", len(diffs)-30))
		}
		t.Fatalf("sites differ after the %s crashes:\n%s", victim, strings.Join(diffs, "\n"))
	}
	failed, err := cc.List(ctx, "Event Sync Log", "", [][]any{{"status", "in", []string{"Failed", "Queued"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failed {
		t.Errorf("sync log %v %v %v: %v", f["status"], f["update_type"], f["producer_doc"], f["error"])
	}
}

// crashWriter writes creates, updates with child rows and deletes on its own
// documents.
type crashWriter struct {
	id       int
	cl       *sb.Client
	rng      *rand.Rand
	n        int
	notes    []string
	memos    []string
	tolerate bool // the producer may be down: wait and carry on
	down     *atomic.Bool
}

func (w *crashWriter) rows(k int) []any {
	var out []any
	for range k {
		out = append(out, map[string]any{"item": fmt.Sprintf("item-%d", w.rng.IntN(1000)), "qty": float64(w.rng.IntN(400)) / 4})
	}
	return out
}

func (w *crashWriter) step(ctx context.Context) error {
	r := w.rng.Float64()
	switch {
	case r < 0.35 || len(w.notes)+len(w.memos) < 4:
		return w.create(ctx)
	case r < 0.85:
		return w.update(ctx)
	default:
		return w.delete(ctx)
	}
}

func (w *crashWriter) create(ctx context.Context) error {
	w.n++
	if w.rng.IntN(2) == 0 {
		title := fmt.Sprintf("w%d-n%05d", w.id, w.n)
		_, err := w.cl.Insert(ctx, "Crash Note", map[string]any{"title": title, "body": "created", "counter": 0, "items": w.rows(1 + w.rng.IntN(3))})
		if err != nil {
			if err = w.recover(ctx, err); err != nil {
				return err
			}
			if _, gerr := w.cl.Get(ctx, "Crash Note", title); gerr != nil {
				return nil // not created (or unknown: the comparison covers it)
			}
		}
		w.notes = append(w.notes, title)
		return nil
	}
	d, err := w.cl.Insert(ctx, "Crash Memo", map[string]any{"subject": fmt.Sprintf("memo %d/%d", w.id, w.n), "counter": 0, "lines": w.rows(1 + w.rng.IntN(3))})
	if err != nil {
		// A memo whose answer was lost may exist under a name we do not
		// know; it stays on the producer and is compared like any other.
		return w.recover(ctx, err)
	}
	w.memos = append(w.memos, sb.Str(d["name"]))
	return nil
}

func (w *crashWriter) pick() (doctype, table string, list *[]string, i int) {
	if len(w.memos) == 0 || (len(w.notes) > 0 && w.rng.IntN(2) == 0) {
		return "Crash Note", "items", &w.notes, w.rng.IntN(len(w.notes))
	}
	return "Crash Memo", "lines", &w.memos, w.rng.IntN(len(w.memos))
}

func (w *crashWriter) update(ctx context.Context) error {
	dt, table, list, i := w.pick()
	name := (*list)[i]
	d, err := w.cl.Get(ctx, dt, name)
	if err != nil {
		return w.forgetIfGone(ctx, err, list, i)
	}
	rows, _ := d[table].([]any)
	switch op := w.rng.IntN(4); {
	case op == 0 && len(rows) > 1: // remove a row
		k := w.rng.IntN(len(rows))
		rows = append(rows[:k], rows[k+1:]...)
	case op == 1 && len(rows) > 1: // swap two rows
		a, b := w.rng.IntN(len(rows)), w.rng.IntN(len(rows))
		rows[a], rows[b] = rows[b], rows[a]
	case op == 2 && len(rows) > 0: // change a row
		if m, ok := rows[w.rng.IntN(len(rows))].(map[string]any); ok {
			m["qty"] = float64(w.rng.IntN(400)) / 4
			m["item"] = fmt.Sprintf("changed-%d", w.rng.IntN(1000))
		}
	default: // add a row
		rows = append(rows, w.rows(1)...)
	}
	c := sb.Int(d["counter"]) + 1
	_, err = w.cl.Save(ctx, dt, name, map[string]any{"body": fmt.Sprintf("version %d by writer %d", c, w.id), "counter": c, table: rows})
	if err != nil {
		return w.forgetIfGone(ctx, err, list, i)
	}
	return nil
}

func (w *crashWriter) delete(ctx context.Context) error {
	dt, _, list, i := w.pick()
	name := (*list)[i]
	err := w.cl.Delete(ctx, dt, name)
	if err != nil {
		if err = w.recover(ctx, err); err != nil {
			return err
		}
		if _, gerr := w.cl.Get(ctx, dt, name); gerr == nil {
			return nil // still there; maybe later
		}
	}
	*list = append((*list)[:i], (*list)[i+1:]...)
	return nil
}

// forgetIfGone drops a document that no longer exists (a delete whose answer
// was lost) after waiting for the producer to come back.
func (w *crashWriter) forgetIfGone(ctx context.Context, err error, list *[]string, i int) error {
	if !sb.IsStatus(err, 404) {
		if err = w.recover(ctx, err); err != nil {
			return err
		}
		return nil
	}
	if !w.tolerate {
		return err
	}
	*list = append((*list)[:i], (*list)[i+1:]...)
	return nil
}

// recover waits for a killed producer to come back. Without tolerance (the
// producer is never killed) every error is a failure.
func (w *crashWriter) recover(ctx context.Context, err error) error {
	var api *sb.APIError
	if !w.tolerate || (errors.As(err, &api) && !w.down.Load() && api.Status < 500) {
		return err
	}
	if werr := w.cl.WaitUp(ctx); werr != nil {
		return fmt.Errorf("%v; then: %w", err, werr)
	}
	return nil
}

// compareSites lists both sites' documents and child rows and reports every
// difference and duplicate.
func compareSites(ctx context.Context, pc, cc *sb.Client, producerURL string) ([]string, error) {
	var diffs []string
	add := func(f string, a ...any) { diffs = append(diffs, fmt.Sprintf(f, a...)) }
	list := func(c *sb.Client, dt, parent string) ([]map[string]any, error) { return c.List(ctx, dt, parent, nil) }

	pNotes, err := list(pc, "Crash Note", "")
	if err != nil {
		return nil, err
	}
	cNotes, err := list(cc, "Crash Note", "")
	if err != nil {
		return nil, err
	}
	pMemos, err := list(pc, "Crash Memo", "")
	if err != nil {
		return nil, err
	}
	cMemos, err := list(cc, "Crash Memo", "")
	if err != nil {
		return nil, err
	}
	pItems, err := list(pc, "Crash Item", "Crash Note")
	if err != nil {
		return nil, err
	}
	cItems, err := list(cc, "Crash Item", "Crash Note")
	if err != nil {
		return nil, err
	}

	fields := func(d map[string]any, keys ...string) string {
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%q ", k, sb.Str(d[k]))
		}
		return b.String()
	}
	byName := func(what string, rows []map[string]any, key string) map[string]map[string]any {
		m := map[string]map[string]any{}
		for _, r := range rows {
			k := sb.Str(r[key])
			if _, dup := m[k]; dup {
				add("%s: duplicate %s %q", what, key, k)
			}
			m[k] = r
		}
		return m
	}
	cmp := func(what string, p, c map[string]map[string]any, keys ...string) {
		for k, pd := range p {
			cd, ok := c[k]
			switch {
			case !ok:
				add("%s %s: missing on the consumer", what, k)
			case fields(pd, keys...) != fields(cd, keys...):
				add("%s %s: producer %s / consumer %s", what, k, fields(pd, keys...), fields(cd, keys...))
			}
		}
		for k := range c {
			if _, ok := p[k]; !ok {
				add("%s %s: on the consumer only", what, k)
			}
		}
	}

	cmp("Crash Note", byName("producer notes", pNotes, "name"), byName("consumer notes", cNotes, "name"),
		"title", "body", "counter", "docstatus")
	// Memos: the consumer names its own; remote_docname is the producer's name.
	cmp("Crash Memo", byName("producer memos", pMemos, "name"), byName("consumer memos (remote_docname)", cMemos, "remote_docname"),
		"subject", "body", "counter", "docstatus")
	local := map[string]string{} // consumer memo name -> producer memo name
	for _, m := range cMemos {
		local[sb.Str(m["name"])] = sb.Str(m["remote_docname"])
		if sb.Str(m["remote_site_name"]) != producerURL {
			add("consumer memo %v: remote_site_name %q, want %q", m["name"], m["remote_site_name"], producerURL)
		}
	}
	// Child rows keep their names on both sites; a memo's rows point to the
	// consumer's name of the memo.
	for _, r := range cItems {
		if sb.Str(r["parenttype"]) == "Crash Memo" {
			r["parent"] = local[sb.Str(r["parent"])]
		}
	}
	cmp("Crash Item", byName("producer rows", pItems, "name"), byName("consumer rows", cItems, "name"),
		"parenttype", "parent", "parentfield", "idx", "item", "qty")
	sort.Strings(diffs)
	if len(pNotes)+len(pMemos) < 50 {
		add("only %d documents on the producer: the writers did not run", len(pNotes)+len(pMemos))
	}
	return diffs, nil
}

// pair is a producer and a consumer `docstream serve` process with the
// Event Subscriber and its keys set up on both.
type pair struct {
	prod, cons *sb.Server
	pc, cc     *sb.Client
	pkeys      sb.Keys
}

// startPair starts both processes on free ports over the given data folders
// (stopped, with their log tails on failure, when the test ends).
func startPair(ctx context.Context, t *testing.T, bin, pdir, cdir string) pair {
	t.Helper()
	paddr, err := sb.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	caddr, err := sb.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p := pair{prod: &sb.Server{Bin: bin, Addr: paddr, Dir: pdir, Env: crashEnv},
		cons: &sb.Server{Bin: bin, Addr: caddr, Dir: cdir, Env: crashEnv}}
	for _, s := range []*sb.Server{p.prod, p.cons} {
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		p.prod.Stop()
		p.cons.Stop()
		if t.Failed() {
			t.Logf("producer log:\n%s", p.prod.LogTail(40))
			t.Logf("consumer log:\n%s", p.cons.LogTail(40))
		}
	})
	p.pc, p.cc = sb.NewClient(p.prod.URL()), sb.NewClient(p.cons.URL())
	if p.pkeys, err = sb.SetUpSubscriber(ctx, p.pc); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.SetUpSubscriber(ctx, p.cc); err != nil {
		t.Fatal(err)
	}
	return p
}
