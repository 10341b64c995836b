// Package sqlstore is the SQL implementation of store.Store, with a SQLite
// dialect (modernc.org/sqlite, WAL, one writer connection and a reader pool)
// and a PostgreSQL dialect (pgx). All of docstream's SQL lives here.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"

	"docstream/internal/store"
)

// DB is a store on SQLite or PostgreSQL.
type DB struct {
	d     dialect
	write *sql.DB // SQLite: one connection, so writers queue in Go, not on SQLITE_BUSY
	// wconn: SQLite's write transactions all run on this connection of
	// write, held from Open to Close, so that statements prepared on its
	// driver connection (logIns) stay valid (logwrite.go).
	wconn *sql.Conn
	read  *sql.DB
	Now   func() time.Time

	cacheMu sync.Mutex
	caches  map[*sql.DB]*stmtCache
	writeMu sync.Mutex // SQLite: one write transaction at a time
	ckpt    *checkpointer
	lock    *os.File   // SQLite: the site's lock file, held while open
	clock   clockCache // SQLite: the stream clock, under writeMu
	tail    logTail    // SQLite: the newest committed update logs
	inserts sync.Map   // table → *insertText (rows.go)
	logIns  *logInsert // SQLite: the update log's INSERT, under writeMu
	logArgs []driver.NamedValue
	logVals []logValue
	// logNoCAPI: write logs through the driver's statement (tests).
	logNoCAPI bool
}

var _ store.Store = (*DB)(nil)

// OpenSQLite opens (creating if needed) the site database in dir.
func OpenSQLite(ctx context.Context, dir string) (*DB, error) {
	return openSQLite(ctx, dir, defaultCkpt, autoCheckpointPage)
}

// openSQLite is OpenSQLite with the checkpoints' settings (checkpoint.go).
func openSQLite(ctx context.Context, dir string, tune ckptTuning, autoCkpt int) (*DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	lock, err := lockSite(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "site.db")
	// busy_timeout first (PocketBase notes it must precede the others).
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	// temp_store in memory: a multi-row INSERT inside a transaction keeps a
	// statement journal (to undo just that statement on a constraint error),
	// by default in a temporary file, one write() per page.
	w, err := sql.Open("sqlite", fmt.Sprintf("%s&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(%d)&_txlock=immediate", base, autoCkpt))
	if err != nil {
		unlockSite(lock)
		return nil, err
	}
	// Writers queue on writeMu (one write transaction at a time, as SQLite
	// allows); the second connection lets the statement cache prepare a
	// statement while the first one is inside a transaction.
	w.SetMaxOpenConns(2)
	r, err := sql.Open("sqlite", base)
	if err != nil {
		w.Close()
		unlockSite(lock)
		return nil, err
	}
	r.SetMaxOpenConns(8)
	db := &DB{d: sqliteDialect, write: w, read: r, Now: time.Now, lock: lock}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.wconn, err = w.Conn(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.ckpt, err = startCheckpointer(base, tune); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenPostgres opens a site stored in PostgreSQL. If the DSN carries a
// search_path option the site lives in that schema (tests use one schema each).
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(16)
	p.SetMaxIdleConns(16)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	db := &DB{d: postgresDialect, write: p, read: p, Now: time.Now}
	if err := db.migrate(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return db, nil
}

// Open picks the dialect from the DSN: postgres:// URLs or a data directory.
func Open(ctx context.Context, dataDir, dsn string) (*DB, error) {
	if dsn != "" {
		if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
			return nil, fmt.Errorf("--db must be a postgres:// URL, got %q", dsn)
		}
		return OpenPostgres(ctx, dsn)
	}
	return OpenSQLite(ctx, dataDir)
}

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

// SoleWriter reports whether db holds its site's lock file (SQLite).
func (db *DB) SoleWriter() bool { return db.lock != nil }

// Close closes the pools.
func (db *DB) Close() error {
	db.cacheMu.Lock()
	for _, c := range db.caches {
		c.close()
	}
	db.cacheMu.Unlock()
	if db.ckpt != nil {
		db.ckpt.close()
	}
	var err error
	if db.wconn != nil {
		db.writeMu.Lock()
		err = db.closeLogInsert()
		if e := db.wconn.Close(); err == nil {
			err = e
		}
		db.wconn = nil
		db.writeMu.Unlock()
	}
	if e := db.write.Close(); err == nil {
		err = e
	}
	if db.read != db.write {
		if e := db.read.Close(); err == nil {
			err = e
		}
	}
	unlockSite(db.lock) // after the pools: no connection writes any more
	db.lock = nil
	return err
}

// unlockSite releases the site's lock file (nil: none).
func unlockSite(f *os.File) {
	if f != nil {
		f.Close() // closing the last descriptor releases the flock
	}
}

// Begin starts a transaction; write transactions on SQLite go through the
// single writer connection.
func (db *DB) Begin(ctx context.Context, write bool) (store.Tx, error) {
	pool := db.read
	var unlock func()
	var onWriter bool
	if write {
		pool = db.write
		if db.d.name == "sqlite" {
			db.writeMu.Lock()
			var once sync.Once
			unlock = func() { once.Do(db.writeMu.Unlock) }
			onWriter = db.wconn != nil
		}
	}
	var tx *sql.Tx
	var err error
	if onWriter {
		// A SQLite write transaction runs to its end once begun, whatever
		// becomes of the caller's context: its statements are short and
		// hold the only write lock, so interrupting one saves little, and
		// watching a cancellable context cost a goroutine per statement in
		// the driver (about five per insert through the REST API) and one
		// per transaction in database/sql. Reads stay interruptible.
		ctx = context.WithoutCancel(ctx)
		db.ckpt.beforeWrite(ctx, db.wconn)
		tx, err = db.wconn.BeginTx(ctx, nil)
	} else {
		var opts *sql.TxOptions
		if db.d.name == "postgres" && store.Snapshot(ctx) {
			opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead}
		}
		tx, err = pool.BeginTx(ctx, opts)
	}
	if err != nil {
		if unlock != nil {
			unlock()
		}
		return nil, fmt.Errorf("begin: %w", err)
	}
	t := &Tx{tx: tx, d: db.d, now: db.Now().Truncate(time.Microsecond), unlock: unlock, db: db}
	if onWriter {
		t.wctx = ctx
	}
	if db.d.name == "sqlite" {
		t.stmts = db.stmtCache(pool)
	}
	return t, nil
}

// Tx is one SQL transaction.
type Tx struct {
	stmts  *stmtCache // SQLite only: statements prepared once per pool
	unlock func()     // releases the SQLite writer slot
	tx     *sql.Tx
	d      dialect
	now    time.Time
	db     *DB
	// clockFloored: the stream clock row was raised to the newest log in
	// this transaction (SQLite, before deleting logs).
	clockFloored bool
	// clockNext: the last stream numbers this transaction handed out;
	// clockDirty: it wrote update logs numbered otherwise (clockcache.go).
	clockNext  clockCache
	clockDirty bool
	// tailNew: the update logs this transaction wrote, for the log tail;
	// tailMarks: its savepoints; tailDirty: it changed the log table
	// otherwise (logtail.go).
	tailNew   []store.TailLog
	tailMarks []tailMark
	tailDirty bool
	ended     bool
	// wctx: set on a SQLite write transaction on db.wconn (logwrite.go),
	// the context its statements run with, which is never cancelled (see
	// Begin).
	wctx context.Context
}

// onWriter reports whether t is a SQLite write transaction on db.wconn.
func (t *Tx) onWriter() bool { return t.wctx != nil }

// stmtCtx is the context a statement of t runs with.
func (t *Tx) stmtCtx(ctx context.Context) context.Context {
	if t.onWriter() {
		return t.wctx
	}
	return ctx
}

// Now is the transaction's timestamp, fixed at Begin.
func (t *Tx) Now() time.Time { return t.now }

// Commit commits.
func (t *Tx) Commit() error {
	err := t.tx.Commit()
	t.end(err == nil, err != nil)
	return classify(err)
}

// Rollback rolls back; safe after Commit.
func (t *Tx) Rollback() error {
	err := t.tx.Rollback()
	t.end(false, false)
	if err == sql.ErrTxDone {
		return nil
	}
	return err
}

// end publishes the stream clock and releases the writer slot, once.
func (t *Tx) end(committed, commitFailed bool) {
	if t.ended {
		return
	}
	t.ended = true
	t.publishClock(committed, commitFailed)
	if t.soleWriter() {
		t.db.tail.publish(t, committed, commitFailed)
	}
	if t.unlock != nil {
		t.unlock()
	}
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.stmtCtx(ctx)
	if st := t.stmt(ctx, q); st != nil {
		r, err := st.ExecContext(ctx, args...)
		return r, classify(err)
	}
	r, err := t.tx.ExecContext(ctx, t.d.rebind(q), args...)
	return r, classify(err)
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.stmtCtx(ctx)
	if st := t.stmt(ctx, q); st != nil {
		r, err := st.QueryContext(ctx, args...)
		return r, classify(err)
	}
	r, err := t.tx.QueryContext(ctx, t.d.rebind(q), args...)
	return r, classify(err)
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.stmtCtx(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.d.rebind(q), args...)
}

// Savepoint starts a nested unit of work. name must be a plain identifier.
func (t *Tx) Savepoint(ctx context.Context, name string) error {
	_, err := t.exec(ctx, "SAVEPOINT "+quote(name))
	if err == nil {
		t.markSavepoint(name)
	}
	return err
}

// RollbackTo undoes the work since the savepoint (the savepoint stays).
func (t *Tx) RollbackTo(ctx context.Context, name string) error {
	_, err := t.exec(ctx, "ROLLBACK TO SAVEPOINT "+quote(name))
	if err == nil {
		t.rollbackToMark(name)
	}
	return err
}

// Release ends a savepoint, keeping its work.
func (t *Tx) Release(ctx context.Context, name string) error {
	_, err := t.exec(ctx, "RELEASE SAVEPOINT "+quote(name))
	if err == nil {
		t.releaseMark(name)
	}
	return err
}
