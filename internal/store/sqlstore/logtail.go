package sqlstore

import (
	"strings"
	"sync"

	"docstream/internal/meta"
	"docstream/internal/store"
)

// On SQLite the newest committed update logs are also kept in memory, for the
// pulls of consumers that follow the stream: served from the table, each pull
// cost the producer three queries and a row scan per log besides its read
// transaction, and a pull of one change cost half as much again as from here
// (BenchmarkServePull, docs/benchmarks.md).
//
// It is exact for the reason the clock cache is (clockcache.go): this process
// holds the site's lock and every write transaction runs under writeMu. A
// transaction collects the logs InsertUpdateLog writes, drops those of a
// savepoint it rolls back to, and appends the rest when it commits, under
// writeMu, so in commit order. Anything else that writes or deletes update
// log rows (InsertRow, UpdateRow, DeleteRow, a schema change of the table),
// or a failed commit, empties the tail; the next logged commit starts it
// again. A reader that asks for logs older than the tail reads the table.

// Tail bounds: enough for a consumer a second or two behind a busy producer;
// one further back reads the table.
const (
	tailMaxLogs  = 8192
	tailMaxBytes = 16 << 20
)

type logTail struct {
	mu    sync.Mutex
	valid bool
	from  int64 // every committed log with seq > from is in the ring
	// The logs, ascending by seq, are ring[start], ring[start+1], … (n of
	// them, wrapping around): a full ring overwrites its oldest in place,
	// where a slice dropped from the front moved every log from time to time
	// (a megabyte, through the garbage collector's write barriers).
	ring     []tailEntry
	start, n int
	bytes    int // of the logs held
	// maxLogs and maxBytes replace tailMaxLogs and tailMaxBytes when set
	// (tests).
	maxLogs, maxBytes int
}

type tailEntry struct {
	log  store.TailLog
	size int // tailSize(&log), kept: the oldest log's memory is cold when it is dropped
}

func (l *logTail) at(i int) *tailEntry { return &l.ring[(l.start+i)%len(l.ring)] }

// LogsAfter implements store.LogTail.
func (db *DB) LogsAfter(after int64, visit func(*store.TailLog) bool) (int64, bool) {
	if db.lock == nil {
		return 0, false
	}
	l := &db.tail
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.valid || after < l.from {
		return 0, false
	}
	// The logs are ascending by seq: find the first after `after`.
	lo, hi := 0, l.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.at(m).log.Seq <= after {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < l.n; i++ {
		if !visit(&l.at(i).log) {
			break
		}
	}
	// The head is the newest log, as StreamHead reads it from the table:
	// numbers handed out since (in a rolled-back savepoint) are not logs,
	// and would be handed out again after a restart. A valid tail holds at
	// least one log.
	return l.at(l.n - 1).log.Seq, true
}

// publish runs when a write transaction ends, under writeMu, after the
// clock's publish.
func (l *logTail) publish(t *Tx, committed, commitFailed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case t.clockDirty || t.tailDirty || commitFailed:
		l.valid, l.ring, l.start, l.n, l.bytes = false, nil, 0, 0, 0
		return
	case !committed || len(t.tailNew) == 0:
		return // numbers taken in a rolled-back savepoint leave a gap, not a log
	}
	maxLogs, maxBytes := tailMaxLogs, tailMaxBytes
	if l.maxLogs > 0 {
		maxLogs, maxBytes = l.maxLogs, l.maxBytes
	}
	if !l.valid {
		l.valid, l.from, l.start, l.n, l.bytes = true, t.tailNew[0].Seq-1, 0, 0, 0
	}
	if len(l.ring) != maxLogs {
		l.resize(maxLogs)
	}
	for _, g := range t.tailNew {
		if l.n == len(l.ring) {
			l.dropOldest()
		}
		e := l.at(l.n)
		*e = tailEntry{g, tailSize(&g)}
		l.n++
		l.bytes += e.size
	}
	for l.bytes > maxBytes && l.n > 1 {
		l.dropOldest()
	}
}

func (l *logTail) dropOldest() {
	e := l.at(0)
	l.bytes -= e.size
	l.from = e.log.Seq
	*e = tailEntry{} // its data can be collected
	l.start = (l.start + 1) % len(l.ring)
	l.n--
}

// resize gives the ring room for m logs, keeping the newest.
func (l *logTail) resize(m int) {
	for l.n > m {
		l.dropOldest()
	}
	ring := make([]tailEntry, m)
	for i := range l.n {
		ring[i] = *l.at(i)
	}
	l.ring, l.start = ring, 0
}

func tailSize(g *store.TailLog) int {
	return len(g.Name) + len(g.Creation) + len(g.Docname) + len(g.Origin) + len(g.Data) + 64
}

// tailed records a log this transaction inserted through InsertUpdateLog.
func (t *Tx) tailed(l store.UpdateLog, name, creation string, seq int64) {
	if !t.soleWriter() {
		return
	}
	if l.UpdateType == "" || l.RefDoctype == "" || l.Docname == "" {
		t.tailDirty = true // read back as null, which the tail cannot say
	}
	t.tailNew = append(t.tailNew, store.TailLog{Seq: seq, Name: name, Creation: creation,
		UpdateType: l.UpdateType, RefDoctype: l.RefDoctype, Docname: l.Docname, Origin: l.Origin, Data: l.Data})
}

// logTableChanged notes a write to the update log table that the tail does
// not follow (deleted rows, a schema change): the tail is emptied when the
// transaction ends.
func (t *Tx) logTableChanged(dt *meta.DocType) {
	if isUpdateLog(dt) {
		t.tailDirty = true
	}
}

// A savepoint's mark is how many logs the transaction had collected when it
// began, so that rolling back to it drops the logs written since. Marks are a
// stack, as SQLite's savepoints are: ROLLBACK TO and RELEASE name the newest
// savepoint of that name and end (RELEASE) or keep (ROLLBACK TO) it, ending
// every newer one.
type tailMark struct {
	name string
	n    int
}

func (t *Tx) markSavepoint(name string) {
	t.tailMarks = append(t.tailMarks, tailMark{name, len(t.tailNew)})
}

func (t *Tx) rollbackToMark(name string) {
	for i := len(t.tailMarks) - 1; i >= 0; i-- {
		if strings.EqualFold(t.tailMarks[i].name, name) {
			t.tailNew = t.tailNew[:t.tailMarks[i].n]
			t.tailMarks = t.tailMarks[:i+1]
			return
		}
	}
}

func (t *Tx) releaseMark(name string) {
	for i := len(t.tailMarks) - 1; i >= 0; i-- {
		if strings.EqualFold(t.tailMarks[i].name, name) {
			t.tailMarks = t.tailMarks[:i]
			return
		}
	}
}
