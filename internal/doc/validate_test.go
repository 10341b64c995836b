package doc

import (
	"strings"
	"testing"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

func TestCheckValues(t *testing.T) {
	dt, metaOf := orderMeta(t)
	good := order(row("r1", 1, "A", 1), row("r2", 2, "B", 0))
	tests := []struct {
		name    string
		d       Doc
		exc     string // "" means valid
		wantMsg string
	}{
		{name: "valid", d: good},
		{name: "zero, empty select and empty table are fine when not reqd", d: with(good, "count", int64(0), "status", "", "items", nil)},
		{
			name: "all missing fields listed, rows by idx",
			d: with(good, "customer", " <p> </p> ", "items", []Doc{
				with(row("r1", 1, "A", 1), "item_code", nil),
				row("r2", 2, "B", 1),
				with(row("r3", 0, "", 1), "idx", nil),
			}),
			exc:     "MandatoryError",
			wantMsg: "Value missing for Order: Customer, Row #1: Item Code, Row #3: Item Code",
		},
		{name: "mandatory before other checks", d: with(good, "customer", nil, "status", "Bogus"), exc: "MandatoryError"},
		{name: "bad select", d: with(good, "status", "Bogus"), exc: "ValidationError", wantMsg: `Status cannot be "Bogus". It should be one of "Draft", "Open", "Closed"`},
		{name: "select value is trimmed", d: with(good, "status", " Open ")},
		{name: "bad select in row", d: with(good, "items", []Doc{with(row("r1", 4, "A", 1), "uom", "Litre")}), exc: "ValidationError", wantMsg: `Row #4: UOM cannot be "Litre"`},
		{name: "negative", d: with(good, "total", -0.5), exc: "NonNegativeError", wantMsg: "Value cannot be negative for Order: Total"},
		{name: "negative in row", d: with(good, "items", []Doc{row("r1", 2, "A", -1)}), exc: "NonNegativeError", wantMsg: "Order Item Row #2: Value cannot be negative for Qty"},
		{name: "negative allowed without non_negative", d: with(good, "count", int64(-3))},
		{name: "length", d: with(good, "customer", strings.Repeat("é", 141)), exc: "CharacterLengthExceededError", wantMsg: "Order ORD-1: 'Customer' ("},
		{name: "length exactly at limit", d: with(good, "customer", strings.Repeat("é", 140))},
		{name: "length in row", d: with(good, "items", []Doc{row("r1", 1, strings.Repeat("x", 141), 1)}), exc: "CharacterLengthExceededError", wantMsg: "Order Item, Row 1: 'Item Code'"},
		{name: "int range", d: with(good, "count", int64(1)<<31), exc: "CharacterLengthExceededError", wantMsg: "max characters allowed is 2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckValues(dt, metaOf, tt.d)
			if tt.exc == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			e := wantErr(t, err, errs.KindValidation, tt.exc)
			if !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.wantMsg)
			}
		})
	}
}

func TestCheckValuesSpecialCases(t *testing.T) {
	child := &meta.DocType{Name: "Tax", IsTable: true, Fields: []meta.Field{{Fieldname: "rate", Label: "Rate", Fieldtype: "Float", Reqd: true}, {Fieldname: "account", Label: "Account", Fieldtype: "Data", Reqd: true}}}
	dt := &meta.DocType{Name: "Invoice", Fields: []meta.Field{
		{Fieldname: "naming_series", Fieldtype: "Select", Options: "INV-.###\nSINV-.###"},
		{Fieldname: "agree", Label: "Agree", Fieldtype: "Check", Reqd: true},
		{Fieldname: "qty", Label: "Qty", Fieldtype: "Int", Reqd: true},
		{Fieldname: "blank_select", Fieldtype: "Select", Options: "\n\n"},
		{Fieldname: "memo", Fieldtype: "Small Text", Length: 5},
		{Fieldname: "code", Label: "Code", Fieldtype: "Data", Length: 3},
		{Fieldname: "taxes", Label: "Taxes", Fieldtype: "Table", Options: "Tax", Reqd: true},
		{Fieldname: "other", Label: "Other", Fieldtype: "Table", Options: "Tax"},
	}}
	metaOf := metaFuncOf(child, dt)
	tests := []struct {
		name, exc, wantMsg string
		d                  Doc
	}{
		{name: "naming_series and empty-option selects are exempt; Check and 0 are never missing", d: Doc{
			"naming_series": "custom.####", "agree": int64(0), "qty": int64(0), "blank_select": "x",
			"memo": "longer than five", "code": "abc",
			"taxes": []Doc{{"name": "t1", "idx": int64(1), "rate": 0.0, "account": "A"}},
		}},
		{name: "length set on a Data field", exc: "CharacterLengthExceededError", wantMsg: "'Code' (abcd) will get truncated, as max characters allowed is 3", d: Doc{
			"qty": int64(1), "code": "abcd", "taxes": []Doc{{"name": "t1", "idx": int64(1), "rate": 0.0, "account": "A"}},
		}},
		{name: "empty reqd table; several tables are named", exc: "MandatoryError", wantMsg: "Value missing for Invoice: Qty, Taxes, Other Row #1: Account", d: Doc{
			"taxes": []Doc{}, "other": []Doc{{"name": "o1", "idx": int64(1), "rate": 1.0}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckValues(dt, metaOf, tt.d)
			if tt.exc == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := wantErr(t, err, errs.KindValidation, tt.exc)
			if !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.wantMsg)
			}
		})
	}
	if err := CheckValues(dt, metaFuncOf(dt), Doc{}); err == nil || !strings.Contains(err.Error(), "Tax not found") {
		t.Errorf("missing child meta: err = %v", err)
	}
}
