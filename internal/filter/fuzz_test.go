package filter

import (
	"encoding/json"
	"testing"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

const fuzzDocType = `{"name": "Fuzz", "fields": [
	{"fieldname": "title", "fieldtype": "Data"},
	{"fieldname": "qty", "fieldtype": "Int"},
	{"fieldname": "price", "fieldtype": "Float"},
	{"fieldname": "ok", "fieldtype": "Check"},
	{"fieldname": "day", "fieldtype": "Date"},
	{"fieldname": "at", "fieldtype": "Datetime"},
	{"fieldname": "sb", "fieldtype": "Section Break"},
	{"fieldname": "rows", "fieldtype": "Table", "options": "Fuzz Row"}]}`

const fuzzRowType = `{"name": "Fuzz Row", "istable": 1, "fields": [{"fieldname": "label", "fieldtype": "Data"}]}`

// FuzzParseFilters: any text given as filters, or_filters, fields or order_by
// either fails with an application error or yields conditions on real
// columns only, with well-formed operators and values. It never panics.
func FuzzParseFilters(f *testing.F) {
	dt, err := meta.ParseJSON([]byte(fuzzDocType))
	if err != nil {
		f.Fatal(err)
	}
	row, err := meta.ParseJSON([]byte(fuzzRowType))
	if err != nil {
		f.Fatal(err)
	}
	metaOf := func(n string) (*meta.DocType, error) {
		switch n {
		case "Fuzz":
			return dt, nil
		case "Fuzz Row":
			return row, nil
		}
		return nil, errNotFound
	}
	for _, s := range []string{
		`{"title": "x"}`, `{"qty": [">", 3]}`, `[["qty", ">=", 1], ["title", "like", "%a%"]]`,
		`[["Fuzz Row", "label", "=", "L"]]`, `[["name", "in", ["a", "b"]]]`, `[["name", "in", "a, b"]]`,
		`[["day", "between", ["2025-01-01", "2025-01-31"]]]`, `[["at", "between", ["2025-01-01", "2025-01-31"]]]`,
		`[["title", "is", "set"]]`, `[["title", "is", "not set"]]`, `[["rows", "=", 1]]`, `[["sb", "=", 1]]`,
		`[{"title": "x"}]`, `[["title"]]`, `[["title", "="]]`, `[[1, 2, 3]]`, `{"title": {"a": 1}}`, `null`, `""`, `[]`, `{}`,
		`["name", "title"]`, `["*"]`, `["count(name) as n"]`, "`tabFuzz`.`qty` desc", `qty desc, title asc`, `qty; drop table x`,
		`[["title", "NOT LIKE", null]]`, `[["qty", "<>", 1]]`, `[["Other", "x", "=", 1]]`, `{"": 1}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, raw := range []any{s, decoded(s)} {
			conds, err := Parse(dt, metaOf, raw)
			if err != nil {
				if _, ok := asAppError(err); !ok {
					t.Fatalf("Parse(%q): error %v is not an application error", s, err)
				}
				continue
			}
			for _, c := range conds {
				checkCond(t, dt, s, c)
			}
		}
		if fields, err := ParseFields(dt, s); err == nil {
			for _, fl := range fields {
				if !dt.HasColumn(fl) {
					t.Fatalf("ParseFields(%q) accepted %q, not a column", s, fl)
				}
			}
		} else if _, ok := asAppError(err); !ok {
			t.Fatalf("ParseFields(%q): %v", s, err)
		}
		if order, err := ParseOrder(dt, s); err == nil {
			for _, o := range order {
				if !dt.HasColumn(o.Field) {
					t.Fatalf("ParseOrder(%q) accepted %q, not a column", s, o.Field)
				}
			}
		} else if _, ok := asAppError(err); !ok {
			t.Fatalf("ParseOrder(%q): %v", s, err)
		}
	})
}

func checkCond(t *testing.T, dt *meta.DocType, input string, c Cond) {
	t.Helper()
	target := dt
	if c.Child != nil {
		target = c.Child
		if c.ParentField == "" {
			t.Fatalf("Parse(%q): child condition without parent field: %+v", input, c)
		}
	}
	if !target.HasColumn(c.Field) {
		t.Fatalf("Parse(%q): condition on %q, not a column of %s", input, c.Field, target.Name)
	}
	if _, ok := operators[c.Op]; !ok || operators[c.Op] != c.Op {
		t.Fatalf("Parse(%q): operator %q is not normalized", input, c.Op)
	}
	switch c.Op {
	case "in", "not in":
		l, ok := c.Value.([]any)
		if !ok {
			t.Fatalf("Parse(%q): %s value %T, want a list", input, c.Op, c.Value)
		}
		for _, v := range l {
			if !scalar(v) {
				t.Fatalf("Parse(%q): %s value holds %T", input, c.Op, v)
			}
		}
	case "between":
		if l, ok := c.Value.([]any); !ok || len(l) != 2 || !scalar(l[0]) || !scalar(l[1]) {
			t.Fatalf("Parse(%q): between value %#v", input, c.Value)
		}
	case "is":
		if c.Value != "set" && c.Value != "not set" {
			t.Fatalf("Parse(%q): is value %#v", input, c.Value)
		}
	default:
		if !scalar(c.Value) {
			t.Fatalf("Parse(%q): value %T is not a plain value", input, c.Value)
		}
	}
}

func decoded(s string) any {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return v
}

var errNotFound = errs.NotFound("DocType not found")

func asAppError(err error) (*errs.Error, bool) { return errs.As(err) }
