// Command tracewin tells, from a Go execution trace, what every goroutine
// did inside the windows of user regions: for each region type, the wall
// time of its windows and, per goroutine (named by the function it started
// in), the time it ran and the time it spent in system calls within them,
// whichever goroutine opened the region.
//
// docstream bench stream --trace marks each timed phase of benchmark (c)
// with a region (internal/streambench/writecost.go), so
//
//	docstream bench stream --only c --pouchdb off --write-n 3000 --write-reps 3 --trace c.trace
//	go run ./tools/tracewin c.trace
//
// shows, for instance, whether a producer with a consumer streaming spends
// its extra time in its inserting goroutine or in others (docs/benchmarks.md).
// It is a module of its own so that the product does not depend on
// golang.org/x/exp.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"golang.org/x/exp/trace"
)

type window struct {
	name       string
	start, end trace.Time
}

type span struct {
	g          trace.GoID
	start, end trace.Time
	syscall    bool
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tracewin TRACE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	wins, spans, names, err := read(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	report(os.Stdout, wins, spans, names)
}

// read collects the region windows, the running and syscall spans of every
// goroutine, and the function each goroutine started in.
func read(f io.Reader) ([]window, []span, map[trace.GoID]string, error) {
	r, err := trace.NewReader(f)
	if err != nil {
		return nil, nil, nil, err
	}
	var wins []window
	var spans []span
	open := map[trace.GoID][]window{}
	since := map[trace.GoID]trace.Time{}
	inSys := map[trace.GoID]trace.Time{}
	names := map[trace.GoID]string{}
	name := func(g trace.GoID, st trace.Stack) {
		if _, ok := names[g]; ok {
			return
		}
		fn := "(started before the trace)"
		for fr := range st.Frames() {
			fn = fr.Func // the outermost frame comes last
		}
		names[g] = fn
	}
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			return wins, spans, names, nil
		}
		if err != nil {
			return nil, nil, nil, err
		}
		switch ev.Kind() {
		case trace.EventRegionBegin:
			g := ev.Goroutine()
			open[g] = append(open[g], window{name: ev.Region().Type, start: ev.Time()})
		case trace.EventRegionEnd:
			g := ev.Goroutine()
			if n := len(open[g]); n > 0 {
				w := open[g][n-1]
				open[g] = open[g][:n-1]
				w.end = ev.Time()
				wins = append(wins, w)
			}
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			g := st.Resource.Goroutine()
			from, to := st.Goroutine()
			if from == trace.GoNotExist {
				name(g, st.Stack)
			}
			switch {
			case to == trace.GoRunning:
				since[g] = ev.Time()
				name(g, ev.Stack())
			case from == trace.GoRunning:
				if t, ok := since[g]; ok {
					spans = append(spans, span{g, t, ev.Time(), false})
					delete(since, g)
				}
			}
			switch {
			case to == trace.GoSyscall:
				inSys[g] = ev.Time()
			case from == trace.GoSyscall:
				if t, ok := inSys[g]; ok {
					spans = append(spans, span{g, t, ev.Time(), true})
					delete(inSys, g)
				}
			}
		}
	}
}

func report(w io.Writer, wins []window, spans []span, names map[trace.GoID]string) {
	type total struct {
		wall float64
		by   map[string]float64
	}
	totals := map[string]*total{}
	for _, win := range wins {
		t := totals[win.name]
		if t == nil {
			t = &total{by: map[string]float64{}}
			totals[win.name] = t
		}
		t.wall += float64(win.end - win.start)
		for _, s := range spans {
			if s.end <= win.start || s.start >= win.end {
				continue
			}
			k := names[s.g]
			if s.syscall {
				k += " [in system calls]"
			}
			t.by[k] += float64(min(s.end, win.end) - max(s.start, win.start))
		}
	}
	regions := make([]string, 0, len(totals))
	for n := range totals {
		regions = append(regions, n)
	}
	sort.Strings(regions)
	for _, n := range regions {
		t := totals[n]
		fmt.Fprintf(w, "%s: %.1f ms of wall time\n", n, t.wall/1e6)
		keys := make([]string, 0, len(t.by))
		for k := range t.by {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return t.by[keys[i]] > t.by[keys[j]] })
		for _, k := range keys {
			if t.by[k] >= 0.05e6 {
				fmt.Fprintf(w, "  %9.2f ms  %s\n", t.by[k]/1e6, k)
			}
		}
	}
}
