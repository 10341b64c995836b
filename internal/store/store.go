// Package store declares the storage ports of docstream: a transactional store
// of document tables and a few system tables. The one implementation is
// store/sqlstore (SQLite and PostgreSQL). No SQL lives here.
package store

import (
	"context"
	"time"

	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
)

// Store opens transactions. Services own them: one request or one applied
// event is one transaction.
type Store interface {
	// Begin starts a transaction. write=false may run on a read replica or
	// reader pool and must not write.
	Begin(ctx context.Context, write bool) (Tx, error)
	// Dialect is "sqlite" or "postgres".
	Dialect() string
	// SoleWriter reports whether this process is the only one that writes
	// the database while it is open (SQLite, under the site's lock file):
	// then what it commits is all that changes, and it may keep state about
	// the database in memory. Several processes may share a PostgreSQL
	// database.
	SoleWriter() bool
	Close() error
}

// WithSnapshot asks that the transaction begun with ctx read one snapshot
// of the database from its first statement to its end (PostgreSQL:
// REPEATABLE READ; a SQLite transaction always does). Without it, on
// PostgreSQL each statement sees what was committed when it began.
func WithSnapshot(ctx context.Context) context.Context {
	return context.WithValue(ctx, snapshotKey{}, true)
}

// Snapshot reports whether ctx asks for WithSnapshot.
func Snapshot(ctx context.Context) bool {
	v, _ := ctx.Value(snapshotKey{}).(bool)
	return v
}

type snapshotKey struct{}

// UpdateLog is an Event Update Log to write: the store numbers, names and
// dates it (Tx.InsertUpdateLog). Data and Origin "" are written as NULL: a
// Delete carries no data, a change made here has no origin.
type UpdateLog struct {
	UpdateType, RefDoctype, Docname, Data, Origin string
}

// TailLog is a committed Event Update Log as a pull reads it. Data "" is
// null, as in UpdateLog.
type TailLog struct {
	Seq                                                           int64
	Name, Creation, UpdateType, RefDoctype, Docname, Origin, Data string
}

// LogTail is a Store that keeps the newest committed update logs in memory
// (SQLite, where one process writes them all), so that the pulls of a
// consumer following the stream do not read the table.
type LogTail interface {
	// LogsAfter calls visit with each committed log whose seq is greater
	// than after, in seq order, until visit returns false, and returns the
	// newest seq committed (StreamHead). ok is false when the memory does
	// not hold every such log: read the table then. visit runs under a lock
	// and must not keep the pointer.
	LogsAfter(after int64, visit func(*TailLog) bool) (head int64, ok bool)
}

// Tx is one transaction. Its Now is fixed at Begin so that a document, its
// child rows and its update log share one timestamp.
type Tx interface {
	Now() time.Time
	Commit() error
	Rollback() error
	// Savepoint, RollbackTo and Release nest a unit of work inside the
	// transaction: one event of a pulled page fails without undoing the others.
	Savepoint(ctx context.Context, name string) error
	RollbackTo(ctx context.Context, name string) error
	Release(ctx context.Context, name string) error

	// Schema.
	SyncTable(ctx context.Context, old, new *meta.DocType) error
	DropTable(ctx context.Context, dt *meta.DocType) error
	MetaVersion(ctx context.Context) (int64, error)
	BumpMetaVersion(ctx context.Context) error

	// Rows of document tables. Values are canonical doc values.
	GetRow(ctx context.Context, dt *meta.DocType, name string, forUpdate bool) (doc.Doc, error) // nil, nil when missing
	ChildRows(ctx context.Context, child *meta.DocType, parenttype, parentfield, parent string) ([]doc.Doc, error)
	Exists(ctx context.Context, dt *meta.DocType, name string) (bool, error)
	InsertRow(ctx context.Context, dt *meta.DocType, row doc.Doc) error
	// InsertRows inserts many rows of one table, as InsertRow does each.
	InsertRows(ctx context.Context, dt *meta.DocType, rows []doc.Doc) error
	UpdateRow(ctx context.Context, dt *meta.DocType, row doc.Doc) error
	DeleteRow(ctx context.Context, dt *meta.DocType, name string) error
	DeleteChildRows(ctx context.Context, child *meta.DocType, parenttype, parentfield, parent string, keep []string) error
	Select(ctx context.Context, q *filter.Query) ([]doc.Doc, error)
	Count(ctx context.Context, q *filter.Query) (int64, error)
	// LinkedFrom counts rows of dt whose field equals value (link checks on delete).
	LinkedFrom(ctx context.Context, dt *meta.DocType, field, value string, extra ...filter.Cond) (string, error)

	// System tables.
	NextSeries(ctx context.Context, key string) (int64, error)
	RevertSeries(ctx context.Context, key string, n int64) error
	// NextStreamSeq hands out the update log sequence and a strictly increasing
	// creation time. On PostgreSQL the counter row stays locked until commit, so
	// sequence numbers become visible in commit order.
	NextStreamSeq(ctx context.Context, now time.Time) (seq int64, creation time.Time, err error)
	// InsertUpdateLog inserts an Event Update Log row numbered by the stream
	// clock (NextStreamSeq), named after its seq (doc.UpdateLogName), with
	// that creation and modified, owned by Administrator.
	InsertUpdateLog(ctx context.Context, dt *meta.DocType, l UpdateLog, now time.Time) (seq int64, err error)
	StreamHead(ctx context.Context) (seq int64, err error)

	GetSecret(ctx context.Context, doctype, name, field string) (string, bool, error)
	SetSecret(ctx context.Context, doctype, name, field, ciphertext string) error
	DeleteSecrets(ctx context.Context, doctype, name string) error

	CreateSession(ctx context.Context, sid, user string, expires time.Time) error
	SessionUser(ctx context.Context, sid string, now time.Time) (string, bool, error)
	DeleteSession(ctx context.Context, sid string) error

	GetKV(ctx context.Context, key string) (string, bool, error)
	SetKV(ctx context.Context, key, value string) error
	// DeleteKVPrefix deletes the settings whose key starts with prefix.
	DeleteKVPrefix(ctx context.Context, prefix string) error
	// TryLease takes or renews a named lease (one worker per producer across
	// processes). It reports whether owner holds it until `until`.
	TryLease(ctx context.Context, name, owner string, now, until time.Time) (bool, error)
}
