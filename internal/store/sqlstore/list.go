package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
)

// Select runs a validated list query. Child-table conditions become EXISTS
// sub-queries, so a parent appears once however many rows match.
func (t *Tx) Select(ctx context.Context, q *filter.Query) ([]doc.Doc, error) {
	cols := q.Fields
	if len(cols) == 0 {
		cols = []string{"name"}
	}
	text, args := t.selectSQL(q, cols)
	rows, err := t.query(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", q.DocType.Name, err)
	}
	return scanDocs(q.DocType, cols, rows)
}

func (t *Tx) selectSQL(q *filter.Query, cols []string) (string, []any) {
	where, args := t.whereSQL(q)
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT %s FROM %s", quoteList(cols), quote(q.DocType.Table()))
	b.WriteString(where)
	if len(q.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		for i, o := range q.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(o.Field))
			if o.Desc {
				b.WriteString(" DESC")
			}
		}
	}
	switch {
	case q.Limit > 0:
		fmt.Fprintf(&b, " LIMIT %d", q.Limit)
	case q.Offset > 0:
		b.WriteString(" LIMIT 9223372036854775807") // both dialects need a LIMIT before OFFSET
	}
	if q.Offset > 0 {
		fmt.Fprintf(&b, " OFFSET %d", q.Offset)
	}
	return b.String(), args
}

// Count counts the rows a query matches (ignoring paging).
func (t *Tx) Count(ctx context.Context, q *filter.Query) (int64, error) {
	where, args := t.whereSQL(q)
	var n int64
	err := t.queryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s%s", quote(q.DocType.Table()), where), args...).Scan(&n)
	return n, err
}

// ExplainSelect returns the database's plan for a list query, as Select runs
// it with its order and limit but selecting name only (for docs/benchmarks.md).
func (t *Tx) ExplainSelect(ctx context.Context, q *filter.Query) (string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if t.d.name == "postgres" {
		prefix = "EXPLAIN "
	}
	text, args := t.selectSQL(q, []string{"name"})
	rows, err := t.query(ctx, prefix+text, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		out = append(out, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(out, "\n"), rows.Err()
}

// LinkedFrom returns the name of one row of dt whose field equals value, or "".
func (t *Tx) LinkedFrom(ctx context.Context, dt *meta.DocType, field, value string, extra ...filter.Cond) (string, error) {
	q := &filter.Query{DocType: dt, Where: append([]filter.Cond{{Field: field, Op: "=", Value: value, Kind: meta.KindText}}, extra...), Limit: 1}
	cols := []string{"name"}
	if dt.IsTable {
		cols = []string{"parent"}
	}
	where, args := t.whereSQL(q)
	rows, err := t.query(ctx, fmt.Sprintf("SELECT %s FROM %s%s LIMIT 1", quoteList(cols), quote(dt.Table()), where), args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var name string
	if rows.Next() {
		if err := rows.Scan(&name); err != nil {
			return "", err
		}
	}
	return name, rows.Err()
}

func (t *Tx) whereSQL(q *filter.Query) (string, []any) {
	var args []any
	var and []string
	for _, c := range q.Where {
		s, a := t.condSQL(q.DocType, c)
		and = append(and, s)
		args = append(args, a...)
	}
	if len(q.Or) > 0 {
		var or []string
		for _, c := range q.Or {
			s, a := t.condSQL(q.DocType, c)
			or = append(or, s)
			args = append(args, a...)
		}
		and = append(and, "("+strings.Join(or, " OR ")+")")
	}
	if len(and) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(and, " AND "), args
}

// condSQL renders one condition with Frappe's NULL semantics: most
// comparisons see NULL as ” (text) or 0 (numbers), so ["f","!=","x"] matches
// rows where f is NULL. name, creation and modified are never NULL.
func (t *Tx) condSQL(main *meta.DocType, c filter.Cond) (string, []any) {
	col := quote(c.Field)
	if c.Child != nil {
		col = "c." + col
	}
	colNull := col
	switch {
	case c.Field == "name" || c.Field == "creation" || c.Field == "modified":
	case c.Kind == meta.KindInt || c.Kind == meta.KindCheck || c.Kind == meta.KindFloat:
	default:
		colNull = "COALESCE(" + col + ", '')"
	}
	var s string
	var args []any
	switch c.Op {
	case "is":
		if c.Value == "set" {
			s = col + " IS NOT NULL AND " + col + " <> ''"
			if c.Kind == meta.KindInt || c.Kind == meta.KindFloat || c.Kind == meta.KindCheck {
				s = col + " IS NOT NULL"
			}
		} else {
			s = "(" + col + " IS NULL OR " + col + " = '')"
			if c.Kind == meta.KindInt || c.Kind == meta.KindFloat || c.Kind == meta.KindCheck {
				s = col + " IS NULL"
			}
		}
	case "in", "not in":
		vals, _ := c.Value.([]any)
		if len(vals) == 0 {
			if c.Op == "in" {
				s = "1 = 0"
			} else {
				s = "1 = 1"
			}
			break
		}
		op := " IN "
		if c.Op == "not in" {
			op = " NOT IN "
		}
		if c.Op == "in" && noneEmpty(c.Kind, vals...) {
			colNull = col // NULL and '' match none of the values: keep the column bare so its index is usable
		}
		s = colNull + op + "(" + placeholders(len(vals)) + ")"
		for _, v := range vals {
			args = append(args, bindValue(c.Kind, v))
		}
	case "between":
		vals := c.Value.([]any)
		s = colNull + " BETWEEN ? AND ?"
		args = append(args, bindValue(c.Kind, vals[0]), bindValue(c.Kind, vals[1]))
	case "like", "not like":
		op := " LIKE "
		if c.Op == "not like" {
			op = " NOT LIKE "
		}
		if t.d.name == "postgres" {
			// Frappe's MariaDB collation makes LIKE case-insensitive.
			op = strings.Replace(op, "LIKE", "ILIKE", 1)
			s = "CAST(" + colNull + " AS TEXT)" + op + "?"
		} else {
			s = colNull + op + "?"
		}
		args = append(args, fmt.Sprint(bindValue(meta.KindText, c.Value)))
	default:
		if (c.Op == "=" || c.Op == ">" || c.Op == ">=") && noneEmpty(c.Kind, c.Value) {
			// '' (what NULL stands for) is the smallest text: it never equals
			// or exceeds a non-empty value, so the bare column gives the same
			// rows and lets the database use its index (Link fields, modified).
			colNull = col
		}
		s = colNull + " " + c.Op + " ?"
		args = append(args, bindValue(c.Kind, c.Value))
	}
	if c.Child != nil {
		s = fmt.Sprintf("EXISTS (SELECT 1 FROM %s c WHERE c.parent = %s.name AND c.parenttype = ? AND c.parentfield = ? AND %s)",
			quote(c.Child.Table()), quote(main.Table()), s)
		args = append([]any{main.Name, c.ParentField}, args...)
	}
	return s, args
}

// noneEmpty reports whether every value binds as a non-empty text, so a
// comparison need not map NULL to ”.
func noneEmpty(k meta.Kind, vals ...any) bool {
	switch k {
	case meta.KindInt, meta.KindCheck, meta.KindFloat:
		return false
	}
	for _, v := range vals {
		if s, ok := bindValue(k, v).(string); !ok || s == "" {
			return false
		}
	}
	return true
}

var (
	intField   = meta.Field{Fieldname: "filter", Fieldtype: "Int"}
	floatField = meta.Field{Fieldname: "filter", Fieldtype: "Float"}
)

// bindValue converts a filter value to the column's type so that comparisons
// are numeric for numbers and textual otherwise.
func bindValue(k meta.Kind, v any) any {
	switch k {
	case meta.KindInt, meta.KindCheck:
		if n, err := doc.Coerce(&intField, v); err == nil {
			return n
		}
		return v
	case meta.KindFloat:
		if n, err := doc.Coerce(&floatField, v); err == nil {
			return n
		}
		return v
	}
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "1"
		}
		return "0"
	case string:
		return x
	}
	return fmt.Sprint(v)
}
