package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The update log's INSERT is bound through SQLite's C API (modernc's
// transpiled lib) on the writer's connection, not through the driver's
// statement. For every text value the driver copies the string into C
// memory it allocates, binds it (taking the connection's mutex), and after
// the step binds NULL over it (the mutex again) and frees the copy: about
// 0.2 µs a value, nine values a log. Here the values are copied into one C
// buffer kept for the statement and bound SQLITE_STATIC, and nothing is
// cleared: every value is bound again before the next step. The log's
// INSERT alone went from 5.1-6.1 µs to 3.2-4.8 µs, and from 13 allocations
// to 2 (BenchmarkInsertUpdateLog, one CPU, builds alternated), and the log
// is what a streamed write costs beyond an unstreamed one (bench stream,
// aim (c)).
//
// modernc's driver does not export its connection's sqlite3 handle, so
// driverHandle reads it from the driver connection's first two fields, and
// only after checking, by reflection, that they are what this was written
// against (modernc.org/sqlite v1.61: `db uintptr`, `tls *libc.TLS`).
// Anything else, and the driver's own statement is used as before; the
// tests fail if that happens on the pinned version
// (TestStore_UpdateLogAsInsertRow), so an upgrade that moves the fields is
// noticed, not silently slower. The calls run inside sql.Conn.Raw on
// db.wconn, which no other goroutine uses meanwhile (writeMu), as the
// driver's own calls on that connection do.

// logValue is one value bound to the log INSERT: NULL, text or an integer.
type logValue struct {
	kind valueKind
	text string
	n    int64
}

type valueKind uint8

const (
	valNull valueKind = iota
	valText
	valInt
)

// driverValue is v as the driver takes it (the fallback path).
func (v logValue) driverValue() driver.Value {
	switch v.kind {
	case valText:
		return v.text
	case valInt:
		return v.n
	}
	return nil
}

// capiLog is the log INSERT prepared through the C API on one driver
// connection.
type capiLog struct {
	dc   any // the driver connection it belongs to
	tls  *libc.TLS
	db   uintptr // sqlite3*
	stmt uintptr // sqlite3_stmt*
	buf  uintptr // C memory holding the text bound last (SQLITE_STATIC)
	size int
}

// driverHandle returns the sqlite3 handle and the TLS of modernc's driver
// connection dc, ok false unless its fields are laid out as expected.
func driverHandle(dc any) (db uintptr, tls *libc.TLS, ok bool) {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0, nil, false
	}
	t := v.Elem().Type()
	if t.PkgPath() != "modernc.org/sqlite" || t.Name() != "conn" || t.NumField() < 2 {
		return 0, nil, false
	}
	f0, f1 := t.Field(0), t.Field(1)
	if f0.Name != "db" || f0.Type != reflect.TypeFor[uintptr]() || f1.Name != "tls" || f1.Type != reflect.TypeFor[*libc.TLS]() {
		return 0, nil, false
	}
	p := v.UnsafePointer()
	db = *(*uintptr)(unsafe.Add(p, f0.Offset))
	tls = *(**libc.TLS)(unsafe.Add(p, f1.Offset))
	return db, tls, db != 0 && tls != nil
}

// prepareCAPI prepares q on driver connection dc; nil (and no error) when
// the connection is not one driverHandle knows.
func prepareCAPI(dc any, q string) (*capiLog, error) {
	db, tls, ok := driverHandle(dc)
	if !ok {
		return nil, nil
	}
	c := &capiLog{dc: dc, tls: tls, db: db}
	zSQL, err := libc.CString(q)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(tls, zSQL)
	pp := tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer tls.Free(int(unsafe.Sizeof(uintptr(0))))
	if rc := sqlite3.Xsqlite3_prepare_v2(tls, db, zSQL, -1, pp, 0); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	c.stmt = *(*uintptr)(cmem(pp))
	return c, nil
}

// exec binds vals to the statement's parameters, in order, and runs it.
func (c *capiLog) exec(vals []logValue) error {
	need := 0
	for _, v := range vals {
		need += len(v.text)
	}
	if need > c.size {
		if err := c.grow(need); err != nil {
			return err
		}
	}
	off := uintptr(0)
	for i, v := range vals {
		idx := int32(i + 1)
		var rc int32
		switch v.kind {
		case valText:
			p := c.buf + off
			copy(unsafe.Slice((*byte)(cmem(p)), len(v.text)), v.text)
			off += uintptr(len(v.text))
			rc = sqlite3.Xsqlite3_bind_text(c.tls, c.stmt, idx, p, int32(len(v.text)), 0) // 0: SQLITE_STATIC
		case valInt:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, c.stmt, idx, v.n)
		default:
			rc = sqlite3.Xsqlite3_bind_null(c.tls, c.stmt, idx)
		}
		if rc != sqlite3.SQLITE_OK {
			return c.err(rc)
		}
	}
	rc := sqlite3.Xsqlite3_step(c.tls, c.stmt)
	if rc == sqlite3.SQLITE_DONE {
		sqlite3.Xsqlite3_reset(c.tls, c.stmt)
		return nil
	}
	err := c.err(rc) // before the reset, which may change the message
	sqlite3.Xsqlite3_reset(c.tls, c.stmt)
	return err
}

// grow makes the text buffer hold at least n bytes. The statement's
// parameters point into the old buffer until bound again, so they are
// cleared before it is freed.
func (c *capiLog) grow(n int) error {
	size := max(n, 2*c.size, 4096)
	if n > 1<<30 {
		return fmt.Errorf("an update log of %d bytes is too large", n)
	}
	p := libc.Xmalloc(c.tls, libc.Tsize_t(size))
	if p == 0 {
		return fmt.Errorf("out of memory for an update log of %d bytes", n)
	}
	if c.buf != 0 {
		sqlite3.Xsqlite3_clear_bindings(c.tls, c.stmt)
		libc.Xfree(c.tls, c.buf)
	}
	c.buf, c.size = p, size
	return nil
}

// err is SQLite's error for result code rc, worded as the driver words it
// (classify reads the message).
func (c *capiLog) err(rc int32) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	return fmt.Errorf("%s (%d)", msg, sqlite3.Xsqlite3_extended_errcode(c.tls, c.db))
}

// cmem is C memory at address p (modernc's allocator, outside the Go heap)
// as a pointer. Read through a *uintptr, as go vet accepts, rather than
// converted, which it takes for a Go pointer kept as an integer.
func cmem(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// close finalizes the statement and frees the buffer; it runs on the
// statement's connection, before that closes.
func (c *capiLog) close() {
	if c.stmt != 0 {
		sqlite3.Xsqlite3_finalize(c.tls, c.stmt)
		c.stmt = 0
	}
	if c.buf != 0 {
		libc.Xfree(c.tls, c.buf)
		c.buf, c.size = 0, 0
	}
}
