package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/sitetest"
	"docstream/internal/store"
	"docstream/internal/store/sqlstore"
)

// The stream clock and the Event Update Log's storage: numbering, the
// seq-keyed SQLite table, indexes, upgrades of older databases, and the site
// lock that lets a SQLite writer keep the clock in memory.

func TestStore_StreamSeq(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		db := sitetest.OpenStore(t, opts.Store)
		view(t, db, func(tx store.Tx) error {
			if h, err := tx.StreamHead(ctx); err != nil || h != 0 {
				t.Errorf("head of a new store: %d %v", h, err)
			}
			return nil
		})
		// Equal and backward clocks still give strictly increasing creation times.
		fixed := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
		nows := []time.Time{fixed, fixed, fixed.Add(-time.Hour), fixed.Add(time.Second), fixed.Add(time.Second)}
		var prev time.Time
		for i, now := range nows {
			update(t, db, func(tx store.Tx) error {
				seq, creation, err := tx.NextStreamSeq(ctx, now)
				if err != nil {
					return err
				}
				if seq != int64(i+1) {
					t.Errorf("seq %d, want %d", seq, i+1)
				}
				if !creation.After(prev) {
					t.Errorf("creation %v not after %v", creation, prev)
				}
				if creation.Before(now) {
					t.Errorf("creation %v before the clock %v", creation, now)
				}
				prev = creation
				return nil
			})
		}
		// A rolled-back sequence number is not handed out twice in a way that
		// goes backwards: the next one is still greater than every committed one.
		_ = tryUpdate(db, func(tx store.Tx) error {
			if _, _, err := tx.NextStreamSeq(ctx, fixed); err != nil {
				return err
			}
			return errors.New("abort")
		})
		// Concurrent writers: sequence numbers unique, creation increasing with seq.
		type got struct {
			seq      int64
			creation time.Time
		}
		var mu sync.Mutex
		var all []got
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 20 {
					err := tryUpdate(db, func(tx store.Tx) error {
						seq, creation, err := tx.NextStreamSeq(ctx, time.Now())
						if err != nil {
							return err
						}
						mu.Lock()
						all = append(all, got{seq, creation})
						mu.Unlock()
						return nil
					})
					if err != nil {
						t.Errorf("NextStreamSeq: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		slices.SortFunc(all, func(a, b got) int { return int(a.seq - b.seq) })
		for i := 1; i < len(all); i++ {
			if all[i].seq == all[i-1].seq {
				t.Fatalf("seq %d handed out twice", all[i].seq)
			}
			if !all[i].creation.After(all[i-1].creation) {
				t.Fatalf("seq %d has creation %v, not after seq %d's %v", all[i].seq, all[i].creation, all[i-1].seq, all[i-1].creation)
			}
		}
		view(t, db, func(tx store.Tx) error {
			h, err := tx.StreamHead(ctx)
			if err != nil || h != all[len(all)-1].seq {
				t.Errorf("head %d %v, want %d", h, err, all[len(all)-1].seq)
			}
			return nil
		})
	})
}

// rawAndOpen returns a plain connection to a new database of the given kind,
// to set it up as an older version left it, and a function that opens it as
// a store (closed when the test ends).
func rawAndOpen(t *testing.T, kind string) (*sql.DB, func() *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	var raw *sql.DB
	var open func() (*sqlstore.DB, error)
	var err error
	if kind == sitetest.Postgres {
		dsn := sitetest.NewSchema(t)
		raw, err = sql.Open("pgx", dsn)
		open = func() (*sqlstore.DB, error) { return sqlstore.OpenPostgres(ctx, dsn) }
	} else {
		dir := t.TempDir()
		raw, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "site.db"))
		open = func() (*sqlstore.DB, error) { return sqlstore.OpenSQLite(ctx, dir) }
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw, func() *sqlstore.DB {
		t.Helper()
		db, err := open()
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func mustExec(t *testing.T, db *sql.DB, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestStore_StreamClockUpgrade opens a database whose stream clock an older
// version wrote (creation as a datetime string): the clock carries on from
// there, and opening it again changes nothing.
func TestStore_StreamClockUpgrade(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		raw, open := rawAndOpen(t, opts.Store)
		mustExec(t, raw, `CREATE TABLE "__StreamClock" (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, creation TEXT NOT NULL)`,
			// In the future, so that the clock, not now, decides the next creation.
			`INSERT INTO "__StreamClock" (id, seq, creation) VALUES (1, 41, '2099-03-04 05:06:07.999999')`)
		for i := range 2 {
			db := open()
			update(t, db, func(tx store.Tx) error {
				seq, creation, err := tx.NextStreamSeq(ctx, time.Now())
				if err != nil {
					return err
				}
				if want := fmt.Sprintf("%d 2099-03-04 05:06:08.00000%d", 42+i, i); fmt.Sprintf("%d %s", seq, doc.FormatDatetime(creation)) != want {
					t.Errorf("open %d: next log %d %s, want %s", i, seq, doc.FormatDatetime(creation), want)
				}
				return nil
			})
			db.Close()
		}
	})
}

// TestStore_StreamLogIndexes: the Event Update Log and the Event Sync Log,
// written once per event, keep only the indexes their reads need, and a
// table an older version indexed more loses the rest.
func TestStore_StreamLogIndexes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		def, table string
		old        []string // the table as an older version made it
		want       []string
	}{
		{`{"name": "Event Update Log", "fields": [
			{"fieldname": "ref_doctype", "fieldtype": "Link", "options": "DocType"},
			{"fieldname": "docname", "fieldtype": "Data"}, {"fieldname": "seq", "fieldtype": "Int"}]}`,
			"tabEvent Update Log",
			[]string{`CREATE TABLE "tabEvent Update Log" ("name" TEXT NOT NULL PRIMARY KEY, "creation" TEXT, "modified" TEXT, "ref_doctype" TEXT, "seq" BIGINT)`,
				`CREATE INDEX "tabevent_update_log__modified" ON "tabEvent Update Log" ("modified")`,
				`CREATE INDEX "tabevent_update_log_i_ref_doctype" ON "tabEvent Update Log" ("ref_doctype")`,
				`CREATE INDEX "tabevent_update_log_i_seq" ON "tabEvent Update Log" ("seq")`},
			nil}, // SQLite: keyed by seq, no index; PostgreSQL: see below
		{`{"name": "Event Sync Log", "fields": [
			{"fieldname": "ref_doctype", "fieldtype": "Link", "options": "DocType"},
			{"fieldname": "status", "fieldtype": "Select", "options": "Synced\nFailed"},
			{"fieldname": "event_producer", "fieldtype": "Data"}, {"fieldname": "seq", "fieldtype": "Int"}]}`,
			"tabEvent Sync Log",
			[]string{`CREATE TABLE "tabEvent Sync Log" ("name" TEXT NOT NULL PRIMARY KEY, "creation" TEXT, "modified" TEXT, "ref_doctype" TEXT, "status" TEXT, "event_producer" TEXT, "seq" BIGINT)`,
				`CREATE INDEX "tabevent_sync_log_i_seq" ON "tabEvent Sync Log" ("seq")`},
			[]string{"tabevent_sync_log__modified", "tabevent_sync_log_i_ref_doctype", "tabevent_sync_log_i_status_producer"}},
	}
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		for _, c := range cases {
			def := mustMeta(t, c.def)
			raw, open := rawAndOpen(t, opts.Store)
			mustExec(t, raw, c.old...)
			db := open()
			update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, nil, def) })
			q := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`
			if opts.Store == sitetest.Postgres {
				q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 AND indexname NOT LIKE '%_pkey'`
			}
			rows, err := raw.Query(q, c.table)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				got = append(got, n)
			}
			rows.Close()
			slices.Sort(got)
			want := c.want
			if c.table == "tabEvent Update Log" && opts.Store == sitetest.Postgres {
				want = []string{"tabevent_update_log_i_ref_doctype_seq", "tabevent_update_log_i_seq"}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: indexes %v, want %v", c.table, got, want)
			}
		}
	})
}

// TestStore_StreamSeqWithLog hands out numbers as the producer does, each
// followed by its log row in the same transaction (on SQLite the numbers
// are read from the newest log): they increase with commits, creation
// increases with them, and deleting the newest logs, or all of them, never
// lets a number be handed out twice.
func TestStore_StreamSeqWithLog(t *testing.T) {
	t.Parallel()
	eul := mustMeta(t, `{"name": "Event Update Log", "fields": [
		{"fieldname": "ref_doctype", "fieldtype": "Link", "options": "DocType"},
		{"fieldname": "docname", "fieldtype": "Data"}, {"fieldname": "seq", "fieldtype": "Int"}]}`)
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		db := sitetest.OpenStore(t, opts.Store)
		update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, nil, eul) })
		var last int64
		var lastCreation time.Time
		var logged atomic.Int64
		write := func(now time.Time) (int64, time.Time, error) {
			var seq int64
			var creation time.Time
			// As the producer writes a log; on SQLite numbering and insert
			// are one statement.
			l := store.UpdateLog{RefDoctype: "Note", Docname: fmt.Sprintf("n-%04d", logged.Add(1))}
			err := tryUpdate(db, func(tx store.Tx) error {
				var err error
				seq, err = tx.InsertUpdateLog(ctx, eul, l, now)
				return err
			})
			if err != nil {
				return 0, time.Time{}, err
			}
			var got doc.Doc
			view(t, db, func(tx store.Tx) error {
				got, err = tx.GetRow(ctx, eul, doc.UpdateLogName(seq), false)
				return err
			})
			if got == nil || got.Int("seq") != seq || got.Str("docname") != l.Docname || got.Str("ref_doctype") != l.RefDoctype ||
				got.Str("modified") != got.Str("creation") || got.Str("owner") != "Administrator" || got.Str("modified_by") != "Administrator" {
				t.Errorf("log %d as stored: %v, want %+v", seq, got, l)
				return 0, time.Time{}, fmt.Errorf("log %d not stored as written", seq)
			}
			if creation, err = time.ParseInLocation(doc.DatetimeLayout, got.Str("creation"), now.Location()); err != nil {
				return 0, time.Time{}, err
			}
			return seq, creation, nil
		}
		check := func(what string, seq int64, creation time.Time) {
			t.Helper()
			if seq <= last || !creation.After(lastCreation) {
				t.Errorf("%s: seq %d at %v after seq %d at %v", what, seq, creation, last, lastCreation)
			}
			last, lastCreation = seq, creation
		}
		fixed := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
		for i, now := range []time.Time{fixed, fixed, fixed.Add(-time.Hour), fixed.Add(time.Second)} {
			seq, creation, err := write(now)
			if err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("write %d", i), seq, creation)
		}
		deleteNewest := func(n int) {
			t.Helper()
			update(t, db, func(tx store.Tx) error {
				rows, err := tx.Select(ctx, &filter.Query{DocType: eul, Fields: []string{"name"},
					OrderBy: []filter.Order{{Field: "creation", Desc: true}}, Limit: n})
				if err != nil {
					return err
				}
				for _, r := range rows {
					if err := tx.DeleteRow(ctx, eul, r.Name()); err != nil {
						return err
					}
				}
				return nil
			})
		}
		deleteNewest(2)
		view(t, db, func(tx store.Tx) error {
			if h, err := tx.StreamHead(ctx); err != nil || h != last {
				t.Errorf("head after deleting the newest logs: %d %v, want %d", h, err, last)
			}
			return nil
		})
		seq, creation, err := write(fixed)
		if err != nil {
			t.Fatal(err)
		}
		check("after deleting the newest logs", seq, creation)
		deleteNewest(1000)
		seq, creation, err = write(fixed)
		if err != nil {
			t.Fatal(err)
		}
		check("after deleting every log", seq, creation)

		// Concurrent writers.
		type got struct {
			seq      int64
			creation time.Time
		}
		var mu sync.Mutex
		all := []got{{last, lastCreation}}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 10 {
					seq, creation, err := write(time.Now())
					if err != nil {
						t.Errorf("write: %v", err)
						return
					}
					mu.Lock()
					all = append(all, got{seq, creation})
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.SortFunc(all, func(a, b got) int { return int(a.seq - b.seq) })
		for i := 1; i < len(all); i++ {
			if all[i].seq == all[i-1].seq || !all[i].creation.After(all[i-1].creation) {
				t.Fatalf("seq %d at %v follows seq %d at %v", all[i].seq, all[i].creation, all[i-1].seq, all[i-1].creation)
			}
		}
	})
}

// TestStore_UpdateLogKeyedBySeq: the Event Update Log of an older version
// (name as key, seq a plain column, three indexes) is rebuilt keyed by seq
// with every row and column kept, its logs renamed after their seq and their
// child rows following; a log is then found by its name (through its seq),
// one named otherwise (a hash) too; a name that stands for another seq than
// the row's is refused, on both stores.
func TestStore_UpdateLogKeyedBySeq(t *testing.T) {
	t.Parallel()
	eul := mustMeta(t, `{"name": "Event Update Log", "fields": [
		{"fieldname": "ref_doctype", "fieldtype": "Link", "options": "DocType"},
		{"fieldname": "data", "fieldtype": "Code"}, {"fieldname": "seq", "fieldtype": "Int"},
		{"fieldname": "consumers", "fieldtype": "Table MultiSelect", "options": "Event Update Log Consumer"}]}`)
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		raw, open := rawAndOpen(t, opts.Store)
		mustExec(t, raw,
			`CREATE TABLE "tabEvent Update Log" ("name" TEXT NOT NULL PRIMARY KEY, "owner" TEXT, "creation" TEXT, "modified" TEXT, "modified_by" TEXT,
				"docstatus" INTEGER NOT NULL DEFAULT 0, "idx" INTEGER NOT NULL DEFAULT 0, "ref_doctype" TEXT, "data" TEXT, "seq" BIGINT, "gone" TEXT)`,
			`CREATE INDEX "tabevent_update_log__creation" ON "tabEvent Update Log" ("creation")`,
			`CREATE INDEX "tabevent_update_log_i_ref_doctype_seq" ON "tabEvent Update Log" ("ref_doctype", "seq")`,
			`INSERT INTO "tabEvent Update Log" VALUES ('b2b2b2b2b2', 'Administrator', '2025-01-10 09:00:02', '2025-01-10 09:00:02', 'Administrator', 0, 0, 'Note', '{"x":2}', 2, 'g2')`,
			`INSERT INTO "tabEvent Update Log" VALUES ('a1a1a1a1a1', 'Administrator', '2025-01-10 09:00:01', '2025-01-10 09:00:01', 'Administrator', 0, 0, 'Note', '{"x":1}', 1, 'g1')`,
			`CREATE TABLE "tabEvent Update Log Consumer" ("name" TEXT NOT NULL PRIMARY KEY, "parent" TEXT, "parentfield" TEXT, "parenttype" TEXT, "consumer" TEXT)`,
			`INSERT INTO "tabEvent Update Log Consumer" VALUES ('c1', 'b2b2b2b2b2', 'consumers', 'Event Update Log', 'http://c')`)
		db := open()
		update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, nil, eul) })
		sqlite := opts.Store != sitetest.Postgres
		name := func(old string, seq int64) string {
			if sqlite {
				return doc.UpdateLogName(seq) // renamed by the rebuild
			}
			return old
		}
		if sqlite {
			var pk int
			if err := raw.QueryRow(`SELECT pk FROM pragma_table_info('tabEvent Update Log') WHERE name = 'seq'`).Scan(&pk); err != nil || pk != 1 {
				t.Fatalf("seq is not the key after the rebuild: pk %d, %v", pk, err)
			}
			var gone string
			if err := raw.QueryRow(`SELECT "gone" FROM "tabEvent Update Log" WHERE seq = 2`).Scan(&gone); err != nil || gone != "g2" {
				t.Errorf("column of a removed field after the rebuild: %q, %v", gone, err)
			}
			var parent string
			if err := raw.QueryRow(`SELECT parent FROM "tabEvent Update Log Consumer" WHERE name = 'c1'`).Scan(&parent); err != nil || parent != name("", 2) {
				t.Errorf("child row's parent after the rebuild: %q, %v", parent, err)
			}
		}
		// A later log written as the producer does, and one with a hash name.
		ts := "2025-01-10 09:00:03.000000"
		update(t, db, func(tx store.Tx) error {
			if err := tx.InsertRow(ctx, eul, doc.Doc{"name": doc.UpdateLogName(3), "creation": ts, "ref_doctype": "Note", "data": `{"x":3}`, "seq": int64(3)}); err != nil {
				return err
			}
			return tx.InsertRow(ctx, eul, doc.Doc{"name": "h4h4h4h4h4", "creation": ts, "ref_doctype": "Note", "data": `{"x":4}`, "seq": int64(4)})
		})
		for seq, n := range map[int64]string{1: name("a1a1a1a1a1", 1), 2: name("b2b2b2b2b2", 2), 3: doc.UpdateLogName(3), 4: "h4h4h4h4h4"} {
			view(t, db, func(tx store.Tx) error {
				row, err := tx.GetRow(ctx, eul, n, false)
				if err != nil || row == nil || row.Int("seq") != seq || row.Str("data") != fmt.Sprintf(`{"x":%d}`, seq) {
					t.Errorf("GetRow(%q) = %v, %v; want the log of seq %d", n, row, err, seq)
				}
				if ok, err := tx.Exists(ctx, eul, n); !ok || err != nil {
					t.Errorf("Exists(%q) = %v, %v", n, ok, err)
				}
				return nil
			})
		}
		view(t, db, func(tx store.Tx) error {
			for _, n := range []string{doc.UpdateLogName(5), "EUL-3", "a1a1a1a1a1x"} {
				if ok, err := tx.Exists(ctx, eul, n); ok || err != nil {
					t.Errorf("Exists(%q) = %v, %v; want no such log", n, ok, err)
				}
			}
			return nil
		})
		update(t, db, func(tx store.Tx) error {
			row, err := tx.GetRow(ctx, eul, doc.UpdateLogName(3), true)
			if err != nil {
				return err
			}
			row["data"] = `{"x":33}`
			if err := tx.UpdateRow(ctx, eul, row); err != nil {
				return err
			}
			return tx.DeleteRow(ctx, eul, name("a1a1a1a1a1", 1))
		})
		view(t, db, func(tx store.Tx) error {
			rows, err := tx.Select(ctx, &filter.Query{DocType: eul, Fields: []string{"seq", "data"}, OrderBy: []filter.Order{{Field: "seq"}}})
			if err != nil {
				return err
			}
			var got []string
			for _, r := range rows {
				got = append(got, fmt.Sprintf("%d %s", r.Int("seq"), r.Str("data")))
			}
			if want := []string{`2 {"x":2}`, `3 {"x":33}`, `4 {"x":4}`}; !slices.Equal(got, want) {
				t.Errorf("logs after an update and a delete: %q, want %q", got, want)
			}
			return nil
		})
		for _, row := range []doc.Doc{
			{"name": doc.UpdateLogName(7), "seq": int64(6)},
			{"name": doc.UpdateLogName(8)}, // no seq
		} {
			err := tryUpdate(db, func(tx store.Tx) error { return tx.InsertRow(ctx, eul, row) })
			if !errs.Is(err, errs.KindValidation) {
				t.Errorf("insert %v: %v, want a validation error", row, err)
			}
			err = tryUpdate(db, func(tx store.Tx) error { return tx.InsertRows(ctx, eul, []doc.Doc{row}) })
			if !errs.Is(err, errs.KindValidation) {
				t.Errorf("insert rows %v: %v, want a validation error", row, err)
			}
		}
		err := tryUpdate(db, func(tx store.Tx) error {
			return tx.UpdateRow(ctx, eul, doc.Doc{"name": doc.UpdateLogName(3), "seq": int64(9)})
		})
		if !errs.Is(err, errs.KindValidation) {
			t.Errorf("update to another seq: %v, want a validation error", err)
		}
	})
}

// TestStore_SQLiteSiteLockAndClock: a SQLite site is open in one process
// at a time (a second open fails clearly, and works once the first is
// closed), and the stream clock it keeps in memory stays exact: a rolled-back
// transaction's numbers may be handed out again (nobody saw them), a log
// written with a seq of its own is never numbered over, and numbers continue
// after the site is reopened.
func TestStore_SQLiteSiteLockAndClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	if db2, err := sqlstore.OpenSQLite(ctx, dir); err == nil || !errs.Is(err, errs.KindUnavailable) || !strings.Contains(err.Error(), "another process") {
		if db2 != nil {
			db2.Close()
		}
		t.Fatalf("second open of one site: %v, want an unavailable error", err)
	}
	if !db.SoleWriter() {
		t.Error("a SQLite site holding its lock is not its sole writer")
	}
	eul := mustMeta(t, `{"name": "Event Update Log", "fields": [
		{"fieldname": "ref_doctype", "fieldtype": "Link", "options": "DocType"}, {"fieldname": "seq", "fieldtype": "Int"}]}`)
	update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, nil, eul) })
	write := func(db *sqlstore.DB, commit bool) int64 {
		t.Helper()
		tx, err := db.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		seq, err := tx.InsertUpdateLog(ctx, eul, store.UpdateLog{RefDoctype: "Note"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		return seq
	}
	steps := []struct {
		what string
		do   func() int64 // the seq the next write must get
	}{
		{"first", func() int64 { return 1 }},
		{"after a rollback", func() int64 { write(db, false); return 2 }},
		{"after a log numbered by hand", func() int64 {
			update(t, db, func(tx store.Tx) error {
				return tx.InsertRow(ctx, eul, doc.Doc{"name": doc.UpdateLogName(1000), "ref_doctype": "Note", "seq": int64(1000)})
			})
			return 1001
		}},
		{"after deleting the newest", func() int64 {
			update(t, db, func(tx store.Tx) error { return tx.DeleteRow(ctx, eul, doc.UpdateLogName(1001)) })
			return 1002
		}},
		{"after reopening", func() int64 {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if db, err = sqlstore.OpenSQLite(ctx, dir); err != nil {
				t.Fatal(err)
			}
			return 1003
		}},
	}
	for _, s := range steps {
		want := s.do()
		if got := write(db, true); got != want {
			t.Fatalf("%s: seq %d, want %d", s.what, got, want)
		}
	}
}

// TestStore_SoleWriter: only a SQLite site, which holds its lock file while
// open, is the sole writer of its database; a PostgreSQL database may be
// shared by several processes. Sync log names and the pull long-poll
// depend on it (stream).
func TestStore_SoleWriter(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		db := sitetest.OpenStore(t, opts.Store)
		if got, want := db.SoleWriter(), opts.Store == sitetest.SQLite; got != want {
			t.Errorf("SoleWriter() = %v on %s, want %v", got, opts.Store, want)
		}
	})
}
