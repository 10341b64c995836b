package app

import (
	"context"
	"encoding/json"
	"strconv"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// Get reads one document with its child rows, checking read permission.
func (s *Service) Get(ctx context.Context, u perm.User, doctype, name string) (doc.Doc, error) {
	var d doc.Doc
	err := s.View(ctx, func(t *Tx) error {
		dt, err := t.Meta(doctype)
		if err != nil {
			return err
		}
		if d, err = t.Load(ctx, dt, name, false); err != nil {
			return err
		}
		if !perm.Can(dt, u, perm.Read, d.Str("owner")) {
			return errs.Permission("You need the 'read' permission on %s %s to perform this action.", dt.Name, name)
		}
		return nil
	})
	return d, err
}

// ListArgs are Frappe's list parameters, raw as they arrived (JSON text or
// decoded values).
type ListArgs struct {
	DocType   string
	Fields    any
	Filters   any
	OrFilters any
	OrderBy   string
	Start     any
	Limit     any // nil: 20; 0: no limit
	Parent    string
}

// List runs a permission-checked list query.
func (s *Service) List(ctx context.Context, u perm.User, a ListArgs) ([]doc.Doc, error) {
	var out []doc.Doc
	err := s.View(ctx, func(t *Tx) error {
		q, err := t.ListQuery(u, a)
		if err != nil {
			return err
		}
		out, err = t.Select(ctx, q)
		return err
	})
	return out, err
}

// Count counts the documents matching the filters.
func (s *Service) Count(ctx context.Context, u perm.User, a ListArgs) (int64, error) {
	var n int64
	err := s.View(ctx, func(t *Tx) error {
		q, err := t.ListQuery(u, a)
		if err != nil {
			return err
		}
		n, err = t.Tx.Count(ctx, q)
		return err
	})
	return n, err
}

// ListQuery validates list arguments into a query, applying read permission.
func (t *Tx) ListQuery(u perm.User, a ListArgs) (*filter.Query, error) {
	dt, err := t.Meta(a.DocType)
	if err != nil {
		return nil, err
	}
	check := dt
	if dt.IsTable {
		// Child rows are readable through their parent (reference §7).
		if a.Parent == "" {
			return nil, errs.Permission("Listing %s needs the parent parameter (the parent DocType)", dt.Name)
		}
		if check, err = t.Meta(a.Parent); err != nil {
			return nil, err
		}
		// The parent must really hold this child table, or read permission
		// on any DocType would open every child table (Has Role, DocField…).
		holds := false
		for _, tf := range check.TableFields() {
			holds = holds || tf.Options == dt.Name
		}
		if !holds {
			return nil, errs.Permission("%s is not a child table of %s", dt.Name, check.Name)
		}
	}
	if !perm.Can(check, u, perm.Select, "") {
		return nil, errs.Permission("No permission to read %s", check.Name)
	}
	q := &filter.Query{DocType: dt}
	if q.Fields, err = filter.ParseFields(dt, a.Fields); err != nil {
		return nil, err
	}
	if q.Where, err = filter.Parse(dt, t.Meta, a.Filters); err != nil {
		return nil, err
	}
	if q.Or, err = filter.Parse(dt, t.Meta, a.OrFilters); err != nil {
		return nil, err
	}
	if dt.IsTable {
		q.Where = append(q.Where, filter.Cond{Field: "parenttype", Op: "=", Value: check.Name, Kind: meta.KindText})
	}
	if perm.OnlyOwn(check, u, perm.Read) && !dt.IsTable {
		q.Where = append(q.Where, filter.Cond{Field: "owner", Op: "=", Value: u.Name, Kind: meta.KindText})
	}
	if q.OrderBy, err = filter.ParseOrder(dt, a.OrderBy); err != nil {
		return nil, err
	}
	if q.Offset, err = intArg("limit_start", a.Start, 0); err != nil {
		return nil, err
	}
	if q.Limit, err = intArg("limit_page_length", a.Limit, 20); err != nil {
		return nil, err
	}
	return q, nil
}

func intArg(name string, v any, def int) (int, error) {
	switch x := v.(type) {
	case nil:
		return def, nil
	case float64:
		if x >= 0 && x < 1e9 {
			return int(x), nil
		}
	case int64:
		if x >= 0 && x < 1e9 {
			return int(x), nil
		}
	case int:
		if x >= 0 {
			return x, nil
		}
	case json.Number:
		return intArg(name, x.String(), def)
	case string:
		if x == "" {
			return def, nil
		}
		n, err := strconv.Atoi(x)
		if err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, errs.Invalid("DataError", "%s must be a non-negative integer", name)
}
