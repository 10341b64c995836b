package app

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"docstream/internal/meta"
	"docstream/internal/store"
)

//go:embed builtin/*.json
var builtinFS embed.FS

// metaCache holds every DocType's effective definition, keyed by the
// database's meta version so that processes sharing a database reload after
// another one changes a DocType or Custom Field.
type metaCache struct {
	mu       sync.Mutex
	version  int64
	metas    map[string]*meta.DocType
	builtins map[string]*meta.DocType
	order    []string // built-ins in registration order (children first)
}

func newMetaCache() *metaCache {
	c := &metaCache{builtins: map[string]*meta.DocType{}}
	if err := c.addFS(builtinFS, "builtin"); err != nil {
		panic(err) // embedded files are part of the binary: a bad one is a build bug
	}
	return c
}

func (c *metaCache) addFS(fsys fs.FS, dir string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	var dts []*meta.DocType
	for _, e := range entries {
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return err
		}
		dt, err := meta.ParseJSON(b)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		dts = append(dts, dt)
	}
	// Child tables first, so parents can be created after them.
	sort.SliceStable(dts, func(i, j int) bool { return dts[i].IsTable && !dts[j].IsTable })
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, dt := range dts {
		c.builtins[dt.Name] = dt
		c.order = append(c.order, dt.Name)
	}
	c.metas = nil
	return nil
}

// RegisterBuiltin adds DocTypes shipped with a feature (Event Streaming): every
// *.json file in dir of fsys. Call before Setup.
func (s *Service) RegisterBuiltin(fsys fs.FS, dir string) error { return s.metas.addFS(fsys, dir) }

func (c *metaCache) get(ctx context.Context, tx store.Tx) (map[string]*meta.DocType, int64, error) {
	v, err := tx.MetaVersion(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("meta version: %w", err)
	}
	c.mu.Lock()
	if c.metas != nil && c.version == v {
		m := c.metas
		c.mu.Unlock()
		return m, v, nil
	}
	c.mu.Unlock()
	m, err := c.load(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	c.metas, c.version = m, v
	c.mu.Unlock()
	return m, v, nil
}

// load builds the effective metadata: built-ins from the binary, custom
// DocTypes from tabDocType, then Custom Fields merged into both.
func (c *metaCache) load(ctx context.Context, tx store.Tx) (map[string]*meta.DocType, error) {
	c.mu.Lock()
	m := make(map[string]*meta.DocType, len(c.builtins))
	for n, dt := range c.builtins {
		m[n] = dt.Clone()
	}
	c.mu.Unlock()
	dtMeta, fieldMeta, permMeta := m["DocType"], m["DocField"], m["DocPerm"]
	rows, err := tx.Select(ctx, allRows(dtMeta))
	if err != nil {
		return nil, fmt.Errorf("load DocTypes: %w", err)
	}
	for _, r := range rows {
		if _, builtin := c.builtins[r.Name()]; builtin {
			continue
		}
		fields, err := tx.ChildRows(ctx, fieldMeta, "DocType", "fields", r.Name())
		if err != nil {
			return nil, err
		}
		perms, err := tx.ChildRows(ctx, permMeta, "DocType", "permissions", r.Name())
		if err != nil {
			return nil, err
		}
		r["fields"], r["permissions"] = fields, perms
		dt, err := meta.FromMap(r.Plain())
		if err != nil {
			return nil, fmt.Errorf("DocType %s: %w", r.Name(), err)
		}
		m[dt.Name] = dt
	}
	cfs, err := tx.Select(ctx, allRows(m["Custom Field"]))
	if err != nil {
		return nil, fmt.Errorf("load Custom Fields: %w", err)
	}
	for _, cf := range cfs {
		dt, ok := m[cf.Str("dt")]
		if !ok || dt.Field(cf.Str("fieldname")) != nil {
			continue
		}
		f := meta.FieldFromMap(cf.Plain())
		f.Custom = true
		*dt = *withField(dt, f)
	}
	return m, nil
}

// withField returns dt with f inserted after f.InsertAfter (or at the end).
func withField(dt *meta.DocType, f meta.Field) *meta.DocType {
	c := dt.Clone()
	pos := len(c.Fields)
	for i, x := range c.Fields {
		if f.InsertAfter != "" && x.Fieldname == f.InsertAfter {
			pos = i + 1
		}
	}
	c.Fields = append(c.Fields[:pos], append([]meta.Field{f}, c.Fields[pos:]...)...)
	c.Reindex()
	return c
}
