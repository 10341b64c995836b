// Package doc holds documents and child rows as values, and the pure rules on
// them: coercion to field types, validation, naming patterns, and the update
// diff of Frappe's Event Streaming. No SQL, HTTP or job code here.
package doc

import (
	"encoding/json"
	"maps"
	"sort"
	"strings"
)

// Doc is a document or a child row: fieldname → value. Values are string,
// int64, float64, nil, or []Doc for table fields. The pseudo-field "doctype"
// is present on documents read from storage.
type Doc map[string]any

// Str returns the field as a string ("" when missing or not a string).
func (d Doc) Str(f string) string {
	s, _ := d[f].(string)
	return s
}

// Int returns an integer field (0 when missing).
func (d Doc) Int(f string) int64 {
	switch n := d[f].(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case int:
		return int64(n)
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i
		}
		f, _ := n.Float64()
		return int64(f)
	case bool:
		if n {
			return 1
		}
	}
	return 0
}

// Name is the document name.
func (d Doc) Name() string { return NameString(d["name"]) }

// NameString renders a name value: autoincrement names are integers.
func NameString(v any) string {
	switch n := v.(type) {
	case string:
		return n
	case int64:
		return itoa(n)
	case float64:
		return itoa(int64(n))
	case json.Number:
		return n.String()
	}
	return ""
}

// Rows returns the child rows of a table field.
func (d Doc) Rows(f string) []Doc {
	r, _ := d[f].([]Doc)
	return r
}

// Clone returns a deep copy.
func (d Doc) Clone() Doc {
	if d == nil {
		return nil
	}
	c := make(Doc, len(d))
	for k, v := range d {
		if rows, ok := v.([]Doc); ok {
			cr := make([]Doc, len(rows))
			for i, r := range rows {
				cr[i] = r.Clone()
			}
			c[k] = cr
			continue
		}
		c[k] = v
	}
	return c
}

// WithoutNulls returns a copy without nil values, in child rows too: Frappe's
// as_dict(no_nulls=True), used for resource responses and Create payloads.
func (d Doc) WithoutNulls() Doc {
	c := make(Doc, len(d))
	for k, v := range d {
		switch x := v.(type) {
		case nil:
			continue
		case []Doc:
			cr := make([]Doc, len(x))
			for i, r := range x {
				cr[i] = r.WithoutNulls()
			}
			c[k] = cr
		default:
			c[k] = v
		}
	}
	return c
}

// Keys returns the field names in sorted order.
func (d Doc) Keys() []string {
	ks := make([]string, 0, len(d))
	for k := range maps.Keys(d) {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// StripPrivate removes keys Frappe treats as private (`__islocal`, `__unsaved`…).
func (d Doc) StripPrivate() {
	for k := range d {
		if strings.HasPrefix(k, "__") {
			delete(d, k)
		}
	}
}

// FromAny converts decoded JSON (map[string]any) into a Doc, recursively
// turning lists of objects into []Doc.
func FromAny(m map[string]any) Doc {
	d := make(Doc, len(m))
	for k, v := range m {
		d[k] = fromValue(v)
	}
	return d
}

func fromValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return FromAny(x)
	case []any:
		allMaps := len(x) > 0
		for _, e := range x {
			if _, ok := e.(map[string]any); !ok {
				allMaps = false
				break
			}
		}
		if allMaps {
			rows := make([]Doc, len(x))
			for i, e := range x {
				rows[i] = FromAny(e.(map[string]any))
			}
			return rows
		}
		return x
	case []map[string]any:
		rows := make([]Doc, len(x))
		for i, e := range x {
			rows[i] = FromAny(e)
		}
		return rows
	case Doc:
		return x
	}
	return v
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
