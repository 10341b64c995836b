// Package meta holds DocType definitions: fields, permissions and naming rules,
// read from Frappe's DocType JSON. It is pure: no SQL, HTTP or job code.
package meta

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"docstream/internal/errs"
)

// Field is one DocField row.
type Field struct {
	Fieldname     string `json:"fieldname"`
	Label         string `json:"label,omitempty"`
	Fieldtype     string `json:"fieldtype"`
	Options       string `json:"options,omitempty"`
	Default       string `json:"default,omitempty"`
	Reqd          bool   `json:"reqd,omitempty"`
	Unique        bool   `json:"unique,omitempty"`
	SetOnlyOnce   bool   `json:"set_only_once,omitempty"`
	AllowOnSubmit bool   `json:"allow_on_submit,omitempty"`
	ReadOnly      bool   `json:"read_only,omitempty"`
	Hidden        bool   `json:"hidden,omitempty"`
	NonNegative   bool   `json:"non_negative,omitempty"`
	InListView    bool   `json:"in_list_view,omitempty"`
	Length        int    `json:"length,omitempty"`
	Permlevel     int    `json:"permlevel,omitempty"`
	FetchFrom     string `json:"fetch_from,omitempty"`
	InsertAfter   string `json:"insert_after,omitempty"`
	Custom        bool   `json:"-"` // added by a Custom Field document
}

// Kind is the storage kind of the field.
func (f *Field) Kind() Kind { k, _ := KindOf(f.Fieldtype); return k }

// DisplayLabel is the label, or the fieldname when there is none.
func (f *Field) DisplayLabel() string {
	if f.Label != "" {
		return f.Label
	}
	return f.Fieldname
}

// MaxLength is the enforced length of a Data-like field (Frappe's varchar(140) default).
func (f *Field) MaxLength() int {
	if f.Length > 0 {
		return f.Length
	}
	switch f.Fieldtype {
	case "Data", "Link", "Dynamic Link", "Select", "Read Only", "Color", "Phone", "Autocomplete", "Barcode", "Icon":
		return 140
	}
	return 0
}

// SelectOptions returns the newline-separated options of a Select field.
func (f *Field) SelectOptions() []string {
	var out []string
	for _, o := range strings.Split(f.Options, "\n") {
		out = append(out, strings.TrimSpace(o))
	}
	return out
}

// Perm is one DocPerm row.
type Perm struct {
	Role      string `json:"role"`
	Permlevel int    `json:"permlevel,omitempty"`
	IfOwner   bool   `json:"if_owner,omitempty"`
	Select    bool   `json:"select,omitempty"`
	Read      bool   `json:"read,omitempty"`
	Write     bool   `json:"write,omitempty"`
	Create    bool   `json:"create,omitempty"`
	Delete    bool   `json:"delete,omitempty"`
	Submit    bool   `json:"submit,omitempty"`
	Cancel    bool   `json:"cancel,omitempty"`
	Amend     bool   `json:"amend,omitempty"`
}

// DocType is the effective definition of a document type: its DocType record
// plus its Custom Fields.
type DocType struct {
	Name          string  `json:"name"`
	Module        string  `json:"module,omitempty"`
	Autoname      string  `json:"autoname,omitempty"`
	TitleField    string  `json:"title_field,omitempty"`
	SortField     string  `json:"sort_field,omitempty"`
	SortOrder     string  `json:"sort_order,omitempty"`
	IsTable       bool    `json:"istable,omitempty"`
	IsSingle      bool    `json:"issingle,omitempty"`
	IsSubmittable bool    `json:"is_submittable,omitempty"`
	InCreate      bool    `json:"in_create,omitempty"`
	Custom        bool    `json:"custom,omitempty"`
	Fields        []Field `json:"fields"`
	Permissions   []Perm  `json:"permissions,omitempty"`

	byName map[string]int
	// Derived lists, built by index for the Fields slice it saw (base, n):
	// they are read for every row written or read.
	base    *Field
	n       int
	valueF  []*Field
	tableF  []*Field
	columns []string
}

// Standard columns of every document (reference §1.1).
var StdFields = []string{"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"}

// ChildStdFields are the extra standard columns of child rows.
var ChildStdFields = []string{"parent", "parentfield", "parenttype"}

// IsStd reports whether name is a standard column of dt.
func (dt *DocType) IsStd(name string) bool {
	for _, s := range StdFields {
		if s == name {
			return true
		}
	}
	if dt.IsTable {
		for _, s := range ChildStdFields {
			if s == name {
				return true
			}
		}
	}
	return false
}

// Table is the SQL table name, as in Frappe.
func (dt *DocType) Table() string { return "tab" + dt.Name }

// Field returns the field named fieldname, or nil. It never writes to dt, so
// shared definitions are safe for concurrent use; the index is built by
// Reindex (called by FromMap, Validate and Clone).
func (dt *DocType) Field(fieldname string) *Field {
	if dt.byName != nil {
		if i, ok := dt.byName[fieldname]; ok && i < len(dt.Fields) && dt.Fields[i].Fieldname == fieldname {
			return &dt.Fields[i]
		}
		return nil
	}
	for i := range dt.Fields {
		if dt.Fields[i].Fieldname == fieldname {
			return &dt.Fields[i]
		}
	}
	return nil
}

// Reindex rebuilds the field index after Fields changed. Call it before the
// definition is shared between goroutines.
func (dt *DocType) Reindex() { dt.index() }

// HasColumn reports whether fieldname is a standard column or a value field.
func (dt *DocType) HasColumn(fieldname string) bool {
	if dt.IsStd(fieldname) {
		return true
	}
	f := dt.Field(fieldname)
	return f != nil && f.Kind() != KindNone && f.Kind() != KindTable
}

func (dt *DocType) index() {
	dt.byName = make(map[string]int, len(dt.Fields))
	for i, f := range dt.Fields {
		dt.byName[f.Fieldname] = i
	}
	dt.n, dt.base = len(dt.Fields), nil
	if dt.n > 0 {
		dt.base = &dt.Fields[0]
	}
	vf, tf := dt.valueFields(), dt.tableFields()
	dt.valueF, dt.tableF, dt.columns = vf[:len(vf):len(vf)], tf[:len(tf):len(tf)], dt.columnList()
}

// ValueFields returns the fields stored in the DocType's own table. The
// slice is shared: do not modify it.
func (dt *DocType) ValueFields() []*Field {
	if dt.fresh() {
		return dt.valueF
	}
	return dt.valueFields()
}

// fresh reports whether the derived lists describe the current Fields
// (Fields replaced or appended to without Reindex are read afresh).
func (dt *DocType) fresh() bool {
	if dt.byName == nil || len(dt.Fields) != dt.n {
		return false
	}
	return dt.n == 0 || &dt.Fields[0] == dt.base
}

func (dt *DocType) valueFields() []*Field {
	var out []*Field
	for i := range dt.Fields {
		if k := dt.Fields[i].Kind(); k != KindNone && k != KindTable {
			out = append(out, &dt.Fields[i])
		}
	}
	return out
}

// TableFields returns the Table and Table MultiSelect fields. The slice is
// shared: do not modify it.
func (dt *DocType) TableFields() []*Field {
	if dt.fresh() {
		return dt.tableF
	}
	return dt.tableFields()
}

// Columns are the stored columns of the DocType's table, in table order:
// the standard ones, then its value fields. The slice is shared: do not
// modify it.
func (dt *DocType) Columns() []string {
	if dt.fresh() {
		return dt.columns
	}
	return dt.columnList()
}

func (dt *DocType) columnList() []string {
	cols := append([]string(nil), StdFields...)
	if dt.IsTable {
		cols = append(cols, ChildStdFields...)
	}
	for _, f := range dt.valueFields() {
		cols = append(cols, f.Fieldname)
	}
	return cols[:len(cols):len(cols)]
}

func (dt *DocType) tableFields() []*Field {
	var out []*Field
	for i := range dt.Fields {
		if dt.Fields[i].Kind() == KindTable {
			out = append(out, &dt.Fields[i])
		}
	}
	return out
}

// TitleOrName is the field shown as the document's title.
func (dt *DocType) TitleOrName() string {
	if dt.TitleField != "" && dt.Field(dt.TitleField) != nil {
		return dt.TitleField
	}
	return "name"
}

var (
	doctypeName   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9 _-]{0,60}$`)
	fieldnameRe   = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)
	reservedNames = map[string]bool{"doctype": true}
)

// Validate checks a definition before it becomes a table. Messages name the
// offending field so that an admin can fix the JSON.
func (dt *DocType) Validate() error {
	dt.index()
	if !doctypeName.MatchString(dt.Name) {
		return errs.Invalid("InvalidNameError", "DocType name %q must start with a letter and contain only letters, digits, spaces, _ and - (at most 61 characters)", dt.Name)
	}
	seen := map[string]bool{}
	for i := range dt.Fields {
		f := &dt.Fields[i]
		if _, ok := KindOf(f.Fieldtype); !ok {
			return errs.Validation("Field %q: unknown field type %q", f.Fieldname, f.Fieldtype)
		}
		if f.Kind() == KindNone && f.Fieldname == "" {
			continue
		}
		if !fieldnameRe.MatchString(f.Fieldname) {
			return errs.Validation("Fieldname %q is not valid: use lower-case letters, digits and _", f.Fieldname)
		}
		if seen[f.Fieldname] {
			return errs.Validation("Fieldname %q appears more than once", f.Fieldname)
		}
		if reservedNames[f.Fieldname] || (dt.IsStd(f.Fieldname) && f.Kind() != KindNone) {
			return errs.Validation("Fieldname %q is reserved", f.Fieldname)
		}
		seen[f.Fieldname] = true
		switch f.Fieldtype {
		case "Link", "Table", "Table MultiSelect":
			if f.Options == "" {
				return errs.Validation("Field %q (%s) needs Options: the target DocType", f.Fieldname, f.Fieldtype)
			}
		case "Dynamic Link":
			if f.Options == "" {
				return errs.Validation("Field %q (Dynamic Link) needs Options: the field that holds the DocType", f.Fieldname)
			}
		}
	}
	for i := range dt.Fields {
		f := &dt.Fields[i]
		if f.Fieldtype == "Dynamic Link" && !seen[f.Options] {
			return errs.Validation("Field %q (Dynamic Link): options field %q does not exist", f.Fieldname, f.Options)
		}
	}
	if strings.HasPrefix(dt.Autoname, "field:") {
		fn := strings.TrimSpace(strings.TrimPrefix(dt.Autoname, "field:"))
		if dt.Field(fn) == nil {
			return errs.Validation("Autoname %q: field %q does not exist", dt.Autoname, fn)
		}
	}
	dt.index()
	return nil
}

// Clone returns a deep copy, safe to modify.
func (dt *DocType) Clone() *DocType {
	c := *dt
	c.Fields = append([]Field(nil), dt.Fields...)
	c.Permissions = append([]Perm(nil), dt.Permissions...)
	c.index()
	return &c
}

// FromMap reads a DocType from its document form (Frappe's DocType JSON, with
// `fields` and `permissions` child rows). Frappe writes flags as 0/1 or as
// booleans; both are accepted.
func FromMap(m map[string]any) (*DocType, error) {
	dt := &DocType{
		Name:          str(m["name"]),
		Module:        str(m["module"]),
		Autoname:      strings.TrimSpace(str(m["autoname"])),
		TitleField:    str(m["title_field"]),
		SortField:     str(m["sort_field"]),
		SortOrder:     str(m["sort_order"]),
		IsTable:       flag(m["istable"]),
		IsSingle:      flag(m["issingle"]),
		IsSubmittable: flag(m["is_submittable"]),
		InCreate:      flag(m["in_create"]),
		Custom:        flag(m["custom"]),
	}
	for _, r := range rows(m["fields"]) {
		dt.Fields = append(dt.Fields, FieldFromMap(r))
	}
	for _, r := range rows(m["permissions"]) {
		dt.Permissions = append(dt.Permissions, Perm{
			Role: str(r["role"]), Permlevel: int(num(r["permlevel"])), IfOwner: flag(r["if_owner"]),
			Select: flag(r["select"]), Read: flag(r["read"]), Write: flag(r["write"]), Create: flag(r["create"]),
			Delete: flag(r["delete"]), Submit: flag(r["submit"]), Cancel: flag(r["cancel"]), Amend: flag(r["amend"]),
		})
	}
	if dt.IsSubmittable && dt.Field("amended_from") == nil {
		dt.Fields = append(dt.Fields, Field{Fieldname: "amended_from", Label: "Amended From", Fieldtype: "Link", Options: dt.Name, ReadOnly: true})
	}
	if err := dt.Validate(); err != nil {
		return nil, err
	}
	return dt, nil
}

// FieldFromMap reads a DocField (or Custom Field) row.
func FieldFromMap(r map[string]any) Field {
	return Field{
		Fieldname: str(r["fieldname"]), Label: str(r["label"]), Fieldtype: str(r["fieldtype"]),
		Options: str(r["options"]), Default: str(r["default"]), Reqd: flag(r["reqd"]),
		Unique: flag(r["unique"]), SetOnlyOnce: flag(r["set_only_once"]),
		AllowOnSubmit: flag(r["allow_on_submit"]), ReadOnly: flag(r["read_only"]),
		Hidden: flag(r["hidden"]), NonNegative: flag(r["non_negative"]), InListView: flag(r["in_list_view"]),
		Length: int(num(r["length"])), Permlevel: int(num(r["permlevel"])),
		FetchFrom: str(r["fetch_from"]), InsertAfter: str(r["insert_after"]),
	}
}

// ParseJSON reads a DocType from Frappe's DocType JSON text.
func ParseJSON(b []byte) (*DocType, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errs.BadRequest("DocType JSON: %v", err)
	}
	return FromMap(m)
}

func rows(v any) []map[string]any {
	var out []map[string]any
	switch l := v.(type) {
	case []any:
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case []map[string]any:
		out = l
	}
	return out
}

func str(v any) string {
	switch s := v.(type) {
	case nil:
		return ""
	case string:
		return s
	case float64:
		return strconv.FormatFloat(s, 'f', -1, 64)
	default:
		return fmt.Sprint(s)
	}
}

func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case bool:
		if n {
			return 1
		}
	case string:
		f, _ := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f
	}
	return 0
}

func flag(v any) bool { return num(v) != 0 }
