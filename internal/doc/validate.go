package doc

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

// table is one Table field of a document with its child DocType and rows.
type table struct {
	field *meta.Field
	child *meta.DocType
	rows  []Doc
}

func tablesOf(dt *meta.DocType, metaOf MetaFunc, d Doc) ([]table, error) {
	var out []table
	for _, tf := range dt.TableFields() {
		child, err := childMeta(metaOf, tf)
		if err != nil {
			return nil, err
		}
		rows, err := tableRows(d, tf.Fieldname)
		if err != nil {
			return nil, err
		}
		out = append(out, table{field: tf, child: child, rows: rows})
	}
	return out, nil
}

// rowNumber is the number shown in "Row #n" messages: idx, or the position
// for rows not numbered yet.
func rowNumber(r Doc, pos int) int64 {
	if i := rowIdx(r); i > 0 {
		return i
	}
	return int64(pos + 1)
}

// CheckValues runs the built-in validations of Frappe's Document._validate on
// a document and each of its child rows (reference §1.3), in Frappe's order:
// mandatory fields first, all at once, then per row Select options,
// non-negative numbers and lengths. The first failure is returned as an
// *errs.Error (417) with Frappe's exc type: MandatoryError,
// ValidationError (bad Select value), NonNegativeError or
// CharacterLengthExceededError. Values should already be coerced.
func CheckValues(dt *meta.DocType, metaOf MetaFunc, d Doc) error {
	tables, err := tablesOf(dt, metaOf, d)
	if err != nil {
		return err
	}
	missing := missingFields(dt, d, "")
	for _, t := range tables {
		prefix := ""
		if len(tables) > 1 {
			prefix = t.field.DisplayLabel() + " " // say which table when there are several
		}
		for i, r := range t.rows {
			missing = append(missing, missingFields(t.child, r, fmt.Sprintf("%sRow #%d: ", prefix, rowNumber(r, i)))...)
		}
	}
	if len(missing) > 0 {
		return errs.Invalid("MandatoryError", "Value missing for %s: %s", dt.Name, strings.Join(missing, ", "))
	}
	if err := checkRow(dt, d, ""); err != nil {
		return err
	}
	for _, t := range tables {
		for i, r := range t.rows {
			if err := checkRow(t.child, r, fmt.Sprintf("Row #%d", rowNumber(r, i))); err != nil {
				return err
			}
		}
	}
	return nil
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// missingFields lists the labels of reqd fields without a value. Like Frappe
// (_get_missing_mandatory_fields): nil, "" (also after stripping HTML tags and
// spaces) and an empty table are missing; 0 is a value, and Check fields are
// never missing.
func missingFields(dt *meta.DocType, d Doc, prefix string) []string {
	var out []string
	for i := range dt.Fields {
		f := &dt.Fields[i]
		if !f.Reqd || f.Fieldname == "" || f.Kind() == meta.KindNone || f.Kind() == meta.KindCheck {
			continue
		}
		v := d[f.Fieldname]
		missing := false
		switch x := v.(type) {
		case nil:
			missing = true
		case string:
			if strings.Contains(x, "<") {
				x = htmlTag.ReplaceAllString(x, "")
			}
			missing = strings.TrimSpace(x) == ""
		case []Doc:
			missing = len(x) == 0
		case []any:
			missing = len(x) == 0
		}
		if missing {
			out = append(out, prefix+f.DisplayLabel())
		}
	}
	return out
}

// checkRow validates one document or child row; row is "" for the parent,
// "Row #n" for a child row.
func checkRow(dt *meta.DocType, d Doc, row string) error {
	for _, f := range dt.ValueFields() {
		if err := checkSelect(dt, f, d, row); err != nil {
			return err
		}
	}
	for _, f := range dt.ValueFields() {
		if !f.NonNegative || (f.Kind() != meta.KindInt && f.Kind() != meta.KindFloat) {
			continue
		}
		if n, ok := toNum(d[f.Fieldname]); ok && n.float() < 0 {
			if row != "" {
				return errs.Invalid("NonNegativeError", "%s %s: Value cannot be negative for %s", dt.Name, row, f.DisplayLabel())
			}
			return errs.Invalid("NonNegativeError", "Value cannot be negative for %s: %s", dt.Name, f.DisplayLabel())
		}
	}
	for _, f := range dt.ValueFields() {
		if err := checkLength(dt, f, d, row); err != nil {
			return err
		}
	}
	return nil
}

// checkSelect: a non-empty Select value must be one of the options (Frappe
// _validate_selects). naming_series is exempt because its options are
// patterns, and a field whose options are all empty accepts anything.
func checkSelect(dt *meta.DocType, f *meta.Field, d Doc, row string) error {
	if f.Fieldtype != "Select" || f.Fieldname == "naming_series" || strings.TrimSpace(f.Options) == "" {
		return nil
	}
	v := strings.TrimSpace(fieldText(d[f.Fieldname]))
	opts := f.SelectOptions()
	if v == "" || slices.Contains(opts, v) {
		return nil
	}
	prefix := ""
	if row != "" {
		prefix = row + ": "
	}
	return errs.Validation(`%s%s cannot be "%s". It should be one of "%s"`, prefix, f.DisplayLabel(), v, strings.Join(opts, `", "`))
}

// int32Max is the range of an Int column (int(11) in Frappe's MariaDB
// schema); Frappe _validate_length checks it alongside varchar lengths.
const int32Max = 1<<31 - 1

func checkLength(dt *meta.DocType, f *meta.Field, d Doc, row string) error {
	v := d[f.Fieldname]
	if v == nil {
		return nil
	}
	limit, size := f.MaxLength(), 0
	switch {
	case f.Fieldtype == "Int" && f.Length <= 11:
		n, ok := toNum(v)
		if !ok || (n.float() <= int32Max && n.float() >= -int32Max) {
			return nil
		}
		limit = int32Max
	case limit > 0 && (&meta.Field{Fieldtype: f.Fieldtype}).MaxLength() > 0:
		// Only varchar types (those with a default length) are checked, as in
		// Frappe: a length set on a Text field does not make its column varchar.
		if size = utf8.RuneCountInString(fieldText(v)); size <= limit {
			return nil
		}
	default:
		return nil
	}
	ref := dt.Name + " " + NameString(d["name"])
	if row != "" {
		ref = dt.Name + ", " + strings.Replace(row, "Row #", "Row ", 1)
	}
	shown := fieldText(v)
	if utf8.RuneCountInString(shown) > 60 {
		shown = string([]rune(shown)[:57]) + "..."
	}
	return errs.Invalid("CharacterLengthExceededError", "%s: '%s' (%s) will get truncated, as max characters allowed is %d",
		strings.TrimSpace(ref), f.DisplayLabel(), shown, limit)
}
