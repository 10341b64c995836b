package cond

import "unicode/utf8"

// index is x[k]: a map key (missing is None), or a list or string position
// counted from the end when negative.
func (s *state) index(x, k any) (any, error) {
	if d, ok := asMap(x); ok {
		switch key := k.(type) {
		case string:
			v, _ := d.get(key)
			return v, nil
		case nil, bool, int64, float64:
			return nil, nil
		}
		return nil, errorf("TypeError: unhashable type: '%s'", typeName(k))
	}
	if str, ok := x.(string); ok {
		i, err := intIndex(k, "string")
		if err != nil {
			return nil, err
		}
		if err := s.charge(len(str) >> 6); err != nil {
			return nil, err
		}
		n := utf8.RuneCountInString(str)
		if i < 0 {
			i += int64(n)
		}
		if i < 0 || i >= int64(n) {
			return nil, errorf("IndexError: string index out of range")
		}
		at := runeOffset(str, i)
		_, size := utf8.DecodeRuneInString(str[at:])
		return str[at : at+size], nil
	}
	q, ok := asSeq(x)
	if !ok {
		return nil, errorf("TypeError: '%s' object is not subscriptable", typeName(x))
	}
	i, err := intIndex(k, "list")
	if err != nil {
		return nil, err
	}
	if i < 0 {
		i += int64(q.n)
	}
	if i < 0 || i >= int64(q.n) {
		return nil, errorf("IndexError: list index out of range")
	}
	return q.at(int(i)), nil
}

func intIndex(k any, what string) (int64, error) {
	n, ok := toNum(k)
	if !ok || n.isFloat {
		return 0, errorf("TypeError: %s indices must be integers, not '%s'", what, typeName(k))
	}
	return n.i, nil
}

// slice is x[lo:hi] with Python's clamping; steps are not supported.
func (s *state) slice(x, lo, hi any) (any, error) {
	bound := func(v any, def, n int64) (int64, error) {
		if v == nil {
			return def, nil
		}
		b, ok := toNum(v)
		if !ok || b.isFloat {
			return 0, errorf("TypeError: slice indices must be integers or None, not '%s'", typeName(v))
		}
		if b.i < 0 {
			return max(b.i+n, 0), nil
		}
		return min(b.i, n), nil
	}
	var n int64
	str, isStr := x.(string)
	q, isSeq := asSeq(x)
	switch {
	case isStr:
		if err := s.charge(len(str) >> 6); err != nil {
			return nil, err
		}
		n = int64(utf8.RuneCountInString(str))
	case isSeq:
		n = int64(q.n)
	default:
		return nil, errorf("TypeError: '%s' object is not subscriptable", typeName(x))
	}
	l, err := bound(lo, 0, n)
	if err != nil {
		return nil, err
	}
	h, err := bound(hi, n, n)
	if err != nil {
		return nil, err
	}
	h = max(h, l)
	if isStr {
		from := runeOffset(str, l)
		return str[from : from+runeOffset(str[from:], h-l)], nil
	}
	if err := s.alloc(8 * int(h-l)); err != nil {
		return nil, err
	}
	out := make([]any, 0, h-l)
	for i := l; i < h; i++ {
		out = append(out, q.at(int(i)))
	}
	return out, nil
}

// runeOffset is the byte offset of the i-th character of str, or len(str).
func runeOffset(str string, i int64) int {
	for j := range str {
		if i == 0 {
			return j
		}
		i--
	}
	return len(str)
}
