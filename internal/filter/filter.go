// Package filter parses Frappe list parameters (filters, or_filters, fields,
// order_by) into a validated Query. Every field name is checked against the
// DocType's metadata here, so the SQL layer only ever quotes known columns and
// binds values. The package is pure: no SQL, HTTP or job code.
package filter

import (
	"encoding/json"
	"fmt"
	"strings"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

// MetaFunc looks up a DocType by name.
type MetaFunc func(doctype string) (*meta.DocType, error)

// Cond is one condition on a column of the queried DocType or of one of its
// child tables (then Child and ParentField are set and the table is joined).
type Cond struct {
	Child       *meta.DocType
	ParentField string
	Field       string
	Kind        meta.Kind
	Op          string // normalized: = != > < >= <= like "not like" in "not in" is between
	Value       any    // []any for in/not in/between; "set"/"not set" for is
}

// Order is one ORDER BY term.
type Order struct {
	Field string
	Desc  bool
}

// Query is a validated list query.
type Query struct {
	DocType *meta.DocType
	Fields  []string // columns of the main table; empty means name only
	Where   []Cond   // AND-ed
	Or      []Cond   // OR-ed group, AND-ed with Where
	OrderBy []Order
	Offset  int
	Limit   int // 0: no limit
}

// Operators accepted (case-insensitive), as Frappe lists them.
var operators = map[string]string{
	"=": "=", "!=": "!=", ">": ">", "<": "<", ">=": ">=", "<=": "<=",
	"like": "like", "not like": "not like", "in": "in", "not in": "not in",
	"is": "is", "between": "between",
}

const maxConds = 64

// Parse reads Frappe's filter forms: a JSON string or decoded value; a dict
// {"f": v} or {"f": [op, v]}; or a list of [f, op, v] / [doctype, f, op, v].
func Parse(dt *meta.DocType, metaOf MetaFunc, raw any) ([]Cond, error) {
	if s, ok := raw.(string); ok {
		s = strings.TrimSpace(s)
		if s == "" || s == "null" {
			return nil, nil
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, errs.Invalid("DataError", "filters must be JSON: %v", err)
		}
		raw = v
	}
	var out []Cond
	switch f := raw.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		for _, k := range sortedKeys(f) {
			c, err := parseTerm(dt, metaOf, "", k, f[k], true)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	case []any:
		for _, item := range f {
			var c Cond
			var err error
			switch t := item.(type) {
			case []any:
				c, err = parseList(dt, metaOf, t)
			case map[string]any:
				var cs []Cond
				cs, err = Parse(dt, metaOf, t)
				out = append(out, cs...)
				if err != nil {
					return nil, err
				}
				continue
			default:
				err = errs.Invalid("DataError", "each filter must be a list [field, operator, value], got %s", typeName(item))
			}
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	default:
		return nil, errs.Invalid("DataError", "filters must be a list or an object, got %s", typeName(raw))
	}
	if len(out) > maxConds {
		return nil, errs.Invalid("DataError", "too many filters (%d, at most %d)", len(out), maxConds)
	}
	return out, nil
}

func parseList(dt *meta.DocType, metaOf MetaFunc, t []any) (Cond, error) {
	switch len(t) {
	case 2:
		f, _ := t[0].(string)
		return parseTerm(dt, metaOf, "", f, t[1], true)
	case 3:
		f, _ := t[0].(string)
		return parseTerm(dt, metaOf, "", f, []any{t[1], t[2]}, false)
	case 4:
		d, _ := t[0].(string)
		f, _ := t[1].(string)
		return parseTerm(dt, metaOf, d, f, []any{t[2], t[3]}, false)
	}
	return Cond{}, errs.Invalid("DataError", "a filter needs 3 or 4 items [doctype, field, operator, value], got %d", len(t))
}

// parseTerm builds one condition. loose: v may be a bare value (=) or [op, value].
func parseTerm(dt *meta.DocType, metaOf MetaFunc, doctype, field string, v any, loose bool) (Cond, error) {
	c := Cond{Field: strings.TrimSpace(field)}
	target := dt
	if doctype != "" && doctype != dt.Name {
		var pf string
		for _, tf := range dt.TableFields() {
			if tf.Options == doctype {
				pf = tf.Fieldname
				break
			}
		}
		if pf == "" || metaOf == nil {
			return c, errs.Invalid("DataError", "cannot filter on %s: it is not a child table of %s", doctype, dt.Name)
		}
		child, err := metaOf(doctype)
		if err != nil {
			return c, err
		}
		target, c.Child, c.ParentField = child, child, pf
	}
	if c.Field == "" || !target.HasColumn(c.Field) {
		return c, errs.Invalid("DataError", "Field not permitted in query: %s", c.Field)
	}
	c.Kind = columnKind(target, c.Field)
	op, val := "=", v
	if l, ok := v.([]any); ok && (!loose || len(l) == 2) {
		if len(l) != 2 {
			return c, errs.Invalid("DataError", "filter on %s needs [operator, value]", c.Field)
		}
		s, ok := l[0].(string)
		if !ok {
			return c, errs.Invalid("DataError", "filter on %s: operator must be a string", c.Field)
		}
		op, val = s, l[1]
	}
	norm, ok := operators[strings.ToLower(strings.TrimSpace(op))]
	if !ok {
		return c, errs.Invalid("DataError", "Operator must be one of =, !=, >, <, >=, <=, like, not like, in, not in, is, between (got %q)", op)
	}
	c.Op = norm
	var err error
	c.Value, err = normalizeValue(c, val)
	return c, err
}

func normalizeValue(c Cond, v any) (any, error) {
	switch c.Op {
	case "in", "not in":
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if !scalar(e) {
					return nil, errs.Invalid("DataError", "filter on %s: %s values must be plain values", c.Field, c.Op)
				}
			}
			return x, nil
		case string:
			var out []any
			for _, p := range strings.Split(x, ",") {
				out = append(out, strings.TrimSpace(p))
			}
			return out, nil
		case nil:
			return []any{}, nil
		}
		if scalar(v) {
			return []any{v}, nil
		}
	case "is":
		s, _ := v.(string)
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "set" || s == "not set" {
			return s, nil
		}
		return nil, errs.Invalid("DataError", "filter on %s: 'is' takes \"set\" or \"not set\"", c.Field)
	case "between":
		if l, ok := v.([]any); ok && len(l) == 2 && scalar(l[0]) && scalar(l[1]) {
			if s, ok := l[1].(string); ok && c.Kind == meta.KindDatetime && len(s) == 10 {
				l = []any{l[0], s + " 23:59:59.999999"}
			}
			return l, nil
		}
		return nil, errs.Invalid("DataError", "filter on %s: between takes [from, to]", c.Field)
	default:
		if scalar(v) {
			return v, nil
		}
	}
	return nil, errs.Invalid("DataError", "filter on %s: unsupported value %s", c.Field, typeName(v))
}

func columnKind(dt *meta.DocType, field string) meta.Kind {
	switch field {
	case "docstatus", "idx":
		return meta.KindInt
	case "creation", "modified":
		return meta.KindDatetime
	}
	if f := dt.Field(field); f != nil {
		return f.Kind()
	}
	return meta.KindText
}

func scalar(v any) bool {
	switch v.(type) {
	case nil, string, float64, bool, int64, int, json.Number:
		return true
	}
	return false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}
