package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
)

// rowColumns are the stored columns of dt, in table order.
func rowColumns(dt *meta.DocType) []string { return filter.AllColumns(dt) }

func colKind(dt *meta.DocType, col string) meta.Kind {
	switch col {
	case "docstatus", "idx":
		return meta.KindInt
	}
	if f := dt.Field(col); f != nil {
		return f.Kind()
	}
	return meta.KindText
}

// GetRow reads one row of dt's own table (no child rows).
func (t *Tx) GetRow(ctx context.Context, dt *meta.DocType, name string, forUpdate bool) (doc.Doc, error) {
	cols := rowColumns(dt)
	where, args := t.keyWhere(dt, name)
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s", quoteList(cols), quote(dt.Table()), where)
	if forUpdate {
		q += t.d.forUpdate
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", dt.Name, name, err)
	}
	out, err := scanDocs(dt, cols, rows)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out[0], nil
}

// Exists reports whether a row named name exists in dt's table.
func (t *Tx) Exists(ctx context.Context, dt *meta.DocType, name string) (bool, error) {
	var n int
	where, args := t.keyWhere(dt, name)
	err := t.queryRow(ctx, fmt.Sprintf("SELECT 1 FROM %s WHERE %s", quote(dt.Table()), where), args...).Scan(&n)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, err
}

// ChildRows reads the rows of one table field of a parent, in idx order.
func (t *Tx) ChildRows(ctx context.Context, child *meta.DocType, parenttype, parentfield, parent string) ([]doc.Doc, error) {
	cols := rowColumns(child)
	q := fmt.Sprintf(`SELECT %s FROM %s WHERE parent = ? AND parenttype = ? AND parentfield = ? ORDER BY idx, name`,
		quoteList(cols), quote(child.Table()))
	rows, err := t.query(ctx, q, parent, parenttype, parentfield)
	if err != nil {
		return nil, fmt.Errorf("rows of %s: %w", child.Name, err)
	}
	return scanDocs(child, cols, rows)
}

// InsertRow inserts one row; values missing from row are NULL (or 0 for numbers).
func (t *Tx) InsertRow(ctx context.Context, dt *meta.DocType, row doc.Doc) error {
	t.loggedOtherwise(dt)
	return t.insertRow(ctx, dt, row)
}

func (t *Tx) insertRow(ctx context.Context, dt *meta.DocType, row doc.Doc) error {
	if err := checkLogRow(dt, row); err != nil {
		return err
	}
	cols := rowColumns(dt)
	args := make([]any, len(cols))
	for i, c := range cols {
		args[i] = dbValue(dt, c, row[c])
	}
	if _, err := t.exec(ctx, t.db.insertSQL(dt, cols), args...); err != nil {
		return fmt.Errorf("insert %s: %w", dt.Name, err)
	}
	return nil
}

// InsertRows inserts many rows of one table with multi-row INSERT
// statements: a statement per row costs more than the row itself when a
// page of events writes hundreds of Sync Log rows. Batches are powers of two
// so that a handful of statement shapes serve every count (and stay in the
// statement cache).
func (t *Tx) InsertRows(ctx context.Context, dt *meta.DocType, rows []doc.Doc) error {
	if len(rows) == 0 {
		return nil
	}
	t.loggedOtherwise(dt)
	for _, row := range rows {
		if err := checkLogRow(dt, row); err != nil {
			return err
		}
	}
	cols := rowColumns(dt)
	limit := 1
	for limit*2*len(cols) <= maxParams && limit*2 <= 128 {
		limit *= 2
	}
	one := "(" + placeholders(len(cols)) + ")"
	head := fmt.Sprintf("INSERT INTO %s (%s) VALUES ", quote(dt.Table()), quoteList(cols))
	for len(rows) > 0 {
		n := limit
		for n > len(rows) {
			n /= 2
		}
		args := make([]any, 0, n*len(cols))
		for _, row := range rows[:n] {
			for _, c := range cols {
				args = append(args, dbValue(dt, c, row[c]))
			}
		}
		q := head + strings.Repeat(one+", ", n-1) + one
		if _, err := t.exec(ctx, q, args...); err != nil {
			return fmt.Errorf("insert %s: %w", dt.Name, err)
		}
		rows = rows[n:]
	}
	return nil
}

// maxParams stays under SQLite's and PostgreSQL's limits on bound
// parameters per statement (32,766 and 65,535).
const maxParams = 30000

// UpdateRow writes every column of an existing row, keyed by name.
func (t *Tx) UpdateRow(ctx context.Context, dt *meta.DocType, row doc.Doc) error {
	t.loggedOtherwise(dt)
	if err := checkLogRow(dt, row); err != nil {
		return err
	}
	cols := rowColumns(dt)[1:] // name is the key
	sets := make([]string, len(cols))
	args := make([]any, 0, len(cols)+1)
	for i, c := range cols {
		sets[i] = quote(c) + " = ?"
		args = append(args, dbValue(dt, c, row[c]))
	}
	where, key := t.keyWhere(dt, row.Name())
	args = append(args, key...)
	q := fmt.Sprintf("UPDATE %s SET %s WHERE %s", quote(dt.Table()), strings.Join(sets, ", "), where)
	if _, err := t.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("update %s: %w", dt.Name, err)
	}
	return nil
}

// DeleteRow deletes one row by name.
func (t *Tx) DeleteRow(ctx context.Context, dt *meta.DocType, name string) error {
	t.logTableChanged(dt)
	if t.clusteredLog(dt) {
		if err := t.raiseClockFloor(ctx); err != nil {
			return err
		}
	}
	where, args := t.keyWhere(dt, name)
	_, err := t.exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s", quote(dt.Table()), where), args...)
	return err
}

// DeleteChildRows deletes a parent's rows of one table field, except keep.
func (t *Tx) DeleteChildRows(ctx context.Context, child *meta.DocType, parenttype, parentfield, parent string, keep []string) error {
	q := fmt.Sprintf("DELETE FROM %s WHERE parent = ? AND parenttype = ? AND parentfield = ?", quote(child.Table()))
	args := []any{parent, parenttype, parentfield}
	if len(keep) > 0 {
		q += " AND name NOT IN (" + placeholders(len(keep)) + ")"
		for _, k := range keep {
			args = append(args, k)
		}
	}
	_, err := t.exec(ctx, q, args...)
	return err
}

// dbValue converts a doc value for storage. Empty strings in unique columns
// are stored as NULL so that many blanks are allowed (Frappe does the same).
func dbValue(dt *meta.DocType, col string, v any) any {
	if col == "name" {
		return doc.NameString(v)
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			if f := dt.Field(col); f != nil && f.Unique {
				return nil
			}
		}
		return x
	case nil:
		switch colKind(dt, col) {
		case meta.KindInt, meta.KindCheck:
			return int64(0)
		case meta.KindFloat:
			return float64(0)
		}
		return nil
	case int64, float64:
		return x
	case int:
		return int64(x)
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	}
	return fmt.Sprint(v)
}

type rowScanner interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}

func scanDocs(dt *meta.DocType, cols []string, rows rowScanner) ([]doc.Doc, error) {
	defer rows.Close()
	var out []doc.Doc
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	autoinc := dt.Autoname == "autoincrement"
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		d := make(doc.Doc, len(cols)+1)
		for i, c := range cols {
			d[c] = docValue(colKind(dt, c), vals[i])
		}
		if autoinc {
			if n, err := strconv.ParseInt(d.Name(), 10, 64); err == nil {
				d["name"] = n
			}
		}
		d["doctype"] = dt.Name
		out = append(out, d)
	}
	return out, rows.Err()
}

func docValue(k meta.Kind, v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch k {
	case meta.KindInt, meta.KindCheck:
		switch x := v.(type) {
		case int64:
			return x
		case float64:
			return int64(x)
		case string:
			n, _ := strconv.ParseInt(x, 10, 64)
			return n
		case nil:
			return int64(0)
		}
	case meta.KindFloat:
		switch x := v.(type) {
		case float64:
			return x
		case int64:
			return float64(x)
		case string:
			f, _ := strconv.ParseFloat(x, 64)
			return f
		case nil:
			return float64(0)
		}
	default:
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10)
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	return v
}

func quoteList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quote(c)
	}
	return strings.Join(q, ", ")
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// insertText is a table's single-row INSERT for one list of columns.
type insertText struct {
	cols []string
	q    string
}

// insertSQL is the single-row INSERT of dt's table for cols, which is
// dt.Columns(): building it took a Sprintf and two joins on every insert,
// about 2 µs of a logged write that costs 30. It is cached per table and
// built again when the table's DocType (so its column list) is another.
func (db *DB) insertSQL(dt *meta.DocType, cols []string) string {
	tbl := dt.Table()
	if v, ok := db.inserts.Load(tbl); ok {
		if c := v.(*insertText); sameSlice(c.cols, cols) {
			return c.q
		}
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", quote(tbl), quoteList(cols), placeholders(len(cols)))
	db.inserts.Store(tbl, &insertText{cols, q})
	return q
}

// sameSlice reports whether a and b are the same backing array and length
// (dt.Columns() returns the one slice for the life of a DocType).
func sameSlice(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
