package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

func mustMeta(t *testing.T, def string) *meta.DocType {
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
func update(t *testing.T, db *sqlstore.DB, f func(tx store.Tx) error) {
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
			row := doc.Doc{"ref_doctype": "Note", "docname": fmt.Sprintf("n-%04d", logged.Add(1))}
			err := tryUpdate(db, func(tx store.Tx) error {
				var err error
				seq, err = tx.InsertUpdateLog(ctx, eul, row, now)
				return err
			})
			if err != nil {
				return 0, time.Time{}, err
			}
			if row.Int("seq") != seq || row.Name() != doc.UpdateLogName(seq) || row.Str("modified") != row.Str("creation") {
				t.Errorf("row after InsertUpdateLog: %v, seq %d", row, seq)
			}
			if creation, err = time.ParseInLocation(doc.DatetimeLayout, row.Str("creation"), now.Location()); err != nil {
				return 0, time.Time{}, err
			}
			view(t, db, func(tx store.Tx) error {
				got, err := tx.GetRow(ctx, eul, doc.UpdateLogName(seq), false)
				if err != nil || got == nil || got.Str("creation") != row.Str("creation") || got.Str("docname") != row.Str("docname") {
					t.Errorf("log %d as stored: %v %v, want %v", seq, got, err, row)
				}
				return nil
			})
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
		seq, err := tx.InsertUpdateLog(ctx, eul, doc.Doc{"ref_doctype": "Note"}, time.Now())
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
