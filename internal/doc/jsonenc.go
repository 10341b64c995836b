package doc

import (
	"encoding/json"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync/atomic"
	"unicode/utf8"
)

// AppendJSON appends d as encoding/json.Marshal writes it, byte for byte
// (keys sorted, <, > and & escaped), leaving out null values as WithoutNulls
// does, top level and in child rows. It is the Create payload of every update
// log, written in the transaction of every streamed insert: encoding/json's
// reflection over the map cost 9 µs of an insert there, this about 1.
// Values of other types than a document holds are handed to encoding/json.
func (d Doc) AppendJSON(b []byte) ([]byte, error) {
	// The documents of one DocType mostly have the same keys: encoding in
	// the remembered order, with the keys already quoted, checking each key
	// on the way, spares collecting, sorting and quoting them, which was
	// half of encoding a document. A key missing from d means another key
	// set: start again and sort.
	slot := &keyOrders[len(d)%len(keyOrders)]
	if o := slot.Load(); o != nil && len(o.keys) == len(d) {
		n := len(b)
		if out, ok, err := d.appendInOrder(b, o.keys, o.quoted); ok || err != nil {
			return out, err
		}
		b = b[:n]
	}
	var arr [32]string
	keys := arr[:0]
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) >= minRemembered {
		o := &keyOrder{keys: slices.Clone(keys), quoted: make([]string, len(keys))}
		for i, k := range keys {
			o.quoted[i] = string(append(appendJSONString(nil, k, true), ':'))
		}
		slot.Store(o)
	}
	b, _, err := d.appendInOrder(b, keys, nil)
	return b, err
}

// keyOrder is a sorted key set and each key quoted, followed by a colon.
type keyOrder struct {
	keys, quoted []string
}

// keyOrders are the key sets of documents encoded lately, one for each key
// count (modulo its length). Smaller documents (child rows of a few fields)
// are sorted each time: the check would cost about as much.
var keyOrders [16]atomic.Pointer[keyOrder]

const minRemembered = 6

// appendInOrder writes d's non-null values in the order of keys, which
// must be d's keys, sorted, with quoted their encoded form if not nil; ok
// is false when one of them is not in d.
func (d Doc) appendInOrder(b []byte, keys, quoted []string) (out []byte, ok bool, err error) {
	b = append(b, '{')
	first := true
	for i, k := range keys {
		v, has := d[k]
		if !has {
			return b, false, nil
		}
		if v == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		if quoted != nil {
			b = append(b, quoted[i]...)
		} else {
			b = append(appendJSONString(b, k, true), ':')
		}
		if b, err = appendJSONValue(b, v); err != nil {
			return nil, false, err
		}
	}
	return append(b, '}'), true, nil
}

func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x, true), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		return appendJSONFloat(b, x, v)
	case []Doc: // nil too is [], as WithoutNulls makes it
		b = append(b, '[')
		for i, r := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = r.AppendJSON(b); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// appendJSONFloat formats as encoding/json does (ES6 number formatting).
func appendJSONFloat(b []byte, f float64, v any) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		_, err := json.Marshal(v) // its UnsupportedValueError
		return nil, err
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s quoted as an encoding/json Encoder with
// SetEscapeHTML(false) writes it (the API's answers): <, > and & stay as
// they are, invalid UTF-8 becomes U+FFFD, U+2028 and U+2029 are escaped.
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s, false) }

// appendJSONString quotes s as encoding/json does, escaping <, > and & when
// html is set (as Marshal does): invalid UTF-8 becomes U+FFFD, U+2028 and
// U+2029 are escaped. It looks at eight bytes at a time while none of them
// needs a second look: the Create payload of every update log goes through
// here, and so does every log a pull serves, as a string of JSON.
func appendJSONString(b []byte, s string, html bool) []byte {
	b = append(b, '"')
	safe := &jsonSafe
	if html {
		safe = &jsonHTMLSafe
	}
	start, i := 0, 0
	for i < len(s) {
		if i+8 <= len(s) {
			m := specialBytes(load64(s, i), html)
			if m == 0 {
				i += 8
				continue
			}
			// The lowest marked byte is one to look at (a false mark
			// only ever follows a true one): skip to it.
			i += bits.TrailingZeros64(m) >> 3
		}
		// One byte (or character): the first of those that need a look, or
		// one of the last few bytes of s.
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSafe marks the ASCII bytes a JSON string holds as they are;
// jsonHTMLSafe leaves out <, > and & as well.
var jsonSafe, jsonHTMLSafe = func() (plain, html [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		plain[c] = c >= 0x20 && c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}()

// load64 is the eight bytes of s from i, little-endian (one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

const lsb, msb = 0x0101010101010101, 0x8080808080808080

// specialBytes marks, with its high bit, each of the eight bytes in x
// that may need escaping: a control character, quote or backslash (or <,
// > or & with html), or a byte of a multi-byte character. A byte after a
// marked one may be marked falsely (a borrow), never one before it: the
// lowest mark is always a true one.
func specialBytes(x uint64, html bool) uint64 {
	t := (x - 0x20*lsb) &^ x // a byte below 0x20
	t |= hasByte(x, '"') | hasByte(x, '\\')
	if html {
		t |= hasByte(x, '<') | hasByte(x, '>') | hasByte(x, '&')
	}
	return (t | x) & msb
}

// hasByte sets the high bit of a byte of the result where x holds c (and
// maybe of bytes above it, after a borrow).
func hasByte(x uint64, c byte) uint64 {
	y := x ^ (lsb * uint64(c))
	return (y - lsb) &^ y
}
