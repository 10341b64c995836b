package doc

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"docstream/internal/errs"
)

func TestDiff(t *testing.T) {
	dt, metaOf := orderMeta(t)
	r1, r2, r3 := row("r1", 1, "A", 1), row("r2", 2, "B", 2), row("r3", 3, "C", 3)
	base := order(r1, r2, r3)
	tests := []struct {
		name string
		old  Doc
		new  Doc
		want Update
	}{
		{name: "identical", old: base, new: base.Clone(), want: Update{}},
		{
			name: "value fields",
			old:  base,
			new:  with(base, "customer", "Globex", "count", int64(3), "paid", int64(1), "date", nil),
			want: Update{Changed: map[string]any{"customer": "Globex", "count": int64(3), "paid": int64(1), "date": nil}},
		},
		{
			name: "canonical equality is not a change",
			old:  with(base, "total", float64(2), "count", nil, "status", nil, "date", "2025-01-10"),
			new:  with(base, "total", int64(2), "count", int64(0), "status", "", "date", "2025-01-10 00:00:00"),
			want: Update{},
		},
		{
			name: "standard and layout fields are ignored",
			old:  base,
			new:  with(base, "modified", "2026-01-01 00:00:00.000000", "owner", "b@x", "name", "ORD-2", "sb1", "x", "idx", int64(4), "_assign", "[]"),
			want: Update{},
		},
		{
			name: "docstatus",
			old:  base,
			new:  with(base, "docstatus", float64(1)),
			want: Update{Changed: map[string]any{"docstatus": int64(1)}},
		},
		{
			name: "row added as a full row",
			old:  base,
			new:  with(base, "items", []Doc{r1, r2, r3, {"name": "r4", "item_code": "D"}}),
			want: Update{Added: map[string][]Doc{"items": {{
				"name": "r4", "idx": int64(4), "item_code": "D", "qty": nil, "uom": nil, "note": nil,
				"parent": "ORD-1", "parentfield": "items", "parenttype": "Order", "doctype": "Order Item", "docstatus": int64(0),
			}}}},
		},
		{
			name: "row removed",
			old:  base,
			new:  with(base, "items", []Doc{r1, with(r3, "idx", int64(2))}),
			want: Update{Removed: map[string][]string{"items": {"r2"}}, RowChanged: map[string][]Doc{"items": {{"name": "r3", "idx": int64(2)}}}},
		},
		{
			name: "row changed",
			old:  base,
			new:  with(base, "items", []Doc{r1, with(r2, "qty", 5.0, "modified", "x", "docstatus", int64(1)), r3}),
			want: Update{RowChanged: map[string][]Doc{"items": {{"name": "r2", "qty": 5.0}}}},
		},
		{
			name: "rows reordered",
			old:  base,
			new:  with(base, "items", []Doc{with(r3, "idx", int64(1)), with(r1, "idx", int64(2)), with(r2, "idx", int64(3))}),
			want: Update{RowChanged: map[string][]Doc{"items": {
				{"name": "r3", "idx": int64(1)}, {"name": "r1", "idx": int64(2)}, {"name": "r2", "idx": int64(3)},
			}}},
		},
		{
			name: "table emptied",
			old:  base,
			new:  with(base, "items", nil),
			want: Update{Removed: map[string][]string{"items": {"r1", "r2", "r3"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Diff(dt, metaOf, tt.old, tt.new)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if got.Empty() != (tt.want.Empty()) {
				t.Errorf("Empty() = %v", got.Empty())
			}
		})
	}
}

func TestDiffErrors(t *testing.T) {
	dt, metaOf := orderMeta(t)
	base := order(row("r1", 1, "A", 1))
	tests := []struct {
		name    string
		metaOf  MetaFunc
		old     Doc
		new     Doc
		wantMsg string
	}{
		{name: "unnamed row", metaOf: metaOf, old: base, new: with(base, "items", []Doc{{"item_code": "X"}}), wantMsg: "row #1 has no name"},
		{name: "duplicate row", metaOf: metaOf, old: with(base, "items", []Doc{row("r1", 1, "A", 1), row("r1", 2, "B", 1)}), new: base, wantMsg: `"r1" appears more than once`},
		{name: "rows not a list", metaOf: metaOf, old: base, new: with(base, "items", "nope"), wantMsg: "expected a list of rows"},
		{name: "child meta missing", metaOf: metaFuncOf(), old: base, new: base, wantMsg: "Order Item not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Diff(dt, tt.metaOf, tt.old, tt.new)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestApply(t *testing.T) {
	dt, _ := orderMeta(t)
	r1, r2, r3 := row("r1", 1, "A", 1), row("r2", 2, "B", 2), row("r3", 3, "C", 3)
	local := order(r1, r2, r3)
	tests := []struct {
		name string
		u    Update
		want Doc
	}{
		{name: "empty", u: Update{}, want: local},
		{
			name: "changed fields and docstatus, rows inherit docstatus",
			u:    Update{Changed: map[string]any{"customer": "Globex", "docstatus": float64(1)}},
			want: with(local, "customer", "Globex", "docstatus", int64(1), "items", []Doc{
				with(r1, "docstatus", int64(1)), with(r2, "docstatus", int64(1)), with(r3, "docstatus", int64(1))}),
		},
		{
			name: "standard and unknown keys in changed are ignored",
			u:    Update{Changed: map[string]any{"name": "ORD-9", "owner": "evil", "nosuch": 1, "sb1": "x"}},
			want: local,
		},
		{
			name: "removed, including a row already missing",
			u:    Update{Removed: map[string][]string{"items": {"r2", "gone"}}},
			want: with(local, "items", []Doc{r1, r3}),
		},
		{
			name: "row_changed with a move",
			u:    Update{RowChanged: map[string][]Doc{"items": {{"name": "r3", "idx": int64(1), "qty": 9.0, "parent": "X"}, {"name": "r1", "idx": int64(2)}, {"name": "r2", "idx": int64(3)}}}},
			want: with(local, "items", []Doc{with(r3, "idx", int64(1), "qty", 9.0), with(r1, "idx", int64(2)), with(r2, "idx", int64(3))}),
		},
		{
			name: "added rows are re-parented; an existing name is replaced",
			u: Update{Added: map[string][]Doc{"items": {
				with(r2, "qty", 7.0, "parent", "REMOTE-1"),
				{"name": "r4", "idx": int64(4), "item_code": "D", "parent": "REMOTE-1"},
				{"item_code": "E"},
			}}},
			want: with(local, "items", []Doc{r1, with(r2, "qty", 7.0), r3,
				{"name": "r4", "idx": int64(4), "item_code": "D", "parent": "ORD-1", "parentfield": "items", "parenttype": "Order", "doctype": "Order Item"},
				{"idx": int64(5), "item_code": "E", "parent": "ORD-1", "parentfield": "items", "parenttype": "Order", "doctype": "Order Item"},
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := local.Clone()
			got, err := Apply(dt, local, tt.u)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, local); diff != "" {
				t.Errorf("Apply modified its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	dt, _ := orderMeta(t)
	local := order(row("r1", 1, "A", 1))
	tests := []struct {
		name    string
		u       Update
		wantMsg string
	}{
		{name: "row_changed for a missing row", u: Update{RowChanged: map[string][]Doc{"items": {{"name": "zz", "qty": 1.0}}}}, wantMsg: "row zz of items does not exist locally"},
		{name: "row_changed without name", u: Update{RowChanged: map[string][]Doc{"items": {{"qty": 1.0}}}}, wantMsg: "has no name"},
		{name: "unknown table in added", u: Update{Added: map[string][]Doc{"lines": {{"name": "x"}}}}, wantMsg: `"lines" is not a table`},
		{name: "value field as table", u: Update{Removed: map[string][]string{"customer": {"x"}}}, wantMsg: `"customer" is not a table`},
		{name: "table in changed", u: Update{Changed: map[string]any{"items": []Doc{}}}, wantMsg: `table "items" cannot be set`},
		{name: "bad docstatus", u: Update{Changed: map[string]any{"docstatus": "one"}}, wantMsg: "docstatus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Apply(dt, local, tt.u)
			e := wantErr(t, err, errs.KindValidation, "ValidationError")
			if !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.wantMsg)
			}
		})
	}
}

// TestSharedMetaConcurrently runs the package's entry points on one DocType
// from many goroutines, as the metadata cache shares them; run with -race.
func TestSharedMetaConcurrently(t *testing.T) {
	dt, metaOf := orderMeta(t)
	old := order(row("r1", 1, "A", 1), row("r2", 2, "B", 2))
	new := with(old, "count", int64(5), "items", []Doc{with(row("r2", 1, "B", 3)), row("r3", 2, "C", 1)})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			u, err := Diff(dt, metaOf, old, new)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := Apply(dt, old, u); err != nil {
				t.Error(err)
			}
			if err := CheckValues(dt, metaOf, new); err != nil {
				t.Error(err)
			}
			if _, err := CheckUpdate(dt, metaOf, old, with(new, "customer", "ACME")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
