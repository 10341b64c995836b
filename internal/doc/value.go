package doc

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

// MetaFunc looks up a DocType by name; the diff, apply and validation code
// uses it to reach the child DocType of a Table field.
type MetaFunc func(doctype string) (*meta.DocType, error)

// rowIdentity are the child-row keys that say where a row lives. A diff may
// never move a row to another parent or table, so Apply does not copy them
// from row_changed entries.
var rowIdentity = map[string]bool{"name": true, "parent": true, "parentfield": true, "parenttype": true, "doctype": true}

// isStdKey reports whether fieldname is a standard column (or the doctype
// pseudo-key); such keys never take part in a diff (Frappe get_update skips
// them because they are not DocFields).
func isStdKey(fieldname string) bool {
	switch fieldname {
	case "name", "owner", "creation", "modified", "modified_by", "docstatus", "idx",
		"parent", "parentfield", "parenttype", "doctype":
		return true
	}
	return false
}

// hasValue reports whether f is a field that holds a scalar value in the
// document's own row (not layout, not a table, not a standard column).
func hasValue(f *meta.Field) bool {
	k := f.Kind()
	return f.Fieldname != "" && k != meta.KindNone && k != meta.KindTable && !isStdKey(f.Fieldname)
}

// sameValue compares two values of field f canonically, so that storage
// round trips do not show up as changes: int64 1 equals float64 1.0, nil
// equals "" for text kinds and 0 for numeric kinds, and dates compare after
// parsing. Frappe compares with a plain Python != (event_update_log.get_update),
// which streams noise such as None → ""; we deliberately do not.
func sameValue(f *meta.Field, a, b any) bool {
	switch f.Kind() {
	case meta.KindCheck:
		return Checked(a) == Checked(b)
	case meta.KindInt, meta.KindFloat:
		x, okx := toNum(a)
		y, oky := toNum(b)
		if okx && oky {
			return x.equal(y)
		}
	case meta.KindText, meta.KindDate, meta.KindDatetime, meta.KindTime:
		x, okx := canonText(f, a)
		y, oky := canonText(f, b)
		if okx && oky {
			return x == y
		}
	}
	return reflect.DeepEqual(a, b)
}

// num is a number that remembers whether it was an exact integer, so that
// large int64 values are not compared through float64.
type num struct {
	i     int64
	f     float64
	isInt bool
}

func (x num) float() float64 {
	if x.isInt {
		return float64(x.i)
	}
	return x.f
}

func (x num) equal(y num) bool {
	if x.isInt && y.isInt {
		return x.i == y.i
	}
	a, b := x.float(), y.float()
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

// toNum reads a numeric value; nil and "" are 0, as Frappe's cint/flt make them.
func toNum(v any) (num, bool) {
	switch x := v.(type) {
	case nil:
		return num{isInt: true}, true
	case int64:
		return num{i: x, isInt: true}, true
	case int:
		return num{i: int64(x), isInt: true}, true
	case float64:
		return num{f: x}, true
	case bool:
		if x {
			return num{i: 1, isInt: true}, true
		}
		return num{isInt: true}, true
	case json.Number:
		return parseNum(x.String())
	case string:
		return parseNum(x)
	}
	return num{}, false
}

func parseNum(s string) (num, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return num{isInt: true}, true
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return num{i: i, isInt: true}, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return num{f: f}, true
	}
	return num{}, false
}

// toInt64 reads an integral value such as docstatus or idx.
func toInt64(v any) (int64, bool) {
	n, ok := toNum(v)
	if !ok {
		return 0, false
	}
	if n.isInt {
		return n.i, true
	}
	if n.f != math.Trunc(n.f) || math.Abs(n.f) > 1<<62 {
		return 0, false
	}
	return int64(n.f), true
}

// canonText is the comparable text of a text, date or time value: nil is ""
// and dates are reformatted by Coerce. A value Coerce rejects compares as is.
func canonText(f *meta.Field, v any) (string, bool) {
	if v == nil {
		return "", true
	}
	c, err := Coerce(f, v)
	if err != nil {
		s, ok := v.(string)
		return s, ok
	}
	if c == nil {
		return "", true
	}
	s, ok := c.(string)
	return s, ok
}

// docstatusOf reads a document's docstatus; a missing one is 0 (Frappe set_docstatus).
func docstatusOf(d Doc) int64 {
	n, _ := toInt64(d["docstatus"])
	return n
}

// rowIdx reads a child row's idx; 0 means "not numbered yet".
func rowIdx(r Doc) int64 {
	n, _ := toInt64(r["idx"])
	return n
}

// tableRows returns the rows of table field fieldname. Besides []Doc it
// accepts the decoded-JSON shapes, so callers need not normalise first.
func tableRows(d Doc, fieldname string) ([]Doc, error) {
	switch v := d[fieldname].(type) {
	case nil:
		return nil, nil
	case []Doc:
		return v, nil
	case []map[string]any:
		out := make([]Doc, len(v))
		for i, m := range v {
			out[i] = Doc(m)
		}
		return out, nil
	case []any:
		out := make([]Doc, len(v))
		for i, e := range v {
			switch m := e.(type) {
			case Doc:
				out[i] = m
			case map[string]any:
				out[i] = Doc(m)
			default:
				return nil, errs.Validation("Table %s: row %d is not an object", fieldname, i+1)
			}
		}
		return out, nil
	}
	return nil, errs.Validation("Table %s: expected a list of rows, got %s", fieldname, short(d[fieldname]))
}

// childMeta returns the child DocType of table field f.
func childMeta(metaOf MetaFunc, f *meta.Field) (*meta.DocType, error) {
	if metaOf == nil {
		return nil, errs.Validation("Table %s: no DocType lookup to find %q", f.Fieldname, f.Options)
	}
	child, err := metaOf(f.Options)
	if err != nil {
		return nil, err
	}
	if child == nil {
		return nil, errs.NotFound("DocType %s not found (child table of %s)", f.Options, f.Fieldname)
	}
	return child, nil
}
