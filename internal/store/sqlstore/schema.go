package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"docstream/internal/meta"
)

// SyncTable creates or alters tab<DocType> so that it matches new. Columns are
// only ever added (dropping a field keeps its data, as Frappe does until a
// cleanup). It runs inside the caller's transaction: both SQLite and
// PostgreSQL have transactional DDL, so a failed DocType save leaves no table.
func (t *Tx) SyncTable(ctx context.Context, old, new *meta.DocType) error {
	t.logTableChanged(new)
	if new.IsSingle {
		return nil // values of Single DocTypes are not stored in a table of their own (not supported yet)
	}
	tbl := new.Table()
	exists, err := t.tableExists(ctx, tbl)
	if err != nil {
		return err
	}
	if !exists {
		_, defs := t.tableColumns(new)
		if _, err := t.exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", quote(tbl), strings.Join(defs, ", "))); err != nil {
			return fmt.Errorf("create table %s: %w", tbl, err)
		}
	} else {
		if t.clusteredLog(new) {
			if bySeq, err := t.logKeyedBySeq(ctx, tbl); err != nil {
				return err
			} else if !bySeq {
				if err := t.rebuildLog(ctx, new); err != nil {
					return err
				}
			}
		}
		have, err := t.columns(ctx, tbl)
		if err != nil {
			return err
		}
		for _, f := range new.ValueFields() {
			if !have[f.Fieldname] {
				if _, err := t.exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s", quote(tbl), t.columnDef(f))); err != nil {
					return fmt.Errorf("add column %s.%s: %w", tbl, f.Fieldname, err)
				}
			}
		}
	}
	return t.syncIndexes(ctx, old, new)
}

// tableColumns are the columns of dt's table and their definitions.
func (t *Tx) tableColumns(dt *meta.DocType) (names, defs []string) {
	names = []string{"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"}
	defs = []string{`"name" TEXT NOT NULL PRIMARY KEY`, `"owner" TEXT`, `"creation" TEXT`, `"modified" TEXT`,
		`"modified_by" TEXT`, `"docstatus" ` + t.d.intType + ` NOT NULL DEFAULT 0`, `"idx" ` + t.d.intType + ` NOT NULL DEFAULT 0`}
	if dt.IsTable {
		names = append(names, "parent", "parentfield", "parenttype")
		defs = append(defs, `"parent" TEXT`, `"parentfield" TEXT`, `"parenttype" TEXT`)
	}
	clustered := t.clusteredLog(dt)
	if clustered {
		defs[0] = `"name" TEXT NOT NULL` // found through seq (logtable.go)
	}
	for _, f := range dt.ValueFields() {
		names = append(names, f.Fieldname)
		if clustered && f.Fieldname == "seq" {
			defs = append(defs, `"seq" INTEGER PRIMARY KEY`)
		} else {
			defs = append(defs, t.columnDef(f))
		}
	}
	return names, defs
}

func (t *Tx) columnDef(f *meta.Field) string {
	def := quote(f.Fieldname) + " " + t.d.columnType(f.Kind())
	if k := f.Kind(); k == meta.KindInt || k == meta.KindCheck || k == meta.KindFloat {
		def += " NOT NULL DEFAULT 0"
	}
	return def
}

// syncIndexes keeps the indexes lists rely on: modified (default order) on
// parents, parent on children, every Link field (filters and link checks),
// and unique fields; the Event Update Log has its own set. Index names embed
// the field so errors can name it.
func (t *Tx) syncIndexes(ctx context.Context, old, new *meta.DocType) error {
	tbl := new.Table()
	idx := func(name, cols string, unique bool) error {
		u := ""
		if unique {
			u = "UNIQUE "
		}
		q := fmt.Sprintf("CREATE %sINDEX IF NOT EXISTS %s ON %s (%s)", u, quote(name), quote(tbl), cols)
		if _, err := t.exec(ctx, q); err != nil {
			return fmt.Errorf("index %s: %w", name, err)
		}
		return nil
	}
	short := indexPrefix(tbl)
	drop := func(name string) error {
		if _, err := t.exec(ctx, "DROP INDEX IF EXISTS "+quote(name)); err != nil {
			return fmt.Errorf("drop index %s: %w", name, err)
		}
		return nil
	}
	// The Event Update Log is written on every change of a streamed DocType,
	// and every index costs each of those writes a b-tree insert and a page
	// written at commit. All its reads go by seq (logtable.go). On SQLite
	// seq is the table's own key, so it has no index at all; PostgreSQL
	// indexes seq, and (ref_doctype, seq) for pulls (ref_doctype IN (…) AND
	// seq > cursor ORDER BY seq LIMIT page). Indexes of older versions are
	// dropped: modified, creation, ref_doctype alone, and on SQLite the rest.
	logByDocType := isUpdateLog(new) && new.Field("ref_doctype") != nil
	if new.IsTable {
		if err := idx(short+"__parent", `"parent", "parenttype", "parentfield"`, false); err != nil {
			return err
		}
	} else if logByDocType {
		stale := []string{short + "__modified", short + "__creation", short + "_i_ref_doctype"}
		if t.clusteredLog(new) {
			stale = append(stale, short+"_i_seq", short+"_i_ref_doctype_seq")
		}
		for _, name := range stale {
			if err := drop(name); err != nil {
				return err
			}
		}
		if !t.clusteredLog(new) {
			if err := idx(short+"_i_ref_doctype_seq", `"ref_doctype", "seq"`, false); err != nil {
				return err
			}
			if err := idx(short+"_i_seq", `"seq"`, false); err != nil {
				return err
			}
		}
	} else if err := idx(short+"__modified", `"modified"`, false); err != nil {
		return err
	}
	for _, f := range new.ValueFields() {
		switch {
		case logByDocType && (f.Fieldname == "ref_doctype" || f.Fieldname == "seq"):
			// indexed above
		case f.Unique:
			if err := idx(short+"__"+f.Fieldname, quote(f.Fieldname), true); err != nil {
				return err
			}
		case f.Fieldtype == "Link" || f.Fieldtype == "Dynamic Link" || f.Fieldname == "remote_docname":
			// remote_docname: a consumer finds its copy of a producer's
			// document by it for every event (use_same_name off).
			if err := idx(short+"_i_"+f.Fieldname, quote(f.Fieldname), false); err != nil {
				return err
			}
		}
	}
	// A consumer looks up its Failed and Queued events on every page and
	// every step (event_producer = ? AND status IN (…)); without an index
	// that scans every sync log, one per applied event: quadratic in a long
	// drain. Failed and Queued rows are few, so this index finds them at once.
	// The consumer writes a sync log per applied event, so it keeps no
	// index it does not read: seq (indexed by older versions) is only
	// sorted on among the few Failed and Queued rows.
	if new.Name == "Event Sync Log" && new.Field("status") != nil && new.Field("event_producer") != nil {
		if err := idx(short+"_i_status_producer", `"status", "event_producer"`, false); err != nil {
			return err
		}
		if err := drop(short + "_i_seq"); err != nil {
			return err
		}
	}
	// A field that stopped being unique loses its unique index.
	if old != nil {
		for _, f := range old.ValueFields() {
			if nf := new.Field(f.Fieldname); f.Unique && (nf == nil || !nf.Unique) {
				if err := drop(short + "__" + f.Fieldname); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// indexPrefix keeps index names within PostgreSQL's 63 bytes.
func indexPrefix(tbl string) string {
	s := strings.ReplaceAll(strings.ToLower(tbl), " ", "_")
	if len(s) > 30 {
		s = s[:30]
	}
	return s
}

func (t *Tx) tableExists(ctx context.Context, tbl string) (bool, error) {
	var q string
	if t.d.name == "postgres" {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	} else {
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	}
	var n int
	if err := t.queryRow(ctx, q, tbl).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

func (t *Tx) columns(ctx context.Context, tbl string) (map[string]bool, error) {
	var rows interface {
		Next() bool
		Scan(...any) error
		Close() error
		Err() error
	}
	var err error
	if t.d.name == "postgres" {
		rows, err = t.query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`, tbl)
	} else {
		rows, err = t.query(ctx, `SELECT name FROM pragma_table_info(?)`, tbl)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out[c] = true
	}
	return out, rows.Err()
}

// DropTable removes a DocType's table.
func (t *Tx) DropTable(ctx context.Context, dt *meta.DocType) error {
	t.logTableChanged(dt)
	_, err := t.exec(ctx, "DROP TABLE IF EXISTS "+quote(dt.Table()))
	return err
}
