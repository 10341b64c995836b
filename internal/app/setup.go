package app

import (
	"context"
	"fmt"

	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

var admin = perm.User{Name: perm.Administrator, Roles: map[string]bool{"Administrator": true, "System Manager": true}}

// Admin is the Administrator user, for setup and internal writes.
func Admin() perm.User { return admin }

// Setup creates or upgrades the site: tables of built-in DocTypes, their
// DocType records, the standard roles and the Administrator. It is idempotent:
// a second start reuses everything and only adds what a newer binary brings.
func (s *Service) Setup(ctx context.Context, adminPassword string) error {
	s.registerCoreHooks()
	s.registerUserHooks()
	s.metas.mu.Lock()
	order := append([]string(nil), s.metas.order...)
	s.metas.mu.Unlock()
	// Built-in tables first, without the metadata view: loading it reads them.
	st, err := s.Store.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer st.Rollback()
	for _, n := range order {
		if err := st.SyncTable(ctx, nil, s.metas.builtins[n]); err != nil {
			return fmt.Errorf("setup %s: %w", n, err)
		}
	}
	if err := st.BumpMetaVersion(ctx); err != nil {
		return err
	}
	if err := st.Commit(); err != nil {
		return err
	}
	return s.Update(ctx, func(t *Tx) error {
		// Tables of custom DocTypes (a newer binary may add standard columns).
		for _, n := range t.DocTypes() {
			dt, _ := t.Meta(n)
			if err := t.SyncTable(ctx, dt, dt); err != nil {
				return fmt.Errorf("setup %s: %w", n, err)
			}
		}
		for _, r := range []string{"Administrator", "System Manager", "All", "Guest"} {
			if err := insertMissing(ctx, t, "Role", r, doc.Doc{"role_name": r}); err != nil {
				return err
			}
		}
		for _, n := range order {
			dt, _ := t.Meta(n)
			if err := insertMissing(ctx, t, "DocType", n, docTypeDoc(dt)); err != nil {
				return err
			}
		}
		if err := insertMissing(ctx, t, "User", "Guest", doc.Doc{"email": "Guest", "first_name": "Guest"}); err != nil {
			return err
		}
		adm := doc.Doc{"email": perm.Administrator, "first_name": "Administrator",
			"roles": []doc.Doc{{"role": "Administrator"}, {"role": "System Manager"}}}
		if adminPassword != "" {
			adm["new_password"] = adminPassword
		}
		udt, _ := t.Meta("User")
		exists, err := t.Exists(ctx, udt, perm.Administrator)
		if err != nil {
			return err
		}
		if !exists {
			_, err = t.Insert(ctx, admin, "User", adm, Opts{IgnorePermissions: true})
		} else if adminPassword != "" {
			_, err = t.Save(ctx, admin, "User", perm.Administrator, doc.Doc{"new_password": adminPassword}, Opts{IgnorePermissions: true})
		}
		return err
	})
}

func insertMissing(ctx context.Context, t *Tx, doctype, name string, d doc.Doc) error {
	dt, err := t.Meta(doctype)
	if err != nil {
		return err
	}
	ok, err := t.Exists(ctx, dt, name)
	if err != nil || ok {
		return err
	}
	_, err = t.Insert(ctx, admin, doctype, d, Opts{IgnorePermissions: true, SetName: name, IgnoreLinks: true})
	return err
}

func userByKey(dt *meta.DocType, key string) *filter.Query {
	return &filter.Query{DocType: dt, Fields: []string{"name"}, Limit: 2,
		Where: []filter.Cond{{Field: "api_key", Op: "=", Value: key, Kind: meta.KindText}}}
}
