package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
)

// On SQLite the Event Update Log is one b-tree: its rowid is seq
// ("seq" INTEGER PRIMARY KEY) and it has no other index, not even on name.
// The log row is written in the transaction of every change to a streamed
// DocType, and SQLite writes each page a commit touches to the WAL (two
// write() calls per page): with the name, (ref_doctype, seq) and creation
// indexes a logged insert cost 1.9x an unlogged one, clustered 1.4x
// (docs/benchmarks.md, aim (c)). Its reads all go by seq: pages and heads are
// rowid ranges, a creation is found by a binary search over seq (creation
// increases with seq), and a name is found through the seq it stands for
// (doc.UpdateLogName). A log named otherwise (a hash, by an older version) is
// still found by name, by a scan. PostgreSQL keeps name as its key and
// indexes the log on (ref_doctype, seq) and seq.

// isUpdateLog reports whether dt is the Event Update Log with its seq field.
func isUpdateLog(dt *meta.DocType) bool {
	return dt.Name == updateLogDocType && dt.Field("seq") != nil
}

// clusteredLog reports whether dt's table is the seq-keyed log.
func (t *Tx) clusteredLog(dt *meta.DocType) bool {
	return t.d.name == "sqlite" && isUpdateLog(dt)
}

// keyWhere is the condition that finds the row named name in dt's table.
func (t *Tx) keyWhere(dt *meta.DocType, name string) (string, []any) {
	if t.clusteredLog(dt) {
		if seq, ok := doc.UpdateLogSeq(name); ok {
			return `"seq" = ? AND name = ?`, []any{seq, name}
		}
	}
	return "name = ?", []any{name}
}

// checkLogRow refuses an update log whose name stands for another seq than
// its own: keyWhere would not find it by its name.
func checkLogRow(dt *meta.DocType, row doc.Doc) error {
	if !isUpdateLog(dt) {
		return nil
	}
	if seq, ok := doc.UpdateLogSeq(row.Name()); ok && seq != row.Int("seq") {
		return errs.Validation("Event Update Log %s must have seq %d, not %d", row.Name(), seq, row.Int("seq"))
	}
	return nil
}

// logKeyedBySeq reports whether the existing log table has seq as its rowid.
func (t *Tx) logKeyedBySeq(ctx context.Context, tbl string) (bool, error) {
	var pk int
	err := t.queryRow(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = 'seq' AND pk = 1 AND upper(type) = 'INTEGER'`, tbl).Scan(&pk)
	return pk == 1, err
}

// rebuildLog converts a log table of an older version (name as its key, seq
// a plain column) to the seq-keyed one, in the caller's transaction. Every
// column and row is kept; the old indexes go with the old table.
func (t *Tx) rebuildLog(ctx context.Context, dt *meta.DocType) error {
	tbl := dt.Table()
	old := tbl + "__old"
	rows, err := t.query(ctx, `SELECT name, type FROM pragma_table_info(?) ORDER BY cid`, tbl)
	if err != nil {
		return err
	}
	names, defs := t.tableColumns(dt)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	// Logs get the names of their seq, so that they are found by name
	// without an index, and child rows (consumers) follow.
	newName := `CASE WHEN "seq" > 0 THEN 'EUL-' || printf('%010d', "seq") ELSE "name" END`
	var cols, exprs []string // the old table's, all kept
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, quote(name))
		exprs = append(exprs, map[bool]string{true: newName, false: quote(name)}[name == "name"])
		if !want[name] { // a column of a field since removed: its data stays
			defs = append(defs, strings.TrimSpace(quote(name)+" "+typ))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	stmts := []string{
		fmt.Sprintf("ALTER TABLE %s RENAME TO %s", quote(tbl), quote(old)),
		fmt.Sprintf("CREATE TABLE %s (%s)", quote(tbl), strings.Join(defs, ", ")),
		fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s ORDER BY seq", quote(tbl), strings.Join(cols, ", "), strings.Join(exprs, ", "), quote(old)),
	}
	for _, f := range dt.TableFields() {
		child := "tab" + f.Options
		if ok, err := t.tableExists(ctx, child); err != nil {
			return err
		} else if ok {
			stmts = append(stmts, fmt.Sprintf(`UPDATE %s SET parent = (SELECT %s FROM %s o WHERE o."name" = parent)
				WHERE parenttype = %s AND parent IN (SELECT "name" FROM %[3]s WHERE "seq" > 0)`,
				quote(child), strings.ReplaceAll(newName, `"seq"`, `o."seq"`), quote(old), "'"+strings.ReplaceAll(dt.Name, "'", "''")+"'"))
		}
	}
	stmts = append(stmts, fmt.Sprintf("DROP TABLE %s", quote(old)))
	for _, q := range stmts {
		if _, err := t.exec(ctx, q); err != nil {
			return fmt.Errorf("rebuild %s: %w", tbl, err)
		}
	}
	return nil
}
