package meta

import (
	"slices"
	"testing"
)

// The derived lists (value fields, table fields, columns) are cached by
// index; a definition whose Fields changed without Reindex must still be
// described correctly, and callers appending to a shared list must not
// write into the cache.
func TestDerivedListsFollowFields(t *testing.T) {
	dt := &DocType{Name: "Thing", Fields: []Field{
		{Fieldname: "title", Fieldtype: "Data"},
		{Fieldname: "sec", Fieldtype: "Section Break"},
		{Fieldname: "rows", Fieldtype: "Table", Options: "Thing Row"},
	}}
	check := func(when string, wantValue, wantTables []string) {
		t.Helper()
		var gotV, gotT []string
		for _, f := range dt.ValueFields() {
			gotV = append(gotV, f.Fieldname)
		}
		for _, f := range dt.TableFields() {
			gotT = append(gotT, f.Fieldname)
		}
		wantCols := append(append([]string(nil), StdFields...), wantValue...)
		if !slices.Equal(gotV, wantValue) || !slices.Equal(gotT, wantTables) || !slices.Equal(dt.Columns(), wantCols) {
			t.Errorf("%s: value %v tables %v columns %v; want %v %v %v", when, gotV, gotT, dt.Columns(), wantValue, wantTables, wantCols)
		}
	}
	check("never indexed", []string{"title"}, []string{"rows"})
	dt.Reindex()
	check("indexed", []string{"title"}, []string{"rows"})

	dt.Fields = append(dt.Fields, Field{Fieldname: "qty", Fieldtype: "Int"}) // no Reindex
	check("appended", []string{"title", "qty"}, []string{"rows"})
	dt.Fields = []Field{{Fieldname: "other", Fieldtype: "Data"}, {Fieldname: "n", Fieldtype: "Int"}, {Fieldname: "x", Fieldtype: "Data"}, {Fieldname: "y", Fieldtype: "Data"}}
	check("replaced", []string{"other", "n", "x", "y"}, nil)
	dt.Reindex()

	cols := dt.Columns()
	_ = append(cols, "intruder")
	vf := dt.ValueFields()
	_ = append(vf, &Field{Fieldname: "intruder"})
	check("after appends by a caller", []string{"other", "n", "x", "y"}, nil)

	c := dt.Clone()
	c.Fields[0].Fieldname = "renamed"
	c.Reindex()
	check("original after its clone changed", []string{"other", "n", "x", "y"}, nil)
}
