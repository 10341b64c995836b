package meta

// Kind is how a field type is stored and coerced.
type Kind int

// Storage kinds. Each Frappe field type maps to exactly one.
const (
	KindNone     Kind = iota // layout only: no column, no value
	KindText                 // text column, string value
	KindInt                  // integer column, int64 value (null becomes 0)
	KindFloat                // real column, float64 value (null becomes 0)
	KindCheck                // integer column, 0 or 1
	KindDate                 // text "YYYY-MM-DD"
	KindDatetime             // text "YYYY-MM-DD HH:MM:SS.ffffff"
	KindTime                 // text "H:MM:SS[.ffffff]"
	KindTable                // no column: rows live in the child DocType's table
)

// fieldKinds is the registry of supported field types (reference §1.2).
var fieldKinds = map[string]Kind{
	"Data": KindText, "Small Text": KindText, "Text": KindText, "Long Text": KindText,
	"Code": KindText, "Text Editor": KindText, "Markdown Editor": KindText, "HTML Editor": KindText,
	"JSON": KindText, "Select": KindText, "Link": KindText, "Dynamic Link": KindText,
	"Password": KindText, "Attach": KindText, "Attach Image": KindText, "Read Only": KindText,
	"Color": KindText, "Icon": KindText, "Phone": KindText, "Autocomplete": KindText,
	"Barcode": KindText, "Geolocation": KindText, "Signature": KindText,
	"Int": KindInt, "Long Int": KindInt,
	"Float": KindFloat, "Currency": KindFloat, "Percent": KindFloat, "Duration": KindFloat, "Rating": KindFloat,
	"Check":    KindCheck,
	"Date":     KindDate,
	"Datetime": KindDatetime,
	"Time":     KindTime,
	"Table":    KindTable, "Table MultiSelect": KindTable,
	"Section Break": KindNone, "Column Break": KindNone, "Tab Break": KindNone, "HTML": KindNone,
	"Button": KindNone, "Image": KindNone, "Fold": KindNone, "Heading": KindNone,
}

// KindOf returns the storage kind of a Frappe field type and whether it is known.
func KindOf(fieldtype string) (Kind, bool) {
	k, ok := fieldKinds[fieldtype]
	return k, ok
}

// IsTable reports whether the field type holds child rows.
func IsTable(fieldtype string) bool { return fieldKinds[fieldtype] == KindTable }
