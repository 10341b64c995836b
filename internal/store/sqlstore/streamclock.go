package sqlstore

import (
	"context"
	"strings"
	"time"

	"docstream/internal/doc"
	"docstream/internal/meta"
	"docstream/internal/store"
)

// On SQLite the stream clock is not written for every update log. A write
// transaction there holds the database's only write lock from BEGIN
// (IMMEDIATE) to COMMIT, so the last seq and creation handed out are those
// of the newest log, the last row of the seq-keyed log (logtable.go), and
// the log row's insert is the only write. Updating the clock row too cost
// every logged change a b-tree update and a WAL page (BenchmarkProducerInsert,
// 45 µs of about 250). The writer keeps the values in memory between
// transactions (clockcache.go) and reads them here only when it has none.
//
// The clock row remains the floor: deleting logs (retention, or a user)
// first raises it to the newest log, so a number handed out is never handed
// out again. PostgreSQL keeps updating the clock row: its row lock is what
// orders concurrent writers' numbers by commit there.

// logMicros is the creation of log row l as wallMicros: the string
// ("2006-01-02 15:04:05.000000", a naive wall-clock time) read as UTC.
const logMicros = `(unixepoch(substr(l.creation, 1, 19)) * 1000000 + CAST(substr(substr(l.creation, 21) || '000000', 1, 6) AS INTEGER))`

// updateLogDocType is the Event Update Log: its table has a layout of its own
// (logtable.go) and, on SQLite, serves as the stream clock.
const (
	updateLogDocType = "Event Update Log"
	updateLogTable   = "tab" + updateLogDocType
)

// sqliteClock reads the last seq and creation (wall-clock µs) handed out: the
// larger of the clock row and the newest log. ok is false while the log
// table does not exist yet (then the clock row is updated as on PostgreSQL).
// The database turns the log's creation ("2006-01-02 15:04:05.000000", a
// naive wall-clock time read as UTC, as wallMicros does) into µs, so the
// answer is two integers: scanning and parsing the string cost a third of
// this query, which every logged change runs.
func (t *Tx) sqliteClock(ctx context.Context) (seq, us int64, ok bool, err error) {
	err = t.queryRow(ctx, `SELECT max(c.seq, coalesce(l.seq, 0)), max(c.creation_us, coalesce(`+logMicros+`, 0))
		FROM "__StreamClock" c
		LEFT JOIN (SELECT seq, creation FROM "`+updateLogTable+`" ORDER BY seq DESC LIMIT 1) l ON 1
		WHERE c.id = 1`).Scan(&seq, &us)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return 0, 0, false, nil
		}
		return 0, 0, false, err
	}
	return seq, us, true, nil
}

// raiseClockFloor writes the last seq and creation handed out into the clock
// row, before logs are deleted. Once per transaction is enough: a log both
// written and deleted later in the same transaction was never seen.
func (t *Tx) raiseClockFloor(ctx context.Context) error {
	if t.clockFloored {
		return nil
	}
	seq, us, ok, err := t.cachedClock(func() (int64, int64, bool, error) { return t.sqliteClock(ctx) })
	if err != nil || !ok {
		return err
	}
	if _, err := t.exec(ctx, `UPDATE "__StreamClock" SET seq = ?, creation_us = ? WHERE id = 1`, seq, us); err != nil {
		return err
	}
	t.clockFloored = true
	return nil
}

// InsertUpdateLog numbers and inserts an update log: NextStreamSeq, then the
// row (on SQLite through the writer's own statement, logwrite.go). (One
// INSERT … SELECT reading the clock was tried on SQLite: it cost as much as
// the two, the database materializes a SELECT from the table it inserts
// into.)
func (t *Tx) InsertUpdateLog(ctx context.Context, dt *meta.DocType, l store.UpdateLog, now time.Time) (int64, error) {
	seq, creation, err := t.NextStreamSeq(ctx, now)
	if err != nil {
		return 0, err
	}
	ts, name := doc.FormatDatetime(creation), doc.UpdateLogName(seq)
	if t.onWriter() {
		err = t.insertLogRaw(ctx, dt, l, name, ts, seq)
	} else {
		err = t.insertRow(ctx, dt, logRow(l, name, ts, seq))
	}
	if err != nil {
		return 0, err
	}
	t.tailed(l, name, ts, seq)
	return seq, nil
}
