package api

import (
	"encoding/json"
	"net/http"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
)

// registerClient whitelists frappe.client.* (reference §6.1).
func (s *Server) registerClient() {
	s.Register("frappe.client.get_list", Method{Fn: func(c *Call) (any, error) {
		a := listArgs(c.Args.Str("doctype"), c.Args)
		if !c.Args.Has("limit_page_length") {
			a.Limit = nil
		}
		rows, err := s.App.List(c.Ctx, c.User, a)
		if err != nil {
			return nil, err
		}
		return listOut(rows, c.Args)
	}})
	s.Register("frappe.client.get_count", Method{Fn: func(c *Call) (any, error) {
		return s.App.Count(c.Ctx, c.User, app.ListArgs{DocType: c.Args.Str("doctype"), Filters: c.Args.Get("filters"), Limit: 0})
	}})
	s.Register("frappe.client.get", Method{Fn: func(c *Call) (any, error) {
		dt, name := c.Args.Str("doctype"), c.Args.Str("name")
		if name == "" {
			rows, err := s.App.List(c.Ctx, c.User, app.ListArgs{DocType: dt, Filters: c.Args.Get("filters"), Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(rows) == 0 {
				return nil, errs.NotFound("%s not found", dt)
			}
			name = rows[0].Name()
		}
		return s.App.Get(c.Ctx, c.User, dt, name)
	}})
	s.Register("frappe.client.get_value", Method{Fn: s.getValue})
	s.Register("frappe.client.insert", Method{HTTP: postOnly, Fn: func(c *Call) (any, error) {
		d, err := c.Args.Doc("doc")
		if err != nil {
			return nil, err
		}
		return s.App.Insert(c.Ctx, c.User, d.Str("doctype"), d, app.Opts{})
	}})
	s.Register("frappe.client.save", Method{HTTP: postOnly, Fn: func(c *Call) (any, error) {
		d, err := c.Args.Doc("doc")
		if err != nil {
			return nil, err
		}
		if d.Name() == "" {
			return s.App.Insert(c.Ctx, c.User, d.Str("doctype"), d, app.Opts{})
		}
		return s.App.Save(c.Ctx, c.User, d.Str("doctype"), d.Name(), d, app.Opts{})
	}})
	s.Register("frappe.client.submit", Method{HTTP: postOnly, Fn: func(c *Call) (any, error) {
		d, err := c.Args.Doc("doc")
		if err != nil {
			return nil, err
		}
		d["docstatus"] = int64(1)
		return s.App.Save(c.Ctx, c.User, d.Str("doctype"), d.Name(), d, app.Opts{})
	}})
	s.Register("frappe.client.cancel", Method{HTTP: postOnly, Fn: func(c *Call) (any, error) {
		return s.App.Save(c.Ctx, c.User, c.Args.Str("doctype"), c.Args.Str("name"), doc.Doc{"docstatus": int64(2)}, app.Opts{})
	}})
	s.Register("frappe.client.delete", Method{HTTP: []string{http.MethodPost, http.MethodDelete}, Fn: func(c *Call) (any, error) {
		return nil, s.App.Delete(c.Ctx, c.User, c.Args.Str("doctype"), c.Args.Str("name"), app.Opts{})
	}})
	s.Register("frappe.client.set_value", Method{HTTP: postOnly, Fn: func(c *Call) (any, error) {
		patch := doc.Doc{}
		fv, err := c.Args.JSON("fieldname")
		if m, ok := fv.(map[string]any); ok && err == nil {
			patch = doc.FromAny(m)
		} else {
			patch[c.Args.Str("fieldname")] = c.Args.Get("value")
		}
		for _, k := range []string{"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "parent", "parenttype", "parentfield", "doctype"} {
			if _, ok := patch[k]; ok {
				return nil, errs.Validation("Cannot edit standard field %s", k)
			}
		}
		return s.App.Save(c.Ctx, c.User, c.Args.Str("doctype"), c.Args.Str("name"), patch, app.Opts{})
	}})
}

// getValue answers frappe.client.get_value: filters may be a plain name or
// JSON; fieldname one name or a JSON list; an object unless as_dict is off.
func (s *Server) getValue(c *Call) (any, error) {
	dtName := c.Args.Str("doctype")
	filters, err := c.Args.JSON("filters")
	if err != nil {
		// A plain document name is allowed as filters.
		filters = map[string]any{"name": c.Args.Str("filters")}
	}
	if str, ok := filters.(string); ok {
		filters = map[string]any{"name": str}
	}
	var fields []any
	fv, ferr := c.Args.JSON("fieldname")
	switch x := fv.(type) {
	case []any:
		fields = x
	case string:
		fields = []any{x}
	}
	if ferr != nil || fv == nil {
		if f := c.Args.Str("fieldname"); f != "" {
			fields = []any{f}
		}
	}
	if len(fields) == 0 {
		fields = []any{"name"}
	}
	rows, err := s.App.List(c.Ctx, c.User, app.ListArgs{DocType: dtName, Fields: fields, Filters: filters, Limit: 1, OrderBy: ""})
	if err != nil {
		return nil, err
	}
	asDict := pyTruthy(c.Args.Get("as_dict"), true)
	if len(rows) == 0 {
		if !asDict {
			return nil, nil
		}
		return map[string]any{}, nil
	}
	out := map[string]any{}
	vals := make([]any, 0, len(fields))
	for _, f := range fields {
		k, _ := f.(string)
		out[k] = rows[0][k]
		vals = append(vals, rows[0][k])
	}
	if !asDict {
		if len(vals) == 1 {
			return vals[0], nil
		}
		return vals, nil
	}
	return out, nil
}

// pyTruthy is Python's truth value of an argument, def when it is absent.
// Frappe passes query and form values to get_value as strings, so "0" and
// "false" are true there (frappe-js-sdk sends as_dict=false and still gets a
// dict); only a JSON false or 0, or an empty string, is false.
func pyTruthy(v any, def bool) bool {
	switch x := v.(type) {
	case nil:
		return def
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	case float64:
		return x != 0
	}
	return true
}
