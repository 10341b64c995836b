package stream

import (
	"context"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
)

// maxDepDepth bounds how far dependencies of dependencies are followed.
const maxDepDepth = 8

// dependency is a linked document fetched from the producer.
type dependency struct {
	doctype string
	d       doc.Doc
}

type depKey struct{ doctype, name string }

// fetchDependencies finds the documents that a page's events link to and
// this site lacks (Link, Dynamic Link, and links in child rows), and fetches
// each from the producer once, following their own links (reference §5).
// Frappe fetches every child row and every link per event; we fetch once per
// missing target per page. Fetching happens before the page's transaction so
// that no HTTP call holds the database's writer. Dependencies come back in
// insertion order: a document's own dependencies first.
func (s *Streamer) fetchDependencies(ctx context.Context, p *producerCfg, logs []remoteLog) ([]dependency, error) {
	var wanted []depKey
	err := s.App.View(ctx, func(t *app.Tx) error {
		seen := map[depKey]bool{}
		for i := range logs {
			l := &logs[i]
			row := p.rows[l.RefDocType]
			if row == nil || row.Int("has_mapping") != 0 || l.UpdateType == "Delete" {
				continue
			}
			dt, err := t.Meta(row.Str("ref_doctype"))
			if err != nil {
				continue
			}
			targets, err := linkTargetsOfLog(t, dt, l)
			if err != nil {
				continue // a bad payload fails when it is applied, with its own error
			}
			for _, k := range targets {
				if seen[k] {
					continue
				}
				seen[k] = true
				if missing, err := missingLocally(ctx, t, k); err != nil {
					return err
				} else if missing {
					wanted = append(wanted, k)
				}
			}
		}
		return nil
	})
	if err != nil || len(wanted) == 0 {
		return nil, err
	}
	var out []dependency
	fetched := map[depKey]bool{}
	var visit func(k depKey, depth int) error
	visit = func(k depKey, depth int) error {
		if fetched[k] {
			return nil // cycles and self-links end here
		}
		if depth > maxDepDepth {
			return errs.Validation("dependency chain deeper than %d documents at %s %s", maxDepDepth, k.doctype, k.name)
		}
		fetched[k] = true
		d, err := p.client.GetDoc(ctx, k.doctype, k.name)
		if err != nil {
			s.Log.Warn("stream: cannot fetch dependency", "producer", p.name, "doctype", k.doctype, "name", k.name, "err", err)
			return nil // the event that needs it fails with a clear link error and is retried
		}
		var next []depKey
		if err := s.App.View(ctx, func(t *app.Tx) error {
			dt, err := t.Meta(k.doctype)
			if err != nil {
				return err
			}
			for _, nk := range linkTargets(t, dt, d) {
				if fetched[nk] {
					continue
				}
				if missing, err := missingLocally(ctx, t, nk); err != nil {
					return err
				} else if missing {
					next = append(next, nk)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		for _, nk := range next {
			if err := visit(nk, depth+1); err != nil {
				return err
			}
		}
		out = append(out, dependency{doctype: k.doctype, d: d})
		return nil
	}
	for _, k := range wanted {
		if err := visit(k, 1); err != nil {
			return out, err
		}
	}
	return out, nil
}

func missingLocally(ctx context.Context, t *app.Tx, k depKey) (bool, error) {
	dt, err := t.Meta(k.doctype)
	if err != nil || dt.IsTable || dt.IsSingle {
		return false, nil
	}
	ok, err := t.Exists(ctx, dt, k.name)
	return !ok, err
}

// linkTargetsOfLog lists what a Create's document or an Update's diff links to.
func linkTargetsOfLog(t *app.Tx, dt *meta.DocType, l *remoteLog) ([]depKey, error) {
	data := l.dataString()
	if data == "" {
		return nil, nil
	}
	if l.UpdateType == "Create" {
		d, err := l.createDoc()
		if err != nil {
			return nil, err
		}
		return linkTargets(t, dt, d), nil
	}
	u, err := doc.DecodeUpdate([]byte(data))
	if err != nil {
		return nil, err
	}
	d := doc.Doc{}
	for k, v := range u.Changed {
		d[k] = v
	}
	for table, rows := range u.Added {
		d[table] = append(d.Rows(table), rows...)
	}
	for table, rows := range u.RowChanged {
		d[table] = append(d.Rows(table), rows...)
	}
	return linkTargets(t, dt, d), nil
}

// linkTargets lists the (DocType, name) pairs d's Link and Dynamic Link
// fields point at, in its own fields and its child rows.
func linkTargets(t *app.Tx, dt *meta.DocType, d doc.Doc) []depKey {
	var out []depKey
	add := func(m *meta.DocType, r doc.Doc) {
		for _, f := range m.ValueFields() {
			v := r.Str(f.Fieldname)
			if v == "" {
				continue
			}
			switch f.Fieldtype {
			case "Link":
				out = append(out, depKey{f.Options, v})
			case "Dynamic Link":
				if target := r.Str(f.Options); target != "" {
					out = append(out, depKey{target, v})
				}
			}
		}
	}
	add(dt, d)
	for _, tf := range dt.TableFields() {
		child, err := t.Meta(tf.Options)
		if err != nil {
			continue
		}
		for _, r := range d.Rows(tf.Fieldname) {
			add(child, r)
		}
	}
	return out
}

// insertDependencies inserts the fetched documents that are still missing,
// under the producer's names and child row names. Links among them are not
// checked one by one: they were valid on the producer, they all land in this
// transaction together, and that is what lets cycles and self-links in.
func (s *Streamer) insertDependencies(ctx context.Context, t *app.Tx, p *producerCfg, deps []dependency) error {
	for _, dep := range deps {
		dt, err := t.Meta(dep.doctype)
		if err != nil {
			continue
		}
		ok, err := t.Exists(ctx, dt, dep.d.Name())
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if err := t.Savepoint(ctx, "dep"); err != nil {
			return err
		}
		d := incoming(dep.d.Clone())
		_, ierr := t.Insert(ctx, app.Admin(), dep.doctype, d, app.Opts{SetName: dep.d.Name(), KeepChildNames: true,
			IgnoreLinks: true, IgnorePermissions: true, Origin: p.name})
		if ierr != nil {
			s.Log.Warn("stream: cannot insert dependency", "doctype", dep.doctype, "name", dep.d.Name(), "err", ierr)
			if err := t.RollbackTo(ctx, "dep"); err != nil {
				return err
			}
		}
		if err := t.Release(ctx, "dep"); err != nil {
			return err
		}
	}
	return nil
}
