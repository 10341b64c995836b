package doc

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"docstream/internal/errs"
	"docstream/internal/meta"
)

// Frappe's text forms for dates and times (reference §5.6).
const (
	DateLayout     = "2006-01-02"
	DatetimeLayout = "2006-01-02 15:04:05.000000"
)

// FormatDatetime renders t as Frappe does: naive, space separated, six
// digits. It writes the digits itself: every insert formats two or three
// datetimes (creation, modified, an update log's), and time.Format's
// reading of the layout cost more than the rest of the work.
func FormatDatetime(t time.Time) string {
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(DatetimeLayout)
	}
	h, mi, s := t.Clock()
	b := []byte("0000-00-00 00:00:00.000000")
	putDigits(b[0:4], y)
	putDigits(b[5:7], int(mo))
	putDigits(b[8:10], d)
	putDigits(b[11:13], h)
	putDigits(b[14:16], mi)
	putDigits(b[17:19], s)
	putDigits(b[20:26], t.Nanosecond()/1000)
	return string(b)
}

// putDigits writes v in decimal into all of b, zero-padded.
func putDigits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

var datetimeInputs = []string{
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04",
	time.RFC3339Nano, "2006-01-02",
}

// ParseDatetime accepts the forms clients send and returns Frappe's form.
func ParseDatetime(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, l := range datetimeInputs {
		if t, err := time.Parse(l, s); err == nil {
			return FormatDatetime(t), true
		}
	}
	return "", false
}

// ParseDate accepts a date or datetime and returns "YYYY-MM-DD".
func ParseDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(DateLayout, s); err == nil {
		return t.Format(DateLayout), true
	}
	if dt, ok := ParseDatetime(s); ok {
		return dt[:10], true
	}
	for _, l := range []string{"02-01-2006", "01/02/2006"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format(DateLayout), true
		}
	}
	return "", false
}

// ParseTime accepts "H:MM[:SS[.ffffff]]" and returns Frappe's "H:MM:SS[.ffffff]".
func ParseTime(s string) (string, bool) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return "", false
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || h < 0 || h > 838 || m < 0 || m > 59 {
		return "", false
	}
	sec, frac := 0, 0
	if len(parts) == 3 {
		sp := strings.SplitN(parts[2], ".", 2)
		var err error
		if sec, err = strconv.Atoi(sp[0]); err != nil || sec < 0 || sec > 59 {
			return "", false
		}
		if len(sp) == 2 {
			f := (sp[1] + "000000")[:6]
			if frac, err = strconv.Atoi(f); err != nil || frac < 0 {
				return "", false
			}
		}
	}
	out := fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	if frac != 0 {
		out += fmt.Sprintf(".%06d", frac)
	}
	return out, true
}

// Coerce converts a client value to the field's canonical value, as Frappe's
// get_valid_dict does: Int/Check/Float never stay null, empty dates become
// null, JSON fields hold JSON text. A value that cannot be converted is a
// ValidationError naming the field.
func Coerce(f *meta.Field, v any) (any, error) {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			v = i
		} else if fl, err := n.Float64(); err == nil {
			v = fl
		} else {
			return nil, errs.Invalid("FrappeTypeError", "%s: %q is not a number", f.DisplayLabel(), n.String())
		}
	}
	switch f.Kind() {
	case meta.KindInt:
		return toInt(f, v)
	case meta.KindCheck:
		if Checked(v) {
			return int64(1), nil
		}
		return int64(0), nil
	case meta.KindFloat:
		return toFloat(f, v)
	case meta.KindDate:
		return toTimeText(f, v, ParseDate, "a date (YYYY-MM-DD)")
	case meta.KindDatetime:
		return toTimeText(f, v, ParseDatetime, "a datetime (YYYY-MM-DD HH:MM:SS)")
	case meta.KindTime:
		return toTimeText(f, v, ParseTime, "a time (HH:MM:SS)")
	case meta.KindText:
		if f.Fieldtype == "JSON" {
			switch v.(type) {
			case nil, string:
			default:
				b, err := json.Marshal(plain(v))
				if err != nil {
					return nil, errs.Invalid("FrappeTypeError", "%s: not JSON: %v", f.DisplayLabel(), err)
				}
				return string(b), nil
			}
		}
		return toText(f, v)
	}
	return v, nil
}

func toInt(f *meta.Field, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return int64(0), nil
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 9.2e18 {
			return nil, errs.Invalid("FrappeTypeError", "%s: %v is out of range", f.DisplayLabel(), x)
		}
		return int64(x), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return int64(0), nil
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if fl, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(fl) && math.Abs(fl) < 9.2e18 {
			return int64(fl), nil
		}
	}
	return nil, errs.Invalid("FrappeTypeError", "%s: %s is not an integer", f.DisplayLabel(), short(v))
}

func toFloat(f *meta.Field, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return float64(0), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, errs.Invalid("FrappeTypeError", "%s: not a finite number", f.DisplayLabel())
		}
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case bool:
		if x {
			return float64(1), nil
		}
		return float64(0), nil
	case string:
		s := strings.ReplaceAll(strings.TrimSpace(x), ",", "")
		if s == "" {
			return float64(0), nil
		}
		if fl, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(fl) && !math.IsInf(fl, 0) {
			return fl, nil
		}
	}
	return nil, errs.Invalid("FrappeTypeError", "%s: %s is not a number", f.DisplayLabel(), short(v))
}

func toTimeText(f *meta.Field, v any, parse func(string) (string, bool), what string) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		if s, ok := parse(x); ok {
			return s, nil
		}
	}
	return nil, errs.Invalid("FrappeTypeError", "%s: %s is not %s", f.DisplayLabel(), short(v), what)
}

func toText(f *meta.Field, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return x, nil
	case string:
		// PostgreSQL cannot store NUL in text; refuse it on both stores alike.
		if strings.ContainsRune(x, 0) {
			return nil, errs.Invalid("FrappeTypeError", "%s contains a NUL character", f.DisplayLabel())
		}
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	}
	return nil, errs.Invalid("FrappeTypeError", "%s: expected text, got %s", f.DisplayLabel(), short(v))
}

// Plain returns d as plain maps and lists (child rows included), the form
// encoders and the condition evaluator take.
func (d Doc) Plain() map[string]any { return plain(d).(map[string]any) }

// plain turns Docs back into maps so JSON fields serialize naturally.
func plain(v any) any {
	switch x := v.(type) {
	case Doc:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case []Doc:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = plain(e)
		}
		return l
	}
	return v
}

// Checked reports whether v is a set Check value: a true bool, a non-zero
// number, or text other than "", "0", "false", "no", "off". Coerce and the
// desk read Check values with it.
func Checked(v any) bool {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return err == nil && f != 0
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case int:
		return x != 0
	case float64:
		return x != 0
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		return s != "" && s != "0" && s != "false" && s != "no" && s != "off"
	}
	return true
}

func short(v any) string {
	b, err := json.Marshal(plain(v))
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
