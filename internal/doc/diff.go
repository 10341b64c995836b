package doc

import (
	"sort"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

// Update is the diff of an Update event: all four keys always present when
// marshalled (Frappe event_update_log.get_update, reference §3.3).
//
// Changed maps fieldname → new value (docstatus included when it changed).
// Added maps table fieldname → full new rows. Removed maps table fieldname →
// names of deleted rows. RowChanged maps table fieldname → partial rows: the
// changed child fields plus "name" (and "idx" when the row moved).
type Update struct {
	Changed    map[string]any      `json:"changed"`
	Added      map[string][]Doc    `json:"added"`
	Removed    map[string][]string `json:"removed"`
	RowChanged map[string][]Doc    `json:"row_changed"`
}

func newUpdate() Update {
	return Update{Changed: map[string]any{}, Added: map[string][]Doc{}, Removed: map[string][]string{}, RowChanged: map[string][]Doc{}}
}

// Empty reports whether the update changes nothing; Frappe writes no Update
// log for an empty diff.
func (u Update) Empty() bool {
	if len(u.Changed) > 0 {
		return false
	}
	for _, rows := range u.Added {
		if len(rows) > 0 {
			return false
		}
	}
	for _, names := range u.Removed {
		if len(names) > 0 {
			return false
		}
	}
	for _, rows := range u.RowChanged {
		if len(rows) > 0 {
			return false
		}
	}
	return true
}

// Diff computes the update from old to new, both saved documents of dt
// (child rows named). Fields are visited in dt.Fields order, layout fields
// skipped, standard columns never reported except docstatus. Values are
// compared canonically (see sameValue).
//
// Beyond Frappe: when a kept row's idx changed, its row_changed entry carries
// "idx", so that Apply reproduces the new row order (Frappe ignores order,
// reference §10 W11).
//
// Diff fails if a child row has no name or two rows of a table share one:
// such rows cannot be matched on the other side.
func Diff(dt *meta.DocType, metaOf MetaFunc, old, new Doc) (Update, error) {
	u := newUpdate()
	for i := range dt.Fields {
		f := &dt.Fields[i]
		switch {
		case f.Kind() == meta.KindTable && f.Fieldname != "":
			if err := diffTable(dt, f, metaOf, old, new, &u); err != nil {
				return Update{}, err
			}
		case hasValue(f):
			if !sameValue(f, old[f.Fieldname], new[f.Fieldname]) {
				u.Changed[f.Fieldname] = new[f.Fieldname]
			}
		}
	}
	if ds := docstatusOf(new); ds != docstatusOf(old) {
		u.Changed["docstatus"] = ds
	}
	return u, nil
}

func diffTable(dt *meta.DocType, f *meta.Field, metaOf MetaFunc, old, new Doc, u *Update) error {
	child, err := childMeta(metaOf, f)
	if err != nil {
		return err
	}
	oldRows, err := tableRows(old, f.Fieldname)
	if err != nil {
		return err
	}
	newRows, err := tableRows(new, f.Fieldname)
	if err != nil {
		return err
	}
	oldBy, err := indexRows(f.Fieldname, oldRows)
	if err != nil {
		return err
	}
	newBy, err := indexRows(f.Fieldname, newRows)
	if err != nil {
		return err
	}
	for i, r := range newRows {
		o, ok := oldBy[r.Name()]
		if !ok {
			u.Added[f.Fieldname] = append(u.Added[f.Fieldname], fullRow(dt, f, child, new, r, i))
			continue
		}
		if ch := diffRow(child, o, r); len(ch) > 0 {
			ch["name"] = r["name"]
			u.RowChanged[f.Fieldname] = append(u.RowChanged[f.Fieldname], ch)
		}
	}
	for _, r := range oldRows {
		if _, ok := newBy[r.Name()]; !ok {
			u.Removed[f.Fieldname] = append(u.Removed[f.Fieldname], r.Name())
		}
	}
	return nil
}

func indexRows(table string, rows []Doc) (map[string]Doc, error) {
	by := make(map[string]Doc, len(rows))
	for i, r := range rows {
		name := r.Name()
		if name == "" {
			return nil, errs.Validation("Table %s: row #%d has no name", table, i+1)
		}
		if _, dup := by[name]; dup {
			return nil, errs.Validation("Table %s: row name %q appears more than once", table, name)
		}
		by[name] = r
	}
	return by, nil
}

// diffRow returns the changed child value fields of a kept row, plus idx
// when the row moved. Child docstatus is not compared: rows inherit it from
// the parent (Frappe get_update(for_child=True) skips it too).
func diffRow(child *meta.DocType, o, n Doc) Doc {
	ch := Doc{}
	for i := range child.Fields {
		f := &child.Fields[i]
		if hasValue(f) && !sameValue(f, o[f.Fieldname], n[f.Fieldname]) {
			ch[f.Fieldname] = n[f.Fieldname]
		}
	}
	if ni := rowIdx(n); ni != rowIdx(o) {
		ch["idx"] = ni
	}
	return ch
}

// fullRow is an added row as Frappe's row.as_dict(): every child field,
// nulls included, and the standard child fields. Missing standard fields are
// filled from the parent; a missing idx becomes the row's position, which is
// what Frappe's append numbering would have given it.
func fullRow(dt *meta.DocType, f *meta.Field, child *meta.DocType, parent, r Doc, pos int) Doc {
	c := r.Clone()
	for i := range child.Fields {
		cf := &child.Fields[i]
		if _, ok := c[cf.Fieldname]; hasValue(cf) && !ok {
			c[cf.Fieldname] = nil
		}
	}
	setIfMissing := func(k string, v any) {
		if c[k] == nil || c[k] == "" {
			c[k] = v
		}
	}
	if rowIdx(c) <= 0 {
		c["idx"] = int64(pos + 1)
	}
	if name := parent.Name(); name != "" {
		setIfMissing("parent", name)
	} else {
		setIfMissing("parent", nil)
	}
	setIfMissing("parentfield", f.Fieldname)
	setIfMissing("parenttype", dt.Name)
	setIfMissing("doctype", child.Name)
	if _, ok := c["docstatus"]; !ok {
		c["docstatus"] = docstatusOf(parent)
	}
	return c
}

func mapKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
