package app

import (
	"context"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/perm"
)

// Save applies patch to a stored document in its own transaction.
func (s *Service) Save(ctx context.Context, u perm.User, doctype, name string, patch doc.Doc, opts Opts) (doc.Doc, error) {
	var out doc.Doc
	err := s.Update(ctx, func(t *Tx) error {
		var err error
		out, err = t.Save(ctx, u, doctype, name, patch, opts)
		return err
	})
	return out, err
}

// Save overlays patch on the stored document and saves it (reference §4.3):
// fields in patch replace stored ones, a table field replaces the whole table,
// `docstatus` 1 submits and 2 cancels, a stale `modified` is refused.
func (t *Tx) Save(ctx context.Context, u perm.User, doctype, name string, patch doc.Doc, opts Opts) (doc.Doc, error) {
	dt, err := t.Meta(doctype)
	if err != nil {
		return nil, err
	}
	if opts.Flags == nil {
		opts.Flags = map[string]bool{} // shared by the hooks of this write
	}
	if dt.IsTable {
		return nil, errs.Validation("%s is a child table: save its parent document", dt.Name)
	}
	old, err := t.Load(ctx, dt, name, true)
	if err != nil {
		return nil, err
	}
	if !opts.IgnorePermissions && !perm.Can(dt, u, perm.Write, old.Str("owner")) {
		return nil, errs.Permission("No permission to write %s %s", dt.Name, name)
	}
	p, err := t.prepare(dt, patch, false)
	if err != nil {
		return nil, err
	}
	// Frappe compares the timestamps as strings (reference §4.6).
	if m, ok := p["modified"].(string); ok && m != "" && m != old.Str("modified") {
		return nil, errs.Invalid("TimestampMismatchError",
			"Error: Document has been modified after you have opened it (%s, %s). Please refresh to get the latest document.", old.Str("modified"), m)
	}
	d := old.Clone()
	for k, v := range p {
		switch k {
		case "name", "modified", "idx":
			continue
		}
		d[k] = v
	}
	action, err := doc.CheckUpdate(dt, t.Meta, old, d)
	if err != nil {
		return nil, err
	}
	if !opts.IgnorePermissions {
		switch action {
		case "submit", "update_after_submit":
			if !perm.Can(dt, u, perm.Submit, old.Str("owner")) {
				return nil, errs.Permission("No permission to submit %s %s", dt.Name, name)
			}
		case "cancel":
			if !perm.Can(dt, u, perm.Cancel, old.Str("owner")) {
				return nil, errs.Permission("No permission to cancel %s %s", dt.Name, name)
			}
		}
	}
	now, user := t.Now(), userName(u)
	for _, tf := range dt.TableFields() {
		child, _ := t.Meta(tf.Options)
		for _, r := range d.Rows(tf.Fieldname) {
			if r.Name() == "" {
				doc.Defaults(child, r, user, now)
			}
		}
	}
	d["modified"], d["modified_by"] = stamp(now), user
	if err := t.nameChildren(ctx, dt, d, old, opts.KeepChildNames); err != nil {
		return nil, err
	}
	ev := &HookEvent{Tx: t, DocType: dt, Doc: d, Old: old, User: u, Action: action, Opts: opts}
	if action != "cancel" && !opts.IgnoreLinks {
		if err := t.checkLinks(ctx, dt, d); err != nil {
			return nil, err
		}
	}
	if err := t.s.run(ctx, Validate, ev); err != nil {
		return nil, err
	}
	if action != "cancel" {
		if err := doc.CheckValues(dt, t.Meta, d); err != nil {
			return nil, err
		}
	}
	t.fillZeros(dt, d)
	if err := t.savePasswords(ctx, dt, d, old); err != nil {
		return nil, err
	}
	if err := t.writeRows(ctx, dt, d, old); err != nil {
		return nil, err
	}
	d["doctype"] = dt.Name
	if err := t.s.run(ctx, OnUpdate, ev); err != nil {
		return nil, err
	}
	switch action {
	case "submit":
		err = t.s.run(ctx, OnSubmit, ev)
	case "cancel":
		err = t.s.run(ctx, OnCancel, ev)
	}
	return d, err
}
