package app

import (
	"context"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// Insert creates a document in its own transaction.
func (s *Service) Insert(ctx context.Context, u perm.User, doctype string, in doc.Doc, opts Opts) (doc.Doc, error) {
	var out doc.Doc
	err := s.Update(ctx, func(t *Tx) error {
		var err error
		out, err = t.Insert(ctx, u, doctype, in, opts)
		return err
	})
	return out, err
}

// Insert creates a document (reference §4.2): defaults, permission, naming,
// links, validation, then the rows and the hooks, all in t.
func (t *Tx) Insert(ctx context.Context, u perm.User, doctype string, in doc.Doc, opts Opts) (doc.Doc, error) {
	dt, err := t.Meta(doctype)
	if err != nil {
		return nil, err
	}
	if opts.Flags == nil {
		opts.Flags = map[string]bool{} // shared by the hooks of this write
	}
	if dt.IsTable {
		return nil, errs.Validation("%s is a child table: insert it through its parent document", dt.Name)
	}
	if dt.IsSingle {
		return nil, errs.Validation("%s is a Single DocType, which this site does not support yet", dt.Name)
	}
	if !opts.IgnorePermissions && !perm.Can(dt, u, perm.Create, "") {
		return nil, errs.Permission("No permission to create %s", dt.Name)
	}
	d, err := t.prepare(dt, in, false)
	if err != nil {
		return nil, err
	}
	now, user := t.Now(), userName(u)
	doc.Defaults(dt, d, user, now)
	for _, tf := range dt.TableFields() {
		child, _ := t.Meta(tf.Options)
		for _, r := range d.Rows(tf.Fieldname) {
			doc.Defaults(child, r, user, now)
		}
	}
	if _, ok := d["docstatus"]; !ok {
		d["docstatus"] = int64(0)
	}
	if d["idx"] == nil {
		d["idx"] = int64(0) // as stored, so the insert answer matches a later GET
	}
	action, err := doc.CheckInsertDocstatus(dt, d)
	if err != nil {
		return nil, err
	}
	if action == "submit" && !opts.IgnorePermissions && !perm.Can(dt, u, perm.Submit, "") {
		return nil, errs.Permission("No permission to submit %s", dt.Name)
	}
	ev := &HookEvent{Tx: t, DocType: dt, Doc: d, User: u, Action: "insert", Opts: opts}
	if err := t.s.run(ctx, BeforeInsert, ev); err != nil {
		return nil, err
	}
	name, err := t.s.newName(ctx, t, dt, d, opts)
	if err != nil {
		return nil, err
	}
	d["name"] = name
	delete(d, "__newname")
	d["owner"], d["modified_by"] = user, user
	d["creation"], d["modified"] = stamp(now), stamp(now)
	if err := t.nameChildren(ctx, dt, d, nil, opts.KeepChildNames); err != nil {
		return nil, err
	}
	if !opts.IgnoreLinks {
		if err := t.checkLinks(ctx, dt, d); err != nil {
			return nil, err
		}
	}
	if err := t.s.run(ctx, Validate, ev); err != nil {
		return nil, err
	}
	if err := doc.CheckValues(dt, t.Meta, d); err != nil {
		return nil, err
	}
	t.fillZeros(dt, d)
	if err := t.savePasswords(ctx, dt, d, nil); err != nil {
		return nil, err
	}
	t.fillNulls(dt, d)
	if err := t.writeRows(ctx, dt, d, nil); err != nil {
		return nil, err
	}
	d["doctype"] = dt.Name
	for _, e := range []Event{AfterInsert, OnUpdate} {
		if err := t.s.run(ctx, e, ev); err != nil {
			return nil, err
		}
	}
	if action == "submit" {
		if err := t.s.run(ctx, OnSubmit, ev); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// nameChildren fills each child row's standard fields from the parent. Rows
// keep their name when keepNames is set (replication) or when they already
// exist in old; new rows get a fresh hash name.
func (t *Tx) nameChildren(ctx context.Context, dt *meta.DocType, d, old doc.Doc, keepNames bool) error {
	for _, tf := range dt.TableFields() {
		existing := map[string]bool{}
		if old != nil {
			for _, r := range old.Rows(tf.Fieldname) {
				existing[r.Name()] = true
			}
		}
		seen := map[string]bool{}
		for i, r := range d.Rows(tf.Fieldname) {
			n := r.Name()
			if n == "" || (!keepNames && !existing[n]) || seen[n] {
				h, err := doc.HashName(t.s.Rand)
				if err != nil {
					return err
				}
				n = h
			}
			seen[n] = true
			r["name"] = n
			r["parent"], r["parenttype"], r["parentfield"] = d.Name(), dt.Name, tf.Fieldname
			if r.Int("idx") == 0 {
				r["idx"] = int64(i + 1)
			}
			r["docstatus"] = d["docstatus"]
			r["modified"], r["modified_by"] = d["modified"], d["modified_by"]
			if r.Str("owner") == "" || !existing[n] {
				r["owner"], r["creation"] = d["modified_by"], d["modified"]
			}
			if old != nil && existing[n] {
				for _, or := range old.Rows(tf.Fieldname) {
					if or.Name() == n {
						r["owner"], r["creation"] = or["owner"], or["creation"]
					}
				}
			}
			r["doctype"] = tf.Options
		}
	}
	return nil
}

// writeRows writes the parent row and syncs each child table: rows missing
// from d are deleted, known rows updated, new rows inserted (reference §1.5).
func (t *Tx) writeRows(ctx context.Context, dt *meta.DocType, d, old doc.Doc) error {
	var err error
	if old == nil {
		err = t.InsertRow(ctx, dt, d)
	} else {
		err = t.UpdateRow(ctx, dt, d)
	}
	if err != nil {
		return err
	}
	for _, tf := range dt.TableFields() {
		child, err := t.Meta(tf.Options)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		if old != nil {
			for _, r := range old.Rows(tf.Fieldname) {
				have[r.Name()] = true
			}
		}
		var keep []string
		for _, r := range d.Rows(tf.Fieldname) {
			if have[r.Name()] {
				keep = append(keep, r.Name())
			}
		}
		if old != nil {
			if err := t.DeleteChildRows(ctx, child, dt.Name, tf.Fieldname, d.Name(), keep); err != nil {
				return err
			}
		}
		for _, r := range d.Rows(tf.Fieldname) {
			if err := t.savePasswords(ctx, child, r, nil); err != nil {
				return err
			}
			if have[r.Name()] {
				err = t.UpdateRow(ctx, child, r)
			} else {
				err = t.InsertRow(ctx, child, r)
			}
			if err != nil {
				return err
			}
		}
		if d[tf.Fieldname] == nil {
			d[tf.Fieldname] = []doc.Doc{}
		}
	}
	return nil
}

// fillNulls gives every value field a key, nil when unset, so the inserted
// document has the shape a later read has: frappe.client.insert answers keep
// nulls as Frappe's as_dict does (resource answers drop them).
func (t *Tx) fillNulls(dt *meta.DocType, d doc.Doc) {
	for _, f := range dt.ValueFields() {
		if _, ok := d[f.Fieldname]; !ok {
			d[f.Fieldname] = nil
		}
	}
	for _, tf := range dt.TableFields() {
		if child, err := t.Meta(tf.Options); err == nil {
			for _, r := range d.Rows(tf.Fieldname) {
				t.fillNulls(child, r)
			}
		}
	}
}

// fillZeros gives numeric fields their stored value: Frappe's Int, Float and
// Check are never null after a save (reference §1.2).
func (t *Tx) fillZeros(dt *meta.DocType, d doc.Doc) {
	for _, f := range dt.ValueFields() {
		if d[f.Fieldname] != nil {
			continue
		}
		switch f.Kind() {
		case meta.KindInt, meta.KindCheck:
			d[f.Fieldname] = int64(0)
		case meta.KindFloat:
			d[f.Fieldname] = float64(0)
		}
	}
	for _, tf := range dt.TableFields() {
		if child, err := t.Meta(tf.Options); err == nil {
			for _, r := range d.Rows(tf.Fieldname) {
				t.fillZeros(child, r)
			}
		}
	}
}
