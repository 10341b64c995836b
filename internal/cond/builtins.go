package cond

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// builtin is a helper function callable from an expression. The table is
// the whole of what an expression can call, which is what keeps the
// language closed; add to it deliberately.
type builtin struct {
	min, max int
	frappe   bool // also callable as frappe.utils.NAME
	fn       func(s *state, args []any) (any, error)
}

var builtins = map[string]*builtin{
	"len":     {1, 1, false, fnLen},
	"str":     {0, 1, false, fnStr},
	"int":     {0, 1, false, fnInt},
	"float":   {0, 1, false, fnFloat},
	"bool":    {0, 1, false, func(_ *state, a []any) (any, error) { return len(a) > 0 && Truthy(a[0]), nil }},
	"abs":     {1, 1, false, fnAbs},
	"cint":    {1, 2, true, fnCint},
	"cstr":    {1, 1, true, fnCstr},
	"flt":     {1, 2, true, fnFlt},
	"getdate": {0, 1, true, fnGetdate},
	"nowdate": {0, 0, true, fnToday},
	"today":   {0, 0, true, fnToday},
}

func fnLen(_ *state, args []any) (any, error) {
	if x, ok := args[0].(string); ok {
		return int64(utf8.RuneCountInString(x)), nil
	}
	if q, ok := asSeq(args[0]); ok {
		return int64(q.n), nil
	}
	if d, ok := asMap(args[0]); ok {
		return int64(d.len()), nil
	}
	return nil, errorf("TypeError: object of type '%s' has no len()", typeName(args[0]))
}

func fnStr(s *state, args []any) (any, error) {
	if len(args) == 0 {
		return "", nil
	}
	return s.str(args[0])
}

func fnInt(_ *state, args []any) (any, error) {
	if len(args) == 0 {
		return int64(0), nil
	}
	switch x := args[0].(type) {
	case string:
		t := strings.TrimSpace(x)
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, errorf("ValueError: invalid literal for int() with base 10: %s", quoteShort(x))
		}
		return n, nil
	case float64:
		return floatToInt(x)
	}
	if n, ok := toNum(args[0]); ok {
		return n.i, nil
	}
	return nil, errorf("TypeError: int() argument must be a string or a number, not '%s'", typeName(args[0]))
}

func floatToInt(f float64) (any, error) {
	switch {
	case math.IsNaN(f):
		return nil, errorf("ValueError: cannot convert float NaN to integer")
	case f >= 0x1p63 || f < -0x1p63:
		return nil, errorf("OverflowError: float %g does not fit in a 64-bit int", f)
	}
	return int64(f), nil
}

func fnFloat(_ *state, args []any) (any, error) {
	if len(args) == 0 {
		return 0.0, nil
	}
	if x, ok := args[0].(string); ok {
		f, ok := parseFloat(x)
		if !ok {
			return nil, errorf("ValueError: could not convert string to float: %s", quoteShort(x))
		}
		return f, nil
	}
	if n, ok := toNum(args[0]); ok {
		return n.float(), nil
	}
	return nil, errorf("TypeError: float() argument must be a string or a number, not '%s'", typeName(args[0]))
}

// parseFloat reads a float as Python's float() does: surrounding space,
// inf and nan allowed; Go's hex floats are not.
func parseFloat(x string) (float64, bool) {
	t := strings.TrimSpace(x)
	if strings.ContainsAny(t, "xXpP") {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // 1e999 is inf, as in Python
		return 0, false
	}
	return f, true
}

func fnAbs(_ *state, args []any) (any, error) {
	n, ok := toNum(args[0])
	switch {
	case !ok:
		return nil, errorf("TypeError: bad operand type for abs(): '%s'", typeName(args[0]))
	case n.isFloat:
		return math.Abs(n.f), nil
	case n.i < 0:
		return sign(true, n.i)
	}
	return n.i, nil
}

// fnCint is frappe.utils.cint: int(float(x)), or the default (0) for
// anything that does not convert, None included.
func fnCint(_ *state, args []any) (any, error) {
	var def any = int64(0)
	if len(args) > 1 {
		def = args[1]
	}
	switch x := args[0].(type) {
	case string:
		if f, ok := parseFloat(x); ok {
			if v, err := floatToInt(f); err == nil {
				return v, nil
			}
		}
		return def, nil
	case float64:
		if v, err := floatToInt(x); err == nil {
			return v, nil
		}
		return def, nil
	}
	if n, ok := toNum(args[0]); ok {
		return n.i, nil
	}
	return def, nil
}

func fnCstr(s *state, args []any) (any, error) {
	if args[0] == nil {
		return "", nil
	}
	return s.str(args[0])
}

// fnFlt is frappe.utils.flt: float(x) with commas removed from strings, 0.0
// for anything that does not convert, rounded when a precision is given.
func fnFlt(_ *state, args []any) (any, error) {
	f := 0.0
	switch x := args[0].(type) {
	case string:
		if v, ok := parseFloat(strings.ReplaceAll(x, ",", "")); ok {
			f = v
		}
	default:
		if n, ok := toNum(x); ok {
			f = n.float()
		}
	}
	if len(args) < 2 || args[1] == nil {
		return f, nil
	}
	p, ok := toNum(args[1])
	if !ok || p.isFloat {
		return nil, errorf("TypeError: flt() precision must be an int, not '%s'", typeName(args[1]))
	}
	return roundTo(f, p.i), nil
}

// roundTo rounds half to even on the exact binary value, as Python's
// round(x, n) does (round(2.675, 2) == 2.67).
func roundTo(f float64, digits int64) float64 {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	if digits < 0 {
		scale := math.Pow(10, float64(min(-digits, 400)))
		return math.RoundToEven(f/scale) * scale
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'f', int(min(digits, 400)), 64), 64)
	if err != nil {
		return f
	}
	return r
}

// dateLayouts are the forms getdate accepts: the ISO forms Frappe stores.
var dateLayouts = []string{
	"2006-1-2", "2006-1-2 15:04", "2006-1-2 15:04:05", "2006-1-2T15:04",
	"2006-1-2T15:04:05", "2006-1-2T15:04:05Z07:00", "2006-1-2 15:04:05Z07:00",
}

// fnGetdate is frappe.utils.getdate, returning the date as "YYYY-MM-DD" so
// dates compare as strings. No argument, None or "" mean today; Frappe's
// null dates (0000-00-00, 0001-01-01) give None.
func fnGetdate(s *state, args []any) (any, error) {
	if len(args) == 0 || args[0] == nil || args[0] == "" {
		return s.now().Format("2006-01-02"), nil
	}
	x, ok := args[0].(string)
	if !ok {
		return nil, errorf("TypeError: getdate() argument must be a date string, not '%s'", typeName(args[0]))
	}
	x = strings.TrimSpace(x)
	if strings.HasPrefix(x, "0000-00-00") || strings.HasPrefix(x, "0001-01-01") {
		return nil, nil
	}
	if len(x) <= 64 {
		for _, layout := range dateLayouts {
			if t, err := time.Parse(layout, x); err == nil {
				return t.Format("2006-01-02"), nil
			}
		}
	}
	return nil, errorf("ValueError: getdate(): %s is not a date", quoteShort(x))
}

func fnToday(s *state, _ []any) (any, error) {
	return s.now().Format("2006-01-02"), nil
}

// quoteShort is a Python repr of s for error messages, cut to keep messages
// (which end up in logs) short.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	var b strings.Builder
	pyQuote(&b, s)
	return b.String()
}
