package app

import (
	"context"

	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// Delete deletes a document in its own transaction.
func (s *Service) Delete(ctx context.Context, u perm.User, doctype, name string, opts Opts) error {
	return s.Update(ctx, func(t *Tx) error { return t.Delete(ctx, u, doctype, name, opts) })
}

// Delete removes a document and its child rows (reference §4.4). Submitted
// documents must be cancelled first; documents other documents link to stay.
func (t *Tx) Delete(ctx context.Context, u perm.User, doctype, name string, opts Opts) error {
	dt, err := t.Meta(doctype)
	if err != nil {
		return err
	}
	if dt.IsTable {
		return errs.Validation("%s is a child table: remove the row from its parent document", dt.Name)
	}
	old, err := t.Load(ctx, dt, name, true)
	if err != nil {
		return err
	}
	if !opts.IgnorePermissions && !perm.Can(dt, u, perm.Delete, old.Str("owner")) {
		return errs.Permission("No permission to delete %s %s", dt.Name, name)
	}
	if old.Int("docstatus") == 1 {
		return errs.Validation("Submitted Record cannot be deleted. You must Cancel it first.")
	}
	ev := &HookEvent{Tx: t, DocType: dt, Doc: old, Old: old, User: u, Action: "delete", Opts: opts}
	if err := t.s.run(ctx, OnTrash, ev); err != nil {
		return err
	}
	if err := t.checkBackLinks(ctx, dt, old.Name()); err != nil {
		return err
	}
	for _, tf := range dt.TableFields() {
		child, err := t.Meta(tf.Options)
		if err != nil {
			return err
		}
		if err := t.DeleteChildRows(ctx, child, dt.Name, tf.Fieldname, old.Name(), nil); err != nil {
			return err
		}
	}
	if err := t.DeleteRow(ctx, dt, old.Name()); err != nil {
		return err
	}
	if err := t.DeleteSecrets(ctx, dt.Name, old.Name()); err != nil {
		return err
	}
	return t.s.run(ctx, AfterDelete, ev)
}

// checkBackLinks refuses to delete a document that another document links to
// (Link fields, and Dynamic Links whose type field names this DocType).
func (t *Tx) checkBackLinks(ctx context.Context, dt *meta.DocType, name string) error {
	for _, other := range t.metas {
		for _, f := range other.ValueFields() {
			var extra []filter.Cond
			switch {
			case f.Fieldtype == "Link" && f.Options == dt.Name:
			case f.Fieldtype == "Dynamic Link":
				extra = []filter.Cond{{Field: f.Options, Op: "=", Value: dt.Name, Kind: meta.KindText}}
			default:
				continue
			}
			if other.Name == dt.Name && f.Fieldname == "amended_from" {
				continue
			}
			by, err := t.LinkedFrom(ctx, other, f.Fieldname, name, extra...)
			if err != nil {
				return err
			}
			if by != "" && !(other.Name == dt.Name && by == name) {
				owner := other.Name
				if other.IsTable {
					owner = "a row of " + other.Name + " in " + by
				} else {
					owner = other.Name + " " + by
				}
				return errs.Invalid("LinkExistsError", "Cannot delete or cancel because %s %s is linked with %s", dt.Name, name, owner)
			}
		}
	}
	return nil
}
