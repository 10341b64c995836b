package sqlstore

import "docstream/internal/meta"

// On SQLite the stream clock (the last seq and creation handed out) is also
// kept in memory, so a logged write does not read it from the database: a
// statement costs about 10 µs through database/sql and modernc however small,
// a sixth of what logging adds to an insert (docs/benchmarks.md, aim (c)).
//
// It is exact because every writer of the file goes through this DB: the
// process holds the site's lock (lockSite), and write transactions run one at
// a time under writeMu, from Begin to Commit or Rollback. A transaction takes
// its numbers from the cache and publishes the last one when it commits; a
// rollback publishes nothing (numbers taken inside a rolled-back savepoint
// are skipped, which leaves a gap, never a repeat). A transaction that writes
// update log rows any other way (InsertRow with a seq of its own), or whose
// commit fails, empties the cache, and the next logged write reads the
// clock from the database again. Deleting logs needs nothing: the cache is
// the highest number handed out, which deleting never lowers.
type clockCache struct {
	valid   bool
	seq, us int64
}

// cachedClock returns the clock from the cache, reading it from the database
// when the cache is empty. ok is false when this transaction cannot use the
// cache (no site lock, or a read transaction) or the log table does not
// exist yet.
func (t *Tx) cachedClock(read func() (seq, us int64, ok bool, err error)) (seq, us int64, ok bool, err error) {
	switch {
	case !t.soleWriter() || t.clockDirty:
		return read()
	case t.clockNext.valid:
		return t.clockNext.seq, t.clockNext.us, true, nil
	case t.db.clock.valid:
		return t.db.clock.seq, t.db.clock.us, true, nil
	}
	return read()
}

// soleWriter reports whether t is the write transaction of a SQLite site
// this process holds the lock of: what it commits is all that changes the
// file, so the clock and the log tail (logtail.go) can follow it in memory.
func (t *Tx) soleWriter() bool {
	return t.db != nil && t.db.lock != nil && t.unlock != nil
}

// tookClock records the numbers this transaction handed out.
func (t *Tx) tookClock(seq, us int64) {
	t.clockNext = clockCache{valid: true, seq: seq, us: us}
}

// publishClock runs once when the transaction ends, under writeMu.
func (t *Tx) publishClock(committed, commitFailed bool) {
	if !t.soleWriter() {
		return
	}
	switch {
	case t.clockDirty || commitFailed:
		t.db.clock = clockCache{}
	case committed && t.clockNext.valid:
		t.db.clock = t.clockNext
	}
}

// loggedOtherwise notes a write of update log rows that did not take its
// numbers from the clock: the cache is emptied when the transaction ends.
func (t *Tx) loggedOtherwise(dt *meta.DocType) {
	if isUpdateLog(dt) {
		t.clockDirty = true
	}
}
