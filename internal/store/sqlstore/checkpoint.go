package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"time"
)

// SQLite's automatic checkpoint copies the WAL back into the database file
// inside the commit that crosses its threshold, fsync included: a writer
// applying a page of replicated changes waited for it every few pages
// (draining a backlog ran 13 % faster with no checkpoint at all). Here a
// goroutine with a connection of its own checkpoints instead, PASSIVE (it
// never blocks writers or readers), every checkpointEvery. Durability is
// unchanged: with synchronous=NORMAL the WAL is synced at checkpoints either
// way.
//
// A PASSIVE checkpoint copies the frames that were in the WAL when it began,
// and SQLite starts the WAL over only when a write transaction begins after
// every frame was copied. Beside a writer that never pauses that moment never
// came: each pass found new frames, the WAL grew to the automatic
// checkpoint's threshold, and the writer then ran that checkpoint itself,
// fsyncing megabytes of WAL and database inside a commit. A producer writing
// without pause stalled about 75 ms every 2,000 logged inserts, and a logged
// insert paid for it 25 % more often than an unlogged one, as it writes a
// page more per commit (docs/benchmarks.md, eighth session). So once the WAL
// is longer than restartFrames, the background goroutine repeats its passes
// while each copies many frames, and when one copied only a few, the writer
// makes one last pass before its next transaction (beforeWrite): no frame
// comes meanwhile, the pass copies what is left (milliseconds), and the
// transaction starts the WAL over. The automatic checkpoint stays on, at a
// threshold it reaches only if this goroutine falls behind, so the WAL stays
// bounded regardless.
const (
	checkpointEvery = 250 * time.Millisecond
	// autoCheckpointPage: the automatic checkpoint's threshold, in frames
	// (about 160 MB of WAL): a backstop.
	autoCheckpointPage = 40000
)

// ckptTuning are the background checkpointer's settings (tests shrink them).
type ckptTuning struct {
	every time.Duration
	// restartFrames: a WAL longer than this is started over (8 MB).
	restartFrames int
	// fewFrames: a pass that copied at most this many frames took a
	// moment, so few were added meanwhile: the writer's last pass after it
	// is short.
	fewFrames int
	// maxPasses: passes per tick before giving up until the next.
	maxPasses int
}

var defaultCkpt = ckptTuning{every: checkpointEvery, restartFrames: 2000, fewFrames: 256, maxPasses: 8}

type checkpointer struct {
	conn   *sql.DB
	tune   ckptTuning
	cancel context.CancelFunc
	done   chan struct{}
	// lastDone: the frames the last pass left copied, to tell how many
	// the next one copies.
	lastDone int
	// due: a last pass is to be made by the writer (beforeWrite).
	due atomic.Bool
	// finished: last passes the writer made; startedOver: WALs seen
	// started over (tests).
	finished, startedOver atomic.Int64
	frames                atomic.Int64 // the WAL's length at the last pass
}

func startCheckpointer(dsn string, tune ckptTuning) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{conn: conn, tune: tune, cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.tune.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Errors (SQLITE_BUSY while another checkpoint runs) only mean
		// the next tick or the automatic checkpoint does the work.
		c.tick(ctx, c.pass)
	}
}

// pass runs one PASSIVE checkpoint: log is the WAL's length in frames, done
// how many of them are now in the database file. It fails while another
// checkpoint runs (the writer's last pass): SQLite then reports -1 for both.
func (c *checkpointer) pass(ctx context.Context) (log, done int, err error) {
	var busy int
	err = c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
	if err == nil && (busy != 0 || log < 0 || done < 0) {
		err = errCheckpointBusy
	}
	return log, done, err
}

var errCheckpointBusy = errors.New("another checkpoint is running")

// tick copies the WAL back and, when it is long, starts it over (above),
// with pass (c.pass; tests give a scripted one).
func (c *checkpointer) tick(ctx context.Context, pass func(context.Context) (log, done int, err error)) {
	for range c.tune.maxPasses {
		log, done, err := pass(ctx)
		if err != nil {
			return
		}
		prev := c.lastDone
		if log < prev {
			prev = 0 // the WAL was started over since
			c.startedOver.Add(1)
		}
		c.lastDone = done
		c.frames.Store(int64(log))
		switch copied := done - prev; {
		case done < log:
			// A reader holds an older snapshot (or SQLite was busy): the
			// writer's pass could not finish either.
			return
		case log < c.tune.restartFrames || copied == 0:
			// Short, or nothing new since the last pass: then the next
			// write transaction starts the WAL over by itself.
			return
		case copied <= c.tune.fewFrames:
			// This pass was short, so few frames came meanwhile: the
			// writer copies the rest before its next transaction.
			c.due.Store(true)
			return
		}
	}
}

// beforeWrite runs on the writer's connection, under the store's write
// mutex, before a write transaction begins: if a last pass is due it makes
// it, so that the transaction starts the WAL over. The writer does it, not
// this goroutine holding the mutex: on one CPU a goroutine waiting for the
// mutex ran only when the writer was preempted, 15-20 ms later.
func (c *checkpointer) beforeWrite(ctx context.Context, conn *sql.Conn) {
	if c == nil || !c.due.CompareAndSwap(true, false) {
		return
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err == nil {
		c.finished.Add(1)
	}
}

// WALStats reports the WAL's length at the last background checkpoint and
// how many last passes the writer made; ok is false on PostgreSQL.
func (db *DB) WALStats() (frames, writerPasses int64, ok bool) {
	if db.ckpt == nil {
		return 0, 0, false
	}
	return db.ckpt.frames.Load(), db.ckpt.finished.Load(), true
}

func (c *checkpointer) close() error {
	c.cancel()
	<-c.done
	return c.conn.Close()
}
