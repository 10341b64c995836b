package e2e

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/site"
	sb "docstream/internal/streambench"
)

// Small-scale versions of `docstream bench stream` (a), (b) and (c); the
// full runs and their results are in docs/benchmarks.md.

// BenchmarkStreamBacklog is (a): 2,000 changes wait for a stopped consumer,
// which is started and timed until it has applied them all.
func BenchmarkStreamBacklog(b *testing.B) {
	const n = 2000
	o := &sb.Options{Dir: b.TempDir()}
	var rate float64
	for b.Loop() {
		r, err := sb.Backlog(context.Background(), o, n)
		if err != nil {
			b.Fatal(err)
		}
		rate = r.DocsPerSec
	}
	b.ReportMetric(rate, "docs/s")
}

// BenchmarkStreamLive is (b): one change at a time, HTTP insert on the
// producer until committed on the consumer; 200 changes per iteration.
func BenchmarkStreamLive(b *testing.B) {
	o := &sb.Options{Dir: b.TempDir()}
	var r sb.LiveResult
	var err error
	for b.Loop() {
		if r, err = sb.Live(context.Background(), o, 200, 20); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(r.PutToVisible.P50, "p50-ms")
	b.ReportMetric(r.PutToVisible.P99, "p99-ms")
}

// BenchmarkProducerInsert is (c) per insert: one document per transaction on
// a producer with no consumer, with an approved consumer that is stopped
// (the update log is written, nobody pulls), and with one streaming.
func BenchmarkProducerInsert(b *testing.B) {
	ctx := context.Background()
	for _, consumer := range []string{"", "stopped", "streaming"} {
		b.Run("consumer="+map[string]string{"": "none"}[consumer]+consumer, func(b *testing.B) {
			o := &sb.Options{Dir: b.TempDir()}
			s, cleanup, err := sb.ProducerForWrites(ctx, o, consumer)
			if err != nil {
				b.Fatal(err)
			}
			defer cleanup()
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := s.App.Insert(ctx, app.Admin(), sb.BenchDocType, doc.Doc(sb.CustomerDoc(fmt.Sprintf("B%d-", b.N), i)), app.Opts{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			// CPU of the whole process (both sites) per insert: steadier than
			// wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(i), "cpu-µs/op")
		})
	}
}

// cpuTime is the user+system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProducerStalls is (c) for writers that do not pause: a producer
// with no consumer and one with a stopped consumer insert 20,000 documents
// each, taking turns in blocks of 5,000, timed in segments of 500. Besides
// the ratio of their rates it reports each one's slowest segment against its
// median one: a writer that runs a checkpoint inside its own commit shows
// there (docs/benchmarks.md, eighth session). Run it pinned to one CPU to
// match (c) on CPU 0: taskset -c 0 with GOMAXPROCS=1.
func BenchmarkProducerStalls(b *testing.B) {
	const n, block, seg = 20000, 5000, 500
	ctx := context.Background()
	o := &sb.Options{Dir: b.TempDir()}
	var sites [2]*site.Site
	for i, consumer := range []string{"", "stopped"} {
		s, cleanup, err := sb.ProducerForWrites(ctx, o, consumer)
		if err != nil {
			b.Fatal(err)
		}
		defer cleanup()
		sites[i] = s
	}
	var total [2]time.Duration
	var segs [2][]time.Duration
	round := 0
	for b.Loop() {
		for start := 0; start < n; start += block {
			for k, s := range sites {
				name := fmt.Sprintf("S%d-", round)
				t0 := time.Now()
				for i := start; i < start+block; i++ {
					if _, err := s.App.Insert(ctx, app.Admin(), sb.BenchDocType, doc.Doc(sb.CustomerDoc(name, i)), app.Opts{}); err != nil {
						b.Fatal(err)
					}
					if (i+1)%seg == 0 {
						d := time.Since(t0)
						segs[k], total[k], t0 = append(segs[k], d), total[k]+d, time.Now()
					}
				}
			}
		}
		round++
	}
	b.ReportMetric(total[0].Seconds()/total[1].Seconds(), "stopped/none")
	for k, label := range []string{"none", "stopped"} {
		s := slices.Clone(segs[k])
		slices.Sort(s)
		b.ReportMetric(float64(s[len(s)-1])/float64(s[len(s)/2]), label+"-slowest/median")
	}
}
