package app

import (
	"context"
	"fmt"
	"strings"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
	"docstream/internal/secret"
)

// checkLinks verifies that every Link and Dynamic Link value of d and its
// child rows names an existing document (reference §3). All misses are
// reported in one LinkValidationError, as Frappe does.
func (t *Tx) checkLinks(ctx context.Context, dt *meta.DocType, d doc.Doc) error {
	var missing []string
	check := func(m *meta.DocType, row doc.Doc, prefix string) error {
		for _, f := range m.ValueFields() {
			v := row.Str(f.Fieldname)
			if v == "" {
				continue
			}
			target := f.Options
			if f.Fieldtype == "Dynamic Link" {
				target = row.Str(f.Options)
				if target == "" {
					of := m.Field(f.Options)
					return errs.Validation("%s%s must be set first", prefix, of.DisplayLabel())
				}
			} else if f.Fieldtype != "Link" {
				continue
			}
			tdt, err := t.Meta(target)
			if err != nil {
				missing = append(missing, fmt.Sprintf("%s%s: %s (DocType %s not found)", prefix, f.DisplayLabel(), v, target))
				continue
			}
			ok, err := t.Exists(ctx, tdt, v)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, fmt.Sprintf("%s%s: %s", prefix, f.DisplayLabel(), v))
			}
		}
		return nil
	}
	if err := check(dt, d, ""); err != nil {
		return err
	}
	for _, tf := range dt.TableFields() {
		child, err := t.Meta(tf.Options)
		if err != nil {
			return err
		}
		for _, r := range d.Rows(tf.Fieldname) {
			if err := check(child, r, fmt.Sprintf("Row #%d: ", r.Int("idx"))); err != nil {
				return err
			}
		}
	}
	if len(missing) > 0 {
		return errs.Invalid("LinkValidationError", "Could not find %s", strings.Join(missing, ", "))
	}
	return nil
}

// savePasswords encrypts new Password values into __Auth and leaves only a
// mask in the row. A mask or an unchanged value keeps the stored secret.
func (t *Tx) savePasswords(ctx context.Context, dt *meta.DocType, d, old doc.Doc) error {
	for _, f := range dt.ValueFields() {
		if f.Fieldtype != "Password" {
			continue
		}
		v := d.Str(f.Fieldname)
		switch {
		case v == "":
			d[f.Fieldname] = nil
		case secret.IsMask(v):
			if old != nil {
				d[f.Fieldname] = old[f.Fieldname]
			}
		default:
			if t.s.Box == nil {
				return fmt.Errorf("no site key: cannot store %s", f.Fieldname)
			}
			ct, err := t.s.Box.Encrypt(v)
			if err != nil {
				return err
			}
			if err := t.SetSecret(ctx, dt.Name, d.Name(), f.Fieldname, ct); err != nil {
				return err
			}
			d[f.Fieldname] = secret.Mask(v)
		}
	}
	return nil
}

// Password returns the clear value of a Password field ("" when unset).
func (t *Tx) Password(ctx context.Context, doctype, name, field string) (string, error) {
	ct, ok, err := t.GetSecret(ctx, doctype, name, field)
	if err != nil || !ok {
		return "", err
	}
	return t.s.Box.Decrypt(ct)
}
