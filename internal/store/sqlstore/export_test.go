package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"docstream/internal/meta"
	"docstream/internal/store"
)

// SetTailBounds makes db's log tail keep at most logs logs and about bytes
// bytes of them, so that tests see it drop old logs.
func SetTailBounds(db *DB, logs, bytes int) {
	db.tail.mu.Lock()
	defer db.tail.mu.Unlock()
	db.tail.maxLogs, db.tail.maxBytes = logs, bytes
}

// LogRow is the update log row InsertUpdateLog writes, as InsertRow takes it.
var LogRow = logRow

// StoredRow reads the row named name of dt's table as the database holds
// it: each column's Go type and value as the driver scans them, so that
// NULL, ” and 0 differ.
func StoredRow(ctx context.Context, db *DB, dt *meta.DocType, name string) (map[string]string, error) {
	q := `SELECT ` + quoteList(rowColumns(dt)) + ` FROM ` + quote(dt.Table()) + ` WHERE name = ?`
	rows, err := db.read.QueryContext(ctx, db.d.rebind(q), name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || !rows.Next() {
		return nil, errors.Join(err, rows.Err(), fmt.Errorf("no row %q", name))
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, c := range cols {
		if b, ok := vals[i].([]byte); ok {
			vals[i] = string(b)
		}
		out[c] = fmt.Sprintf("%T %v", vals[i], vals[i])
	}
	return out, nil
}

// LogInsertSQL is the update log INSERT db prepared on its writer's
// connection ("" if none).
func LogInsertSQL(db *DB) string {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if db.logIns == nil {
		return ""
	}
	return db.logIns.q
}

// LogInsertByCAPI reports whether db's last update log went through SQLite's
// C API (logcapi.go) rather than the driver's statement.
func LogInsertByCAPI(db *DB) bool {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	return db.logIns != nil && db.logIns.capi != nil && !db.logNoCAPI
}

// LogInsertByDriver makes db write update logs through the driver's
// statement, the path taken where logcapi.go does not know the driver.
func LogInsertByDriver(db *DB) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	db.logNoCAPI = true
}

// ExecInTx runs statement q in tx, a transaction of this package.
func ExecInTx(ctx context.Context, tx store.Tx, q string) error {
	_, err := tx.(*Tx).exec(ctx, q)
	return err
}
