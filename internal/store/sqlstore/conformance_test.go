package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/sitetest"
	"docstream/internal/store"
	"docstream/internal/store/sqlstore"
)

// The conformance suite: every test runs on SQLite, and on PostgreSQL when
// DOCSTREAM_TEST_POSTGRES is set. Both dialects must behave the same.

func mustMeta(t testing.TB, def string) *meta.DocType {
	t.Helper()
	dt, err := meta.ParseJSON([]byte(def))
	if err != nil {
		t.Fatalf("DocType: %v", err)
	}
	return dt
}

var (
	thingDef = `{"name": "Thing", "fields": [
		{"fieldname": "title", "fieldtype": "Data"},
		{"fieldname": "qty", "fieldtype": "Int"},
		{"fieldname": "price", "fieldtype": "Float"},
		{"fieldname": "ok", "fieldtype": "Check"},
		{"fieldname": "day", "fieldtype": "Date"},
		{"fieldname": "code", "fieldtype": "Data", "unique": 1},
		{"fieldname": "owner_link", "fieldtype": "Link", "options": "Thing"},
		{"fieldname": "rows", "fieldtype": "Table", "options": "Thing Row"}]}`
	thingRowDef = `{"name": "Thing Row", "istable": 1, "fields": [
		{"fieldname": "label", "fieldtype": "Data"}, {"fieldname": "n", "fieldtype": "Int"}]}`
)

// update runs f in a committed write transaction.
func update(t testing.TB, db *sqlstore.DB, f func(tx store.Tx) error) {
	t.Helper()
	if err := tryUpdate(db, f); err != nil {
		t.Fatal(err)
	}
}

func tryUpdate(db *sqlstore.DB, f func(tx store.Tx) error) error {
	ctx := context.Background()
	tx, err := db.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// view runs f in a read transaction.
func view(t *testing.T, db *sqlstore.DB, f func(tx store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		t.Fatal(err)
	}
}

// newThings opens a store with the Thing tables.
func newThings(t *testing.T, kind string) (*sqlstore.DB, *meta.DocType, *meta.DocType) {
	t.Helper()
	db := sitetest.OpenStore(t, kind)
	thing, row := mustMeta(t, thingDef), mustMeta(t, thingRowDef)
	update(t, db, func(tx store.Tx) error {
		if err := tx.SyncTable(context.Background(), nil, row); err != nil {
			return err
		}
		return tx.SyncTable(context.Background(), nil, thing)
	})
	return db, thing, row
}

func TestStore_SyncTable(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		db, thing, _ := newThings(t, opts.Store)
		update(t, db, func(tx store.Tx) error {
			return tx.InsertRow(ctx, thing, doc.Doc{"name": "old", "title": "before", "qty": int64(1)})
		})

		// Adding fields alters the table; old rows get 0 for numbers, NULL for text.
		thing2 := thing.Clone()
		thing2.Fields = append(thing2.Fields, meta.Field{Fieldname: "extra", Fieldtype: "Data"}, meta.Field{Fieldname: "count", Fieldtype: "Int"})
		thing2.Reindex()
		update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, thing, thing2) })
		update(t, db, func(tx store.Tx) error {
			return tx.InsertRow(ctx, thing2, doc.Doc{"name": "new", "extra": "x", "count": int64(5)})
		})
		view(t, db, func(tx store.Tx) error {
			old, err := tx.GetRow(ctx, thing2, "old", false)
			if err != nil {
				return err
			}
			if old["extra"] != nil || old["count"] != int64(0) || old["title"] != "before" {
				t.Errorf("old row after ALTER: %v", old)
			}
			n, err := tx.GetRow(ctx, thing2, "new", false)
			if err != nil {
				return err
			}
			if n["extra"] != "x" || n["count"] != int64(5) {
				t.Errorf("new row: %v", n)
			}
			return nil
		})
		// Syncing again is a no-op.
		update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, thing2, thing2) })

		// DDL is transactional: a rolled-back SyncTable leaves no table.
		ghost := mustMeta(t, `{"name": "Ghost", "fields": [{"fieldname": "x", "fieldtype": "Data"}]}`)
		err := tryUpdate(db, func(tx store.Tx) error {
			if err := tx.SyncTable(ctx, nil, ghost); err != nil {
				return err
			}
			return errors.New("abort")
		})
		if err == nil || err.Error() != "abort" {
			t.Fatalf("abort: %v", err)
		}
		ctx2 := context.Background()
		tx, err := db.Begin(ctx2, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exists(ctx2, ghost, "x"); err == nil {
			t.Errorf("table of a rolled-back SyncTable exists")
		}
		tx.Rollback()

		// A field that stops being unique loses its unique index.
		update(t, db, func(tx store.Tx) error {
			return tx.InsertRow(ctx, thing2, doc.Doc{"name": "u1", "code": "C"})
		})
		err = tryUpdate(db, func(tx store.Tx) error { return tx.InsertRow(ctx, thing2, doc.Doc{"name": "u2", "code": "C"}) })
		if e, ok := errs.As(err); !ok || e.ExcType != "UniqueValidationError" || !strings.Contains(e.Message, "code") {
			t.Errorf("duplicate unique value: %v, want UniqueValidationError naming code", err)
		}
		thing3 := thing2.Clone()
		thing3.Field("code").Unique = false
		update(t, db, func(tx store.Tx) error { return tx.SyncTable(ctx, thing2, thing3) })
		update(t, db, func(tx store.Tx) error { return tx.InsertRow(ctx, thing3, doc.Doc{"name": "u2", "code": "C"}) })

		// DropTable removes it.
		update(t, db, func(tx store.Tx) error { return tx.DropTable(ctx, thing3) })
		tx, err = db.Begin(ctx2, false)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exists(ctx2, thing3, "old"); err == nil {
			t.Errorf("dropped table still answers")
		}
	})
}

func TestStore_Rows(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		db, thing, row := newThings(t, opts.Store)
		parent := doc.Doc{"name": "P/1 x://y", "owner": "me", "creation": "2025-01-01 00:00:00.000000", "modified": "2025-01-01 00:00:00.000001",
			"modified_by": "me", "docstatus": int64(0), "idx": int64(0), "title": "Ünïcode ✓", "qty": int64(-3), "price": 2.25, "ok": int64(1),
			"day": "2025-02-03", "code": "", "owner_link": nil}
		rows := []doc.Doc{
			{"name": "r2", "parent": "P/1 x://y", "parenttype": "Thing", "parentfield": "rows", "idx": int64(2), "label": "second", "n": int64(2)},
			{"name": "r1", "parent": "P/1 x://y", "parenttype": "Thing", "parentfield": "rows", "idx": int64(1), "label": "first"},
			{"name": "r3", "parent": "P/1 x://y", "parenttype": "Thing", "parentfield": "other", "idx": int64(1), "label": "elsewhere"},
		}
		update(t, db, func(tx store.Tx) error {
			if err := tx.InsertRow(ctx, thing, parent); err != nil {
				return err
			}
			for _, r := range rows {
				if err := tx.InsertRow(ctx, row, r); err != nil {
					return err
				}
			}
			return nil
		})
		view(t, db, func(tx store.Tx) error {
			got, err := tx.GetRow(ctx, thing, "P/1 x://y", false)
			if err != nil {
				return err
			}
			want := parent.Clone()
			want["doctype"] = "Thing"
			want["code"] = nil // empty unique values are stored as NULL
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			missing, err := tx.GetRow(ctx, thing, "nope", false)
			if err != nil || missing != nil {
				t.Errorf("missing row: %v, %v; want nil, nil", missing, err)
			}
			for name, want := range map[string]bool{"P/1 x://y": true, "nope": false, "p/1 x://y": false} {
				if ok, err := tx.Exists(ctx, thing, name); err != nil || ok != want {
					t.Errorf("Exists(%q) = %v, %v; want %v", name, ok, err, want)
				}
			}
			children, err := tx.ChildRows(ctx, row, "Thing", "rows", "P/1 x://y")
			if err != nil {
				return err
			}
			var labels []string
			for _, c := range children {
				labels = append(labels, c.Str("label"))
			}
			if diff := cmp.Diff([]string{"first", "second"}, labels); diff != "" {
				t.Errorf("child rows in idx order, this table field only (-want +got):\n%s", diff)
			}
			if children[0]["n"] != int64(0) || children[0]["doctype"] != "Thing Row" {
				t.Errorf("child row %v", children[0])
			}
			return nil
		})
		update(t, db, func(tx store.Tx) error {
			p, err := tx.GetRow(ctx, thing, "P/1 x://y", true)
			if err != nil {
				return err
			}
			p["title"], p["qty"], p["price"] = "changed", int64(4), nil
			if err := tx.UpdateRow(ctx, thing, p); err != nil {
				return err
			}
			return tx.DeleteChildRows(ctx, row, "Thing", "rows", "P/1 x://y", []string{"r2"})
		})
		view(t, db, func(tx store.Tx) error {
			p, err := tx.GetRow(ctx, thing, "P/1 x://y", false)
			if err != nil {
				return err
			}
			if p["title"] != "changed" || p["qty"] != int64(4) || p["price"] != float64(0) {
				t.Errorf("after update: %v", p)
			}
			children, err := tx.ChildRows(ctx, row, "Thing", "rows", "P/1 x://y")
			if err != nil || len(children) != 1 || children[0].Name() != "r2" {
				t.Errorf("after DeleteChildRows keep r2: %v %v", children, err)
			}
			other, err := tx.ChildRows(ctx, row, "Thing", "other", "P/1 x://y")
			if err != nil || len(other) != 1 {
				t.Errorf("rows of another table field must stay: %v %v", other, err)
			}
			return nil
		})
		// Duplicate names are DuplicateEntryError (409).
		err := tryUpdate(db, func(tx store.Tx) error { return tx.InsertRow(ctx, thing, doc.Doc{"name": "P/1 x://y"}) })
		if !errs.Is(err, errs.KindConflict) {
			t.Errorf("duplicate name: %v, want a conflict", err)
		}
		update(t, db, func(tx store.Tx) error {
			if err := tx.DeleteChildRows(ctx, row, "Thing", "rows", "P/1 x://y", nil); err != nil {
				return err
			}
			return tx.DeleteRow(ctx, thing, "P/1 x://y")
		})
		view(t, db, func(tx store.Tx) error {
			if ok, err := tx.Exists(ctx, thing, "P/1 x://y"); ok || err != nil {
				t.Errorf("deleted row exists: %v %v", ok, err)
			}
			return nil
		})
	})
}

func TestStore_Select(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		db, thing, row := newThings(t, opts.Store)
		// t1..t6: title NULL for t5, "" for t6; qty 1..6; day NULL for t6.
		update(t, db, func(tx store.Tx) error {
			for i := 1; i <= 6; i++ {
				d := doc.Doc{"name": fmt.Sprintf("t%d", i), "qty": int64(i), "price": float64(i) / 2, "ok": int64(i % 2),
					"modified": fmt.Sprintf("2025-01-01 00:00:%02d.000000", i), "title": fmt.Sprintf("Title %d", i),
					"day": fmt.Sprintf("2025-03-%02d", i)}
				switch i {
				case 5:
					d["title"] = nil
				case 6:
					d["title"], d["day"] = "", nil
				}
				if i%2 == 0 {
					d["owner_link"] = "t1"
				}
				if err := tx.InsertRow(ctx, thing, d); err != nil {
					return err
				}
				if err := tx.InsertRow(ctx, row, doc.Doc{"name": fmt.Sprintf("r%d", i), "parent": d.Name(), "parenttype": "Thing",
					"parentfield": "rows", "idx": int64(1), "label": fmt.Sprintf("L%d", i%3)}); err != nil {
					return err
				}
			}
			return nil
		})
		metaOf := func(n string) (*meta.DocType, error) {
			if n == "Thing Row" {
				return row, nil
			}
			return thing, nil
		}
		cases := []struct {
			name    string
			filters any
			or      any
			want    []string
		}{
			{"=", [][]any{{"qty", "=", 2}}, nil, []string{"t2"}},
			{"= numeric string", [][]any{{"qty", "=", "2"}}, nil, []string{"t2"}},
			{"!=", [][]any{{"qty", "!=", 2}}, nil, []string{"t1", "t3", "t4", "t5", "t6"}},
			{">", [][]any{{"qty", ">", 4}}, nil, []string{"t5", "t6"}},
			{"<", [][]any{{"price", "<", 1}}, nil, []string{"t1"}},
			{">=", [][]any{{"qty", ">=", 5}}, nil, []string{"t5", "t6"}},
			{"<=", [][]any{{"qty", "<=", 1}}, nil, []string{"t1"}},
			{"numbers compare as numbers", [][]any{{"qty", ">", 10}}, nil, nil},
			{"like", [][]any{{"title", "like", "Title %"}}, nil, []string{"t1", "t2", "t3", "t4"}},
			{"like is case-insensitive", [][]any{{"title", "like", "title 1"}}, nil, []string{"t1"}},
			{"not like matches NULL and empty", [][]any{{"title", "not like", "Title%"}}, nil, []string{"t5", "t6"}},
			{"in", [][]any{{"name", "in", []any{"t1", "t3", "zz"}}}, nil, []string{"t1", "t3"}},
			{"in empty", [][]any{{"name", "in", []any{}}}, nil, nil},
			{"not in", [][]any{{"qty", "not in", []any{1, 2, 3}}}, nil, []string{"t4", "t5", "t6"}},
			{"not in empty", [][]any{{"qty", "not in", []any{}}}, nil, []string{"t1", "t2", "t3", "t4", "t5", "t6"}},
			{"is set", [][]any{{"title", "is", "set"}}, nil, []string{"t1", "t2", "t3", "t4"}},
			{"is not set", [][]any{{"title", "is", "not set"}}, nil, []string{"t5", "t6"}},
			{"is set on a date", [][]any{{"day", "is", "set"}}, nil, []string{"t1", "t2", "t3", "t4", "t5"}},
			{"between", [][]any{{"qty", "between", []any{2, 3}}}, nil, []string{"t2", "t3"}},
			{"between dates", [][]any{{"day", "between", []any{"2025-03-04", "2025-03-09"}}}, nil, []string{"t4", "t5"}},
			{"between datetimes, date-only upper bound is the end of that day", [][]any{{"modified", "between", []any{"2025-01-01 00:00:03", "2025-01-01"}}}, nil, []string{"t3", "t4", "t5", "t6"}},
			{"= '' matches NULL", map[string]any{"title": ""}, nil, []string{"t5", "t6"}},
			{"!= matches NULL", [][]any{{"title", "!=", "Title 1"}}, nil, []string{"t2", "t3", "t4", "t5", "t6"}},
			{"< on text sees NULL as ''", [][]any{{"title", "<", "A"}}, nil, []string{"t5", "t6"}},
			{"link", map[string]any{"owner_link": "t1"}, nil, []string{"t2", "t4", "t6"}},
			{"check", map[string]any{"ok": 0}, nil, []string{"t2", "t4", "t6"}},
			{"child table EXISTS", [][]any{{"Thing Row", "label", "=", "L1"}}, nil, []string{"t1", "t4"}},
			{"child table and parent", [][]any{{"Thing Row", "label", "=", "L1"}, {"qty", ">", 1}}, nil, []string{"t4"}},
			{"or group", nil, [][]any{{"qty", "=", 1}, {"qty", "=", 6}}, []string{"t1", "t6"}},
			{"and with or group", [][]any{{"ok", "=", 1}}, [][]any{{"qty", "=", 1}, {"qty", "=", 6}}, []string{"t1"}},
			{"value with quotes is bound", map[string]any{"title": `x' OR '1'='1`}, nil, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				where, err := filter.Parse(thing, metaOf, asJSON(t, tc.filters))
				if err != nil {
					t.Fatal(err)
				}
				or, err := filter.Parse(thing, metaOf, asJSON(t, tc.or))
				if err != nil {
					t.Fatal(err)
				}
				q := &filter.Query{DocType: thing, Fields: []string{"name"}, Where: where, Or: or, OrderBy: []filter.Order{{Field: "name"}}}
				view(t, db, func(tx store.Tx) error {
					rows, err := tx.Select(ctx, q)
					if err != nil {
						return err
					}
					var got []string
					for _, r := range rows {
						got = append(got, r.Name())
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("names (-want +got):\n%s", diff)
					}
					n, err := tx.Count(ctx, q)
					if err != nil {
						return err
					}
					if int(n) != len(tc.want) {
						t.Errorf("Count %d, want %d", n, len(tc.want))
					}
					return nil
				})
			})
		}
		t.Run("order, limit, offset", func(t *testing.T) {
			view(t, db, func(tx store.Tx) error {
				q := &filter.Query{DocType: thing, Fields: []string{"name", "qty"}, OrderBy: []filter.Order{{Field: "qty", Desc: true}}, Limit: 2, Offset: 1}
				rows, err := tx.Select(ctx, q)
				if err != nil {
					return err
				}
				want := []doc.Doc{{"name": "t5", "qty": int64(5), "doctype": "Thing"}, {"name": "t4", "qty": int64(4), "doctype": "Thing"}}
				if diff := cmp.Diff(want, rows); diff != "" {
					t.Errorf("page (-want +got):\n%s", diff)
				}
				q = &filter.Query{DocType: thing, Fields: []string{"name"}, OrderBy: []filter.Order{{Field: "qty"}}, Offset: 4}
				rows, err = tx.Select(ctx, q)
				if err != nil {
					return err
				}
				if len(rows) != 2 || rows[0].Name() != "t5" {
					t.Errorf("offset without limit: %v", rows)
				}
				linked, err := tx.LinkedFrom(ctx, thing, "owner_link", "t1")
				if err != nil || linked == "" {
					t.Errorf("LinkedFrom: %q %v", linked, err)
				}
				if l, err := tx.LinkedFrom(ctx, row, "label", "L2"); err != nil || (l != "t2" && l != "t5") {
					t.Errorf("LinkedFrom a child table answers the parent: %q %v", l, err)
				}
				return nil
			})
		})
		t.Run("filtered list uses an index", func(t *testing.T) {
			view(t, db, func(tx store.Tx) error {
				where, _ := filter.Parse(thing, metaOf, map[string]any{"owner_link": "t1"})
				plan, err := tx.(*sqlstore.Tx).ExplainSelect(ctx, &filter.Query{DocType: thing, Where: where})
				if err != nil {
					return err
				}
				if !strings.Contains(plan, "owner_link") || !strings.Contains(strings.ToLower(plan), "index") {
					// PostgreSQL may prefer a sequential scan on a tiny table; only SQLite's plan is deterministic here.
					if opts.Store == sitetest.SQLite {
						t.Errorf("plan does not use the owner_link index:\n%s", plan)
					} else {
						t.Logf("plan on a tiny table:\n%s", plan)
					}
				}
				return nil
			})
		})
	})
}

func TestStore_Series(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		db := sitetest.OpenStore(t, opts.Store)
		next := func(key string) int64 {
			t.Helper()
			var n int64
			update(t, db, func(tx store.Tx) error {
				var err error
				n, err = tx.NextSeries(ctx, key)
				return err
			})
			return n
		}
		got := []int64{next("A-"), next("A-"), next("B-"), next("A-")}
		if diff := cmp.Diff([]int64{1, 2, 1, 3}, got); diff != "" {
			t.Errorf("series (-want +got):\n%s", diff)
		}
		// Rolled back numbers are handed out again; RevertSeries only undoes the last.
		_ = tryUpdate(db, func(tx store.Tx) error {
			if _, err := tx.NextSeries(ctx, "A-"); err != nil {
				return err
			}
			return errors.New("abort")
		})
		if n := next("A-"); n != 4 {
			t.Errorf("after a rolled-back number: %d, want 4", n)
		}
		update(t, db, func(tx store.Tx) error { return tx.RevertSeries(ctx, "A-", 3) }) // not the last: no-op
		if n := next("A-"); n != 5 {
			t.Errorf("after reverting a number that is not the last: %d, want 5", n)
		}
		update(t, db, func(tx store.Tx) error { return tx.RevertSeries(ctx, "A-", 5) })
		if n := next("A-"); n != 5 {
			t.Errorf("after reverting the last: %d, want 5 again", n)
		}

		// Concurrent transactions never share a number.
		const workers, each = 8, 25
		var mu sync.Mutex
		var nums []int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range each {
					var n int64
					err := tryUpdate(db, func(tx store.Tx) error {
						var err error
						n, err = tx.NextSeries(ctx, "C-")
						return err
					})
					if err != nil {
						t.Errorf("NextSeries: %v", err)
						return
					}
					mu.Lock()
					nums = append(nums, n)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(nums)
		for i, n := range nums {
			if n != int64(i+1) {
				t.Fatalf("concurrent series: %v…, want 1…%d without repeats or gaps", nums[:min(len(nums), i+3)], workers*each)
			}
		}
	})
}

func TestStore_SystemTables(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		db := sitetest.OpenStore(t, opts.Store)
		now := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)

		t.Run("sessions", func(t *testing.T) {
			update(t, db, func(tx store.Tx) error { return tx.CreateSession(ctx, "sid1", "a@example.com", now.Add(time.Hour)) })
			view(t, db, func(tx store.Tx) error {
				for _, c := range []struct {
					sid    string
					at     time.Time
					want   string
					wantOK bool
				}{
					{"sid1", now, "a@example.com", true},
					{"sid1", now.Add(2 * time.Hour), "", false},
					{"nope", now, "", false},
				} {
					u, ok, err := tx.SessionUser(ctx, c.sid, c.at)
					if err != nil || ok != c.wantOK || u != c.want {
						t.Errorf("SessionUser(%s, %v) = %q %v %v; want %q %v", c.sid, c.at, u, ok, err, c.want, c.wantOK)
					}
				}
				return nil
			})
			update(t, db, func(tx store.Tx) error { return tx.DeleteSession(ctx, "sid1") })
			view(t, db, func(tx store.Tx) error {
				if _, ok, err := tx.SessionUser(ctx, "sid1", now); ok || err != nil {
					t.Errorf("deleted session still live: %v %v", ok, err)
				}
				return nil
			})
		})

		t.Run("secrets", func(t *testing.T) {
			update(t, db, func(tx store.Tx) error {
				if err := tx.SetSecret(ctx, "User", "a", "api_secret", "v1:one"); err != nil {
					return err
				}
				if err := tx.SetSecret(ctx, "User", "a", "password", "hash"); err != nil {
					return err
				}
				return tx.SetSecret(ctx, "User", "a", "api_secret", "v1:two") // upsert
			})
			view(t, db, func(tx store.Tx) error {
				s, ok, err := tx.GetSecret(ctx, "User", "a", "api_secret")
				if err != nil || !ok || s != "v1:two" {
					t.Errorf("GetSecret = %q %v %v", s, ok, err)
				}
				if _, ok, err := tx.GetSecret(ctx, "User", "b", "api_secret"); ok || err != nil {
					t.Errorf("missing secret: %v %v", ok, err)
				}
				return nil
			})
			update(t, db, func(tx store.Tx) error { return tx.DeleteSecrets(ctx, "User", "a") })
			view(t, db, func(tx store.Tx) error {
				if _, ok, _ := tx.GetSecret(ctx, "User", "a", "password"); ok {
					t.Errorf("secret survives DeleteSecrets")
				}
				return nil
			})
		})

		t.Run("kv", func(t *testing.T) {
			view(t, db, func(tx store.Tx) error {
				if _, ok, err := tx.GetKV(ctx, "k"); ok || err != nil {
					t.Errorf("missing key: %v %v", ok, err)
				}
				return nil
			})
			update(t, db, func(tx store.Tx) error { return tx.SetKV(ctx, "k", "1") })
			update(t, db, func(tx store.Tx) error { return tx.SetKV(ctx, "k", "2") })
			view(t, db, func(tx store.Tx) error {
				if v, ok, err := tx.GetKV(ctx, "k"); !ok || err != nil || v != "2" {
					t.Errorf("GetKV = %q %v %v", v, ok, err)
				}
				return nil
			})
			// DeleteKVPrefix: the prefix counts in characters, not bytes.
			keys := []string{"p\x1fä\x1f1", "p\x1fä\x1f2", "p\x1fä\x1f", "p\x1fäx", "p\x1fa\x1f1", "P\x1fä\x1f1", "x"}
			update(t, db, func(tx store.Tx) error {
				for _, k := range keys {
					if err := tx.SetKV(ctx, k, "v"); err != nil {
						return err
					}
				}
				return tx.DeleteKVPrefix(ctx, "p\x1fä\x1f")
			})
			view(t, db, func(tx store.Tx) error {
				for i, k := range keys {
					_, ok, err := tx.GetKV(ctx, k)
					if want := i >= 3; ok != want || err != nil {
						t.Errorf("after DeleteKVPrefix, key %q there: %v (%v), want %v", k, ok, err, want)
					}
				}
				return nil
			})
		})

		t.Run("leases", func(t *testing.T) {
			try := func(owner string, at time.Time) bool {
				t.Helper()
				var ok bool
				update(t, db, func(tx store.Tx) error {
					var err error
					ok, err = tx.TryLease(ctx, "producer-1", owner, at, at.Add(time.Minute))
					return err
				})
				return ok
			}
			steps := []struct {
				owner string
				at    time.Time
				want  bool
			}{
				{"A", now, true},                        // free
				{"B", now.Add(30 * time.Second), false}, // held by A
				{"A", now.Add(30 * time.Second), true},  // A renews until now+90s
				{"B", now.Add(80 * time.Second), false}, // still A's
				{"B", now.Add(91 * time.Second), true},  // expired: B takes it
				{"A", now.Add(92 * time.Second), false},
			}
			for i, s := range steps {
				if got := try(s.owner, s.at); got != s.want {
					t.Errorf("step %d: %s at +%v got %v, want %v", i, s.owner, s.at.Sub(now), got, s.want)
				}
			}
		})

		t.Run("meta version", func(t *testing.T) {
			var v1, v2 int64
			view(t, db, func(tx store.Tx) error { var err error; v1, err = tx.MetaVersion(ctx); return err })
			update(t, db, func(tx store.Tx) error { return tx.BumpMetaVersion(ctx) })
			view(t, db, func(tx store.Tx) error { var err error; v2, err = tx.MetaVersion(ctx); return err })
			if v2 != v1+1 {
				t.Errorf("meta version %d then %d", v1, v2)
			}
		})

		t.Run("savepoints", func(t *testing.T) {
			kv := func(tx store.Tx, k string) bool { _, ok, _ := tx.GetKV(ctx, k); return ok }
			update(t, db, func(tx store.Tx) error {
				if err := tx.SetKV(ctx, "sp-kept", "1"); err != nil {
					return err
				}
				if err := tx.Savepoint(ctx, "sp1"); err != nil {
					return err
				}
				if err := tx.SetKV(ctx, "sp-undone", "1"); err != nil {
					return err
				}
				if err := tx.RollbackTo(ctx, "sp1"); err != nil {
					return err
				}
				if err := tx.Release(ctx, "sp1"); err != nil {
					return err
				}
				if kv(tx, "sp-undone") || !kv(tx, "sp-kept") {
					t.Errorf("inside the transaction after RollbackTo")
				}
				return nil
			})
			view(t, db, func(tx store.Tx) error {
				if kv(tx, "sp-undone") || !kv(tx, "sp-kept") {
					t.Errorf("after commit: undone %v kept %v", kv(tx, "sp-undone"), kv(tx, "sp-kept"))
				}
				return nil
			})
		})
	})
}

// asJSON turns Go literals into what decoded request JSON looks like.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// InsertRows must store every row as InsertRow would, for counts that are
// not powers of two, and fail as a whole on a duplicate name.
func TestStore_InsertRows(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		db, thing, _ := newThings(t, opts.Store)
		for _, n := range []int{0, 1, 3, 130, 301} {
			prefix := fmt.Sprintf("n%d-", n)
			rows := make([]doc.Doc, n)
			for i := range rows {
				rows[i] = doc.Doc{"name": fmt.Sprintf("%s%03d", prefix, i), "title": fmt.Sprintf("t%d", i), "qty": int64(i), "code": ""}
			}
			update(t, db, func(tx store.Tx) error { return tx.InsertRows(ctx, thing, rows) })
			view(t, db, func(tx store.Tx) error {
				got, err := tx.Select(ctx, &filter.Query{DocType: thing, Fields: []string{"name", "title", "qty"},
					Where:   []filter.Cond{{Field: "name", Op: "like", Value: prefix + "%", Kind: meta.KindText}},
					OrderBy: []filter.Order{{Field: "name"}}})
				if err != nil {
					return err
				}
				if len(got) != n {
					t.Fatalf("%d rows inserted, %d read back", n, len(got))
				}
				for i, r := range got {
					if r.Name() != rows[i].Name() || r["title"] != rows[i]["title"] || r["qty"] != rows[i]["qty"] {
						t.Errorf("row %d: got %v, want %v", i, r, rows[i])
					}
				}
				return nil
			})
		}
		// A duplicate name in a batch is DuplicateEntryError, as for one row.
		err := tryUpdate(db, func(tx store.Tx) error {
			return tx.InsertRows(ctx, thing, []doc.Doc{{"name": "dup-a"}, {"name": "n1-000"}})
		})
		if !errs.Is(err, errs.KindConflict) {
			t.Errorf("duplicate name: got %v", err)
		}
		view(t, db, func(tx store.Tx) error {
			if ok, err := tx.Exists(ctx, thing, "dup-a"); err != nil || ok {
				t.Errorf("dup-a exists=%v err=%v after a failed batch", ok, err)
			}
			return nil
		})
	})
}

// TestStore_Snapshot: a transaction begun with store.WithSnapshot reads one
// snapshot throughout, on both databases; without it, PostgreSQL's
// statements each see the latest commits (READ COMMITTED).
func TestStore_Snapshot(t *testing.T) {
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		ctx := context.Background()
		db := sitetest.OpenStore(t, opts.Store)
		for i, snapshot := range []bool{true, false} {
			key := fmt.Sprintf("snap-%d", i)
			bctx := ctx
			if snapshot {
				bctx = store.WithSnapshot(ctx)
			}
			tx, err := db.Begin(bctx, false)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok, err := tx.GetKV(ctx, key); ok || err != nil {
				t.Fatalf("%s before: %v %v", key, ok, err)
			}
			update(t, db, func(w store.Tx) error { return w.SetKV(ctx, key, "1") })
			_, seen, err := tx.GetKV(ctx, key)
			tx.Rollback()
			if err != nil {
				t.Fatal(err)
			}
			if want := !snapshot && opts.Store == sitetest.Postgres; seen != want {
				t.Errorf("snapshot %v: a commit made after the first read seen: %v, want %v", snapshot, seen, want)
			}
		}
	})
}
