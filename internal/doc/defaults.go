package doc

import (
	"strings"
	"time"

	"docstream/internal/meta"
)

// Defaults fills the missing (absent or nil) value fields of a new document
// d, in place, as Frappe's new_doc template does (create_new.py
// get_static_default_value and set_dynamic_default_values, reference §1.3):
//   - "__user" → user; "Today" → today's date; "now" (any case) on a
//     Datetime or Time field → the current time (also accepted on Date);
//   - a Select without a default gets its first option, as for new docs in
//     Frappe (unless the options are the placeholders "[Select]" or "Loading...");
//   - other defaults are literal, coerced with Coerce for numeric, Check and
//     date/time fields (a default Coerce rejects is left as text, so the
//     save's own coercion reports it).
//
// Defaults based on another document (":fieldname") and user-permission
// defaults need the store and are not handled here. Child rows are filled by
// calling Defaults with the child DocType for each new row.
func Defaults(dt *meta.DocType, d Doc, user string, now time.Time) {
	for _, f := range dt.ValueFields() {
		if d[f.Fieldname] != nil {
			continue
		}
		v, ok := defaultValue(f, user, now)
		if !ok {
			continue
		}
		switch f.Kind() {
		case meta.KindInt, meta.KindFloat, meta.KindCheck, meta.KindDate, meta.KindDatetime, meta.KindTime:
			if c, err := Coerce(f, v); err == nil {
				v = c
			}
		}
		if v != nil {
			d[f.Fieldname] = v
		}
	}
}

func defaultValue(f *meta.Field, user string, now time.Time) (any, bool) {
	def := f.Default
	if def == "" {
		if f.Fieldtype == "Select" && f.Options != "" && f.Options != "[Select]" && f.Options != "Loading..." {
			return strings.TrimSpace(strings.SplitN(f.Options, "\n", 2)[0]), true
		}
		return nil, false
	}
	switch {
	case strings.HasPrefix(def, ":"):
		return nil, false
	case def == "__user":
		return user, true
	case def == "Today":
		return now.Format(DateLayout), true
	case strings.EqualFold(def, "now"):
		switch f.Kind() {
		case meta.KindDatetime:
			return FormatDatetime(now), true
		case meta.KindTime:
			return now.Format("15:04:05.000000"), true
		case meta.KindDate:
			return now.Format(DateLayout), true
		}
	}
	return def, true
}
