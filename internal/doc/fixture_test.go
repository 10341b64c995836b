package doc

import (
	"errors"
	"testing"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

// orderMeta is a small submittable parent with one child table, used by the
// table-driven tests.
func orderMeta(t testing.TB) (*meta.DocType, MetaFunc) {
	t.Helper()
	child := &meta.DocType{Name: "Order Item", IsTable: true, Fields: []meta.Field{
		{Fieldname: "item_code", Label: "Item Code", Fieldtype: "Data", Reqd: true},
		{Fieldname: "qty", Label: "Qty", Fieldtype: "Float", NonNegative: true},
		{Fieldname: "uom", Label: "UOM", Fieldtype: "Select", Options: "Nos\nKg"},
		{Fieldname: "note", Label: "Note", Fieldtype: "Data", AllowOnSubmit: true},
	}}
	parent := &meta.DocType{Name: "Order", IsSubmittable: true, Fields: []meta.Field{
		{Fieldname: "customer", Label: "Customer", Fieldtype: "Data", Reqd: true, SetOnlyOnce: true},
		{Fieldname: "sb1", Fieldtype: "Section Break"},
		{Fieldname: "count", Label: "Count", Fieldtype: "Int"},
		{Fieldname: "total", Label: "Total", Fieldtype: "Float", NonNegative: true},
		{Fieldname: "paid", Label: "Paid", Fieldtype: "Check"},
		{Fieldname: "date", Label: "Date", Fieldtype: "Date"},
		{Fieldname: "status", Label: "Status", Fieldtype: "Select", Options: "Draft\nOpen\nClosed", AllowOnSubmit: true},
		{Fieldname: "items", Label: "Items", Fieldtype: "Table", Options: "Order Item"},
	}}
	for _, dt := range []*meta.DocType{child, parent} {
		if err := dt.Validate(); err != nil {
			t.Fatalf("fixture %s: %v", dt.Name, err)
		}
	}
	return parent, metaFuncOf(child, parent)
}

func metaFuncOf(dts ...*meta.DocType) MetaFunc {
	return func(name string) (*meta.DocType, error) {
		for _, dt := range dts {
			if dt.Name == name {
				return dt, nil
			}
		}
		return nil, errs.NotFound("DocType %s not found", name)
	}
}

// row builds a saved child row of Order.
func row(name string, idx int64, code string, qty float64) Doc {
	return Doc{"name": name, "idx": idx, "item_code": code, "qty": qty, "uom": "Nos", "note": nil,
		"parent": "ORD-1", "parentfield": "items", "parenttype": "Order", "doctype": "Order Item", "docstatus": int64(0)}
}

// order builds a saved Order with the given rows.
func order(rows ...Doc) Doc {
	return Doc{"name": "ORD-1", "doctype": "Order", "docstatus": int64(0), "owner": "a@x", "modified": "2025-01-10 09:00:00.000000",
		"customer": "ACME", "count": int64(2), "total": 10.5, "paid": int64(0), "date": "2025-01-10", "status": "Draft",
		"items": append([]Doc{}, rows...)}
}

// with returns a copy of d with the given fields set.
func with(d Doc, kv ...any) Doc {
	c := d.Clone()
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

// wantErr checks that err is an *errs.Error of the given kind and exc type
// ("" skips the exc type check).
func wantErr(t *testing.T, err error, kind errs.Kind, exc string) *errs.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", exc)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *errs.Error", err, err)
	}
	if e.Kind != kind || (exc != "" && e.ExcType != exc) {
		t.Fatalf("error %q: kind %d exc %q, want kind %d exc %q", e.Message, e.Kind, e.ExcType, kind, exc)
	}
	return e
}
