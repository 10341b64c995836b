package stream

import (
	"context"
	"encoding/json"
	"strings"

	"docstream/internal/app"
	"docstream/internal/cond"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/frappeclient"
	"docstream/internal/meta"
)

// Document Type Mapping (reference §1.9, §1.10, §6) turns a producer's
// document of remote_doctype into a local_doctype document, field by field.
// Frappe's defects fixed here (W10): every mapped child row gets the local
// child DocType; the inner mapping of a table is looked up under the right
// parent mapping; a table without a mapping row fails that event only; a
// Document row's default value is not overwritten by the remote value; a
// mapped dependency is found again by name instead of being re-created; the
// sync log keeps the unmapped event, so Resync maps it exactly once.

type fieldMap struct {
	local, remote, def string
	kind               string // "", "Child Table", "Document"
	inner              *mapping
	filters            string
}

type mapping struct {
	name, local, remote string
	fields              []fieldMap
}

const maxMappingDepth = 5

// loadMapping reads a mapping and its inner mappings.
func loadMapping(ctx context.Context, t *app.Tx, name string, depth int) (*mapping, error) {
	if depth > maxMappingDepth {
		return nil, errs.Validation("Document Type Mapping %s: inner mappings nest deeper than %d", name, maxMappingDepth)
	}
	mdt, err := t.Meta("Document Type Mapping")
	if err != nil {
		return nil, err
	}
	d, err := t.Load(ctx, mdt, name, false)
	if err != nil {
		return nil, err
	}
	m := &mapping{name: name, local: d.Str("local_doctype"), remote: d.Str("remote_doctype")}
	for _, r := range d.Rows("field_mapping") {
		f := fieldMap{local: r.Str("local_fieldname"), remote: r.Str("remote_fieldname"), def: r.Str("default_value"),
			kind: r.Str("mapping_type"), filters: r.Str("remote_value_filters")}
		if f.kind != "" && r.Str("mapping") != "" {
			if f.inner, err = loadMapping(ctx, t, r.Str("mapping"), depth+1); err != nil {
				return nil, err
			}
		}
		m.fields = append(m.fields, f)
	}
	return m, nil
}

// byRemote finds the field rule for a remote field of THIS mapping.
func (m *mapping) byRemote(remote string) *fieldMap {
	for i := range m.fields {
		if m.fields[i].remote == remote {
			return &m.fields[i]
		}
	}
	return nil
}

// mapDoc maps a whole remote document (a Create, or a dependency). Fields
// without a rule pass through, as in Frappe: the mapping renames, it does
// not filter (fields the local DocType lacks are dropped on insert).
func (s *Streamer) mapDoc(ctx context.Context, t *app.Tx, c *frappeclient.Client, p *producerCfg, m *mapping, in doc.Doc, create bool) (doc.Doc, error) {
	out := in.Clone()
	for _, f := range m.fields {
		if f.remote != "" && f.remote != f.local {
			delete(out, f.remote)
		}
	}
	for _, f := range m.fields {
		v, has := in[f.remote]
		set := f.remote != "" && has && truthy(v)
		switch {
		case f.kind == "Document":
			if f.def != "" {
				out[f.local] = f.def // the default wins over the remote value (W10)
				continue
			}
			if !set && f.filters == "" {
				continue
			}
			name, err := s.mappedDependency(ctx, t, c, p, f, in)
			if err != nil {
				return nil, err
			}
			if name != "" {
				out[f.local] = name
			}
		case f.kind == "Child Table":
			if !set {
				continue
			}
			if f.inner == nil {
				return nil, errs.Validation("mapping %s: the Child Table row for %s has no inner mapping", m.name, f.remote)
			}
			rows, err := s.mapRows(ctx, t, c, p, f.inner, v, true)
			if err != nil {
				return nil, err
			}
			out[f.local] = rows
		case set:
			out[f.local] = v
		case has && f.remote != "":
			// Cleared on the producer: the default, else the empty value, so
			// that mapping a diff gives what mapping the new version gives.
			if f.def != "" {
				out[f.local] = f.def
			} else {
				out[f.local] = v
			}
		case f.def != "" && create:
			out[f.local] = f.def
		}
	}
	return out, nil
}

// mapRows maps child rows through an inner mapping; every row gets the local
// child DocType (Frappe set it on the last row only) and keeps its name.
func (s *Streamer) mapRows(ctx context.Context, t *app.Tx, c *frappeclient.Client, p *producerCfg, inner *mapping, v any, create bool) ([]doc.Doc, error) {
	rows, ok := v.([]doc.Doc)
	if !ok {
		return nil, errs.Validation("mapping %s: expected a list of rows", inner.name)
	}
	out := make([]doc.Doc, 0, len(rows))
	for _, r := range rows {
		mr, err := s.mapDoc(ctx, t, c, p, inner, r, create)
		if err != nil {
			return nil, err
		}
		mr["doctype"] = inner.local
		out = append(out, mr)
	}
	return out, nil
}

// mapUpdate maps a diff: changed keys renamed (Document rows resolved),
// table keys of added, removed and row_changed renamed with this mapping's
// rows and their rows mapped with the inner mapping.
func (s *Streamer) mapUpdate(ctx context.Context, t *app.Tx, c *frappeclient.Client, p *producerCfg, m *mapping, u doc.Update) (doc.Update, error) {
	out := doc.Update{Changed: map[string]any{}, Added: map[string][]doc.Doc{}, Removed: map[string][]string{}, RowChanged: map[string][]doc.Doc{}}
	changed, err := s.mapDoc(ctx, t, c, p, m, doc.Doc(u.Changed), false)
	if err != nil {
		return out, err
	}
	for k, v := range changed {
		out.Changed[k] = v
	}
	table := func(remote string) (*fieldMap, error) {
		f := m.byRemote(remote)
		if f == nil {
			// Frappe aborts the whole pull here ([ES] #10); we fail this event.
			return nil, errs.Validation("mapping %s has no row for the table %s", m.name, remote)
		}
		return f, nil
	}
	for remote, rows := range u.Added {
		f, err := table(remote)
		if err != nil {
			return out, err
		}
		if f.inner == nil {
			out.Added[f.local] = rows
			continue
		}
		if out.Added[f.local], err = s.mapRows(ctx, t, c, p, f.inner, rows, true); err != nil {
			return out, err
		}
	}
	for remote, rows := range u.RowChanged {
		f, err := table(remote)
		if err != nil {
			return out, err
		}
		if f.inner == nil {
			out.RowChanged[f.local] = rows
			continue
		}
		mapped, err := s.mapRows(ctx, t, c, p, f.inner, rows, false)
		if err != nil {
			return out, err
		}
		for _, r := range mapped {
			delete(r, "doctype")
		}
		out.RowChanged[f.local] = mapped
	}
	for remote, names := range u.Removed {
		f, err := table(remote)
		if err != nil {
			return out, err
		}
		out.Removed[f.local] = names
	}
	return out, nil
}

// mappedDependency locates the remote document a Document row points at with
// remote_value_filters, maps it with the inner mapping and makes sure it
// exists here under the producer's name (found again on later syncs, not
// re-created). It returns the local name.
func (s *Streamer) mappedDependency(ctx context.Context, t *app.Tx, c *frappeclient.Client, p *producerCfg, f fieldMap, remoteDoc doc.Doc) (string, error) {
	if f.inner == nil {
		return "", errs.Validation("the Document mapping row for %s has no inner mapping", f.local)
	}
	filters := map[string]any{}
	if strings.TrimSpace(f.filters) != "" {
		var spec map[string]any
		if err := json.Unmarshal([]byte(f.filters), &spec); err != nil {
			return "", errs.Validation("remote_value_filters of %s is not a JSON object: %v", f.local, err)
		}
		for k, v := range spec {
			sv, isStr := v.(string)
			switch {
			case !isStr:
				filters[k] = v
			default:
				if expr, isEval := cond.ParseEval(sv); isEval {
					prog, err := cond.CompileCached(expr)
					if err != nil {
						return "", errs.Validation("remote_value_filters %s: %v", k, err)
					}
					val, err := prog.Eval(ctx, map[string]any{"doc": remoteDoc.Plain()})
					if err != nil {
						return "", errs.Validation("remote_value_filters %s: %v", k, err)
					}
					filters[k] = val
				} else if rv, ok := remoteDoc[sv]; ok && truthy(rv) {
					filters[k] = rv // the name of a field of the remote document
				} else {
					filters[k] = sv // a literal
				}
			}
		}
	} else if v := remoteDoc.Str(f.remote); v != "" {
		filters["name"] = v
	}
	rows, err := c.List(ctx, f.inner.remote, filters, []string{"name"}, 1)
	if err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", nil
	}
	name := rows[0].Name()
	local, err := t.Meta(f.inner.local)
	if err != nil {
		return "", err
	}
	if ok, err := t.Exists(ctx, local, name); err != nil || ok {
		return name, err
	}
	remote, err := c.GetDoc(ctx, f.inner.remote, name)
	if err != nil {
		return "", err
	}
	mapped, err := s.mapDoc(ctx, t, c, p, f.inner, remote, true)
	if err != nil {
		return "", err
	}
	mapped = incoming(mapped)
	if _, err := t.Insert(ctx, app.Admin(), f.inner.local, mapped, app.Opts{SetName: name, KeepChildNames: true, IgnorePermissions: true, Origin: p.name}); err != nil {
		return "", err
	}
	return name, nil
}

func truthy(v any) bool { return cond.Truthy(v) }

// validateMapping refuses a mapping whose local fields do not exist, and rows
// that cannot work (Frappe's validate_inner_mapping).
func validateMapping(t *app.Tx, d doc.Doc) error {
	dt, err := t.Meta(d.Str("local_doctype"))
	if err != nil {
		return errs.Validation("Local Document Type %s does not exist", d.Str("local_doctype"))
	}
	for _, r := range d.Rows("field_mapping") {
		lf := r.Str("local_fieldname")
		f := dt.Field(lf)
		if f == nil && !dt.IsStd(lf) {
			return errs.Validation("Row #%d: field %s does not exist in %s", r.Int("idx"), lf, dt.Name)
		}
		switch r.Str("mapping_type") {
		case "Document":
			if strings.TrimSpace(r.Str("remote_value_filters")) == "" && r.Str("default_value") == "" {
				return errs.Validation("Row #%d: a Document mapping for %s needs Remote Value Filters", r.Int("idx"), lf)
			}
			if v := r.Str("remote_value_filters"); v != "" && !json.Valid([]byte(v)) {
				return errs.Validation("Row #%d: Remote Value Filters must be a JSON object", r.Int("idx"))
			}
			fallthrough
		case "Child Table":
			if r.Str("mapping") == "" && r.Str("default_value") == "" {
				return errs.Validation("Row #%d: %s needs an inner Mapping", r.Int("idx"), lf)
			}
		default:
			if f != nil && (f.Fieldtype == "Link" || f.Fieldtype == "Dynamic Link" || meta.IsTable(f.Fieldtype)) &&
				r.Str("default_value") == "" && r.Str("remote_fieldname") == "" {
				return errs.Validation("Row #%d: %s is a %s: set a Mapping or a Default Value", r.Int("idx"), lf, f.Fieldtype)
			}
		}
	}
	return nil
}
