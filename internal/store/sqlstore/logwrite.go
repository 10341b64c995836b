package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"docstream/internal/doc"
	"docstream/internal/meta"
	"docstream/internal/store"
)

// Every change to a streamed DocType writes an update log in its
// transaction, so on SQLite the log's INSERT is the one statement that
// decides what streaming costs a writer (aim (c) of bench stream). Through
// database/sql it cost a statement bound to the transaction on every call
// (Tx.StmtContext, closed again at commit), each of 13 values converted and
// boxed, and a map of the row built to be read back column by column. Here,
// with the Create payload's buffer pooled, the log adds 26 allocations
// (1.4 KB) to an insert instead of 48 (4.5 KB), and 18-22 CPU µs instead of
// 26-27 (BenchmarkProducerInsert, GOMAXPROCS 1). It runs on the writer's
// driver connection, with a statement prepared once, the values bound
// straight from a store.UpdateLog (through SQLite's C API, logcapi.go, where
// the driver's binding was half of the INSERT's time), and the columns that
// never vary (owner, modified_by, docstatus, idx, and fields added to the
// log) written into the SQL text. The row stored is the one insertRow would
// store.
//
// That needs a connection whose life the store knows: on SQLite every write
// transaction runs on db.wconn, held from Open to Close (writes queue on
// writeMu anyway), and the statement is closed before it.

// logInsert is the update log's INSERT for one column list of its table.
type logInsert struct {
	table string
	cols  []string // dt.Columns() it was built for (sameSlice)
	q     string
	slots []logSlot   // the value of each placeholder, in order
	st    driver.Stmt // the driver's statement (execDriver), prepared on first use
	// capi: the statement bound through the C API (logcapi.go); capiTried:
	// it was prepared, or driverHandle did not know the connection.
	capi      *capiLog
	capiTried bool
}

// logSlot names a value of a log row that varies from one log to the next.
type logSlot uint8

const (
	slotName logSlot = iota
	slotCreation
	slotSeq
	slotUpdateType
	slotRefDoctype
	slotDocname
	slotData
	slotOrigin
)

var logSlots = map[string]logSlot{"name": slotName, "creation": slotCreation, "modified": slotCreation,
	"seq": slotSeq, "update_type": slotUpdateType, "ref_doctype": slotRefDoctype, "docname": slotDocname,
	"data": slotData, "origin": slotOrigin}

// newLogInsert builds the INSERT for dt's columns. The constant columns get
// what insertRow writes for them: Administrator, or dbValue of nothing.
func newLogInsert(dt *meta.DocType, cols []string) *logInsert {
	li := &logInsert{table: dt.Table(), cols: cols}
	vals := make([]string, len(cols))
	for i, c := range cols {
		if s, ok := logSlots[c]; ok {
			// Plain ?, not numbered to bind creation once for creation
			// and modified: the driver then reads every parameter's name
			// back into a Go string, an allocation each.
			vals[i] = "?"
			li.slots = append(li.slots, s)
			continue
		}
		switch v := dbValue(dt, c, nil); {
		case c == "owner" || c == "modified_by":
			vals[i] = "'Administrator'"
		case v == int64(0):
			vals[i] = "0"
		case v == float64(0):
			vals[i] = "0.0"
		default:
			vals[i] = "NULL"
		}
	}
	li.q = fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", quote(li.table), quoteList(cols), strings.Join(vals, ", "))
	return li
}

// row is the log as insertRow takes it, for PostgreSQL (and to compare).
func logRow(l store.UpdateLog, name, creation string, seq int64) doc.Doc {
	return doc.Doc{"name": name, "owner": "Administrator", "modified_by": "Administrator",
		"creation": creation, "modified": creation, "docstatus": int64(0), "idx": int64(0),
		"update_type": l.UpdateType, "ref_doctype": l.RefDoctype, "docname": l.Docname,
		"data": nilIfEmpty(l.Data), "origin": nilIfEmpty(l.Origin), "seq": seq}
}

// textValue is dbValue(dt, col, s) for a string: text, or NULL for an
// empty unique field.
func textValue(dt *meta.DocType, col, s string) logValue {
	if s == "" && dbValue(dt, col, s) == nil {
		return logValue{}
	}
	return logValue{kind: valText, text: s}
}

// nullIfEmpty is nilIfEmpty as a bound value.
func nullIfEmpty(s string) logValue {
	if s == "" {
		return logValue{}
	}
	return logValue{kind: valText, text: s}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// insertLogRaw inserts the log on the writer's driver connection. t is a
// SQLite write transaction on db.wconn, under writeMu, which guards
// db.logIns, db.logVals and db.logArgs.
func (t *Tx) insertLogRaw(ctx context.Context, dt *meta.DocType, l store.UpdateLog, name, creation string, seq int64) error {
	db := t.db
	cols := rowColumns(dt)
	li := db.logIns
	if li == nil || li.table != dt.Table() || !sameSlice(li.cols, cols) {
		if err := db.closeLogInsert(); err != nil {
			return err
		}
		li = newLogInsert(dt, cols)
		db.logIns = li
	}
	vals := db.logVals[:0]
	for _, s := range li.slots {
		var v logValue
		switch s {
		case slotName:
			v = logValue{kind: valText, text: name}
		case slotCreation:
			v = logValue{kind: valText, text: creation}
		case slotSeq:
			v = logValue{kind: valInt, n: seq}
		case slotUpdateType:
			v = textValue(dt, "update_type", l.UpdateType)
		case slotRefDoctype:
			v = textValue(dt, "ref_doctype", l.RefDoctype)
		case slotDocname:
			v = textValue(dt, "docname", l.Docname)
		case slotData:
			v = nullIfEmpty(l.Data)
		case slotOrigin:
			v = nullIfEmpty(l.Origin)
		}
		vals = append(vals, v)
	}
	ctx = t.wctx
	err := db.wconn.Raw(func(dc any) error {
		if !li.capiTried {
			li.capiTried = true
			c, err := prepareCAPI(dc, li.q)
			if err != nil {
				return err
			}
			li.capi = c
		}
		if li.capi != nil && li.capi.dc == dc && !db.logNoCAPI {
			return li.capi.exec(vals)
		}
		return li.execDriver(ctx, dc, vals, &db.logArgs)
	})
	clear(vals) // keep no document text alive until the next log
	db.logVals = vals
	if err != nil {
		return fmt.Errorf("insert %s: %w", dt.Name, classify(err))
	}
	return nil
}

// execDriver runs the INSERT through the driver's own statement: where
// driverHandle does not know the connection (logcapi.go), and in tests.
func (li *logInsert) execDriver(ctx context.Context, dc any, vals []logValue, buf *[]driver.NamedValue) error {
	if li.st == nil {
		p, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("the SQLite driver cannot prepare with a context")
		}
		st, err := p.PrepareContext(ctx, li.q)
		if err != nil {
			return err
		}
		li.st = st
	}
	args := (*buf)[:0]
	for i, v := range vals {
		args = append(args, driver.NamedValue{Ordinal: i + 1, Value: v.driverValue()})
	}
	_, err := li.st.(driver.StmtExecContext).ExecContext(ctx, args)
	clear(args)
	*buf = args
	return err
}

// closeLogInsert closes the prepared log INSERT, under writeMu.
func (db *DB) closeLogInsert() error {
	li := db.logIns
	db.logIns = nil
	if li == nil || (li.st == nil && li.capi == nil) || db.wconn == nil {
		return nil
	}
	return db.wconn.Raw(func(dc any) error {
		if li.capi != nil && li.capi.dc == dc {
			li.capi.close()
		}
		if li.st != nil {
			return li.st.Close()
		}
		return nil
	})
}
