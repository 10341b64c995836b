package stream

import (
	"strconv"
	"sync"

	"docstream/internal/api"
	"docstream/internal/doc"
	"docstream/internal/store"
)

// A native consumer that follows the stream asks for the logs after a
// cursor near the head. On SQLite the store keeps the newest committed logs
// in memory (store.LogTail), so such a page is read from there and written
// out as JSON directly. From the table, with records as maps encoded by
// encoding/json, a pull cost about twice as much: 199–204 against 130–139 µs
// for one change, 617–629 against 286–349 µs for fifty (BenchmarkServePull,
// client included; docs/benchmarks.md). The answer is byte for byte the one
// the table gives (TestPullFromTailAsFromTable).

// servedPage is one answer to a pull.
type servedPage struct {
	logs    []map[string]any // from the table
	raw     api.RawMessage   // or already encoded, from the log tail
	n       int              // logs in the page
	head    int64
	scanned int64
	more    bool
}

// fromTail fills pg from the store's log tail for a native pull of the
// approved DocTypes dts, and reports whether it could: false when the store
// keeps no tail or it does not reach back to the cursor. The retention check
// of ack is not needed here: a tail that reaches back to the cursor began
// after the last prune (pruning empties it), so nothing after the cursor
// was pruned.
func (s *Streamer) fromTail(p pullArgs, dts []any, pg *servedPage) bool {
	tl, ok := s.App.Store.(store.LogTail)
	if !ok || s.noTail.Load() || !p.native {
		return false
	}
	want := make(map[string]bool, len(dts))
	for _, d := range dts {
		want[d.(string)] = true
	}
	// The page's logs are copied out under the tail's lock (a struct of
	// string headers each) and written out after it, so a commit never
	// waits for a page to be encoded.
	logs := tailPages.Get().(*[]store.TailLog)
	defer func() {
		clear(*logs) // keep no document text alive in the pool
		*logs = (*logs)[:0]
		tailPages.Put(logs)
	}()
	more := false
	head, ok := tl.LogsAfter(p.afterSeq, func(g *store.TailLog) bool {
		if !want[g.RefDoctype] || g.Origin == p.consumer {
			return true
		}
		if len(*logs) == p.limit {
			more = true
			return false
		}
		*logs = append(*logs, *g)
		return true
	})
	if !ok {
		return false
	}
	// Sized once: grown by doubling, a page of a few hundred logs was
	// copied seven times and its garbage made the writer assist the GC.
	b := make([]byte, 0, pageSize(*logs))
	b = append(b, '[')
	for i := range *logs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLogRecord(b, &(*logs)[i])
	}
	n := len(*logs)
	pg.raw, pg.n, pg.head, pg.scanned, pg.more = append(b, ']'), n, head, head, more
	if more {
		pg.scanned = (*logs)[n-1].Seq
	}
	return true
}

// tailPages are the slices fromTail copies a page's logs into.
var tailPages = sync.Pool{New: func() any { s := make([]store.TailLog, 0, 64); return &s }}

// pageSize is about the length of logs written by appendLogRecord: the keys
// and seq, each value, and a quarter more for the backslashes of the
// quotes in a document's JSON.
func pageSize(logs []store.TailLog) int {
	n := 2
	for i := range logs {
		g := &logs[i]
		n += 110 + len(g.Creation) + len(g.Data) + len(g.Data)/4 + len(g.Docname) + len(g.Name) + len(g.RefDoctype) + len(g.UpdateType)
	}
	return n
}

// appendLogRecord writes a log as logRecord's map is encoded: keys sorted,
// no HTML escaping (the API's encoder).
func appendLogRecord(b []byte, g *store.TailLog) []byte {
	b = append(b, `{"creation":`...)
	b = doc.AppendJSONString(b, g.Creation)
	b = append(b, `,"data":`...)
	if g.Data != "" {
		b = doc.AppendJSONString(b, g.Data)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"docname":`...)
	b = doc.AppendJSONString(b, g.Docname)
	b = append(b, `,"name":`...)
	b = doc.AppendJSONString(b, g.Name)
	b = append(b, `,"ref_doctype":`...)
	b = doc.AppendJSONString(b, g.RefDoctype)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, g.Seq, 10)
	b = append(b, `,"update_type":`...)
	b = doc.AppendJSONString(b, g.UpdateType)
	return append(b, '}')
}
