package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// Page sizes offered by the list, as in Frappe.
var pageSizes = []int{20, 100, 500}

type listView struct {
	DT         *meta.DocType
	URL        string
	Columns    []listCol
	Rows       []listRow
	Filters    []filterView
	Filtered   bool
	Total      int64
	From, To   int
	PageLength int
	PageSizes  []pageSize
	PrevURL    string
	NextURL    string
	CanCreate  bool
	NewURL     string
	ResyncAll  *resyncAllView // Event Sync Log: "Resync all failed"
	Error      string
	Sort       string // the sort asked for in the URL, kept by the filter form
	Order      string
}

type listCol struct {
	Field, Label string
	SortURL      string
	Sorted       string // "ascending", "descending" or ""
	Numeric      bool
}

type listRow struct {
	URL   string
	Name  string
	Title string
	Cells []listCell
}

type listCell struct {
	Text      string
	Indicator string
	Numeric   bool
	Check     bool
	Checked   bool
	Title     string
}

type filterView struct {
	Field, Label, Control, ID, Value string
	Options                          []string
	SuggestURL                       string
	LinkDocType                      string
}

type pageSize struct {
	N      int
	URL    string
	Active bool
}

type resyncAllView struct {
	Producer string
	Failed   int64
	Enabled  bool
}

// listFields are the columns of dt's list: fields marked in_list_view, or
// the first few value fields when none are.
func listFields(dt *meta.DocType) []*meta.Field {
	// The first column already shows the title (and the name): skip the
	// fields it shows.
	shown := map[string]bool{dt.TitleField: true}
	if fn, ok := strings.CutPrefix(dt.Autoname, "field:"); ok {
		shown[strings.TrimSpace(fn)] = true
	}
	var out []*meta.Field
	for _, f := range dt.ValueFields() {
		if f.InListView && !f.Hidden && f.Fieldtype != "Password" && !isWide(f) && !shown[f.Fieldname] {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		for _, f := range dt.ValueFields() {
			if !f.Hidden && f.Fieldtype != "Password" && !isWide(f) && !shown[f.Fieldname] && len(out) < 3 {
				out = append(out, f)
			}
		}
	}
	if len(out) > 6 {
		out = out[:6]
	}
	return out
}

// filterable reports whether the list offers a filter input for f.
func filterable(f *meta.Field) bool {
	switch f.Kind() {
	case meta.KindText, meta.KindCheck, meta.KindInt, meta.KindFloat, meta.KindDate:
		return f.Fieldtype != "Password" && !isWide(f)
	}
	return false
}

// exact reports whether a filter on f matches whole values (otherwise "like").
func exact(f *meta.Field) bool {
	switch f.Fieldtype {
	case "Select", "Link", "Dynamic Link", "Check", "Int", "Long Int", "Float", "Currency", "Percent", "Date":
		return true
	}
	return false
}

func (h *Handler) serveList(w http.ResponseWriter, r *http.Request, u perm.User, dt *meta.DocType) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(r.Method)
	}
	if dt.IsTable {
		return errs.NotFound("%s is a child table: its rows are listed in their parent documents", dt.Name)
	}
	q := r.URL.Query()
	v := &listView{DT: dt, URL: listURL(dt.Name)}
	cols := listFields(dt)

	// Filters: ID (name contains) and each list field that can be filtered.
	var filters []any
	idLabel := "ID"
	if fn, ok := strings.CutPrefix(dt.Autoname, "field:"); ok && dt.Field(strings.TrimSpace(fn)) != nil {
		idLabel = dt.Field(strings.TrimSpace(fn)).DisplayLabel()
	}
	fv := filterView{Field: "name", Label: idLabel, Control: ctlData, ID: "filter-name", Value: q.Get("name")}
	v.Filters = append(v.Filters, fv)
	if s := strings.TrimSpace(fv.Value); s != "" {
		filters = append(filters, []any{"name", "like", "%" + s + "%"})
	}
	for _, f := range cols {
		if !filterable(f) {
			continue
		}
		fv := filterView{Field: f.Fieldname, Label: f.DisplayLabel(), Control: controlOf(f), ID: "filter-" + f.Fieldname, Value: q.Get(f.Fieldname)}
		switch fv.Control {
		case ctlSelect:
			fv.Options = f.SelectOptions()
		case ctlCheck:
			fv.Control, fv.Options = ctlSelect, []string{"", "Yes", "No"}
		case ctlLink:
			fv.LinkDocType = f.Options
			fv.SuggestURL = "/app/_/link?" + url.Values{"doctype": {f.Options}}.Encode()
		}
		v.Filters = append(v.Filters, fv)
		val := strings.TrimSpace(fv.Value)
		if val == "" {
			continue
		}
		switch {
		case f.Kind() == meta.KindCheck:
			filters = append(filters, []any{f.Fieldname, "=", map[bool]int{true: 1, false: 0}[val == "Yes" || val == "1"]})
		case exact(f):
			filters = append(filters, []any{f.Fieldname, "=", val})
		default:
			filters = append(filters, []any{f.Fieldname, "like", "%" + val + "%"})
		}
	}
	v.Filtered = len(filters) > 0

	// Sorting: a known column, ascending or descending.
	sortField, order := dt.SortField, strings.ToLower(dt.SortOrder)
	if sortField == "" || !dt.HasColumn(sortField) {
		sortField = "modified"
	}
	if s := q.Get("sort"); s != "" && dt.HasColumn(s) {
		sortField, v.Sort = s, s
	}
	if o := strings.ToLower(q.Get("order")); o == "asc" || o == "desc" {
		order, v.Order = o, o
	}
	if order != "asc" {
		order = "desc"
	}

	// Paging.
	v.PageLength = 20
	if n, err := strconv.Atoi(q.Get("page_length")); err == nil && contains(intStrings(pageSizes), strconv.Itoa(n)) {
		v.PageLength = n
	}
	start, _ := strconv.Atoi(q.Get("start"))
	start = max(start, 0)

	fields := []any{"name", "modified"}
	for _, f := range cols {
		fields = append(fields, f.Fieldname)
	}
	if tf := dt.TitleOrName(); tf != "name" && dt.HasColumn(tf) {
		fields = append(fields, tf)
	}
	if dt.HasColumn("docstatus") {
		fields = append(fields, "docstatus")
	}
	args := app.ListArgs{DocType: dt.Name, Fields: fields, Filters: filters, OrderBy: sortField + " " + order,
		Start: start, Limit: v.PageLength}
	rows, err := h.app.List(r.Context(), u, args)
	if err != nil {
		if errs.KindOf(err) != errs.KindValidation && errs.KindOf(err) != errs.KindBadRequest {
			return err
		}
		v.Error, rows = h.userMessage(r, err), nil
	}
	if v.Error == "" {
		if v.Total, err = h.app.Count(r.Context(), u, app.ListArgs{DocType: dt.Name, Filters: filters}); err != nil {
			return err
		}
	}

	// Columns with sort links; the ID column comes first.
	link := func(over url.Values) string {
		nq := url.Values{}
		for k, vs := range q {
			nq[k] = vs
		}
		for k, vs := range over {
			if len(vs) == 0 || vs[0] == "" {
				nq.Del(k)
			} else {
				nq[k] = vs
			}
		}
		if s := nq.Encode(); s != "" {
			return v.URL + "?" + s
		}
		return v.URL
	}
	addCol := func(field, label string, numeric bool) {
		c := listCol{Field: field, Label: label, Numeric: numeric}
		next := "asc"
		if field == sortField {
			c.Sorted = map[string]string{"asc": "ascending", "desc": "descending"}[order]
			if order == "asc" {
				next = "desc"
			}
		} else if field == "modified" || numeric {
			next = "desc"
		}
		c.SortURL = link(url.Values{"sort": {field}, "order": {next}, "start": nil})
		v.Columns = append(v.Columns, c)
	}
	first := "ID"
	if f := dt.Field(dt.TitleOrName()); f != nil {
		first = f.DisplayLabel()
	} else if fn, ok := strings.CutPrefix(dt.Autoname, "field:"); ok && dt.Field(strings.TrimSpace(fn)) != nil {
		first = dt.Field(strings.TrimSpace(fn)).DisplayLabel()
	}
	addCol("name", first, false)
	for _, f := range cols {
		k := f.Kind()
		addCol(f.Fieldname, f.DisplayLabel(), k == meta.KindInt || k == meta.KindFloat)
	}
	addCol("modified", "Last Updated", false)

	for _, d := range rows {
		lr := listRow{Name: d.Name(), URL: docURL(dt.Name, d.Name()), Title: d.Name()}
		if tf := dt.TitleOrName(); tf != "name" && d.Str(tf) != "" && d.Str(tf) != d.Name() {
			lr.Title = d.Str(tf)
		}
		for _, f := range cols {
			lr.Cells = append(lr.Cells, listCellOf(f, d))
		}
		m := d.Str("modified")
		if len(m) > 16 {
			m = m[:16]
		}
		lr.Cells = append(lr.Cells, listCell{Text: m, Title: d.Str("modified")})
		v.Rows = append(v.Rows, lr)
	}

	v.From, v.To = start+1, start+len(rows)
	if len(rows) == 0 {
		v.From = 0
	}
	if start > 0 {
		v.PrevURL = link(url.Values{"start": {strconv.Itoa(max(start-v.PageLength, 0))}})
		if start-v.PageLength <= 0 {
			v.PrevURL = link(url.Values{"start": nil})
		}
	}
	if int64(start+len(rows)) < v.Total {
		v.NextURL = link(url.Values{"start": {strconv.Itoa(start + v.PageLength)}})
	}
	for _, n := range pageSizes {
		v.PageSizes = append(v.PageSizes, pageSize{N: n, Active: n == v.PageLength,
			URL: link(url.Values{"page_length": {strconv.Itoa(n)}, "start": nil})})
	}
	v.CanCreate = !dt.InCreate && !dt.IsSingle && perm.Can(dt, u, perm.Create, "")
	v.NewURL = v.URL + "/new"
	if dt.Name == "Event Sync Log" {
		ra := &resyncAllView{Producer: q.Get("event_producer"), Enabled: h.sv != nil}
		ff := []any{[]any{"status", "=", "Failed"}}
		if ra.Producer != "" {
			ff = append(ff, []any{"event_producer", "=", ra.Producer})
		}
		if n, err := h.app.Count(r.Context(), u, app.ListArgs{DocType: dt.Name, Filters: ff}); err == nil {
			ra.Failed = n
		}
		v.ResyncAll = ra
	}
	crumbs := docTypeCrumbs(dt)
	h.render(w, r, http.StatusOK, "list", &page{Title: dt.Name, User: u, Crumbs: crumbs, Body: v})
	return nil
}

func listCellOf(f *meta.Field, d doc.Doc) listCell {
	v := d[f.Fieldname]
	switch f.Kind() {
	case meta.KindCheck:
		return listCell{Check: true, Checked: doc.Checked(v), Text: map[bool]string{true: "Yes", false: "No"}[doc.Checked(v)]}
	case meta.KindInt, meta.KindFloat:
		if f.Fieldtype == "Currency" {
			x, _ := v.(float64)
			return listCell{Text: formatMoney(x), Numeric: true}
		}
		return listCell{Text: formatNumber(v), Numeric: true}
	case meta.KindDatetime:
		s := valueText(f, v)
		return listCell{Text: strings.Replace(s, "T", " ", 1), Title: d.Str(f.Fieldname)}
	}
	s := valueText(f, v)
	c := listCell{Text: s}
	if f.Fieldtype == "Select" && s != "" && (f.Fieldname == "status" || f.Fieldname == "update_type" || strings.HasSuffix(f.Fieldname, "_status")) {
		c.Indicator = indicatorClass(s)
	}
	return c
}

func intStrings(l []int) []string {
	out := make([]string, len(l))
	for i, n := range l {
		out[i] = strconv.Itoa(n)
	}
	return out
}

// postList handles the list's actions: "Resync all failed" on Event Sync Log.
func (h *Handler) postList(w http.ResponseWriter, r *http.Request, u perm.User, dt *meta.DocType) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	switch action := r.PostForm.Get("_action"); {
	case action == "resync_all" && dt.Name == "Event Sync Log":
		return h.resyncAll(w, r, u, r.PostForm.Get("event_producer"))
	default:
		return errs.BadRequest("Unknown action %q for %s", action, dt.Name)
	}
}

// serveLinkOptions answers a Link input's suggestions: <option>s for its
// <datalist>, at most 20 names containing txt (what was typed). A user who may not
// list the target DocType gets no suggestions rather than an error.
func (h *Handler) serveLinkOptions(w http.ResponseWriter, r *http.Request, u perm.User) error {
	q := r.URL.Query()
	target := q.Get("doctype")
	txt := strings.TrimSpace(q.Get("txt"))
	type option struct{ Value, Label string }
	var opts []option
	dt, err := h.app.Meta(r.Context(), target)
	if err == nil && !dt.IsTable {
		var filters []any
		if txt != "" {
			filters = append(filters, []any{"name", "like", "%" + txt + "%"})
		}
		filters = append(filters, linkFilters[q.Get("for")]...)
		fields := []any{"name"}
		tf := dt.TitleOrName()
		if tf != "name" {
			fields = append(fields, tf)
		}
		rows, err := h.app.List(r.Context(), u, app.ListArgs{DocType: target, Fields: fields, Filters: filters, OrderBy: "modified desc", Limit: 20})
		switch {
		case err == nil:
			for _, d := range rows {
				o := option{Value: d.Name()}
				if tf != "name" && d.Str(tf) != "" && d.Str(tf) != d.Name() {
					o.Label = d.Str(tf)
				}
				opts = append(opts, o)
			}
		case errs.KindOf(err) == errs.KindInternal:
			return err
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	h.renderPartial(w, r, http.StatusOK, "link-options", opts)
	return nil
}
