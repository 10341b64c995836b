package api

import (
	"net/http"
	"net/url"
	"strings"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
)

// serveResource handles /api/resource/{doctype}[/{name}]. The name is
// everything after the DocType segment, percent-decoded, `/` and `://`
// included; one trailing slash is optional.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, args *Args, rest string) {
	seg, tail, hasName := strings.Cut(rest, "/")
	doctype, err := url.PathUnescape(seg)
	if err != nil || doctype == "" {
		WriteError(w, r, s.Log, errs.NotFound("DocType not found"))
		return
	}
	name := ""
	if hasName {
		tail = strings.TrimSuffix(tail, "/")
		if name, err = url.PathUnescape(tail); err != nil {
			WriteError(w, r, s.Log, errs.BadRequest("bad document name in URL: %v", err))
			return
		}
	}
	u, err := s.authenticate(r)
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	ctx := r.Context()
	var out any
	code := http.StatusOK
	switch {
	case name == "" && r.Method == http.MethodGet:
		out, err = s.App.List(ctx, u, listArgs(doctype, args))
		if err == nil {
			out, err = listOut(out.([]doc.Doc), args)
		}
	case name == "" && r.Method == http.MethodPost:
		var d doc.Doc
		if d, err = args.ResourceBody(); err == nil {
			var res doc.Doc
			res, err = s.App.Insert(ctx, u, doctype, d, app.Opts{})
			out = publicDoc(res)
		}
	case name != "" && r.Method == http.MethodGet:
		var res doc.Doc
		res, err = s.App.Get(ctx, u, doctype, name)
		out = publicDoc(res)
	case name != "" && r.Method == http.MethodPut:
		var d doc.Doc
		if d, err = args.ResourceBody(); err == nil {
			var res doc.Doc
			res, err = s.App.Save(ctx, u, doctype, name, d, app.Opts{})
			out = publicDoc(res)
		}
	case name != "" && r.Method == http.MethodDelete:
		err = s.App.Delete(ctx, u, doctype, name, app.Opts{})
		out, code = "ok", http.StatusAccepted
	default:
		err = errs.New(errs.KindBadRequest, "ValidationError", "method %s not allowed here", r.Method)
		w.Header().Set("Allow", "GET, POST, PUT, DELETE")
	}
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	writeJSON(w, code, map[string]any{"data": out})
}

// publicDoc is a document as GET/POST/PUT resource return it: nulls omitted.
func publicDoc(d doc.Doc) doc.Doc {
	if d == nil {
		return nil
	}
	return d.WithoutNulls()
}

func listArgs(doctype string, a *Args) app.ListArgs {
	la := app.ListArgs{DocType: doctype, Fields: a.Get("fields"), Filters: a.Get("filters"),
		OrFilters: a.Get("or_filters"), OrderBy: a.Str("order_by"), Start: a.Get("limit_start"), Parent: a.Str("parent")}
	switch {
	case a.Has("limit_page_length"):
		la.Limit = a.Get("limit_page_length")
	case a.Has("limit"):
		la.Limit = a.Get("limit")
	}
	if s, ok := la.Start.(string); ok && s == "" {
		la.Start = nil
	}
	return la
}

// listOut shapes list rows: objects by default, arrays when as_dict is false.
func listOut(rows []doc.Doc, a *Args) (any, error) {
	if rows == nil {
		rows = []doc.Doc{}
	}
	for _, r := range rows {
		delete(r, "doctype")
	}
	if a.Has("as_dict") && !sbool(a.Str("as_dict")) {
		fields, _ := a.JSON("fields")
		names := []string{"name"}
		if l, ok := fields.([]any); ok && len(l) > 0 {
			names = names[:0]
			for _, f := range l {
				s, _ := f.(string)
				names = append(names, s)
			}
		}
		out := make([][]any, len(rows))
		for i, r := range rows {
			for _, n := range names {
				out[i] = append(out[i], r[n])
			}
		}
		return out, nil
	}
	return rows, nil
}

// sbool is Frappe's sbool: "0", "false", "no", "" are false.
func sbool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "off", "null":
		return false
	}
	return true
}
