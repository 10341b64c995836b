package app

import (
	"context"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
)

// registerCoreHooks makes DocType and Custom Field documents change the schema
// in the same transaction as the document, so a refused definition leaves no
// table behind.
func (s *Service) registerCoreHooks() {
	s.On(Validate, "DocType", func(ctx context.Context, e *HookEvent) error {
		dt, err := meta.FromMap(e.Doc.Plain())
		if err != nil {
			return err
		}
		return e.Tx.checkDocTypeRefs(dt)
	})
	s.On(OnUpdate, "DocType", func(ctx context.Context, e *HookEvent) error {
		if _, builtin := s.metas.builtins[e.Doc.Name()]; builtin {
			return nil
		}
		dt, err := meta.FromMap(e.Doc.Plain())
		if err != nil {
			return err
		}
		old, _ := e.Tx.Meta(dt.Name)
		if old != nil {
			// Keep Custom Fields: the effective definition carries them.
			for _, f := range old.Fields {
				if f.Custom && dt.Field(f.Fieldname) == nil {
					dt = withField(dt, f)
				}
			}
		}
		if err := e.Tx.SyncTable(ctx, old, dt); err != nil {
			return err
		}
		return e.Tx.reloadMeta(ctx)
	})
	s.On(OnTrash, "DocType", func(ctx context.Context, e *HookEvent) error {
		if _, builtin := s.metas.builtins[e.Doc.Name()]; builtin {
			return errs.Validation("Cannot delete the built-in DocType %s", e.Doc.Name())
		}
		dt, err := e.Tx.Meta(e.Doc.Name())
		if err != nil {
			return err
		}
		if err := e.Tx.checkNotReferenced(dt.Name); err != nil {
			return err
		}
		if err := e.Tx.DropTable(ctx, dt); err != nil {
			return err
		}
		return e.Tx.reloadMeta(ctx)
	})
	s.On(Validate, "Custom Field", func(ctx context.Context, e *HookEvent) error {
		dt, err := e.Tx.Meta(e.Doc.Str("dt"))
		if err != nil {
			return err
		}
		f := meta.FieldFromMap(e.Doc.Plain())
		if e.Old == nil && dt.Field(f.Fieldname) != nil {
			return errs.Validation("Field %s already exists in %s", f.Fieldname, dt.Name)
		}
		base := dt.Clone()
		if e.Old != nil { // an edit replaces the field it defined
			kept := base.Fields[:0]
			for _, x := range base.Fields {
				if x.Fieldname != e.Old.Str("fieldname") {
					kept = append(kept, x)
				}
			}
			base.Fields = kept
			base.Reindex()
		}
		probe := withField(base, f)
		if err := probe.Validate(); err != nil {
			return err
		}
		return e.Tx.checkDocTypeRefs(probe)
	})
	s.On(OnUpdate, "Custom Field", func(ctx context.Context, e *HookEvent) error {
		dt, err := e.Tx.Meta(e.Doc.Str("dt"))
		if err != nil {
			return err
		}
		f := meta.FieldFromMap(e.Doc.Plain())
		nd := dt
		if dt.Field(f.Fieldname) == nil {
			nd = withField(dt, f)
		}
		if err := e.Tx.SyncTable(ctx, dt, nd); err != nil {
			return err
		}
		return e.Tx.reloadMeta(ctx)
	})
	s.On(OnTrash, "Custom Field", func(ctx context.Context, e *HookEvent) error {
		return e.Tx.BumpMetaVersion(ctx) // the column stays, as in Frappe, but the field is gone
	})
	s.On(AfterDelete, "Custom Field", func(ctx context.Context, e *HookEvent) error { return e.Tx.reloadMeta(ctx) })
}

// checkNotReferenced refuses to delete a DocType that another DocType uses
// as a child table or a Link target: that DocType could no longer be read or
// saved.
func (t *Tx) checkNotReferenced(name string) error {
	for _, n := range t.DocTypes() {
		if n == name {
			continue
		}
		other, err := t.Meta(n)
		if err != nil {
			return err
		}
		for _, f := range other.Fields {
			if (f.Kind() == meta.KindTable || f.Fieldtype == "Link") && f.Options == name {
				return errs.Invalid("LinkExistsError", "Cannot delete DocType %s: field %s of %s refers to it", name, f.Fieldname, n)
			}
		}
	}
	return nil
}

// checkDocTypeRefs checks that Table fields point at child DocTypes and Link
// fields at existing DocTypes (or the DocType itself).
func (t *Tx) checkDocTypeRefs(dt *meta.DocType) error {
	for _, f := range dt.Fields {
		switch f.Fieldtype {
		case "Table", "Table MultiSelect":
			c, err := t.Meta(f.Options)
			if err != nil {
				return errs.Validation("Field %s: child DocType %s not found (create it first, with istable = 1)", f.Fieldname, f.Options)
			}
			if !c.IsTable {
				return errs.Validation("Field %s: %s is not a child table (istable = 1)", f.Fieldname, f.Options)
			}
		case "Link":
			if f.Options == dt.Name {
				continue
			}
			if _, err := t.Meta(f.Options); err != nil {
				return errs.Validation("Field %s: Link target DocType %s not found", f.Fieldname, f.Options)
			}
		}
	}
	return nil
}

// reloadMeta bumps the shared meta version and reloads this transaction's
// view, so later steps of the same transaction see the new definition.
func (t *Tx) reloadMeta(ctx context.Context) error {
	if err := t.BumpMetaVersion(ctx); err != nil {
		return err
	}
	m, err := t.s.metas.load(ctx, t.Tx)
	if err != nil {
		return err
	}
	t.metas = m
	t.Version = -1 // no shared cache may key on a version this transaction has not committed
	return nil
}

// docTypeDoc renders a built-in definition as a DocType document.
func docTypeDoc(dt *meta.DocType) doc.Doc {
	d := doc.Doc{
		"name": dt.Name, "module": dt.Module, "autoname": dt.Autoname, "title_field": dt.TitleField,
		"sort_field": dt.SortField, "sort_order": dt.SortOrder, "istable": b2i(dt.IsTable),
		"issingle": b2i(dt.IsSingle), "is_submittable": b2i(dt.IsSubmittable), "in_create": b2i(dt.InCreate),
	}
	var fields, perms []doc.Doc
	for _, f := range dt.Fields {
		fields = append(fields, doc.Doc{
			"fieldname": f.Fieldname, "label": f.Label, "fieldtype": f.Fieldtype, "options": f.Options,
			"default": f.Default, "reqd": b2i(f.Reqd), "unique": b2i(f.Unique), "set_only_once": b2i(f.SetOnlyOnce),
			"allow_on_submit": b2i(f.AllowOnSubmit), "read_only": b2i(f.ReadOnly), "hidden": b2i(f.Hidden),
			"non_negative": b2i(f.NonNegative), "in_list_view": b2i(f.InListView), "length": int64(f.Length),
			"permlevel": int64(f.Permlevel), "fetch_from": f.FetchFrom,
		})
	}
	for _, p := range dt.Permissions {
		perms = append(perms, doc.Doc{
			"role": p.Role, "permlevel": int64(p.Permlevel), "if_owner": b2i(p.IfOwner), "select": b2i(p.Select),
			"read": b2i(p.Read), "write": b2i(p.Write), "create": b2i(p.Create), "delete": b2i(p.Delete),
			"submit": b2i(p.Submit), "cancel": b2i(p.Cancel), "amend": b2i(p.Amend),
		})
	}
	d["fields"], d["permissions"] = fields, perms
	return d
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
