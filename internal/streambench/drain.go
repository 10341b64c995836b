package streambench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"docstream/internal/site"
)

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
