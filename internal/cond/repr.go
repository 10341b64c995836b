package cond

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// str is Python's str(v). Output is metered as it is written, so
// str() of a list repeated into a huge logical structure fails fast with
// ErrTooLarge instead of building it.
func (s *state) str(v any) (any, error) {
	if x, ok := v.(string); ok {
		return x, nil
	}
	pr := printer{s: s}
	if err := pr.value(v); err != nil {
		return nil, err
	}
	if err := s.alloc(pr.b.Len()); err != nil {
		return nil, err
	}
	return pr.b.String(), nil
}

type printer struct {
	s *state
	b strings.Builder
}

// value writes the str() form of v; strings inside containers are written
// in their repr form, as Python does.
func (pr *printer) value(v any) error {
	if pr.b.Len() > MaxValueSize {
		return tooLarge("str() result", pr.b.Len())
	}
	if err := pr.s.charge(1); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		pr.b.WriteString("None")
	case bool:
		if x {
			pr.b.WriteString("True")
		} else {
			pr.b.WriteString("False")
		}
	case int64:
		pr.b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		pr.b.WriteString(formatFloat(x))
	case string:
		if err := pr.s.charge(len(x) >> 6); err != nil {
			return err
		}
		pyQuote(&pr.b, x)
	default:
		return pr.container(v)
	}
	return nil
}

func (pr *printer) container(v any) error {
	if err := pr.s.enter(); err != nil {
		return err
	}
	defer pr.s.leave()
	if q, ok := asSeq(v); ok {
		pr.b.WriteByte('[')
		for i := 0; i < q.n; i++ {
			if i > 0 {
				pr.b.WriteString(", ")
			}
			if err := pr.value(q.at(i)); err != nil {
				return err
			}
		}
		pr.b.WriteByte(']')
		return nil
	}
	if d, ok := asMap(v); ok {
		keys := d.keys()
		if err := pr.s.charge(len(keys)); err != nil {
			return err
		}
		pr.b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				pr.b.WriteString(", ")
			}
			pyQuote(&pr.b, k)
			pr.b.WriteString(": ")
			val, _ := d.get(k)
			if err := pr.value(val); err != nil {
				return err
			}
		}
		pr.b.WriteByte('}')
		return nil
	}
	// Some other Go value from env. Do not call its String method: that
	// would run code the expression author chose the input for.
	fmt.Fprintf(&pr.b, "<%T>", v)
	return nil
}

// formatFloat is Python's repr of a float: the shortest digits that round
// trip, always with a '.' or an exponent, scientific outside 1e-4 ≤ |f| < 1e16.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64) // Go's exponent form matches Python's: 1e+16, 1e-05
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(out, ".") {
		out += ".0"
	}
	return out
}

// pyQuote writes Python's repr of a string.
func pyQuote(b *strings.Builder, s string) {
	q := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	b.WriteRune(q)
	for _, r := range s {
		switch {
		case r == '\\' || r == q:
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x80 || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteRune(q)
}
