package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/store"
	"docstream/internal/store/sqlstore"
)

// TestStore_LogTail: what the in-memory tail of the update log serves is
// what the table holds (for every cursor it answers; it drops its oldest
// logs beyond its bounds), after random transactions that commit or roll back,
// write logs inside nested savepoints that are released or rolled back to,
// delete logs, and number a log by hand; and the tail does serve (it is not
// simply always refused) after plain logged commits.
func TestStore_LogTail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eul := mustMeta(t, `{"name": "Event Update Log", "fields": [
		{"fieldname": "update_type", "fieldtype": "Data"}, {"fieldname": "ref_doctype", "fieldtype": "Data"},
		{"fieldname": "docname", "fieldtype": "Data"}, {"fieldname": "data", "fieldtype": "Code"},
		{"fieldname": "seq", "fieldtype": "Int"}, {"fieldname": "origin", "fieldtype": "Data"}]}`)
	update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, nil, eul) })
	var tailer store.LogTail = db

	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		// Small bounds, so that old logs are dropped (by count or by size:
		// a log is about 100 bytes).
		sqlstore.SetTailBounds(db, rapid.IntRange(1, 12).Draw(rt, "max logs"), rapid.IntRange(100, 2000).Draw(rt, "max bytes"))
		tx, err := db.Begin(ctx, true)
		if err != nil {
			rt.Fatal(err)
		}
		defer tx.Rollback()
		var open []string // savepoints, innermost last
		for range rapid.IntRange(1, 12).Draw(rt, "steps") {
			switch rapid.IntRange(0, 9).Draw(rt, "op") {
			case 0, 1, 2, 3:
				n++
				row := store.UpdateLog{UpdateType: "Create", RefDoctype: "Note", Docname: fmt.Sprintf("N%d", n),
					Data: fmt.Sprintf(`{"title":"<%d>"}`, n)}
				if rapid.Bool().Draw(rt, "delete") {
					row.UpdateType, row.Data = "Delete", ""
				}
				if rapid.Bool().Draw(rt, "origin") {
					row.Origin = "http://other"
				}
				if _, err := tx.InsertUpdateLog(ctx, eul, row, time.Now()); err != nil {
					rt.Fatal(err)
				}
			case 4:
				name := rapid.SampledFrom([]string{"ev", "dep"}).Draw(rt, "savepoint")
				if err := tx.Savepoint(ctx, name); err != nil {
					rt.Fatal(err)
				}
				open = append(open, name)
			case 5, 6:
				if len(open) == 0 {
					continue
				}
				i := rapid.IntRange(0, len(open)-1).Draw(rt, "which")
				name := open[i]
				// SQLite acts on the newest savepoint of that name.
				for j := len(open) - 1; j >= 0; j-- {
					if open[j] == name {
						i = j
						break
					}
				}
				if rapid.Bool().Draw(rt, "release") {
					if err := tx.Release(ctx, name); err != nil {
						rt.Fatal(err)
					}
					open = open[:i]
				} else {
					if err := tx.RollbackTo(ctx, name); err != nil {
						rt.Fatal(err)
					}
					open = open[:i+1]
				}
			case 7:
				if rapid.IntRange(0, 4).Draw(rt, "rarely") != 0 {
					continue
				}
				rows, err := tx.Select(ctx, &filter.Query{DocType: eul, Fields: []string{"name"}, Limit: 1,
					OrderBy: []filter.Order{{Field: "seq", Desc: rapid.Bool().Draw(rt, "newest")}}})
				if err != nil {
					rt.Fatal(err)
				}
				if len(rows) > 0 {
					if err := tx.DeleteRow(ctx, eul, rows[0].Name()); err != nil {
						rt.Fatal(err)
					}
				}
			case 8:
				if rapid.IntRange(0, 9).Draw(rt, "rarely") != 0 {
					continue
				}
				head, err := tx.StreamHead(ctx)
				if err != nil {
					rt.Fatal(err)
				}
				seq := head + 5
				if err := tx.InsertRow(ctx, eul, doc.Doc{"name": doc.UpdateLogName(seq), "seq": seq, "update_type": "Create",
					"ref_doctype": "Note", "docname": "by hand", "creation": doc.FormatDatetime(time.Now())}); err != nil {
					rt.Fatal(err)
				}
			}
		}
		if rapid.IntRange(0, 4).Draw(rt, "commit") > 0 {
			if err := tx.Commit(); err != nil {
				rt.Fatal(err)
			}
		} else if err := tx.Rollback(); err != nil {
			rt.Fatal(err)
		}
		checkTail(rt, ctx, db, tailer, eul)
	})

	// Plain logged commits: the tail serves them.
	sqlstore.SetTailBounds(db, 3, 1<<20)
	for i := range 3 {
		update(t, db, func(tx store.Tx) error {
			_, err := tx.InsertUpdateLog(ctx, eul, store.UpdateLog{UpdateType: "Create", RefDoctype: "Note", Docname: fmt.Sprint("last", i)}, time.Now())
			return err
		})
	}
	var head int64
	view(t, db, func(tx store.Tx) (err error) { head, err = tx.StreamHead(ctx); return err })
	var got []int64
	if h, ok := tailer.LogsAfter(head-3, func(g *store.TailLog) bool { got = append(got, g.Seq); return true }); !ok || h != head || len(got) != 3 {
		t.Fatalf("after plain commits: LogsAfter(%d) = %v, head %d, ok %v; want the three logs up to %d", head-3, got, h, ok, head)
	}
	checkTail(t, ctx, db, tailer, eul)
	if _, ok := tailer.LogsAfter(head-4, func(*store.TailLog) bool { return true }); ok {
		t.Fatalf("LogsAfter(%d) answered from a tail of three logs up to %d", head-4, head)
	}
	// A schema change of the log table (which may rebuild it) empties the tail.
	update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, eul, eul) })
	if _, ok := tailer.LogsAfter(head-1, func(*store.TailLog) bool { return true }); ok {
		t.Fatalf("LogsAfter(%d) answered from the tail after the log table's schema was synced", head-1)
	}
	// So does dropping the table, once a logged commit filled the tail again.
	update(t, db, func(tx store.Tx) error {
		_, err := tx.InsertUpdateLog(ctx, eul, store.UpdateLog{UpdateType: "Create", RefDoctype: "Note", Docname: "before-drop"}, time.Now())
		return err
	})
	view(t, db, func(tx store.Tx) (err error) { head, err = tx.StreamHead(ctx); return err })
	if _, ok := tailer.LogsAfter(head-1, func(*store.TailLog) bool { return true }); !ok {
		t.Fatalf("LogsAfter(%d) not answered from the tail after a logged commit", head-1)
	}
	update(t, db, func(tx store.Tx) error { return tx.DropTable(ctx, eul) })
	if _, ok := tailer.LogsAfter(head-1, func(*store.TailLog) bool { return true }); ok {
		t.Fatalf("LogsAfter(%d) answered from the tail after the log table was dropped", head-1)
	}
}

// checkTail compares the tail with the table for every cursor it serves.
func checkTail(t interface {
	Helper()
	Fatalf(string, ...any)
}, ctx context.Context, db *sqlstore.DB, tailer store.LogTail, eul *meta.DocType) {
	t.Helper()
	tx, err := db.Begin(ctx, false)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback()
	head, err := tx.StreamHead(ctx)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	rows, err := tx.Select(ctx, &filter.Query{DocType: eul, OrderBy: []filter.Order{{Field: "seq"}},
		Fields: []string{"name", "seq", "creation", "update_type", "ref_doctype", "docname", "data", "origin"}})
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	cursors := []int64{0, head}
	for _, r := range rows {
		cursors = append(cursors, r.Int("seq")-1, r.Int("seq"))
	}
	for _, after := range cursors {
		var got []store.TailLog
		h, ok := tailer.LogsAfter(after, func(g *store.TailLog) bool { got = append(got, *g); return true })
		if !ok {
			continue
		}
		var want []store.TailLog
		for _, r := range rows {
			if r.Int("seq") > after {
				want = append(want, store.TailLog{Seq: r.Int("seq"), Name: r.Name(), Creation: r.Str("creation"),
					UpdateType: r.Str("update_type"), RefDoctype: r.Str("ref_doctype"), Docname: r.Str("docname"),
					Origin: r.Str("origin"), Data: r.Str("data")})
			}
		}
		if h != head || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("LogsAfter(%d): head %d, logs\n%v\nthe table: head %d, logs\n%v", after, h, got, head, want)
		}
	}
}
