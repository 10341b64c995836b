package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"docstream/internal/doc"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// Controls: how a field is edited in a form.
const (
	ctlData     = "data"
	ctlLink     = "link"
	ctlSelect   = "select"
	ctlCheck    = "check"
	ctlInt      = "int"
	ctlFloat    = "float"
	ctlDate     = "date"
	ctlDatetime = "datetime"
	ctlTime     = "time"
	ctlText     = "text"
	ctlCode     = "code"
	ctlPassword = "password"
	ctlTable    = "table"
)

// passwordMask stands for a stored password in a form. Saving it back means
// "unchanged" (all-asterisk values are ignored, as in Frappe). Its length is
// fixed so the form does not reveal the password's length.
const passwordMask = "********"

// editableAlways lists read-only fields the desk still lets users edit: the
// producer site approves subscriptions by editing Event Consumer rows.
var editableAlways = map[string]bool{
	"Event Consumer Document Type.status": true,
}

// linkFilters narrows Link suggestions for some fields (as Frappe's form
// scripts do): subscriptions and mappings name real, non-child DocTypes.
var linkFilters = map[string][]any{
	"Event Producer Document Type.ref_doctype": {[]any{"istable", "=", 0}, []any{"issingle", "=", 0}},
	"Document Type Mapping.local_doctype":      {[]any{"istable", "=", 0}, []any{"issingle", "=", 0}},
}

// fieldView is one field as a form shows it.
type fieldView struct {
	Fieldname   string
	Label       string
	Fieldtype   string
	Control     string
	InputName   string
	ID          string
	Value       string
	Checked     bool
	Options     []string
	Required    bool
	ReadOnly    bool // shown as text, not as an input
	Wide        bool
	LinkDocType string
	LinkURL     string // the linked document, for a Link with a value
	SuggestURL  string // htmx source of Link suggestions
	Display     string // read-only text
	Pre         bool   // read-only text keeps its line breaks (code, long text)
	Indicator   string // pill colour for a read-only status
	Grid        *gridView
	InGrid      bool
	Invalid     bool // named by the last error: aria-invalid, red outline
}

// gridView is a child table: an editable grid when the form can change it.
type gridView struct {
	Fieldname string
	Label     string
	Required  bool
	Columns   []gridCol
	Rows      []*gridRow
	Template  *gridRow // the blank row "Add Row" copies; nil when rows cannot be added
	CanRemove bool
	NextKey   int
	Editable  bool // any cell can be edited
	HasDetail bool // rows have fields beyond the columns
	Invalid   bool // the table itself is named by the last error (e.g. empty)
}

type gridCol struct {
	Fieldname, Label string
	Required         bool
	Control          string
}

type gridRow struct {
	Table     string // the table field, prefix of the inputs' names
	Key       string
	Num       int
	Name      string
	Cells     []*fieldView
	Detail    []*fieldView // the row's other fields, below it
	HasDetail bool
	Span      int // columns of the grid, for the detail row
	CanRemove bool
}

type sectionView struct {
	Label  string
	ID     string
	Blocks []blockView
	Keys   *keysView // the User form's API Access box
}

// blockView is either a row of columns or one wide field (table, code).
type blockView struct {
	Columns [][]*fieldView
	Wide    *fieldView
}

// formCtx decides, for one form, what is shown and what can be edited.
type formCtx struct {
	u         perm.User
	isNew     bool
	canEdit   bool // write (or create) permission on the document
	docstatus int64
	metaOf    func(string) (*meta.DocType, error)
	now       time.Time
}

func (fc *formCtx) visible(f *meta.Field) bool {
	if f.Hidden || f.Kind() == meta.KindNone {
		return false
	}
	// perm only grants level 0; higher levels stay with the Administrator.
	return f.Permlevel == 0 || fc.u.IsAdmin()
}

// editable reports whether f of dt is an input on this form. Decoding a POST
// uses the same rule, so only fields the form showed as inputs are written.
func (fc *formCtx) editable(dt *meta.DocType, f *meta.Field) bool {
	if !fc.canEdit || !fc.visible(f) {
		return false
	}
	switch fc.docstatus {
	case 1:
		if !f.AllowOnSubmit {
			return false
		}
	case 2:
		return false
	}
	if editableAlways[dt.Name+"."+f.Fieldname] {
		return true
	}
	if f.ReadOnly || f.Fieldtype == "Read Only" {
		return false
	}
	if f.SetOnlyOnce && !fc.isNew {
		return false
	}
	return true
}

func isWide(f *meta.Field) bool {
	switch f.Fieldtype {
	case "Table", "Table MultiSelect", "Code", "JSON", "Text", "Long Text", "Small Text",
		"Text Editor", "Markdown Editor", "HTML Editor", "Geolocation", "Signature":
		return true
	}
	return false
}

func controlOf(f *meta.Field) string {
	switch f.Fieldtype {
	case "Link":
		return ctlLink
	case "Select":
		return ctlSelect
	case "Check":
		return ctlCheck
	case "Int", "Long Int":
		return ctlInt
	case "Float", "Currency", "Percent", "Duration", "Rating":
		return ctlFloat
	case "Date":
		return ctlDate
	case "Datetime":
		return ctlDatetime
	case "Time":
		return ctlTime
	case "Small Text", "Text", "Long Text", "Text Editor", "Markdown Editor", "HTML Editor", "Geolocation", "Signature":
		return ctlText
	case "Code", "JSON":
		return ctlCode
	case "Password":
		return ctlPassword
	case "Table", "Table MultiSelect":
		return ctlTable
	}
	return ctlData
}

// fieldView builds the view of field f of dt with value v. inputName is the
// form key (fieldname, or table.key.fieldname in a grid).
func (fc *formCtx) fieldView(dt *meta.DocType, f *meta.Field, d doc.Doc, inputName string) *fieldView {
	v := d[f.Fieldname]
	fv := &fieldView{
		Fieldname: f.Fieldname, Label: f.DisplayLabel(), Fieldtype: f.Fieldtype,
		Control: controlOf(f), InputName: inputName, ID: "f-" + strings.NewReplacer(".", "-", " ", "-").Replace(inputName),
		Required: f.Reqd, ReadOnly: !fc.editable(dt, f), Wide: isWide(f),
	}
	switch fv.Control {
	case ctlCheck:
		fv.Checked = doc.Checked(v)
		fv.Display = map[bool]string{true: "Yes", false: "No"}[fv.Checked]
	case ctlSelect:
		fv.Options = f.SelectOptions()
		fv.Value = valueText(f, v)
		fv.Display = fv.Value
		if fv.Value != "" && (f.Fieldname == "status" || strings.HasSuffix(f.Fieldname, "_status") || f.Fieldname == "update_type") {
			fv.Indicator = indicatorClass(fv.Value)
		}
		if fv.Value != "" && !contains(fv.Options, fv.Value) {
			fv.Options = append(fv.Options, fv.Value) // keep a value the options lost
		}
	case ctlPassword:
		s := valueText(f, v)
		if s != "" && (fv.ReadOnly || isMask(s)) {
			s = passwordMask
		}
		fv.Value = s
		fv.Display = s
	case ctlTable:
		fv.Grid = fc.grid(dt, f, d)
	case ctlLink:
		fv.LinkDocType = f.Options
		fv.Value = valueText(f, v)
		fv.Display = fv.Value
		if fv.Value != "" {
			fv.LinkURL = docURL(f.Options, fv.Value)
		}
		q := url.Values{"doctype": {f.Options}}
		if _, ok := linkFilters[dt.Name+"."+f.Fieldname]; ok {
			q.Set("for", dt.Name+"."+f.Fieldname)
		}
		fv.SuggestURL = "/app/_/link?" + q.Encode()
	case ctlCode:
		fv.Value = valueText(f, v)
		fv.Display, fv.Pre = prettyJSON(fv.Value), true
	case ctlText:
		fv.Value = valueText(f, v)
		fv.Display, fv.Pre = fv.Value, true
	case ctlDatetime:
		fv.Value = valueText(f, v)
		fv.Display = strings.Replace(fv.Value, "T", " ", 1)
	default:
		fv.Value = valueText(f, v)
		fv.Display = fv.Value
	}
	return fv
}

// maxGridColumns bounds the columns of a grid whose child DocType marks
// none as in_list_view.
const maxGridColumns = 5

// grid builds the child table view of table field tf. As in Frappe, the
// grid's columns are the child's in_list_view fields; the other fields of a
// row open below it ("More fields").
func (fc *formCtx) grid(dt *meta.DocType, tf *meta.Field, d doc.Doc) *gridView {
	g := &gridView{Fieldname: tf.Fieldname, Label: tf.DisplayLabel(), Required: tf.Reqd}
	child, err := fc.metaOf(tf.Options)
	if err != nil {
		return g
	}
	tableEditable := fc.editable(dt, tf)
	cc := *fc
	cc.canEdit = tableEditable
	var visible []*meta.Field
	canAdd := tableEditable
	listed := 0
	for _, f := range child.ValueFields() {
		if !cc.visible(f) {
			if f.Reqd && f.Default == "" {
				canAdd = false
			}
			continue
		}
		visible = append(visible, f)
		if f.InListView {
			listed++
		}
		if cc.editable(child, f) {
			g.Editable = true
		} else if f.Reqd {
			canAdd = false // rows need a value nobody can type (Event Consumer rows)
		}
	}
	var cols, more []*meta.Field
	for _, f := range visible {
		inGrid := f.InListView
		if listed == 0 {
			inGrid = len(cols) < maxGridColumns && !isWide(f)
		}
		if inGrid {
			cols = append(cols, f)
			g.Columns = append(g.Columns, gridCol{Fieldname: f.Fieldname, Label: f.DisplayLabel(), Required: f.Reqd, Control: controlOf(f)})
		} else {
			more = append(more, f)
		}
	}
	row := func(key string, num int, r doc.Doc) *gridRow {
		gr := &gridRow{Table: tf.Fieldname, Key: key, Num: num, Name: r.Name(), CanRemove: canAdd}
		rc := cc
		if r.Name() == "" {
			rc.isNew = true // a new row's set-only-once fields are still open
		}
		for _, f := range cols {
			fv := rc.fieldView(child, f, r, tf.Fieldname+"."+key+"."+f.Fieldname)
			fv.InGrid, fv.Wide = true, false
			gr.Cells = append(gr.Cells, fv)
		}
		for _, f := range more {
			fv := rc.fieldView(child, f, r, tf.Fieldname+"."+key+"."+f.Fieldname)
			if fv.ReadOnly && (rc.isNew || isEmpty(r[f.Fieldname])) {
				continue
			}
			gr.Detail = append(gr.Detail, fv)
		}
		return gr
	}
	for i, r := range d.Rows(tf.Fieldname) {
		key := strconv.Itoa(i + 1)
		if k := r.Str("__key"); k != "" {
			key = k
		}
		g.Rows = append(g.Rows, row(key, i+1, r))
		if n, err := strconv.Atoi(key); err == nil && n >= g.NextKey {
			g.NextKey = n + 1
		}
	}
	if g.NextKey == 0 {
		g.NextKey = len(g.Rows) + 1
	}
	if canAdd {
		blank := doc.Doc{}
		doc.Defaults(child, blank, fc.u.Name, fc.now)
		g.Template = row("__ROW__", 0, blank)
		g.CanRemove = true
	}
	// The "More fields" column is there when some row has more to show.
	all := g.Rows
	if g.Template != nil {
		all = append(append([]*gridRow{}, g.Rows...), g.Template)
	}
	for _, r := range all {
		g.HasDetail = g.HasDetail || len(r.Detail) > 0
	}
	for _, r := range all {
		r.HasDetail = g.HasDetail
		r.Span = 1 + len(cols)
		if g.HasDetail {
			r.Span++
		}
		if canAdd {
			r.Span++
		}
	}
	return g
}

// sections lays dt's fields out as Frappe does: Section and Tab Breaks start
// sections, Column Breaks start columns. Sections without explicit columns
// put short fields in two columns and wide fields (tables, code) across.
func (fc *formCtx) sections(dt *meta.DocType, d doc.Doc, skip map[string]bool) []*sectionView {
	type rawSection struct {
		label, id string
		cols      [][]*fieldView
		explicit  bool
	}
	secs := []*rawSection{{cols: [][]*fieldView{nil}}}
	for i := range dt.Fields {
		f := &dt.Fields[i]
		cur := secs[len(secs)-1]
		switch f.Fieldtype {
		case "Section Break", "Tab Break":
			if f.Hidden {
				continue
			}
			secs = append(secs, &rawSection{label: f.Label, id: f.Fieldname, cols: [][]*fieldView{nil}})
			continue
		case "Column Break":
			if f.Hidden {
				continue
			}
			cur.explicit = true
			if len(cur.cols[len(cur.cols)-1]) > 0 {
				cur.cols = append(cur.cols, nil)
			}
			continue
		}
		if !fc.visible(f) || skip[f.Fieldname] {
			continue
		}
		fv := fc.fieldView(dt, f, d, f.Fieldname)
		if fv.ReadOnly && fv.Control != ctlTable && (fc.isNew || isEmpty(d[f.Fieldname])) {
			continue // as Frappe: read-only fields without a value are not shown
		}
		last := len(cur.cols) - 1
		cur.cols[last] = append(cur.cols[last], fv)
	}
	var out []*sectionView
	for _, rs := range secs {
		sv := &sectionView{Label: rs.label, ID: rs.id}
		if rs.explicit {
			var cols [][]*fieldView
			for _, c := range rs.cols {
				if len(c) > 0 {
					cols = append(cols, c)
				}
			}
			if len(cols) > 0 {
				sv.Blocks = append(sv.Blocks, blockView{Columns: cols})
			}
		} else {
			var pending []*fieldView
			flush := func() {
				if len(pending) == 0 {
					return
				}
				half := (len(pending) + 1) / 2
				cols := [][]*fieldView{pending[:half]}
				if len(pending) > 1 {
					cols = append(cols, pending[half:])
				}
				sv.Blocks = append(sv.Blocks, blockView{Columns: cols})
				pending = nil
			}
			for _, fv := range rs.cols[0] {
				if fv.Wide {
					flush()
					sv.Blocks = append(sv.Blocks, blockView{Wide: fv})
					continue
				}
				pending = append(pending, fv)
			}
			flush()
		}
		if len(sv.Blocks) > 0 || sv.ID != "" {
			out = append(out, sv)
		}
	}
	return out
}

// valueText renders a stored (or typed) value as an input's value.
func valueText(f *meta.Field, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		switch f.Kind() {
		case meta.KindDatetime:
			if s, ok := doc.ParseDatetime(x); ok {
				return strings.Replace(s[:19], " ", "T", 1)
			}
		case meta.KindTime:
			if s, ok := doc.ParseTime(x); ok {
				if len(s) < 8 || s[1] == ':' {
					s = "0" + s
				}
				return s[:8]
			}
		}
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v)
}

// prettyJSON indents JSON objects and arrays; other text stays as it is.
func prettyJSON(s string) string {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return s
	}
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(t), "", "  "); err != nil {
		return s
	}
	return out.String()
}

func isEmpty(v any) bool {
	s, ok := v.(string)
	return v == nil || (ok && strings.TrimSpace(s) == "")
}

func isMask(s string) bool { return s != "" && strings.Trim(s, "*") == "" }

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
