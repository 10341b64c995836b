package cond

import (
	"math"
	"strings"
)

// compare applies one comparison operator with Python semantics.
func (s *state) compare(op string, a, b any) (bool, error) {
	switch op {
	case "==":
		return s.equal(a, b)
	case "!=":
		eq, err := s.equal(a, b)
		return !eq, err
	case "in":
		return s.contains(b, a)
	case "not in":
		in, err := s.contains(b, a)
		return !in, err
	case "is":
		return same(a, b), nil
	case "is not":
		return !same(a, b), nil
	}
	c, unordered, err := s.order(op, a, b)
	if err != nil || unordered {
		return false, err
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// same is Python's "is" for the singletons it is allowed with: 1 is True is
// false even though 1 == True.
func same(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	x, ok1 := a.(bool)
	y, ok2 := b.(bool)
	return ok1 && ok2 && x == y
}

// equal is Python ==. It never fails on mismatched types (they are just
// unequal); it fails only when a limit is hit while walking nested values.
func (s *state) equal(a, b any) (bool, error) {
	switch x := a.(type) {
	case bool, int64, float64:
		an, _ := toNum(a)
		bn, ok := toNum(b)
		if !ok {
			return false, nil
		}
		c, unordered := cmpNum(an, bn)
		return !unordered && c == 0, nil
	case nil:
		return b == nil, nil
	case string:
		y, ok := b.(string)
		if !ok {
			return false, nil
		}
		if err := s.charge(len(x) >> 6); err != nil {
			return false, err
		}
		return x == y, nil
	}
	if qa, ok := asSeq(a); ok {
		if qb, ok := asSeq(b); ok && qa.n == qb.n {
			return s.equalSeq(qa, qb)
		}
		return false, nil
	}
	if da, ok := asMap(a); ok {
		if db, ok := asMap(b); ok && da.len() == db.len() {
			return s.equalMap(da, db)
		}
		return false, nil
	}
	return false, nil
}

func (s *state) equalSeq(qa, qb seq) (bool, error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.leave()
	for i := 0; i < qa.n; i++ {
		if err := s.charge(1); err != nil {
			return false, err
		}
		if eq, err := s.equal(qa.at(i), qb.at(i)); err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

func (s *state) equalMap(da, db dict) (bool, error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.leave()
	keys := da.keys()
	if err := s.charge(len(keys)); err != nil {
		return false, err
	}
	for _, k := range keys {
		va, _ := da.get(k)
		vb, found := db.get(k)
		if !found {
			return false, nil
		}
		if eq, err := s.equal(va, vb); err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

// order compares a and b for < <= > >=. unordered is true when a NaN is
// involved (every ordering is then false, as in Python). Types Python cannot
// order, such as None and int, are a TypeError.
func (s *state) order(op string, a, b any) (c int, unordered bool, err error) {
	if an, ok := toNum(a); ok {
		if bn, ok := toNum(b); ok {
			c, unordered = cmpNum(an, bn)
			return c, unordered, nil
		}
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			if err := s.charge(min(len(x), len(y)) >> 6); err != nil {
				return 0, false, err
			}
			return strings.Compare(x, y), false, nil // byte order is code point order in UTF-8
		}
	}
	qa, ok1 := asSeq(a)
	qb, ok2 := asSeq(b)
	if !ok1 || !ok2 {
		return 0, false, errorf("TypeError: '%s' not supported between instances of '%s' and '%s'", op, typeName(a), typeName(b))
	}
	return s.orderSeq(op, qa, qb)
}

// orderSeq compares lists lexicographically, at their first differing
// element.
func (s *state) orderSeq(op string, qa, qb seq) (c int, unordered bool, err error) {
	if err := s.enter(); err != nil {
		return 0, false, err
	}
	defer s.leave()
	for i := 0; i < qa.n && i < qb.n; i++ {
		if err := s.charge(1); err != nil {
			return 0, false, err
		}
		x, y := qa.at(i), qb.at(i)
		eq, err := s.equal(x, y)
		if err != nil {
			return 0, false, err
		}
		if !eq {
			return s.order(op, x, y)
		}
	}
	return cmpInt(int64(qa.n), int64(qb.n)), false, nil
}

// contains is Python's "needle in hay".
func (s *state) contains(hay, needle any) (bool, error) {
	switch h := hay.(type) {
	case string:
		n, ok := needle.(string)
		if !ok {
			return false, errorf("TypeError: 'in <string>' requires string as left operand, not %s", typeName(needle))
		}
		if err := s.charge(len(h) >> 6); err != nil {
			return false, err
		}
		return strings.Contains(h, n), nil
	case nil:
		return false, errorf("TypeError: argument of type 'NoneType' is not iterable")
	}
	if q, ok := asSeq(hay); ok {
		for i := 0; i < q.n; i++ {
			if err := s.charge(1); err != nil {
				return false, err
			}
			if eq, err := s.equal(q.at(i), needle); err != nil || eq {
				return eq, err
			}
		}
		return false, nil
	}
	if d, ok := asMap(hay); ok {
		switch k := needle.(type) {
		case string:
			_, found := d.get(k)
			return found, nil
		case nil, bool, int64, float64:
			return false, nil // keys are strings, so no other hashable value is a key
		}
		return false, errorf("TypeError: unhashable type: '%s'", typeName(needle))
	}
	return false, errorf("TypeError: argument of type '%s' is not iterable", typeName(hay))
}

// cmpNum compares two numbers exactly, including int against float: Python
// does not round the int to a float first, and neither does this.
func cmpNum(a, b number) (c int, unordered bool) {
	switch {
	case !a.isFloat && !b.isFloat:
		return cmpInt(a.i, b.i), false
	case a.isFloat && b.isFloat:
		if math.IsNaN(a.f) || math.IsNaN(b.f) {
			return 0, true
		}
		switch {
		case a.f < b.f:
			return -1, false
		case a.f > b.f:
			return 1, false
		}
		return 0, false
	case !a.isFloat:
		return cmpIntFloat(a.i, b.f)
	}
	c, unordered = cmpIntFloat(b.i, a.f)
	return -c, unordered
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpIntFloat(i int64, f float64) (int, bool) {
	switch {
	case math.IsNaN(f):
		return 0, true
	case f >= 0x1p63:
		return -1, false
	case f < -0x1p63:
		return 1, false
	}
	t := math.Trunc(f)
	if c := cmpInt(i, int64(t)); c != 0 {
		return c, false
	}
	switch { // i equals the integral part; the fraction decides
	case f > t:
		return -1, false
	case f < t:
		return 1, false
	}
	return 0, false
}
