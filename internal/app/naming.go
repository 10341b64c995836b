package app

import (
	"context"
	"strings"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
)

// newName names a new document (reference §2.1, §2.2). The client's name is
// kept only for Prompt DocTypes or when opts.SetName is given.
func (s *Service) newName(ctx context.Context, t *Tx, dt *meta.DocType, d doc.Doc, opts Opts) (any, error) {
	if opts.SetName != "" {
		if dt.Autoname == "autoincrement" {
			if n, ok := d["name"].(int64); ok {
				return n, nil
			}
		}
		return doc.ValidateName(dt.Name, opts.SetName)
	}
	an := dt.Autoname
	switch {
	case dt.Name == "Custom Field":
		return doc.ValidateName(dt.Name, d.Str("dt")+"-"+d.Str("fieldname"))
	case strings.EqualFold(an, "Prompt"):
		name := d.Name()
		if name == "" {
			name = d.Str("__newname")
		}
		if strings.TrimSpace(name) == "" {
			return nil, errs.Validation("Please set the document name")
		}
		return doc.ValidateName(dt.Name, name)
	case strings.HasPrefix(an, "field:"):
		fn := strings.TrimSpace(strings.TrimPrefix(an, "field:"))
		v := strings.TrimSpace(doc.NameString(d[fn]))
		if v == "" {
			f := dt.Field(fn)
			return nil, errs.Invalid("MandatoryError", "%s is required", f.DisplayLabel())
		}
		return doc.ValidateName(dt.Name, v)
	case an == "autoincrement":
		n, err := t.NextSeries(ctx, "__autoincrement:"+dt.Name)
		return n, err
	case strings.HasPrefix(an, "naming_series:"):
		series := d.Str("naming_series")
		if series == "" {
			if f := dt.Field("naming_series"); f != nil {
				for _, o := range f.SelectOptions() {
					if o != "" {
						series = o
						break
					}
				}
			}
			d["naming_series"] = series
		}
		if series == "" {
			return nil, errs.Invalid("MandatoryError", "Naming Series is required")
		}
		sr, err := doc.ParseSeries(series, d, t.Now())
		if err != nil {
			return nil, err
		}
		return s.fromSeries(ctx, t, dt, sr)
	case strings.HasPrefix(an, "format:"):
		sr, err := doc.ParseFormat(an, d, t.Now())
		if err != nil {
			return nil, err
		}
		return s.fromSeries(ctx, t, dt, sr)
	case strings.Contains(an, "#"):
		sr, err := doc.ParseSeries(an, d, t.Now())
		if err != nil {
			return nil, err
		}
		return s.fromSeries(ctx, t, dt, sr)
	}
	return doc.HashName(s.Rand)
}

func (s *Service) fromSeries(ctx context.Context, t *Tx, dt *meta.DocType, sr doc.Series) (any, error) {
	if sr.Digits == 0 {
		return doc.ValidateName(dt.Name, sr.Render(0)) // a format: pattern without a counter
	}
	n, err := t.NextSeries(ctx, sr.Key)
	if err != nil {
		return nil, err
	}
	return doc.ValidateName(dt.Name, sr.Render(n))
}
