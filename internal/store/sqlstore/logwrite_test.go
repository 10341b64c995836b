package sqlstore_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/sitetest"
	"docstream/internal/store"
	"docstream/internal/store/sqlstore"
)

// TestStore_UpdateLogAsInsertRow: the log InsertUpdateLog writes (on SQLite
// through a statement of its own, logwrite.go) is stored exactly as
// InsertRow stores the same row: every column's type and value, with
// fields added to the log table, empty values, and again after the table
// gained a field.
func TestStore_UpdateLogAsInsertRow(t *testing.T) {
	t.Parallel()
	const fields = `{"fieldname": "update_type", "fieldtype": "Select", "options": "Create\nUpdate\nDelete"},
		{"fieldname": "ref_doctype", "fieldtype": "Link", "options": "DocType"},
		{"fieldname": "docname", "fieldtype": "Data"}, {"fieldname": "data", "fieldtype": "Code"},
		{"fieldname": "seq", "fieldtype": "Int"}, {"fieldname": "origin", "fieldtype": "Data"},
		{"fieldname": "note", "fieldtype": "Data"}, {"fieldname": "weight", "fieldtype": "Float"},
		{"fieldname": "count", "fieldtype": "Int"}, {"fieldname": "flag", "fieldtype": "Check"},
		{"fieldname": "code", "fieldtype": "Data", "unique": 1}`
	eul := mustMeta(t, `{"name": "Event Update Log", "fields": [`+fields+`]}`)
	grown := mustMeta(t, `{"name": "Event Update Log", "fields": [`+fields+`, {"fieldname": "extra", "fieldtype": "Int"}]}`)
	logs := []store.UpdateLog{
		{UpdateType: "Create", RefDoctype: "Note", Docname: "N-1", Data: `{"title":"a \"b\""}`},
		{UpdateType: "Delete", RefDoctype: "Note", Docname: "N-1", Origin: "http://other:8000"},
		{UpdateType: "Update", RefDoctype: "Note", Docname: "", Data: "{}"},
		{},
		// Larger than the C API path's first buffer, with an escaped NUL and
		// multi-byte text.
		{UpdateType: "Create", RefDoctype: "Note ü", Docname: "N-2", Data: `{"body":"` + strings.Repeat(`ü\u0000x`, 30000) + `"}`},
	}
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		paths := []string{"default"}
		if opts.Store == sitetest.SQLite {
			paths = append(paths, "driver")
		}
		for _, path := range paths {
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				testLogAsInsertRow(t, opts, path, eul, grown, logs)
			})
		}
	})
}

// testLogAsInsertRow is TestStore_UpdateLogAsInsertRow on one store and
// path: "default", or "driver" for the driver's statement on SQLite.
func testLogAsInsertRow(t *testing.T, opts sitetest.Options, path string, eul, grown *meta.DocType, logs []store.UpdateLog) {
	{
		ctx := context.Background()
		db := sitetest.OpenStore(t, opts.Store)
		if path == "driver" {
			sqlstore.LogInsertByDriver(db)
		}
		for _, dt := range []struct {
			name string
			meta *meta.DocType
		}{{"first", eul}, {"grown", grown}} {
			update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, nil, dt.meta) })
			for i, l := range logs {
				var seq int64
				update(t, db, func(tx store.Tx) error {
					var err error
					seq, err = tx.InsertUpdateLog(ctx, dt.meta, l, time.Now())
					return err
				})
				if q := sqlstore.LogInsertSQL(db); opts.Store == sitetest.SQLite && !strings.Contains(q, "'Administrator'") {
					t.Fatalf("SQLite wrote the log without its own statement (%q)", q)
				}
				// On the pinned modernc.org/sqlite the C API path is taken
				// (logcapi.go): if an upgrade moved the driver's fields,
				// this says so instead of the logs getting slower unseen.
				if byCAPI := sqlstore.LogInsertByCAPI(db); opts.Store == sitetest.SQLite && byCAPI != (path == "default") {
					t.Fatalf("log written through the C API: %v, on the %s path", byCAPI, path)
				}
				got, err := sqlstore.StoredRow(ctx, db, dt.meta, doc.UpdateLogName(seq))
				if err != nil {
					t.Fatal(err)
				}
				// The same log through InsertRow, under another number.
				other := seq + 1_000_000
				row := sqlstore.LogRow(l, doc.UpdateLogName(other), got["creation"][len("string "):], other)
				update(t, db, func(tx store.Tx) error { return tx.InsertRow(ctx, dt.meta, row) })
				want, err := sqlstore.StoredRow(ctx, db, dt.meta, doc.UpdateLogName(other))
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range []map[string]string{got, want} {
					delete(m, "name")
					delete(m, "seq")
				}
				if !maps.Equal(got, want) {
					t.Errorf("%s table, log %d stored as\n%.300v\nInsertRow stores\n%.300v", dt.name, i, got, want)
				}
			}
		}
	}
}

// TestStore_SQLiteWritesOutliveTheirContext: a SQLite write transaction
// runs to its end once begun (its statements are not watched for
// cancellation, which cost a goroutine per statement), while a read still
// stops when its context does.
func TestStore_SQLiteWritesOutliveTheirContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	thing := mustMeta(t, thingDef)
	db := sitetest.OpenStore(t, sitetest.SQLite)
	update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, nil, thing) })

	wctx, cancel := context.WithCancel(ctx)
	tx, err := db.Begin(wctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	cancel()
	if err := tx.InsertRow(wctx, thing, doc.Doc{"name": "T-1", "title": "after cancel"}); err != nil {
		t.Fatalf("insert after the context ended: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit after the context ended: %v", err)
	}
	view(t, db, func(tx store.Tx) error {
		got, err := tx.GetRow(ctx, thing, "T-1", false)
		if err == nil && (got == nil || got.Str("title") != "after cancel") {
			t.Errorf("stored %v", got)
		}
		return err
	})

	rctx, cancel := context.WithCancel(ctx)
	cancel()
	rtx, err := db.Begin(rctx, false)
	if err == nil {
		defer rtx.Rollback()
		_, err = rtx.GetRow(rctx, thing, "T-1", false)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("read with an ended context: %v, want context.Canceled", err)
	}
}

// TestStore_SQLiteLogAllocations: writing an update log on SQLite, inside a
// write transaction, allocates no more than its name and creation strings
// (the clock's numbers escaping to the heap once made it 3).
// Each allocation is paid on every logged write: through the driver's
// statement, boxing the values and the driver's own buffers cost 10 more
// (logcapi.go), and binding creation twice and boxing each text value twice
// once 7 more still (logwrite.go).
func TestStore_SQLiteLogAllocations(t *testing.T) {
	// Not parallel: AllocsPerRun counts the whole process's allocations.
	ctx := context.Background()
	eul := benchLogMeta(t)
	db := sitetest.OpenStore(t, sitetest.SQLite)
	update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, nil, eul) })
	tx, err := db.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	l := store.UpdateLog{UpdateType: "Create", RefDoctype: "Note", Docname: "N-1", Data: `{"title":"a"}`}
	now := time.Now()
	insert := func() {
		if _, err := tx.InsertUpdateLog(ctx, eul, l, now); err != nil {
			t.Fatal(err)
		}
	}
	insert() // prepares the statement
	got := testing.AllocsPerRun(200, insert)
	t.Logf("%.1f allocations a log", got)
	const most = 2
	if got > most {
		t.Errorf("a log cost %.1f allocations, want at most %d", got, most)
	}
}

// BenchmarkInsertUpdateLog is the log's INSERT alone on SQLite: one Create
// log after another inside one write transaction (committed every 1,000, so
// that the transaction stays small), without the document's own insert.
func BenchmarkInsertUpdateLog(b *testing.B) {
	ctx := context.Background()
	eul := benchLogMeta(b)
	db := sitetest.OpenStore(b, sitetest.SQLite)
	update(b, db, func(tx store.Tx) error { return tx.SyncTable(ctx, nil, eul) })
	data := `{"name":"C-1","customer_name":"A customer","customer_group":"Commercial","territory":"All Territories"}`
	l := store.UpdateLog{UpdateType: "Create", RefDoctype: "Customer", Docname: "C-1", Data: data}
	var tx store.Tx
	i := 0
	for b.Loop() {
		if tx == nil {
			var err error
			if tx, err = db.Begin(ctx, true); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := tx.InsertUpdateLog(ctx, eul, l, time.Now()); err != nil {
			b.Fatal(err)
		}
		if i++; i%1000 == 0 {
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			tx = nil
		}
	}
	if tx != nil {
		tx.Rollback()
	}
}

// benchLogMeta is the Event Update Log with the fields a site gives it.
func benchLogMeta(tb testing.TB) *meta.DocType {
	tb.Helper()
	return mustMeta(tb, `{"name": "Event Update Log", "fields": [
		{"fieldname": "update_type", "fieldtype": "Select", "options": "Create\nUpdate\nDelete"},
		{"fieldname": "ref_doctype", "fieldtype": "Link", "options": "DocType"},
		{"fieldname": "docname", "fieldtype": "Data"}, {"fieldname": "data", "fieldtype": "Code"},
		{"fieldname": "seq", "fieldtype": "Int"}, {"fieldname": "origin", "fieldtype": "Data"}]}`)
}

// TestStore_SQLiteLogInsertError: a log the database refuses (here a
// trigger aborts it) is an error naming SQLite's reason, on the C API path
// and the driver's, and the transaction goes on: the next log is written and
// committed, the refused one is not.
func TestStore_SQLiteLogInsertError(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"default", "driver"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			eul := benchLogMeta(t)
			db := sitetest.OpenStore(t, sitetest.SQLite)
			if path == "driver" {
				sqlstore.LogInsertByDriver(db)
			}
			update(t, db, func(tx store.Tx) error {
				if err := tx.SyncTable(ctx, nil, eul); err != nil {
					return err
				}
				return sqlstore.ExecInTx(ctx, tx, `CREATE TRIGGER refuse BEFORE INSERT ON "tabEvent Update Log"
					WHEN NEW.docname = 'bad' BEGIN SELECT RAISE(ABORT, 'no bad logs here'); END`)
			})
			var good int64
			update(t, db, func(tx store.Tx) error {
				_, err := tx.InsertUpdateLog(ctx, eul, store.UpdateLog{UpdateType: "Create", RefDoctype: "Note", Docname: "bad", Data: "{}"}, time.Now())
				if err == nil || !strings.Contains(err.Error(), "no bad logs here") {
					t.Errorf("refused log: %v, want SQLite's reason", err)
				}
				good, err = tx.InsertUpdateLog(ctx, eul, store.UpdateLog{UpdateType: "Create", RefDoctype: "Note", Docname: "good", Data: "{}"}, time.Now())
				return err
			})
			if byCAPI := sqlstore.LogInsertByCAPI(db); byCAPI != (path == "default") {
				t.Errorf("log written through the C API: %v, on the %s path", byCAPI, path)
			}
			row, err := sqlstore.StoredRow(ctx, db, eul, doc.UpdateLogName(good))
			if err != nil || row["docname"] != "string good" {
				t.Errorf("the log after the refused one: %v, %v", row, err)
			}
			view(t, db, func(tx store.Tx) error {
				n, err := tx.Count(ctx, &filter.Query{DocType: eul})
				if err == nil && n != 1 {
					t.Errorf("%d logs stored, want 1", n)
				}
				return err
			})
		})
	}
}
