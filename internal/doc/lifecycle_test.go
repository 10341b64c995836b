package doc

import (
	"strings"
	"testing"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

func TestCheckInsertDocstatus(t *testing.T) {
	submittable, _ := orderMeta(t)
	plain := &meta.DocType{Name: "Note"}
	tests := []struct {
		name       string
		dt         *meta.DocType
		docstatus  any
		wantAction string
		wantExc    string
	}{
		{name: "missing is draft", dt: plain, docstatus: nil, wantAction: ActionSave},
		{name: "draft", dt: submittable, docstatus: int64(0), wantAction: ActionSave},
		{name: "submit", dt: submittable, docstatus: float64(1), wantAction: ActionSubmit},
		{name: "submit not submittable", dt: plain, docstatus: int64(1), wantExc: "DocstatusTransitionError"},
		{name: "cancelled", dt: submittable, docstatus: int64(2), wantExc: "DocstatusTransitionError"},
		{name: "out of range", dt: submittable, docstatus: int64(3), wantExc: "ValidationError"},
		{name: "not a number", dt: submittable, docstatus: "x", wantExc: "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action, err := CheckInsertDocstatus(tt.dt, Doc{"docstatus": tt.docstatus})
			if tt.wantExc != "" {
				wantErr(t, err, errs.KindValidation, tt.wantExc)
				return
			}
			if err != nil || action != tt.wantAction {
				t.Fatalf("got %q, %v; want %q", action, err, tt.wantAction)
			}
		})
	}
}

func TestCheckUpdate(t *testing.T) {
	dt, metaOf := orderMeta(t)
	draft := order(row("r1", 1, "A", 1), row("r2", 2, "B", 2))
	submitted := with(draft, "docstatus", int64(1))
	cancelled := with(draft, "docstatus", int64(2))
	tests := []struct {
		name       string
		old, new   Doc
		wantAction string
		wantExc    string
		wantMsg    string
	}{
		{name: "save", old: draft, new: with(draft, "count", int64(9)), wantAction: ActionSave},
		{name: "submit", old: draft, new: with(submitted, "count", int64(9)), wantAction: ActionSubmit},
		{name: "cancel ignores other changes, as Frappe", old: submitted, new: with(cancelled, "customer", "X", "count", int64(9)), wantAction: ActionCancel},
		{name: "draft to cancelled", old: draft, new: cancelled, wantExc: "DocstatusTransitionError", wantMsg: "from 0 (Draft) to 2 (Cancelled)"},
		{name: "submitted to draft", old: submitted, new: draft, wantExc: "DocstatusTransitionError", wantMsg: "from 1 (Submitted) to 0 (Draft)"},
		{name: "edit cancelled", old: cancelled, new: cancelled, wantExc: "ValidationError", wantMsg: "Cannot edit cancelled document"},
		{name: "set_only_once changed", old: draft, new: with(draft, "customer", "Globex"), wantExc: "CannotChangeConstantError", wantMsg: "Value cannot be changed for Customer"},
		{name: "set_only_once changed from empty", old: with(draft, "customer", nil), new: draft, wantExc: "CannotChangeConstantError"},
		{name: "set_only_once canonical equality", old: with(draft, "customer", nil), new: with(draft, "customer", ""), wantAction: ActionSave},
		{name: "update after submit: allowed field", old: submitted, new: with(submitted, "status", "Closed"), wantAction: ActionUpdateAfterSubmit},
		{name: "update after submit: other field", old: submitted, new: with(submitted, "total", 3.0), wantExc: "UpdateAfterSubmitError", wantMsg: "Not allowed to change Total after submission from 10.5 to 3"},
		{
			name:       "update after submit: allowed child field and reorder",
			old:        submitted,
			new:        with(submitted, "items", []Doc{with(row("r2", 1, "B", 2), "note", "x"), with(row("r1", 2, "A", 1))}),
			wantAction: ActionUpdateAfterSubmit,
		},
		{
			name: "update after submit: child field", old: submitted,
			new:     with(submitted, "items", []Doc{row("r1", 1, "A", 1), row("r2", 2, "B", 5)}),
			wantExc: "UpdateAfterSubmitError", wantMsg: "Row #2: Not allowed to change Qty after submission from 2 to 5",
		},
		{
			name: "update after submit: added row", old: submitted,
			new:     with(submitted, "items", []Doc{row("r1", 1, "A", 1), row("r2", 2, "B", 2), row("r3", 3, "C", 1)}),
			wantExc: "UpdateAfterSubmitError", wantMsg: "Row #3: Not allowed to add rows to Items",
		},
		{
			name: "update after submit: removed row", old: submitted,
			new:     with(submitted, "items", []Doc{row("r1", 1, "A", 1)}),
			wantExc: "UpdateAfterSubmitError", wantMsg: "Not allowed to remove rows from Items",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action, err := CheckUpdate(dt, metaOf, tt.old, tt.new)
			if tt.wantExc != "" {
				e := wantErr(t, err, errs.KindValidation, tt.wantExc)
				if !strings.Contains(e.Message, tt.wantMsg) {
					t.Errorf("message %q does not contain %q", e.Message, tt.wantMsg)
				}
				return
			}
			if err != nil || action != tt.wantAction {
				t.Fatalf("got %q, %v; want %q", action, err, tt.wantAction)
			}
		})
	}
}

func TestCheckUpdateTables(t *testing.T) {
	child := &meta.DocType{Name: "Line", IsTable: true, Fields: []meta.Field{{Fieldname: "v", Label: "V", Fieldtype: "Data"}}}
	dt := &meta.DocType{Name: "Box", IsSubmittable: true, Fields: []meta.Field{
		{Fieldname: "fixed", Label: "Fixed", Fieldtype: "Table", Options: "Line", SetOnlyOnce: true},
		{Fieldname: "open", Label: "Open", Fieldtype: "Table", Options: "Line", AllowOnSubmit: true},
	}}
	metaOf := metaFuncOf(child, dt)
	line := func(name string, idx int64, v string) Doc { return Doc{"name": name, "idx": idx, "v": v} }
	base := Doc{"docstatus": int64(1), "fixed": []Doc{line("a", 1, "x")}, "open": []Doc{line("b", 1, "y")}}
	tests := []struct {
		name    string
		new     Doc
		wantExc string
	}{
		{name: "unchanged", new: base.Clone()},
		{name: "rows added to and removed from an allow_on_submit table", new: with(base, "open", []Doc{line("c", 1, "z")})},
		{name: "kept row of an allow_on_submit table still checks fields", new: with(base, "open", []Doc{line("b", 1, "changed")}), wantExc: "UpdateAfterSubmitError"},
		{name: "set_only_once table reordered", new: with(base, "fixed", []Doc{line("a", 2, "x")}), wantExc: "CannotChangeConstantError"},
		{name: "set_only_once table value", new: with(base, "fixed", []Doc{line("a", 1, "q")}), wantExc: "CannotChangeConstantError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckUpdate(dt, metaOf, base, tt.new)
			if tt.wantExc == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, errs.KindValidation, tt.wantExc)
		})
	}
}
