package doc

import (
	"sort"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

// Apply applies u to a copy of local and returns it; local is not modified.
// The steps follow Frappe event_producer.set_update (reference §4.4):
// changed, then removed, row_changed and added, then child rows are sorted
// by idx. Deliberate differences from Frappe:
//   - a removed row that is already missing locally is skipped (Frappe fails
//     with list.remove(None)), so replays and partial syncs converge;
//   - an added row whose name exists locally replaces that row (idempotent
//     replay) instead of becoming a duplicate;
//   - changed keys that are standard columns (other than docstatus) or not
//     fields of dt are ignored, so a diff can never rename a document or
//     rewrite its owner;
//   - idx is taken from the diff (see Diff) and only missing ones are numbered.
//
// A row_changed entry for a row missing locally is an error naming the row
// (the full row cannot be rebuilt from a partial one), as is a table key that
// is not a Table field of dt.
func Apply(dt *meta.DocType, local Doc, u Update) (Doc, error) {
	out := local.Clone()
	if out == nil {
		out = Doc{}
	}
	// A local index rather than dt.Field: that builds its index lazily, which
	// races when one cached DocType serves concurrent requests.
	fields := make(map[string]*meta.Field, len(dt.Fields))
	for i := range dt.Fields {
		fields[dt.Fields[i].Fieldname] = &dt.Fields[i]
	}
	touched := map[string]bool{}
	for _, keys := range [][]string{mapKeys(u.Added), mapKeys(u.Removed), mapKeys(u.RowChanged)} {
		for _, t := range keys {
			if f := fields[t]; f == nil || f.Kind() != meta.KindTable {
				return nil, errs.Validation("Update for %s: %q is not a table of %s", dt.Name, t, dt.Name)
			}
			touched[t] = true
		}
	}
	for _, k := range mapKeys(u.Changed) {
		v := u.Changed[k]
		if k == "docstatus" {
			ds, ok := toInt64(v)
			if !ok {
				return nil, errs.Validation("Update for %s: docstatus %s is not an integer", dt.Name, short(v))
			}
			out["docstatus"] = ds
			continue
		}
		f := fields[k]
		if f == nil || isStdKey(k) || f.Kind() == meta.KindNone {
			continue
		}
		if f.Kind() == meta.KindTable {
			return nil, errs.Validation("Update for %s: table %q cannot be set through changed", dt.Name, k)
		}
		out[k] = v
	}
	for _, tf := range dt.TableFields() {
		t := tf.Fieldname
		if !touched[t] {
			continue
		}
		rows, err := tableRows(out, t)
		if err != nil {
			return nil, err
		}
		// Copy: rows given as []any or []map were not deep-copied by Clone.
		rows = cloneRows(rows)
		if rows, err = applyTable(dt, tf, out, rows, u); err != nil {
			return nil, err
		}
		out[t] = rows
	}
	if _, ok := u.Changed["docstatus"]; ok {
		// Rows inherit docstatus from the parent on save (Frappe set_docstatus).
		for _, tf := range dt.TableFields() {
			for _, r := range out.Rows(tf.Fieldname) {
				r["docstatus"] = out["docstatus"]
			}
		}
	}
	return out, nil
}

func applyTable(dt *meta.DocType, tf *meta.Field, parent Doc, rows []Doc, u Update) ([]Doc, error) {
	t := tf.Fieldname
	find := func(name string) int {
		for i, r := range rows {
			if r.Name() == name {
				return i
			}
		}
		return -1
	}
	for _, name := range u.Removed[t] {
		if i := find(name); i >= 0 {
			rows = append(rows[:i:i], rows[i+1:]...)
		}
	}
	for _, pr := range u.RowChanged[t] {
		name := pr.Name()
		if name == "" {
			return nil, errs.Validation("Update for %s: a row_changed entry of %s has no name", dt.Name, t)
		}
		i := find(name)
		if i < 0 {
			return nil, errs.Validation("Update for %s %s: row %s of %s does not exist locally", dt.Name, parent.Name(), name, t)
		}
		r := rows[i]
		for k, v := range pr {
			if !rowIdentity[k] {
				r[k] = v
			}
		}
	}
	for _, ar := range u.Added[t] {
		r := ar.Clone()
		if r == nil {
			r = Doc{}
		}
		// Frappe set_update re-parents added rows to the local document.
		if name := parent.Name(); name != "" {
			r["parent"] = name
		}
		r["parenttype"] = dt.Name
		r["parentfield"] = t
		if r["doctype"] == nil {
			r["doctype"] = tf.Options
		}
		if name := r.Name(); name != "" {
			if i := find(name); i >= 0 {
				rows[i] = r
				continue
			}
		}
		rows = append(rows, r)
	}
	return sortRows(rows), nil
}

// sortRows numbers rows that have no idx after the highest one (as Frappe's
// _init_child does) and sorts by idx, keeping the list order for ties.
func sortRows(rows []Doc) []Doc {
	var top int64
	for _, r := range rows {
		top = max(top, rowIdx(r))
	}
	for _, r := range rows {
		if rowIdx(r) <= 0 {
			top++
			r["idx"] = top
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rowIdx(rows[i]) < rowIdx(rows[j]) })
	return rows
}

func cloneRows(rows []Doc) []Doc {
	out := make([]Doc, len(rows))
	for i, r := range rows {
		out[i] = r.Clone()
	}
	return out
}
