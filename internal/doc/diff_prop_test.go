package doc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"docstream/internal/meta"
)

// propSchema is a random parent DocType with one child table.
type propSchema struct {
	parent, child *meta.DocType
	metaOf        MetaFunc
}

var propFieldtypes = []string{"Data", "Int", "Float", "Check", "Date", "Select"}

func genFields(t *rapid.T, prefix string, minN, maxN int) []meta.Field {
	n := rapid.IntRange(minN, maxN).Draw(t, prefix+"_count")
	var fields []meta.Field
	for i := range n {
		ft := rapid.SampledFrom(propFieldtypes).Draw(t, prefix+"_type")
		f := meta.Field{Fieldname: fmt.Sprintf("%s%d", prefix, i), Fieldtype: ft}
		if ft == "Select" {
			f.Options = "\nA\nB\nC"
		}
		fields = append(fields, f)
		if rapid.Bool().Draw(t, prefix+"_break") {
			fields = append(fields, meta.Field{Fieldname: fmt.Sprintf("%s_sb%d", prefix, i), Fieldtype: "Section Break"})
		}
	}
	return fields
}

func genSchema(t *rapid.T) propSchema {
	child := &meta.DocType{Name: "Prop Row", IsTable: true, Fields: genFields(t, "c", 2, 3)}
	fields := genFields(t, "f", 1, 5)
	at := rapid.IntRange(0, len(fields)).Draw(t, "table_at")
	table := meta.Field{Fieldname: "rows", Fieldtype: "Table", Options: child.Name}
	fields = slices.Insert(fields, at, table)
	parent := &meta.DocType{Name: "Prop Doc", IsSubmittable: true, Fields: fields}
	for _, dt := range []*meta.DocType{child, parent} {
		if err := dt.Validate(); err != nil {
			t.Fatalf("generated %s: %v", dt.Name, err)
		}
	}
	return propSchema{parent: parent, child: child, metaOf: metaFuncOf(child, parent)}
}

// genValue draws a value of fieldtype ft, in the several equivalent forms a
// stored or decoded document can hold (nil vs "", int64 vs float64).
func genValue(t *rapid.T, ft, label string) any {
	var choices *rapid.Generator[any]
	switch ft {
	case "Data":
		choices = rapid.OneOf(rapid.SampledFrom([]any{nil, "", "a", "b", "a b", "ü"}), rapid.Map(rapid.StringN(0, 6, -1), func(s string) any { return strings.ReplaceAll(s, "\x00", "") }) /* NUL is refused on input */)
	case "Int":
		choices = rapid.OneOf(rapid.Just[any](nil), rapid.Map(rapid.Int64Range(-3, 3), func(i int64) any { return i }),
			rapid.Map(rapid.Int64Range(-3, 3), func(i int64) any { return float64(i) }))
	case "Float":
		choices = rapid.OneOf(rapid.Just[any](nil), rapid.Map(rapid.Int64Range(-3, 3), func(i int64) any { return i }),
			rapid.Map(rapid.Float64Range(-1e6, 1e6), func(f float64) any { return f }))
	case "Check":
		choices = rapid.SampledFrom([]any{nil, int64(0), int64(1)})
	case "Date":
		choices = rapid.SampledFrom([]any{nil, "", "2025-01-01", "2025-01-02", "2024-02-29"})
	case "Select":
		choices = rapid.SampledFrom([]any{nil, "", "A", "B", "C"})
	default:
		t.Fatalf("no generator for %s", ft)
	}
	return choices.Draw(t, label)
}

func fillValues(t *rapid.T, dt *meta.DocType, d Doc) {
	for _, f := range dt.ValueFields() {
		if rapid.IntRange(0, 5).Draw(t, "omit") == 0 {
			delete(d, f.Fieldname) // a missing key must behave like nil
			continue
		}
		d[f.Fieldname] = genValue(t, f.Fieldtype, f.Fieldname)
	}
}

func genRow(t *rapid.T, s propSchema, name string) Doc {
	r := Doc{"name": name, "parent": "DOC-1", "parentfield": "rows", "parenttype": s.parent.Name, "doctype": s.child.Name, "docstatus": int64(0)}
	fillValues(t, s.child, r)
	return r
}

// renumber sets strictly increasing idx values, sometimes with gaps, as a
// store does after a save (Frappe keeps client idx values, gaps included).
func renumber(t *rapid.T, rows []Doc) {
	idx := int64(0)
	gaps := rapid.Bool().Draw(t, "gaps")
	for _, r := range rows {
		idx++
		if gaps {
			idx += rapid.Int64Range(0, 2).Draw(t, "gap")
		}
		r["idx"] = idx
	}
}

func genOld(t *rapid.T, s propSchema) Doc {
	d := Doc{"name": "DOC-1", "doctype": s.parent.Name, "docstatus": rapid.Int64Range(0, 2).Draw(t, "docstatus")}
	fillValues(t, s.parent, d)
	var rows []Doc
	for i := range rapid.IntRange(0, 5).Draw(t, "nrows") {
		rows = append(rows, genRow(t, s, fmt.Sprintf("r%d", i)))
	}
	renumber(t, rows)
	d["rows"] = rows
	return d
}

// genEdit changes fields, docstatus and rows of old: remove, change, add and
// reorder rows.
func genEdit(t *rapid.T, s propSchema, old Doc) Doc {
	n := old.Clone()
	for _, f := range s.parent.ValueFields() {
		if rapid.Bool().Draw(t, "edit_"+f.Fieldname) {
			n[f.Fieldname] = genValue(t, f.Fieldtype, f.Fieldname)
		}
	}
	if rapid.Bool().Draw(t, "edit_docstatus") {
		n["docstatus"] = rapid.Int64Range(0, 2).Draw(t, "new_docstatus")
	}
	var rows []Doc
	for _, r := range n.Rows("rows") {
		switch rapid.IntRange(0, 2).Draw(t, "row_action") {
		case 0: // remove
			continue
		case 1: // change some values
			for _, f := range s.child.ValueFields() {
				if rapid.Bool().Draw(t, "edit_row_"+f.Fieldname) {
					r[f.Fieldname] = genValue(t, f.Fieldtype, f.Fieldname)
				}
			}
		}
		rows = append(rows, r)
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "nadd") {
		rows = append(rows, genRow(t, s, fmt.Sprintf("n%d", i)))
	}
	rows = rapid.Permutation(rows).Draw(t, "order")
	renumber(t, rows)
	n["rows"] = rows
	return n
}

// canonical is the comparable content of a document: canonical field values,
// docstatus, and rows in order with their names, idx and canonical values.
func canonical(t *rapid.T, s propSchema, d Doc) map[string]any {
	out := map[string]any{"docstatus": docstatusOf(d)}
	values := func(dt *meta.DocType, d Doc, into map[string]any) {
		for _, f := range dt.ValueFields() {
			v, err := Coerce(f, d[f.Fieldname])
			if err != nil {
				t.Fatalf("%s: %v", f.Fieldname, err)
			}
			if v == nil {
				v = "" // nil and "" are the same text value
			}
			into[f.Fieldname] = v
		}
	}
	values(s.parent, d, out)
	var rows []map[string]any
	for _, r := range d.Rows("rows") {
		cr := map[string]any{"name": r.Name(), "idx": rowIdx(r)}
		values(s.child, r, cr)
		rows = append(rows, cr)
	}
	out["rows"] = rows
	return out
}

func TestDiffApplyProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSchema(t)
		old := genOld(t, s)
		new := genEdit(t, s, old)
		for _, d := range []Doc{old, new} {
			if u, err := Diff(s.parent, s.metaOf, d, d.Clone()); err != nil || !u.Empty() {
				t.Fatalf("Diff(x, x) = %+v, %v; want empty", u, err)
			}
		}
		oldCopy := old.Clone()
		u, err := Diff(s.parent, s.metaOf, old, new)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Apply(s.parent, old, u)
		if err != nil {
			t.Fatalf("Apply: %v\nupdate: %+v", err, u)
		}
		if diff := cmp.Diff(canonical(t, s, new), canonical(t, s, got)); diff != "" {
			t.Fatalf("Apply(old, Diff(old, new)) != new (-new +got):\n%s\nupdate: %+v", diff, u)
		}
		if diff := cmp.Diff(oldCopy, old, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Diff/Apply modified old:\n%s", diff)
		}
		if again, err := Diff(s.parent, s.metaOf, new, got); err != nil || !again.Empty() {
			t.Fatalf("Diff(new, applied) = %+v, %v; want empty", again, err)
		}

		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := DecodeUpdate(b)
		if err != nil {
			t.Fatalf("DecodeUpdate(%s): %v", b, err)
		}
		got2, err := Apply(s.parent, old, decoded)
		if err != nil {
			t.Fatalf("Apply(decoded): %v", err)
		}
		if diff := cmp.Diff(canonical(t, s, got), canonical(t, s, got2)); diff != "" {
			t.Fatalf("JSON round trip changes the result (-in-memory +decoded):\n%s\njson: %s", diff, b)
		}
	})
}

func FuzzDecodeUpdate(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"changed":{"customer":"X","docstatus":1},"added":{},"removed":{},"row_changed":{}}`,
		`{"added":{"items":[{"name":"r9","idx":1,"qty":2.5}]},"removed":{"items":["r1","zz"]}}`,
		`{"row_changed":{"items":[{"name":"r1","idx":3,"qty":1e3}]}}`,
		`{"row_changed":{"items":{"r1":{"uom":"Kg"}}}}`,
		`{"changed":{"items":[{"name":"x"}],"total":[1,"a",null]}}`,
		`{"removed":{"nosuch":[1]}}`,
		`[{"changed":null}]`,
	} {
		f.Add([]byte(seed))
	}
	dt, _ := orderMeta(f)
	local := order(row("r1", 1, "A", 1), row("r2", 2, "B", 2))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := DecodeUpdate(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatalf("decoded update does not marshal: %v", err)
		}
		if _, err := DecodeUpdate(b); err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		_, _ = Apply(dt, local, u)
	})
}
