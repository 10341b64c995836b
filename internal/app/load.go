package app

import (
	"context"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
)

// Load reads a whole document (with child rows) or answers DoesNotExistError.
func (t *Tx) Load(ctx context.Context, dt *meta.DocType, name string, forUpdate bool) (doc.Doc, error) {
	d, err := t.Find(ctx, dt, name, forUpdate)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errs.NotFound("%s %s not found", dt.Name, name)
	}
	return d, nil
}

// Find is Load that returns nil, nil when the document does not exist.
func (t *Tx) Find(ctx context.Context, dt *meta.DocType, name string, forUpdate bool) (doc.Doc, error) {
	d, err := t.GetRow(ctx, dt, name, forUpdate)
	if err != nil || d == nil {
		return nil, err
	}
	for _, tf := range dt.TableFields() {
		child, err := t.Meta(tf.Options)
		if err != nil {
			return nil, err
		}
		rows, err := t.ChildRows(ctx, child, dt.Name, tf.Fieldname, d.Name())
		if err != nil {
			return nil, err
		}
		if rows == nil {
			rows = []doc.Doc{}
		}
		d[tf.Fieldname] = rows
	}
	return d, nil
}

// prepare turns client input into canonical values of dt: unknown and private
// keys are dropped (Frappe ignores them), values are coerced, table rows are
// prepared with the child DocType.
func (t *Tx) prepare(dt *meta.DocType, in doc.Doc, keepStd bool) (doc.Doc, error) {
	out := make(doc.Doc, len(in))
	for k, v := range in {
		switch {
		case k == "name" || k == "docstatus" || k == "idx" || k == "modified":
			out[k] = v
		case dt.IsStd(k):
			if keepStd {
				out[k] = v
			}
		case k == "__newname" || k == "doctype":
			out[k] = v
		}
		f := dt.Field(k)
		if f == nil || f.Kind() == meta.KindNone {
			continue
		}
		if f.Kind() == meta.KindTable {
			child, err := t.Meta(f.Options)
			if err != nil {
				return nil, err
			}
			rows, err := tableRows(f, v)
			if err != nil {
				return nil, err
			}
			prepared := make([]doc.Doc, 0, len(rows))
			for _, r := range rows {
				pr, err := t.prepare(child, r, keepStd)
				if err != nil {
					return nil, err
				}
				prepared = append(prepared, pr)
			}
			out[k] = prepared
			continue
		}
		cv, err := doc.Coerce(f, v)
		if err != nil {
			return nil, err
		}
		out[k] = cv
	}
	for _, k := range []string{"docstatus", "idx"} {
		if v, ok := out[k]; ok {
			n, err := doc.Coerce(&meta.Field{Fieldname: k, Fieldtype: "Int"}, v)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
	}
	if v, ok := out["name"]; ok {
		if _, isInt := v.(int64); !isInt || dt.Autoname != "autoincrement" {
			out["name"] = doc.NameString(v)
		}
	}
	if v, ok := out["modified"]; ok {
		s, _ := v.(string)
		out["modified"] = s
	}
	return out, nil
}

func tableRows(f *meta.Field, v any) ([]doc.Doc, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []doc.Doc:
		return x, nil
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
	}
	return nil, errs.Invalid("FrappeTypeError", "%s must be a list of rows", f.DisplayLabel())
}
