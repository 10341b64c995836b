package filter

import (
	"encoding/json"
	"regexp"
	"strings"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

// ParseFields reads `fields`: a JSON array (or decoded list) of column names.
// "*" means every column. "count(name)" style aggregates are not supported and
// get a clear error rather than a silent wrong answer.
func ParseFields(dt *meta.DocType, raw any) ([]string, error) {
	if s, ok := raw.(string); ok {
		s = strings.TrimSpace(s)
		if s == "" {
			return []string{"name"}, nil
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			// Frappe's v1 API json.loads the value: a bare name fails there too.
			return nil, errs.Invalid("DataError", "fields must be a JSON list such as [\"name\", \"title\"]: %v", err)
		}
		raw = v
	}
	var names []string
	switch l := raw.(type) {
	case nil:
		return []string{"name"}, nil
	case []any:
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, errs.Invalid("DataError", "fields must be a list of strings")
			}
			names = append(names, s)
		}
	case []string:
		names = l
	default:
		return nil, errs.Invalid("DataError", "fields must be a list of strings")
	}
	var out []string
	for _, n := range names {
		n = unquote(strings.TrimSpace(n))
		if n == "*" {
			out = append(out, AllColumns(dt)...)
			continue
		}
		if i := strings.Index(strings.ToLower(n), " as "); i > 0 {
			return nil, errs.Invalid("DataError", "Field not permitted in query: %s (aliases are not supported)", n)
		}
		if !dt.HasColumn(n) {
			return nil, errs.Invalid("DataError", "Field not permitted in query: %s", n)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		out = []string{"name"}
	}
	return dedupe(out), nil
}

// AllColumns lists the standard and value columns of dt.
func AllColumns(dt *meta.DocType) []string { return dt.Columns() }

var orderTerm = regexp.MustCompile("^`?(?:tab[A-Za-z0-9 _-]+`?\\.`?)?([A-Za-z_][A-Za-z0-9_]*)`?(?:\\s+(asc|desc))?$")

// ParseOrder reads `order_by` ("modified desc, idx asc"). Empty means the
// DocType's sort_field and sort_order (default "modified desc"), as newer
// Frappe does; v14/v15 apply none, which is compatible with this.
func ParseOrder(dt *meta.DocType, s string) ([]Order, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		f, o := dt.SortField, strings.ToLower(dt.SortOrder)
		if f == "" || !dt.HasColumn(f) {
			f = "modified"
		}
		return []Order{{Field: f, Desc: o != "asc"}}, nil
	}
	var out []Order
	for _, part := range strings.Split(s, ",") {
		m := orderTerm.FindStringSubmatch(strings.ToLower(strings.TrimSpace(part)))
		if m == nil {
			return nil, errs.Invalid("DataError", "order_by: %q is not \"field asc|desc\"", strings.TrimSpace(part))
		}
		// Field names are lower-case in Frappe; match case-insensitively.
		field := m[1]
		if !dt.HasColumn(field) {
			return nil, errs.Invalid("DataError", "order_by: Field not permitted in query: %s", field)
		}
		out = append(out, Order{Field: field, Desc: m[2] == "desc"})
	}
	return out, nil
}

func unquote(s string) string {
	if i := strings.LastIndex(s, "."); i >= 0 && strings.HasPrefix(s, "`tab") {
		s = s[i+1:]
	}
	return strings.Trim(s, "`")
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
